"""Protected attributes: never features, always reported.

Sex, gender, marital status, race, ethnicity and religion (and any attribute a company
adds) may not be used to score anyone. Where such an attribute exists in the data, the
model report shows the mean score and the bad rate per group so disparities are seen.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

PROTECTED_ATTRIBUTES: tuple[str, ...] = (
    "sex",
    "gender",
    "marital_status",
    "race",
    "ethnicity",
    "religion",
)


def protected_columns(columns: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """The columns that name a protected attribute (case-insensitive, exact names)."""
    banned = {name.lower() for name in (*PROTECTED_ATTRIBUTES, *extra)}
    return [c for c in columns if c.lower() in banned]


def check_no_protected_features(features: Iterable[str], extra: Iterable[str] = ()) -> None:
    """Raise if a protected attribute is among the model's features."""
    found = protected_columns(features, extra)
    if found:
        raise ValueError(f"protected attributes cannot be model features: {found}")


def fairness_table(
    scored: pl.DataFrame,
    *,
    score: str = "pd",
    label: str | None = "label",
    extra: Iterable[str] = (),
) -> pl.DataFrame:
    """Customers, mean score and bad rate per group of every protected attribute present."""
    rows = []
    for attribute in protected_columns(scored.columns, extra):
        aggregations = [pl.len().alias("customers"), pl.col(score).mean().alias("mean_score")]
        if label is not None and label in scored.columns:
            aggregations.append(pl.col(label).mean().alias("bad_rate"))
        table = (
            scored.group_by(pl.col(attribute).cast(pl.String).fill_null("(não informado)"))
            .agg(aggregations)
            .rename({attribute: "group"})
            .with_columns(pl.lit(attribute).alias("attribute"))
        )
        rows.append(table)
    if not rows:
        return pl.DataFrame(
            schema={"attribute": pl.String, "group": pl.String, "customers": pl.UInt32,
                    "mean_score": pl.Float64, "bad_rate": pl.Float64}
        )  # fmt: skip
    return (
        pl.concat(rows, how="diagonal_relaxed")
        .select("attribute", "group", "customers", "mean_score", pl.col("^bad_rate$"))
        .sort("attribute", "group")
    )
