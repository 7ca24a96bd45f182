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
        # the point-in-time oracle is a ceiling: no model fed data up to as_of beats it
        assert result.oracle_gap >= 0
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


def test_the_gate_scores_the_champion_on_the_challengers_own_rows(trained, tracking):
    from regua.models.registry import approval_of
    from regua.models.tracking import log_training

    item = trained[0]
    assert item.decision.passed and item.decision.promoted  # the fixture auto-promotes
    client = MlflowClient(tracking_uri=tracking)
    approval = approval_of(client, "delinquency", item.decision.version)
    assert approval is not None and approval.approved_by == "auto-promote"
    # the same model again: on the same rows the champion's AUC is the challenger's, exactly
    run_id, decision = log_training(item.result, tracking_uri=tracking, gate=LENIENT)
    metrics = client.get_run(run_id).data.metrics
    assert metrics["gate_rows"] == item.result.test_rows
    assert metrics["gate_champion_auc"] == pytest.approx(item.result.evaluation.auc, abs=1e-12)
    assert metrics["gate_vs_champion_low"] == metrics["gate_vs_champion_high"] == 0.0
    assert decision.passed and not decision.promoted  # no --auto-promote: waits for a person
    assert decision.champion_version == item.decision.version
    assert str(client.get_model_version_by_alias("delinquency", CHAMPION).version) == (
        item.decision.version
    )


def test_scoring_leaves_out_whom_training_left_out(store, trained):
    from regua.models.scoring import OUT_OF_POPULATION_REASON, out_of_population
    from regua.models.train import TooFewOutcomesError, check_outcomes, predict_scores

    source = tables(store)
    as_of = trained[0].result.test_dates[0]
    snapshot = features.build(Store(store / "store"), [as_of])
    labelled = delinquency_labels(source, [as_of], observed_until(source), LabelsConfig())
    left_out = set(snapshot["customer_id"]) - set(labelled["customer_id"])
    outside = snapshot.filter(out_of_population())
    assert left_out == set(outside["customer_id"]) and outside.height > 0

    delinquency, propensity = trained[0].result.model, trained[1].result.model
    rule = LabelsConfig(delinquency={"out_of_population_pd": 0.97})
    scores = score(snapshot, delinquency, propensity, rule)
    assert scores.filter(~pl.col("in_population"))["pd"].to_list() == [0.97] * outside.height
    inside = snapshot.filter(~out_of_population())
    expected = predict_scores(delinquency, inside).round(6)
    assert scores.filter(pl.col("in_population"))["pd"].to_list() == expected.to_list()
    assert scores.filter(~pl.col("in_population"))["propensity"].is_between(0, 1).all()
    assert OUT_OF_POPULATION_REASON == "fora da população do modelo"

    with pytest.raises(TooFewOutcomesError, match=r"min_bad_outcomes 10000 \(config/labels"):
        check_outcomes(labelled, "delinquency", 10_000)
    check_outcomes(labelled, "delinquency", int(labelled["label"].sum()))


