"""What the workbench pages read: the night's outputs (out/<as_of>/), the store, MLflow.

The same readers the report and the notebooks use (`reports.report.read_outputs`,
`dunning.summary`, `regua.store.Store`); a night's frames are read once and kept while the
folder's manifest does not change.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from regua.config.ledger import load_ledger
from regua.documents import hash_documents, normalize_document
from regua.reports.report import DayFrames, read_outputs
from regua.store import Store

log = logging.getLogger(__name__)


class NoNightError(FileNotFoundError):
    """No night has written outputs yet."""


def latest_as_of(out_dir: Path) -> date:
    """The latest as_of with a complete outputs folder (its manifest written)."""
    days = []
    for manifest in out_dir.glob("*/manifest.json"):
        try:
            days.append(date.fromisoformat(manifest.parent.name))
        except ValueError:
            continue
    if not days:
        raise NoNightError(f"no night's outputs in {out_dir}: run `regua nightly` first")
    return max(days)


_CACHE: dict[tuple[Path, date], tuple[float, DayFrames]] = {}
_LOCK = threading.Lock()
_LOADING = threading.Lock()


def night(out_dir: Path, as_of: date) -> DayFrames:
    """The night's outputs, read once per manifest version."""
    manifest = out_dir / as_of.isoformat() / "manifest.json"
    stamp = manifest.stat().st_mtime
    key = (out_dir.resolve(), as_of)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached and cached[0] == stamp:
            return cached[1]
    with _LOADING:
        return _read_night(out_dir, as_of, key, stamp)


def _read_night(out_dir: Path, as_of: date, key: tuple[Path, date], stamp: float) -> DayFrames:
    """Read a night's outputs sorted by customer (under _LOADING), and keep them."""
    cached = _CACHE.get(key)
    if cached and cached[0] == stamp:
        return cached[1]
    frames = read_outputs(out_dir, as_of)
    frames = DayFrames(
        folder=frames.folder,
        actions=frames.actions.sort("customer_id"),
        segments=frames.segments.sort("customer_id"),
        limits=frames.limits.sort("customer_id"),
        manifest=frames.manifest,
    )
    with _LOCK:
        _CACHE[key] = (stamp, frames)
    return frames


def model_version(day: DayFrames) -> str | None:
    """The delinquency champion's version the night scored with (from its manifest)."""
    models: dict[str, Any] = day.manifest.get("models") or {}
    version = (models.get("delinquency") or {}).get("version")
    return None if version is None else str(version)


def customer_rows(frame: pl.DataFrame, customer_id: str) -> pl.DataFrame:
    """One customer's rows of a night's frame (sorted by customer_id: a binary search)."""
    ids = frame["customer_id"]
    start = ids.search_sorted(customer_id, side="left")
    end = ids.search_sorted(customer_id, side="right")
    return frame.slice(start, end - start)


def find_by_document(store_dir: Path, typed: str, key: bytes) -> list[str]:
    """Customer ids whose CPF/CNPJ is the one typed: hashed with the document key, compared
    with the stored hashes; the document itself goes nowhere."""
    normalized = pl.select(normalize_document(pl.lit(typed, dtype=pl.String))).to_series()
    digest = hash_documents(normalized, key).item()
    if not digest:
        return []
    customers = Store(store_dir).scan("customers")
    found = customers.filter(pl.col("document_hash") == digest).select("customer_id").collect()
    return found["customer_id"].to_list()


@dataclass(frozen=True)
class Ledger:
    """One customer's invoices at as_of: open ones with days past due, and monthly history."""

    open_invoices: pl.DataFrame
    history: pl.DataFrame


@dataclass(frozen=True)
class _Book:
    """A store version's invoices and payments sorted by customer, for slicing by customer."""

    invoices: pl.DataFrame
    payments: pl.DataFrame


_BOOKS: dict[tuple[Path, str], _Book] = {}


def _book(store_dir: Path) -> _Book:
    """The store's current invoices and payments, read once per store version (a page then
    slices one customer's rows by binary search instead of scanning the files)."""
    store = Store(store_dir)
    key = (store_dir.resolve(), str(store.version))
    with _LOADING:  # one reader at a time; the others wait for its result
        return _BOOKS.get(key) or _read_book(store, key)


def _read_book(store: Store, key: tuple[Path, str]) -> _Book:
    """Read and sort the invoices and payments of the store's version (under _LOADING)."""
    invoices = store.scan("invoices").select(
        "customer_id", "invoice_id", "issued_at", "due_at", "amount", "product"
    )
    payments = store.scan("payments").select("customer_id", "invoice_id", "paid_at", "amount")
    book = _Book(
        invoices.sort("customer_id", "due_at").collect(),
        payments.sort("customer_id", "paid_at").collect(),
    )
    _BOOKS.clear()  # only the current version is served
    _BOOKS[key] = book
    return book


