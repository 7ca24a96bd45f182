"""Dialect detection and reading of the exports Brazilian ERPs write."""

from __future__ import annotations

import polars as pl
import pytest

from regua.ingest import Dialect, IngestError, detect_dialect, discover_exports, read_export
from regua.ingest.read import ExportFile

HEADER = "invoice_id;customer_id;issued_at;due_at;amount;product\n"


def test_detects_pt_br_dialect_and_latin1(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes("customer_id;city\nC1;São Paulo\n".encode("latin-1"))
    assert detect_dialect(path) == Dialect("latin-1", ";", ",")


def test_latin1_accent_past_the_sniffed_head_falls_back_to_latin1(tmp_path):
    path = tmp_path / "invoices.csv"
    filler = "".join(f"I{i};C1;01/09/2026;10/09/2026;10,00;credit_card\n" for i in range(30_000))
    path.write_bytes(
        (HEADER + filler + "I_x;C1;01/09/2026;10/09/2026;1,00;cartão\n").encode("latin-1")
    )
    frame, dialect = read_export(ExportFile("invoices", path, "csv"))
    assert dialect.encoding == "latin-1"
    assert frame["product"][-1] == "cartão"
    assert frame[-1, "_source_line"] == 30_002


def test_cells_are_trimmed_and_blank_is_null_with_line_numbers(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text("\ufeffInvoice_ID , amount\n I1 , 10\nI2,  \n", encoding="utf-8")
    frame, _ = read_export(ExportFile("invoices", path, "csv"))
    assert frame.columns == ["_source_line", "invoice_id", "amount"]
    assert frame.rows() == [(2, "I1", "10"), (3, "I2", None)]


def test_discovery_maps_names_to_tables_in_dependency_order(tmp_path):
    for name in ["payments_2026-10-31.csv", "invoices.parquet", "customers.csv",
                 "Invoices-extra.CSV"]:  # fmt: skip
        (tmp_path / name).write_text("x")
    found = [(f.table, f.path.name) for f in discover_exports(tmp_path).exports]
    assert found == [
        ("customers", "customers.csv"),
        ("invoices", "Invoices-extra.CSV"),
        ("invoices", "invoices.parquet"),
        ("payments", "payments_2026-10-31.csv"),
    ]


def test_explicit_dialect_overrides_detection(tmp_path):
    path = tmp_path / "macro.csv"
    path.write_text("month|indicator|value\n2026-09-01|selic|10,75\n", encoding="utf-8")
    with pytest.raises(IngestError) as info:
        read_export(ExportFile("macro", path, "csv"))  # sniffed as ',': a ragged line
    assert info.value.rule == "unreadable_file"
    frame, _ = read_export(ExportFile("macro", path, "csv"), Dialect("utf-8", "|", ","))
    assert frame.select(pl.col("value")).item() == "10,75"
