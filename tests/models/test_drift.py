"""Population stability on distributions whose shift we know."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.config.drift import DriftConfig
from regua.models.drift import (
    DriftBreachError,
    DriftReport,
    drift_report,
    drift_table,
    enforce_drift_policy,
    macro_moves,
    population_stability,
    psi_level,
    psi_levels,
    same_part_of_month,
)

RNG = np.random.default_rng(7)
THRESHOLDS = DriftConfig(warn_above=0.1, breach_above=0.25)
REFERENCE = pl.Series("x", RNG.normal(size=50_000))


def test_the_same_distribution_is_stable_and_a_half_sd_shift_is_a_large_one():
    same = pl.Series("x", RNG.normal(size=50_000))
    shifted = pl.Series("x", RNG.normal(0.5, 1, size=50_000))
    assert population_stability(REFERENCE, same) < 0.005
    # For a normal, PSI of a mean shift d (in sd) is about d²: 0.25 here, before binning
    assert population_stability(REFERENCE, shifted) == pytest.approx(0.24, abs=0.03)


def test_values_arriving_empty_count_as_drift():
    half_missing = pl.Series("x", [*RNG.normal(size=25_000), *[None] * 25_000])
    assert population_stability(REFERENCE, half_missing) > 2


def test_categories_compare_by_share():
    reference = pl.Series("c", ["a"] * 50 + ["b"] * 50)
    assert population_stability(reference, pl.Series("c", ["a"] * 50 + ["b"] * 50)) == 0
    expected = (0.8 - 0.5) * np.log(0.8 / 0.5) + (0.2 - 0.5) * np.log(0.2 / 0.5)
    moved = pl.Series("c", ["a"] * 80 + ["b"] * 20)
    assert population_stability(reference, moved) == pytest.approx(expected)


def test_tied_scores_do_not_read_as_drift():
    """A model with few distinct scores: the same scores in other proportions are not bins apart."""
    scores = pl.Series("s", [0.116214] * 500 + [0.2, 0.3, 0.45, 0.6, 0.7] * 100)
    assert population_stability(scores, scores.sample(n=600, seed=1, shuffle=True)) < 0.05


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=5, max_size=200), st.integers(2, 20))
def test_psi_is_never_negative_and_zero_against_itself(values, bins):
    series = pl.Series("v", values)
    assert population_stability(series, series, bins) == pytest.approx(0, abs=1e-12)
    other = pl.Series("v", [v * 2 + 1 for v in values])
    assert population_stability(series, other, bins) >= 0


def test_the_report_orders_scores_first_and_marks_levels():
    reference = pl.DataFrame({"a": REFERENCE, "b": REFERENCE, "score": REFERENCE.abs() / 5})
    current = pl.DataFrame(
        {
            "a": RNG.normal(size=20_000),
            "b": RNG.normal(0.35, 1, size=20_000),
            "pd": np.abs(RNG.normal(size=20_000)) / 5,
            "propensity": [None] * 20_000,
        },
        schema_overrides={"propensity": pl.Float64},
    )
    config = DriftConfig(warn_above=0.1, breach_above=0.25, sample_rows=10_000)
    report = drift_report(current, {"delinquency": reference}, ["a", "b"], config)
    assert report.table["column"].to_list() == ["pd", "b", "a"]
    levels = dict(report.table.select("column", "level").iter_rows())
    assert levels == {"pd": "ok", "b": "warn", "a": "ok"}
    assert not report.breached
    assert report.metrics()["psi_feature_max"] == report.table["psi"][1]
    assert drift_table(reference, current, ["a", "zz"])["column"].to_list() == ["a"]
    assert drift_table(reference, current.head(0), ["a", "b"])["psi"].to_list() == [None, None]


def test_levels_are_ok_up_to_warn_above_and_warn_up_to_breach_above():
    psi = pl.Series("psi", [0.0, 0.1, 0.10001, 0.25, 0.3, None, float("nan")])
    levels = pl.select(psi_levels(pl.lit(psi), THRESHOLDS)).to_series().to_list()
    assert levels == ["ok", "ok", "warn", "warn", "breach", None, None]
    assert [psi_level(v, THRESHOLDS) for v in (0.05, 0.2, 0.26, None)] == [
        "ok",
        "warn",
        "breach",
        None,
    ]


def _report(psi: list[float], on_breach: str) -> DriftReport:
    config = DriftConfig(warn_above=0.1, breach_above=0.25, on_breach=on_breach)
    table = pl.DataFrame(
        {"column": ["pd", "propensity", "x"][: len(psi)], "kind": "score", "psi": psi}
    ).with_columns(psi_levels(pl.col("psi"), config).alias("level"))
    return DriftReport(table, config)


def test_a_breach_stops_the_night_only_when_the_config_says_fail():
    enforce_drift_policy(None, date(2026, 10, 30))  # not measured: the night goes on
    enforce_drift_policy(_report([0.31, 0.02], "warn"), date(2026, 10, 30))
    enforce_drift_policy(_report([0.2, 0.02], "fail"), date(2026, 10, 30))  # a warning only
    with pytest.raises(DriftBreachError, match=r"PSI above 0.25: pd 0.310 .*outputs not written"):
        enforce_drift_policy(_report([0.31, 0.02], "fail"), date(2026, 10, 30))


def test_an_unknown_psi_is_no_breach():
    report = _report([float("nan"), 0.02], "fail")
    assert report.table["level"].to_list() == [None, "ok"]
    assert not report.breached
    assert report.level_counts() == {"ok": 1, "warn": 0, "breach": 0}


def test_a_night_is_compared_with_the_reference_rows_seen_at_its_point_of_the_month():
    days = [date(2026, 9, d) for d in (2, 5, 8, 11, 14, 17, 20, 23, 26, 29)]
    reference = pl.DataFrame({"as_of": days * 3, "score": [float(i) for i in range(30)]})
    # the 21st: the 20th is a day away, the 23rd two; the nearest day holds enough rows
    near = same_part_of_month(reference, date(2026, 10, 21), days=2, min_rows=3)
    assert near["as_of"].dt.day().to_list() == [20, 20, 20]
    # too few on the nearest day: the next nearest is added, up to `days` away
    near = same_part_of_month(reference, date(2026, 10, 21), days=2, min_rows=4)
    assert sorted(near["as_of"].dt.day().to_list()) == [20, 20, 20, 23, 23, 23]
    # around the month: the 31st is a day from the 1st and 2 days from the 2nd
    near = same_part_of_month(reference, date(2026, 10, 31), days=2, min_rows=6)
    assert sorted(near["as_of"].dt.day().to_list()) == [2, 2, 2, 29, 29, 29]
    # a month after a 30-day month is read against months after a 30-day month: July
    # (after June) for October (after September), not August (after July)
    summer = pl.DataFrame({"as_of": [date(2026, 7, 21)] * 3 + [date(2026, 8, 21)] * 3})
    assert (
        same_part_of_month(summer, date(2026, 10, 21), min_rows=3)["as_of"].dt.month().to_list()
        == [7] * 3
    )
    assert (
        same_part_of_month(summer, date(2026, 9, 21), min_rows=3)["as_of"].dt.month().to_list()
        == [8] * 3
    )
    # too few rows within `days`, or a reference without as_of: the whole reference
    assert same_part_of_month(reference, date(2026, 10, 21), days=2, min_rows=7).height == 30
    assert same_part_of_month(reference.drop("as_of"), date(2026, 10, 21)).height == 30


def _macro(values: list[float], indicator: str = "selic", region: str | None = None):
    months = [date(2024 + (m // 12), m % 12 + 1, 1) for m in range(len(values))]
    return pl.DataFrame(
        {"month": months, "indicator": indicator, "region": region, "value": values},
        schema_overrides={"region": pl.String},
    )


def test_a_macro_indicator_moves_when_its_latest_change_is_far_from_its_past_changes():
    # 10.0, 10.1, 10.0, ..., 10.1: 11 changes of +0.1 and -0.1, then 10.5: a change of +0.4
    values = [10.0 + 0.1 * (i % 2) for i in range(12)] + [10.5]
    macro = pl.concat([_macro(values), _macro([99.0] * 13, region="SP")])
    # 2025-01 (the 13th month) is published from 2025-02-01
    moves = macro_moves(macro, date(2025, 2, 1), THRESHOLDS)
    past = [0.1 * (-1) ** i for i in range(11)]  # +0.1, -0.1, ..., the 11 changes before
    mean = sum(past) / 11
    sd = (sum((c - mean) ** 2 for c in past) / 10) ** 0.5
    assert moves["column"].to_list() == ["selic"]  # the regional series is not read
    assert moves["z"][0] == pytest.approx((0.4 - mean) / sd)
    # a day earlier 2025-01 is not published: the latest change is 2024-12's (+0.1)
    earlier = macro_moves(macro, date(2025, 1, 31), THRESHOLDS)
    assert earlier["z"][0] == pytest.approx(
        (past[-1] - sum(past[:-1]) / 10) / np.std(past[:-1], ddof=1)
    )
    # a steady trend is no move, however far the level has gone
    trend = macro_moves(_macro([5.0 + 0.25 * i for i in range(30)]), date(2026, 12, 1), THRESHOLDS)
    assert trend["z"][0] == 0.0


def test_the_report_leaves_macro_levels_out_of_the_psi_and_reads_their_moves():
    reference = pl.DataFrame({"a": REFERENCE, "selic": REFERENCE, "score": REFERENCE.abs() / 5})
    current = pl.DataFrame(
        {"a": RNG.normal(size=20_000), "selic": RNG.normal(3, 1, size=20_000),
         "pd": np.abs(RNG.normal(size=20_000)) / 5}
    )  # fmt: skip
    values = [10.0 + 0.1 * (i % 2) for i in range(12)] + [10.5]
    report = drift_report(
        current, {"delinquency": reference}, ["a", "selic"], THRESHOLDS,
        as_of=date(2025, 2, 1), macro=_macro(values),
    )  # fmt: skip
    assert report.table.select("column", "kind").rows() == [
        ("pd", "score"), ("a", "feature"), ("selic", "macro"),
    ]  # fmt: skip
    macro_row = report.table.filter(pl.col("kind") == "macro")
    assert macro_row["psi"][0] is None and macro_row["level"][0] == "breach"
    assert report.breached
    assert "selic z +" in report.breach_text() and "PSI above" not in report.breach_text()
    assert report.metrics()["macro_z_selic"] == pytest.approx(macro_row["z"][0])
