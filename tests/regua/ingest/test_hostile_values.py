"""Values that used to crash the ingest or poison the store: rejected rows, never either.

Out-of-range dates, non-finite or implausible numbers, separators that do not fit the
file's dialect and payments far above their invoice each end in rejects/ with the rule
that caught them; the store keeps only finite numbers and in-range dates, and the
features (what `regua score` builds first) still build on it.
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from regua.cli import app
from regua.config import ConfigError
from regua.config.ingest import load_ingest
from regua.contract import TABLES, table
from regua.features.build import build
from regua.ingest import ingest_exports
from regua.settings import Settings, get_settings
from regua.store import Store
from tests.conftest import to_pt_br, write_exports

SETTINGS = Settings(document_key="test-key-hostile-values-0123456789abcdef", max_reject_share=1.0)


def ingest(raw: Path, store: Path, settings: Settings = SETTINGS):
    return ingest_exports(raw, store, settings=settings, build_docs=False)


def with_cell(frame: pl.DataFrame, column: str, row: int, value: str) -> pl.DataFrame:
    """`frame` with the text `value` in `column` (added if absent) at row index `row`."""
    current = pl.col(column) if column in frame.columns else pl.lit(None, pl.String)
    return frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row).then(pl.lit(value)).otherwise(current).alias(column)
    )


def assert_store_is_sound(store: Store) -> None:
    """Every stored number is finite and within its rule; every date within its range."""
    for name in TABLES:
        if not store.has(name):
            continue
        frame = store.read(name)
        for column in table(name).columns:
            values = frame[column.name].drop_nulls()
            if values.is_empty():
                continue
            if column.dtype.is_float():
                assert values.is_finite().all(), (name, column.name)
            if column.min_value is not None:
                assert values.min() >= column.min_value, (name, column.name)
            if column.max_value is not None:
                assert values.max() <= column.max_value, (name, column.name)
            if column.dtype.is_temporal():
                days = values.cast(pl.Date) if column.dtype != pl.Date() else values
                assert days.min() >= date.fromisoformat(column.min_date), (name, column.name)
                assert days.max() <= date.fromisoformat(column.max_date), (name, column.name)


def assert_rows_add_up(report) -> None:
    for name, totals in report.totals().items():
        assert totals["read"] == totals["stored"] + totals["rejected"], name


HOSTILE_CELLS = [
    # (table, column, hostile text, row index, expected rule)
    ("invoices", "due_at", "9999-12-31", 0, "date_range"),
    ("invoices", "due_at", "0001-01-01", 1, "date_range"),
    ("invoices", "issued_at", "07/01/26", 2, "date_range"),  # two-digit year: year 26
    ("invoices", "due_at", "06/10/202", 3, "date_range"),  # cut-off year: year 202
    ("invoices", "issued_at", "1990-05-02", 0, "date_range"),  # before the real (1994-07-01)
    ("payments", "paid_at", "01/01/0001", 0, "date_range"),
    ("contacts", "at", "9999-01-01 10:00:00", 0, "date_range"),
    ("contacts", "promise_date", "31/12/9999", 1, "date_range"),
    ("macro", "month", "0001-01-01", 0, "date_range"),
    ("customers", "opened_at", "9999-12-31", 0, "date_range"),
    ("customers", "birth_or_founding", "1492-10-12", 1, "date_range"),
    ("invoices", "amount", "inf", 0, "type"),
    ("invoices", "amount", "Infinity", 1, "type"),
    ("payments", "amount", "1E+400", 0, "type"),  # overflows to infinity
    ("payments", "amount", "-inf", 1, "type"),
    ("payments", "amount", "1e308", 2, "range"),  # finite, but no payment is that large
    ("invoices", "amount", "1000000001", 3, "range"),  # above R$ 1 billion
    ("customers", "credit_limit", "inf", 0, "type"),
    ("customers", "credit_limit", "1e12", 1, "range"),
    ("customers", "declared_income", "NaN", 0, "type"),
    ("customers", "declared_income", "nan", 1, "type"),
    ("customers", "bureau_score", "Infinity", 0, "type"),
    ("customers", "bureau_score", "1e308", 2, "type"),  # not an Int32
    ("contacts", "promise_amount", "Infinity", 1, "type"),
    ("macro", "value", "1e6", 1, "range"),
    ("macro", "value", "-inf", 2, "type"),
    ("invoices", "amount", "1,234", 0, "ambiguous_number"),  # 1234 or 1.234?
    ("invoices", "amount", "1234,56", 1, "ambiguous_number"),  # decimal comma, file has point
    ("invoices", "amount", "1.234,56", 2, "ambiguous_number"),
    ("customers", "declared_income", "4.500,50", 0, "ambiguous_number"),
]


@pytest.mark.parametrize(("name", "column", "value", "row", "rule"), HOSTILE_CELLS)
def test_a_hostile_cell_rejects_its_row_and_the_store_stays_sound(
    tmp_path, valid_exports, name, column, value, row, rule
):
    valid_exports[name] = with_cell(valid_exports[name], column, row, value)
    report = ingest(write_exports(tmp_path / "raw", valid_exports), tmp_path / "store")
    store = Store(tmp_path / "store")

    rejects = store.rejects(name)
    first = rejects.row(0, named=True)
    assert (first["source_line"], first["rule"], first["column"]) == (row + 2, rule, column)
    assert first["message"]
    assert json.loads(first["record"])[column] == value
    assert_rows_add_up(report)
    assert_store_is_sound(store)


def test_a_birth_after_the_relationship_opened_is_out_of_order(tmp_path, valid_exports):
    valid_exports["customers"] = with_cell(
        valid_exports["customers"], "birth_or_founding", 0, "2025-01-01"
    )  # C1 opened on 2020-01-05
    ingest(write_exports(tmp_path / "raw", valid_exports), tmp_path / "store")
    reject = Store(tmp_path / "store").rejects("customers").row(0, named=True)
    assert (reject["source_line"], reject["rule"], reject["column"]) == (
        2,
        "date_order",
        "opened_at",
    )
    assert "birth_or_founding" in reject["message"]


def test_every_hostile_value_at_once_leaves_a_store_the_features_build_on(tmp_path, valid_exports):
    exports = valid_exports
    exports["customers"] = with_cell(exports["customers"], "declared_income", 1, "NaN")
    exports["invoices"] = with_cell(exports["invoices"], "due_at", 3, "9999-12-31")
    exports["payments"] = with_cell(exports["payments"], "amount", 1, "1e308")
    exports["contacts"] = with_cell(exports["contacts"], "at", 0, "07/01/26 10:00")
    exports["macro"] = with_cell(exports["macro"], "value", 0, "inf")
    report = ingest(write_exports(tmp_path / "raw", exports), tmp_path / "store")
    store = Store(tmp_path / "store")

    # C2 (NaN income) goes and takes I3 and P3 with it; I4 (year 9999) and P2 (1e308) go
    assert store.read("customers")["customer_id"].to_list() == ["C1", "C3"]
    assert store.read("invoices")["invoice_id"].to_list() == ["I1", "I2"]
    assert store.read("payments")["payment_id"].to_list() == ["P1"]
    assert store.read("contacts").height == 1
    assert store.read("macro").height == 2
    assert report.totals()["customers"] == {"read": 3, "stored": 2, "rejected": 1}
    assert report.totals()["payments"] == {"read": 3, "stored": 1, "rejected": 2}
    assert_rows_add_up(report)
    assert_store_is_sound(store)

    features = build(store, date(2026, 9, 30))
    assert sorted(features["customer_id"].to_list()) == ["C1", "C3"]


def test_cli_ingest_of_hostile_values_exits_0_and_prints_the_rules(
    tmp_path, valid_exports, monkeypatch
):
    monkeypatch.setenv("REGUA_DOCUMENT_KEY", SETTINGS.document_key)
    valid_exports["invoices"] = with_cell(valid_exports["invoices"], "due_at", 0, "0001-01-01")
    valid_exports["invoices"] = with_cell(valid_exports["invoices"], "amount", 1, "Infinity")
    raw = write_exports(tmp_path / "raw", valid_exports)
    result = CliRunner().invoke(
        app,
        ["ingest", "--raw", str(raw), "--store", str(tmp_path / "store"), "--max-reject-share",
         "1", "--no-docs"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "date_range: 1" in result.output and "type: 1" in result.output
    assert_store_is_sound(Store(tmp_path / "store"))


# -- Parquet keeps its types: infinities, NaN and far dates arrive typed ---------------------


def test_non_finite_floats_and_far_dates_in_parquet_are_rejected(tmp_path, valid_exports):
    raw = tmp_path / "raw"
    write_exports(raw, {"customers": valid_exports["customers"]})
    pl.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3", "I4", "I5"],
            "customer_id": ["C1", "C1", "C2", "C3", "C3"],
            "issued_at": [date(2026, 8, 1), date(2026, 9, 1), date(1, 1, 1), date(2026, 9, 5),
                          date(2026, 9, 5)],
            "due_at": [date(2026, 8, 10), date(9999, 12, 31), date(2026, 9, 15),
                       date(2026, 9, 20), date(2026, 9, 20)],
            "amount": [float("inf"), 99.9, 450.0, float("nan"), 12.5],
            "product": ["credit_card"] * 5,
        }
    ).write_parquet(raw / "invoices.parquet")  # fmt: skip
    report = ingest(raw, tmp_path / "store")
    store = Store(tmp_path / "store")

    assert store.rejects("invoices").select("source_line", "rule", "column").rows() == [
        (1, "type", "amount"),
        (2, "date_range", "due_at"),
        (3, "date_range", "issued_at"),
        (4, "type", "amount"),
    ]
    assert store.read("invoices")["invoice_id"].to_list() == ["I5"]
    assert_rows_add_up(report)
    assert_store_is_sound(store)


def test_a_datetime_beyond_pandas_range_in_parquet_is_a_date_range_reject(tmp_path, valid_exports):
    raw = write_exports(
        tmp_path / "raw",
        {k: valid_exports[k] for k in ("customers", "invoices")},
    )
    pl.DataFrame(
        {
            "customer_id": ["C1", "C1"],
            "at": [datetime(2026, 9, 11, 10), datetime(3000, 1, 1, 9)],
            "channel": ["sms", "sms"],
            "outcome": ["delivered", "delivered"],
        },
        schema_overrides={"at": pl.Datetime("us")},
    ).write_parquet(raw / "contacts.parquet")
    ingest(raw, tmp_path / "store")
    store = Store(tmp_path / "store")
    assert store.rejects("contacts").select("source_line", "rule", "column").rows() == [
        (2, "date_range", "at")
    ]
    assert store.read("contacts").height == 1


# -- separators: the clean forms of each dialect, everything else ambiguous -----------------


def write_pt_br(folder: Path, tables: dict[str, pl.DataFrame], raw_amounts: list[str]) -> Path:
    """The portfolio as a pt_BR export (`;`, Latin-1), invoice amounts written verbatim."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        text = to_pt_br(frame)
        if name == "invoices":
            text = text.with_columns(pl.Series("amount", raw_amounts))
        (folder / f"{name}.csv").write_bytes(text.write_csv(separator=";").encode("latin-1"))
    return folder


