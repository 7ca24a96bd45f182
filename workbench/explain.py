"""Reasons on demand: PD and propensity reasons (5 C's) for a customer the night did not
explain (it explains only those with an action or a limit change, TreeSHAP being costly).

The customer's features at as_of come from the night's feature cache in the store
(`<store>/cache/features/<store version>/<as_of>/<partitions>/part-*.parquet`, written by the
nightly flow), the models from the MLflow registry (the champions the night scored with,
loaded once per process and version), the reasons from `regua.models.explain.explain`.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from regua.models.explain import explain
from regua.models.scoring import Champion, load_champion
from regua.pipelines.nightly import FEATURE_CACHE

_CHAMPIONS: dict[tuple[str, str], Champion] = {}
_LOCK = threading.Lock()


def feature_row(store_dir: Path, manifest: dict[str, Any], as_of: date, customer_id: str
                ) -> pl.DataFrame | None:  # fmt: skip
    """The customer's row of the night's cached features, or None when the cache is gone."""
    version = manifest.get("store_version")
    if not version:
        return None
    folder = store_dir / FEATURE_CACHE / str(version) / as_of.isoformat()
    files = sorted(folder.glob("*/part-*.parquet"))
    if not files:
        return None
    parts = sorted({f.parent for f in files})[0]  # one partitioning is enough
    row = (
        pl.scan_parquet(sorted(parts.glob("part-*.parquet")))
        .filter(pl.col("customer_id") == customer_id)
        .collect()
    )
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


def reasons_on_demand(
    store_dir: Path, tracking_uri: str, manifest: dict[str, Any], as_of: date, customer_id: str
) -> dict[str, list[str]]:
    """{"delinquency": [...], "propensity_to_pay": [...]}: whatever can be explained."""
    row = feature_row(store_dir, manifest, as_of, customer_id)
    if row is None:
        return {}
    models = manifest.get("models") or {}
    out: dict[str, list[str]] = {}
    for kind in ("delinquency", "propensity_to_pay"):
        model = champion(kind, tracking_uri, (models.get(kind) or {}).get("version"))
        if model is not None:
            out[kind] = explain(model.model, row, kind)["reasons"].item().to_list()  # type: ignore[union-attr]
    return out
