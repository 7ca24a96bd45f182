"""The shape of a credit book: aging, roll rates and cure rates by days past due.

These are the figures a collections head compares with the market: how the open amount
and the customers spread over days-past-due buckets at a month end, how customers move
between buckets from one month end to the next (the roll-rate matrix) and how many in
each bucket have nothing past due a month later (the cure rate). They read the canonical
invoices and payments and nothing else, so they measure a simulated book and a real one
alike.

Open, outstanding and days past due follow the ledger (`regua.features.ledger`; a test
holds the two equal): an invoice is settled on the first day its payments reach its
amount less `settle_tolerance_brl` (config/ledger.yaml) and never without a payment; it
is open at the end of day t when issued by t and not settled by t; its days past due at
t are t minus its due date, so an invoice due on t is 0 days past due and current. This
module lives in the core (the simulator measures itself with it), which may not import
the feature stage, so it restates those three rules over dates instead of importing
them.

A customer is in the book at t when they have an open invoice or were billed in the
`active_days` days up to t (31 by default: a live account, whose bill may already be
paid), and their bucket is that of their oldest past-due open invoice (the largest days
past due): current when nothing open is past due, then 1-30, 31-60, 61-90, 91-180 and
180+ (more than 180 days). Without the billed customers (`active_days=None`) the book of
a lender whose bills fall due within the month they are issued holds almost nobody
current at a month end, and account-based rates lose their denominator.

With `charge_off_days`, an invoice more than that many days past due has been written
off: it leaves the open book (whatever is recovered later does not bring it back), and
a customer with an invoice written off between two month ends ends the second in
`charged_off`, not in a bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import pairwise

import polars as pl

from regua.config.ledger import load_ledger

Frame = pl.LazyFrame | pl.DataFrame

EPOCH = date(1970, 1, 1)
BUCKET_EDGES: tuple[int, ...] = (30, 60, 90, 180)
"""Upper days past due of each past-due bucket but the last: 1-30, 31-60, 61-90, 91-180, 180+."""
CURRENT = "current"
"""Nothing past due: every open invoice is due on or after the day (or nothing is open)."""
CHARGED_OFF = "charged_off"
"""Where a customer goes when one of their invoices is written off between two dates."""
ACTIVE_DAYS = 31
"""A customer billed in the last 31 days is a live account, in the book even with nothing
open: every monthly bill falls in the window, whatever the billing day."""


def bucket_labels(edges: Sequence[int] = BUCKET_EDGES) -> tuple[str, ...]:
    """Names of the buckets `edges` cut: current, 1-30, 31-60, ..., then `<last edge>+`."""
    if not edges or any(e < 1 for e in edges) or list(edges) != sorted(set(edges)):
        raise ValueError(f"bucket edges must be increasing whole days from 1, got {edges}")
    lows = [1, *(e + 1 for e in edges[:-1])]
    return (
        CURRENT,
        *(f"{low}-{high}" for low, high in zip(lows, edges, strict=True)),
        f"{edges[-1]}+",
    )


def bucket_of(days_past_due: pl.Expr, edges: Sequence[int] = BUCKET_EDGES) -> pl.Expr:
    """The bucket of a days-past-due count (0 or less is current), as an ordered Enum."""
    labels = bucket_labels(edges)
    chain = pl.when(days_past_due <= 0).then(pl.lit(CURRENT))
    for edge, label in zip(edges, labels[1:], strict=False):
        chain = chain.when(days_past_due <= edge).then(pl.lit(label))
    return chain.otherwise(pl.lit(labels[-1])).cast(pl.Enum(labels))


def _day(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.Date).cast(pl.Int32)


def _cents(column: str) -> pl.Expr:
    return (pl.col(column) * 100).round().cast(pl.Int64)


def _day_numbers(dates: Sequence[date]) -> list[int]:
    """Dates as day numbers; they must be strictly increasing."""
    days = [(d - EPOCH).days for d in dates]
    if any(b <= a for a, b in pairwise(days)):
        raise ValueError(f"dates must be strictly increasing, got {[str(d) for d in dates]}")
    return days


def _tolerance_cents(tolerance: float | None) -> int:
    return load_ledger().settle_tolerance_cents if tolerance is None else round(tolerance * 100)


def book_positions(
    invoices: Frame,
    payments: Frame,
    dates: Sequence[date],
    *,
    tolerance: float | None = None,
) -> pl.LazyFrame:
    """Invoices open at the end of each date, with what is still owed and days past due.

    Columns: customer_id, invoice_id, as_of_day (day number), outstanding_cents (amount
    less payments up to the day, never below 0), days_past_due. The ledger's rules (see
    the module docstring); `tolerance` in BRL, default config/ledger.yaml. Payments of
    unknown invoices are ignored.
    """
    days = _day_numbers(dates)
    owed = invoices.lazy().select(
        "invoice_id",
        "customer_id",
        _day("issued_at").alias("issued"),
        _day("due_at").alias("due"),
        _cents("amount").alias("owed"),
    )
    paid = (
        payments.lazy()
        .select("invoice_id", _day("paid_at").alias("day"), _cents("amount").alias("paid"))
        .join(owed.select("invoice_id", "owed"), on="invoice_id", how="inner")
        .group_by("invoice_id", "day")
        .agg(pl.col("paid").sum(), pl.col("owed").first())
        .cache()
    )
    # settled on the first payment day whose running total reaches the amount less the
    # tolerance: the running total only grows, so later days never reopen it
    settled = (
        paid.sort("invoice_id", "day")
        .with_columns(pl.col("paid").cum_sum().over("invoice_id").alias("running"))
        .filter(pl.col("running") >= pl.col("owed") - _tolerance_cents(tolerance))
        .group_by("invoice_id")
        .agg(pl.col("day").min().alias("settled"))
    )
    # computed once and shared by every date (without the cache each date redoes it)
    ledger = owed.join(settled, on="invoice_id", how="left").cache()
    # one literal-dated copy per date rather than a cross join, so the filter is pushed down
    still_open = pl.concat(
        [
            ledger.with_columns(pl.lit(day, pl.Int32).alias("as_of_day")).filter(
                (pl.col("issued") <= day)
                & (pl.col("settled").is_null() | (pl.col("settled") > day))
            )
            for day in days
        ]
    )
    paid_by_day = (
        still_open.select("invoice_id", "as_of_day")
        .join(paid.select("invoice_id", "day", "paid"), on="invoice_id", how="inner")
        .filter(pl.col("day") <= pl.col("as_of_day"))
        .group_by("invoice_id", "as_of_day")
        .agg(pl.col("paid").sum())
    )
    return still_open.join(paid_by_day, on=["invoice_id", "as_of_day"], how="left").select(
        "customer_id",
        "invoice_id",
        "as_of_day",
        (pl.col("owed") - pl.col("paid").fill_null(0))
        .clip(lower_bound=0)
        .alias("outstanding_cents"),
        (pl.col("as_of_day") - pl.col("due")).alias("days_past_due"),
    )


def _in_book(positions: pl.LazyFrame, charge_off_days: int | None) -> pl.LazyFrame:
    """Positions not yet written off."""
    if charge_off_days is None:
        return positions
    return positions.filter(pl.col("days_past_due") <= charge_off_days)


def _billed(invoices: Frame, days: Sequence[int], active_days: int) -> pl.LazyFrame:
    """Customers billed in the `active_days` days up to each day (customer_id, as_of_day)."""
    issued = invoices.lazy().select("customer_id", _day("issued_at").alias("issued"))
    return pl.concat(
        [
            issued.filter(pl.col("issued").is_between(day - active_days + 1, day)).select(
                "customer_id", pl.lit(day, pl.Int32).alias("as_of_day")
            )
            for day in days
        ]
    ).unique()


def _customer_states(
    invoices: Frame,
    positions: pl.LazyFrame,
    days: Sequence[int],
    edges: Sequence[int],
    charge_off_days: int | None,
    active_days: int | None,
) -> pl.LazyFrame:
    """Each customer in the book at each day: oldest days past due, balance, bucket.

    The book holds the customers with something open (not written off) and, with
    `active_days`, those billed in that many days up to the day: current at R$ 0 when
    nothing is open.
    """
    owing = (
        _in_book(positions, charge_off_days)
        .group_by("customer_id", "as_of_day")
        .agg(
            pl.col("days_past_due").max().alias("days_past_due"),
            pl.col("outstanding_cents").sum().alias("balance_cents"),
        )
    )
    if active_days is not None:
        owing = owing.join(
            _billed(invoices, days, active_days),
            on=["customer_id", "as_of_day"],
            how="full",
            coalesce=True,
        ).with_columns(pl.col("days_past_due").fill_null(0), pl.col("balance_cents").fill_null(0))
    return owing.with_columns(bucket_of(pl.col("days_past_due"), edges).alias("bucket"))


def _share(column: str, total: float | int) -> pl.Expr:
    return (pl.col(column) / total if total else pl.lit(None, pl.Float64)).alias(f"{column}_share")


def aging_distribution(
    invoices: Frame,
    payments: Frame,
    as_of: date,
    buckets: Sequence[int] = BUCKET_EDGES,
    *,
    tolerance: float | None = None,
    charge_off_days: int | None = None,
    active_days: int | None = ACTIVE_DAYS,
) -> pl.DataFrame:
    """The book at the end of as_of by days-past-due bucket, every bucket listed.

    Columns: bucket; customers and customer_share, each customer in the bucket of their
    oldest past-due open invoice (customers billed in the last `active_days` days with
    nothing past due are current); amount and amount_share, each customer's whole open
    balance (due or not yet due) in that bucket, the way a contract is classified by its
    oldest overdue instalment; invoice_amount and invoice_amount_share, each open
    invoice's outstanding amount in the bucket of its own days past due. Amounts in BRL.
    """
    labels = bucket_labels(buckets)
    positions = book_positions(invoices, payments, [as_of], tolerance=tolerance).cache()
    in_book = _in_book(positions, charge_off_days)
    by_customer = (
        _customer_states(
            invoices, positions, _day_numbers([as_of]), buckets, charge_off_days, active_days
        )
        .group_by("bucket")
        .agg(pl.len().alias("customers"), pl.col("balance_cents").sum().alias("amount"))
    )
    by_invoice = in_book.group_by(bucket_of(pl.col("days_past_due"), buckets).alias("bucket")).agg(
        pl.col("outstanding_cents").sum().alias("invoice_amount")
    )
    grid = pl.LazyFrame({"bucket": pl.Series(labels, dtype=pl.Enum(labels))})
    table = (
        grid.join(by_customer, on="bucket", how="left", maintain_order="left")
        .join(by_invoice, on="bucket", how="left", maintain_order="left")
        .select(
            "bucket",
            pl.col("customers").fill_null(0).cast(pl.Int64),
            (pl.col("amount").fill_null(0) / 100).alias("amount"),
            (pl.col("invoice_amount").fill_null(0) / 100).alias("invoice_amount"),
        )
        .collect()
    )
    return table.select(
        "bucket",
        "customers",
        _share("customers", table["customers"].sum()).alias("customer_share"),
        pl.col("amount").round(2),
        _share("amount", table["amount"].sum()),
        pl.col("invoice_amount").round(2),
        _share("invoice_amount", table["invoice_amount"].sum()),
    )


def _transitions(
    invoices: Frame,
    payments: Frame,
    months: Sequence[date],
    edges: Sequence[int],
    tolerance: float | None,
    charge_off_days: int | None,
    active_days: int | None,
) -> pl.LazyFrame:
    """Each customer in the book at a date with their state at the next date.

    Columns: from_day, to_day, customer_id, from_bucket, balance_cents (at from_day),
    to_bucket (a bucket, or charged_off; current when nothing is past due, including
    when the customer has left the book).
    """
    days = _day_numbers(months)
    if len(days) < 2:
        raise ValueError(f"roll and cure rates need at least two dates, got {len(days)}")
    labels = bucket_labels(edges)
    to_labels = (*labels, CHARGED_OFF)
    to_enum = pl.Enum(to_labels)
    positions = book_positions(invoices, payments, months, tolerance=tolerance).cache()
    states = _customer_states(
        invoices, positions, days, edges, charge_off_days, active_days
    ).cache()
    pairs = pl.LazyFrame(
        {"from_day": days[:-1], "to_day": days[1:]},
        schema={"from_day": pl.Int32, "to_day": pl.Int32},
    )
    origin = states.join(pairs, left_on="as_of_day", right_on="from_day").select(
        pl.col("as_of_day").alias("from_day"),
        "to_day",
        "customer_id",
        pl.col("bucket").alias("from_bucket"),
        "balance_cents",
    )
    reached = states.select(
        pl.col("as_of_day").alias("to_day"),
        "customer_id",
        pl.col("bucket").cast(pl.String).alias("_reached"),
    )
    moved = origin.join(reached, on=["to_day", "customer_id"], how="left")
    if charge_off_days is not None:
        # written off in (from_day, to_day]: past the age at to_day, not yet at from_day
        gap = pl.col("as_of_day") - pl.col("from_day")  # the join keeps as_of_day, not to_day
        written_off = (
            positions.join(pairs, left_on="as_of_day", right_on="to_day")
            .filter(
                (pl.col("days_past_due") > charge_off_days)
                & (pl.col("days_past_due") - gap <= charge_off_days)
            )
            .select(pl.col("as_of_day").alias("to_day"), "customer_id", pl.lit(True).alias("_off"))
            .unique()
        )
        moved = moved.join(written_off, on=["to_day", "customer_id"], how="left")
    else:
        moved = moved.with_columns(pl.lit(None, pl.Boolean).alias("_off"))
    to_bucket = (
        pl.when(pl.col("_off").fill_null(False))
        .then(pl.lit(CHARGED_OFF))
        .otherwise(pl.col("_reached").fill_null(CURRENT))
        .cast(to_enum)
    )
    return moved.select(
        "from_day",
        "to_day",
        "customer_id",
        "from_bucket",
        "balance_cents",
        to_bucket.alias("to_bucket"),
    )


def roll_rates(
    invoices: Frame,
    payments: Frame,
    months: Sequence[date],
    buckets: Sequence[int] = BUCKET_EDGES,
    *,
    tolerance: float | None = None,
    charge_off_days: int | None = None,
    active_days: int | None = ACTIVE_DAYS,
    by_month: bool = False,
) -> pl.DataFrame:
    """Where the customers of each bucket at a month end are at the next month end.

    One row per (from_bucket, to_bucket), every pair listed: customers and their share of
    the from_bucket's customers; amount (their open balance at the first date, BRL) and
    its share. Pooled over the consecutive pairs of `months` (a rate is the total moved
    over the total that started there, null when nobody started there), or one set of
    rows per pair (from_month, to_month) with `by_month`. to_bucket current is a cure
    (nothing past due, or nothing open); charged_off is listed with `charge_off_days`.
    """
    labels = bucket_labels(buckets)
    to_labels = (*labels, CHARGED_OFF) if charge_off_days is not None else labels
    moves = _transitions(
        invoices, payments, months, buckets, tolerance, charge_off_days, active_days
    )
    keys = ["from_day", "to_day"] if by_month else []
    counted = moves.group_by(*keys, "from_bucket", "to_bucket").agg(
        pl.len().alias("customers"), pl.col("balance_cents").sum().alias("amount")
    )
    from_enum, to_enum = pl.Enum(labels), pl.Enum((*labels, CHARGED_OFF))
    grid = pl.LazyFrame({"from_bucket": pl.Series(labels, dtype=from_enum)}).join(
        pl.LazyFrame({"to_bucket": pl.Series(to_labels, dtype=to_enum)}), how="cross"
    )
    if by_month:
        days = _day_numbers(months)
        pairs = pl.LazyFrame(
            {"from_day": days[:-1], "to_day": days[1:]},
            schema={"from_day": pl.Int32, "to_day": pl.Int32},
        )
        grid = pairs.join(grid, how="cross")
    started = pl.col("customers").sum().over(*keys, "from_bucket")
    amount_started = pl.col("amount").sum().over(*keys, "from_bucket")
    dated = (
        [
            pl.col("from_day").cast(pl.Date).alias("from_month"),
            pl.col("to_day").cast(pl.Date).alias("to_month"),
        ]
        if by_month
        else []
    )
    return (
        grid.join(counted, on=[*keys, "from_bucket", "to_bucket"], how="left")
        .with_columns(
            pl.col("customers").fill_null(0).cast(pl.Int64), pl.col("amount").fill_null(0)
        )
        .select(
            *dated,
            "from_bucket",
            "to_bucket",
            "customers",
            pl.when(started > 0).then(pl.col("customers") / started).alias("share"),
            (pl.col("amount") / 100).round(2).alias("amount"),
            pl.when(amount_started > 0)
            .then(pl.col("amount") / amount_started)
            .alias("amount_share"),
        )
        .sort(*(["from_month"] if by_month else []), "from_bucket", "to_bucket")
        .collect()
    )


def roll_matrix(rates: pl.DataFrame, value: str = "share") -> pl.DataFrame:
    """Pooled roll rates (`roll_rates`) as a matrix: a row per from_bucket, a column per
    to_bucket holding `value` (share or amount_share), and the customers who started there."""
    if "from_month" in rates.columns:
        raise ValueError("roll_matrix takes pooled roll rates (by_month=False)")
    columns = [str(b) for b in rates["to_bucket"].unique(maintain_order=True)]
    sizes = rates.group_by("from_bucket").agg(pl.col("customers").sum())
    wide = rates.pivot(on="to_bucket", index="from_bucket", values=value)
    return (
        sizes.join(wide, on="from_bucket")
        .sort("from_bucket")
        .select("from_bucket", "customers", *columns)
    )


def forward_roll_rates(rates: pl.DataFrame) -> pl.DataFrame:
    """The classic roll rates: share of each bucket's customers in a later bucket (or
    charged off) at the next date: current → 1-30 or worse, 1-30 → 31-60 or worse, ...

    Reads `roll_rates` output (pooled, or by month: then one row per from_month).
    Columns: [from_month,] from_bucket, rolled_to (the next bucket's name), customers,
    rolled, roll_rate.
    """
    keys = ["from_month"] if "from_month" in rates.columns else []
    labels = rates["from_bucket"].dtype.categories.to_list()  # type: ignore[attr-defined]
    worse = pl.col("to_bucket").to_physical() > pl.col("from_bucket").to_physical()
    next_name = (
        pl.col("from_bucket")
        .cast(pl.String)
        .replace_strict(
            {low: f"{high} or worse" for low, high in pairwise(labels)},
            default=None,
            return_dtype=pl.String,
        )
    )
    return (
        rates.filter(pl.col("from_bucket") != labels[-1])
        .group_by(*keys, "from_bucket")
        .agg(
            pl.col("customers").sum(),
            pl.col("customers").filter(worse).sum().alias("rolled"),
        )
        .with_columns(
            next_name.alias("rolled_to"),
            pl.when(pl.col("customers") > 0)
            .then(pl.col("rolled") / pl.col("customers"))
            .alias("roll_rate"),
        )
        .select(*keys, "from_bucket", "rolled_to", "customers", "rolled", "roll_rate")
        .sort(*keys, "from_bucket")
    )


def cure_rates(
    invoices: Frame,
    payments: Frame,
    months: Sequence[date],
    buckets: Sequence[int] = BUCKET_EDGES,
    *,
    tolerance: float | None = None,
    charge_off_days: int | None = None,
    active_days: int | None = ACTIVE_DAYS,
    by_month: bool = False,
) -> pl.DataFrame:
    """Share of each past-due bucket's customers at a month end with nothing past due at
    the next (a write-off in between is not a cure).

    One row per past-due bucket, pooled over the consecutive pairs of `months` (or per
    pair with `by_month`): customers, cured, cure_rate (null when nobody started there),
    amount (their balance at the first date, BRL), cured_amount, amount_cure_rate.
    """
    rates = roll_rates(
        invoices,
        payments,
        months,
        buckets,
        tolerance=tolerance,
        charge_off_days=charge_off_days,
        active_days=active_days,
        by_month=by_month,
    )
    keys = ["from_month", "to_month"] if by_month else []
    cured = pl.col("to_bucket") == CURRENT
    return (
        rates.filter(pl.col("from_bucket") != CURRENT)
        .group_by(*keys, "from_bucket", maintain_order=True)
        .agg(
            pl.col("customers").sum(),
            pl.col("customers").filter(cured).sum().alias("cured"),
            pl.col("amount").sum(),
            pl.col("amount").filter(cured).sum().alias("cured_amount"),
        )
        .select(
            *keys,
            pl.col("from_bucket").alias("bucket"),
            "customers",
            "cured",
            pl.when(pl.col("customers") > 0)
            .then(pl.col("cured") / pl.col("customers"))
            .alias("cure_rate"),
            pl.col("amount").round(2),
            pl.col("cured_amount").round(2),
            pl.when(pl.col("amount") > 0)
            .then(pl.col("cured_amount") / pl.col("amount"))
            .alias("amount_cure_rate"),
        )
    )
