"""The 5 C's of credit: character, capacity, capital, collateral and conditions.

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

from features.behaviour import (
    AS_OF,
    amount,
    count,
    open_balance,
    share,
)
from regua.contract import COLLATERAL_TYPES, CUSTOMER_KINDS, EMPLOYMENT_TYPES, PRODUCTS, UFS

INSTALMENT_WINDOW = 90
DAYS_PER_MONTH = 30.4375
DAYS_PER_YEAR = 365.25
MACRO_INDICATORS = ("unemployment", "selic", "ipca", "default_rate", "income_growth")
NATIONAL = "BR"
CHANGE_MONTHS = 3


def whole_units(days: pl.Expr, unit_days: float) -> pl.Expr:
    """Whole units (months, years) in a number of days, as Int32."""
    return (days / unit_days).floor().cast(pl.Int32)


def monthly_billed() -> pl.Expr:
    """Mean monthly amount of the invoices that matured in the instalment window."""
    return amount(f"_billed_{INSTALMENT_WINDOW}") / (INSTALMENT_WINDOW / 30)


def character_features() -> dict[str, pl.Expr]:
    """Track record, tenure and bureau score."""
    return {
        "tenure_months": whole_units(AS_OF - pl.col("opened"), DAYS_PER_MONTH),
        "age_years": whole_units(AS_OF - pl.col("born"), DAYS_PER_YEAR),
        "bureau_score": pl.col("bureau_score"),
        "invoices_lifetime": count("_invoices"),
        "paid_late_share_lifetime": share(count("_late"), count("_settled")),
        "dpd_worst_lifetime": count("_dpd_worst_lifetime"),
        "days_since_last_delinquency": AS_OF - pl.col("_last_late_day"),
    }


def capacity_features() -> dict[str, pl.Expr]:
    """Income, employment, limit and how much of the income the debts take."""
    income = pl.col("declared_income")
    return {
        "declared_income": income,
        "employment_type": pl.col("employment_type").cast(pl.Enum(EMPLOYMENT_TYPES)),
        "employment_tenure_months": pl.col("employment_tenure_months"),
        "credit_limit": pl.col("credit_limit"),
        "installment_to_income": share(monthly_billed(), income),
        "debt_to_income": share(pl.col("monthly_debt_obligations") + monthly_billed(), income),
        "open_balance_to_income": share(open_balance(), income),
    }


def capital_features() -> dict[str, pl.Expr]:
    """Assets, savings and equity, alone and against income and limit."""
    return {
        "assets": pl.col("assets"),
        "savings": pl.col("savings"),
        "equity": pl.col("equity"),
        "savings_to_income": share(pl.col("savings"), pl.col("declared_income")),
        "assets_to_limit": share(pl.col("assets"), pl.col("credit_limit")),
    }


def collateral_features() -> dict[str, pl.Expr]:
    """Collateral kind and how much of the limit and of the open balance it covers."""
    value = pl.col("collateral_value")
    return {
        "collateral_type": pl.col("collateral_type").cast(pl.Enum(COLLATERAL_TYPES)),
        "collateral_value": value,
        "collateral_to_limit": share(value, pl.col("credit_limit")),
        "collateral_to_open_balance": share(value, open_balance()),
    }


def main_product() -> pl.Expr:
    """The product with the largest amount issued in the last 365 days (ties: contract order)."""
    amounts = [pl.col(f"_product_{p}").fill_null(0.0) for p in PRODUCTS]
    best = pl.max_horizontal(amounts)
    choice = pl.when(best <= 0).then(pl.lit(None, pl.String))
    for product, billed in zip(PRODUCTS, amounts, strict=True):
        choice = choice.when(billed == best).then(pl.lit(product))
    return choice.cast(pl.Enum(PRODUCTS))


def conditions_features() -> dict[str, pl.Expr]:
    """Segment (kind, state, main product) and macro conditions at the customer's state."""
    return {
        "kind": pl.col("kind").cast(pl.Enum(CUSTOMER_KINDS)),
        "state": pl.col("state").cast(pl.Enum(UFS)),
        "main_product": main_product(),
        **{name: pl.coalesce(f"{name}_uf", f"{name}_br") for name in MACRO_INDICATORS[:1]},
        "unemployment_change_3m": pl.coalesce("unemployment_change_uf", "unemployment_change_br"),
        **{name: pl.coalesce(f"{name}_uf", f"{name}_br") for name in MACRO_INDICATORS[1:]},
    }


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
