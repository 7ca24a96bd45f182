"""Credit-risk figures computed by hand on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest

from regua.models.metrics import evaluate, expected_calibration_error, ks_statistic, lift_table


def test_perfect_ranking():
    y = np.array([0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    result = evaluate(y, p)
    assert result.auc == 1.0 and result.gini == 1.0 and result.ks == 1.0
    assert result.brier == pytest.approx(np.mean((p - y) ** 2))


def test_ks_is_the_largest_gap_between_cumulative_distributions():
    y = np.array([1, 0, 1, 0])
    p = np.array([0.9, 0.8, 0.7, 0.1])
    # after 0.9: tpr 0.5, fpr 0 -> 0.5; after 0.7: tpr 1, fpr .5 -> 0.5
    assert ks_statistic(y, p) == pytest.approx(0.5)


def test_ece_is_zero_when_each_bin_matches_and_positive_otherwise():
    y = np.array([0, 1] * 50)
    assert expected_calibration_error(y, np.full(100, 0.5), bins=5) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(100, 0.7), bins=5) == pytest.approx(0.2)


def test_lift_table_captures_all_bads_by_the_last_decile():
    rng = np.random.default_rng(0)
    p = rng.random(1000)
    y = (rng.random(1000) < p).astype(int)
    table = lift_table(y, p)
    assert table["decile"].to_list() == list(range(1, 11))
    assert table["n"].sum() == 1000
    assert table["capture"][-1] == pytest.approx(1.0)
    assert table["bad_rate"][0] > table["bad_rate"][-1]


def test_evaluation_refuses_a_single_outcome():
    with pytest.raises(ValueError, match="both outcomes"):
        evaluate([0, 0, 0], [0.1, 0.2, 0.3])
