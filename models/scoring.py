"""Scores for a feature table: probability of default for everyone, propensity to pay for
customers with something overdue, and the champion models they came from.

`load_champion` reads a model by its `champion` alias from the MLflow registry; `score`
is a pure function of the feature table and the fitted estimators, so a notebook can
score with any model it holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import mlflow
import polars as pl
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from regua.config import DelinquencyLabel, LabelsConfig
from regua.models.gbm import MonotoneGBMClassifier
from regua.models.legacy import legacy_module_paths
from regua.models.population import out_of_population, something_overdue
from regua.models.registry import CHAMPION, approval_of
from regua.models.train import SCORE_DECIMALS, ModelKind, feature_matrix

OUT_OF_POPULATION_REASON = "fora da população do modelo"
"""The reason of a PD that no model gave: the customer is outside the model's population."""


def out_of_population_text(rule: DelinquencyLabel | None = None) -> str:
    """The Portuguese reason given instead of model reasons to an out-of-population customer."""
    rule = rule or DelinquencyLabel()
    return (
        f"{OUT_OF_POPULATION_REASON}: já com {rule.min_days_past_due} dias ou mais de atraso "
        f"(PD fixada em {rule.out_of_population_pd:.0%})"
    )


def scoring_population(feature_table: pl.DataFrame, kind: ModelKind) -> pl.DataFrame:
    """The rows a model scores: everyone for delinquency, `something_overdue` for propensity."""
    if kind == "delinquency":
        return feature_table
    return feature_table.filter(something_overdue())


class NoChampionError(RuntimeError):
    """The registry has no champion for a model: train one first."""


class UnapprovedChampionError(NoChampionError):
    """The champion's promotion is not recorded, and the gate config requires it."""


def unapproved_text(kind: str, version: str) -> str:
    """One line for a champion without a recorded approval, with the command that records one."""
    return (
        f"champion {kind} v{version} has no recorded approval and config/gate.yaml sets "
        f"require_approval: run `regua models promote {kind} {version} --by WHO --why TEXT`"
    )


@dataclass(frozen=True)
class Champion:
    """A fitted champion model and where it came from."""

    kind: ModelKind
    version: str
    run_id: str
    model: MonotoneGBMClassifier


def load_champion(
    kind: ModelKind, tracking_uri: str | None = None, *, require_approval: bool = False
) -> Champion:
    """The model holding the `champion` alias of registered model `kind`.

    With `require_approval`, a champion whose promotion (who, when, why) is not recorded
    raises `UnapprovedChampionError`.

    >>> import regua
    >>> champion = regua.load_champion("delinquency")  # MLflow from the settings
    >>> champion.version, champion.run_id
    >>> champion.model.predict_proba(matrix)[:, 1]
    """
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    try:
        version = client.get_model_version_by_alias(kind, CHAMPION)
    except MlflowException as exc:
        raise NoChampionError(
            f"no champion for model {kind!r} in {mlflow.get_tracking_uri()}: run `regua train`"
        ) from exc
    if require_approval and approval_of(client, kind, str(version.version)) is None:
        raise UnapprovedChampionError(unapproved_text(kind, str(version.version)))
    # skops format: the trusted types were recorded with the model (models.tracking); a
    # model registered before the `regua.` namespace names its class by the old path.
    with legacy_module_paths():
        model = mlflow.sklearn.load_model(f"models:/{kind}@{CHAMPION}")
    return Champion(kind, str(version.version), version.run_id, model)


def score(
    feature_table: pl.DataFrame,
    delinquency: MonotoneGBMClassifier,
    propensity: MonotoneGBMClassifier | None = None,
    labels: LabelsConfig | None = None,
) -> pl.DataFrame:
    """customer_id, as_of, pd, propensity (null where nothing is overdue) and in_population.

    A customer outside the delinquency model's population (`out_of_population`: already
    60+ days past due under the shipped labels) gets no model PD but the configured
    `out_of_population_pd`, and `in_population` false; the propensity model's population
    is everyone with something overdue, so they keep their propensity.

    >>> import regua
    >>> table = regua.build_features("data/store", date(2026, 9, 30))
    >>> scores = regua.score(
    ...     table,
    ...     regua.load_champion("delinquency").model,
    ...     regua.load_champion("propensity_to_pay").model,
    ... )
    """
    rule = (labels or LabelsConfig()).delinquency
    matrix = feature_matrix(feature_table)
    outside = feature_table.select(out_of_population(rule)).to_series()
    out = feature_table.select("customer_id", "as_of").with_columns(
        pl.when(outside)
        .then(rule.out_of_population_pd)
        .otherwise(pl.Series(delinquency.predict_proba(matrix)[:, 1]))
        .alias("pd"),
        (~outside).alias("in_population"),
    )
    overdue = feature_table.select(something_overdue()).to_series()
    propensity_values = pl.Series("propensity", [None] * feature_table.height, pl.Float64)
    if propensity is not None and overdue.any():
        rows = overdue.arg_true()
        values = propensity.predict_proba(matrix.iloc[rows.to_numpy()])[:, 1]
        propensity_values = propensity_values.scatter(rows, values)
    # Six decimals: float sums in the feature engine may differ in the last bit between
    # runs (parallel aggregation order); the rounded scores, and all that follows, do not.
    return (
        out.with_columns(propensity_values)
        .with_columns(pl.col("pd", "propensity").round(SCORE_DECIMALS))
        .select("customer_id", "as_of", "pd", "propensity", "in_population")
    )
