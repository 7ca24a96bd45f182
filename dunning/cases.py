"""Collection cases: one conversation per customer that spans nights, derived from history.

A customer is in a case at night D when an invoice unpaid at the end of D is past due on
D+1, the first day an action can reach them (`features.ledger.case_clocks`). The case holds
every past-due invoice of the customer that is not disputed; it is named
`<customer_id>-<YYYYMMDD of case_opened_on>`, so the same case keeps its id on every night
until nothing is past due. Nothing about a case is stored between nights: its state is
read each night from the contacts the collection tools reported (`case_id`, `action_id`,
`step_id`, outcome, promises) and the payments, so a re-run gives the same answer.

- Ladder: the ladder of the case's first carried-out step (one strategy per case); before
  that, the customer's segment's ladder tonight.
- Progress: steps of that ladder carried out within the case are never proposed again,
  nor any step before the latest one. A listing notice is done once every invoice of the
  case is covered by a counted written notice (any ladder, any earlier night), a listing
  once every invoice is listed, an agency hand-off once the case was handed off: a customer
  who moves between ladders is never noticed, listed or handed off twice for the same debt.
- Promises: the latest promise to pay within the case holds the ladder until its date
  plus a grace period; not paid in full by then, it is broken and the case escalates to
  the ladder's `on_broken_promise` step; past `max_per_case` promises within the window,
  a new one no longer holds the ladder.
- Pauses: a settlement agreement being paid, or every past-due invoice disputed.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from regua.config.cases import CasesConfig
from regua.features.ledger import settle_tolerance_cents

NOTICE = "negative_listing_notice"
LISTING = "negative_listing"
HANDOFF = "agency_handoff"
UNCOUNTED_OUTCOMES = ("undelivered", "wrong_number")
"""Outcomes after which a written notice does not count as sent."""

CASE_COLUMNS = {
    "customer_id": pl.String,
    "case_id": pl.String,
    "case_opened_on": pl.Date,
    "clock_anchor": pl.Date,
    "reaged_on": pl.Date,
    "invoice_ids": pl.List(pl.String),
    "invoice_amounts": pl.List(pl.Float64),
    "invoice_due_dates": pl.List(pl.Date),
    "total_due": pl.Float64,
    "invoice_count": pl.UInt32,
    "oldest_due_at": pl.Date,
    "latest_due_at": pl.Date,
    "disputed_count": pl.UInt32,
    "in_agreement": pl.Boolean,
}


def history(contacts: pl.LazyFrame, steps: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Contacts up to the end of as_of with their step's purpose and their local day.

    Step ids the ladders do not know keep the purpose the tools reported, if any
    (`delisting`, `agency_recall`), else none.
    """
    names = contacts.collect_schema().names()
    optional = {
        "contact_id": pl.String,
        "case_id": pl.String,
        "action_id": pl.String,
        "purpose": pl.String,
        "outcome": pl.String,
        "promise_date": pl.Date,
        "promise_amount": pl.Float64,
    }
    frame = contacts.with_columns(
        pl.lit(None, dtype).alias(name) for name, dtype in optional.items() if name not in names
    )
    return (
        frame.filter(pl.col("at").cast(pl.Date) <= as_of)
        .join(
            steps.select("step_id", pl.col("purpose").alias("_step_purpose")),
            on="step_id",
            how="left",
        )
        .with_columns(
            pl.coalesce("_step_purpose", "purpose", pl.col("step_id")).alias("purpose"),
            pl.col("at").cast(pl.Date).alias("day"),
        )
        .drop("_step_purpose")
    )


