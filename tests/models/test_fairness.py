"""Protected attributes are refused as features and reported by group."""

from __future__ import annotations

import polars as pl
import pytest

from regua.models.fairness import check_no_protected_features, fairness_table


def test_protected_attributes_are_refused_as_features():
    check_no_protected_features(["days_past_due_now", "bureau_score"])
    with pytest.raises(ValueError, match="Sex"):
        check_no_protected_features(["bureau_score", "Sex"])
    with pytest.raises(ValueError, match="nationality"):
        check_no_protected_features(["nationality"], extra=["nationality"])


def test_fairness_table_by_group_where_attributes_exist():
    scored = pl.DataFrame(
        {
            "pd": [0.1, 0.3, 0.2, 0.4],
            "label": [0, 1, 0, 1],
            "sex": ["F", "M", "F", None],
        }
    )
    table = fairness_table(scored)
    assert table.select("group", "customers").rows() == [("(não informado)", 1), ("F", 2), ("M", 1)]
    f = table.filter(pl.col("group") == "F").row(0, named=True)
    assert f["mean_score"] == pytest.approx(0.15) and f["bad_rate"] == 0
    assert fairness_table(scored.drop("sex")).height == 0
