"""The optional dated attribute history (issue 19): found by its own name, stored when valid,
refused with the rule and the key when a row names an unknown customer, repeats a
(customer_id, valid_from) or has no valid_from."""

from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from regua.cli import app
from regua.ingest import discover_exports, ingest_exports
from regua.ingest.read import table_of_stem
from regua.settings import get_settings
from regua.store import Store
from tests.conftest import write_exports


@pytest.fixture(autouse=True)
def _fresh_settings():
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _history(**changes: list[str]) -> pl.DataFrame:
    rows = {
        "customer_id": ["C1", "C1", "C2"],
        "valid_from": ["2025-01-01", "2026-03-05", "2025-06-30"],
        "bureau_score": ["700", "480", ""],
        "credit_limit": ["3000", "900", "1200"],
        "employment_type": ["clt", "unemployed", "retired"],
    }
    rows.update(changes)
    return pl.DataFrame(rows)


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("customers", "customers"),
        ("customers_2026-10-31", "customers"),
        ("customer_attributes", "customer_attributes"),
        ("customer_attributes_2026-10-31", "customer_attributes"),
        ("customer_attributes.part1", "customer_attributes"),
        ("customer", None),
        ("customersx", None),
        ("customer_attributesx", None),
    ],
)
def test_a_file_is_the_table_with_the_longest_matching_name(stem, expected):
    assert table_of_stem(stem) == expected


def test_the_raw_folder_reads_the_history_as_its_own_table(tmp_path, valid_exports):
    raw = write_exports(
        tmp_path / "raw", {**valid_exports, "customer_attributes": _history()}, suffix="_2026"
    )
    found = {f.path.name: f.table for f in discover_exports(raw).exports}
    assert found["customers_2026.csv"] == "customers"
    assert found["customer_attributes_2026.csv"] == "customer_attributes"


def test_a_valid_history_is_stored_typed(tmp_path, valid_exports):
    raw = write_exports(tmp_path / "raw", {**valid_exports, "customer_attributes": _history()})
    report = ingest_exports(raw, tmp_path / "store", build_docs=False)
    assert report.totals()["customer_attributes"] == {"read": 3, "stored": 3, "rejected": 0}
    stored = Store(tmp_path / "store").read("customer_attributes")
    assert stored.schema["valid_from"] == pl.Date
    assert stored.schema["bureau_score"] == pl.Int32
    assert stored.filter(pl.col("customer_id") == "C2")["bureau_score"].to_list() == [None]


@pytest.mark.parametrize(
    ("changes", "rule", "column"),
    [
        ({"customer_id": ["C1", "C9", "C9"]}, "reference", "customer_id"),
        ({"valid_from": ["2025-01-01", "2025-01-01", "2025-01-01"],
          "customer_id": ["C1", "C1", "C1"]}, "unique_key", "customer_id+valid_from"),
        ({"valid_from": ["2025-01-01", "", ""]}, "not_null", "valid_from"),
    ],
)  # fmt: skip
def test_bad_history_rows_stop_the_ingest_with_exit_2(
    tmp_path, valid_exports, changes, rule, column
):
    raw = write_exports(
        tmp_path / "raw", {**valid_exports, "customer_attributes": _history(**changes)}
    )
    result = CliRunner().invoke(
        app, ["ingest", "--raw", str(raw), "--store", str(tmp_path / "store"), "--no-docs"]
    )
    assert result.exit_code == 2, result.output
    assert "customer_attributes.csv" in result.output
    assert f"{rule} on {column}" in result.output
    assert "Traceback" not in result.output
    assert not Store(tmp_path / "store").has("customer_attributes")
