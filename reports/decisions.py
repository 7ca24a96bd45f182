"""Figures of a day's decisions (out/<as_of>/): scores, segments, ladder workload, limits.

Each function takes one of the frames `regua score` writes (`segments.parquet`,
`actions.parquet`, `limits.parquet`) and returns aggregates only: no customer appears in
the output, so the tables can go into a report for the collection manager. Segment
sizes, ladder workload and limit changes live in `regua.dunning.summary`, which the
nightly run's summary artifact is built from too; they are re-exported here so the report
reads one module.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from regua.dunning.summary import (
    decision_order,
    ladder_workload,
    limit_changes,
    limit_reason_counts,
    segment_sizes,
)

__all__ = [
    "ladder_workload",
    "limit_changes",
    "limit_changes_by_band",
    "limit_reason_counts",
    "score_histogram",
    "score_summary",
    "segment_sizes",
]


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


def limit_changes_by_band(
    limits: pl.DataFrame, band_order: Sequence[str] | None = None
) -> pl.DataFrame:
    """Customers per risk band (rows, in `band_order` when given) and decision (columns)."""
    decisions = decision_order(limits)
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
