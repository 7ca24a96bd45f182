"""Treatment-effect learners and off-policy values on data with known effects."""

from __future__ import annotations

import numpy as np
import pytest

from regua.models.uplift import NetValueLearner, dr_value, ips_value, uplift_auc_share


def _world(n: int, seed: int, call_share: float = 0.5):
    """Cases with two features; a call pays off only for x0 > 0.5 (+60) and costs 10 for
    everyone else; randomized with `call_share`. Returns features, treatment, outcome and
    the true effect of a call."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 2))
    effect = np.where(x[:, 0] > 0.5, 60.0, -10.0)
    base = 100.0 + 80.0 * x[:, 1]
    call = rng.random(n) < call_share
    outcome = base + effect * call + rng.normal(0.0, 40.0, n)
    treatment = np.where(call, "call", "none")
    return x, treatment, outcome, effect


@pytest.mark.parametrize("learner", ["t", "x"])
def test_learners_order_cases_by_their_true_effect(learner):
    x, treatment, outcome, effect = _world(4000, seed=1)
    model = NetValueLearner(learner=learner, control="none").fit(x, treatment, outcome)
    assert model.treatments_ == ("call", "none")
    predicted = model.predict_effects(x)[:, 0]
    assert uplift_auc_share(predicted, effect) > 0.8
    assert uplift_auc_share(-predicted, effect) < 0  # the reverse order is worse than random
    # the policy "call where the predicted value is higher" earns more than either rule
    chosen_call = model.predict_values(x).argmax(axis=1) == 0
    learned = effect[chosen_call].sum()
    assert learned > 0.9 * effect[effect > 0].sum()  # near the best: every positive effect
    assert learned > effect.sum()  # calling everyone


def test_x_learner_beats_t_learner_when_the_treated_arm_is_small():
    shares = {"t": [], "x": []}
    for seed in range(3):
        x, treatment, outcome, effect = _world(3000, seed=10 + seed, call_share=0.1)
        for learner, found in shares.items():
            model = NetValueLearner(learner=learner, control="none").fit(
                x, treatment, outcome, propensity={"call": 0.1, "none": 0.9}
            )
            found.append(uplift_auc_share(model.predict_effects(x)[:, 0], effect))
    assert np.mean(shares["x"]) >= np.mean(shares["t"]) - 0.02


def test_uplift_auc_share_by_hand():
    true = np.array([5.0, -1.0, 2.0, 0.0])
    assert uplift_auc_share(true, true) == pytest.approx(1.0)
    # random-order line: cumulative 1.5, 3, 4.5, 6; the best order (5, 2, 0, -1) climbs
    # 5, 7, 7, 6: area 3.5 + 4 + 2.5 + 0 = 10; predicted order (2, 5, 0, -1) climbs 2, 7, 7, 6:
    # area 0.5 + 4 + 2.5 + 0 = 7
    assert uplift_auc_share(np.array([3.0, 0.0, 4.0, 1.0]), true) == pytest.approx(0.7)


def test_off_policy_values_cover_the_true_value_of_a_policy():
    # the policy "call where x0 > 0.5": its true mean outcome is known from the world
    covered = {"ips": 0, "dr": 0}
    reps = 60
    for seed in range(reps):
        x, treatment, outcome, effect = _world(1500, seed=100 + seed)
        chosen = np.where(x[:, 0] > 0.5, "call", "none")
        truth = float(np.mean(100.0 + 80.0 * x[:, 1] + effect * (chosen == "call")))
        propensity = np.full(len(x), 0.5)
        ips = ips_value(outcome, treatment, propensity, chosen)
        half = len(x) // 2  # the outcome model learns on one half, the value is read on the other
        model = NetValueLearner(learner="t", control="none", n_estimators=80).fit(
            x[:half], treatment[:half], outcome[:half]
        )
        dr = dr_value(
            outcome[half:], treatment[half:], propensity[half:], chosen[half:],
            model.predict_values(x[half:]), model.treatments_,
        )  # fmt: skip
        truth_half = float(
            np.mean(100.0 + 80.0 * x[half:, 1] + effect[half:] * (chosen[half:] == "call"))
        )
        covered["ips"] += ips.low <= truth <= ips.high
        covered["dr"] += dr.low <= truth_half <= dr.high
    assert covered["ips"] / reps >= 0.85
    assert covered["dr"] / reps >= 0.85


def test_a_single_treatment_is_refused():
    x, _, outcome, _ = _world(200, seed=3)
    with pytest.raises(ValueError, match="single treatment"):
        NetValueLearner().fit(x, np.array(["none"] * 200), outcome)
