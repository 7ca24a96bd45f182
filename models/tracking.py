"""Log a training result to MLflow, register it as a challenger and apply the gate.

Tracking defaults to the SQLite file from settings; `MLFLOW_TRACKING_URI` points it at a
server. The run carries params, metrics, the report and its figures, the feature catalog
and its version, a fingerprint of the training data, and the model with its signature
and an input example. Nothing personal is logged: ids and aggregate figures only.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path

import mlflow
import mlflow.sklearn
import polars as pl
from mlflow import MlflowClient
from mlflow.models import infer_signature

from features.catalog import CATALOG, CATALOG_VERSION
from models.fairness import fairness_table
from models.registry import PromotionDecision, PromotionGate, promote
from models.report import render_html, write_figures
from models.train import TrainingResult
from regua.settings import get_settings

EXPERIMENT = "regua"
TRUSTED_TYPES = [
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "models.gbm.MonotoneGBMClassifier",
    "sklearn.calibration._CalibratedClassifier",
]
"""Types skops may load back from our model file (MLflow serialises sklearn with skops)."""


def _use_experiment(name: str) -> None:
    """Select the experiment; on a local store, new experiments keep artifacts under data/."""
    if mlflow.get_experiment_by_name(name) is None and mlflow.get_tracking_uri().startswith(
        ("sqlite:", "file:")
    ):
        folder = get_settings().mlflow_artifact_dir.resolve()
        mlflow.create_experiment(name, artifact_location=folder.as_uri())
    mlflow.set_experiment(name)


def log_training(
    result: TrainingResult,
    *,
    customers: pl.DataFrame | None = None,
    tracking_uri: str | None = None,
    experiment: str = EXPERIMENT,
    gate: PromotionGate | None = None,
) -> tuple[str, PromotionDecision]:
    """One MLflow run for `result`; returns the run id and the promotion decision."""
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    _use_experiment(experiment)
    spec = result.spec
    scored = result.test_scores.rename({"score": "pd"})
    if customers is not None:
        scored = scored.join(customers, on="customer_id", how="left")
    fairness = fairness_table(scored)
    with (
        tempfile.TemporaryDirectory(prefix="regua-report-") as tmp,
        mlflow.start_run(run_name=f"{spec.kind}-{result.test_dates[-1]}") as run,
    ):
        folder = Path(tmp)
        params = {k: v for k, v in dataclasses.asdict(spec).items() if k != "labels"}
        params["labels"] = json.dumps(spec.labels.model_dump(), sort_keys=True)
        mlflow.log_params({k: str(v) for k, v in params.items()})
        mlflow.log_metrics(result.metrics())
        mlflow.set_tags(
            {
                "model_kind": spec.kind,
                "feature_catalog_version": CATALOG_VERSION,
                "data_fingerprint": result.data_fingerprint,
                "train_snapshots": f"{result.train_dates[0]}..{result.train_dates[-1]}",
                "test_snapshots": f"{result.test_dates[0]}..{result.test_dates[-1]}",
            }
        )
        figures = write_figures(result, folder / "figures")
        mlflow.log_artifacts(str(folder / "figures"), artifact_path="figures")
        report = folder / "model_report.html"
        report.write_text(render_html(result, figures, fairness), encoding="utf-8")
        mlflow.log_artifact(str(report))
        mlflow.log_dict([f.to_dict() for f in CATALOG], "feature_catalog.json")
        mlflow.log_dict(
            {"monotonicity_violations": result.model.monotonicity_violations_},
            "monotonicity.json",
        )
        for name, table in (
            ("lift", result.lift),
            ("calibration", result.calibration),
            ("importance", result.importance),
            ("fairness", fairness),
        ):
            table.write_csv(folder / f"{name}.csv")
            mlflow.log_artifact(str(folder / f"{name}.csv"), artifact_path="tables")
        example = result.input_example
        info = mlflow.sklearn.log_model(
            result.model,
            name="model",
            signature=infer_signature(example, result.model.predict_proba(example)),
            input_example=example,
            registered_model_name=spec.kind,
            skops_trusted_types=TRUSTED_TYPES,
        )
        run_id = run.info.run_id
    decision = promote(
        MlflowClient(), spec.kind, str(info.registered_model_version), gate or PromotionGate()
    )
    return run_id, decision
