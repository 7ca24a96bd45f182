"""The boosted model and the scorecard baseline on data whose risk we know."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models.gbm import MonotoneGBMClassifier, monotonicity_violations
from models.metrics import expected_calibration_error
from models.scorecard import WOEBinner, make_scorecard


def portfolio(n: int = 6000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Risk rises with dpd and utilisation, falls with income; 8 monthly snapshots."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "days_past_due": rng.exponential(10, n),
            "utilisation": rng.uniform(0, 1.2, n),
            "income": rng.lognormal(8, 0.6, n),
            "noise": rng.normal(size=n),
        }
    )
    X.loc[rng.random(n) < 0.05, "income"] = np.nan
    y = (rng.random(n) < true_probability(X)).astype(int)
    time = np.repeat(np.arange(8), n // 8)
    return X, y, time


def true_probability(X: pd.DataFrame) -> np.ndarray:
    """The probability the data was drawn from: the best any model can do."""
    income = np.log(X["income"].fillna(3000)) - 8
    logit = -2.5 + 0.06 * X["days_past_due"] + 1.5 * X["utilisation"] - 0.4 * income
    return (1 / (1 + np.exp(-logit))).to_numpy()


MONOTONE = {"days_past_due": 1, "utilisation": 1, "income": -1}


@pytest.fixture(scope="module")
def fitted():
    X, y, time = portfolio()
    model = MonotoneGBMClassifier(
        monotone=MONOTONE, n_estimators=400, learning_rate=0.1, min_child_samples=50,
        random_state=1,
    ).fit(X, y, time=time)  # fmt: skip
    return model, X, y, time


def test_constraints_hold_on_the_fitted_model(fitted):
    model, *_ = fitted
    assert model.monotonicity_violations_ == {"days_past_due": 0, "utilisation": 0, "income": 0}


def test_the_checker_finds_a_relation_that_goes_the_other_way(fitted):
    model, X, _, _ = fitted
    model_reversed = MonotoneGBMClassifier(monotone={"days_past_due": -1})
    model_reversed.__dict__.update(
        {k: v for k, v in model.__dict__.items() if k.endswith("_")},
    )
    model_reversed.constraints_ = [-1, 0, 0, 0]
    found = monotonicity_violations(model_reversed, X, random_state=0)
    assert found["days_past_due"] > 100


def test_validation_is_the_latest_period_and_stops_early(fitted):
    model, _, _, time = fitted
    assert model.validation_rows_ == int((time >= 6).sum())  # the latest 20% of rows
    assert model.best_iteration_ < 400


def test_probabilities_follow_classes_and_are_calibrated_out_of_sample(fitted):
    model, *_ = fitted
    X, y, _ = portfolio(n=20000, seed=5)
    proba = model.predict_proba(X)
    assert list(model.classes_) == [0, 1]
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    oracle = roc_auc_score(y, true_probability(X))
    assert roc_auc_score(y, proba[:, 1]) > oracle - 0.02
    assert expected_calibration_error(y, proba[:, 1]) < 0.03


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_a_calibrator_fitted_on_the_latest_period_keeps_the_ranking_and_calibrates(method):
    X, y, time = portfolio()
    model = MonotoneGBMClassifier(
        monotone=MONOTONE, n_estimators=200, calibration=method, random_state=0
    ).fit(X, y, time=time)
    fresh_X, fresh_y, _ = portfolio(n=20000, seed=6)
    proba = model.predict_proba(fresh_X)[:, 1]
    assert model.calibrator_ is not None
    assert roc_auc_score(fresh_y, proba) > roc_auc_score(fresh_y, model.predict_raw(fresh_X)) - 0.01
    assert expected_calibration_error(fresh_y, proba) < 0.03


def test_contributions_add_up_to_the_raw_score(fitted):
    model, X, _, _ = fitted
    contributions = model.contributions(X.head(50))
    np.testing.assert_allclose(contributions.sum(axis=1), model.predict_raw(X.head(50)), atol=1e-9)
    assert list(contributions.columns) == [*X.columns, "_bias"]


def test_bad_inputs_are_refused():
    X, y, time = portfolio(n=800)
    with pytest.raises(ValueError, match="unknown features"):
        MonotoneGBMClassifier(monotone={"nope": 1}).fit(X, y, time=time)
    with pytest.raises(TypeError):
        MonotoneGBMClassifier().fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match="more periods"):
        MonotoneGBMClassifier(validation_fraction=0.99).fit(X, y, time=time)


def test_scorecard_learns_woe_that_rises_with_risk_and_bins_missing_apart():
    X, y, _ = portfolio()
    binner = WOEBinner(max_bins=5).fit(X, y)
    dpd_woe = binner.woe_[0][:-1]
    assert np.all(np.diff(dpd_woe) > 0)
    assert binner.information_value_["days_past_due"] > binner.information_value_["noise"]
    transformed = binner.transform(X)
    assert np.isfinite(transformed).all()
    assert np.all(transformed[X["income"].isna().to_numpy(), 2] == binner.woe_[2][-1])
    scorecard = make_scorecard(max_bins=8).fit(X, y)
    X_test, y_test, _ = portfolio(n=10000, seed=9)
    assert roc_auc_score(y_test, scorecard.predict_proba(X_test)[:, 1]) > 0.7


@pytest.mark.parametrize(("rows", "expected"), [(6000, 20), (48000, 36)])
def test_the_default_smallest_leaf_scales_with_the_boosting_rows(rows, expected):
    X, y, time = portfolio(n=rows, seed=3)
    model = MonotoneGBMClassifier(monotone=MONOTONE, n_estimators=30, random_state=1)
    model.fit(X, y, time=time)
    boosting_rows = len(X) - model.validation_rows_
    assert model.min_child_samples_ == expected == max(20, round(0.001 * boosting_rows))
    leaf_counts = model.booster_.booster_.trees_to_dataframe()["count"]
    assert leaf_counts.min() >= expected


@pytest.mark.parametrize("max_depth", [4, 2])
def test_trees_stay_within_the_depth_that_bounds_the_cost_of_reasons(max_depth):
    X, y, time = portfolio(n=20000, seed=5)
    model = MonotoneGBMClassifier(
        monotone=MONOTONE, n_estimators=40, max_depth=max_depth, random_state=1
    ).fit(X, y, time=time)
    trees = model.booster_.booster_.trees_to_dataframe()
    assert trees["node_depth"].max() - 1 == max_depth  # node_depth counts the root as 1
    assert model.get_params()["max_depth"] == max_depth
