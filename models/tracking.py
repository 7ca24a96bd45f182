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
from importlib.metadata import version
from pathlib import Path

import mlflow
import mlflow.sklearn
import polars as pl
from mlflow import MlflowClient
from mlflow.models import infer_signature

from regua.features.catalog import CATALOG, CATALOG_VERSION
from regua.models.calibration import Recalibration
from regua.models.drift import DriftReport
from regua.models.fairness import fairness_table
from regua.models.registry import (
    ECE_METRIC,
    GateFigures,
    PromotionDecision,
    PromotionGate,
    gate_challenger,
    gate_figures,
    gate_recalibration,
)
from regua.models.report import model_charts, render_html
from regua.models.scoring import NoChampionError, load_champion
from regua.models.train import TrainingResult, predict_scores
from regua.render.charts import save_pngs
from regua.settings import get_settings

EXPERIMENT = "regua"
REFERENCE_FILE = "sample.parquet"
"""Features and scores of the latest training snapshot, under artifact path reference/."""
TRUSTED_TYPES = [
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "regua.models.gbm.MonotoneGBMClassifier",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
]
"""Types skops may load back from our model file (MLflow serialises sklearn with skops)."""


MODEL_PACKAGES = ("lightgbm", "numpy", "pandas", "polars", "scikit-learn", "skops")


def model_requirements() -> list[str]:
    """Pinned packages the logged model needs, read from this environment.

    Given explicitly, MLflow skips inferring them in a subprocess (about 10 s per model).
    """
    return [f"{name}=={version(name)}" for name in MODEL_PACKAGES]


def use_experiment(name: str) -> None:
    """Select the experiment; on a local store, new experiments keep artifacts under data/."""
    if mlflow.get_experiment_by_name(name) is None and mlflow.get_tracking_uri().startswith(
        ("sqlite:", "file:")
    ):
        folder = get_settings().mlflow_artifact_dir.resolve()
        mlflow.create_experiment(name, artifact_location=folder.as_uri())
    mlflow.set_experiment(name)


def measure_gate(result: TrainingResult, gate: PromotionGate) -> GateFigures:
    """The gate's figures for `result`: its test rows scored by the current champion too.

    The champion comes from the registry of the current tracking URI; when it cannot
    score the rows (another feature catalog, an unreadable model), the figures say why
    and the gate fails, leaving the comparison to a person.
    """
    scores = result.test_scores
    try:
        champion = load_champion(result.spec.kind)
    except NoChampionError:
        return gate_figures(scores, gate)
    if result.test_features is None:
        return gate_figures(scores, gate, champion.version, "the result kept no test rows")
    try:
        champion_scores = predict_scores(champion.model, result.test_features)
    except Exception as exc:  # any failure to score is a reason the gate reports
        problem = f"{type(exc).__name__}: {exc}"
        return gate_figures(scores, gate, champion.version, problem)
    with_champion = scores.with_columns(champion_scores.alias("champion_score"))
    return gate_figures(with_champion, gate, champion.version)


def log_training(
    result: TrainingResult,
    *,
    customers: pl.DataFrame | None = None,
    tracking_uri: str | None = None,
    experiment: str = EXPERIMENT,
    gate: PromotionGate | None = None,
    auto_promote: bool = False,
) -> tuple[str, PromotionDecision]:
    """One MLflow run for `result`, gated; returns the run id and the promotion decision.

    The version becomes champion only with `auto_promote` and a passed gate; otherwise
    it waits, as `challenger`, for `regua models promote`.
    """
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    use_experiment(experiment)
    spec = result.spec
    gate = gate or PromotionGate.from_config()
    figures = measure_gate(result, gate)
    scored = result.test_scores.rename({"score": "pd"})
    if customers is not None:
        scored = scored.join(customers, on="customer_id", how="left")
    fairness = fairness_table(scored)
    with (
        tempfile.TemporaryDirectory(prefix="regua-report-") as tmp,
        mlflow.start_run(run_name=f"{spec.kind}-{result.test_dates[-1]}") as run,
    ):
        folder = Path(tmp)
        params = {
            f.name: getattr(spec, f.name)
            for f in dataclasses.fields(spec)
            if f.name not in ("labels", "estimator")
        }
        params["labels"] = json.dumps(spec.labels.model_dump(), sort_keys=True)
        params |= result.model.get_params()  # hyperparameters and constraints as fitted
        mlflow.log_params({k: str(v) for k, v in params.items()})
        mlflow.log_metrics(result.metrics() | figures.metrics())
        mlflow.set_tags(
            {
                "model_kind": spec.kind,
                "feature_catalog_version": CATALOG_VERSION,
                "data_fingerprint": result.data_fingerprint,
                "train_snapshots": f"{result.train_dates[0]}..{result.train_dates[-1]}",
                "test_snapshots": f"{result.test_dates[0]}..{result.test_dates[-1]}",
            }
        )
        charts = model_charts(result)
        save_pngs(charts, folder / "figures")
        mlflow.log_artifacts(str(folder / "figures"), artifact_path="figures")
        report = folder / "model_report.html"
        report.write_text(render_html(result, charts, fairness), encoding="utf-8")
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
        if result.reference_sample is not None:
            reference = folder / "reference" / REFERENCE_FILE
            reference.parent.mkdir()
            result.reference_sample.write_parquet(reference)
            mlflow.log_artifact(str(reference), artifact_path="reference")
        example = result.input_example
        info = mlflow.sklearn.log_model(
            result.model,
            name="model",
            signature=infer_signature(example, result.model.predict_proba(example)),
            input_example=example,
            registered_model_name=spec.kind,
            skops_trusted_types=TRUSTED_TYPES,
            pip_requirements=model_requirements(),
        )
        run_id = run.info.run_id
    decision = gate_challenger(
        MlflowClient(),
        spec.kind,
        str(info.registered_model_version),
        figures,
        gate,
        auto_promote=auto_promote,
    )
    return run_id, decision