def test_the_nightly_refuses_a_champion_nobody_approved(store, trained, tracking, tmp_path):
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    copy = tmp_path / "mlflow.db"
    shutil.copy(tracking.removeprefix("sqlite:///"), copy)
    uri = f"sqlite:///{copy}"
    client = MlflowClient(tracking_uri=uri)
    version = trained[0].decision.version
    client.delete_model_version_tag("delinquency", version, "approved_by")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("REGUA_", "MLFLOW_"))}
    environ |= {
        "MLFLOW_TRACKING_URI": uri,
        "REGUA_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    command = [sys.executable, "-m", "regua", "score", "--store", str(store / "store")]
    command += ["--as-of", "2026-10-30", "--out", str(tmp_path / "out")]
    done = subprocess.run(command, env=environ, capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: champion delinquency v{version} has no recorded approval and config/gate.yaml "
        f"sets require_approval: run `regua models promote delinquency {version} --by WHO "
        "--why TEXT`"
    ]
    promoted = subprocess.run(
        [sys.executable, "-m", "regua", "models", "promote", "delinquency", version,
         "--by", "ana.risco", "--why", "validation pack reviewed"],
        env=environ, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert promoted.returncode == 0, promoted.stderr
    assert "approved by ana.risco" in promoted.stdout
    assert client.get_model_version("delinquency", version).tags["approved_by"] == "ana.risco"


def test_the_validation_pack_holds_what_a_validator_signs(trained):
    from sklearn.metrics import roc_auc_score

    from regua.contract import UFS
    from regua.models.validation import validation_pack
    from regua.reports.validation import render_validation_pack

    item = trained[0]
    result = item.result
    pack = validation_pack(result)
    tables = pack.tables
    months = tables["by_month"]
    assert months.height == len(result.test_dates)
    assert months["rows"].sum() == result.test_rows
    for row in months.iter_rows(named=True):  # each month's AUC, recomputed here
        part = result.test_scores.filter(pl.col("as_of").dt.strftime("%Y-%m") == row["segment"])
        assert row["auc"] == pytest.approx(roc_auc_score(part["label"], part["score"]))
        assert row["gini"] == pytest.approx(2 * row["auc"] - 1)
    for name in ("by_dpd_bucket", "by_product", "by_pf_pj", "by_uf"):
        assert tables[name]["rows"].sum() == result.test_rows, name
    assert set(tables["by_pf_pj"]["segment"]) <= {"PF", "PJ"}
    assert set(tables["by_uf"]["segment"]) <= set(UFS)
    # nobody 60+ days late at as_of is in the delinquency model's rows
    assert set(tables["by_dpd_bucket"]["segment"]) <= {"current", "1-30", "31-60"}
    bench = {r["model"]: r["auc"] for r in tables["benchmarks"].iter_rows(named=True)}
    assert bench["modelo"] == pytest.approx(result.evaluation.auc)
    assert bench["scorecard"] == pytest.approx(result.baseline_evaluation.auc)
    assert 0.5 < bench["só score de bureau"] < bench["modelo"]
    population = tables["population"]
    test_part = population.filter(pl.col("used_for") == "out-of-time")
    assert test_part["in_population"].sum() == result.test_rows
    assert (test_part["left_out"] > 0).all()  # the already-60+ customers
    assert tables["psi_by_month"].height == len(result.test_dates)
    assert tables["monotonicity"]["violations"].sum() == 0
    fairness = tables["fairness"]
    assert set(fairness["attribute"]) == {"age_band", "region"}
    for (_,), part in fairness.group_by("attribute"):
        assert part["disparate_impact"].max() == pytest.approx(1.0)
        assert part["flagged"].to_list() == (part["disparate_impact"] < 0.8).to_list()
        assert part["rows"].sum() == result.test_rows

    html = render_validation_pack(
        pack, version="1", run_id=item.run_id, gate="passed",
        dates={"train_dates": result.train_dates, "test_dates": result.test_dates,
               "train_rows": result.train_rows, "test_rows": result.test_rows},
    )  # fmt: skip
    for name in ("by_month", "by_uf", "psi_by_month", "benchmarks", "fairness", "monotonicity"):
        assert f'data-table="{name}"' in html
    assert "impacto desproporcional" in html
    ids = result.test_scores["customer_id"].head(200).to_list()
    assert not any(f">{customer}<" in html for customer in ids)  # aggregates only


def test_anyone_gets_both_models_reasons_on_demand(store, trained, tracking, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from regua.models.scoring import out_of_population

    snapshot = features.build(Store(store / "store"), [date(2026, 10, 30)])
    overdue = snapshot.filter((pl.col("overdue_balance") > 0) & ~out_of_population())
    outside = snapshot.filter(out_of_population())
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("REGUA_", "MLFLOW_"))}
    environ |= {
        "MLFLOW_TRACKING_URI": tracking,
        "REGUA_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }

    def explain_cli(customer):
        command = [sys.executable, "-m", "regua", "explain", "--customer", customer]
        command += ["--as-of", "2026-10-30", "--store", str(store / "store")]
        return subprocess.run(command, env=environ, capture_output=True, text=True, check=False)

    done = explain_cli(overdue["customer_id"][0])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1] == f"cliente {overdue['customer_id'][0]} em 2026-10-30"
    assert lines[2].startswith("probabilidade de inadimplência (PD): ")
    assert "  o que eleva o risco:" in lines and "  o que reduz o risco:" in lines
    assert any(line.startswith("propensão a pagar o atraso: ") for line in lines)
    assert "  o que reduz a chance de pagamento:" in lines
    assert any(line.endswith("o que eleva o risco de inadimplência") for line in lines)
    assert any(line.endswith("o que aumenta a chance de pagamento") for line in lines)

    late = explain_cli(outside["customer_id"][0])
    assert late.returncode == 0, late.stderr
    assert "fora da população do modelo" in late.stdout
    assert "o que eleva o risco:" not in late.stdout

    unknown = explain_cli("NOBODY")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == f"error: customer NOBODY: not in the store {store / 'store'}"


def test_the_monthly_recalibration_registers_a_gated_version(store, trained, tracking, tmp_path):
    import shutil

    import mlflow

    from regua.models.legacy import legacy_module_paths
    from regua.models.train import snapshot_dates
    from regua.pipelines.train import recalibrate_champion

    copy = tmp_path / "mlflow.db"  # the session's registry stays as the other tests see it
    shutil.copy(tracking.removeprefix("sqlite:///"), copy)
    uri = f"sqlite:///{copy}"
    recalibration, run_id, decision = recalibrate_champion(
        store / "store", "delinquency", tracking_uri=uri
    )
    source = tables(store)
    window = snapshot_dates(source, TrainingSpec(kind="delinquency", snapshots=1))[-1]
    assert recalibration.window == window
    assert window + timedelta(days=180) <= observed_until(source)
    labelled = delinquency_labels(source, [window], observed_until(source), LabelsConfig())
    assert recalibration.fit_rows + recalibration.check_rows == labelled.height
    assert recalibration.method == "sigmoid"
    client = MlflowClient(tracking_uri=uri)
    assert decision.version != trained[0].decision.version and not decision.promoted
    version = client.get_model_version("delinquency", decision.version)
    assert version.run_id == run_id
    assert version.tags["gate"] == ("passed" if decision.passed else "failed")
    assert client.get_run(run_id).data.params["recalibration_method"] == "sigmoid"
    if decision.passed:
        assert recalibration.ece_after <= min(recalibration.ece_before, LENIENT.max_ece)
    mlflow.set_tracking_uri(uri)
    with legacy_module_paths():  # loads back with the trusted types it was logged with
        model = mlflow.sklearn.load_model(f"models:/delinquency/{decision.version}")
    snapshot = features.build(Store(store / "store"), [window]).head(50)
    loaded = model.predict_proba(snapshot_matrix(snapshot))[:, 1]
    assert (
        loaded.tolist()
        == recalibration.model.predict_proba(snapshot_matrix(snapshot))[:, 1].tolist()
    )
    mlflow.set_tracking_uri(tracking)


def snapshot_matrix(frame):
    from regua.models.train import feature_matrix

    return feature_matrix(frame)


def test_train_writes_each_models_validation_pack_and_logs_it_to_the_run(
    trained, tracking, tmp_path
):
    from regua.cli import _validation_packs
    from regua.settings import Settings

    settings = Settings(data_dir=tmp_path, mlflow_tracking_uri=tracking)
    (tmp_path / "reports").mkdir()
    _validation_packs(trained, settings)
    client = MlflowClient(tracking_uri=tracking)
    for item in trained:
        name = f"validation-{item.decision.model_name}-v{item.decision.version}.html"
        page = (tmp_path / "reports" / name).read_text(encoding="utf-8")
        assert f"Validation pack: {item.decision.model_name} v{item.decision.version}" in page
        assert name in {a.path for a in client.list_artifacts(item.run_id)}


def test_too_few_bads_stop_training_with_the_rule_named(store):
    from regua.models.train import TooFewOutcomesError, train

    spec = TrainingSpec(
        kind="delinquency", snapshots=9, labels=LabelsConfig(min_bad_outcomes=1_000_000)
    )
    with pytest.raises(TooFewOutcomesError, match=r"fewer than min_bad_outcomes 1000000"):
        train(tables(store), spec)


@pytest.mark.slow
def test_the_recalibrate_command_registers_a_version_awaiting_approval(
    store, trained, tracking, tmp_path
):
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    copy = tmp_path / "mlflow.db"
    shutil.copy(tracking.removeprefix("sqlite:///"), copy)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("REGUA_", "MLFLOW_"))}
    environ |= {
        "MLFLOW_TRACKING_URI": f"sqlite:///{copy}",
        "REGUA_DATA_DIR": str(tmp_path),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    command = [sys.executable, "-m", "regua", "models", "recalibrate", "delinquency"]
    done = subprocess.run(
        [*command, "--store", str(store / "store")],
        env=environ, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "(recalibrated, run " in done.stdout and "sigmoid on " in done.stdout
    champion = MlflowClient(tracking_uri=f"sqlite:///{copy}").get_model_version_by_alias(
        "delinquency", CHAMPION
    )
    assert str(champion.version) == trained[0].decision.version  # waits for `models promote`
