"""Dated facts about invoices, payments and promises that hold whatever the as_of.

Each fact is a day computed only from rows dated on or before it. The day an invoice
was settled uses only the payments up to that day, so "settled by as_of"
(`settled <= as_of`) reads the same whether or not later payments exist; the day a
promise was kept likewise. Computing these once lets any number of as_of dates share
the work, and point-in-time correctness reduces to comparing days with as_of.

Days are Int32 day numbers (days since 1970-01-01) so windows are integer comparisons;
`NEVER` stands for "has not happened" (an unsettled invoice, a broken promise), which
keeps every comparison with as_of null-free. Customers are numbered (`cust`) so the
heavy grouping works on integers.

The invoice and payment ledgers come from one sort: each invoice row followed by its
payments in day order. Running totals, the settling day and the next agreement payment
are then prefix sums and fills along that order, with no per-invoice grouping.

This is the one home of "is this invoice settled, open, how many days past due":

- settled: on the first day its payments (in whole centavos) reach its amount less the
  settle tolerance, `settle_tolerance_brl` in config/ledger.yaml; an invoice without
  payments is never settled;
- open at the end of day t: issued by t and not settled by t (`is_open_at`);
- days past due at t: t - due date for an open invoice (`days_past_due_at`); 0 or less
  is not yet late, and an invoice due on t is 0 days past due.

Features and the nightly's open invoices use the integer ledger (`build_ledger_rows`,
`open_invoices_at`); labels, ladders and reports read the same facts by date through
`settlement_dates`, `invoice_status_at` and `open_positions`, so they all agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from regua.config.ledger import load_ledger
from regua.contract import PRODUCT_FAMILIES

Frame = pl.LazyFrame | pl.DataFrame

NEVER = 2**31 - 1
"""Day number meaning "not happened": later than any as_of."""
RECEIVED_OUTCOMES = ("delivered", "read", "answered", "promise", "refused")
"""Contact outcomes that mean the message or call reached the customer."""
ANSWERED_OUTCOMES = ("answered", "promise", "refused")
"""Contact outcomes that mean the customer responded."""

_INVOICE, _PAYMENT = 0, 1
EPOCH = date(1970, 1, 1)


def settle_tolerance_cents(tolerance: float | None = None) -> int:
    """The settle tolerance in whole centavos: `tolerance` BRL, else config/ledger.yaml's."""
    if tolerance is None:
        return load_ledger().settle_tolerance_cents
    return round(tolerance * 100)


def day_number(column: str) -> pl.Expr:
    """A Date (or Datetime) column as Int32 days since 1970-01-01."""
    return pl.col(column).cast(pl.Date).cast(pl.Int32)


def cents(amount: pl.Expr) -> pl.Expr:
    """BRL amounts as whole cents, so running totals are exact."""
    return (amount * 100).round().cast(pl.Int64)


def number_customers(customers: pl.LazyFrame) -> pl.LazyFrame:
    """Customers with a dense integer key `cust`: their row number, taken before any join."""
    return customers.with_row_index("cust")


def number_invoices(invoices: pl.LazyFrame, customer_keys: pl.LazyFrame) -> pl.LazyFrame:
    """Invoices of known customers with integer keys `inv` and `cust`, dates as day numbers.

    `inv` is the row number in `invoices`, taken before any join: joins do not keep row
    order, and every use of the numbering must agree.
    """
    return (
        invoices.with_row_index("inv")
        .join(customer_keys, on="customer_id", how="inner")
        .select(
            "inv",
            "invoice_id",
            "cust",
            day_number("issued_at").alias("issued"),
            day_number("due_at").alias("due"),
            "amount",
            pl.col("product_family").cast(pl.Enum(PRODUCT_FAMILIES)).to_physical().alias("product"),
        )
    )


def link_payments(payments: pl.LazyFrame, numbered_invoices: pl.LazyFrame) -> pl.LazyFrame:
    """Payments with their invoice's `inv`; payments of unknown invoices are dropped.

    Joins on a 64-bit hash of invoice_id (much cheaper than on the string) and then keeps
    only pairs whose ids are equal, so a hash collision cannot pair the wrong rows. A
    payments frame without `method` has no agreement payments.
    """
    hashed = pl.col("invoice_id").hash().alias("_hash")
    agreement = (
        pl.col("method") == "agreement"
        if "method" in payments.collect_schema().names()
        else pl.lit(False)
    )
    return (
        payments.select(
            "invoice_id",
            day_number("paid_at").alias("day"),
            "amount",
            agreement.alias("agreement"),
            hashed,
        )
        .join(
            numbered_invoices.select("inv", pl.col("invoice_id").alias("_id"), hashed),
            on="_hash",
            how="inner",
        )
        .filter(pl.col("invoice_id") == pl.col("_id"))
        .drop("invoice_id", "_id", "_hash")
    )


