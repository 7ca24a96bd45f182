"""Mapping profiles: a company's own export (names, words, dialect) reaches the contract."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from regua.cli import app
from regua.config.guardrails import load_guardrails
from regua.config.profile import ConfigError, MappingProfile, load_profile
from regua.contract import INVOICES, PAYMENTS, TABLES
from regua.dunning.day import day_inputs
from regua.dunning.guardrails import apply_guardrails
from regua.ingest import ingest_exports
from regua.ingest.profile import apply_profile
from regua.ingest.read import SOURCE_LINE
from regua.models.gbm import MonotoneGBMClassifier
from regua.models.scoring import score
from regua.models.train import feature_matrix
from regua.settings import Settings
from regua.store import Store

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "data" / "samples"
PROFILES = REPO / "profiles"
SETTINGS = Settings(document_key="profile-test-key-not-a-secret-0123456789", max_reject_share=0.5)


def copy_sample(name: str, tmp_path: Path) -> Path:
    """The shipped sample export `name`, copied so a test can change it."""
    return Path(shutil.copytree(SAMPLES / name, tmp_path / name))


def replace_in(path: Path, old: str, new: str, encoding: str) -> None:
    """Replace the first `old` by `new` in the file's bytes (its encoding and line ends kept)."""
    data = path.read_bytes()
    assert old.encode(encoding) in data
    path.write_bytes(data.replace(old.encode(encoding), new.encode(encoding), 1))


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("erp_br", {"customers": 15, "invoices": 39, "payments": 28}),
        ("card_statement", {"customers": 12, "invoices": 36, "payments": 21, "contacts": 10}),
    ],
)
def test_each_shipped_profile_ingests_its_sample_with_zero_rejects(tmp_path, name, read):
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            "--raw", str(SAMPLES / name),
            "--store", str(tmp_path / "store"),
            "--profile", str(PROFILES / f"{name}.yaml"),
            "--no-docs",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    store = Store(tmp_path / "store")
    assert store.row_counts() == read
    assert all(store.rejects(table).height == 0 for table in read)


def test_the_erp_profile_maps_names_words_and_the_brazilian_dialect(tmp_path):
    ingest_exports(
        SAMPLES / "erp_br", tmp_path, settings=SETTINGS, profile=load_profile("erp_br"),
        build_docs=False,
    )  # fmt: skip
    store = Store(tmp_path)
    invoice = store.read("invoices").filter(pl.col("invoice_id") == "T000003").row(0, named=True)
    assert invoice["customer_id"] == "00002"
    assert (invoice["issued_at"], invoice["due_at"]) == (date(2026, 6, 4), date(2026, 6, 14))
    assert invoice["amount"] == 1538.65  # "1.538,65"
    assert (invoice["product"], invoice["product_family"]) == ("CONSÓRCIO AUTO", "other")
    families = dict(store.read("invoices").select("product", "product_family").unique().iter_rows())
    assert families["CREDIÁRIO LOJA"] == "retail_installment"
    assert families["CAPITAL DE GIRO"] == "working_capital"
    methods = dict(store.read("payments").select("payment_id", "method").iter_rows())
    assert (methods["PG000001"], methods["PG000003"]) == ("boleto", "agreement")
    customers = store.read("customers")
    first = customers.filter(pl.col("customer_id") == "00002").row(0, named=True)
    assert (first["city"], first["opened_at"], first["credit_limit"]) == (
        "Niterói",
        date(2020, 2, 27),
        1500.0,
    )
    no_document = customers.filter(pl.col("document_hash").is_null())["customer_id"].to_list()
    assert no_document == ["00004", "00011"]


def test_the_card_profile_reads_us_dates_and_english_numbers(tmp_path):
    ingest_exports(
        SAMPLES / "card_statement", tmp_path, settings=SETTINGS,
        profile=load_profile(PROFILES / "card_statement.yaml"), build_docs=False,
    )  # fmt: skip
    store = Store(tmp_path)
    statement = store.read("invoices").filter(pl.col("invoice_id") == "ST000002").row(0, named=True)
    assert (statement["issued_at"], statement["amount"]) == (date(2026, 7, 5), 1990.99)
    assert statement["product_family"] == "credit_card"
    account = store.read("customers").filter(pl.col("customer_id") == "ACC0001").row(0, named=True)
    assert (account["kind"], account["opened_at"], account["credit_limit"]) == (
        "PF",
        date(2021, 12, 2),
        7500.0,
    )
    contact = store.read("contacts").filter(pl.col("invoice_id") == "ST000002").row(0, named=True)
    assert (contact["at"], contact["channel"], contact["outcome"]) == (
        datetime(2026, 7, 18, 17, 30),
        "whatsapp",
        "read",
    )


