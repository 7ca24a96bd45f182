"""The collection twin end to end on a small book (300 customers, 30 nights): policies run
night after night against the simulated customers, deterministic by seed, within the law,
never over-collecting, below the oracle, and collection worth more than none."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import mlflow
import polars as pl
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from regua.cli import app
from regua.config.twin import load_twin_parameters
from regua.pipelines.twin import (
    TwinSpec,
    book_for,
    customer_net,
    hashed_scores,
    log_twin,
    run_figures,
    run_policy,
    run_twin,
)
from regua.settings import get_settings

# one worker builds the module's run; the other runs the rest of the suite meanwhile
pytestmark = pytest.mark.xdist_group("twin")

NIGHTS = 30
POLICIES = ("none", "fixed", "regua", "oracle")


@pytest.fixture(scope="session")
def spec(tmp_path_factory) -> TwinSpec:
    folder = tmp_path_factory.mktemp("twin")
    return TwinSpec(
        customers=300,
        days=NIGHTS,
        policies=POLICIES,
        seeds=(1,),
        params_path=get_settings().config_dir / "twin.yaml",
        out=folder / "out",
        books=folder / "books",
        months=14,
        models="hashed",
        ingest=False,  # the exports' round trip through the ingest has its own test
    )


@pytest.fixture(scope="session")
def result(spec):
    return run_twin(spec)


def kpi(result, policy: str, name: str) -> float:
    row = result.kpis.filter((pl.col("policy") == policy) & (pl.col("kpi") == name))
    assert row.height == 1, (policy, name)
    return row["value"].item()


def test_the_run_writes_its_figures_and_states_its_parameters(spec, result):
    for name in ("kpis", "summary", "daily", "violations"):
        assert pl.read_parquet(spec.out / f"{name}.parquet").equals(getattr(result, name))
    manifest = json.loads((spec.out / "manifest.json").read_text())
    assert manifest["params"]["name"] == "default"
    assert manifest["policies"] == list(POLICIES)
    daily = result.daily.filter(pl.col("policy") == "regua")
    assert daily["day"].min() == spec.day0 + timedelta(days=1)
    assert daily.height == NIGHTS


def test_the_same_seed_gives_byte_identical_kpis(spec, result, tmp_path):
    book = book_for(spec, 1)  # found again, not simulated again
    params = load_twin_parameters(spec.params_path)
    again = run_policy(book, "regua", 1, params, hashed_scores(1), days=NIGHTS)
    kpis, _ = run_figures(book, again, params)
    first = result.kpis.filter(pl.col("policy") == "regua")
    first.write_parquet(tmp_path / "first.parquet")
    kpis.write_parquet(tmp_path / "again.parquet")
    assert (tmp_path / "first.parquet").read_bytes() == (tmp_path / "again.parquet").read_bytes()


def test_another_seed_gives_another_world(spec):
    book = book_for(spec, 1)
    params = load_twin_parameters(spec.params_path)
    one = run_policy(book, "fixed", 1, params, hashed_scores(1), days=6)
    two = run_policy(book, "fixed", 2, params, hashed_scores(1), days=6)
    assert not one.payments.equals(two.payments)


def test_no_executed_contact_breaks_a_guardrail(result):
    for policy in POLICIES:
        assert kpi(result, policy, "guardrail_violations") == 0, policy
    assert result.violations.height == 0, result.violations.group_by("policy", "rule").len()
    assert kpi(result, "none", "contacts") == 0
    assert kpi(result, "regua", "contacts") > 0 and kpi(result, "fixed", "contacts") > 0


def test_nobody_pays_more_than_was_billed_plus_fees(spec, result):
    book = book_for(spec, 1)
    invoices = book.tables_at(book.end)["invoices"].collect()
    before = book.past["payments"].group_by("invoice_id").agg(pl.col("amount").sum().alias("pre"))
    params = load_twin_parameters(spec.params_path)
    for policy in ("fixed", "regua", "oracle"):
        run = run_policy(book, policy, 1, params, hashed_scores(1), days=8)
        paid = (
            run.payments.group_by("invoice_id")
            .agg((pl.col("amount") + pl.col("discount_brl")).sum().alias("twin"))
            .join(invoices.select("invoice_id", "amount"), on="invoice_id", how="left")
            .join(before, on="invoice_id", how="left")
        )
        assert paid["amount"].null_count() == 0, policy  # only invoices that exist are paid
        # the twin's customers pay what is open, no late charges: never more than billed
        over = paid.filter(pl.col("twin") + pl.col("pre").fill_null(0) > pl.col("amount") + 0.01)
        assert over.height == 0, f"{policy}: {over.head(3).to_dicts()}"
    assert kpi(result, "regua", "collected_brl") <= invoices["amount"].sum()


def test_each_days_exports_go_through_the_ingest_and_change_nothing(spec, result):
    book = book_for(spec, 1)
    params = load_twin_parameters(spec.params_path)
    through = run_policy(book, "regua", 1, params, hashed_scores(1), days=5, ingest=True)
    in_memory = run_policy(book, "regua", 1, params, hashed_scores(1), days=5)
    assert through.contacts.height > 0 and through.payments.height > 0
    assert through.contacts.equals(in_memory.contacts)
    assert through.payments.equals(in_memory.payments)
    assert not (book.store.parent / "runs" / "regua-1").exists()  # the run's store is gone


def test_the_oracle_nets_at_least_every_other_policy(result):
    oracle = kpi(result, "oracle", "net_recovery_brl")
    for policy in ("none", "fixed", "regua"):
        assert oracle >= kpi(result, policy, "net_recovery_brl"), policy


def test_per_customer_net_adds_up_to_the_runs_net_recovery(spec, result):
    book = book_for(spec, 1)
    params = load_twin_parameters(spec.params_path)
    run = run_policy(book, "fixed", 1, params, hashed_scores(1), days=NIGHTS)
    figures, _ = run_figures(book, run, params)
    total = figures.filter(pl.col("kpi") == "net_recovery_brl")["value"][0]
    assert customer_net(book, run)["net"].sum() == pytest.approx(total, abs=0.05)
    assert total == pytest.approx(kpi(result, "fixed", "net_recovery_brl"), abs=0.05)


def test_collection_recovers_more_than_none_in_expectation(result):
    expected = {p: kpi(result, p, "expected_recovered_brl") for p in ("none", "fixed")}
    assert expected["none"] < expected["fixed"], expected


def test_actions_reach_customers_only_from_the_day_after_each_night(spec, result):
    book = book_for(spec, 1)
    params = load_twin_parameters(spec.params_path)
    run = run_policy(book, "regua", 1, params, hashed_scores(1), days=3)
    assert run.contacts["at"].dt.date().min() > book.day0
    assert run.open_book["day"].n_unique() == 4  # three nights and the end of the last day


def test_the_run_is_logged_to_mlflow(spec, result, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run_id = log_twin(spec.out, uri)
    mlflow.set_tracking_uri(uri)
    run = MlflowClient(uri).get_run(run_id)
    assert run.data.params["params_name"] == "default"
    assert run.data.metrics["regua.guardrail_violations"] == 0
    net = kpi(result, "oracle", "net_recovery_brl")
    assert run.data.metrics["oracle.net_recovery_brl"] == pytest.approx(net)
    experiment = MlflowClient(uri).get_experiment(run.info.experiment_id)
    assert experiment.name == "regua-twin"


def test_the_command_reuses_the_book_and_renders_the_report(spec, result, tmp_path):
    out = tmp_path / "cli"
    args = ["twin", "--customers", "300", "--days", str(NIGHTS), "--months", "14", "--seeds", "1"]
    args += ["--policy", "none", "--policy", "fixed", "--models", "hashed", "--no-mlflow"]
    args += ["--no-ingest"]
    outcome = CliRunner().invoke(app, [*args, "--books", str(spec.books), "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    page = (out / "report.html").read_text()
    assert json.loads((out / "manifest.json").read_text())["params"]["sha256"] in page
    assert not (out / "books").exists()  # the book was found in --books, not simulated again
    cli = pl.read_parquet(out / "kpis.parquet").filter(pl.col("policy") == "fixed")
    assert cli.equals(result.kpis.filter(pl.col("policy") == "fixed"))


def test_an_unknown_policy_is_one_line_and_exit_2(tmp_path):
    outcome = CliRunner().invoke(app, ["twin", "--policy", "smart", "--out", str(tmp_path)])
    assert outcome.exit_code == 2
    assert "--policy smart: not a policy" in outcome.output
    assert "Traceback" not in outcome.output
    assert not any(Path(tmp_path).iterdir())


def test_a_bad_strategy_or_parameter_file_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "twin.yaml").write_text("name: broken\n")
    cases = {
        "--strategy": (str(tmp_path / "nowhere"), "a strategy folder needs segments.yaml"),
        "--params": (str(tmp_path / "twin.yaml"), "charge_off_days: Field required"),
    }
    for option, (value, message) in cases.items():
        out = tmp_path / option.strip("-")
        outcome = CliRunner().invoke(app, ["twin", option, value, "--out", str(out)])
        assert outcome.exit_code == 2, outcome.output
        assert message in outcome.output and "Traceback" not in outcome.output
        assert not out.exists()
