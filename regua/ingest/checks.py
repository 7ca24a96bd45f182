"""Derived check columns for the rules Great Expectations cannot see on one frame.

References to other tables, dates held in a referenced table, consistency between a
payment and its invoice and the invoice's total paid need a join; polars computes a flag
per row here and the expectation suite asserts the flag, so every rule still reports
through one suite.
"""

from __future__ import annotations

import polars as pl

from regua.contract import DateOrder, Table

CUSTOMER_MATCHES_INVOICE = "_customer_matches_invoice"
WITHIN_INVOICE_AMOUNT = "_within_invoice_amount"


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
    frame: pl.DataFrame,
    contract: Table,
    known: dict[str, pl.DataFrame],
    *,
    overpayment_tolerance_share: float,
) -> pl.DataFrame:
    """Flag references to rows missing from `known` and bring in dates held elsewhere.

    `known` maps a table name to the rows the batch may reference: the store after the
    tables processed earlier in this run were applied to it (for payments also the
    payments themselves, for the overpayment check). One join per reference brings the
    flag, the referenced dates and (for payments) the invoice's customer.
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
    if contract.name == "payments":
        out = add_overpayment_check(
            out, known["invoices"], known["payments"], tolerance_share=overpayment_tolerance_share
        )
    return out


def add_overpayment_check(
    payments: pl.DataFrame,
    invoices: pl.DataFrame,
    stored: pl.DataFrame,
    *,
    tolerance_share: float,
) -> pl.DataFrame:
    """Flag payments that take their invoice's total paid above amount x (1 + tolerance).

    The total counts the payments `stored` (but those this batch replaces) and then the
    batch's own, in order of paid_at and payment_id, each payment_id once and only positive
    amounts: the payments that fit are kept, the one that tips the total over and those
    after it are flagged. A payment without a known invoice gets null (the reference
    rule rejects it). Only invoices the batch takes over the limit are put in order, so a
    normal day costs one group-by and one join.
    """
    row = "_payment_row"
    batch = payments.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias(row),
        "payment_id",
        "invoice_id",
        "paid_at",
        pl.when(pl.col("payment_id").is_first_distinct() & (pl.col("amount") > 0))
        .then(pl.col("amount"))
        .otherwise(0.0)
        .alias("_counted"),
    )
    paid_before = (
        stored.join(payments.select("payment_id"), on="payment_id", how="anti")
        .group_by("invoice_id")
        .agg(pl.col("amount").sum().alias("_paid_before"))
    )
    per_invoice = (
        batch.group_by("invoice_id")
        .agg(pl.col("_counted").sum().alias("_batch_paid"))
        .join(
            invoices.select(
                "invoice_id", (pl.col("amount") * (1 + tolerance_share)).alias("_limit")
            ),
            on="invoice_id",
            how="inner",
        )
        .join(paid_before, on="invoice_id", how="left")
        .with_columns(pl.col("_paid_before").fill_null(0.0), pl.col("_limit").round(2))
    )
    over = per_invoice.filter(
        (pl.col("_paid_before") + pl.col("_batch_paid")).round(2) > pl.col("_limit")
    )
    in_order = (
        batch.join(over, on="invoice_id", how="inner")
        .sort("invoice_id", "paid_at", "payment_id", nulls_last=True)
        .select(
            row,
            (
                (pl.col("_paid_before") + pl.col("_counted").cum_sum().over("invoice_id")).round(2)
                <= pl.col("_limit")
            ).alias("_fits"),
        )
    )
    flags = (
        batch.select(row, "invoice_id")
        .join(
            per_invoice.select("invoice_id", pl.lit(True).alias("_known")),
            on="invoice_id",
            how="left",
        )
        .join(in_order, on=row, how="left")
        .sort(row)
        .select(
            pl.when(pl.col("_known"))
            .then(pl.col("_fits").fill_null(True))
            .alias(WITHIN_INVOICE_AMOUNT)
        )
    )
    return payments.with_columns(flags.to_series())
