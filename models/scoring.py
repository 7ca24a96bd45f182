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

from regua.models.gbm import MonotoneGBMClassifier
from regua.models.legacy import legacy_module_paths
from regua.models.registry import CHAMPION
from regua.models.train import SCORE_DECIMALS, ModelKind, feature_matrix


def something_overdue() -> pl.Expr:
    """Over a feature table: the customer has an invoice past due and unsettled at as_of.

    The propensity model's population, when it is trained (`models.labels.
    propensity_labels` draws the same customers from the ledger with
    `features.ledger.overdue_on`), scored and monitored.
    """
    return (pl.col("overdue_balance") > 0).fill_null(False)


def scoring_population(feature_table: pl.DataFrame, kind: ModelKind) -> pl.DataFrame:
    """The rows a model scores: everyone for delinquency, `something_overdue` for propensity."""
    if kind == "delinquency":
        return feature_table
    return feature_table.filter(something_overdue())


class NoChampionError(RuntimeError):
    """The registry has no champion for a model: train one first."""


@dataclass(frozen=True)
class Champion:
    """A fitted champion model and where it came from."""

    kind: ModelKind
    version: str
    run_id: str
    model: MonotoneGBMClassifier


def load_champion(kind: ModelKind, tracking_uri: str | None = None) -> Champion:
    """The model holding the `champion` alias of registered model `kind`.

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
    # skops format: the trusted types were recorded with the model (models.tracking); a
    # model registered before the `regua.` namespace names its class by the old path.
    with legacy_module_paths():
        model = mlflow.sklearn.load_model(f"models:/{kind}@{CHAMPION}")
    return Champion(kind, str(version.version), version.run_id, model)


def score(
    feature_table: pl.DataFrame,
    delinquency: MonotoneGBMClassifier,
    propensity: MonotoneGBMClassifier | None = None,
) -> pl.DataFrame:
    """customer_id, as_of, pd and propensity (null where nothing is overdue) per row.

    >>> import regua
    >>> table = regua.build_features("data/store", date(2026, 9, 30))
    >>> scores = regua.score(
    ...     table,
    ...     regua.load_champion("delinquency").model,
    ...     regua.load_champion("propensity_to_pay").model,
    ... )
    """
    matrix = feature_matrix(feature_table)
    out = feature_table.select("customer_id", "as_of").with_columns(
        pl.Series("pd", delinquency.predict_proba(matrix)[:, 1])
    )
    overdue = feature_table.select(something_overdue()).to_series()
    propensity_values = pl.Series("propensity", [None] * feature_table.height, pl.Float64)
    if propensity is not None and overdue.any():
        rows = overdue.arg_true()
        values = propensity.predict_proba(matrix.iloc[rows.to_numpy()])[:, 1]
        propensity_values = propensity_values.scatter(rows, values)
    # Six decimals: float sums in the feature engine may differ in the last bit between
    # runs (parallel aggregation order); the rounded scores, and all that follows, do not.
    return out.with_columns(propensity_values).with_columns(
        pl.col("pd", "propensity").round(SCORE_DECIMALS)
    )