def test_an_unmapped_value_is_a_rejected_row_naming_the_value_and_the_profile_key(tmp_path):
    raw = copy_sample("erp_br", tmp_path)
    replace_in(raw / "payments.csv", ";PIX\r\n", ";CHEQUE\r\n", "latin-1")
    replace_in(raw / "invoices.csv", "CONSÓRCIO AUTO", "LEASING", "latin-1")
    report = ingest_exports(
        raw, tmp_path / "store", settings=SETTINGS, profile=load_profile("erp_br"),
        build_docs=False,
    )  # fmt: skip
    store = Store(tmp_path / "store")
    rejects = store.rejects("payments")
    assert rejects.select("source_line", "rule").rows() == [
        (2, "reference"),  # the payment of the rejected invoice T000001
        (5, "unmapped_value"),
    ]
    payment = rejects.row(1, named=True)
    assert payment["column"] == "method"
    assert "'CHEQUE'" in payment["message"]
    assert "profile key payment_methods" in payment["message"]
    assert json.loads(payment["record"])["method"] == "CHEQUE"  # as the company sent it
    invoice = store.rejects("invoices").row(0, named=True)
    assert (invoice["rule"], invoice["column"], invoice["source_line"]) == (
        "unmapped_value",
        "product",
        2,
    )
    assert "'LEASING'" in invoice["message"] and "profile key products" in invoice["message"]
    assert report.totals()["payments"]["rejected"] >= 1
    for counts in report.totals().values():
        assert counts["read"] == counts["stored"] + counts["rejected"]


def test_a_date_not_in_the_profiles_format_is_rejected_with_the_format_key(tmp_path):
    raw = copy_sample("card_statement", tmp_path)
    replace_in(
        raw / "invoices.csv", "ST000036,ACC0012,08/04/2026", "ST000036,ACC0012,2026-08-04", "utf-8"
    )
    ingest_exports(
        raw, tmp_path / "store", settings=SETTINGS, profile=load_profile("card_statement"),
        build_docs=False,
    )  # fmt: skip
    reject = Store(tmp_path / "store").rejects("invoices").row(0, named=True)
    assert (reject["rule"], reject["column"]) == ("date_format", "issued_at")
    assert "'2026-08-04'" in reject["message"] and "dialect.date_format" in reject["message"]


def test_thousands_marks_go_only_where_they_group_digits():
    profile = MappingProfile.model_validate(
        {"dialect": {"separator": ";", "decimal": ",", "thousands": "."}}
    )
    raw = pl.DataFrame(
        {
            SOURCE_LINE: [2, 3, 4, 5],
            "payment_id": ["P1", "P2", "P3", "P4"],
            "invoice_id": ["I1"] * 4,
            "customer_id": ["C1"] * 4,
            "paid_at": ["2026-09-01"] * 4,
            "amount": ["1.234,56", "R$ 12.345.678,90", "1234.56", "1.2345,6"],
            "method": ["pix"] * 4,
        }
    )
    mapped, problems = apply_profile(raw, PAYMENTS, profile)
    # A mark that does not group by three is left for coercion to judge, never removed.
    assert mapped["amount"].to_list() == ["1234,56", "R$ 12345678,90", "1234.56", "1.2345,6"]
    assert problems.is_empty()


def test_without_a_profile_known_families_are_kept_and_other_products_are_other():
    raw = pl.DataFrame(
        {
            SOURCE_LINE: [2, 3, 4],
            "invoice_id": ["I1", "I2", "I3"],
            "product": ["credit_card", "Personal_Loan", "seguro"],
        }
    )
    mapped, _ = apply_profile(raw, INVOICES)
    assert mapped["product_family"].to_list() == ["credit_card", "personal_loan", "other"]
    assert mapped["product"].to_list() == ["credit_card", "Personal_Loan", "seguro"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colunas: {}\n", "colunas"),
        ("tables:\n  boletos:\n    columns: {a: b}\n", "tables"),
        ("tables:\n  invoices:\n    columns: {vl_titulo: valor}\n", "tables"),
        ("payment_methods:\n  PIX: instant\n", "payment_methods"),
        ("dialect:\n  date_format: '%d/%m'\n", "dialect.date_format"),
        ("dialect:\n  decimal: ','\n  thousands: ','\n", "dialect"),
    ],
)
def test_a_bad_profile_names_file_and_key(tmp_path, text, key):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}: {key}"):
        load_profile(path)


