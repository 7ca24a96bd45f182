"""Model health: how the champion ranks and calibrates on the latest matured labels, and
how far its scores have drifted since.

A label at a month-end has matured once its whole horizon (180 days for delinquency,
30 for propensity to pay, `config/labels.yaml`) lies on or before the report's as_of, so
the latest matured month-end lags as_of by the horizon. The champion scores that
month-end's customers; AUC and expected calibration error compare the scores with what
happened, and the population stability index (PSI) compares the distribution of its
scores then with the distribution at as_of (the same population rule as scoring:
everyone for PD, customers with something overdue for propensity).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from regua import features
from regua.config import LabelsConfig
from regua.config.drift import DriftConfig, load_drift
from regua.models.drift import population_stability, psi_level
from regua.models.gbm import MonotoneGBMClassifier
from regua.models.labels import delinquency_labels, propensity_labels
from regua.models.metrics import Evaluation, calibration_table, evaluate
from regua.models.scoring import Champion, scoring_population
from regua.models.train import (
    TrainingSpec,
    month_end_on_or_before,
    observed_until,
    predict_scores,
)

Frame = pl.LazyFrame | pl.DataFrame


def matured_as_of(as_of: date, observed_until: date, horizon_days: int) -> date:
    """The latest month-end on or before as_of whose label horizon ends by `observed_until`."""
    return month_end_on_or_before(min(as_of, observed_until - timedelta(days=horizon_days)))


def labelled_scores(
    model: MonotoneGBMClassifier, feature_table: pl.DataFrame, labels: pl.DataFrame
) -> pl.DataFrame:
    """customer_id, as_of, label and the model's score for the labelled rows of a feature table."""
    rows = feature_table.join(
        labels.select("customer_id", "as_of", "label"), on=["customer_id", "as_of"], how="inner"
    )
    return rows.select("customer_id", "as_of", "label").with_columns(predict_scores(model, rows))


def label_summary(labels: pl.DataFrame) -> pl.DataFrame:
    """Labelled customers and the share of label 1 per as_of."""
    return (
        labels.group_by("as_of")
        .agg(pl.len().cast(pl.Int64).alias("customers"), pl.col("label").mean().alias("rate"))
        .sort("as_of")
    )


def compare_evaluations(evaluations: Mapping[str, Evaluation]) -> pl.DataFrame:
    """Headline figures side by side: one row per figure, one column per model."""
    names = list(next(iter(evaluations.values())).as_dict()) if evaluations else []
    return pl.DataFrame(
        {"figure": names, **{label: list(e.as_dict().values()) for label, e in evaluations.items()}}
    )


def psi_status(psi: float | None, thresholds: DriftConfig | None = None) -> str | None:
    """The drift level (ok, warn, breach) of a score's PSI, the nightly's rule and
    thresholds (config/drift.yaml unless given); None when unknown."""
    return psi_level(psi, thresholds or load_drift())


HEALTH_SCHEMA = pl.Schema(
    {
        "model": pl.String(),
        "version": pl.String(),
        "matured_as_of": pl.Date(),
        "labelled": pl.Int64(),
        "base_rate": pl.Float64(),
        "auc": pl.Float64(),
        "ece": pl.Float64(),
        "psi": pl.Float64(),
        "psi_status": pl.String(),
    }
)


def model_health(
    kind: str,
    version: str,
    matured: date,
    labelled: pl.DataFrame,
    reference: pl.Series,
    current: pl.Series,
) -> pl.DataFrame:
    """One row of model health: AUC, ECE, base rate on `labelled`, PSI of current scores.

    AUC and ECE compare `labelled["score"]` with `labelled["label"]` and are null unless
    both outcomes occur; PSI compares `current` with `reference` (the matured date's).
    """
    y = labelled["label"].to_numpy().astype(float)
    both = labelled.height > 0 and np.unique(y).size == 2
    figures = evaluate(y, labelled["score"].to_numpy()) if both else None
    psi = population_stability(reference, current)
    psi_value = None if math.isnan(psi) else psi
    return pl.DataFrame(
        [
            {
                "model": kind,
                "version": version,
                "matured_as_of": matured,
                "labelled": labelled.height,
                "base_rate": float(y.mean()) if labelled.height else None,
                "auc": figures.auc if figures else None,
                "ece": figures.ece if figures else None,
                "psi": psi_value,
                "psi_status": psi_status(psi_value),
            }
        ],
        schema=HEALTH_SCHEMA,
    )


@dataclass(frozen=True)
class Health:
    """Model health per champion, and the calibration table behind each ECE."""

    table: pl.DataFrame
    calibration: pl.DataFrame  # model, bin, n, predicted, observed


def champion_health(
    tables: Mapping[str, Frame],
    champions: Sequence[Champion],
    as_of: date,
    labels: LabelsConfig | None = None,
) -> Health:
    """Model health of each champion at as_of, on labels matured by as_of (point in time)."""
    labels = labels or LabelsConfig()
    observed = min(observed_until(tables), as_of)
    matured = {
        c.kind: matured_as_of(
            as_of, observed, TrainingSpec(kind=c.kind, labels=labels).horizon_days()
        )
        for c in champions
    }
    feature_table = features.build_from_frames(tables, sorted({*matured.values(), as_of}))
    rows, calibrations = [], []
    for champion in champions:
        day = matured[champion.kind]
        make = delinquency_labels if champion.kind == "delinquency" else propensity_labels
        truth = make(tables, [day], observed, labels)
        population = scoring_population(feature_table, champion.kind)
        labelled = labelled_scores(champion.model, population, truth)
        rows.append(
            model_health(
                champion.kind,
                champion.version,
                day,
                labelled,
                predict_scores(champion.model, population.filter(pl.col("as_of") == day)),
                predict_scores(champion.model, population.filter(pl.col("as_of") == as_of)),
            )
        )
        if labelled["label"].n_unique() == 2:
            calibrations.append(
                calibration_table(labelled["label"], labelled["score"]).select(
                    pl.lit(champion.kind).alias("model"), pl.all()
                )
            )
    calibration = (
        pl.concat(calibrations)
        if calibrations
        else pl.DataFrame(
            schema={
                "model": pl.String,
                "bin": pl.Int32,
                "n": pl.UInt32,
                "predicted": pl.Float64,
                "observed": pl.Float64,
            }
        )
    )
    return Health(pl.concat(rows) if rows else pl.DataFrame(schema=HEALTH_SCHEMA), calibration)