def log_recalibration(
    recalibration: Recalibration,
    kind: str,
    source_version: str,
    *,
    tracking_uri: str | None = None,
    experiment: str = EXPERIMENT,
    gate: PromotionGate | None = None,
    auto_promote: bool = False,
) -> tuple[str, PromotionDecision]:
    """The recalibrated champion as a new version, gated on its calibration error.

    Ranking is unchanged by construction (a monotone map of the same booster), so the gate
    here is the calibration bound, measured on the window's half the calibrator did not see.
    """
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    use_experiment(experiment)
    gate = gate or PromotionGate.from_config()
    with mlflow.start_run(run_name=f"{kind}-recalibrated-{recalibration.window}") as run:
        mlflow.log_params(
            {
                "recalibration_method": recalibration.method,
                "recalibration_window": recalibration.window.isoformat(),
                "source_version": source_version,
            }
        )
        mlflow.log_metrics(recalibration.metrics() | {ECE_METRIC: recalibration.ece_after})
        mlflow.set_tags({"model_kind": kind, "recalibrated_from": source_version})
        info = mlflow.sklearn.log_model(
            recalibration.model,
            name="model",
            registered_model_name=kind,
            skops_trusted_types=TRUSTED_TYPES,
            pip_requirements=model_requirements(),
        )
        run_id = run.info.run_id
    decision = gate_recalibration(
        MlflowClient(),
        kind,
        str(info.registered_model_version),
        recalibration,
        gate,
        auto_promote=auto_promote,
    )
    return run_id, decision


NIGHTLY_EXPERIMENT = "regua-nightly"


def load_reference(run_id: str, tracking_uri: str | None = None) -> pl.DataFrame | None:
    """The training sample logged with a model's run, or None when it has none."""
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    logged = {a.path for a in MlflowClient().list_artifacts(run_id, "reference")}
    if f"reference/{REFERENCE_FILE}" not in logged:
        return None
    with tempfile.TemporaryDirectory(prefix="regua-reference-") as tmp:
        path = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=f"reference/{REFERENCE_FILE}", dst_path=tmp
        )
        return pl.read_parquet(path)


def log_drift(
    report: DriftReport, as_of: str, models: dict[str, str], tracking_uri: str | None = None
) -> str:
    """One run in experiment regua-nightly with every PSI as a metric; returns its id."""
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    use_experiment(NIGHTLY_EXPERIMENT)
    with (
        tempfile.TemporaryDirectory(prefix="regua-drift-") as tmp,
        mlflow.start_run(run_name=f"nightly-{as_of}") as run,
    ):
        mlflow.set_tags({"as_of": as_of, **{f"{k}_version": v for k, v in models.items()}})
        mlflow.log_params(
            {"psi_warn_above": report.warn_above, "psi_breach_above": report.breach_above}
        )
        mlflow.log_metrics(report.metrics())
        path = Path(tmp) / "drift.csv"
        report.table.write_csv(path)
        mlflow.log_artifact(str(path))
        return run.info.run_id