def test_pt_br_amounts_that_do_not_fit_the_dialect_are_ambiguous_not_rescaled(
    tmp_path, valid_exports
):
    valid_exports["payments"] = valid_exports["payments"].filter(pl.col("invoice_id") == "I1")
    raw = write_pt_br(
        tmp_path / "raw",
        {k: valid_exports[k] for k in ("customers", "invoices", "payments")},
        ["1.234,56", "1234.56", "1,234.56", "1.234"],
    )
    report = ingest(raw, tmp_path / "store")
    store = Store(tmp_path / "store")

    rejects = store.rejects("invoices")
    assert rejects.select("source_line", "rule", "column").rows() == [
        (3, "ambiguous_number", "amount"),
        (4, "ambiguous_number", "amount"),
        (5, "ambiguous_number", "amount"),
    ]
    assert "decimal mark" in rejects["message"][0]
    assert store.read("invoices").select("invoice_id", "amount").rows() == [("I1", 1234.56)]
    assert report.files[0].dialect == "latin-1, sep ';', decimal ','"
    assert_rows_add_up(report)


@pytest.mark.parametrize(
    ("locale", "text", "stored"),
    [
        ("pt_BR", "1234,56", 1234.56),
        ("pt_BR", "1.234,56", 1234.56),
        ("pt_BR", "1234", 1234.0),
        ("pt_BR", "1.234.567", 1234567.0),
        ("pt_BR", "R$ 1.900,00", 1900.0),
        ("pt_BR", "0,5", 0.5),
        ("en", "1234.56", 1234.56),
        ("en", "1,234.56", 1234.56),
        ("en", "1234", 1234.0),
        ("en", "1,234,567", 1234567.0),
        ("en", "1.5e3", 1500.0),
    ],
)
def test_clean_forms_of_each_dialect_are_read(tmp_path, valid_exports, locale, text, stored):
    tables = {k: valid_exports[k] for k in ("customers", "invoices")}
    if locale == "pt_BR":
        amounts = [text, "99,9", "450", "12000,5"]
        raw = write_pt_br(tmp_path / "raw", tables, amounts)
    else:
        tables["invoices"] = with_cell(tables["invoices"], "amount", 0, text)
        raw = write_exports(tmp_path / "raw", tables)
    ingest(raw, tmp_path / "store")
    store = Store(tmp_path / "store")
    assert store.rejects("invoices").is_empty()
    amount = store.read("invoices").filter(pl.col("invoice_id") == "I1")["amount"].item()
    assert math.isclose(amount, stored)


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("pt_BR", "1234.56"),
        ("pt_BR", "1,234.56"),
        ("pt_BR", "1.234"),  # one group alone: 1234 or 1,234?
        ("pt_BR", "12.34"),
        ("pt_BR", "1.23,45"),  # groups of two are no thousands
        ("pt_BR", "1,234,567"),
        ("en", "1,234"),
        ("en", "1.234,56"),
        ("en", "12,50"),
        ("en", "1.234.567"),
    ],
)
def test_separators_that_do_not_fit_are_ambiguous(tmp_path, valid_exports, locale, text):
    tables = {k: valid_exports[k] for k in ("customers", "invoices")}
    if locale == "pt_BR":
        raw = write_pt_br(tmp_path / "raw", tables, [text, "99,9", "450", "12000,5"])
    else:
        tables["invoices"] = with_cell(tables["invoices"], "amount", 0, f"{text}")
        raw = write_exports(tmp_path / "raw", tables)
    ingest(raw, tmp_path / "store")
    store = Store(tmp_path / "store")
    assert store.rejects("invoices").select("source_line", "rule").rows() == [
        (2, "ambiguous_number")
    ]
    assert "I1" not in store.read("invoices")["invoice_id"].to_list()


