"""Reasons on demand: PD and propensity reasons (5 C's) for a customer the night did not
explain (it explains only those with an action or a limit change, TreeSHAP being costly).

The customer's features at as_of come from the night's feature cache in the store
(`<store>/cache/features/<store version>/<as_of>/<partitions>/part-*.parquet`, written by the
nightly flow), the models from the MLflow registry (the champions the night scored with,
loaded once per process and version), the reasons from `regua.models.explain.explain`.

A page must not wait for TreeSHAP: at start-up the workbench explains every customer of the
night in batches (`night_reasons`, about 0.4 ms a customer and model) and keeps the result
in the store's cache (`<store>/cache/reasons/<store version>/<as_of>/<models>.parquet`), so
the other server processes and the next start read it instead of computing it again. Until
it is ready, a page explains its one customer.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from regua.models.explain import explain
from regua.models.scoring import Champion, load_champion
from regua.pipelines.nightly import FEATURE_CACHE
from regua.workbench.data import customer_rows

log = logging.getLogger(__name__)

KINDS = ("delinquency", "propensity_to_pay")
REASONS_CACHE = Path("cache") / "reasons"
"""Under the store root: <store version>/<as_of>/<delinquency v>-<propensity v>.parquet."""
BATCH = 20_000
STALE_LOCK_SECONDS = 3600

_CHAMPIONS: dict[tuple[str, str], Champion] = {}
_FEATURES: dict[tuple[Path, str, date], pl.DataFrame] = {}
_REASONS: dict[Path, pl.DataFrame] = {}
_STARTED: set[Path] = set()
_LOCK = threading.Lock()


def night_features(store_dir: Path, manifest: dict[str, Any], as_of: date) -> pl.DataFrame | None:
    """The night's cached features sorted by customer, read once per store version and as_of
    (only the latest night is kept); None when the cache is gone."""
    version = manifest.get("store_version")
    if not version:
        return None
    key = (store_dir.resolve(), str(version), as_of)
    with _LOCK:
        if key in _FEATURES:
            return _FEATURES[key]
    folder = store_dir / FEATURE_CACHE / str(version) / as_of.isoformat()
    files = sorted(folder.glob("*/part-*.parquet"))
    if not files:
        return None
    parts = sorted({f.parent for f in files})[0]  # one partitioning is enough
    table = pl.read_parquet(sorted(parts.glob("part-*.parquet"))).sort("customer_id")
    with _LOCK:
        _FEATURES.clear()
        _FEATURES[key] = table
    return table


def feature_row(store_dir: Path, manifest: dict[str, Any], as_of: date, customer_id: str
                ) -> pl.DataFrame | None:  # fmt: skip
    """The customer's row of the night's cached features, or None when the cache is gone."""
    table = night_features(store_dir, manifest, as_of)
    if table is None:
        return None
    row = customer_rows(table, customer_id)
    return row if row.height else None


def champion(kind: str, tracking_uri: str, version: str | None) -> Champion | None:
    """The registry's champion of `kind`, kept per process; None when it is not the version
    the night scored with (its reasons would not be the night's)."""
    if tracking_uri.startswith("sqlite:///") and not Path(tracking_uri[10:]).exists():
        return None  # no tracking store: do not create one
    with _LOCK:
        cached = _CHAMPIONS.get((tracking_uri, kind))
        if cached is None or cached.version != version:
            try:
                cached = load_champion(kind, tracking_uri)  # type: ignore[arg-type]
            except Exception:
                return None
            _CHAMPIONS[(tracking_uri, kind)] = cached
    return cached if version is None or cached.version == version else None


def _champions(tracking_uri: str, manifest: dict[str, Any]) -> dict[str, Champion]:
    models = manifest.get("models") or {}
    found = {kind: champion(kind, tracking_uri, (models.get(kind) or {}).get("version"))
             for kind in KINDS}  # fmt: skip
    return {kind: model for kind, model in found.items() if model is not None}


def reasons_path(store_dir: Path, manifest: dict[str, Any], as_of: date) -> Path | None:
    """Where the night's reasons are kept: one file per store version, as_of and the model
    versions the night scored with; None without a store version or a model."""
    version, models = manifest.get("store_version"), manifest.get("models") or {}
    versions = [str((models.get(kind) or {}).get("version") or "none") for kind in KINDS]
    if not version or versions == ["none", "none"]:
        return None
    name = "-".join(versions) + ".parquet"
    return store_dir / REASONS_CACHE / str(version) / as_of.isoformat() / name


def explain_all(features: pl.DataFrame, models: dict[str, Champion]) -> pl.DataFrame:
    """customer_id and one list of reasons per model for every row of `features`, in order."""
    out = features.select("customer_id")
    for kind in KINDS:
        if kind not in models:
            out = out.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias(kind))
            continue
        parts = [
            explain(models[kind].model, features.slice(start, BATCH), kind)["reasons"]  # type: ignore[arg-type]
            for start in range(0, features.height, BATCH)
        ]
        out = out.with_columns(pl.concat(parts).alias(kind))
    return out


