"""Build the feature table at one or many as_of dates, point in time.

`build_from_frames(tables, as_of)` is pure: it takes the canonical tables as polars
frames and returns one row per (customer, as_of) for the customers opened on or before
as_of, with every catalog feature in catalog order, sorted by (as_of, customer_id).
`build(store, as_of)` reads the current store version and calls it.

Point in time, table by table:

- customers: a customer exists at as_of when opened_at <= as_of; registration data is
  the current record, but for the attributes `customer_attributes` dates (bureau score,
  limit, income, employment, obligations): the latest row with valid_from <= as_of
  (`features.five_cs.attributes_at`).
- invoices: known when issued_at <= as_of.
- payments: known when paid_at <= as_of; an invoice is settled by as_of when its
  settling day (see `features.ledger`) is <= as_of, which only depends on payments up
  to that day.
- contacts: known when `at` < as_of + 1 day; a promise is judged kept or broken only
  with payments up to as_of.
- macro: the latest month already published, month + 1 month <= as_of.

Many as_of dates share one plan: the ledgers (settling days, running totals, promise
keeping) are computed once and cached, each row is paired with the as_of dates it is
known at, and one `group_by(customer, as_of)` per kind of row aggregates them. The
aggregates are joined to the customers and one `select` applies every catalog feature's
expression (`features.catalog`).

Input frames must have a deterministic row order (scans and DataFrames do): invoices,
customers and contacts are numbered by row before any join, and every branch of the
plan must see the same numbering.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl

from regua.config.cases import load_cases
from regua.contract import TABLES, empty_frame
from regua.features.behaviour import (
    contact_aggregates,
    delinquency_aggregates,
    invoice_totals,
    is_late_invoice,
    open_invoice_payments,
    payment_totals,
    promise_aggregates,
)
from regua.features.catalog import CATALOG
from regua.features.five_cs import attributes_at, build_macro_conditions, join_macro
from regua.features.ledger import (
    Ledger,
    build_contact_days,
    build_promises,
    case_clocks,
    day_number,
    invoice_ledger,
    ledger_from_frames,
    on_each_date,
    open_invoices_at,
    payment_ledger,
)
from regua.store import Store

log = logging.getLogger(__name__)

Frame = pl.LazyFrame | pl.DataFrame
EPOCH = date(1970, 1, 1)

NOT_READ = frozenset({"document_hash"})
"""Required contract columns the features never read, so frames may leave them out."""
CUSTOMER_COLUMNS = (
    "customer_id",
    "kind",
    "state",
    "declared_income",
    "employment_type",
    "employment_tenure_months",
    "assets",
    "savings",
    "equity",
    "monthly_debt_obligations",
    "collateral_value",
    "collateral_type",
    "credit_limit",
    "bureau_score",
)


def as_of_dates(as_of: date | Sequence[date]) -> list[date]:
    """The as_of argument as a sorted list of distinct dates."""
    dates = [as_of] if isinstance(as_of, date) else list(as_of)
    if not dates:
        raise ValueError("as_of must be a date or a non-empty sequence of dates")
    for d in dates:
        if not isinstance(d, date):
            raise TypeError(f"as_of must hold dates, got {d!r}")
    return sorted({d.date() if isinstance(d, datetime) else d for d in dates})


def table_frame(tables: Mapping[str, Frame], name: str) -> pl.LazyFrame:
    """Table `name` as a lazy frame with every contract column; empty and typed when absent.

    Optional columns missing from the frame are added with their contract default (or
    null), so a hand-made frame with only the required columns works; a missing required
    column is an error that names it.
    """
    spec = TABLES[name]
    frame = tables.get(name)
    if frame is None:
        return empty_frame(spec).lazy()
    frame = frame.lazy()
    present = frame.collect_schema().names()
    missing = [c for c in spec.columns if c.name not in present]
    required = [c.name for c in missing if c.required and c.name not in NOT_READ]
    if required:
        raise ValueError(f"table {name} lacks required column(s): {', '.join(required)}")
    return frame.with_columns(pl.lit(c.default, c.dtype).alias(c.name) for c in missing)


def aggregate_at(
    rows: pl.LazyFrame,
    days: Sequence[int],
    known: pl.Expr,
    aggregates: list[pl.Expr],
    where: pl.Expr | None = None,
) -> pl.LazyFrame:
    """Aggregate, per customer and as_of, the rows known at that as_of for which `where` holds."""
    keep = known if where is None else known & where
    return on_each_date(rows, days, keep).group_by("cust", "as_of_day").agg(aggregates)


def build_ledger(tables: Mapping[str, Frame]) -> Ledger:
    """The lazy ledger every feature and the open-invoice status derive from."""
    return ledger_from_frames(
        *(table_frame(tables, name) for name in ("customers", "invoices", "payments"))
    )


def build_feature_plan(
    tables: Mapping[str, Frame], as_of: date | Sequence[date], ledger: Ledger | None = None
) -> pl.LazyFrame:
    """The lazy plan of `build_from_frames` (collect it, or inspect it with `explain`)."""
    days = [(d - EPOCH).days for d in as_of_dates(as_of)]
    as_of_day = pl.col("as_of_day")
    ledger = ledger or build_ledger(tables)
    customers, invoices = ledger.customers, ledger.invoices
    customer_keys = customers.select("customer_id", "cust")
    contacts = table_frame(tables, "contacts")
    invoice_rows, payment_rows = invoice_ledger(ledger.rows), payment_ledger(ledger.rows)
    promises = build_promises(contacts, customer_keys, invoices, payment_rows)
    contact_days = build_contact_days(contacts, customer_keys)

    issued = pl.col("issued") <= as_of_day
    paid = pl.col("day") <= as_of_day
    still_open = pl.col("settled") > as_of_day
    aggregates = [
        aggregate_at(invoice_rows, days, issued, invoice_totals()),
        aggregate_at(invoice_rows, days, issued, delinquency_aggregates(), is_late_invoice()),
        aggregate_at(payment_rows, days, paid, payment_totals()),
        aggregate_at(payment_rows, days, paid, open_invoice_payments(), still_open),
        aggregate_at(contact_days, days, pl.col("day") <= as_of_day, contact_aggregates()),
        aggregate_at(promises, days, pl.col("promised_at") <= as_of_day, promise_aggregates()),
    ]
    # contact features are null until the portfolio holds a contact (point in time)
    first_contact = contacts.select(day_number("at").min().alias("_first_contact"))
    # rows come out in (as_of, customer_id) order: the base is built in that order and
    # every join keeps it, which is much cheaper than sorting the wide result
    base = on_each_date(
        customers.select(
            "cust",
            *CUSTOMER_COLUMNS,
            day_number("opened_at").alias("opened"),
            day_number("birth_or_founding").alias("born"),
        ).sort("customer_id"),
        days,
        pl.col("opened") <= as_of_day,
    )
    base = attributes_at(base, table_frame(tables, "customer_attributes"), customer_keys)
    for frame in aggregates:
        base = base.join(frame, on=["cust", "as_of_day"], how="left", maintain_order="left")
    base = base.join(first_contact, how="cross", maintain_order="left").with_columns(
        (pl.col("_first_contact") <= as_of_day).alias("_has_contacts")
    )
    dates = pl.LazyFrame({"as_of_day": pl.Series(days, dtype=pl.Int32)})
    joined = join_macro(base, build_macro_conditions(table_frame(tables, "macro"), dates))
    return joined.select(
        "customer_id", as_of_day.cast(pl.Date).alias("as_of"), *(f.column() for f in CATALOG)
    )


def build_from_frames(tables: Mapping[str, Frame], as_of: date | Sequence[date]) -> pl.DataFrame:
    """Features of every customer known at each as_of, from the canonical tables as frames."""
    return build_feature_plan(tables, as_of).collect()


MAX_DAYS_PER_MONTH = 14
"""More parts than this would put the last part's mid-point on a 28-day month's end."""


def month_number(day: date) -> int:
    """Months since year 0: consecutive months get consecutive numbers."""
    return day.year * 12 + day.month - 1


def spread_days(month_end: date, per_month: int) -> list[date]:
    """The mid-points of `per_month` equal parts of `month_end`'s month, oldest first.

    A month of 30 days in 10 parts gives the 2nd, 5th, ..., 29th: never the month-end,
    so a spread snapshot and a month-end one never share a key.
    """
    if not 1 <= per_month <= MAX_DAYS_PER_MONTH:
        raise ValueError(f"days per month must be 1..{MAX_DAYS_PER_MONTH}, got {per_month}")
    if per_month == 1:
        return [month_end]
    first, length = month_end.replace(day=1), month_end.day
    return [first + timedelta(days=int((k + 0.5) * length / per_month)) for k in range(per_month)]


def spread_day(month_end: date, per_month: int, part: int) -> date:
    """The day of `month_end`'s month the customers of `part` are seen on.

    Part p is on day (p + month) mod `per_month` of `spread_days`, so each customer is
    seen once a month and on a different day each month.
    """
    return spread_days(month_end, per_month)[(part + month_number(month_end)) % per_month]


def customer_part(tables: Mapping[str, Frame], part: int, parts: int) -> dict[str, Frame]:
    """The tables restricted to the customers whose row number is `part` modulo `parts`.

    Contacts and macro stay whole: the contact ledger joins them to the customers kept,
    and "the portfolio has contacts" is a fact about the whole book.
    """
    customers = (
        table_frame(tables, "customers")
        .with_row_index("_row")
        .filter(pl.col("_row") % parts == part)
        .drop("_row")
    )
    invoices = table_frame(tables, "invoices").join(
        customers.select("customer_id"), on="customer_id", how="semi", maintain_order="left"
    )
    payments = table_frame(tables, "payments").join(
        invoices.select("invoice_id"), on="invoice_id", how="semi", maintain_order="left"
    )
    return {**tables, "customers": customers, "invoices": invoices, "payments": payments}


def build_spread(
    tables: Mapping[str, Frame], month_ends: Sequence[date], per_month: int
) -> pl.DataFrame:
    """Features of every customer once in each month, on a day spread over the month.

    Nights are scored on every day, so the training snapshots must hold customers seen
    mid-month too (a customer on the 21st has this month's bill open, on the 30th paid):
    the customers are cut into `per_month` parts by row number and each part is seen on
    its own day of each month (`spread_day`). Each part is one feature plan, so the cost
    is about that of one month-end snapshot per month. Sorted by (as_of, customer_id).
    """
    months = sorted(set(month_ends))
    parts = [
        build_from_frames(
            customer_part(tables, part, per_month),
            [spread_day(end, per_month, part) for end in months],
        )
        for part in range(per_month)
    ]
    return pl.concat(parts).sort("as_of", "customer_id")


def open_invoice_plan(
    tables: Mapping[str, Frame],
    as_of: date,
    ledger: Ledger | None = None,
    reaging_share: float | None = None,
) -> pl.LazyFrame:
    """Invoices of known customers still open at the end of as_of, with what was paid on
    them by then (`features.ledger.open_invoices_at`) and their customer's collection-case
    clock (`features.ledger.case_clocks`; null for customers not in a case).

    `reaging_share` defaults to config/cases.yaml's `reaging.min_share_of_past_due`.
    """
    ledger = ledger or build_ledger(tables)
    if reaging_share is None:
        reaging_share = load_cases().reaging.min_share_of_past_due
    day = (as_of - EPOCH).days
    return open_invoices_at(ledger.rows, table_frame(tables, "invoices"), day).join(
        case_clocks(ledger, day, reaging_share), on="customer_id", how="left"
    )


def build_with_open_invoices(
    tables: Mapping[str, Frame], as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Features at as_of and the invoices open at as_of, from one pass over the ledger.

    The nightly run needs both; computing the open invoices from the ledger the features
    already sort saves a second grouping of every payment by invoice.
    """
    ledger = build_ledger(tables)
    feature_table, open_invoices = pl.collect_all(
        [build_feature_plan(tables, [as_of], ledger), open_invoice_plan(tables, as_of, ledger)]
    )
    return feature_table, open_invoices


def build(store: Store | str | Path, as_of: date | Sequence[date]) -> pl.DataFrame:
    """Features of every customer known at each as_of, read from the store's current version.

    >>> import regua
    >>> table = regua.build_features("data/store", date(2026, 9, 30))
    >>> history = regua.build_features("data/store", [date(2026, 7, 31), date(2026, 8, 31)])
    """
    store = store if isinstance(store, Store) else Store(store)
    tables = {name: store.scan(name) for name in TABLES}
    log.info("building features at %s from %s", as_of, store.root)
    return build_from_frames(tables, as_of)
