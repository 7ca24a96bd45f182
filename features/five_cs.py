"""Helpers for the 5 C's of credit features: character, capacity, capital, collateral
and conditions (declared in `features.catalog`), and the macro conditions they read.

Registration data (income, employment, assets, savings, equity, obligations, limit,
bureau score, collateral) is the customer's *current* record: the data contract keeps
no history of it, so a training snapshot at a past as_of sees today's values. That is a
known leak for back-tests; a dated customer history in the contract would remove it.

Conditions use the macro table point in time: for each indicator the value of the
latest month already published at as_of (month + 1 month <= as_of), in the customer's
state when the table has it, else the national (BR) figure.
"""

from __future__ import annotations

import polars as pl

from regua.contract import MACRO_INDICATORS, PRODUCT_FAMILIES
from regua.features.behaviour import AS_OF, amount

INSTALMENT_WINDOW = 90
DAYS_PER_MONTH = 30.4375
DAYS_PER_YEAR = 365.25
NATIONAL = "BR"
CHANGE_MONTHS = 3


def whole_units(days: pl.Expr, unit_days: float) -> pl.Expr:
    """Whole units (months, years) in a number of days, as Int32."""
    return (days / unit_days).floor().cast(pl.Int32)


def monthly_billed() -> pl.Expr:
    """Mean monthly amount of the invoices that matured in the instalment window."""
    return amount(f"_billed_{INSTALMENT_WINDOW}") / (INSTALMENT_WINDOW / 30)


def main_product() -> pl.Expr:
    """The product with the largest amount issued in the last 365 days (ties: contract order)."""
    amounts = [pl.col(f"_product_{p}").fill_null(0.0) for p in PRODUCT_FAMILIES]
    best = pl.max_horizontal(amounts)
    choice = pl.when(best <= 0).then(pl.lit(None, pl.String))
    for product, billed in zip(PRODUCT_FAMILIES, amounts, strict=True):
        choice = choice.when(billed == best).then(pl.lit(product))
    return choice.cast(pl.Enum(PRODUCT_FAMILIES))


def macro_value(indicator: str) -> pl.Expr:
    """An indicator (see `join_macro`) in the customer's state, else the national figure."""
    return pl.coalesce(f"{indicator}_uf", f"{indicator}_br")


def build_macro_conditions(macro: pl.LazyFrame, as_of_days: pl.LazyFrame) -> pl.LazyFrame:
    """Per as_of and region, each indicator's latest published value and the 3-month change.

    A month's value is published by as_of when month + 1 month <= as_of. The change is the
    latest published value minus the latest value at least 3 months older than the month
    the latest published one would be (month + 4 months <= as_of).
    """
    month = pl.col("month")
    published = month.dt.offset_by("1mo").cast(pl.Int32) <= AS_OF
    older = month.dt.offset_by(f"{CHANGE_MONTHS + 1}mo").cast(pl.Int32) <= AS_OF
    long = (
        macro.select("month", "indicator", "value", pl.col("region").fill_null(NATIONAL))
        .join(as_of_days, how="cross")
        .filter(published)
        .group_by("as_of_day", "region", "indicator")
        .agg(
            pl.col("value").sort_by("month").last().alias("now"),
            pl.col("value").filter(older).sort_by(month.filter(older)).last().alias("before"),
        )
    )
    wide = [
        pl.col("now").filter(pl.col("indicator") == name).first().alias(name)
        for name in MACRO_INDICATORS
    ]
    change = (
        (pl.col("now") - pl.col("before"))
        .filter(pl.col("indicator") == "unemployment")
        .first()
        .alias("unemployment_change")
    )
    return long.group_by("as_of_day", "region").agg(*wide, change)


def join_macro(base: pl.LazyFrame, conditions: pl.LazyFrame) -> pl.LazyFrame:
    """Add each indicator for the customer's state (`*_uf`) and nationally (`*_br`)."""
    names = [*MACRO_INDICATORS, "unemployment_change"]
    regional = conditions.rename({n: f"{n}_uf" for n in names}).rename({"region": "state"})
    national = (
        conditions.filter(pl.col("region") == NATIONAL)
        .drop("region")
        .rename({n: f"{n}_br" for n in names})
    )
    return base.join(regional, on=["as_of_day", "state"], how="left", maintain_order="left").join(
        national, on="as_of_day", how="left", maintain_order="left"
    )
