"""The ladder policy's model and its gate on randomized data with known values: the
off-policy estimates recover a known policy value, the fitted policy finds the best arm,
and the gate refuses a policy worth less than the reference."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from regua.models.policy import LadderPolicy, PolicyEstimate, gate_policy, policy_value

ARMS = ("fixed", "gentle", "intensive")


def _mu(x0: np.ndarray, x1: np.ndarray) -> dict[str, np.ndarray]:
    """True mean net of each arm: gentle pays for x0 < 0.4, intensive for x0 > 0.6."""
    base = 100.0 + 50.0 * x1
    return {
        "fixed": base,
        "gentle": base + np.where(x0 < 0.4, 40.0, -20.0),
        "intensive": base + np.where(x0 > 0.6, 70.0, -30.0),
    }


def _history(n: int, seed: int, noise: float = 30.0) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    x0, x1 = rng.random(n), rng.random(n)
    mu = _mu(x0, x1)
    drawn = rng.integers(0, len(ARMS), n)
    treatment = np.asarray(ARMS)[drawn]
    net = np.choose(drawn, [mu[a] for a in ARMS]) + rng.normal(0.0, noise, n)
    frame = pl.DataFrame(
        {"case_id": [f"{seed}-{i}" for i in range(n)], "x0": x0, "x1": x1,
         "treatment": treatment, "propensity": np.full(n, 1 / len(ARMS)), "net": net}
    )  # fmt: skip
    return frame, mu


def _rule(frame: pl.DataFrame) -> np.ndarray:
    """A known policy: intensive above 0.5, gentle below."""
    return np.where(frame["x0"].to_numpy() > 0.5, "intensive", "gentle")


@pytest.mark.parametrize("estimator", ["ips", "dr"])
def test_off_policy_estimates_recover_a_known_policy_value(estimator):
    truths, estimates, covered = [], [], 0
    model, _ = _history(3000, seed=99)
    fitted = LadderPolicy(n_estimators=60, min_child_samples=20).fit(model)
    reps = 60
    for rep in range(reps):
        frame, mu = _history(600, seed=rep)
        chosen = _rule(frame)
        truth = float(np.mean(np.where(chosen == "intensive", mu["intensive"], mu["gentle"])))
        value = policy_value(
            frame, chosen, estimator, fitted.predict_matrix(frame), fitted.treatments_
        )
        truths.append(truth)
        estimates.append(value.value)
        covered += value.low <= truth <= value.high
    bias = np.mean(np.asarray(estimates) - np.asarray(truths))
    spread = np.std(estimates) / np.sqrt(reps)
    assert abs(bias) < 4 * spread + 1.0
    assert covered / reps > 0.8  # about the nominal 95% in repeated draws


def test_the_fitted_policy_finds_each_case_its_best_arm():
    history, mu = _history(6000, seed=5)
    model = LadderPolicy(reference="fixed", n_estimators=100, min_child_samples=30).fit(history)
    assert model.treatments_ == ARMS
    assert model.features_ == ("x0", "x1")
    test, mu = _history(2000, seed=6)
    values = model.predict(test)
    assert values.columns == ["case_id", "treatment", "expected_net"]
    assert values.height == 2000 * len(ARMS)
    chosen = np.asarray(ARMS)[np.argmax(model.predict_matrix(test), axis=1)]
    truth = np.column_stack([mu[a] for a in ARMS])
    earned = truth[np.arange(len(chosen)), [ARMS.index(c) for c in chosen]].mean()
    best, everyone_fixed = truth.max(axis=1).mean(), mu["fixed"].mean()
    assert earned > everyone_fixed + 0.85 * (best - everyone_fixed)


def test_the_gate_refuses_a_policy_worth_less_than_the_champion():
    frame, _ = _history(3000, seed=11)
    good = _rule(frame)
    bad = np.where(good == "intensive", "gentle", "intensive")  # the wrong arm everywhere
    for estimator in ("ips", "dr"):
        predicted = None
        if estimator == "dr":
            model = LadderPolicy(n_estimators=60).fit(_history(3000, seed=12)[0])
            predicted = model.predict_matrix(frame)
        value = {
            name: policy_value(frame, chosen, estimator, predicted, ARMS)
            for name, chosen in (("good", good), ("bad", bad))
        }
        passed, reason = gate_policy(
            PolicyEstimate(estimator, value["bad"], value["good"], "the champion"), 0.0
        )
        assert not passed
        assert "not above the margin" in reason
        passed, reason = gate_policy(
            PolicyEstimate(estimator, value["good"], value["bad"], "the champion"), 0.0
        )
        assert passed
        # a margin larger than the gain refuses too
        gain = value["good"].value - value["bad"].value
        assert not gate_policy(
            PolicyEstimate(estimator, value["good"], value["bad"], "x"), gain + 1
        )[0]


def test_fit_refuses_a_history_without_outcomes():
    frame, _ = _history(100, seed=1)
    with pytest.raises(ValueError, match="lacks net"):
        LadderPolicy().fit(frame.drop("net"))