# -- overpayment ---------------------------------------------------------------------------


def test_a_payment_far_above_its_invoice_is_rejected_naming_the_invoice(tmp_path, valid_exports):
    valid_exports["invoices"] = with_cell(valid_exports["invoices"], "amount", 3, "1900")
    valid_exports["payments"] = pl.concat(
        [
            valid_exports["payments"],
            pl.DataFrame(
                {
                    "payment_id": ["P4"],
                    "invoice_id": ["I4"],
                    "customer_id": ["C3"],
                    "paid_at": ["2026-09-19"],
                    "amount": ["999999.99"],
                    "method": ["pix"],
                }
            ),
        ]
    )
    report = ingest(write_exports(tmp_path / "raw", valid_exports), tmp_path / "store")
    store = Store(tmp_path / "store")

    reject = store.rejects("payments").row(0, named=True)
    assert (reject["source_line"], reject["rule"], reject["column"]) == (5, "overpayment", "amount")
    assert json.loads(reject["record"])["invoice_id"] == "I4"
    assert "invoice" in reject["message"]
    assert "P4" not in store.read("payments")["payment_id"].to_list()
    assert report.totals()["payments"] == {"read": 4, "stored": 3, "rejected": 1}


def payment(payment_id: str, invoice_id: str, customer_id: str, paid_at: str, amount: str):
    return pl.DataFrame(
        {
            "payment_id": [payment_id],
            "invoice_id": [invoice_id],
            "customer_id": [customer_id],
            "paid_at": [paid_at],
            "amount": [amount],
            "method": ["pix"],
        }
    )


