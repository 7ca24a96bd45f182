"""The report's own aggregates of a day's outputs: score distribution, limits by risk band.

Segment sizes, ladder workload and limit changes are `regua.dunning.summary`'s (tested in
tests/dunning/test_summary.py); the report reads them through `reports.decisions`.
"""

from __future__ import annotations

import polars as pl
import pytest

from regua.dunning import summary
from regua.reports import decisions
from regua.reports.decisions import limit_changes_by_band, score_histogram, score_summary


def test_score_summary_counts_scored_customers_and_quantiles(segments):
    summary_ = score_summary(segments)
    pd_row, propensity_row = summary_.rows(named=True)
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


def test_limit_changes_by_band_in_policy_order():
    limits = pl.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "decision": ["keep", "decrease", "increase", "decrease"],
            "risk_band": ["baixo", "alto", "muito baixo", "alto"],
        }
    )
    table = limit_changes_by_band(limits, ["muito baixo", "baixo", "médio", "alto"])
    assert table.columns == ["risk_band", "increase", "decrease", "keep", "customers"]
    assert table["risk_band"].to_list() == ["muito baixo", "baixo", "médio", "alto"]
    assert table.row(3) == ("alto", 0, 2, 0, 2)
    assert table["customers"].to_list() == [1, 1, 0, 2]


def test_the_report_reads_the_summary_functions_of_the_nightly_artifact():
    """One definition of each figure: the report's are the nightly summary's own."""
    for name in ("segment_sizes", "ladder_workload", "limit_changes", "limit_reason_counts"):
        assert getattr(decisions, name) is getattr(summary, name), name