def open_cases(status: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """One row per customer in a case at as_of: its id, clock and past-due invoices.

    `status` is the night's open invoices (`schedule.open_invoice_status`) with the case
    clock columns of `features.ledger.case_clocks` joined by customer. Invoices are listed
    oldest due date first; disputed ones are left out of what is collected and counted
    in `disputed_count`.
    """
    collected = ~pl.col("disputed")
    order = ["due_at", "invoice_id"]
    past_due = status.filter(pl.col("due_at") <= as_of).with_columns(
        pl.coalesce("case_opened_on", pl.col("due_at").min().over("customer_id")).alias(
            "case_opened_on"
        )
    )
    return (
        past_due.sort("customer_id", *order)
        .group_by("customer_id", maintain_order=True)
        .agg(
            pl.col("case_opened_on").first(),
            pl.coalesce("clock_anchor", "case_opened_on").first().alias("clock_anchor"),
            pl.col("reaged_on").first(),
            pl.col("invoice_id").filter(collected).alias("invoice_ids"),
            pl.col("open_amount").filter(collected).alias("invoice_amounts"),
            pl.col("due_at").filter(collected).alias("invoice_due_dates"),
            pl.col("open_amount").filter(collected).sum().round(2).alias("total_due"),
            pl.col("invoice_id").filter(collected).len().alias("invoice_count"),
            pl.col("due_at").filter(collected).min().alias("oldest_due_at"),
            pl.col("due_at").filter(collected).max().alias("latest_due_at"),
            pl.col("disputed").sum().cast(pl.UInt32).alias("disputed_count"),
            pl.col("in_agreement").any(),
        )
        .with_columns(
            pl.concat_str(
                pl.col("customer_id"), pl.col("case_opened_on").dt.strftime("%Y%m%d"), separator="-"
            ).alias("case_id")
        )
        .select(list(CASE_COLUMNS))
    )


def counted_notices(past: pl.LazyFrame, written_channels: tuple[str, ...]) -> pl.LazyFrame:
    """Written listing notices that count: customer_id, day, and the notice's id."""
    return past.filter(
        (pl.col("purpose") == NOTICE)
        & pl.col("channel").is_in(written_channels)
        & ~pl.col("outcome").is_in(UNCOUNTED_OUTCOMES).fill_null(False)
    ).select(
        "customer_id",
        "day",
        pl.coalesce("action_id", "contact_id").alias("notice_id"),
    )


def listed_invoices(past: pl.LazyFrame) -> pl.LazyFrame:
    """Invoices negatively listed and not cleared since: invoice_id, customer_id, listed_on,
    listing_id."""
    listings = (
        _listings(past)
        .sort("at")
        .group_by("invoice_id")
        .agg(
            pl.col("customer_id").last(),
            pl.col("day").last().alias("listed_on"),
            pl.col("action_id").last().alias("listing_id"),
        )
    )
    cleared = (
        past.filter((pl.col("purpose") == "delisting") & pl.col("invoice_id").is_not_null())
        .group_by("invoice_id")
        .agg(pl.col("day").max().alias("_cleared_on"))
    )
    return (
        listings.join(cleared, on="invoice_id", how="left")
        .filter(pl.col("_cleared_on").is_null() | (pl.col("_cleared_on") < pl.col("listed_on")))
        .drop("_cleared_on")
    )


def ever_listed(past: pl.LazyFrame) -> pl.LazyFrame:
    """Every invoice ever negatively listed (a debt is never listed twice)."""
    return _listings(past).select("invoice_id").unique()


def _listings(past: pl.LazyFrame) -> pl.LazyFrame:
    """Listings carried out at the bureau, one contact per listed invoice."""
    return past.filter((pl.col("purpose") == LISTING) & pl.col("invoice_id").is_not_null())


def case_progress(
    cases: pl.LazyFrame,
    segments: pl.LazyFrame,
    steps: pl.LazyFrame,
    past: pl.LazyFrame,
    written_channels: tuple[str, ...],
) -> pl.LazyFrame:
    """Each case's ladder, its last carried-out step, and what is already noticed, listed
    or handed off (so no ladder repeats them)."""
    after_due = steps.filter(pl.col("offset_days") > 0)
    within = past.join(cases.select("customer_id", "case_opened_on"), on="customer_id").filter(
        pl.col("day") > pl.col("case_opened_on")
    )
    first_ladder = (
        within.join(after_due.select("step_id", "ladder_id"), on="step_id")
        .sort("at", "step_id")
        .group_by("customer_id")
        .agg(pl.col("ladder_id").first().alias("_first_ladder"))
    )
    # a listing is carried out invoice by invoice: done when every invoice is listed
    last_done = (
        within.join(
            after_due.filter(pl.col("purpose") != LISTING).select(
                "ladder_id", "step_id", "step_order"
            ),
            on="step_id",
        )
        .group_by("customer_id", "ladder_id")
        .agg(pl.col("step_order").max().alias("last_done"))
    )
    noticed = (
        counted_notices(past, written_channels)
        .join(cases.select("customer_id"), on="customer_id", how="semi")
        .sort("day")
        .group_by("customer_id")
        .agg(pl.col("day").last().alias("last_notice_on"))
    )
    listed = ever_listed(past)
    unlisted = (
        cases.select("customer_id", "invoice_ids")
        .explode("invoice_ids")
        .rename({"invoice_ids": "invoice_id"})
        .drop_nulls("invoice_id")
        .join(listed, on="invoice_id", how="anti")
        .group_by("customer_id")
        .agg(pl.len().alias("_unlisted"))
    )
    handed_off = (
        within.filter(pl.col("purpose") == HANDOFF)
        .select("customer_id")
        .unique()
        .with_columns(pl.lit(True).alias("handed_off"))
    )
    return (
        cases.join(
            segments.select("customer_id", "segment", "ladder_id"), on="customer_id", how="left"
        )
        .join(first_ladder, on="customer_id", how="left")
        .join(
            steps.select(pl.col("ladder_id").alias("_first_ladder")).unique(),
            on="_first_ladder",
            how="left",
        )
        .with_columns(pl.coalesce("_first_ladder", "ladder_id").alias("ladder_id"))
        .drop("_first_ladder")
        .join(last_done, on=["customer_id", "ladder_id"], how="left")
        .join(noticed, on="customer_id", how="left")
        .join(unlisted, on="customer_id", how="left")
        .join(handed_off, on="customer_id", how="left")
        .with_columns(
            pl.col("last_done").fill_null(-1),
            (pl.col("last_notice_on") > pl.col("latest_due_at"))
            .fill_null(False)
            .alias("all_noticed"),
            (pl.col("_unlisted").fill_null(0) == 0).alias("all_listed"),
            pl.col("handed_off").fill_null(False),
        )
        .drop("_unlisted")
    )


def case_promises(
    cases: pl.LazyFrame,
    past: pl.LazyFrame,
    payments: pl.LazyFrame,
    as_of: date,
    config: CasesConfig,
) -> pl.LazyFrame:
    """The state of each case's latest promise to pay: pending, kept, broken or ignored.

    A promise is kept when the customer's payments from the day it was made to its date
    plus the grace days reach the promised amount less the settle tolerance (any payment,
    when no amount was promised). Columns: customer_id, promise_made_on, promise_date,
    promise_amount, promise_channel, promise_state, promise_resume_on (the day after the
    grace period).
    """
    rules = config.promises
    grace = timedelta(days=rules.grace_days)
    made = (
        past.join(cases.select("customer_id", "case_opened_on"), on="customer_id")
        .filter(
            (pl.col("outcome") == "promise")
            & pl.col("promise_date").is_not_null()
            & (pl.col("day") > pl.col("case_opened_on"))
        )
        .with_columns(
            (pl.col("day") > pl.lit(as_of) - timedelta(days=rules.window_days)).alias("_recent")
        )
        .sort("customer_id", "at")
        .group_by("customer_id", maintain_order=True)
        .agg(
            pl.col("day").last().alias("promise_made_on"),
            pl.col("promise_date").last(),
            pl.col("promise_amount").last(),
            pl.col("channel").last().alias("promise_channel"),
            pl.col("_recent").sum().alias("_in_window"),
        )
    )
    tolerance = settle_tolerance_cents() / 100
    term_end = pl.col("promise_date") + grace
    paid = (
        made.select("customer_id", "promise_made_on", "promise_date")
        .join(payments.select("customer_id", "paid_at", "amount"), on="customer_id")
        .filter(
            (pl.col("paid_at") >= pl.col("promise_made_on"))
            & (pl.col("paid_at") <= pl.min_horizontal(term_end, pl.lit(as_of)))
        )
        .group_by("customer_id")
        .agg(pl.col("amount").sum().alias("_paid"))
    )
    kept = (
        pl.when(pl.col("promise_amount").is_null())
        .then(pl.col("_paid") > 0)
        .otherwise(pl.col("_paid") >= pl.col("promise_amount") - tolerance)
    )
    state = (
        pl.when(pl.col("_in_window") > rules.max_per_case)
        .then(pl.lit("ignored"))
        .when(kept.fill_null(False))
        .then(pl.lit("kept"))
        .when(pl.lit(as_of) <= term_end)
        .then(pl.lit("pending"))
        .otherwise(pl.lit("broken"))
    )
    return (
        made.join(paid, on="customer_id", how="left")
        .with_columns(
            state.alias("promise_state"), (term_end + timedelta(days=1)).alias("promise_resume_on")
        )
        .drop("_paid", "_in_window")
    )
