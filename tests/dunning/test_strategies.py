"""Strategy folders: the shipped `fixed` strategy is the simulated lender's ladder, and a
strategy folder is validated by the same loaders, naming its own file and key."""

from __future__ import annotations

import copy
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from regua.config import ConfigError
from regua.dunning.actions import DunningConfig, load_dunning_config
from regua.dunning.strategies import NO_CONTACT, load_strategy, strategy_dir
from regua.simulate.ladder import LADDER
from tests.dunning.config_files import CONFIG

FIXED = CONFIG / "strategies" / "fixed"
REPO = CONFIG.parent


def fixed_yaml(name: str) -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load((FIXED / f"{name}.yaml").read_text(encoding="utf-8")))


def strategy_folder(tmp_path: Path, **files: dict[str, Any]) -> Path:
    """A copy of the fixed strategy in tmp_path, with the given files replaced."""
    folder = tmp_path / "strategy"
    shutil.copytree(FIXED, folder, ignore=shutil.ignore_patterns("*.py"))
    for name, data in files.items():
        (folder / f"{name}.yaml").write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return folder


@pytest.fixture(scope="module")
def fixed() -> DunningConfig:
    return load_strategy(strategy_dir("fixed"))


def test_the_fixed_strategy_loads_with_the_base_rules(fixed: DunningConfig) -> None:
    config = fixed
    base = load_dunning_config()
    assert strategy_dir("fixed") == FIXED
    assert list(config.ladders.ladders) == ["fixed"]
    assert config.ladders.creditor == base.ladders.creditor
    assert (config.guardrails, config.limits, config.cases, config.charges) == (
        base.guardrails,
        base.limits,
        base.cases,
        base.charges,
    )


def test_every_segment_of_the_fixed_strategy_runs_the_one_ladder(fixed: DunningConfig) -> None:
    segments = fixed.segments
    combinations = list(segments.combinations())
    assert len(combinations) == 3 * 3 * 3 * 3
    assert {segments.segments[segments.segment_for(c)].ladder for c in combinations} == {"fixed"}
    assert {s.ladder for s in segments.segments.values()} == {"fixed"}


def test_the_fixed_ladder_is_the_simulated_lenders_ladder(fixed: DunningConfig) -> None:
    steps = fixed.ladders.ladders["fixed"].steps
    # the simulator's agency steps after the first are the agency working the same case,
    # one hand-off in regua's case model
    first_agency = next(i for i, s in enumerate(LADDER) if s.channel == "agency")
    assert all(s.channel == "agency" for s in LADDER[first_agency:])
    expected = [(s.step_id, s.offset, s.channel) for s in LADDER[: first_agency + 1]]
    assert [(s.id, s.offset_days, s.channel) for s in steps] == expected
    assert [s.purpose for s in steps if s.channel == "agency"] == ["agency_handoff"]


def test_the_fixed_ladder_sends_the_listing_notice_but_never_lists(fixed: DunningConfig) -> None:
    steps = fixed.ladders.ladders["fixed"].steps
    by_id = {s.id: s for s in steps}
    assert by_id["letter_d20"].purpose == "negative_listing_notice"
    assert by_id["letter_d20"].template == "negative_listing_notice_letter"
    assert not [s for s in steps if s.purpose == "negative_listing" or s.channel == "bureau"]
    assert min(s.offset_days for s in steps) > 0
    # the lender's agreements are instalments without a discount
    offers = [s for s in steps if s.purpose == "negotiation_offer"]
    assert [(s.id, s.discount_pct, s.max_installments) for s in offers] == [("phone_d65", 0.0, 12)]


def test_an_unknown_ladder_in_a_strategy_names_its_file_and_key(tmp_path: Path) -> None:
    segments = fixed_yaml("segments")
    segments["segments"]["everyone"]["ladder"] = "nowhere"
    folder = strategy_folder(tmp_path, segments=segments)
    with pytest.raises(ConfigError) as error:
        load_strategy(folder)
    assert str(error.value).startswith(f"{folder / 'segments.yaml'}: segments.everyone.ladder: ")
    assert "'nowhere'" in str(error.value)


def test_a_bad_step_in_a_strategy_names_its_file_and_key(tmp_path: Path) -> None:
    ladders = fixed_yaml("ladders")
    ladders["ladders"]["fixed"]["steps"][1]["offset_days"] = 0
    folder = strategy_folder(tmp_path, ladders=ladders)
    with pytest.raises(ConfigError, match=re.escape(f"{folder / 'ladders.yaml'}: ladders.fixed.")):
        load_strategy(folder)


def test_a_strategy_notice_by_email_does_not_count_as_written(tmp_path: Path) -> None:
    ladders = fixed_yaml("ladders")
    notice = ladders["ladders"]["fixed"]["steps"][5]
    notice.update(channel="email", template="negative_listing_notice_email")
    folder = strategy_folder(tmp_path, ladders=ladders)
    with pytest.raises(ConfigError) as error:
        load_strategy(folder)
    assert str(error.value).startswith(
        f"{folder / 'ladders.yaml'}: ladders.fixed.steps.5.channel: a listing notice by email"
    )


def test_a_strategy_must_name_the_base_creditor(tmp_path: Path) -> None:
    ladders = fixed_yaml("ladders")
    ladders["creditor"]["name"] = "Outra Credito S.A."
    folder = strategy_folder(tmp_path, ladders=ladders)
    with pytest.raises(ConfigError, match=re.escape(f"{folder / 'ladders.yaml'}: creditor: ")):
        load_strategy(folder)


def test_a_strategy_folder_without_its_segments_is_refused(tmp_path: Path) -> None:
    folder = strategy_folder(tmp_path)
    (folder / "segments.yaml").unlink()
    with pytest.raises(ConfigError, match=re.escape(f"{folder / 'segments.yaml'}: ")):
        load_strategy(folder)


def test_the_rest_of_the_configuration_comes_from_the_base_folder(tmp_path: Path) -> None:
    base = tmp_path / "config"
    shutil.copytree(CONFIG, base, ignore=shutil.ignore_patterns("*.py", "strategies"))
    guardrails = yaml.safe_load((base / "guardrails.yaml").read_text(encoding="utf-8"))
    guardrails["max_contacts_per_7_days"] = 2
    (base / "guardrails.yaml").write_text(yaml.safe_dump(guardrails), encoding="utf-8")
    config = load_strategy(FIXED, base=base)
    assert config.guardrails.max_contacts_per_7_days == 2
    assert list(config.ladders.ladders) == ["fixed"]


def test_no_contact_and_unknown_strategies_have_no_folder() -> None:
    with pytest.raises(ValueError, match="contacts no one"):
        strategy_dir(NO_CONTACT)
    with pytest.raises(ValueError, match=r"no strategy 'nope' .*known: fixed"):
        strategy_dir("nope")


def test_every_shipped_strategy_is_packaged() -> None:
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    for folder in (CONFIG / "strategies").iterdir():
        if folder.is_dir() and list(folder.glob("*.yaml")):
            package = f"regua.resources.config.strategies.{folder.name}"
            assert package in setuptools["packages"]
            assert setuptools["package-data"][package] == ["*.yaml"]
            assert (folder / "__init__.py").is_file()