def test_overpayment_counts_stored_payments_and_the_batch_in_date_order(tmp_path, valid_exports):
    store_dir = tmp_path / "store"
    ingest(write_exports(tmp_path / "day1", valid_exports), store_dir)  # P3 pays I3's R$ 450
    # day 2: R$ 45 more is exactly 10% over (kept); then R$ 0.01 more tips it over
    day2 = pl.concat(
        [
            payment("P5", "I3", "C2", "2026-09-17", "0.01"),
            payment("P4", "I3", "C2", "2026-09-16", "45"),
            # I2 (R$ 99.90): 50 stored + 59.89 = 109.89 fits 109.89, 0.50 more does not
            payment("P6", "I2", "C1", "2026-09-21", "59.89"),
            payment("P7", "I2", "C1", "2026-09-22", "0.5"),
        ]
    )
    report = ingest(write_exports(tmp_path / "day2", {"payments": day2}), store_dir)
    store = Store(store_dir)

    assert store.rejects("payments").select("source_line", "rule").rows() == [
        (2, "overpayment"),
        (5, "overpayment"),
    ]
    assert sorted(store.read("payments")["payment_id"].to_list()) == [
        "P1", "P2", "P3", "P4", "P6",
    ]  # fmt: skip
    assert report.totals()["payments"] == {"read": 4, "stored": 2, "rejected": 2}


