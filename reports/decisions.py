"""Figures of a day's decisions (out/<as_of>/): scores, segments, ladder workload, limits.

Each function takes one of the frames `regua score` writes (`segments.parquet`,
`actions.parquet`, `limits.parquet`) and returns aggregates only: no customer appears in
the output, so the tables can go into a report for the collection manager.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import polars as pl

from regua.contract import CHANNELS

DECISIONS: tuple[str, ...] = ("increase", "decrease", "keep")
"""Limit decisions in the order a reader looks for them."""
WEEKDAYS_PT: tuple[str, ...] = ("seg", "ter", "qua", "qui", "sex", "sáb", "dom")
"""Short Portuguese weekday names, Monday first."""


def score_summary(
    scores: pl.DataFrame, columns: Sequence[str] = ("pd", "propensity")
) -> pl.DataFrame:
    """Per score column: customers scored (non-null), mean and the 10/25/50/75/90th percentiles."""
    rows = [
        scores.select(
            pl.lit(name).alias("score"),
            pl.col(name).count().cast(pl.Int64).alias("customers"),
            pl.col(name).mean().alias("mean"),
            *[
                pl.col(name).quantile(q, interpolation="linear").alias(f"p{round(q * 100)}")
                for q in (0.1, 0.25, 0.5, 0.75, 0.9)
            ],
        )
        for name in columns
    ]
    return pl.concat(rows).cast(
        {
            "mean": pl.Float64,
            "p10": pl.Float64,
            "p25": pl.Float64,
            "p50": pl.Float64,
            "p75": pl.Float64,
            "p90": pl.Float64,
        }
    )


def score_histogram(scores: pl.DataFrame, column: str = "pd", bins: int = 20) -> pl.DataFrame:
    """Customers per equal-width bin of a probability on [0, 1]: lower, upper, customers.

    The last bin includes 1; nulls (not scored) are left out.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    counts = (
        scores.select(pl.col(column).drop_nulls())
        .select((pl.col(column) * bins).floor().clip(0, bins - 1).cast(pl.Int32).alias("bin"))
        .group_by("bin")
        .agg(pl.len().cast(pl.Int64).alias("customers"))
    )
    grid = pl.DataFrame({"bin": pl.int_range(0, bins, dtype=pl.Int32, eager=True)})
    return (
        grid.join(counts, on="bin", how="left")
        .sort("bin")
        .select(
            (pl.col("bin") / bins).alias("lower"),
            ((pl.col("bin") + 1) / bins).alias("upper"),
            pl.col("customers").fill_null(0),
        )
    )


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


def ladder_workload(actions: pl.DataFrame, as_of: date, days: int = 14) -> pl.DataFrame:
    """Scheduled actions per day and channel for `days` days from as_of, with totals.

    One row per day (the customer's local day of `scheduled_for`) with its Portuguese
    weekday, one column per channel, and the day's total; days without work are zeros.
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    window = pl.date_range(as_of, as_of + timedelta(days=days - 1), "1d", eager=True)
    extra = sorted(set(actions["channel"].drop_nulls().unique()) - set(CHANNELS))
    channels = [*CHANNELS, *extra]
    counts = (
        actions.filter(pl.col("status") == "scheduled")
        .with_columns(pl.col("scheduled_for").dt.date().alias("day"))
        .filter(pl.col("day").is_between(as_of, window[-1]))
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


def _decision_order(limits: pl.DataFrame) -> list[str]:
    present = set(limits["decision"].unique().to_list())
    return [d for d in DECISIONS if d in present] + sorted(present - set(DECISIONS))


def limit_changes(limits: pl.DataFrame) -> pl.DataFrame:
    """Customers, share, limits before and after (BRL) and mean change per limit decision."""
    total = limits.height
    order = {d: i for i, d in enumerate(_decision_order(limits))}
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


def limit_changes_by_band(
    limits: pl.DataFrame, band_order: Sequence[str] | None = None
) -> pl.DataFrame:
    """Customers per risk band (rows, in `band_order` when given) and decision (columns)."""
    decisions = _decision_order(limits)
    bands = list(band_order) if band_order else sorted(limits["risk_band"].unique().to_list())
    bands += sorted(set(limits["risk_band"].unique().to_list()) - set(bands))
    grid = pl.DataFrame({"risk_band": bands, "_order": range(len(bands))}).join(
        pl.DataFrame({"decision": decisions}), how="cross"
    )
    counts = limits.group_by("risk_band", "decision").agg(pl.len().cast(pl.Int64).alias("n"))
    wide = (
        grid.join(counts, on=["risk_band", "decision"], how="left")
        .with_columns(pl.col("n").fill_null(0))
        .sort("_order")
        .pivot(on="decision", index="risk_band", values="n")
    )
    return wide.select("risk_band", *decisions, pl.sum_horizontal(decisions).alias("customers"))


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
