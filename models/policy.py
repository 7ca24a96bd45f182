"""The learned ladder policy's model: expected net recovery of each treatment per case.

`LadderPolicy` (scikit-learn habit: settings in the constructor, work in `fit`) wraps
`models.uplift.NetValueLearner` for the frames the night has: it learns, from randomized
cases (their numeric features at case open, the treatment drawn, its logged propensity and
the net recovery that followed), the expected net value of every treatment, and predicts
it as a long frame (case_id, treatment, expected_net) that `dunning.policy` chooses from.

`policy_values` judges a policy before it is used: the off-policy estimate (inverse
propensity or doubly robust) of the mean net recovery per case had each held-out
randomized case been given the treatment the policy chooses; `gate_policy` compares a
challenger's estimate with the champion's (or the reference arm's) on the same cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
import polars.selectors as cs

from regua.models.uplift import NetValueLearner, PolicyValue, dr_value, ips_value

ID_COLUMNS = ("case_id", "customer_id", "treatment", "propensity", "net", "as_of")
"""Columns of a history frame that are never features."""


class LadderPolicy:
    """Expected net recovery of each treatment per case, from randomized history."""

    def __init__(
        self,
        learner: Literal["t", "x"] = "x",
        reference: str | None = None,
        n_estimators: int = 200,
        min_child_samples: int = 40,
        random_state: int = 0,
    ) -> None:
        self.learner = learner
        self.reference = reference
        self.n_estimators = n_estimators
        self.min_child_samples = min_child_samples
        self.random_state = random_state

    def fit(self, history: pl.DataFrame) -> LadderPolicy:
        """Learn from `history`: one row per randomized case, with `treatment`,
        `propensity` (its logged probability), `net` and numeric feature columns."""
        missing = {"treatment", "propensity", "net"} - set(history.columns)
        if missing:
            raise ValueError(f"the history lacks {', '.join(sorted(missing))}")
        self.features_ = tuple(
            c for c in history.select(cs.numeric() | cs.boolean()).columns if c not in ID_COLUMNS
        )
        treatment = history["treatment"].to_numpy()
        reference = self.reference if self.reference in set(treatment) else None
        shares = history.group_by("treatment").agg(pl.col("propensity").mean())
        self.learner_ = NetValueLearner(
            learner=self.learner,
            control=reference,
            n_estimators=self.n_estimators,
            min_child_samples=self.min_child_samples,
            random_state=self.random_state,
        ).fit(
            self._matrix(history),
            treatment,
            history["net"].to_numpy(),
            dict(zip(shares["treatment"], shares["propensity"], strict=True)),
        )
        self.treatments_ = self.learner_.treatments_
        return self

    def _matrix(self, frame: pl.DataFrame) -> np.ndarray:
        absent = [c for c in self.features_ if c not in frame.columns]
        if absent:
            raise ValueError(f"the frame lacks the policy's features {', '.join(absent[:5])}")
        return frame.select(pl.col(self.features_).cast(pl.Float64)).to_numpy()

    def predict_matrix(self, frame: pl.DataFrame) -> np.ndarray:
        """(n, k) expected net of each treatment, in `treatments_` order."""
        return self.learner_.predict_values(self._matrix(frame))

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame:
        """case_id, treatment, expected_net: one row per case and treatment."""
        values = self.predict_matrix(frame)
        wide = pl.DataFrame(
            {"case_id": frame["case_id"], **dict(zip(self.treatments_, values.T, strict=True))}
        )
        return wide.unpivot(index="case_id", variable_name="treatment", value_name="expected_net")


@dataclass(frozen=True)
class PolicyEstimate:
    """Off-policy values of a policy and its reference on the same held-out cases."""

    estimator: str
    policy: PolicyValue
    reference: PolicyValue
    reference_name: str

    @property
    def gain(self) -> float:
        """Estimated net recovery per case over the reference's."""
        return self.policy.value - self.reference.value


def policy_value(
    held_out: pl.DataFrame,
    chosen: np.ndarray,
    estimator: Literal["ips", "dr"],
    predicted: np.ndarray | None = None,
    treatments: tuple[str, ...] = (),
) -> PolicyValue:
    """The estimated mean net per case had each held-out case been given `chosen`.
    `held_out` holds the logged `treatment`, `propensity` and `net`; the doubly robust
    estimate needs the model's (n, k) `predicted` values in `treatments` order."""
    outcome = held_out["net"].to_numpy()
    logged = held_out["treatment"].to_numpy()
    propensity = held_out["propensity"].to_numpy()
    if estimator == "ips":
        return ips_value(outcome, logged, propensity, chosen)
    if predicted is None:
        raise ValueError("the doubly robust estimate needs the model's predictions")
    return dr_value(outcome, logged, propensity, chosen, predicted, treatments)


def gate_policy(estimate: PolicyEstimate, margin_brl: float) -> tuple[bool, str]:
    """Pass when the policy's estimated value beats the reference's by more than the
    margin (BRL per case); the reason states both figures and their intervals."""
    p, r = estimate.policy, estimate.reference
    figures = (
        f"{estimate.estimator} value on {p.cases:,} held-out randomized cases: "
        f"R$ {p.value:.2f} per case [{p.low:.2f}, {p.high:.2f}] against "
        f"{estimate.reference_name}'s R$ {r.value:.2f} [{r.low:.2f}, {r.high:.2f}]"
    )
    if estimate.gain > margin_brl:
        return True, f"{figures}: +R$ {estimate.gain:.2f} per case"
    return False, f"{figures}: gain R$ {estimate.gain:.2f} not above the margin {margin_brl:.2f}"
