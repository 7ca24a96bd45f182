"""The learned ladder policy's wiring: its treatments, its randomized history, its fit,
its gate and its place in the MLflow registry (issue 18).

- `policy_strategy`: the base strategy with the `fixed` strategy's ladder added, so the
  lender's current ladder is one of the treatments (and the gate's bar).
- `randomized_strategy`: that strategy with one experiment randomizing every new case
  over the treatments in equal shares: the history a policy is learned from.
- `CellRecorder` / `LearnedPolicy`: `dunning.actions.decide` hooks. The first records each
  case of an experiment the first night it is seen, with its features then; the second
  predicts, for each new case, every treatment's expected net (`models.policy`), and gives
  it the chosen one (`dunning.policy`), keeping what it chose and its propensity.
- `history_frame`: one row per randomized case whose horizon has passed: features at case
  open, treatment, propensity and net recovery over the horizon (`dunning.readout.case_net`).
- `fit_policy`: fit on a hashed share of the history, estimate on the rest the value of the
  greedy policy and of the champion's (or the reference arm given to everyone), and gate.
- `log_policy`: track the fit in MLflow (experiment `regua-policy`), register the model
  as `ladder_policy` challenger with the gate's verdict; promotion as for the risk models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from regua.config.experiments import Cell, Experiment, ExperimentsConfig
from regua.config.policy import PolicyConfig
from regua.dunning.actions import DunningConfig, ladder_steps
from regua.dunning.experiments import assignment_draws
from regua.dunning.policy import allowed_treatments, apply_choices, choose_treatments
from regua.dunning.readout import case_net
from regua.dunning.strategies import load_strategy
from regua.models.policy import LadderPolicy, PolicyEstimate, gate_policy, policy_value

log = logging.getLogger(__name__)

MODEL_NAME = "ladder_policy"
EXPERIMENT = "regua-policy"
HISTORY_EXPERIMENT = "policy-history"
POLICY_TRUSTED_TYPES = [
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMRegressor",
    "regua.models.policy.LadderPolicy",
    "regua.models.uplift.NetValueLearner",
]
"""Types skops may load back from the policy's model file."""


def policy_strategy(base: DunningConfig, config_dir: Path) -> DunningConfig:
    """The base strategy with the `fixed` strategy's ladder among its ladders."""
    fixed = load_strategy(config_dir / "strategies" / "fixed", config_dir).ladders.ladders
    ladders = base.ladders.model_copy(update={"ladders": {**base.ladders.ladders, **fixed}})
    return replace(base, ladders=ladders)


def policy_treatments(strategy: DunningConfig, config: PolicyConfig) -> tuple[str, ...]:
    """The treatments the policy chooses among (the config's, else every ladder)."""
    treatments = config.treatments or tuple(sorted(strategy.ladders.ladders))
    unknown = sorted(set(treatments) - set(strategy.ladders.ladders))
    if unknown:
        raise ValueError(f"policy.yaml: treatments: unknown ladder(s) {', '.join(unknown)}")
    return treatments


def randomized_strategy(
    strategy: DunningConfig, treatments: tuple[str, ...], starts_on: date, reference: str
) -> DunningConfig:
    """`strategy` with every new case randomized over `treatments` in equal shares."""
    share = 1.0 / len(treatments)
    cells = tuple(
        Cell(
            id=t,
            role="champion" if t == reference else "challenger",
            share=share,
            ladder=t,
        )
        for t in treatments
    )
    if reference not in treatments:
        cells = (cells[0].model_copy(update={"role": "champion"}), *cells[1:])
    # shares of 1/k may not sum to 1 exactly in floating point: the last takes the rest
    last = cells[-1].model_copy(update={"share": 1.0 - share * (len(cells) - 1)})
    experiment = Experiment(id=HISTORY_EXPERIMENT, starts_on=starts_on, cells=(*cells[:-1], last))
    return replace(
        strategy,
        experiments=ExperimentsConfig(experiments=(experiment,), costs=strategy.experiments.costs),
    )


def _first_seen(cases: pl.DataFrame, seen: set[str]) -> pl.DataFrame:
    """The cases not seen on an earlier night, now recorded as seen: a case is decided once."""
    new = cases.filter(~pl.col("case_id").is_in(list(seen)))
    seen.update(new["case_id"].to_list())
    return new


def _features_of(segments: pl.DataFrame, scored: pl.DataFrame) -> pl.DataFrame:
    """The cases' rows of the night's scored features, by customer."""
    return segments.select("case_id", "customer_id").join(
        scored.drop("case_id", strict=False), on="customer_id", how="left"
    )


