"""Portfolio figures from the store: aging of receivables, roll rates, vintages, payment methods.

Everything here reads the canonical tables as polars frames (a store's scans or frames
made by hand) and is point in time: a figure at `as_of` uses only invoices issued and
payments received on or before it. Open invoices, what is still owed on them and their
days past due come from `features.ledger` (`open_positions`), so an invoice is open here
exactly when the features, the labels and the ladders see it open.

Days past due count from the due date: an invoice due on as_of is 0 days past due and
"current"; one due the day before is 1 day past due. Customers are bucketed by their
oldest open invoice (the worst days past due); a customer with nothing open is current.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Literal

import polars as pl

from regua.contract import PAYMENT_METHODS
from regua.features.behaviour import bucket
from regua.features.ledger import (
    Ledger,
    day_number,
    invoice_ledger,
    ledger_from_frames,
    on_each_date,
    open_positions,
)
from regua.models.train import month_end, month_end_on_or_before, month_ends

Frame = pl.LazyFrame | pl.DataFrame

BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "90+")
"""Delinquency buckets by days past due, from not yet late to more than 90 days."""
BUCKET = pl.Enum(BUCKETS)
METHOD = pl.Enum(PAYMENT_METHODS)
EPOCH = date(1970, 1, 1)


def bucket_of(days_past_due: pl.Expr) -> pl.Expr:
    """The bucket of a days-past-due count, by the rule of `delinquency_bucket_now`.

    current (<= 0), 1-30, 31-60, 61-90, 90+ (> 90); null stays null.
    """
    return bucket(days_past_due).replace_strict(dict(enumerate(BUCKETS)), return_dtype=BUCKET)


def observation_dates(as_of: date, count: int) -> list[date]:
    """`count` dates, oldest first: the month-ends before as_of, then as_of itself."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if month_end(as_of) == as_of:
        return month_ends(as_of, count)
    return [*month_ends(month_end_on_or_before(as_of), count - 1), as_of]


def _lazy(frame: Frame) -> pl.LazyFrame:
    return frame.lazy()


def _days(dates: Sequence[date]) -> list[int]:
    return sorted({(d - EPOCH).days for d in dates})


def _ledger(tables: Mapping[str, Frame]) -> Ledger:
    """The ledger of the tables; customers keep their opening day (`opened`)."""
    customers = _lazy(tables["customers"]).select(
        "customer_id", day_number("opened_at").alias("opened")
    )
    return ledger_from_frames(customers, tables["invoices"], tables["payments"])


def invoice_positions(tables: Mapping[str, Frame], dates: Sequence[date]) -> pl.DataFrame:
    """Invoices open at each date, with what is still owed, days past due and bucket.

    Columns: customer_id, invoice_id, as_of, due_at, outstanding (BRL), days_past_due,
    bucket; sorted by as_of and invoice_id.
    """
    return (
        open_positions(_ledger(tables), _days(dates))
        .select(
            "customer_id",
            "invoice_id",
            pl.col("as_of_day").cast(pl.Date).alias("as_of"),
            pl.col("due").cast(pl.Date).alias("due_at"),
            "outstanding",
            "days_past_due",
            bucket_of(pl.col("days_past_due")).alias("bucket"),
        )
        .sort("as_of", "invoice_id")
        .collect()
    )


def _bucket_grid() -> pl.DataFrame:
    return pl.DataFrame({"bucket": pl.Series(BUCKETS, dtype=BUCKET)})


def aging_table(tables: Mapping[str, Frame], as_of: date) -> pl.DataFrame:
    """Receivables at as_of by bucket: open invoices, customers, amount owed and its share.

    Customers are counted once, in the bucket of their worst open invoice; every bucket is
    listed, empty ones as zeros.
    """
    positions = invoice_positions(tables, [as_of])
    by_invoice = positions.group_by("bucket").agg(
        pl.len().alias("invoices"), pl.col("outstanding").sum().alias("amount")
    )
    by_customer = (
        positions.group_by("customer_id")
        .agg(pl.col("bucket").max())
        .group_by("bucket")
        .agg(pl.len().alias("customers"))
    )
    table = (
        _bucket_grid()
        .join(by_invoice, on="bucket", how="left")
        .join(by_customer, on="bucket", how="left")
        .select(
            "bucket",
            pl.col("invoices").fill_null(0).cast(pl.Int64),
            pl.col("customers").fill_null(0).cast(pl.Int64),
            pl.col("amount").fill_null(0.0).round(2),
        )
    )
    total = table["amount"].sum()
    return table.with_columns(
        (pl.col("amount") / total if total > 0 else pl.lit(0.0)).alias("amount_share")
    )


