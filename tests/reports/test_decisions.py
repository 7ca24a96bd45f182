"""Aggregates of a day's outputs: scores, segments, ladder workload and limits."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from regua.contract import CHANNELS
from reports.decisions import (
    ladder_workload,
    limit_changes,
    limit_changes_by_band,
    limit_reason_counts,
    score_histogram,
    score_summary,
    segment_sizes,
)

AS_OF = date(2026, 10, 30)  # a Friday


@pytest.fixture
def segments() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D", "E"],
            "segment": ["self_cure", "self_cure", "intensive", "intensive", "intensive"],
            "ladder_id": ["gentle", "gentle", "hard", "hard", "hard"],
            "pd": [0.01, 0.03, 0.5, 0.7, 0.9],
            "propensity": [None, None, 0.2, 0.4, None],
        }
    )


def test_score_summary_counts_scored_customers_and_quantiles(segments):
    summary = score_summary(segments)
    pd_row, propensity_row = summary.rows(named=True)
    assert pd_row["score"] == "pd" and pd_row["customers"] == 5
    assert pd_row["p50"] == pytest.approx(0.5)
    assert pd_row["mean"] == pytest.approx(sum([0.01, 0.03, 0.5, 0.7, 0.9]) / 5)
    assert propensity_row["customers"] == 2
    assert propensity_row["p50"] == pytest.approx(0.3)


def test_score_histogram_bins_on_zero_to_one():
    scores = pl.DataFrame({"pd": [0.0, 0.24, 0.25, 0.99, 1.0, None]})
    histogram = score_histogram(scores, "pd", bins=4)
    assert histogram["lower"].to_list() == [0.0, 0.25, 0.5, 0.75]
    assert histogram["customers"].to_list() == [2, 1, 0, 2]


def test_segment_sizes_riskiest_first(segments):
    sizes = segment_sizes(segments)
    assert sizes["segment"].to_list() == ["intensive", "self_cure"]
    assert sizes["customers"].to_list() == [3, 2]
    assert sizes["share"].to_list() == pytest.approx([0.6, 0.4])
    assert sizes["mean_pd"][0] == pytest.approx(0.7)
    assert sizes["mean_propensity"][0] == pytest.approx(0.3)


def test_ladder_workload_counts_scheduled_actions_per_day_and_channel():
    actions = pl.DataFrame(
        {
            "channel": ["sms", "sms", "phone", "email", "whatsapp", "phone", "agency"],
            "status": [
                "scheduled",
                "scheduled",
                "scheduled",
                "scheduled",
                "scheduled",
                "skipped",
                "scheduled",
            ],
            "scheduled_for": [
                datetime(2026, 10, 30, 9),
                datetime(2026, 10, 30, 14),
                datetime(2026, 10, 31, 8),
                datetime(2026, 11, 12, 10),  # the 14th day
                datetime(2026, 11, 13, 10),  # the 15th: outside the window
                None,
                datetime(2026, 10, 30, 8),
            ],
        }
    )
    workload = ladder_workload(actions, AS_OF, days=14)
    assert workload.columns == ["day", "weekday", *CHANNELS, "total"]
    assert workload.height == 14
    assert workload["day"][0] == AS_OF and workload["weekday"][:2].to_list() == ["sex", "sáb"]
    first = workload.row(0, named=True)
    assert (first["sms"], first["agency"], first["phone"], first["total"]) == (2, 1, 0, 3)
    assert workload.row(1, named=True)["phone"] == 1
    assert workload.row(13, named=True)["email"] == 1
    assert workload["total"].sum() == 5
    assert workload["whatsapp"].sum() == 0


@pytest.fixture
def limits() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "current_limit": [1000.0, 2000.0, 500.0, 800.0],
            "recommended_limit": [1000.0, 1500.0, 600.0, 400.0],
            "change": [0.0, -500.0, 100.0, -400.0],
            "change_pct": [0.0, -25.0, 20.0, -50.0],
            "decision": ["keep", "decrease", "increase", "decrease"],
            "risk_band": ["baixo", "alto", "muito baixo", "alto"],
            "reason_codes": [
                ["no_change"],
                ["high_risk_band", "max_change"],
                ["low_risk"],
                ["high_risk_band"],
            ],
        }
    )


def test_limit_changes_per_decision(limits):
    changes = limit_changes(limits)
    assert changes["decision"].to_list() == ["increase", "decrease", "keep"]
    decrease = changes.row(1, named=True)
    assert decrease["customers"] == 2 and decrease["share"] == 0.5
    assert decrease["current_total"] == 2800.0 and decrease["recommended_total"] == 1900.0
    assert decrease["change_total"] == -900.0 and decrease["mean_change_pct"] == -37.5


def test_limit_changes_by_band_in_policy_order(limits):
    table = limit_changes_by_band(limits, ["muito baixo", "baixo", "médio", "alto"])
    assert table.columns == ["risk_band", "increase", "decrease", "keep", "customers"]
    assert table["risk_band"].to_list() == ["muito baixo", "baixo", "médio", "alto"]
    assert table.row(3) == ("alto", 0, 2, 0, 2)
    assert table["customers"].to_list() == [1, 1, 0, 2]


def test_limit_reason_counts_most_frequent_first(limits):
    counts = limit_reason_counts(limits)
    assert counts.row(0) == ("high_risk_band", 2)
    assert set(counts["reason_code"]) == {"high_risk_band", "max_change", "low_risk", "no_change"}
