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

from models.gbm import MonotoneGBMClassifier
from models.registry import CHAMPION
from models.train import SCORE_DECIMALS, ModelKind, feature_matrix


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
    """The model holding the `champion` alias of registered model `kind`."""
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    try:
        version = client.get_model_version_by_alias(kind, CHAMPION)
    except MlflowException as exc:
        raise NoChampionError(
            f"no champion for model {kind!r} in {mlflow.get_tracking_uri()}: run `regua train`"
        ) from exc
    # skops format: the trusted types were recorded with the model (models.tracking)
    model = mlflow.sklearn.load_model(f"models:/{kind}@{CHAMPION}")
    return Champion(kind, str(version.version), version.run_id, model)


def score(
    feature_table: pl.DataFrame,
    delinquency: MonotoneGBMClassifier,
    propensity: MonotoneGBMClassifier | None = None,
) -> pl.DataFrame:
    """customer_id, as_of, pd and propensity (null where nothing is overdue) per row."""
    matrix = feature_matrix(feature_table)
    out = feature_table.select("customer_id", "as_of").with_columns(
        pl.Series("pd", delinquency.predict_proba(matrix)[:, 1])
    )
    overdue = (feature_table["overdue_balance"] > 0).fill_null(False)
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
