"""The boosted model and the scorecard baseline on data whose risk we know."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from regua.models.gbm import MonotoneGBMClassifier, monotonicity_violations
from regua.models.metrics import expected_calibration_error
from regua.models.scorecard import WOEBinner, make_scorecard


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


@pytest.mark.parametrize("method", [pytest.param("isotonic", marks=pytest.mark.slow), "sigmoid"])
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
    with pytest.raises(ValueError, match="more periods"):
        MonotoneGBMClassifier(validation_fraction=0.99).fit(X, y, time=time)
    with pytest.raises(ValueError, match="no column names"):
        MonotoneGBMClassifier(monotone=MONOTONE).fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match="3 directions for 4 features"):
        MonotoneGBMClassifier(monotone=[1, 1, -1]).fit(X.to_numpy(), y)
    with pytest.raises(ValueError, match=r"must be -1, 0 or 1, got \[0, 2\]"):
        MonotoneGBMClassifier(monotone={"days_past_due": 2}).fit(X, y)
    with pytest.raises(ValueError, match="'city' is str: features must be numeric"):
        MonotoneGBMClassifier().fit(X.assign(city="Recife"), y)
    with pytest.raises(ValueError, match="infinity in column 'utilisation'"):
        MonotoneGBMClassifier().fit(X.assign(utilisation=np.inf), y)
    with pytest.raises(ValueError, match="Only binary classification"):
        MonotoneGBMClassifier().fit(X, np.arange(len(X)) % 3)
    with pytest.raises(NotFittedError):
        MonotoneGBMClassifier().predict_proba(X)


def test_an_array_fits_like_a_frame_with_constraints_by_position():
    X, y, time = portfolio(n=3000, seed=2)
    by_name = MonotoneGBMClassifier(monotone=MONOTONE, n_estimators=60, random_state=1)
    by_position = MonotoneGBMClassifier(monotone=[1, 1, -1, 0], n_estimators=60, random_state=1)
    by_name.fit(X, y, time=time)
    by_position.fit(X.to_numpy(), y, time=time)
    assert by_position.n_features_in_ == 4
    assert not hasattr(by_position, "feature_names_in_")
    assert by_position.constraints_ == by_name.constraints_ == [1, 1, -1, 0]
    assert by_position.monotonicity_violations_ == {"x0": 0, "x1": 0, "x2": 0}
    np.testing.assert_array_equal(by_position.predict_proba(X.to_numpy()), by_name.predict_proba(X))
    assert list(by_position.contributions(X.to_numpy()[:3]).columns) == [
        "x0", "x1", "x2", "x3", "_bias"
    ]  # fmt: skip
    with pytest.raises(ValueError, match="expecting 4 features"):
        by_position.predict_proba(X.to_numpy()[:, :3])


def test_a_frames_columns_are_matched_by_name(fitted):
    model, X, _, _ = fitted
    wider = X[["noise", "income", "utilisation", "days_past_due"]].assign(city="Recife")
    np.testing.assert_array_equal(model.predict_proba(wider), model.predict_proba(X))
    with pytest.raises(ValueError, match="yet now missing:\n- income"):
        model.predict_proba(X.drop(columns="income"))


def test_labels_other_than_0_and_1_come_back_as_given():
    X, y, time = portfolio(n=2000, seed=4)
    outcome = np.where(y == 1, "paid_late", "paid")
    model = MonotoneGBMClassifier(n_estimators=30, random_state=1).fit(X, outcome, time=time)
    assert list(model.classes_) == ["paid", "paid_late"]
    assert set(model.predict(X)) <= {"paid", "paid_late"}
    with pytest.raises(ValueError, match="1 class"):
        MonotoneGBMClassifier().fit(X, np.zeros(len(X), dtype=int))


def test_woe_binner_takes_only_a_0_1_outcome():
    X, y, _ = portfolio(n=500)
    for labels in (y + 1, np.where(y == 1, "bad", "good"), y * 0.5):
        with pytest.raises(ValueError, match="0 \\(good\\) and 1 \\(bad\\)"):
            WOEBinner().fit(X, labels)
    assert WOEBinner().fit(X, y.astype(bool)).n_features_in_ == 4


def test_woe_binner_matches_a_frames_columns_by_name_and_an_arrays_by_position():
    X, y, _ = portfolio(n=2000)
    binner = WOEBinner(max_bins=4).fit(X, y)
    expected = binner.transform(X)
    shuffled = X[["income", "noise", "days_past_due", "utilisation"]].assign(extra=1.0)
    np.testing.assert_array_equal(binner.transform(shuffled), expected)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        np.testing.assert_array_equal(binner.transform(X.to_numpy()), expected)  # by position
    with pytest.raises(ValueError, match="yet now missing:\n- noise"):
        binner.transform(X.drop(columns="noise"))
    on_array = WOEBinner(max_bins=4).fit(X.to_numpy(), y)
    np.testing.assert_array_equal(on_array.transform(X.to_numpy()), expected)
    assert list(on_array.information_value_) == ["x0", "x1", "x2", "x3"]
    assert list(binner.get_feature_names_out()) == list(X.columns)
    with pytest.raises(ValueError, match="expecting 4 features"):
        on_array.transform(X.to_numpy()[:, :2])


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


@pytest.mark.parametrize(
    ("rows", "expected"), [(6000, 20), pytest.param(48000, 36, marks=pytest.mark.slow)]
)
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


@pytest.mark.parametrize("calibration", [None, "isotonic"])
def test_a_fitted_model_round_trips_through_skops_with_the_trusted_types_only(calibration):
    import skops.io as sio

    from regua.models.tracking import TRUSTED_TYPES

    X, y, time = portfolio(n=2000, seed=8)
    X["kind"] = pd.Categorical(np.where(np.arange(len(X)) % 3 == 0, "PF", "PJ"))
    model = MonotoneGBMClassifier(
        monotone=MONOTONE, n_estimators=30, calibration=calibration, random_state=1
    ).fit(X, y, time=time)
    stored = sio.dumps(model)
    assert set(sio.get_untrusted_types(data=stored)) <= set(TRUSTED_TYPES)
    loaded = sio.loads(stored, trusted=TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_categories_sent_as_text_score_as_at_fit_time():
    """MLflow serves a frame through JSON: categoricals come back as plain text."""
    X, y, time = portfolio(n=2000, seed=8)
    X["kind"] = pd.Categorical(np.where(np.arange(len(X)) % 3 == 0, "PF", "PJ"))
    model = MonotoneGBMClassifier(n_estimators=30, random_state=1).fit(X, y, time=time)
    as_text = X.assign(kind=X["kind"].astype(str))
    np.testing.assert_array_equal(model.predict_proba(as_text), model.predict_proba(X))
    with pytest.raises(ValueError, match="'kind' is str: features must be numeric"):
        MonotoneGBMClassifier(n_estimators=30).fit(as_text, y, time=time)