def _from_invoice_row(column: str | pl.Expr) -> pl.Expr:
    """The value on the invoice row that heads each run, carried down to its payments."""
    value = pl.col(column) if isinstance(column, str) else column
    return pl.when(pl.col("kind") == _INVOICE).then(value).forward_fill()


def _next_in_run(flag: pl.Expr, value: pl.Expr) -> pl.Expr:
    """`value` on the first later row of the same invoice where `flag` holds, else NEVER."""
    later_value = pl.when(flag).then(value).shift(-1).backward_fill()
    later_inv = pl.when(flag).then(pl.col("inv")).shift(-1).backward_fill()
    return pl.when(later_inv == pl.col("inv")).then(later_value).otherwise(NEVER)


def build_ledger_rows(
    numbered_invoices: pl.LazyFrame,
    linked_payments: pl.LazyFrame,
    tolerance: float | None = None,
) -> pl.LazyFrame:
    """Invoice rows each followed by their payments in day order, with running facts.

    Each row carries its invoice's `cust`, `due` and `settled` (the settling day or NEVER),
    `open_after` (the invoice still owed more than the tolerance at the end of the row's
    day; always true on the invoice row) and, on payment rows, `next_agreement` (the day
    of the next agreement payment on the same invoice, or NEVER). `cust` and `product`
    are carried only when `numbered_invoices` has them. `tolerance` is in BRL (default:
    config/ledger.yaml).
    """
    tolerance_cents = settle_tolerance_cents(tolerance)
    present = numbered_invoices.collect_schema().names()
    cust = [_from_invoice_row("cust").alias("cust")] if "cust" in present else []
    product = ["product"] if "product" in present else []
    is_payment = pl.col("kind") == _PAYMENT
    rows = pl.concat(
        [
            numbered_invoices.drop("invoice_id").with_columns(
                pl.lit(_INVOICE, pl.Int8).alias("kind"),
                pl.col("issued").alias("day"),
                pl.lit(False).alias("agreement"),
            ),
            linked_payments.with_columns(pl.lit(_PAYMENT, pl.Int8).alias("kind")),
        ],
        how="diagonal_relaxed",
    )
    # one Int64 sort key: invoice, then its invoice row, then payments by day (fits while
    # there are fewer than 2**30 invoices)
    order = (
        pl.col("inv").cast(pl.Int64) * 2**33
        + pl.col("kind").cast(pl.Int64) * 2**32
        + pl.col("day").cast(pl.Int64)
        + 2**31
    )
    paid_total = pl.when(is_payment).then(cents(pl.col("amount"))).otherwise(0).cum_sum()
    settles_here = is_payment & ~pl.col("open_after") & pl.col("open_after").shift(1)
    return (
        rows.with_columns(order.alias("_order"))
        .sort("_order")
        .with_columns(paid_total.alias("_paid_total"))
        .with_columns(
            (pl.col("_paid_total") - _from_invoice_row("_paid_total")).alias("_paid"),
            (pl.col("_order") != pl.col("_order").shift(-1)).fill_null(True).alias("_day_end"),
            cents(_from_invoice_row("amount")).alias("_owed"),
        )
        .with_columns(
            pl.when("_day_end").then("_paid").backward_fill().alias("paid_eod"),
        )
        .with_columns(
            (~is_payment | (pl.col("paid_eod") < pl.col("_owed") - tolerance_cents)).alias(
                "open_after"
            )
        )
        .with_columns(
            _next_in_run(settles_here, pl.col("day")).alias("_settled_next"),
            _next_in_run(is_payment & pl.col("agreement"), pl.col("day")).alias("next_agreement"),
        )
        .select(
            "kind",
            "inv",
            *cust,
            "day",
            "issued",
            _from_invoice_row("due").alias("due"),
            "amount",
            *product,
            "agreement",
            "open_after",
            _from_invoice_row("_settled_next").alias("settled"),
            "next_agreement",
        )
    )


