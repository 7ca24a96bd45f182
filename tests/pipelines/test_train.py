"""Training end to end on a small simulated store, tracked in a temporary MLflow store."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from mlflow import MlflowClient

from regua import features
from regua.config import LabelsConfig
from regua.contract import TABLES
from regua.models.explain import explain
from regua.models.labels import delinquency_labels
from regua.models.registry import CHAMPION
from regua.models.scoring import NoChampionError, load_champion, score
from regua.models.train import TrainingSpec, build_dataset, observed_until, split_out_of_time
from regua.pipelines.train import train_models
from regua.store import Store
from tests.pipelines.conftest import LENIENT


def tables(root):
    store = Store(root / "store")
    return {name: store.scan(name) for name in TABLES}


def test_out_of_time_split_leaves_no_customer_period_in_both(store):
    spec = TrainingSpec(kind="delinquency", snapshots=14)
    dataset = build_dataset(tables(store), spec)
    train, test = split_out_of_time(dataset, 2, spec.horizon_days())
    first_test = test["as_of"].min()
    assert train["as_of"].max() + timedelta(days=spec.horizon_days()) <= first_test
    assert test["as_of"].n_unique() == 2
    assert observed_until(tables(store)) >= test["as_of"].max() + timedelta(days=180)


def test_both_models_train_log_and_become_champions(trained, tracking):
    client = MlflowClient(tracking_uri=tracking)
    for item in trained:
        result = item.result
        assert result.evaluation.auc > 0.7
        assert result.baseline_evaluation.auc > 0.6
        assert sum(result.model.monotonicity_violations_.values()) == 0
        assert result.oracle_auc is not None and result.oracle_auc > 0.5
        run = client.get_run(item.run_id)
        assert {"oot_auc", "oot_ece", "oot_ks", "baseline_oot_auc", "oracle_gap"} <= set(
            run.data.metrics
        )
        assert run.data.tags["feature_catalog_version"]
        artifacts = {a.path for a in client.list_artifacts(item.run_id)}
        assert {"model_report.html", "feature_catalog.json", "figures", "tables"} <= artifacts
        kind = result.spec.kind
        assert (
            str(client.get_model_version_by_alias(kind, CHAMPION).version) == item.decision.version
        )
    delinquency = trained[0].result
    assert delinquency.oracle_auc_lookahead is not None


def test_reasons_on_demand_are_short_portuguese_and_repeatable(store, trained):
    model = trained[0].result.model
    as_of = trained[0].result.test_dates[-1]
    rows = features.build(Store(store / "store"), [as_of]).sort("dpd_now", descending=True)
    looked_up = rows.head(25)
    reasons = explain(model, looked_up)
    assert reasons["customer_id"].to_list() == looked_up["customer_id"].to_list()
    assert reasons["reasons"].list.len().max() <= 4
    assert reasons["reasons"].list.len().min() >= 1  # the most overdue have reasons
    assert any("atraso" in text for text in reasons["reasons"].explode().to_list())
    assert explain(model, looked_up).equals(reasons)
    single = explain(model, looked_up.slice(3, 1))
    assert single.row(0) == reasons.row(3)


def test_a_data_scientists_own_labels_train_the_same_way(store, tmp_path):
    source = tables(store)
    until = observed_until(source)
    stricter = LabelsConfig(delinquency={"min_days_past_due": 30, "horizon_days": 90})
    dates = [date(2025, m, 28) for m in range(3, 13)] + [date(2026, 1, 28), date(2026, 2, 27)]
    own = delinquency_labels(source, [d for d in dates if d <= until], until, stricter)
    trained = train_models(
        store / "store",
        ("delinquency",),
        labels=own,
        label_horizon_days=90,
        tracking_uri=f"sqlite:///{tmp_path}/own.db",
        gate=LENIENT,
    )
    result = trained[0].result
    snapshot_dates = sorted(set(own["as_of"].to_list()))
    assert result.test_dates == snapshot_dates[-2:]
    assert result.train_dates[-1] + timedelta(days=90) <= result.test_dates[0]
    test_rows = own.filter(pl.col("as_of") >= result.test_dates[0]).height
    assert result.test_rows == test_rows
    assert result.train_rows < own.height - test_rows  # the embargo dropped snapshots


def test_the_champions_load_from_the_registry_and_score_a_snapshot(
    store, trained, tracking, tmp_path
):
    delinquency = load_champion("delinquency", tracking)
    propensity = load_champion("propensity_to_pay", tracking)
    client = MlflowClient(tracking_uri=tracking)
    assert delinquency.version == str(
        client.get_model_version_by_alias("delinquency", CHAMPION).version
    )
    snapshot = features.build(Store(store / "store"), [date(2026, 9, 30)])
    scores = score(snapshot, delinquency.model, propensity.model)
    assert scores.height == snapshot.height
    assert scores["pd"].is_between(0, 1).all()
    overdue = snapshot["overdue_balance"] > 0
    assert scores.filter(~overdue)["propensity"].null_count() == (~overdue).sum()
    assert scores.filter(overdue)["propensity"].is_between(0, 1).all()
    with pytest.raises(NoChampionError, match="regua train"):
        load_champion("delinquency", f"sqlite:///{tmp_path}/empty.db")
