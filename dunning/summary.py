"""What a day's decisions add up to: segment sizes, ladder workload, limit changes.

Each function takes one of the day's outputs (`segments`, `actions`, `limits`) and returns
aggregates only: no customer appears, so the figures can go to a collection manager. The
portfolio report (`reports.report`) and the nightly run's summary (`night_summary`, the
Prefect table artifact) are both built from these functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from regua.contract import CHANNELS
from regua.dunning.actions import Decisions
from regua.models.drift import DriftReport

if TYPE_CHECKING:  # annotations only: importing ingest loads Great Expectations (seconds)
    from regua.ingest.ingest import IngestReport
    from regua.models.scoring import Champion

DECISIONS: tuple[str, ...] = ("increase", "decrease", "keep", "held_by_analyst")
"""Limit decisions in the order a reader looks for them."""
WEEKDAYS_PT: tuple[str, ...] = ("seg", "ter", "qua", "qui", "sex", "sáb", "dom")
"""Short Portuguese weekday names, Monday first."""
WORKLOAD_DAYS = 14
"""Days of scheduled actions a summary shows, from as_of."""
DRIFT_TOP = 10
"""Most shifted features a summary lists, after the scores."""

SUMMARY_SCHEMA = pl.Schema(
    {"section": pl.String(), "item": pl.String(), "value": pl.Float64(), "detail": pl.String()}
)
"""One figure per row: what part of the night, what is counted, how many, and a note."""


def segment_sizes(segments: pl.DataFrame) -> pl.DataFrame:
    """Customers, share, mean PD and mean propensity per segment, riskiest first."""
    total = segments.height
    return (
        segments.group_by("segment", "ladder_id")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            pl.col("pd").mean().alias("mean_pd"),
            pl.col("propensity").mean().alias("mean_propensity"),
        )
        .with_columns((pl.col("customers") / total if total else pl.lit(0.0)).alias("share"))
        .select("segment", "ladder_id", "customers", "share", "mean_pd", "mean_propensity")
        .sort(["mean_pd", "segment"], descending=[True, False])
    )


def ladder_workload(actions: pl.DataFrame, as_of: date, days: int = WORKLOAD_DAYS) -> pl.DataFrame:
    """Scheduled actions per day and channel for `days` days from as_of + 1, with totals.

    One row per day (the customer's local day of `scheduled_for`) with its Portuguese
    weekday, one column per channel, and the day's total; days without work are zeros.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    first = as_of + timedelta(days=1)  # a night schedules from the next day on
    window = pl.date_range(first, first + timedelta(days=days - 1), "1d", eager=True)
    extra = sorted(set(actions["channel"].drop_nulls().unique()) - set(CHANNELS))
    channels = [*CHANNELS, *extra]
    counts = (
        actions.filter(pl.col("status") == "scheduled")
        .with_columns(pl.col("scheduled_for").dt.date().alias("day"))
        .filter(pl.col("day").is_between(first, window[-1]))
        .group_by("day", "channel")
        .agg(pl.len().cast(pl.Int64).alias("actions"))
    )
    grid = pl.DataFrame({"day": window}).join(
        pl.DataFrame({"channel": channels, "_order": range(len(channels))}), how="cross"
    )
    wide = (
        grid.join(counts, on=["day", "channel"], how="left")
        .with_columns(pl.col("actions").fill_null(0))
        .sort("day", "_order")
        .pivot(on="channel", index="day", values="actions")
    )
    return wide.select(
        "day",
        pl.col("day")
        .dt.weekday()
        .replace_strict(dict(enumerate(WEEKDAYS_PT, start=1)), return_dtype=pl.String)
        .alias("weekday"),
        *channels,
        pl.sum_horizontal(channels).alias("total"),
    )


def decision_order(limits: pl.DataFrame) -> list[str]:
    """The limit decisions present, in DECISIONS order, any unknown one after them."""
    present = set(limits["decision"].unique().to_list())
    return [d for d in DECISIONS if d in present] + sorted(present - set(DECISIONS))


def limit_changes(limits: pl.DataFrame) -> pl.DataFrame:
    """Customers, share, limits before and after (BRL) and mean change per limit decision."""
    total = limits.height
    order = {d: i for i, d in enumerate(decision_order(limits))}
    return (
        limits.group_by("decision")
        .agg(
            pl.len().cast(pl.Int64).alias("customers"),
            pl.col("current_limit").sum().round(2).alias("current_total"),
            pl.col("recommended_limit").sum().round(2).alias("recommended_total"),
            pl.col("change").sum().round(2).alias("change_total"),
            pl.col("change_pct").mean().alias("mean_change_pct"),
        )
        .with_columns((pl.col("customers") / total if total else pl.lit(0.0)).alias("share"))
        .sort(pl.col("decision").replace_strict(order, return_dtype=pl.Int32))
        .select(
            "decision",
            "customers",
            "share",
            "current_total",
            "recommended_total",
            "change_total",
            "mean_change_pct",
        )
    )


def limit_reason_counts(limits: pl.DataFrame) -> pl.DataFrame:
    """How many customers each limit reason code applies to, most frequent first."""
    return (
        limits.select("customer_id", "reason_codes")
        .explode("reason_codes")
        .drop_nulls("reason_codes")
        .group_by(pl.col("reason_codes").alias("reason_code"))
        .agg(pl.col("customer_id").n_unique().cast(pl.Int64).alias("customers"))
        .sort(["customers", "reason_code"], descending=[True, False])
    )


def _rows(section: str, rows: list[tuple[str, float | None, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(section, item, value, detail) for item, value, detail in rows],
        schema=SUMMARY_SCHEMA,
        orient="row",
        strict=False,
    )


def _decision_rows(
    decisions: Decisions, outputs: str | None, features_cached: bool
) -> list[tuple[str, float | None, str]]:
    by_status = decisions.actions.group_by("status").len().sort("status").iter_rows()
    return [
        ("customers scored", decisions.segments.height, ""),
        *[(f"actions {status}", n, "") for status, n in by_status],
        ("features", None, "reused from the cache" if features_cached else "built"),
        ("outputs", None, outputs or "not written"),
    ]


def _segment_rows(segments: pl.DataFrame) -> list[tuple[str, float | None, str]]:
    rows = []
    for segment, ladder, customers, share, mean_pd, mean_propensity in segment_sizes(
        segments
    ).iter_rows():
        propensity = "" if mean_propensity is None else f", mean propensity {mean_propensity:.3f}"
        detail = f"ladder {ladder}; {share:.1%} of customers; mean PD {mean_pd:.3f}{propensity}"
        rows.append((segment, customers, detail))
    return rows


def _workload_rows(actions: pl.DataFrame, as_of: date) -> list[tuple[str, float | None, str]]:
    workload = ladder_workload(actions, as_of)
    channels = workload.columns[2:-1]
    rows = []
    for row in workload.iter_rows(named=True):
        detail = ", ".join(f"{c} {row[c]:,}" for c in channels if row[c])
        rows.append((f"{row['day']} {row['weekday']}", row["total"], detail))
    return rows


def _limit_rows(limits: pl.DataFrame) -> list[tuple[str, float | None, str]]:
    rows = [
        (
            decision,
            customers,
            f"{share:.1%} of customers; limits BRL {current:,.2f} -> BRL {recommended:,.2f}",
        )
        for decision, customers, share, current, recommended, *_ in limit_changes(
            limits
        ).iter_rows()
    ]
    return rows


def _drift_rows(drift: DriftReport | None) -> list[tuple[str, float | None, str]]:
    if drift is None:
        return [("not measured", None, "the champions carry no training sample: retrain them")]
    counts = ", ".join(f"{level} {n}" for level, n in drift.level_counts().items())
    rows = [
        (
            "thresholds",
            None,
            f"warn above {drift.warn_above}, breach above {drift.breach_above}; {counts}",
        )
    ]
    shifts = drift.top_shifts(DRIFT_TOP).select("column", "kind", "psi", "z", "level")
    for column, kind, psi, z, level in shifts.iter_rows():
        if kind == "macro":  # a move, not a PSI: the z of the month's change
            moved = "unknown" if z is None else f"monthly change z {z:+.1f}"
            rows.append((column, None, f"macro, {moved}, {level or 'unknown'}"))
        else:
            rows.append((column, psi, f"{kind}, {level or 'unknown'}"))
    return rows


def _ingest_rows(ingest: IngestReport) -> list[tuple[str, float | None, str]]:
    state = f"version {ingest.store_version}" if ingest.changed else "unchanged"
    rows: list[tuple[str, float | None, str]] = [("store", None, state)]
    for table, totals in ingest.totals().items():
        in_store = ingest.store_rows.get(table, 0)
        detail = f"read {totals['read']:,}, rejected {totals['rejected']:,}; {in_store:,} in store"
        rows.append((table, totals["stored"], detail))
    for f in ingest.files:  # every file read and every entry left unread, by name
        rows.append((f"file {Path(f.path).name}", f.rows_read, f"read as {f.table}"))
    rows.extend((f"ignored {entry.name}", None, entry.reason) for entry in ingest.ignored)
    return rows


def night_summary(
    decisions: Decisions,
    as_of: date,
    champions: Sequence[Champion],
    *,
    drift: DriftReport | None,
    ingest: IngestReport | None = None,
    outputs: str | None = None,
    seconds_by_stage: Mapping[str, float] | None = None,
    features_cached: bool = False,
) -> pl.DataFrame:
    """The night in one table (SUMMARY_SCHEMA): exports, decisions, segments, workload,
    limits, models, drift and time, as the run's artifact shows them.

    `outputs` is where the outputs went (None: they were not written, e.g. a drift
    breach stopped the night); `ingest` is the day's ingest when there was one.
    """
    sections = [
        ("exports", _ingest_rows(ingest) if ingest is not None else []),
        ("decisions", _decision_rows(decisions, outputs, features_cached)),
        ("segment", _segment_rows(decisions.segments)),
        ("workload", _workload_rows(decisions.actions, as_of)),
        ("limits", _limit_rows(decisions.limits)),
        (
            "limit reason",
            [(c, n, "") for c, n in limit_reason_counts(decisions.limits).iter_rows()],
        ),
        ("model", [(c.kind, None, f"version {c.version}, run {c.run_id}") for c in champions]),
        ("drift", _drift_rows(drift)),
        ("seconds", [(stage, s, "") for stage, s in (seconds_by_stage or {}).items()]),
    ]
    return pl.concat([_rows(section, rows) for section, rows in sections])
