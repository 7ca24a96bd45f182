"""The calibration policy on data whose miscalibration is known: Platt scaling brings it back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from regua.models.calibration import recalibrate
from regua.models.gbm import MonotoneGBMClassifier
from regua.models.metrics import expected_calibration_error


def book(n: int, shift: float, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Two features, outcomes from a known log-odds moved by `shift` (a base rate that moved)."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"late_days": rng.gamma(2, 10, n), "income": rng.normal(5, 1, n)})
    log_odds = -3 + 0.06 * x["late_days"].to_numpy() - 0.3 * x["income"].to_numpy() + shift
    p = 1 / (1 + np.exp(-log_odds))
    return x, (rng.random(n) < p).astype(int), p


@pytest.fixture(scope="module")
def model():
    x, y, _ = book(20_000, 0.0, seed=1)
    months = np.repeat(np.arange(10), 2_000)
    return MonotoneGBMClassifier(
        n_estimators=200, monotone={"late_days": 1, "income": -1}, random_state=0
    ).fit(x, y, time=months)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_recalibration_removes_a_known_miscalibration_and_keeps_the_ranking(model, method):
    x_fit, y_fit, _ = book(20_000, 1.0, seed=2)  # true odds e times what the model learned
    x_check, y_check, truth = book(20_000, 1.0, seed=3)
    before = model.predict_proba(x_check)[:, 1]
    assert y_check.mean() > 1.8 * before.mean()  # the model is known to be off
    assert expected_calibration_error(y_check, before) > 0.04

    recalibrated = recalibrate(model, x_fit, y_fit, method)
    after = recalibrated.predict_proba(x_check)[:, 1]
    assert expected_calibration_error(y_check, after) < 0.012
    assert abs(after.mean() - truth.mean()) < 0.01
    assert model.calibrator_ is None  # the champion itself is untouched
    assert recalibrated.calibration == method
    if method == "sigmoid":  # a monotone map: the same order, the same AUC
        assert roc_auc_score(y_check, after) == pytest.approx(roc_auc_score(y_check, before))
        assert np.array_equal(np.argsort(after, kind="stable"), np.argsort(before, kind="stable"))
    assert recalibrated.contributions(x_check.head(3)).equals(model.contributions(x_check.head(3)))