@functools.lru_cache(maxsize=1)
def _tolerance() -> float:
    return load_ledger().settle_tolerance_brl


def warm(out_dir: Path, store_dir: Path) -> None:
    """Read the latest night and the store's book ahead of the first page (best effort)."""
    try:
        night(out_dir, latest_as_of(out_dir))
        _book(store_dir)
    except (OSError, NoNightError, pl.exceptions.PolarsError):
        log.warning("workbench: could not read the night or the store ahead of time")


def customer_ledger(store_dir: Path, customer_id: str, as_of: date, months: int = 12) -> Ledger:
    """Open invoices (settled by the ledger's tolerance) and 12 months of billed vs paid."""
    book = _book(store_dir)
    tolerance = _tolerance()
    invoices = customer_rows(book.invoices, customer_id).filter(pl.col("issued_at") <= as_of)
    payments = customer_rows(book.payments, customer_id).filter(pl.col("paid_at") <= as_of)
    paid = payments.group_by("invoice_id").agg(pl.col("amount").sum().alias("paid"))
    status = invoices.join(paid, on="invoice_id", how="left").with_columns(
        pl.col("paid").fill_null(0.0)
    )
    open_invoices = (
        status.filter(pl.col("amount") - pl.col("paid") > tolerance)
        .with_columns(
            (pl.col("amount") - pl.col("paid")).round(2).alias("open_amount"),
            (pl.lit(as_of) - pl.col("due_at")).dt.total_days().clip(0).alias("days_past_due"),
        )
        .sort("due_at")
    )
    start = _months_back(as_of, months - 1)
    month = pl.col("_day").dt.truncate("1mo")
    billed = (
        invoices.filter(pl.col("due_at") >= start)
        .select(pl.col("due_at").alias("_day"), "amount")
        .group_by(month.alias("month"))
        .agg(pl.col("amount").sum().alias("billed"))
    )
    received = (
        payments.filter(pl.col("paid_at") >= start)
        .select(pl.col("paid_at").alias("_day"), "amount")
        .group_by(month.alias("month"))
        .agg(pl.col("amount").sum().alias("paid"))
    )
    grid = pl.DataFrame({"month": pl.date_range(start, as_of, "1mo", eager=True)})
    history = (
        grid.join(billed, on="month", how="left")
        .join(received, on="month", how="left")
        .fill_null(0.0)
        .sort("month")
    )
    return Ledger(open_invoices=open_invoices, history=history)


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


_DRIFT: dict[tuple[str, date], tuple[float, str]] = {}
DRIFT_SECONDS = 300.0
"""How long a night's drift level is kept before MLflow is asked again."""


def drift_status(tracking_uri: str, as_of: date) -> str:
    """The night's drift level from its MLflow run (estável, atenção, alerta grave), or
    'desconhecido'; kept for DRIFT_SECONDS."""
    now = time.monotonic()
    cached = _DRIFT.get((tracking_uri, as_of))
    if cached and now - cached[0] < DRIFT_SECONDS:
        return cached[1]
    status = _drift_status(tracking_uri, as_of)
    _DRIFT[(tracking_uri, as_of)] = (now, status)
    return status


def _drift_status(tracking_uri: str, as_of: date) -> str:
    if tracking_uri.startswith("sqlite:///") and not Path(tracking_uri[10:]).exists():
        return "desconhecido"  # no tracking store yet: do not create one
    try:
        import mlflow

        mlflow.set_tracking_uri(tracking_uri)
        runs = mlflow.search_runs(
            experiment_names=["regua-nightly"],
            filter_string=f"tags.as_of = '{as_of.isoformat()}'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
            output_format="list",
        )
    except Exception:
        return "desconhecido"
    if not runs:
        return "desconhecido"
    run = runs[0]
    warn = float(run.data.params.get("psi_warn_above", "inf"))
    breach = float(run.data.params.get("psi_breach_above", "inf"))
    worst = max((v for v in run.data.metrics.values() if not math.isnan(v)), default=0.0)
    return "alerta grave" if worst > breach else "atenção" if worst > warn else "estável"


def report_path(reports_dir: Path, as_of: date) -> Path | None:
    """The portfolio report of as_of, when `regua report` wrote it."""
    path = reports_dir / f"portfolio-{as_of.isoformat()}.html"
    return path if path.is_file() else None


def evidence_text(evidence: str | None) -> str:
    """An action's evidence (JSON) as readable text."""
    if not evidence:
        return ""
    try:
        return json.dumps(json.loads(evidence), ensure_ascii=False, indent=1)
    except ValueError:
        return evidence