def test_a_resent_payment_replaces_itself_and_is_no_overpayment(tmp_path, valid_exports):
    store_dir = tmp_path / "store"
    ingest(write_exports(tmp_path / "day1", valid_exports), store_dir)
    corrected = payment("P3", "I3", "C2", "2026-09-15", "460")  # 450 -> 460, within 10%
    report = ingest(write_exports(tmp_path / "day2", {"payments": corrected}), store_dir)
    store = Store(store_dir)
    assert report.totals()["payments"] == {"read": 1, "stored": 1, "rejected": 0}
    assert store.read("payments").filter(pl.col("payment_id") == "P3")["amount"].item() == 460.0


def test_the_tolerance_comes_from_config_ingest_yaml(tmp_path, valid_exports):
    config_dir = tmp_path / "config"
    shutil.copytree(get_settings().config_dir, config_dir)
    (config_dir / "ingest.yaml").write_text("overpayment_tolerance_share: 0\n")
    settings = SETTINGS.model_copy(update={"config_dir": config_dir})
    valid_exports["payments"] = with_cell(valid_exports["payments"], "amount", 2, "450.01")
    ingest(write_exports(tmp_path / "raw", valid_exports), tmp_path / "store", settings)
    assert Store(tmp_path / "store").rejects("payments").select("source_line", "rule").rows() == [
        (4, "overpayment")
    ]


def test_shipped_ingest_config_and_a_bad_one(tmp_path):
    assert load_ingest().overpayment_tolerance_share == 0.10
    bad = tmp_path / "ingest.yaml"
    bad.write_text("overpayment_tolerance_share: 1.5\n")
    with pytest.raises(ConfigError, match=r"ingest\.yaml: overpayment_tolerance_share"):
        load_ingest(bad)
    bad.write_text("overpayment_tolerance: 0.1\n")
    with pytest.raises(ConfigError, match="overpayment_tolerance"):
        load_ingest(bad)


def test_cli_ingest_with_a_bad_ingest_yaml_is_one_line_and_exit_2(
    tmp_path, valid_exports, monkeypatch
):
    config_dir = tmp_path / "config"
    shutil.copytree(get_settings().config_dir, config_dir)
    (config_dir / "ingest.yaml").write_text("overpayment_tolerance_share: -0.1\n")
    monkeypatch.setenv("REGUA_DOCUMENT_KEY", SETTINGS.document_key)
    monkeypatch.setenv("REGUA_CONFIG_DIR", str(config_dir))
    raw = write_exports(tmp_path / "raw", valid_exports)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["ingest", "--raw", str(raw), "--store", str(tmp_path / "store"), "--no-docs"]
        )
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "ingest.yaml: overpayment_tolerance_share" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "store").exists() or not Store(tmp_path / "store").has("payments")
