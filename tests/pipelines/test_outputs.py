"""The day's outputs end to end: the nightly flow scores a store with the champions, the
files land atomically with their data dictionary, re-runs replace rather than duplicate,
in files and in SQL."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest
import sqlalchemy as sa

from regua.dunning.actions import Decisions
from regua.dunning.outputs import OUTPUT_TABLES, data_dictionary
from regua.pipelines.nightly import nightly_flow
from regua.pipelines.outputs import write_outputs

AS_OF = date(2026, 10, 30)


def run_day(store, out, tracking, db):
    """The nightly flow on what the store holds at AS_OF: its outputs (folder, manifest)."""
    night = nightly_flow(
        as_of=AS_OF, store=store / "store", out=out, tracking_uri=tracking, db_url=db
    )
    return night.outputs


@pytest.fixture(scope="module")
def day(store, trained, tracking, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    db = f"sqlite:///{out}/regua.db"
    return out, db, run_day(store, out, tracking, db)


def test_every_case_and_invoice_gets_one_action_and_every_customer_one_segment(day):
    out, _, _ = day
    actions = pl.read_parquet(out / AS_OF.isoformat() / "actions.parquet")
    segments = pl.read_parquet(out / AS_OF.isoformat() / "segments.parquet")
    limits = pl.read_parquet(out / AS_OF.isoformat() / "limits.parquet")
    bureau_or_agency = pl.col("purpose").is_in(["negative_listing", "delisting", "agency_recall"])
    cases = actions.filter(pl.col("case_id").is_not_null() & ~bureau_or_agency)
    reminders = actions.filter(pl.col("case_id").is_null() & ~bureau_or_agency)
    assert cases.height > 0 and cases["case_id"].is_unique().all()
    assert cases["customer_id"].is_unique().all()  # one case per customer
    assert reminders["invoice_id"].is_unique().all()
    # a case covers its invoices; an invoice is never in two rows of the ladder
    covered = pl.concat([cases["invoice_ids"].explode(), reminders["invoice_id"]]).drop_nulls()
    assert covered.is_unique().all()
    assert segments["customer_id"].is_unique().all()
    assert limits.height == segments.height
    assert set(actions["status"].unique()) <= {"scheduled", "skipped", "waiting"}
    scheduled = actions.filter(pl.col("status") == "scheduled")
    assert scheduled.height > 0
    assert scheduled["scheduled_for"].dt.date().min() > AS_OF  # from the next day on
    assert (scheduled["valid_until"] >= scheduled["scheduled_for"].dt.date()).all()
    assert scheduled["action_id"].is_unique().all()
    assert scheduled["scheduled_for"].dt.weekday().max() <= 6  # never on a Sunday
    assert scheduled["scheduled_tz"].str.starts_with("America/").all()
    waiting = actions.filter(pl.col("status") == "waiting")
    assert waiting["scheduled_for"].null_count() == waiting.height
    assert actions["pd"].is_between(0, 1).all()
    skipped = actions.filter(pl.col("status") == "skipped")
    assert skipped["guardrail"].is_not_null().all()
    offers = actions.filter(pl.col("purpose") == "negotiation_offer")
    assert offers.height > 0
    assert offers["discount_pct"].is_between(0, 90).all()
    assert (offers["max_installments"] >= 1).all()
    others = actions.filter(pl.col("purpose") != "negotiation_offer")
    assert others["discount_pct"].null_count() == others.height
    assert scheduled["top_reasons"].list.len().min() >= 1
    assert scheduled["top_reasons"].list.len().max() <= 4
    # reasons from both models: what lowers the propensity to pay, where something is overdue
    paying = scheduled.filter(pl.col("propensity").is_not_null())
    assert paying["payment_reasons"].list.len().max() <= 4
    assert paying["payment_reasons"].list.len().sum() > 0
    assert scheduled.filter(pl.col("propensity").is_null())["payment_reasons"].null_count() == (
        scheduled["propensity"].null_count()
    )
    texts = paying["payment_reasons"].explode().drop_nulls()
    assert texts.str.contains("chance de pagamento").all()
    # the 2% late fine of CDC art. 52 §1 is never exceeded (each invoice's fine is rounded
    # to the centavo, so a case's sum may be half a centavo per invoice above 2%)
    cap = 0.02 * cases["total_due"] + 0.005 * cases["invoice_count"]
    assert (cases["late_fee"] <= cap + 1e-9).all()


def test_the_manifest_names_models_configs_and_checksums(day):
    out, _, first = day
    manifest = json.loads((out / AS_OF.isoformat() / "manifest.json").read_text())
    assert manifest == first.manifest
    assert set(manifest["models"]) == {"delinquency", "propensity_to_pay"}
    assert set(manifest["config_sha256"]) == {
        "cases.yaml",
        "charges.yaml",
        "drift.yaml",
        "gate.yaml",
        "guardrails.yaml",
        "ingest.yaml",
        "labels.yaml",
        "ladders.yaml",
        "ledger.yaml",
        "limits.yaml",
        "segments.yaml",
    }
    assert manifest["rows"]["actions.parquet"] == manifest["rows"]["actions.csv"]
    assert len(manifest["sha256"]["actions.parquet"]) == 64
    assert manifest["columns"] == data_dictionary()


def test_every_output_has_exactly_the_declared_columns_and_types(day):
    out, _, _ = day
    for table in OUTPUT_TABLES:
        written = pl.read_parquet_schema(out / AS_OF.isoformat() / f"{table.name}.parquet")
        assert list(written.items()) == [(c.name, c.dtype) for c in table.columns], table.name
    csv = pl.read_csv(out / AS_OF.isoformat() / "actions.csv", n_rows=1)
    assert csv.columns == [c.name for c in OUTPUT_TABLES[0].columns]


def test_a_rerun_replaces_the_day_in_files_and_in_sql(day, store, tracking):
    out, db, first = day
    before = pl.read_parquet(out / AS_OF.isoformat() / "segments.parquet")
    again = run_day(store, out, tracking, db)
    assert again.manifest["models"] == first.manifest["models"]
    after = pl.read_parquet(out / AS_OF.isoformat() / "segments.parquet")
    for column in before.columns:
        assert before[column].equals(after[column]), (column, before.schema, after.schema)
    assert before.schema == after.schema
    assert again.manifest["sha256"] == first.manifest["sha256"]
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
    engine = sa.create_engine(db)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT COUNT(*) FROM regua_actions")).scalar()
        segments = connection.execute(sa.text("SELECT COUNT(*) FROM regua_segments")).scalar()
    engine.dispose()
    assert stored == first.manifest["rows"]["actions.parquet"]
    assert segments == first.manifest["rows"]["segments.parquet"]


def test_duckdb_gets_the_same_rows_and_a_rerun_replaces_them(day, tmp_path):
    out, _, first = day
    folder = out / AS_OF.isoformat()
    decisions = Decisions(
        actions=pl.read_parquet(folder / "actions.parquet"),
        segments=pl.read_parquet(folder / "segments.parquet"),
        limits=pl.read_parquet(folder / "limits.parquet"),
    )
    db = f"duckdb:///{tmp_path}/regua.duckdb"
    write_outputs(decisions, tmp_path / "out", AS_OF, {}, db)
    write_outputs(decisions, tmp_path / "out", AS_OF, {}, db)
    engine = sa.create_engine(db)
    with engine.connect() as connection:
        counts = {
            name: connection.execute(
                sa.text(f"SELECT COUNT(*), COUNT(DISTINCT as_of) FROM regua_{name}")
            ).one()
            for name in ("actions", "segments", "limits")
        }
        reasons = connection.execute(
            sa.text("SELECT top_reasons FROM regua_actions WHERE top_reasons <> '' LIMIT 1")
        ).scalar()
    engine.dispose()
    for name, (rows, days) in counts.items():
        assert rows == first.manifest["rows"][f"{name}.parquet"], name
        assert days == 1
    assert isinstance(reasons, str) and len(reasons) > 3


def test_the_cli_exits_2_naming_the_missing_champion(store, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from regua.cli import app

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/none.db")
    from regua.settings import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app,
            ["score", "--store", str(store / "store"), "--as-of", "2026-10-30",
             "--out", str(tmp_path / "out")],
        )  # fmt: skip
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "no champion for model 'delinquency'" in result.output
