"""config/segments.yaml: the shipped defaults load, and each kind of bad file is refused by name."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from regua.config import ConfigError
from regua.config.dunning import RECURRENCE, load_ladders, load_segments
from tests.dunning.config_files import shipped, write


def test_shipped_segments_load_and_cover_every_combination() -> None:
    ladders = load_ladders()
    config = load_segments(ladders=ladders)
    assert load_segments() == config
    combinations = list(config.combinations())
    assert len(combinations) == 3 * 3 * len(RECURRENCE) * 3
    assert all(config.rule_for(c) is not None for c in combinations)
    assert {s.ladder for s in config.segments.values()} <= set(ladders.ladders)
    assert config.missing_propensity == "high"


def test_the_issue_examples_hold_in_the_defaults() -> None:
    config = load_segments()
    gentle = {"risk": "low", "propensity": "high", "recurrence": "never_late", "exposure": "large"}
    assert config.segments[config.segment_for(gentle)].ladder == "gentle"
    hard = {"risk": "high", "propensity": "low", "recurrence": "never_late", "exposure": "large"}
    assert config.segments[config.segment_for(hard)].ladder == "intensive"
    chronic = {"risk": "high", "propensity": "low", "recurrence": "chronic", "exposure": "large"}
    assert config.segments[config.segment_for(chronic)].ladder == "recovery"


def _band(dimension: str, index: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["bands"][dimension][index].update(fields)

    return mutate


def _segment(name: str, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["segments"][name].update(fields)

    return mutate


def _drop_ladder(data: dict[str, Any]) -> None:
    del data["segments"]["self_cure"]["ladder"]


def _rule(index: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["rules"][index].update(fields)

    return mutate


def _drop_catch_all(data: dict[str, Any]) -> None:
    data["rules"].pop()


def _swap_bands(data: dict[str, Any]) -> None:
    risk = data["bands"]["risk"]
    risk[0], risk[1] = risk[1], risk[0]


def _missing(data: dict[str, Any]) -> None:
    data["missing_propensity"] = "none"


BAD: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "overlapping risk bands": (
        _band("risk", 1, lower=0.04),
        "bands.risk.1.lower",
        "overlaps band 'low'",
    ),
    "gapped propensity bands": (
        _band("propensity", 2, lower=0.7),
        "bands.propensity.2.lower",
        "gap after band 'medium' (ends 0.65)",
    ),
    "risk bands not reaching 1": (
        _band("risk", 2, upper=0.9),
        "bands.risk.2.upper",
        "must be 1.0",
    ),
    "risk bands not starting at 0": (
        _band("risk", 0, lower=0.01),
        "bands.risk.0.lower",
        "must start at 0",
    ),
    "bounded top exposure band": (
        _band("exposure", 2, upper=100000),
        "bands.exposure.2.upper",
        "upper: null",
    ),
    "open exposure band below the top": (
        _band("exposure", 1, upper=None),
        "bands.exposure.2.lower",
        "overlaps band 'medium'",
    ),
    "empty band": (_band("risk", 1, upper=0.05), "bands.risk.1.upper", "greater than lower"),
    "duplicate band name": (_band("risk", 2, name="low"), "bands.risk.2.name", "duplicate"),
    "bands out of order": (_swap_bands, "bands.risk", "lowest to highest"),
    "segment without a ladder": (_drop_ladder, "segments.self_cure.ladder", "Field required"),
    "segment with an unknown ladder": (
        _segment("self_cure", ladder="sem_regua"),
        "segments.self_cure.ladder",
        "unknown ladder 'sem_regua'",
    ),
    "rule with an unknown segment": (_rule(0, segment="vip"), "rules.0.segment", "unknown segment"),
    "rule with an unknown band": (
        _rule(1, risk=["huge"]),
        "rules.1.risk",
        "unknown value 'huge' (known: low, medium, high)",
    ),
    "rule with an unknown recurrence": (
        _rule(2, recurrence="sometimes"),
        "rules.2.recurrence",
        "unknown value 'sometimes'",
    ),
    "rule with an empty list": (
        _rule(3, exposure=[]),
        "rules.3.exposure",
        "must be 'any', a name or a non-empty list of names",
    ),
    "uncovered combination": (
        _drop_catch_all,
        "rules",
        "no rule matches risk=low, propensity=low, recurrence=never_late, exposure=medium",
    ),
    "unknown band for missing propensity": (
        _missing,
        "missing_propensity",
        "unknown propensity band",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_segments_are_rejected_naming_the_file_and_the_key(case: str, tmp_path: Path) -> None:
    mutate, key, rule = BAD[case]
    data = shipped("segments")
    mutate(data)
    path = write(tmp_path, "segments", data)
    with pytest.raises(ConfigError, match=re.escape(f"{path}: {key}: ")) as info:
        load_segments(path)
    assert rule in str(info.value)


def test_a_bad_sibling_ladders_file_is_named(tmp_path: Path) -> None:
    ladders = shipped("ladders")
    ladders["ladders"]["gentle"]["steps"][0]["channel"] = "pombo"
    bad = write(tmp_path, "ladders", ladders)
    path = write(tmp_path, "segments", shipped("segments"))
    with pytest.raises(ConfigError, match=re.escape(f"{bad}: ladders.gentle.steps.0.channel: ")):
        load_segments(path)
