"""The portfolio report at an as_of: every table and chart, gathered in one object.

`assemble_report` is pure: it takes the canonical tables, the day's outputs and the
champion models and calls the functions of `reports.portfolio`, `reports.decisions`
(whose segment, workload and limit figures are `dunning.summary`'s, as in the nightly
run's summary artifact), `reports.health` and `reports.charts`. `build_report` is the
wiring `regua report` runs: it opens the store, reads `out/<as_of>/` and loads the
champions from the registry. `reports.html` turns the result into one self-contained page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from regua.config import LabelsConfig, load_labels
from regua.config.limits import load_limits
from regua.contract import TABLES
from regua.dunning.summary import WORKLOAD_DAYS
from regua.models.scoring import Champion, load_champion
from regua.models.train import MODEL_KINDS
from regua.reports import charts, decisions, health, portfolio
from regua.settings import get_settings
from regua.store import Store

log = logging.getLogger(__name__)

Frame = pl.LazyFrame | pl.DataFrame

OUTPUT_FILES = ("actions.parquet", "segments.parquet", "limits.parquet", "manifest.json")
ROLL_MONTHS = 13
"""Dates the roll rates use: as_of and the 12 month-ends before it (12 monthly moves)."""
MIX_MONTHS = 12


class OutputsMissingError(FileNotFoundError):
    """The day's scoring outputs are not there: run `regua score` for that as_of first."""


@dataclass(frozen=True)
class DayFrames:
    """The outputs `regua score` wrote for one as_of."""

    folder: Path
    actions: pl.DataFrame
    segments: pl.DataFrame
    limits: pl.DataFrame
    manifest: dict[str, Any]


def read_outputs(outputs: Path, as_of: date) -> DayFrames:
    """Read out/<as_of>/; a missing folder or file is an `OutputsMissingError` naming it."""
    folder = Path(outputs) / as_of.isoformat()
    missing = [name for name in OUTPUT_FILES if not (folder / name).is_file()]
    if missing:
        what = "folder" if not folder.is_dir() else f"file(s) {', '.join(missing)} in"
        raise OutputsMissingError(
            f"no scoring outputs for {as_of}: missing {what} {folder}; "
            f"run `regua score --as-of {as_of} --out {outputs}` first"
        )
    return DayFrames(
        folder=folder,
        actions=pl.read_parquet(folder / "actions.parquet"),
        segments=pl.read_parquet(folder / "segments.parquet"),
        limits=pl.read_parquet(folder / "limits.parquet"),
        manifest=json.loads((folder / "manifest.json").read_text(encoding="utf-8")),
    )


@dataclass(frozen=True)
class PortfolioReport:
    """Every table (aggregates only, no personal data) and chart of the report at as_of."""

    as_of: date
    headline: dict[str, float]
    tables: dict[str, pl.DataFrame]
    charts: dict[str, charts.Chart]
    provenance: dict[str, str] = field(default_factory=dict)


def assemble_report(
    tables: Mapping[str, Frame],
    day: DayFrames,
    champions: Sequence[Champion],
    as_of: date,
    *,
    labels: LabelsConfig | None = None,
    band_order: Sequence[str] | None = None,
) -> PortfolioReport:
    """All figures of the report from the canonical tables, the day's outputs and the champions."""
    aging = portfolio.aging_table(tables, as_of)
    buckets = portfolio.customer_buckets(tables, portfolio.observation_dates(as_of, ROLL_MONTHS))
    rates = portfolio.roll_rates(buckets)
    curves = portfolio.vintage_curves(tables, as_of)
    mix = portfolio.payment_method_mix(tables, as_of, MIX_MONTHS)
    sizes = decisions.segment_sizes(day.segments)
    workload = decisions.ladder_workload(day.actions, as_of, WORKLOAD_DAYS)
    by_band = decisions.limit_changes_by_band(day.limits, band_order)
    model_health = health.champion_health(tables, champions, as_of, labels)
    result_tables = {
        "aging": aging,
        "roll_rates": portfolio.roll_rate_matrix(rates),
        "vintage": portfolio.vintage_table(curves),
        "payment_mix": portfolio.payment_mix_table(mix),
        "scores": decisions.score_summary(day.segments),
        "segments": sizes,
        "workload": workload,
        "limits": decisions.limit_changes(day.limits),
        "limits_by_band": by_band,
        "limit_reasons": decisions.limit_reason_counts(day.limits),
        "health": model_health.table,
    }
    result_charts = {
        "aging": charts.aging_chart(aging),
        "roll_rates": charts.roll_rate_chart(rates),
        "vintage": charts.vintage_chart(curves),
        "payment_mix": charts.payment_mix_chart(mix),
        "pd": charts.score_chart(decisions.score_histogram(day.segments, "pd"), "PD distribution"),
        "propensity": charts.score_chart(
            decisions.score_histogram(day.segments, "propensity"),
            "Propensity-to-pay distribution (customers with something overdue)",
        ),
        "segments": charts.segment_chart(sizes),
        "workload": charts.workload_chart(workload),
        "limits": charts.limit_chart(by_band),
        "calibration": charts.calibration_chart(model_health.calibration),
    }
    models = day.manifest.get("models", {})
    provenance = {
        "store_version": str(day.manifest.get("store_version", "")),
        "outputs": str(day.folder),
        "scored_with": ", ".join(f"{k} v{v['version']}" for k, v in sorted(models.items())),
        "champions": ", ".join(f"{c.kind} v{c.version}" for c in champions),
    }
    return PortfolioReport(
        as_of=as_of,
        headline=portfolio.portfolio_headline(aging),
        tables=result_tables,
        charts=result_charts,
        provenance=provenance,
    )


def limit_band_names(config_dir: Path | None = None) -> list[str]:
    """The risk bands of the limit policy (config/limits.yaml), lowest PD first."""
    folder = config_dir or get_settings().config_dir
    bands = load_limits(folder / "limits.yaml").bands
    return [band.name for band in sorted(bands, key=lambda band: band.pd_from)]


def build_report(
    store: Store | Path | str,
    outputs: Path,
    as_of: date,
    *,
    tracking_uri: str | None = None,
    config_dir: Path | None = None,
) -> PortfolioReport:
    """Read the store, the day's outputs and the champions, and assemble the report.

    Raises `OutputsMissingError` without out/<as_of>/, `models.scoring.NoChampionError`
    without a champion, and ValueError for an empty store.
    """
    store = store if isinstance(store, Store) else Store(store)
    if store.version is None:
        raise ValueError(f"store {store.root} is empty: run `regua ingest` first")
    day = read_outputs(outputs, as_of)
    uri = tracking_uri or get_settings().mlflow_tracking_uri
    champions = [load_champion(kind, uri) for kind in MODEL_KINDS]
    folder = config_dir or get_settings().config_dir
    tables = {name: store.scan(name) for name in TABLES}
    log.info("portfolio report at %s from %s and %s", as_of, store.root, day.folder)
    return assemble_report(
        tables,
        day,
        champions,
        as_of,
        labels=load_labels(folder / "labels.yaml"),
        band_order=limit_band_names(folder),
    )
