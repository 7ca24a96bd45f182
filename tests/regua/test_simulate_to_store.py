"""A slice of the pipeline end to end: simulated exports through ingestion into the store."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from regua.ingest import ingest_exports
from regua.settings import Settings
from regua.simulate import SimulationConfig, simulate_portfolio
from regua.store import Store

SETTINGS = Settings(document_key="e2e-test-key-not-a-secret-0123456789")
CONFIG = SimulationConfig(customers=400, months=8, seed=11, end=date(2026, 10, 31))


@pytest.fixture(scope="module")
def clean_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    simulate_portfolio(CONFIG, root / "raw")
    report = ingest_exports(root / "raw", root / "store", settings=SETTINGS, build_docs=False)
    return root, report


def test_clean_simulated_exports_ingest_without_rejects(clean_store):
    root, report = clean_store
    for name, totals in report.totals().items():
        assert totals["rejected"] == 0, name
        assert totals["read"] == totals["stored"] > 0, name
    raw = pl.read_parquet(root / "raw" / "invoices.parquet")
    assert Store(root / "store").read("invoices").equals(raw.sort("invoice_id"))


def test_pt_br_csv_export_gives_the_same_store_as_parquet(clean_store, tmp_path):
    root, _ = clean_store
    simulate_portfolio(CONFIG, tmp_path / "raw", fmt="csv", locale="pt_BR")
    ingest_exports(tmp_path / "raw", tmp_path / "store", settings=SETTINGS, build_docs=False)
    for name in ("customers", "invoices", "payments", "contacts", "macro"):
        expected = Store(root / "store").read(name)
        assert Store(tmp_path / "store").read(name).equals(expected), name


def test_injected_defects_are_rejected_and_nothing_is_lost(tmp_path):
    config = SimulationConfig(customers=400, months=8, seed=3, error_rate=0.02)
    simulate_portfolio(config, tmp_path / "raw")
    settings = SETTINGS.model_copy(update={"max_reject_share": 0.5})
    report = ingest_exports(tmp_path / "raw", tmp_path / "store", settings=settings)
    store = Store(tmp_path / "store")
    rules = set()
    for name, totals in report.totals().items():
        assert totals["read"] == totals["stored"] + totals["rejected"]
        assert store.rejects(name).height == totals["rejected"]
        rules |= set(store.rejects(name)["rule"].to_list())
    assert {
        "document_check_digits",
        "range",
        "allowed_values",
        "date_order",
        "reference",
        "unique_key",
    } <= rules