@dataclass
class CellRecorder:
    """`decide` hook: records each experiment case the first night it is seen, with its
    features then; changes nothing."""

    shares: dict[str, float]
    parts: list[pl.DataFrame] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def __call__(
        self, segments: pl.DataFrame, scored: pl.DataFrame, customers: pl.DataFrame
    ) -> pl.DataFrame:
        new = _first_seen(segments.filter(pl.col("experiment_id").is_not_null()), self.seen)
        if not new.is_empty():
            rows = _features_of(new, scored).join(
                new.select("case_id", pl.col("cell").alias("treatment")), on="case_id"
            )
            self.parts.append(
                rows.with_columns(
                    pl.col("treatment").replace_strict(self.shares, return_dtype=pl.Float64)
                    .alias("propensity")
                )
            )  # fmt: skip
        return segments

    def cases(self) -> pl.DataFrame:
        """Every recorded case: features at case open, treatment, propensity."""
        return pl.concat(self.parts, how="diagonal_relaxed") if self.parts else pl.DataFrame()


@dataclass
class LearnedPolicy:
    """`decide` hook: each new case gets the allowed treatment of highest expected net
    (an exploration share randomized), kept for the case's life."""

    model: LadderPolicy
    strategy: DunningConfig
    config: PolicyConfig
    choices: list[pl.DataFrame] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.steps = ladder_steps(self.strategy.ladders)
        self.treatments = tuple(t for t in self.model.treatments_)

    def chosen(self) -> pl.DataFrame:
        """Every case the policy chose for: `dunning.policy.choose_treatments`' columns."""
        if not self.choices:
            return pl.DataFrame(schema=dict(choose_treatments(
                pl.DataFrame(schema={"case_id": pl.String, "treatment": pl.String,
                                     "expected_net": pl.Float64}),
                pl.DataFrame(schema={"case_id": pl.String, "treatment": pl.String}), 0.0, "x",
            ).schema))  # fmt: skip
        return pl.concat(self.choices)

    def __call__(
        self, segments: pl.DataFrame, scored: pl.DataFrame, customers: pl.DataFrame
    ) -> pl.DataFrame:
        new = _first_seen(segments.filter(pl.col("case_id").is_not_null()), self.seen)
        if not new.is_empty():
            rows = _features_of(new, scored)
            values = self.model.predict(rows)
            allowed = allowed_treatments(
                new, customers, self.steps, self.treatments, self.strategy.guardrails
            )
            self.choices.append(
                choose_treatments(values, allowed, self.config.exploration_share, self.config.salt)
            )
        return apply_choices(segments, self.chosen())


def history_frame(
    cases: pl.DataFrame,
    tables: dict[str, pl.LazyFrame],
    strategy: DunningConfig,
    last_day: date,
    horizon_days: int,
) -> pl.DataFrame:
    """The recorded cases whose horizon has passed by `last_day`, with `net` over it."""
    matured = cases.filter(pl.col("as_of") + pl.duration(days=horizon_days) <= pl.lit(last_day))
    if matured.is_empty():
        return matured.with_columns(pl.lit(None, pl.Float64).alias("net"))
    assigned = matured.select("case_id", "customer_id", pl.col("as_of").alias("assigned_on"))
    net = case_net(
        assigned, tables["invoices"], tables["payments"], tables["contacts"],
        strategy.experiments.costs, horizon_days,
    )  # fmt: skip
    return matured.join(net.select("case_id", "net"), on="case_id", how="left")


def held_out(history: pl.DataFrame, share: float, salt: str) -> pl.Series:
    """True for the cases kept out of fitting: a salted hash of the case id below `share`."""
    draws = assignment_draws(history["case_id"], f"{salt}|held-out").rename({"unit": "case_id"})
    return history.select("case_id").join(draws, on="case_id", how="left")["draw"] < share


class TooLittleHistoryError(ValueError):
    """The randomized history is too small to fit a policy and judge it."""


@dataclass(frozen=True)
class FittedPolicy:
    """A policy fitted on part of a randomized history and judged on the rest."""

    model: LadderPolicy
    estimate: PolicyEstimate
    passed: bool
    reason: str
    train_cases: int
    held_out_cases: int


def greedy(model: LadderPolicy, frame: pl.DataFrame) -> np.ndarray:
    """The treatment of highest expected net per row (no exploration, no guardrails)."""
    values = model.predict_matrix(frame)
    return np.asarray(model.treatments_)[np.argmax(values, axis=1)]


