"""Treatment-effect models and off-policy values: which treatment is worth what per case.

`NetValueLearner` is a meta-learner on LightGBM regressors (scikit-learn habit: settings
in the constructor, work in `fit`): from randomized history (each case's features, the
treatment it was assigned and its net recovery) it predicts each case's expected outcome
under every treatment.

- `learner="t"` (T-learner): one regression per treatment; the value of treatment t is
  mu_t(x). Simple; noisy where a treatment's arm is small.
- `learner="x"` (X-learner, Kunzel et al., PNAS 2019): the effect of each treatment
  against the control arm is learned from imputed individual effects in both arms and
  blended by the assignment probability; better where arms are unbalanced, the usual
  case when an exploration share is small.

A policy learned from such a model is judged before it is used, on held-out randomized
cases, by its off-policy value: `ips_value` (inverse propensity: unbiased, noisy) and
`dr_value` (doubly robust: the model's prediction corrected by the weighted residual,
unbiased when either the propensities or the model is right). `uplift_auc_share` measures
how well predicted effects order cases against known true effects (the twin's ground
truth): the area under the cumulative true-gain curve in predicted order, over the area in
the true order (1 = perfect, about 0.5 of the gap for a random order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from lightgbm import LGBMRegressor
from scipy import stats

Learner = Literal["t", "x"]


def _regressor(settings: dict, seed: int) -> LGBMRegressor:
    return LGBMRegressor(random_state=seed, verbose=-1, n_jobs=1, **settings)


class NetValueLearner:
    """Expected net value of each treatment per case, from randomized history."""

    def __init__(
        self,
        learner: Learner = "x",
        control: str | None = None,
        n_estimators: int = 200,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 40,
        random_state: int = 0,
    ) -> None:
        self.learner = learner
        self.control = control
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.random_state = random_state

    def _settings(self) -> dict:
        return {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
        }

    def fit(
        self,
        features: np.ndarray,
        treatment: np.ndarray,
        outcome: np.ndarray,
        propensity: dict[str, float] | None = None,
    ) -> NetValueLearner:
        """Learn from randomized cases; `propensity` is each treatment's assignment share
        (default: its share of the history)."""
        features = np.asarray(features, dtype=float)
        treatment = np.asarray(treatment).astype(str)
        outcome = np.asarray(outcome, dtype=float)
        self.treatments_ = tuple(sorted(set(treatment)))
        if len(self.treatments_) < 2:
            raise ValueError("the history holds a single treatment: no effect can be learned")
        control = self.control or self.treatments_[0]
        if control not in self.treatments_:
            raise ValueError(f"control {control!r} is not among the treatments {self.treatments_}")
        self.control_ = control
        shares = propensity or {t: float(np.mean(treatment == t)) for t in self.treatments_}
        self.propensity_ = {t: shares[t] for t in self.treatments_}
        settings, seed = self._settings(), self.random_state
        self.outcome_models_ = {
            t: _regressor(settings, seed).fit(features[treatment == t], outcome[treatment == t])
            for t in self.treatments_
        }
        self.effect_models_: dict[str, tuple[LGBMRegressor, LGBMRegressor]] = {}
        if self.learner == "x":
            base = self.outcome_models_[control]
            in_control = treatment == control
            for t in self.treatments_:
                if t == control:
                    continue
                treated = treatment == t
                imputed_treated = outcome[treated] - base.predict(features[treated])
                imputed_control = (
                    self.outcome_models_[t].predict(features[in_control]) - outcome[in_control]
                )
                self.effect_models_[t] = (
                    _regressor(settings, seed).fit(features[treated], imputed_treated),
                    _regressor(settings, seed).fit(features[in_control], imputed_control),
                )
        elif self.learner != "t":
            raise ValueError(f"learner must be 't' or 'x', not {self.learner!r}")
        return self

    def predict_effects(self, features: np.ndarray) -> np.ndarray:
        """(n, k) expected outcome under each treatment minus under control (0 for control)."""
        features = np.asarray(features, dtype=float)
        base = self.outcome_models_[self.control_].predict(features)
        columns = []
        for t in self.treatments_:
            if t == self.control_:
                columns.append(np.zeros(len(features)))
            elif self.learner == "t":
                columns.append(self.outcome_models_[t].predict(features) - base)
            else:
                on_treated, on_control = self.effect_models_[t]
                p_t, p_c = self.propensity_[t], self.propensity_[self.control_]
                share = p_t / (p_t + p_c)
                # Kunzel's weighting: lean on the arm whose imputation used the larger sample
                blended = share * on_control.predict(features)
                columns.append(blended + (1 - share) * on_treated.predict(features))
        return np.column_stack(columns)

    def predict_values(self, features: np.ndarray) -> np.ndarray:
        """(n, k) expected outcome of each treatment, in `treatments_` order."""
        features = np.asarray(features, dtype=float)
        base = self.outcome_models_[self.control_].predict(features)
        return base[:, None] + self.predict_effects(features)


@dataclass(frozen=True)
class PolicyValue:
    """An off-policy estimate of a policy's mean outcome per case, with its 95% interval."""

    value: float
    low: float
    high: float
    cases: int


