"""The contract is the single source of the schema, the suites and data/README.md."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from regua.contract import TABLES, contract_markdown, raw_columns
from regua.ingest import expectations

ROOT = Path(__file__).resolve().parents[2]


def test_data_readme_is_generated_from_the_contract():
    assert (ROOT / "data" / "README.md").read_text(encoding="utf-8") == contract_markdown(), (
        "data/README.md is stale: run `regua contract > data/README.md`"
    )


def test_every_table_has_a_key_made_of_its_columns_and_references_earlier_tables():
    order = list(TABLES)
    for position, t in enumerate(TABLES.values()):
        assert set(t.key) <= set(t.names)
        for ref in t.references:
            assert order.index(ref.table) < position
            assert ref.key in TABLES[ref.table].names


def test_exports_carry_the_document_in_place_of_its_hash():
    names = [c.name for c in raw_columns(TABLES["customers"])]
    assert "document" in names and "document_hash" not in names
    assert [c.name for c in raw_columns(TABLES["payments"])] == TABLES["payments"].names


def test_each_suite_checks_every_non_nullable_column_and_the_key():
    for t in TABLES.values():
        rules = {(e.meta["rule"], e.meta["column"]) for e in expectations(t)}
        for c in t.columns:
            if not c.nullable:
                assert ("not_null", c.name) in rules
            if c.allowed:
                assert ("allowed_values", c.name) in rules
        assert ("unique_key", "+".join(t.key)) in rules


def test_money_columns_are_float64_and_dates_are_dates():
    invoices = TABLES["invoices"].schema
    assert invoices["amount"] == pl.Float64
    assert invoices["issued_at"] == pl.Date