def invoice_ledger(rows: pl.LazyFrame) -> pl.LazyFrame:
    """One row per invoice: inv, cust, issued, due, amount, product code, settled (or NEVER).

    `cust` and `product` only when the invoices were numbered with them (`number_invoices`).
    """
    return rows.filter(pl.col("kind") == _INVOICE).drop(
        "kind", "day", "agreement", "open_after", "next_agreement"
    )


def payment_ledger(rows: pl.LazyFrame) -> pl.LazyFrame:
    """One row per payment: inv, cust, day, amount, agreement, open_after, and its invoice's
    due and settled days, and the next agreement payment day on the invoice."""
    return rows.filter(pl.col("kind") == _PAYMENT).drop("kind", "issued", "product", strict=False)


def is_open_at(day: pl.Expr | int) -> pl.Expr:
    """The invoice is open at the end of `day`: issued by then and not settled by then."""
    return (pl.col("issued") <= day) & (pl.col("settled") > day)


def days_past_due_at(day: pl.Expr | int) -> pl.Expr:
    """Days past due at the end of `day` of an open invoice: 0 on its due date, < 0 before."""
    return day - pl.col("due")


def on_each_date(rows: pl.LazyFrame, days: Sequence[int], keep: pl.Expr) -> pl.LazyFrame:
    """Each row once per as_of day (`as_of_day`) at which `keep` holds.

    A union of one literal-dated copy per as_of rather than a cross join: polars streams
    the union and pushes the filter into each part, which it does not for a cross join.
    """
    return pl.concat(
        [rows.with_columns(pl.lit(day, pl.Int32).alias("as_of_day")).filter(keep) for day in days]
    )


def open_invoices_at(rows: pl.LazyFrame, invoices: pl.LazyFrame, as_of_day: int) -> pl.LazyFrame:
    """Invoices issued by `as_of_day` and not settled by its end, with their payments to date.

    `invoices` is the table the ledger was numbered from (`inv` is its row number).
    Columns: invoice_id, customer_id, due_at, amount, disputed, paid, last_paid_at,
    last_agreement_at (dates; null without a payment). Every key join is on integers.
    """
    still_open = invoice_ledger(rows).filter(is_open_at(as_of_day))
    paid = (
        payment_ledger(rows)
        .filter(pl.col("day") <= as_of_day)
        .join(still_open.select("inv"), on="inv", how="semi")
        .group_by("inv")
        .agg(
            (cents(pl.col("amount")).sum() / 100).alias("paid"),
            pl.col("day").max().cast(pl.Date).alias("last_paid_at"),
            pl.col("day").filter("agreement").max().cast(pl.Date).alias("last_agreement_at"),
        )
    )
    return (
        invoices.with_row_index("inv")
        .join(still_open.select("inv"), on="inv", how="semi")
        .join(paid, on="inv", how="left")
        .select(
            "invoice_id",
            "customer_id",
            "due_at",
            "amount",
            "disputed",
            pl.col("paid").fill_null(0.0),
            "last_paid_at",
            "last_agreement_at",
        )
    )


