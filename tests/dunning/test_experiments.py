"""Strategy experiments: stable, salted cell draws per case, shares honoured, bad files
refused with the file and key, and the night's actions run and carry the cell's ladder."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.config import ConfigError
from regua.config.dunning import load_ladders, load_segments
from regua.config.experiments import Cell, Experiment, ExperimentsConfig, load_experiments
from regua.dunning.actions import decide, load_dunning_config
from regua.dunning.experiments import assign_cells, assignment_draws
from regua.features.build import build_from_frames
from tests.dunning.config_files import CONFIG
from tests.dunning.nights import fixed_scores, simulated_book

START = date(2026, 1, 1)


def md5_draw(text: str) -> float:
    """The draw written out by hand: the first 13 hex digits of the MD5, over 16**13."""
    return int(hashlib.md5(text.encode()).hexdigest()[:13], 16) / 16**13


def experiment(**overrides: Any) -> Experiment:
    data: dict[str, Any] = {
        "id": "exp-1",
        "starts_on": START,
        "cells": [
            {"id": "champion", "role": "champion", "share": 0.5},
            {"id": "digital", "role": "challenger", "share": 0.3, "ladder": "digital"},
            {"id": "control", "role": "control", "share": 0.2, "ladder": "gentle"},
        ],
    }
    return Experiment.model_validate(data | overrides)


def one_night(ids: list[str], experiments: tuple[Experiment, ...]) -> pl.DataFrame:
    segments = pl.DataFrame(
        {"customer_id": ids, "segment": ["standard"] * len(ids), "ladder_id": "standard"}
    )
    cases = segments.select(
        "customer_id",
        (pl.col("customer_id") + "-20260201").alias("case_id"),
        pl.lit(date(2026, 2, 1)).alias("case_opened_on"),
    )
    return assign_cells(
        segments,
        segments.select("customer_id"),
        cases,
        ExperimentsConfig(experiments=experiments),
        date(2026, 2, 10),
    )


def test_the_draw_is_the_md5_of_salt_and_unit_written_out_by_hand():
    draws = assignment_draws(pl.Series(["C1-20260201", "Ç2-20260301"]), "s|exp-1")
    expected = {u: md5_draw(f"s|exp-1|{u}") for u in ("C1-20260201", "Ç2-20260301")}
    assert dict(zip(draws["unit"], draws["draw"], strict=True)) == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=60, unique=True))
def test_a_case_draws_the_same_cell_whatever_else_runs_that_night(ids):
    alone = {i: one_night([i], (experiment(),)).item(0, "cell") for i in ids[:5]}
    together = one_night(ids, (experiment(),))
    again = one_night(list(reversed(ids)), (experiment(),))
    cells = dict(zip(together["customer_id"], together["cell"], strict=True))
    assert cells == dict(zip(again["customer_id"], again["cell"], strict=True))
    assert all(cells[i] == cell for i, cell in alone.items())
    assert set(cells.values()) <= {"champion", "digital", "control"}


def test_shares_are_honoured_over_many_cases_and_the_salt_reshuffles_them():
    ids = [f"C{i:06d}" for i in range(30_000)]
    night = one_night(ids, (experiment(),))
    counts = night["cell"].value_counts()
    shares = {"champion": 0.5, "digital": 0.3, "control": 0.2}
    for cell, share in shares.items():
        n = counts.filter(pl.col("cell") == cell).item(0, "count")
        sd = math.sqrt(len(ids) * share * (1 - share))
        assert abs(n - len(ids) * share) < 4 * sd, (cell, n)
    salted = one_night(ids, (experiment(salt="another"),))
    same = (night["cell"] == salted["cell"]).mean()
    # independent draws agree with probability 0.5² + 0.3² + 0.2² = 0.38
    assert 0.36 < same < 0.40
    ladders = night.group_by("cell").agg(pl.col("ladder_id").unique())
    assert dict(zip(ladders["cell"], ladders["ladder_id"].list.first(), strict=True)) == {
        "champion": "standard",
        "digital": "digital",
        "control": "gentle",
    }


def test_cases_opened_before_the_start_or_outside_the_population_are_not_drawn():
    segments = pl.DataFrame(
        {
            "customer_id": ["OLD", "NEW", "OTHER", "SMALL", "NOCASE"],
            "segment": ["standard", "standard", "self_cure", "standard", "standard"],
            "ladder_id": ["standard", "standard", "gentle", "standard", "standard"],
        }
    )
    cases = pl.DataFrame(
        {
            "customer_id": ["OLD", "NEW", "OTHER", "SMALL"],
            "case_id": ["OLD-20251220", "NEW-20260105", "OTHER-20260105", "SMALL-20260105"],
            "case_opened_on": [date(2025, 12, 20)] + [date(2026, 1, 5)] * 3,
        }
    )
    scored = pl.DataFrame(
        {"customer_id": segments["customer_id"], "open_balance": [900.0, 900.0, 900.0, 50.0, 0.0]}
    )
    population = {"segments": ["standard"], "conditions": [{"column": "open_balance", "min": 100}]}
    config = ExperimentsConfig(experiments=(experiment(population=population),))
    night = assign_cells(segments, scored, cases, config, date(2026, 1, 10))
    drawn = night.filter(pl.col("experiment_id").is_not_null())["customer_id"].to_list()
    assert drawn == ["NEW"]
    assert night.filter(pl.col("customer_id") == "OTHER").item(0, "ladder_id") == "gentle"
    with pytest.raises(ValueError, match=r"conditions name column.*open_balance"):
        assign_cells(segments, scored.drop("open_balance"), cases, config, date(2026, 1, 10))


def test_the_first_listed_experiment_wins_where_populations_overlap():
    first = experiment(id="first")
    second = experiment(
        id="second",
        cells=[
            {"id": "champion", "role": "champion", "share": 0.5},
            {"id": "b", "role": "challenger", "share": 0.5, "ladder": "intensive"},
        ],
    )
    night = one_night([f"C{i}" for i in range(200)], (first, second))
    assert night["experiment_id"].unique().to_list() == ["first"]


def write_strategies(folder: Path, experiments: list[dict[str, Any]]) -> Path:
    path = folder / "strategies.yaml"
    path.write_text(yaml.safe_dump({"experiments": experiments}, sort_keys=False))
    return path


def base_experiment() -> dict[str, Any]:
    return {
        "id": "exp-1",
        "starts_on": "2026-01-01",
        "population": {"segments": ["standard"]},
        "cells": [
            {"id": "champion", "role": "champion", "share": 0.8},
            {"id": "digital", "role": "challenger", "share": 0.2, "ladder": "digital"},
        ],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda e: e["cells"][1].update(share=0.3),
            "experiments.0.cells: Value error, cell shares must sum to 1 (they sum to 1.1)",
        ),
        (
            lambda e: e["cells"][1].update(ladder="whatsapp_blast"),
            "experiments.0.cells.1.ladder: unknown ladder 'whatsapp_blast' (ladders.yaml has",
        ),
        (
            lambda e: e["population"].update(segments=["vip"]),
            "experiments.0.population.segments: unknown segment 'vip'",
        ),
        (
            lambda e: e["cells"][0].update(role="challenger", ladder="gentle"),
            "exactly one cell must be the champion (found 0)",
        ),
        (
            lambda e: e["cells"][1].pop("ladder"),
            "cells.1.ladder: a challenger cell must name its ladder",
        ),
        (lambda e: e.update(ends_on="2025-12-01"), "ends_on (2025-12-01) is before starts_on"),
    ],
)
def test_a_bad_experiment_is_refused_with_the_file_and_key(tmp_path, change, message):
    data = base_experiment()
    change(data)
    path = write_strategies(tmp_path, [data])
    ladders = load_ladders(CONFIG / "ladders.yaml")
    segments = load_segments(CONFIG / "segments.yaml", ladders)
    with pytest.raises(ConfigError) as error:
        load_experiments(path, ladders, segments)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_the_shipped_file_loads_and_a_missing_file_means_no_experiment(tmp_path):
    ladders = load_ladders(CONFIG / "ladders.yaml")
    segments = load_segments(CONFIG / "segments.yaml", ladders)
    shipped = load_experiments(CONFIG / "strategies.yaml", ladders, segments)
    assert shipped.experiments == () and shipped.costs.phone == 2.50
    assert load_experiments(tmp_path / "none.yaml", ladders, segments).experiments == ()
    assert Cell(id="c", role="champion", share=1.0).ladder is None


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> dict[str, pl.DataFrame]:
    folder = tmp_path_factory.mktemp("experiment-book")
    return simulated_book(folder, customers=300, seed=11, end=date(2026, 3, 31), months=6)


def test_a_night_runs_each_case_on_its_cells_ladder_and_actions_carry_the_cell(book):
    as_of = date(2026, 3, 31)
    base = load_dunning_config()
    trial = Experiment.model_validate(
        {
            "id": "exp-night",
            "starts_on": date(2025, 10, 1),
            "cells": [
                {"id": "champion", "role": "champion", "share": 0.5},
                {"id": "digital", "role": "challenger", "share": 0.5, "ladder": "digital"},
            ],
        }
    )
    config = dataclasses.replace(base, experiments=ExperimentsConfig(experiments=(trial,)))
    scores = fixed_scores(book["customers"], seed=11)
    scored = build_from_frames(book, as_of).join(scores, on="customer_id")
    night = decide(scored, book, as_of, config)
    plain = decide(scored, book, as_of, base)
    segments = night.segments
    in_cases = segments.filter(pl.col("case_id").is_not_null())
    assert in_cases.height > 20
    assert in_cases["experiment_id"].drop_nulls().unique().to_list() == ["exp-night"]
    # an open case opened before the start date would have no draw; every case here has one
    assert in_cases["cell"].null_count() == 0
    assert (
        segments.filter(pl.col("case_id").is_null())["cell"].null_count()
        == segments.filter(pl.col("case_id").is_null()).height
    )
    digital = in_cases.filter(pl.col("cell") == "digital")
    assert digital.height > 5 and set(digital["ladder_id"]) == {"digital"}
    champion = in_cases.filter(pl.col("cell") == "champion")
    mapped = champion.join(plain.segments, on="customer_id", suffix="_plain")
    assert (mapped["ladder_id"] == mapped["ladder_id_plain"]).all()
    cases = night.actions.filter(pl.col("case_id").is_not_null() & (pl.col("status") != "waiting"))
    joined = cases.join(segments.select("customer_id", "cell"), on="customer_id", suffix="_seg")
    assert joined.height > 0 and (joined["cell"] == joined["cell_seg"]).all()
    ladder_steps = ~pl.col("step_id").is_in(["delisting", "agency_recall"])
    digital_steps = cases.filter((pl.col("cell") == "digital") & ladder_steps)["step_id"]
    assert digital_steps.len() > 0 and digital_steps.str.starts_with("digital_").all()
    # the next night the cases still open keep their cells
    tomorrow = as_of + timedelta(days=1)
    scored = build_from_frames(book, tomorrow).join(scores, on="customer_id")
    later = decide(scored, book, tomorrow, config).segments
    both = in_cases.join(later, on="case_id", suffix="_later")
    assert both.height > 20 and (both["cell"] == both["cell_later"]).all()
