"""Helpers for the 5 C's of credit features: character, capacity, capital, collateral
and conditions (declared in `features.catalog`), and the macro conditions they read.

Registration data comes from the `customers` table, the company's current record, except
the attributes the optional `customer_attributes` table dates (bureau score, credit limit,
declared income, employment type and tenure, monthly debt obligations; issue 19):
`attributes_at` takes each at as_of from the customer's latest row with valid_from <=
as_of (one backward as-of join, no loop per customer). A customer with rows but none valid
yet at as_of has them unknown (null) then; a customer without rows keeps the `customers`
values at every as_of. That fallback, and the undated columns (assets, savings, equity,
collateral), are today's record at every past as_of: a back-test on them sees the future
(after a default the bureau score drops and the limit is cut), which the dated history
removes. Employment tenure at as_of is the row's tenure plus the whole months (of
30.4375 days) since its valid_from.

Conditions use the macro table point in time: for each indicator the value of the
latest month already published at as_of (month + 1 month <= as_of), in the customer's
state when the table has it, else the national (BR) figure.
"""

from __future__ import annotations

import polars as pl

from regua.contract import ATTRIBUTE_COLUMNS, MACRO_INDICATORS, PRODUCT_FAMILIES
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


_VALID_DAY = "_valid_day"
_DATED = "_dated"


def attributes_at(
    base: pl.LazyFrame, history: pl.LazyFrame, customer_keys: pl.LazyFrame
) -> pl.LazyFrame:
    """`base` (rows per cust and as_of_day, in as_of_day order) with the dated attributes
    taken at as_of from `history` (the customer_attributes table), point in time.

    One backward as-of join by customer on valid_from <= as_of: the latest row valid at
    as_of gives every attribute (a null stays null: unknown then). Customers with no row
    at all keep `base`'s values (the customers table); customers whose rows all start
    after as_of get nulls. Tenure grows by the whole months since valid_from. The row order
    of `base` is kept.
    """
    at = {name: f"_at_{name}" for name in ATTRIBUTE_COLUMNS}
    rows = (
        history.filter(pl.col("valid_from").is_not_null())
        .join(customer_keys, on="customer_id", how="inner")
        .select(
            "cust",
            pl.col("valid_from").cast(pl.Int32).alias(_VALID_DAY),
            *(pl.col(name).alias(alias) for name, alias in at.items()),
        )
        .sort(_VALID_DAY)
    )
    dated = rows.select("cust").unique().with_columns(pl.lit(True).alias(_DATED))
    joined = base.join_asof(
        rows,
        left_on="as_of_day",
        right_on=_VALID_DAY,
        by="cust",
        strategy="backward",
        check_sortedness=False,  # both sides are sorted on the day; `by` hides it from polars
    ).join(dated, on="cust", how="left", maintain_order="left")
    months_since = whole_units(pl.col("as_of_day") - pl.col(_VALID_DAY), DAYS_PER_MONTH)
    value = {name: pl.col(alias) for name, alias in at.items()}
    value["employment_tenure_months"] = value["employment_tenure_months"] + months_since
    return joined.with_columns(
        pl.when(pl.col(_DATED).fill_null(False))
        .then(value[name])
        .otherwise(pl.col(name))
        .alias(name)
        for name in ATTRIBUTE_COLUMNS
    ).drop(_VALID_DAY, _DATED, *at.values())