def _claim(lock: Path) -> bool:
    """Whether this process takes the computation (a lock file created exclusively; one left
    by a process that died long ago is taken over)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:
        try:
            if time.time() - lock.stat().st_mtime > STALE_LOCK_SECONDS:
                lock.unlink(missing_ok=True)
                return _claim(lock)
        except FileNotFoundError:
            return _claim(lock)
        return False


def night_reasons(
    store_dir: Path, tracking_uri: str, manifest: dict[str, Any], as_of: date,
    wait_seconds: float = 1800,
) -> pl.DataFrame | None:  # fmt: skip
    """Both models' reasons for every customer of the night, sorted by customer: read from
    the store's cache, or computed and written there (atomically) by one process while the
    others wait for the file. None when there is nothing to explain."""
    path = reasons_path(store_dir, manifest, as_of)
    if path is None:
        return None
    with _LOCK:
        if path in _REASONS:
            return _REASONS[path]
    deadline = time.monotonic() + wait_seconds
    lock = path.with_suffix(".lock")
    while not path.exists():
        try:
            claimed = _claim(lock)
        except OSError:  # a read-only store: compute in memory only
            claimed = None
        if claimed is False:
            if time.monotonic() > deadline:
                return None
            time.sleep(1)
            continue
        features = night_features(store_dir, manifest, as_of)
        models = _champions(tracking_uri, manifest)
        if features is None or not models:
            if claimed:
                lock.unlink(missing_ok=True)
            return None
        started = time.perf_counter()
        table = explain_all(features, models)
        log.info("workbench: reasons of %d customers in %.1fs", table.height,
                 time.perf_counter() - started)  # fmt: skip
        if claimed:
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            table.write_parquet(partial)
            os.replace(partial, path)
            lock.unlink(missing_ok=True)
        break
    else:
        table = pl.read_parquet(path)
    with _LOCK:
        _REASONS.clear()
        _REASONS[path] = table
        _FEATURES.clear()  # every customer's reasons are in the table: no page needs them now
    return table


def prepare(store_dir: Path, tracking_uri: str, manifest: dict[str, Any], as_of: date) -> None:
    """Start `night_reasons` in a background thread, once per night and process."""
    path = reasons_path(store_dir, manifest, as_of)
    with _LOCK:
        if path is None or path in _STARTED:
            return
        _STARTED.add(path)
    threading.Thread(
        target=night_reasons, args=(store_dir, tracking_uri, manifest, as_of), daemon=True
    ).start()


def reasons_on_demand(
    store_dir: Path, tracking_uri: str, manifest: dict[str, Any], as_of: date, customer_id: str
) -> dict[str, list[str]]:
    """{"delinquency": [...], "propensity_to_pay": [...]}: whatever can be explained (from
    the night's reasons when they are ready, else computed for this customer)."""
    path = reasons_path(store_dir, manifest, as_of)
    with _LOCK:
        ready = _REASONS.get(path) if path is not None else None
    if ready is not None:  # every customer of the night's features is in it
        rows = customer_rows(ready, customer_id)
        if not rows.height:
            return {}
        found = rows.row(0, named=True)
        return {kind: list(found[kind]) for kind in KINDS if found[kind] is not None}
    prepare(store_dir, tracking_uri, manifest, as_of)  # a night that came after the start
    row = feature_row(store_dir, manifest, as_of, customer_id)
    if row is None:
        return {}
    return {kind: explain(model.model, row, kind)["reasons"].item().to_list()  # type: ignore[arg-type]
            for kind, model in _champions(tracking_uri, manifest).items()}  # fmt: skip