def case_clocks(ledger: Ledger, as_of_day: int, reaging_share: float) -> pl.LazyFrame:
    """When each customer's collection case opened and where its ladder clock stands.

    A customer is in a case at night `as_of_day` when an invoice unpaid at the end of that
    day is past due the next day (due on or before as_of_day): the next day is the first
    on which an action can reach them. The case opened when the customer's current run of
    days with something past due began: `case_opened_on` is the due date of the invoice
    that started it (the oldest unpaid due date at opening). Only payments up to
    as_of_day count, so a re-run for an earlier night sees what was known then.

    The clock starts at `case_opened_on` and is re-anchored on the day of a payment to
    past-due invoices that covers at least `reaging_share` of what was past due just
    before it (`clock_anchor`, `reaged_on`): paying R$ 1 never postpones escalation, and
    paying the oldest of several invoices only does when it is that large a share.
    Columns: customer_id, case_opened_on, clock_anchor, reaged_on (dates; reaged_on null
    when the clock never moved).
    """
    tomorrow = as_of_day + 1
    invoices = invoice_ledger(ledger.rows).filter(pl.col("issued") <= as_of_day)
    # Days past due of each invoice, [due + 1, last]: unsettled by as_of means past due
    # through tomorrow whatever later payments say.
    last = pl.when(pl.col("settled") <= as_of_day).then(pl.col("settled") - 1).otherwise(tomorrow)
    spans = invoices.select(
        "inv", "cust", "due", "amount", (pl.col("due") + 1).alias("start"), last.alias("end")
    ).filter(pl.col("end") >= pl.col("start"))
    in_case = spans.filter(pl.col("end") == tomorrow).select("cust").unique()
    reached = pl.col("end").cum_max().shift(1).over("cust")
    runs = (
        spans.join(in_case, on="cust", how="semi")
        .sort("cust", "start")
        .with_columns((pl.col("start") > reached + 1).fill_null(True).alias("_new"))
        .with_columns(pl.col("_new").cum_sum().over("cust").alias("_run"))
        # the last run of each customer is the one reaching tomorrow: the open case
        .filter(pl.col("_run") == pl.col("_run").max().over("cust"))
    )
    opened = runs.group_by("cust").agg((pl.col("start").min() - 1).alias("opened"))
    # Past-due balance over time: + amount when an invoice falls past due, - each payment
    # on the day it reduces past-due debt (a payment before the due date reduces what
    # falls due); evaluated at the end of each payment day.
    paid = (
        payment_ledger(ledger.rows)
        .filter(pl.col("day") <= as_of_day)
        .join(runs.select("inv"), on="inv", how="semi")
        .select("inv", "cust", "day", "due", cents(pl.col("amount")).alias("_cents"))
    )
    events = pl.concat(
        [
            runs.select("cust", pl.col("start").alias("day"), cents(pl.col("amount")).alias("_d")),
            paid.select(
                "cust", pl.max_horizontal("day", pl.col("due") + 1).alias("day"), -pl.col("_cents")
            ).rename({"_cents": "_d"}),
        ]
    )
    balance = (
        events.group_by("cust", "day")
        .agg(pl.col("_d").sum())
        .sort("cust", "day")
        .with_columns(pl.col("_d").cum_sum().over("cust").alias("_past_due"))
    )
    reaged = (
        paid.filter(pl.col("day") > pl.col("due"))
        .group_by("cust", "day")
        .agg(pl.col("_cents").sum().alias("_paid"))
        .join(balance.select("cust", "day", "_past_due"), on=["cust", "day"], how="left")
        .filter(
            pl.col("_paid") >= reaging_share * (pl.col("_past_due").fill_null(0) + pl.col("_paid"))
        )
        .group_by("cust")
        .agg(pl.col("day").max().alias("reaged"))
    )
    return (
        opened.join(reaged, on="cust", how="left")
        .join(ledger.customers.select("cust", "customer_id"), on="cust")
        .select(
            "customer_id",
            pl.col("opened").cast(pl.Date).alias("case_opened_on"),
            pl.max_horizontal("opened", pl.col("reaged").fill_null(0))
            .cast(pl.Date)
            .alias("clock_anchor"),
            pl.col("reaged").cast(pl.Date).alias("reaged_on"),
        )
    )


def build_promises(
    contacts: pl.LazyFrame,
    customer_keys: pl.LazyFrame,
    numbered_invoices: pl.LazyFrame,
    payments: pl.LazyFrame,
    tolerance: float | None = None,
) -> pl.LazyFrame:
    """Promises to pay with the day each was kept (NEVER if not kept by the promised day).

    A promise is kept on the first day the payments on its invoice (on any of the
    customer's invoices when it names none), counted from the day of the promise, reach
    the promised amount less the settle tolerance (any payment when no amount was
    promised); only days up to the promised date count.
    """
    tolerance_cents = settle_tolerance_cents(tolerance)
    promises = (
        contacts.with_row_index("promise")  # numbered before any join, like invoices
        .filter((pl.col("outcome") == "promise") & pl.col("promise_date").is_not_null())
        .join(customer_keys, on="customer_id", how="inner")
        .join(
            numbered_invoices.select("invoice_id", "inv"),
            on="invoice_id",
            how="left",
        )
        .select(
            "promise",
            "cust",
            "inv",
            day_number("at").alias("promised_at"),
            day_number("promise_date").alias("promise_day"),
            cents(pl.col("promise_amount").fill_null(0.0)).alias("target"),
        )
    )
    paid = payments.select("cust", "inv", "day", cents(pl.col("amount")).alias("paid"))
    columns = ["promise", "target", "day", "paid"]
    by_invoice = promises.filter(pl.col("inv").is_not_null()).join(
        paid.drop("cust"), on="inv", how="inner"
    )
    by_customer = promises.filter(pl.col("inv").is_null()).join(
        paid.drop("inv"), on="cust", how="inner"
    )
    in_term = pl.col("day").is_between(pl.col("promised_at"), pl.col("promise_day"))
    kept = (
        pl.concat(
            [
                by_invoice.filter(in_term).select(columns),
                by_customer.filter(in_term).select(columns),
            ]
        )
        .group_by("promise", "day")
        .agg(pl.col("paid").sum(), pl.col("target").first())
        .sort("promise", "day")
        .with_columns(pl.col("paid").cum_sum().over("promise").alias("paid"))
        .filter(pl.col("paid") >= pl.col("target") - tolerance_cents)
        .group_by("promise")
        .agg(pl.col("day").min().alias("kept"))
    )
    return promises.join(kept, on="promise", how="left").select(
        "cust", "promised_at", "promise_day", pl.col("kept").fill_null(NEVER)
    )


