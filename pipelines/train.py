"""Training wiring: read the store, train each model, log it to MLflow, apply the gate.

The CLI (`regua train`) and notebooks call `train_models`; the Prefect flow of issue 7
will wrap the same function. All logic lives in `models.train` and `models.tracking`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

import features
from models.registry import PromotionDecision, PromotionGate
from models.tracking import log_training
from models.train import ModelKind, TrainingResult, TrainingSpec, train, training_dates
from regua.contract import TABLES
from regua.settings import get_settings
from regua.store import Store

log = logging.getLogger(__name__)


@dataclass
class TrainedModel:
    """What one training produced: the result, its MLflow run and the gate's decision."""

    result: TrainingResult
    run_id: str
    decision: PromotionDecision


def read_labels(path: Path) -> pl.DataFrame:
    """A label table from Parquet or CSV (customer_id, as_of, label)."""
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    return pl.read_csv(path, try_parse_dates=True)


def train_models(
    store: Store | Path | str,
    kinds: tuple[ModelKind, ...] = ("delinquency", "propensity_to_pay"),
    *,
    last_as_of: date | None = None,
    snapshots: int = 18,
    out_of_time: int = 2,
    labels: pl.DataFrame | None = None,
    label_horizon_days: int | None = None,
    truth: pl.DataFrame | None = None,
    tracking_uri: str | None = None,
    gate: PromotionGate | None = None,
) -> list[TrainedModel]:
    """Train, evaluate, log and gate each model kind on the store's current version."""
    store = store if isinstance(store, Store) else Store(store)
    if store.version is None:
        raise ValueError(f"store {store.root} is empty: run `regua ingest` first")
    tables = {name: store.scan(name) for name in TABLES}
    specs = [
        TrainingSpec(kind=kind, snapshots=snapshots, out_of_time=out_of_time, last_as_of=last_as_of)
        for kind in kinds
    ]
    dates = sorted({d for spec in specs for d in training_dates(tables, spec, labels)})
    feature_table = features.build_from_frames(tables, dates)
    trained = []
    for spec in specs:
        result = train(
            tables,
            spec,
            labels=labels,
            truth=truth,
            label_horizon_days=label_horizon_days,
            feature_table=feature_table,
        )
        run_id, decision = log_training(
            result,
            customers=store.read("customers"),
            tracking_uri=tracking_uri or get_settings().mlflow_tracking_uri,
            gate=gate,
        )
        trained.append(TrainedModel(result, run_id, decision))
    return trained
