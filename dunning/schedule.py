"""Which ladder step each open invoice is due for at as_of, and when.

The ladder clock of an invoice starts at its due date (`anchor`); a step with offset k
falls on anchor + k days. What changes the clock, per the issue:

- a partial payment after the due date re-anchors the clock on that payment day (the
  steps still to come wait as long again) and the steps speak of what is still open;
- a promise to pay holds the ladder: no step before the promised date, the next one the
  day after it if the invoice is still open;
- a dispute or an active agreement (an agreement payment in the last 90 days) pauses it;
- full payment ends it, and if the invoice had been negatively listed, a de-listing is
  due within 5 business days of the payment (CDC art. 43 §3; STJ Súmula 548).

Steps already executed for the invoice (any contact recorded with its step id), and the
steps before the latest executed one, are never proposed again: a ladder only moves on.
When several steps are due, only the latest (the most escalated) is proposed; the earlier
ones are reported as superseded, so a customer who moves to a harsher ladder is not sent
its whole backlog in one day.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from regua.features.ledger import invoice_status_at

AGREEMENT_ACTIVE_DAYS = 90
DELISTING_BUSINESS_DAYS = 5
PROMISE_GRACE_DAYS = 1
LISTING_PURPOSE = "negative_listing"
DELISTING_STEP = "delisting"

STEP_COLUMNS = ("ladder_id", "step_id", "step_order", "offset_days", "channel", "template_id",
                "purpose", "tone")  # fmt: skip
"""Columns of the ladder steps frame (one row per step, `step_order` within its ladder)."""


PLAN_COLUMNS = ("customer_id", "invoice_id", "segment", "ladder_id", "step_id", "step_order",
                "channel", "template_id", "purpose", "tone", "due_at", "anchor", "open_amount",
                "proposed_on", "state", "reason", "superseded")  # fmt: skip
"""Columns of `plan_steps`' output."""