def test_a_bad_profile_on_the_command_line_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("payment_methods:\n  PIX: instant\n", encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable, "-m", "regua", "ingest",
            "--raw", str(SAMPLES / "erp_br"), "--store", str(tmp_path / "store"),
            "--profile", str(path), "--no-docs",
        ],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {path}: payment_methods: ")
    assert "'instant'" in lines[0]
    assert not (tmp_path / "store").exists()


def test_an_unknown_shipped_profile_name_lists_the_shipped_ones(tmp_path):
    with pytest.raises(ConfigError, match=r"no such profile file \(shipped profiles: "):
        load_profile("sap_b1")


def test_a_customer_without_document_is_scored_and_contacted_but_never_listed(tmp_path):
    ingest_exports(
        SAMPLES / "erp_br", tmp_path, settings=SETTINGS, profile=load_profile("erp_br"),
        build_docs=False,
    )  # fmt: skip
    store = Store(tmp_path)
    tables = {name: store.read(name) for name in TABLES}
    features, _ = day_inputs(tables, date(2026, 8, 22))
    assert "00004" in features["customer_id"].to_list()
    matrix = feature_matrix(features)
    labels = np.arange(features.height) % 2  # any two classes: the point is the scoring
    model = MonotoneGBMClassifier(n_estimators=5, min_child_samples=2, random_state=1).fit(
        matrix, labels
    )
    scores = score(features, model)
    pd_of = dict(scores.select("customer_id", "pd").iter_rows())
    assert pd_of["00004"] is not None and 0.0 <= pd_of["00004"] <= 1.0

    names = ["customer_id", "invoice_id", "step_id", "channel", "purpose", "scheduled_for"]
    actions = pl.DataFrame(
        [
            ("00004", "T000010", "std_sms_d0", "sms", "reminder", datetime(2026, 9, 1, 10)),
            ("00004", "T000010", "std_listing_d55", None, "negative_listing",
             datetime(2026, 10, 20, 10)),
            ("00002", "T000004", "std_listing_d55", None, "negative_listing",
             datetime(2026, 10, 20, 10)),
        ],
        schema={n: pl.String for n in names[:-1]} | {"scheduled_for": pl.Datetime("us")},
        orient="row",
    )  # fmt: skip
    out = apply_guardrails(actions, tables["customers"], None, load_guardrails(), date(2026, 8, 22))
    assert out["status"].to_list() == ["scheduled", "skipped", "skipped"]
    assert out["reason"].to_list() == [
        None,
        "skipped:no_document",
        "skipped:no_written_notice",  # with a document, only the missing notice holds it
    ]
    assert out["reason_pt"][1] == "não enviado: negativação exige CPF/CNPJ do cliente"


def test_the_key_rotates_from_an_erp_export_read_with_its_profile(tmp_path):
    from regua.documents import key_fingerprint
    from regua.ingest.rotate import rotate_document_key

    profile = load_profile("erp_br")
    ingest_exports(SAMPLES / "erp_br", tmp_path, settings=SETTINGS, profile=profile,
                   build_docs=False)  # fmt: skip
    store = Store(tmp_path)
    old_key = SETTINGS.document_key.encode()
    new_key = b"profile-test-new-key-not-a-secret-9876543210"
    with_document = store.read("customers")["document_hash"].is_not_null().sum()
    assert with_document > 0
    rotation = rotate_document_key(
        SAMPLES / "erp_br", store, old_key=old_key, new_key=new_key, profile=profile
    )
    assert rotation.rehashed == with_document
    assert store.key_fingerprint == key_fingerprint(new_key)
    again = ingest_exports(
        SAMPLES / "erp_br", tmp_path, settings=SETTINGS.model_copy(update={"document_key":
        new_key.decode()}), profile=profile, build_docs=False,
    )  # fmt: skip
    assert again.changed is False