def portfolio_headline(aging: pl.DataFrame) -> dict[str, float]:
    """Headline figures of an aging table: what is owed, how much is overdue, how much 90+."""
    overdue = aging.filter(pl.col("bucket") != "current")
    total = float(aging["amount"].sum())
    late = float(overdue["amount"].sum())
    severe = float(aging.filter(pl.col("bucket") == "90+")["amount"].sum())
    return {
        "open_invoices": float(aging["invoices"].sum()),
        "customers_with_open_invoices": float(aging["customers"].sum()),
        "outstanding": round(total, 2),
        "overdue": round(late, 2),
        "overdue_share": late / total if total else 0.0,
        "severe_share": severe / total if total else 0.0,
        "overdue_customers": float(overdue["customers"].sum()),
    }


def customer_buckets(tables: Mapping[str, Frame], dates: Sequence[date]) -> pl.DataFrame:
    """Every customer opened by each date with their worst days past due, bucket and balance.

    A customer with nothing open is current, at 0 days past due and R$ 0.
    """
    books = _ledger(tables)
    days = _days(dates)
    worst = (
        open_positions(books, days)
        .group_by("customer_id", "as_of_day")
        .agg(pl.col("days_past_due").max(), pl.col("outstanding").sum())
    )
    population = on_each_date(
        books.customers.select("customer_id", "opened"),
        days,
        pl.col("opened") <= pl.col("as_of_day"),
    )
    return (
        population.join(worst, on=["customer_id", "as_of_day"], how="left")
        .select(
            "customer_id",
            pl.col("as_of_day").cast(pl.Date).alias("as_of"),
            pl.col("days_past_due").fill_null(0).clip(lower_bound=0),
            pl.col("outstanding").fill_null(0.0),
        )
        .with_columns(bucket_of(pl.col("days_past_due")).alias("bucket"))
        .sort("as_of", "customer_id")
        .collect()
    )


def roll_rates(buckets: pl.DataFrame) -> pl.DataFrame:
    """Share of customers moving between buckets from one date to the next, pooled.

    Counts every pair of consecutive dates in `buckets` (from `customer_buckets`); a
    bucket nobody started in has null rates rather than zeros.
    """
    dates = buckets.select(pl.col("as_of").unique().sort())
    pairs = dates.with_columns(pl.col("as_of").shift(-1).alias("next_as_of")).drop_nulls()
    moves = (
        buckets.select("customer_id", "as_of", pl.col("bucket").alias("from_bucket"))
        .join(pairs, on="as_of")
        .join(
            buckets.select(
                "customer_id",
                pl.col("as_of").alias("next_as_of"),
                pl.col("bucket").alias("to_bucket"),
            ),
            on=["customer_id", "next_as_of"],
        )
        .group_by("from_bucket", "to_bucket")
        .agg(pl.len().alias("customers"))
    )
    grid = (
        _bucket_grid()
        .rename({"bucket": "from_bucket"})
        .join(_bucket_grid().rename({"bucket": "to_bucket"}), how="cross")
    )
    counted = grid.join(moves, on=["from_bucket", "to_bucket"], how="left").with_columns(
        pl.col("customers").fill_null(0).cast(pl.Int64)
    )
    total = pl.col("customers").sum().over("from_bucket")
    return counted.with_columns(
        pl.when(total > 0).then(pl.col("customers") / total).alias("rate")
    ).sort("from_bucket", "to_bucket")


def roll_rate_matrix(rates: pl.DataFrame) -> pl.DataFrame:
    """Roll rates as a matrix: rows are starting buckets, columns the buckets reached."""
    sizes = rates.group_by("from_bucket").agg(pl.col("customers").sum())
    wide = rates.sort("from_bucket", "to_bucket").pivot(
        on="to_bucket", index="from_bucket", values="rate"
    )
    return (
        sizes.join(wide, on="from_bucket")
        .sort("from_bucket")
        .select("from_bucket", "customers", *BUCKETS)
    )


def _month_index(day: pl.Expr) -> pl.Expr:
    return day.dt.year().cast(pl.Int32) * 12 + day.dt.month().cast(pl.Int32) - 1