def build_contact_days(contacts: pl.LazyFrame, customer_keys: pl.LazyFrame) -> pl.LazyFrame:
    """Contacts as cust, day, and whether each reached the customer and was answered."""
    return contacts.join(customer_keys, on="customer_id", how="inner").select(
        "cust",
        day_number("at").alias("day"),
        pl.col("outcome").is_in(RECEIVED_OUTCOMES).alias("received"),
        pl.col("outcome").is_in(ANSWERED_OUTCOMES).alias("answered"),
    )


@dataclass(frozen=True)
class Ledger:
    """The numbered customers and invoices and the ledger rows of a set of tables, lazy.

    The rows are the one expensive shared step (a sort of every invoice and payment);
    they are cached, so plans built on the same `Ledger` and collected together with
    `pl.collect_all` compute them once: the features and the open invoices of a night.
    """

    customers: pl.LazyFrame
    invoices: pl.LazyFrame
    rows: pl.LazyFrame


def ledger_from_frames(
    customers: Frame, invoices: Frame, payments: Frame, tolerance: float | None = None
) -> Ledger:
    """The ledger of invoices of known customers and their payments, numbered and cached.

    `customers` keeps every column it has plus `cust`; invoices need invoice_id,
    customer_id, issued_at, due_at, amount and product_family; payments invoice_id, paid_at,
    amount and (optionally) method.
    """
    numbered_customers = number_customers(customers.lazy())
    numbered = number_invoices(invoices.lazy(), numbered_customers.select("customer_id", "cust"))
    linked = link_payments(payments.lazy(), numbered)
    return Ledger(
        numbered_customers, numbered, build_ledger_rows(numbered, linked, tolerance).cache()
    )


def open_positions(ledger: Ledger, days: Sequence[int]) -> pl.LazyFrame:
    """Invoices open at the end of each as_of day, with what is still owed and days past due.

    Columns: customer_id, invoice_id, as_of_day, due (day numbers), outstanding (BRL,
    amount less payments up to the day, never below 0), days_past_due (`days_past_due_at`).
    """
    day = pl.col("as_of_day")
    open_rows = on_each_date(invoice_ledger(ledger.rows), days, is_open_at(day))
    paid = (
        open_rows.select("inv", "as_of_day")
        .join(payment_ledger(ledger.rows).select("inv", "day", "amount"), on="inv")
        .filter(pl.col("day") <= day)
        .group_by("inv", "as_of_day")
        .agg(cents(pl.col("amount")).sum().alias("_paid"))
    )
    owed = (cents(pl.col("amount")) - pl.col("_paid").fill_null(0)).clip(lower_bound=0)
    return (
        open_rows.join(paid, on=["inv", "as_of_day"], how="left")
        .join(ledger.customers.select("cust", "customer_id"), on="cust")
        .join(ledger.invoices.select("inv", "invoice_id"), on="inv")
        .select(
            "customer_id",
            "invoice_id",
            "as_of_day",
            "due",
            (owed / 100).round(2).alias("outstanding"),
            days_past_due_at(day).alias("days_past_due"),
        )
    )


def _dated(day: pl.Expr) -> pl.Expr:
    """A day number as a Date, null for NEVER."""
    return pl.when(day != NEVER).then(day.cast(pl.Date))


def _rows_by_invoice(
    invoices: pl.LazyFrame, payments: Frame, tolerance: float | None
) -> pl.LazyFrame:
    """Ledger rows of every invoice, customer known or not; `inv` is its row in `invoices`."""
    numbered = invoices.with_row_index("inv").select(
        "inv",
        "invoice_id",
        day_number("issued_at").alias("issued"),
        day_number("due_at").alias("due"),
        "amount",
    )
    return build_ledger_rows(numbered, link_payments(payments.lazy(), numbered), tolerance)


