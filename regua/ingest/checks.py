"""Derived check columns for the rules Great Expectations cannot see on one frame.

References to other tables, dates held in a referenced table and consistency between
a payment and its invoice need a join; polars computes a flag per row here and the
expectation suite asserts the flag, so every rule still reports through one suite.
"""

from __future__ import annotations

import polars as pl

from regua.contract import DateOrder, Table

CUSTOMER_MATCHES_INVOICE = "_customer_matches_invoice"


def reference_flag(column: str) -> str:
    """Name of the flag that says `column` points at a known row."""
    return f"_known_{column}"


def via_column(via: str, column: str) -> str:
    """Name of a column brought in from a referenced table (e.g. the invoice's issued_at)."""
    return f"_{via}_{column}"


def day_column(column: str) -> str:
    """Name of the calendar day of a datetime column, for ordering it against a date."""
    return f"_{column}_day"


def compared_columns(contract: Table, order: DateOrder) -> tuple[str, str]:
    """The (later, earlier) columns a date-order rule compares.

    A date meeting a datetime is compared by calendar day: a promise made at 10:32 for
    the same day is in order.
    """
    if order.via:
        return order.later, via_column(order.via, order.earlier)
    names = []
    for name in (order.later, order.earlier):
        is_datetime = isinstance(contract.column(name).dtype, pl.Datetime)
        mixed = contract.column(order.later).dtype != contract.column(order.earlier).dtype
        names.append(day_column(name) if is_datetime and mixed else name)
    return names[0], names[1]


def add_reference_checks(
    frame: pl.DataFrame, contract: Table, known: dict[str, pl.DataFrame]
) -> pl.DataFrame:
    """Flag references to rows missing from `known` and bring in dates held elsewhere.

    `known` maps a table name to the rows the batch may reference: the store after the
    tables processed earlier in this run were applied to it. One join per reference
    brings the flag, the referenced dates and (for payments) the invoice's customer.
    """
    days = {
        day_column(name): name
        for order in contract.date_orders
        for name in (order.later, order.earlier)
        if day_column(name) in compared_columns(contract, order)
    }
    out = frame.with_columns(pl.col(name).dt.date().alias(day) for day, name in days.items())
    for ref in contract.references:
        flag = reference_flag(ref.column)
        brought = [pl.col(ref.key).alias(ref.column), pl.lit(True).alias(flag)]
        brought += [
            pl.col(order.earlier).alias(via_column(order.via, order.earlier))
            for order in contract.date_orders
            if order.via == ref.table
        ]
        owner = contract.name == "payments" and ref.table == "invoices"
        if owner:
            brought.append(pl.col("customer_id").alias("_invoice_customer"))
        out = out.join(known[ref.table].select(brought), on=ref.column, how="left")
        out = out.with_columns(
            pl.when(pl.col(ref.column).is_null())
            .then(None)
            .otherwise(pl.col(flag).fill_null(False))
            .alias(flag)
        )
        if owner:
            out = out.with_columns(
                pl.when(pl.col("_invoice_customer").is_null())
                .then(None)
                .otherwise(pl.col("_invoice_customer") == pl.col("customer_id"))
                .alias(CUSTOMER_MATCHES_INVOICE)
            ).drop("_invoice_customer")
    return out
