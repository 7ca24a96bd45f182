"""The workbench explains every customer of the night once, shares it through the store's
cache, and gives each customer the reasons the champions give that customer alone.

Runs on the session's simulated store, champions and night (tests/pipelines/conftest.py).
"""

from __future__ import annotations

import json
import os
import time
from datetime import date

import polars as pl

from regua.models.explain import explain
from regua.models.scoring import load_champion
from regua.pipelines.nightly import FEATURE_CACHE
from regua.workbench import explain as workbench

AS_OF = date(2026, 10, 30)


def test_every_customer_is_explained_once_and_read_back(store, scored, tracking):
    manifest = json.loads((scored / AS_OF.isoformat() / "manifest.json").read_text())
    store_dir = store / "store"
    cache = store_dir / FEATURE_CACHE / manifest["store_version"] / AS_OF.isoformat()
    features = pl.read_parquet(sorted(cache.glob("*/part-*.parquet"))[:1])
    path = workbench.reasons_path(store_dir, manifest, AS_OF)
    path.unlink(missing_ok=True)
    workbench._REASONS.clear()  # a process that has not read it yet

    table = workbench.night_reasons(store_dir, tracking, manifest, AS_OF)

    assert table["customer_id"].to_list() == sorted(features["customer_id"].to_list())
    assert path.exists() and not path.with_suffix(".lock").exists()
    models = {kind: load_champion(kind, tracking) for kind in workbench.KINDS}
    overdue = features.filter(pl.col("overdue_balance") > 0)["customer_id"].head(3).to_list()
    explained = 0
    for customer in [*features["customer_id"].head(3).to_list(), *overdue]:
        row = features.filter(pl.col("customer_id") == customer)
        alone = {k: explain(m.model, row, k)["reasons"].item().to_list() for k, m in models.items()}
        assert workbench.reasons_on_demand(store_dir, tracking, manifest, AS_OF, customer) == alone
        explained += bool(alone["delinquency"]) + bool(alone["propensity_to_pay"])
    assert explained >= 3

    # Another process reads the file: no model is needed any more.
    written = path.stat().st_mtime_ns
    workbench._REASONS.clear()
    again = workbench.night_reasons(store_dir, "sqlite:////nonexistent/mlflow.db", manifest, AS_OF)
    assert again.equals(table)
    assert path.stat().st_mtime_ns == written


def test_one_process_computes_while_the_others_wait_and_a_dead_ones_lock_is_taken_over(
    store, scored, tracking
):
    manifest = json.loads((scored / AS_OF.isoformat() / "manifest.json").read_text())
    store_dir = store / "store"
    path = workbench.reasons_path(store_dir, manifest, AS_OF)
    path.unlink(missing_ok=True)
    workbench._REASONS.clear()
    lock = path.with_suffix(".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.touch()  # another server process is computing them

    waited = workbench.night_reasons(store_dir, tracking, manifest, AS_OF, wait_seconds=0.5)

    assert waited is None and not path.exists()
    an_hour_and_more = time.time() - workbench.STALE_LOCK_SECONDS - 60
    os.utime(lock, (an_hour_and_more, an_hour_and_more))  # it died long ago
    taken = workbench.night_reasons(store_dir, tracking, manifest, AS_OF, wait_seconds=0.5)
    assert taken is not None and taken.height > 0
    assert path.exists() and not lock.exists()
