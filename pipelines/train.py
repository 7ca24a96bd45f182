"""Training wiring: read the store, train each model, log it to MLflow, apply the gate.

Notebooks call `train_models`; `train_flow` (what `regua train` runs) wraps the same
function in a Prefect task. All logic lives in `models.train` and `models.tracking`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from regua.config import load_labels
from regua.config.gate import load_gate
from regua.contract import TABLES
from regua.models.calibration import Recalibration, calibration_window, recalibrate_on_window
from regua.models.registry import PromotionDecision, PromotionGate
from regua.models.scoring import load_champion
from regua.models.tracking import log_recalibration, log_training
from regua.models.train import (
    ModelKind,
    TrainingResult,
    TrainingSpec,
    build_dataset,
    snapshot_features,
    train,
)
from regua.pipelines.retry import io_task
from regua.progress import stage_bar
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
    auto_promote: bool = False,
    days_per_month: int = 10,
) -> list[TrainedModel]:
    """Train, evaluate, log and gate each model kind on the store's current version.

    Training months are seen on `days_per_month` days (`TrainingSpec.days_per_month`).

    A version that passes the gate becomes champion only with `auto_promote`; otherwise
    it waits as challenger for `regua models promote` (a recorded approval).
    """
    store = store if isinstance(store, Store) else Store(store)
    if store.version is None:
        raise ValueError(f"store {store.root} is empty: run `regua ingest` first")
    tables = {name: store.scan(name) for name in TABLES}
    definitions = load_labels()
    specs = [
        TrainingSpec(
            kind=kind,
            snapshots=snapshots,
            out_of_time=out_of_time,
            last_as_of=last_as_of,
            labels=definitions,
            days_per_month=days_per_month,
        )
        for kind in kinds
    ]
    feature_table = snapshot_features(tables, specs, labels)
    trained = []
    with stage_bar(len(specs), "training") as advance:
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
                auto_promote=auto_promote,
            )
            trained.append(TrainedModel(result, run_id, decision))
            advance()
    return trained


def recalibrate_champion(
    store: Store | Path | str,
    kind: ModelKind,
    *,
    tracking_uri: str | None = None,
    auto_promote: bool = False,
) -> tuple[Recalibration, str, PromotionDecision]:
    """The monthly recalibration: the champion's calibrator refitted on the latest matured
    month-end (`models.calibration`), logged as a new version and gated on calibration."""
    store = store if isinstance(store, Store) else Store(store)
    if store.version is None:
        raise ValueError(f"store {store.root} is empty: run `regua ingest` first")
    uri = tracking_uri or get_settings().mlflow_tracking_uri
    champion = load_champion(kind, uri)
    tables = {name: store.scan(name) for name in TABLES}
    spec = TrainingSpec(kind=kind, snapshots=1, labels=load_labels())
    window = calibration_window(tables, spec)
    dataset = build_dataset(tables, spec)
    gate_config = load_gate()
    recalibration = recalibrate_on_window(
        champion.model, dataset, window, gate_config.recalibration_method
    )
    run_id, decision = log_recalibration(
        recalibration,
        kind,
        champion.version,
        tracking_uri=uri,
        gate=PromotionGate.from_config(gate_config),
        auto_promote=auto_promote,
    )
    return recalibration, run_id, decision


def training_markdown(trained: list[TrainedModel]) -> str:
    """Out-of-time figures, the baseline, the oracle and the gate's decision per model."""
    lines = [
        "| model | OOT AUC | scorecard AUC | oracle AUC | KS | ECE | version | gate |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for item in trained:
        r, e = item.result, item.result.evaluation
        oracle = "n/a" if r.oracle_auc is None else f"{r.oracle_auc:.4f}"
        gate = decision_word(item.decision)
        lines.append(
            f"| {r.spec.kind} | {e.auc:.4f} | {r.baseline_evaluation.auc:.4f} | {oracle} "
            f"| {e.ks:.3f} | {e.ece:.4f} | {item.decision.version} | {gate}: "
            f"{item.decision.reason} |"
        )
    return "\n".join(lines) + "\n"


def decision_word(decision: PromotionDecision) -> str:
    """champion, passed (awaiting approval) or failed: where the gate left a version."""
    if decision.promoted:
        return "champion"
    return "passed, awaiting approval" if decision.passed else "failed the gate"


@io_task("train-models", retries=1)
def train_task(store: Path, kinds: tuple[ModelKind, ...], **options: object) -> list[TrainedModel]:
    """Both models trained, logged and gated (`train_models`)."""
    return train_models(store, kinds, **options)  # type: ignore[arg-type]


def _run_name() -> str:
    store = flow_run.parameters.get("store") or get_settings().store_dir
    return f"train-{Path(store).name}"


@flow(name="train", flow_run_name=_run_name)
def train_flow(
    store: Path | None = None,
    kinds: tuple[ModelKind, ...] = ("delinquency", "propensity_to_pay"),
    last_as_of: date | None = None,
    snapshots: int = 18,
    out_of_time: int = 2,
    labels: Path | None = None,
    truth: Path | None = None,
    tracking_uri: str | None = None,
    gate: PromotionGate | None = None,
    auto_promote: bool = False,
    days_per_month: int = 10,
) -> list[TrainedModel]:
    """Train, log and gate the models on the store; publish their figures as an artifact."""
    trained = train_task(
        store or get_settings().store_dir,
        kinds,
        last_as_of=last_as_of,
        snapshots=snapshots,
        out_of_time=out_of_time,
        days_per_month=days_per_month,
        labels=read_labels(labels) if labels else None,
        truth=pl.read_parquet(truth) if truth else None,
        tracking_uri=tracking_uri,
        gate=gate,
        auto_promote=auto_promote,
    )
    create_markdown_artifact(training_markdown(trained), key="training-summary")
    return trained
