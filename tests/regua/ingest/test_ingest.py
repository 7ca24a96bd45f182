"""Ingestion end to end on files written by the tests: rejects, batch errors, idempotence."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from regua.cli import app
from regua.ingest import IngestError, ingest_exports
from regua.settings import Settings
from regua.store import Store
from tests.conftest import VALID_CPF, write_exports

SETTINGS = Settings(document_key="ingest-test-key-not-a-secret-0123456789", max_reject_share=0.5)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its content hash."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def ingest(raw: Path, store: Path, **settings: object):
    return ingest_exports(
        raw, store, settings=SETTINGS.model_copy(update=settings), build_docs=False
    )


def test_valid_portfolio_is_stored_typed_and_counted(tmp_path, valid_exports):
    raw = write_exports(tmp_path / "raw", valid_exports)
    report = ingest_exports(raw, tmp_path / "store", settings=SETTINGS)
    store = Store(tmp_path / "store")

    assert report.totals()["invoices"] == {"read": 4, "stored": 4, "rejected": 0}
    assert store.row_counts() == {
        "customers": 3,
        "invoices": 4,
        "payments": 3,
        "contacts": 2,
        "macro": 3,
    }
    invoices = store.read("invoices")
    assert invoices.schema["amount"] == pl.Float64
    assert invoices.schema["due_at"] == pl.Date
    assert invoices.filter(pl.col("invoice_id") == "I3")["installments_total"].item() == 6
    customers = store.read("customers")
    assert "document" not in customers.columns
    assert customers["document_hash"].str.len_chars().to_list() == [64, 64, 64]
    assert customers.filter(pl.col("customer_id") == "C3")["do_not_contact"].item() is True
    # missing optional columns take their defaults
    assert customers["collateral_type"].unique().to_list() == ["none"]
    contacts = store.read("contacts")
    assert contacts["contact_id"].to_list() == [
        "C1|I2|2026-09-11 10:00:00.000000|sms|sms_d1",
        "C1|I2|2026-09-13 15:30:00.000000|phone|call_d3",
    ]
    manifest = store.manifest()
    assert manifest["tables"]["payments"] == {"read": 3, "stored": 3, "rejected": 0}
    assert (store.version_dir / "data_docs" / "index.html").exists()


def test_pt_br_latin1_export_reads_like_the_iso_one(tmp_path, valid_exports):
    ingest(write_exports(tmp_path / "en", valid_exports), tmp_path / "s1")
    report = ingest(write_exports(tmp_path / "br", valid_exports, locale="pt_BR"), tmp_path / "s2")

    assert "latin-1, sep ';', decimal ','" in {f.dialect for f in report.files}
    for name in ("customers", "invoices", "payments", "contacts", "macro"):
        a, b = Store(tmp_path / "s1").read(name), Store(tmp_path / "s2").read(name)
        assert a.equals(b), name
    assert "Niterói" in Store(tmp_path / "s2").read("customers")["city"].to_list()


def test_parquet_exports_are_read_with_their_types(tmp_path, valid_exports):
    raw = tmp_path / "raw"
    raw.mkdir()
    ingest(write_exports(tmp_path / "csv", valid_exports), tmp_path / "reference")
    reference = Store(tmp_path / "reference")
    for name in ("invoices", "payments"):
        reference.read(name).write_parquet(raw / f"{name}.parquet")
    valid_exports["customers"].write_parquet(raw / "customers.parquet")
    ingest(raw, tmp_path / "store")
    assert Store(tmp_path / "store").read("invoices").equals(reference.read("invoices"))


def test_no_document_in_clear_anywhere_in_the_store(tmp_path, valid_exports):
    valid_exports["customers"] = valid_exports["customers"].with_columns(
        pl.when(pl.col("customer_id") == "C2")
        .then(pl.lit("123.456.789-00"))  # invalid check digits: rejected, still hashed
        .otherwise(pl.col("document"))
        .alias("document")
    )
    raw = write_exports(tmp_path / "raw", valid_exports)
    ingest_exports(raw, tmp_path / "store", settings=SETTINGS)
    digits = {VALID_CPF.replace(".", "").replace("-", ""), VALID_CPF, "12345678900"}
    for path in (tmp_path / "store").rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for document in digits:
                assert document.encode() not in content, f"{document} found in {path}"
    assert Store(tmp_path / "store").rejects("customers")["rule"].to_list() == [
        "document_check_digits"
    ]


REJECT_CASES = [
    # (table, column, bad value, row index, expected rule)
    ("invoices", "amount", "12,3x", 0, "type"),
    ("invoices", "due_at", "31/02/2026", 1, "type"),
    ("invoices", "customer_id", "", 0, "not_null"),
    ("customers", "kind", "XX", 0, "allowed_values"),
    ("customers", "state", "ZZ", 1, "allowed_values"),
    ("payments", "method", "cheque", 0, "allowed_values"),
    ("invoices", "amount", "-10", 2, "range"),
    ("customers", "bureau_score", "1200", 0, "range"),
    ("customers", "opened_at", "1850-01-01", 0, "date_range"),
    ("customers", "document", "529.982.247-26", 0, "document_check_digits"),
    ("customers", "kind", "PJ", 0, "document_check_digits"),  # a CPF on a company
    ("invoices", "customer_id", "C404", 1, "reference"),
    ("payments", "invoice_id", "I404", 1, "reference"),
    ("payments", "customer_id", "C2", 0, "reference_consistency"),
    ("invoices", "due_at", "2026-07-01", 0, "date_order"),
    ("payments", "paid_at", "2026-07-01", 0, "date_order"),
    ("contacts", "promise_date", "2026-09-01", 1, "date_order"),
    ("contacts", "promise_date", "2026-09-12", 1, "date_order"),  # the day before the call
    ("contacts", "channel", "pigeon", 0, "allowed_values"),
    ("macro", "value", "n/a", 0, "type"),
]


@pytest.mark.parametrize(("name", "column", "value", "row", "rule"), REJECT_CASES)
def test_each_reject_rule_rejects_the_row_with_its_file_and_line(
    tmp_path, valid_exports, name, column, value, row, rule
):
    frame = valid_exports[name]
    valid_exports[name] = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(value))
        .otherwise(pl.col(column))
        .alias(column)
    )
    raw = write_exports(tmp_path / "raw", valid_exports)
    report = ingest(raw, tmp_path / "store", max_reject_share=1.0)
    rejects = Store(tmp_path / "store").rejects(name)

    assert rejects.height >= 1
    first = rejects.row(0, named=True)
    assert first["source_file"] == f"{name}.csv"
    assert first["source_line"] == row + 2
    assert first["rule"] == rule
    assert first["message"]
    totals = report.totals()[name]
    assert totals["read"] == totals["stored"] + totals["rejected"] == frame.height


def test_duplicate_keys_in_one_file_are_all_rejected(tmp_path, valid_exports):
    invoices = valid_exports["invoices"]
    valid_exports["invoices"] = pl.concat([invoices, invoices.head(1)])
    valid_exports["payments"] = valid_exports["payments"].filter(pl.col("invoice_id") != "I1")
    raw = write_exports(tmp_path / "raw", valid_exports)
    ingest(raw, tmp_path / "store")
    rejects = Store(tmp_path / "store").rejects("invoices")
    assert rejects.select("source_line", "rule").rows() == [(2, "unique_key"), (6, "unique_key")]
    assert "I1" not in Store(tmp_path / "store").read("invoices")["invoice_id"].to_list()


def test_a_rejected_invoice_takes_its_payments_with_it(tmp_path, valid_exports):
    valid_exports["invoices"] = valid_exports["invoices"].with_columns(
        pl.when(pl.col("invoice_id") == "I1").then(pl.lit("-1")).otherwise("amount").alias("amount")
    )
    ingest(write_exports(tmp_path / "raw", valid_exports), tmp_path / "store")
    store = Store(tmp_path / "store")
    assert store.rejects("payments").select("source_line", "rule", "column").rows() == [
        (2, "reference", "invoice_id")
    ]


def test_rejected_row_keeps_every_reason_and_its_raw_values(tmp_path, valid_exports):
    valid_exports["invoices"] = valid_exports["invoices"].with_columns(
        pl.when(pl.col("invoice_id") == "I2")
        .then(pl.lit("dez reais"))
        .otherwise("amount")
        .alias("amount"),
        pl.when(pl.col("invoice_id") == "I2")
        .then(pl.lit("talvez"))
        .otherwise(pl.lit("false"))
        .alias("disputed"),
    )
    valid_exports["payments"] = valid_exports["payments"].filter(pl.col("invoice_id") != "I2")
    ingest(write_exports(tmp_path / "raw", valid_exports), tmp_path / "store", max_reject_share=1)
    reject = Store(tmp_path / "store").rejects("invoices").row(0, named=True)
    assert reject["rule"] == "type"
    assert set(reject["reasons"]) >= {"type:amount", "type:disputed", "not_null:amount"}
    assert json.loads(reject["record"])["amount"] == "dez reais"


# -- batch-level failures: one clear error, store exactly as it was ----------------------------


@pytest.fixture
def existing_store(tmp_path, valid_exports) -> Path:
    store = tmp_path / "store"
    ingest(write_exports(tmp_path / "day1", valid_exports), store)
    return store


def _expect_batch_error(raw: Path, store: Path, rule: str, **settings) -> IngestError:
    before = snapshot(store)
    with pytest.raises(IngestError) as info:
        ingest(raw, store, **settings)
    assert info.value.rule == rule
    assert snapshot(store) == before
    return info.value


def test_missing_required_column_stops_naming_file_and_column(
    tmp_path, valid_exports, existing_store
):
    raw = write_exports(
        tmp_path / "raw", {"invoices": valid_exports["invoices"].drop("due_at")}, suffix="_day2"
    )
    error = _expect_batch_error(raw, existing_store, "required_column")
    assert error.file.endswith("invoices_day2.csv")
    assert error.column == "due_at"
    assert "invoices_day2.csv" in str(error) and "'due_at'" in str(error)


def test_empty_file_stops(tmp_path, existing_store):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "payments.csv").write_text("")
    error = _expect_batch_error(raw, existing_store, "empty_file")
    assert error.file.endswith("payments.csv")


def test_header_only_file_stops(tmp_path, existing_store):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "payments.csv").write_text("payment_id,invoice_id,customer_id,paid_at,amount,method\n")
    _expect_batch_error(raw, existing_store, "empty_file")


def test_unreadable_csv_stops(tmp_path, existing_store):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "invoices.csv").write_text(
        "invoice_id,customer_id,issued_at,due_at,amount,product\n"
        'I9,C1,2026-09-01,2026-09-10,"10,credit_card\n'
    )
    _expect_batch_error(raw, existing_store, "unreadable_file")


def test_unreadable_parquet_stops(tmp_path, existing_store):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "invoices.parquet").write_bytes(b"PAR1 this is not parquet")
    _expect_batch_error(raw, existing_store, "unreadable_file")


def test_too_many_rejects_stops_and_names_the_dominant_rule(
    tmp_path, valid_exports, existing_store
):
    bad = valid_exports["payments"].with_columns(pl.lit("cheque").alias("method"))
    raw = write_exports(tmp_path / "raw", {"payments": bad})
    error = _expect_batch_error(raw, existing_store, "max_reject_share", max_reject_share=0.2)
    assert error.column == "method"
    assert "allowed_values" in str(error) and "3 of 3" in str(error)


def test_an_error_in_a_later_file_leaves_earlier_tables_unapplied(
    tmp_path, valid_exports, existing_store
):
    changed = valid_exports["customers"].with_columns(pl.lit("9999").alias("credit_limit"))
    raw = write_exports(tmp_path / "raw", {"customers": changed})
    (raw / "payments.csv").write_text("")
    _expect_batch_error(raw, existing_store, "empty_file")
    assert Store(existing_store).read("customers")["credit_limit"].to_list() != [9999.0] * 3


def test_empty_day_and_missing_folder_stop(tmp_path, existing_store):
    (tmp_path / "empty").mkdir()
    _expect_batch_error(tmp_path / "empty", existing_store, "empty_day")
    _expect_batch_error(tmp_path / "nowhere", existing_store, "raw_folder")


# -- re-runs and new days -----------------------------------------------------------------------


def test_reingesting_the_same_files_changes_nothing(tmp_path, valid_exports, existing_store):
    before = snapshot(existing_store)
    report = ingest(tmp_path / "day1", existing_store)
    assert report.changed is False
    assert snapshot(existing_store) == before
    assert {f.unchanged for f in report.files if f.table == "invoices"} == {4}


def test_new_day_adds_rows_and_corrections_replace_by_key(tmp_path, existing_store):
    day2 = {
        "invoices": pl.DataFrame(
            {
                "invoice_id": ["I2", "I5"],
                "customer_id": ["C1", "C2"],
                "issued_at": ["2026-09-01", "2026-10-03"],
                "due_at": ["2026-09-10", "2026-10-15"],
                "amount": ["89.90", "300"],  # I2 corrected, I5 new
                "product": ["credit_card", "personal_loan"],
            }
        ),
        "payments": pl.DataFrame(
            {
                "payment_id": ["P4"],
                "invoice_id": ["I5"],
                "customer_id": ["C2"],
                "paid_at": ["2026-10-14"],
                "amount": ["300"],
                "method": ["pix"],
            }
        ),
    }
    report = ingest(write_exports(tmp_path / "day2", day2), existing_store)
    store = Store(existing_store)
    invoices = store.read("invoices")

    assert invoices["invoice_id"].to_list() == ["I1", "I2", "I3", "I4", "I5"]
    assert invoices.filter(pl.col("invoice_id") == "I2")["amount"].item() == 89.90
    file = next(f for f in report.files if f.table == "invoices")
    assert (file.new, file.replaced, file.unchanged) == (1, 1, 0)
    assert store.read("payments").height == 4
    assert store.read("customers").height == 3  # untouched table carried over
    again = ingest(tmp_path / "day2", existing_store)
    assert again.changed is False


def test_cli_ingest_prints_counts_and_fails_with_exit_code_2(tmp_path, valid_exports, monkeypatch):
    monkeypatch.setenv("REGUA_DOCUMENT_KEY", "cli-test-key-not-a-secret-0123456789")
    raw = write_exports(tmp_path / "raw", valid_exports)
    runner = CliRunner()
    ok = runner.invoke(app, ["ingest", "--raw", str(raw), "--store", str(tmp_path / "store")])
    assert ok.exit_code == 0, ok.output
    assert "invoices" in ok.output and "data docs:" in ok.output
    (raw / "payments.csv").write_text("")
    bad = runner.invoke(app, ["ingest", "--raw", str(raw), "--store", str(tmp_path / "store")])
    assert bad.exit_code == 2
    assert "payments.csv" in bad.output and "empty_file" in bad.output


def test_a_promise_for_the_day_of_the_call_is_in_order(tmp_path, valid_exports):
    valid_exports["contacts"] = valid_exports["contacts"].with_columns(
        pl.when(pl.col("channel") == "phone")
        .then(pl.lit("2026-09-13"))
        .otherwise("promise_date")
        .alias("promise_date")
    )
    report = ingest(write_exports(tmp_path / "raw", valid_exports), tmp_path / "store")
    assert report.totals()["contacts"] == {"read": 2, "stored": 2, "rejected": 0}