def invoice_status(invoices: pl.LazyFrame, payments: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Every invoice issued by as_of: what is open, when it was last paid, when it settled.

    Only payments up to as_of count, so a re-run for an earlier date sees what was known
    then. `settled_at` is the ledger's settling day (`features.ledger.invoice_status_at`),
    null while open.
    """
    status = invoice_status_at(invoices, payments, as_of)
    disputed = (
        pl.col("disputed").fill_null(False)
        if "disputed" in invoices.collect_schema().names()
        else pl.lit(False)
    )
    return status.with_columns(disputed.alias("disputed")).pipe(_status_columns, as_of)


def open_invoice_status(open_invoices: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """`invoice_status` of the invoices still open at as_of, from the ledger's open invoices.

    `open_invoices` is `features.build.open_invoice_plan`'s frame (computed with the
    night's features, from the same ledger): the same rows and values as
    `invoice_status(...).filter(settled_at is null)` for invoices of known customers.
    """
    return open_invoices.with_columns(
        pl.lit(None, pl.Date).alias("settled_at"), pl.col("disputed").fill_null(False)
    ).pipe(_status_columns, as_of)


def _status_columns(frame: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """The status contract from paid totals, the settling day and the last agreement day."""
    return frame.select(
        "invoice_id",
        "customer_id",
        "due_at",
        "amount",
        pl.col("paid").fill_null(0.0),
        (pl.col("amount") - pl.col("paid").fill_null(0.0)).clip(0).round(2).alias("open_amount"),
        "last_paid_at",
        "settled_at",
        "disputed",
        (pl.col("last_agreement_at") > pl.lit(as_of) - timedelta(days=AGREEMENT_ACTIVE_DAYS))
        .fill_null(False)
        .alias("in_agreement"),
    )


def executed_steps(contacts: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """(invoice_id, step_id) pairs already carried out by the end of as_of."""
    return (
        contacts.filter(
            pl.col("at").cast(pl.Date) <= as_of,
            pl.col("invoice_id").is_not_null(),
            pl.col("step_id").is_not_null(),
        )
        .select("invoice_id", "step_id")
        .unique()
    )


def promised_dates(contacts: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """The latest promise date made by as_of for each invoice."""
    return (
        contacts.filter(
            pl.col("at").cast(pl.Date) <= as_of,
            pl.col("promise_date").is_not_null(),
            pl.col("invoice_id").is_not_null(),
        )
        .group_by("invoice_id")
        .agg(pl.col("promise_date").max())
    )


def plan_steps(
    status: pl.LazyFrame,
    segments: pl.LazyFrame,
    steps: pl.LazyFrame,
    contacts: pl.LazyFrame,
    as_of: date,
) -> pl.DataFrame:
    """The step each open invoice is due for (or next due), with status and reason.

    One row per open invoice of a segmented customer: `state` is `due` (its step falls
    on or before as_of), `upcoming` (the next step and its day), `held` (a promise),
    `paused` (dispute or agreement) or `exhausted` (no step left); `superseded` lists
    due steps passed over for a later one. `proposed_on` is the day the step falls on,
    never before as_of.
    """
    today = pl.lit(as_of)
    open_invoices = (
        status.filter(pl.col("settled_at").is_null())
        .join(segments.select("customer_id", "segment", "ladder_id"), on="customer_id")
        .join(promised_dates(contacts, as_of), on="invoice_id", how="left")
        .with_columns(
            pl.when(pl.col("last_paid_at") > pl.col("due_at"))
            .then(pl.col("last_paid_at"))
            .otherwise(pl.col("due_at"))
            .alias("anchor"),
            (pl.col("promise_date") >= today).fill_null(False).alias("held"),
            (pl.col("disputed") | pl.col("in_agreement")).alias("paused"),
        )
    )
    ladder_steps = steps.select(STEP_COLUMNS)
    last_done = (
        executed_steps(contacts, as_of)
        .join(open_invoices.select("invoice_id", "ladder_id"), on="invoice_id")
        .join(
            ladder_steps.select("ladder_id", "step_id", "step_order"), on=["ladder_id", "step_id"]
        )
        .group_by("invoice_id")
        .agg(pl.col("step_order").max().alias("last_done"))
    )
    candidates = (
        open_invoices.join(ladder_steps, on="ladder_id")
        .join(last_done, on="invoice_id", how="left")
        .filter(pl.col("step_order") > pl.col("last_done").fill_null(-1))
        .with_columns(
            (pl.col("anchor") + pl.duration(days=pl.col("offset_days"))).alias("step_day")
        )
    )
    due = pl.col("step_day") <= today
    picked = (
        candidates.sort("invoice_id", "step_order")
        .group_by("invoice_id", maintain_order=True)
        .agg(
            pl.col("step_id").filter(due).alias("due_steps"),
            pl.col("step_id").filter(~due).first().alias("next_step"),
        )
        .with_columns(
            pl.coalesce(pl.col("due_steps").list.last(), "next_step").alias("step_id"),
            pl.col("due_steps")
            .list.slice(0, (pl.col("due_steps").list.len() - 1).clip(0))
            .alias("superseded"),
        )
    )
    planned = (
        open_invoices.join(picked, on="invoice_id", how="left")
        .join(steps.select(STEP_COLUMNS), on=["ladder_id", "step_id"], how="left")
        .with_columns(
            (pl.col("anchor") + pl.duration(days=pl.col("offset_days"))).alias("step_day")
        )
    )
    resume = pl.col("promise_date") + timedelta(days=PROMISE_GRACE_DAYS)
    state = (
        pl.when(pl.col("paused"))
        .then(pl.lit("paused"))
        .when(pl.col("held"))
        .then(pl.lit("held"))
        .when(pl.col("step_id").is_null())
        .then(pl.lit("exhausted"))
        .when(pl.col("step_day") <= today)
        .then(pl.lit("due"))
        .otherwise(pl.lit("upcoming"))
    )
    reason = (
        pl.when(pl.col("disputed"))
        .then(pl.lit("régua pausada: fatura contestada"))
        .when(pl.col("in_agreement"))
        .then(pl.lit("régua pausada: acordo de pagamento ativo"))
        .when(pl.col("held"))
        .then(
            pl.lit("régua suspensa até a data prometida ") + pl.col("promise_date").cast(pl.String)
        )
        .when(pl.col("step_id").is_null())
        .then(pl.lit("todas as etapas da régua já executadas"))
        .when(pl.col("anchor") > pl.col("due_at"))
        .then(
            pl.lit("régua reancorada no pagamento parcial de ") + pl.col("anchor").cast(pl.String)
        )
        .otherwise(pl.lit("etapa da régua"))
    )
    return (
        planned.with_columns(state.alias("state"), reason.alias("reason"))
        .with_columns(
            pl.when(pl.col("state") == "held")
            .then(pl.max_horizontal(resume, pl.col("step_day")))
            .otherwise(pl.max_horizontal(pl.col("step_day"), today))
            .alias("proposed_on")
        )
        .select(PLAN_COLUMNS)
        .with_columns(pl.col("superseded").fill_null([]))
        .sort("customer_id", "invoice_id")
        .collect()
    )


def listed_invoices(contacts: pl.LazyFrame, steps: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """invoice_id of every invoice a negative-listing step was carried out for by as_of."""
    listing_steps = steps.filter(pl.col("purpose") == LISTING_PURPOSE).select("step_id")
    done = executed_steps(contacts, as_of)
    return done.join(listing_steps, on="step_id").select("invoice_id").unique()


def delistings(
    status: pl.LazyFrame,
    contacts: pl.LazyFrame,
    steps: pl.LazyFrame,
    as_of: date,
    holidays: list[date] | None = None,
    listed: pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """De-listing actions for settled invoices that were negatively listed and not yet cleared.

    Due within `DELISTING_BUSINESS_DAYS` business days (Monday-Friday less `holidays`) of
    the settling day. `listed` is `listed_invoices(contacts, steps, as_of)` when the
    caller already has it.
    """
    if listed is None:
        listed = listed_invoices(contacts, steps, as_of)
    cleared = executed_steps(contacts.filter(pl.col("step_id") == DELISTING_STEP), as_of).select(
        "invoice_id"
    )
    settled = (
        status.filter(pl.col("settled_at").is_not_null())
        .join(listed, on="invoice_id")
        .join(cleared, on="invoice_id", how="anti")
        .select("customer_id", "invoice_id", "due_at", "settled_at", "amount")
        .collect()
    )
    return settled.with_columns(
        pl.lit(DELISTING_STEP).alias("step_id"),
        pl.lit("delisting").alias("purpose"),
        pl.col("settled_at")
        .dt.add_business_days(DELISTING_BUSINESS_DAYS, holidays=holidays or [])
        .alias("deadline"),
        pl.max_horizontal(pl.col("settled_at"), pl.lit(as_of)).alias("proposed_on"),
        pl.lit("quitada após negativação: pedir a baixa em até 5 dias úteis").alias("reason"),
    ).sort("customer_id", "invoice_id")