def fit_policy(
    history: pl.DataFrame,
    config: PolicyConfig,
    champion: LadderPolicy | None = None,
    random_state: int = 0,
) -> FittedPolicy:
    """Fit on the history's non-held-out cases; estimate on the held-out ones the greedy
    policy's value and the champion's (else the reference arm for everyone's); gate."""
    out = held_out(history, config.gate.held_out_share, config.salt)
    train, test = history.filter(~out), history.filter(out)
    if test.height < 10 or train.height < 30:
        raise TooLittleHistoryError(
            f"too little randomized history to fit and judge a policy ({train.height} cases "
            f"to fit, {test.height} held out)"
        )
    model = LadderPolicy(
        learner=config.learner,
        reference=config.reference,
        n_estimators=config.n_estimators,
        min_child_samples=config.min_child_samples,
        random_state=random_state,
    ).fit(train)
    predicted = model.predict_matrix(test)
    estimator = config.gate.estimator
    mine = policy_value(test, greedy(model, test), estimator, predicted, model.treatments_)
    if champion is not None:
        name = "the champion policy"
        theirs = greedy(champion, test)
    else:
        name = f"{config.reference} for everyone"
        theirs = np.full(test.height, config.reference)
    reference = policy_value(test, theirs, estimator, predicted, model.treatments_)
    estimate = PolicyEstimate(estimator, mine, reference, name)
    passed, reason = gate_policy(estimate, config.gate.margin_brl)
    log.info("ladder policy gate %s: %s", "passed" if passed else "failed", reason)
    return FittedPolicy(model, estimate, passed, reason, train.height, test.height)


def log_policy(
    fitted: FittedPolicy,
    config: PolicyConfig,
    tracking_uri: str | None = None,
    auto_promote: bool = False,
) -> tuple[str, str]:
    """Track the fit (experiment `regua-policy`), register the model as `ladder_policy`
    challenger with the gate's verdict, promote it when it passed and `auto_promote` (or
    the gate does not require approval). Returns (run id, version)."""
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    from regua.models.registry import AUTO_PROMOTE, CHALLENGER, GATE_REASON_TAG, GATE_TAG, promote
    from regua.models.tracking import model_requirements, use_experiment
    from regua.settings import get_settings

    uri = tracking_uri or get_settings().mlflow_tracking_uri
    mlflow.set_tracking_uri(uri)
    use_experiment(EXPERIMENT)
    e = fitted.estimate
    with mlflow.start_run(run_name=f"ladder-policy-{e.estimator}") as run:
        mlflow.log_params(
            {
                "learner": config.learner,
                "reference": config.reference,
                "treatments": ",".join(fitted.model.treatments_),
                "exploration_share": config.exploration_share,
                "estimator": e.estimator,
                "margin_brl": config.gate.margin_brl,
                "features": len(fitted.model.features_),
            }
        )
        mlflow.log_metrics(
            {
                "policy_value": e.policy.value,
                "policy_value_low": e.policy.low,
                "policy_value_high": e.policy.high,
                "reference_value": e.reference.value,
                "gain_per_case": e.gain,
                "train_cases": fitted.train_cases,
                "held_out_cases": fitted.held_out_cases,
            }
        )
        info = mlflow.sklearn.log_model(
            sk_model=fitted.model,
            name="model",
            registered_model_name=MODEL_NAME,
            skops_trusted_types=POLICY_TRUSTED_TYPES,
            pip_requirements=model_requirements(),
        )
        version = str(info.registered_model_version)
        mlflow.set_tag("gate", "passed" if fitted.passed else "failed")
    client = MlflowClient(uri)
    client.set_registered_model_alias(MODEL_NAME, CHALLENGER, version)
    client.set_model_version_tag(
        MODEL_NAME, version, GATE_TAG, "passed" if fitted.passed else "failed"
    )
    client.set_model_version_tag(MODEL_NAME, version, GATE_REASON_TAG, fitted.reason)
    if fitted.passed and (auto_promote or not config.gate.require_approval):
        promote(client, MODEL_NAME, version, by=AUTO_PROMOTE, why=fitted.reason, auto=True)
    return run.info.run_id, version


def load_policy_champion(tracking_uri: str | None = None) -> LadderPolicy | None:
    """The registered champion policy, or None when there is none."""
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    from regua.models.registry import CHAMPION, champion_version
    from regua.settings import get_settings

    uri = tracking_uri or get_settings().mlflow_tracking_uri
    mlflow.set_tracking_uri(uri)
    if champion_version(MlflowClient(uri), MODEL_NAME) is None:
        return None
    return mlflow.sklearn.load_model(f"models:/{MODEL_NAME}@{CHAMPION}")