def settlement_dates(
    invoices: Frame, payments: Frame, tolerance: float | None = None
) -> pl.LazyFrame:
    """Each invoice with the date it was settled (null: not settled by the last payment).

    Columns: invoice_id, customer_id, issued_at, due_at, amount, settled_at. Payments of
    unknown invoices are ignored. `tolerance` is in BRL (default: config/ledger.yaml).
    """
    invoices = invoices.lazy()
    rows = _rows_by_invoice(invoices, payments, tolerance)
    settled = invoice_ledger(rows).select("inv", _dated(pl.col("settled")).alias("settled_at"))
    return (
        invoices.with_row_index("inv")
        .join(settled, on="inv", how="left", maintain_order="left")
        .select("invoice_id", "customer_id", "issued_at", "due_at", "amount", "settled_at")
    )


def invoice_status_at(
    invoices: Frame, payments: Frame, as_of: date, tolerance: float | None = None
) -> pl.LazyFrame:
    """Every invoice issued by as_of with what was paid on it by then, and when it settled.

    The columns of `invoices` plus paid (BRL, 0 without payments), last_paid_at,
    last_agreement_at and settled_at (null while open at the end of as_of). Only payments
    up to as_of count, so a re-run for an earlier date sees what was known then.
    """
    as_of_day = (as_of - EPOCH).days
    invoices = invoices.lazy()
    rows = _rows_by_invoice(invoices, payments, tolerance)
    issued = invoice_ledger(rows).filter(pl.col("issued") <= as_of_day)
    paid = (
        payment_ledger(rows)
        .filter(pl.col("day") <= as_of_day)
        .group_by("inv")
        .agg(
            (cents(pl.col("amount")).sum() / 100).alias("paid"),
            pl.col("day").max().cast(pl.Date).alias("last_paid_at"),
            pl.col("day").filter("agreement").max().cast(pl.Date).alias("last_agreement_at"),
        )
    )
    facts = issued.join(paid, on="inv", how="left").select(
        "inv",
        pl.col("paid").fill_null(0.0),
        "last_paid_at",
        "last_agreement_at",
        pl.when(pl.col("settled") <= as_of_day)
        .then(pl.col("settled").cast(pl.Date))
        .alias("settled_at"),
    )
    return (
        invoices.with_row_index("inv")
        .join(facts, on="inv", how="inner", maintain_order="left")
        .drop("inv")
    )


def unsettled_on(day: pl.Expr) -> pl.Expr:
    """Not settled by the end of `day`, over `settled_at` (`settlement_dates`' frame)."""
    return pl.col("settled_at").is_null() | (pl.col("settled_at") > day)


def overdue_on(day: pl.Expr) -> pl.Expr:
    """Past due and unsettled at the end of `day`: due before it and not settled by it."""
    return (pl.col("due_at") < day) & unsettled_on(day)


# --- the history the tables cover ------------------------------------------------------


def observed_until(tables: Mapping[str, Frame]) -> date:
    """The last day the history covers: the latest invoice issued or payment received."""
    days = [
        tables[name].lazy().select(pl.col(column).max()).collect().item()
        for name, column in (("invoices", "issued_at"), ("payments", "paid_at"))
    ]
    known = [d for d in days if d is not None]
    if not known:
        raise ValueError("the store has no invoices or payments: nothing to learn from")
    return max(known)


MAX_STALE_DAYS = 3
"""How far as_of may lie beyond the last day the store covers (a weekend of no exports)."""


class NoDataError(ValueError):
    """The store holds nothing to decide on at as_of."""


def check_as_of(
    tables: Mapping[str, Frame],
    as_of: date,
    max_stale_days: int = MAX_STALE_DAYS,
    source: str = "the store",
) -> None:
    """Stop when as_of lies outside the history the tables hold (before it, or past it).

    `source` names the tables in the message (e.g. `store data/store`).
    """
    try:
        last = observed_until(tables)
    except ValueError as exc:
        raise NoDataError(f"{source}: {exc}") from exc
    first = tables["invoices"].lazy().select(pl.col("issued_at").min()).collect().item()
    if first is not None and as_of < first:
        raise NoDataError(
            f"{source} holds history from {first}; as_of {as_of} is before it: nothing to decide on"
        )
    if (as_of - last).days > max_stale_days:
        raise NoDataError(
            f"{source} covers up to {last}; as_of {as_of} is {(as_of - last).days} days "
            "later: ingest the missing days' exports first, or choose an earlier as_of"
        )