def vintage_curves(
    tables: Mapping[str, Frame],
    as_of: date,
    *,
    days_past_due: int = 60,
    period: Literal["month", "quarter"] = "quarter",
    since: date | None = None,
) -> pl.DataFrame:
    """Cumulative share of each origination cohort late by `days_past_due`, by month on book.

    A cohort is the month or quarter customers were opened in, from `since` (default:
    the first invoice in the data, so no cohort started before the history). Month on
    book k ends on the last day of the k-th month after a customer's opening month and
    counts only when that day is on or before as_of for every customer of the cohort
    (so each point of a curve counts the same customers); a customer is late once an
    invoice is still unsettled `days_past_due` days after its due date (the delinquency
    label's event). Columns: cohort, months_on_book, customers, bad, rate.
    """
    books = _ledger(tables)
    as_of_day = (as_of - EPOCH).days
    start = since
    if start is None:
        first = invoice_ledger(books.rows).select(pl.col("issued").min()).collect().item()
        start = EPOCH + timedelta(days=first) if first is not None else as_of
    late_on = pl.col("due") + days_past_due
    first_late = (
        invoice_ledger(books.rows)
        .filter(pl.col("settled") > late_on)
        .group_by("cust")
        .agg(late_on.min().cast(pl.Date).alias("late_on"))
    )
    full_months = 0 if month_end(as_of) == as_of else 1
    as_of_index = as_of.year * 12 + as_of.month - 1
    opened = pl.col("opened").cast(pl.Date)
    truncate = "1mo" if period == "month" else "1q"
    schema = {
        "cohort": pl.Date,
        "months_on_book": pl.Int32,
        "customers": pl.UInt32,
        "bad": pl.UInt32,
        "rate": pl.Float64,
    }
    curves = (
        books.customers.filter(pl.col("opened").is_between((start - EPOCH).days, as_of_day))
        .join(first_late, on="cust", how="left")
        .select(
            opened.dt.truncate(truncate).alias("cohort"),
            (_month_index(pl.col("late_on")) - _month_index(opened)).alias("late_mob"),
            (pl.lit(as_of_index) - _month_index(opened) - full_months).alias("max_mob"),
        )
        .filter(pl.col("max_mob") >= 0)
        # a cohort's curve stops where its last opened customer stops, so each point
        # counts the same customers and the cumulative rate never falls
        .with_columns(pl.col("max_mob").min().over("cohort"))
        .with_columns(
            pl.int_ranges(0, pl.col("max_mob") + 1, dtype=pl.Int32).alias("months_on_book")
        )
        .explode("months_on_book")
        .group_by("cohort", "months_on_book")
        .agg(
            pl.len().alias("customers"),
            (pl.col("late_mob") <= pl.col("months_on_book")).fill_null(False).sum().alias("bad"),
        )
        .with_columns((pl.col("bad") / pl.col("customers")).alias("rate"))
        .sort("cohort", "months_on_book")
        .collect()
    )
    return curves.cast(schema)  # type: ignore[arg-type]


def vintage_table(curves: pl.DataFrame, months: Sequence[int] = (3, 6, 12)) -> pl.DataFrame:
    """Vintage curves read at a few months on book, one row per cohort with its size.

    A cohort that has not reached a month yet has null there.
    """
    sizes = curves.filter(pl.col("months_on_book") == 0).select(
        "cohort", pl.col("customers").cast(pl.Int64)
    )
    columns = [f"mob_{m}" for m in months]
    picked = curves.filter(pl.col("months_on_book").is_in(list(months))).select(
        "cohort", pl.format("mob_{}", "months_on_book").alias("mob"), "rate"
    )
    wide = (
        picked.pivot(on="mob", index="cohort", values="rate")
        if picked.height
        else pl.DataFrame(schema={"cohort": pl.Date})
    )
    for column in columns:
        if column not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(column))
    return sizes.join(wide, on="cohort", how="left").select("cohort", "customers", *columns)


def payment_method_mix(tables: Mapping[str, Frame], as_of: date, months: int = 12) -> pl.DataFrame:
    """Payments per month and method up to as_of: count, amount and share of the month."""
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    last = as_of.replace(day=1)
    index = last.year * 12 + last.month - 1 - (months - 1)
    first = date(index // 12, index % 12 + 1, 1)
    counted = (
        _lazy(tables["payments"])
        .filter(pl.col("paid_at").cast(pl.Date).is_between(first, as_of))
        .group_by(
            pl.col("paid_at").cast(pl.Date).dt.truncate("1mo").alias("month"),
            pl.col("method").cast(METHOD),
        )
        .agg(pl.len().alias("payments"), pl.col("amount").sum())
        .collect()
    )
    grid = pl.DataFrame({"month": pl.date_range(first, last, "1mo", eager=True)}).join(
        pl.DataFrame({"method": pl.Series(PAYMENT_METHODS, dtype=METHOD)}), how="cross"
    )
    mix = grid.join(counted, on=["month", "method"], how="left").with_columns(
        pl.col("payments").fill_null(0).cast(pl.Int64), pl.col("amount").fill_null(0.0).round(2)
    )
    month_total = pl.col("amount").sum().over("month")
    return mix.with_columns(
        pl.when(month_total > 0).then(pl.col("amount") / month_total).alias("amount_share")
    ).sort("month", "method")


def payment_mix_table(mix: pl.DataFrame) -> pl.DataFrame:
    """The payment mix as one row per month: payments, amount (BRL) and each method's share."""
    totals = mix.group_by("month").agg(pl.col("payments").sum(), pl.col("amount").sum().round(2))
    shares = mix.with_columns(pl.col("method").cast(pl.String)).pivot(
        on="method", index="month", values="amount_share"
    )
    methods = [m for m in PAYMENT_METHODS if m in shares.columns]
    return (
        totals.join(shares, on="month")
        .sort("month")
        .select("month", "payments", "amount", *[pl.col(m).alias(f"{m}_share") for m in methods])
    )