def _estimate(terms: np.ndarray, alpha: float = 0.05) -> PolicyValue:
    mean = float(np.mean(terms))
    half = float(stats.norm.ppf(1 - alpha / 2) * np.std(terms, ddof=1) / np.sqrt(len(terms)))
    return PolicyValue(mean, mean - half, mean + half, len(terms))


def ips_value(
    outcome: np.ndarray, logged: np.ndarray, logged_propensity: np.ndarray, chosen: np.ndarray
) -> PolicyValue:
    """Inverse-propensity estimate of the mean outcome had `chosen` been applied to cases
    that were randomized to `logged` with probability `logged_propensity`."""
    match = (np.asarray(logged) == np.asarray(chosen)).astype(float)
    return _estimate(match * np.asarray(outcome, dtype=float) / np.asarray(logged_propensity))


def dr_value(
    outcome: np.ndarray,
    logged: np.ndarray,
    logged_propensity: np.ndarray,
    chosen: np.ndarray,
    predicted: np.ndarray,
    treatments: tuple[str, ...],
) -> PolicyValue:
    """Doubly robust estimate: the model's value of the chosen treatment, corrected by the
    inverse-propensity-weighted residual where the logged treatment is the chosen one.
    `predicted` is (n, k) in `treatments` order (`NetValueLearner.predict_values`)."""
    index = {t: i for i, t in enumerate(treatments)}
    rows = np.arange(len(outcome))
    chosen_value = predicted[rows, [index[t] for t in np.asarray(chosen)]]
    logged_value = predicted[rows, [index[t] for t in np.asarray(logged)]]
    match = (np.asarray(logged) == np.asarray(chosen)).astype(float)
    residual = np.asarray(outcome, dtype=float) - logged_value
    return _estimate(chosen_value + match * residual / np.asarray(logged_propensity))


def uplift_auc_share(predicted_effect: np.ndarray, true_effect: np.ndarray) -> float:
    """Area under the cumulative true-gain curve when cases are targeted in predicted order,
    over the same area in the true order (the best possible); both measured above the
    straight line of a random order. 1 is perfect, 0 no better than random."""
    true_effect = np.asarray(true_effect, dtype=float)
    n = len(true_effect)
    random_line = np.arange(1, n + 1) / n * true_effect.sum()

    def area(order: np.ndarray) -> float:
        return float(np.sum(np.cumsum(true_effect[order]) - random_line))

    best = area(np.argsort(-true_effect, kind="stable"))
    if best <= 0:
        return float("nan")
    return area(np.argsort(-np.asarray(predicted_effect, dtype=float), kind="stable")) / best
