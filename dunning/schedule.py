"""The night's proposed actions: a step per collection case, reminders per invoice, bureau work.

Night D proposes actions for D+1 at the earliest (the run happens after D has passed):

- Cases (`dunning.cases`): the clock runs from the case's anchor; a step with offset k
  falls on anchor + k days. Steps falling on D+1 or earlier and not done are due; the latest
  due is proposed and the earlier ones are reported as superseded, so a case never gets its
  backlog in one day, except that a listing never supersedes the listing notice it needs.
  A pending promise holds the case, a broken one makes its ladder's `on_broken_promise`
  step due, an agreement or an all-disputed case pauses it. A listing step is proposed
  once per invoice of the case not listed yet (the bureau lists debts one by one).
- Reminders before the due date (steps with offset <= 0) stay per invoice.
- De-listing: every listed invoice fully paid, or with a settlement agreement's payment
  from its listing day on (a discounted pay-off is reported as an agreement payment),
  gets a bureau de-listing due within `delisting.business_days`
  business days (CDC art. 43 §3; STJ Súmula 548).
- Agency recall: a customer handed to the agency whose case closed or is being paid
  under an agreement gets a recall, once.

Every proposed action has an `action_id` that stays the same on every night until the
action is done or superseded, or its `valid_until` passes without a contact reported, when
it is issued again with a new id: `<case or invoice>/<step>/<YYYYMMDD of the attempt>`.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from regua.config.cases import CasesConfig
from regua.dunning.cases import (
    HANDOFF,
    LISTING,
    NOTICE,
    case_progress,
    case_promises,
    ever_listed,
    listed_invoices,
    open_cases,
)
from regua.features.ledger import invoice_status_at

DELISTING_STEP = "delisting"
RECALL_STEP = "agency_recall"
DELISTING_TEMPLATE = "delisting_request"
RECALL_TEMPLATE = "agency_recall"
WAITING_STATES = ("upcoming", "held", "paused", "exhausted")
"""States of a row with nothing for the tools to do tonight (status `waiting`)."""

STEP_COLUMNS = ("ladder_id", "step_id", "step_order", "offset_days", "channel", "template_id",
                "purpose", "tone")  # fmt: skip
"""Columns of the ladder steps frame (one row per step, `step_order` within its ladder)."""

PLAN_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "case_id": pl.String(),
        "invoice_id": pl.String(),
        "invoice_ids": pl.List(pl.String()),
        "invoice_amounts": pl.List(pl.Float64()),
        "invoice_due_dates": pl.List(pl.Date()),
        "segment": pl.String(),
        "ladder_id": pl.String(),
        "step_id": pl.String(),
        "channel": pl.String(),
        "template_id": pl.String(),
        "purpose": pl.String(),
        "due_at": pl.Date(),
        "open_amount": pl.Float64(),
        "total_due": pl.Float64(),
        "invoice_count": pl.UInt32(),
        "oldest_due_at": pl.Date(),
        "step_day": pl.Date(),
        "proposed_on": pl.Date(),
        "state": pl.String(),
        "reason": pl.String(),
        "superseded": pl.List(pl.String()),
        "action_id": pl.String(),
        "valid_until": pl.Date(),
        "case_opened_on": pl.Date(),
        "clock_anchor": pl.Date(),
        "reaged_on": pl.Date(),
        "promise_state": pl.String(),
        "promise_date": pl.Date(),
        "promise_amount": pl.Float64(),
        "promise_made_on": pl.Date(),
        "promise_channel": pl.String(),
        "deadline": pl.Date(),
        "settled_at": pl.Date(),
    }
)
"""Columns of `plan_actions`' output, one row per proposed or waiting action."""


def invoice_status(
    invoices: pl.LazyFrame, payments: pl.LazyFrame, as_of: date, agreement_days: int = 90
) -> pl.LazyFrame:
    """Every invoice issued by as_of: what is open, when it was last paid, when it settled.

    Only payments up to as_of count, so a re-run for an earlier date sees what was known
    then. `settled_at` is the ledger's settling day (`features.ledger.invoice_status_at`),
    null while open.
    """
    status = invoice_status_at(invoices, payments, as_of)
    disputed = (
        pl.col("disputed").fill_null(False)
        if "disputed" in status.collect_schema().names()
        else pl.lit(False)
    )
    return status.with_columns(disputed.alias("disputed")).pipe(
        _status_columns, as_of, agreement_days
    )


def open_invoice_status(
    open_invoices: pl.LazyFrame, as_of: date, agreement_days: int = 90
) -> pl.LazyFrame:
    """`invoice_status` of the invoices still open at as_of, from the ledger's open invoices,
    with the case clock columns when `open_invoices` carries them."""
    names = open_invoices.collect_schema().names()
    clock = [c for c in ("case_opened_on", "clock_anchor", "reaged_on") if c in names]
    missing = [
        pl.lit(None, pl.Date).alias(c)
        for c in ("case_opened_on", "clock_anchor", "reaged_on")
        if c not in names
    ]
    return (
        open_invoices.with_columns(
            pl.lit(None, pl.Date).alias("settled_at"), pl.col("disputed").fill_null(False)
        )
        .pipe(_status_columns, as_of, agreement_days, clock)
        .with_columns(missing)
    )


def _status_columns(
    frame: pl.LazyFrame, as_of: date, agreement_days: int, extra: list[str] | None = None
) -> pl.LazyFrame:
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
        (pl.col("last_agreement_at") > pl.lit(as_of) - timedelta(days=agreement_days))
        .fill_null(False)
        .alias("in_agreement"),
        *(extra or []),
    )


def _conform(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The plan's columns in order; those a kind of action does not have are null."""
    present = frame.collect_schema().names()
    return frame.with_columns(
        pl.lit(None, dtype).alias(name)
        for name, dtype in PLAN_SCHEMA.items()
        if name not in present
    ).select(PLAN_SCHEMA.names())


def _attempt(base: pl.Expr, step: pl.Expr, step_day: pl.Expr, tomorrow: date, valid_days: int):
    """action_id and valid_until of the current attempt of a step falling on step_day."""
    elapsed = (pl.lit(tomorrow) - step_day).dt.total_days().clip(lower_bound=0)
    start = step_day + pl.duration(days=(elapsed // valid_days) * valid_days)
    action_id = pl.concat_str(base, step, start.dt.strftime("%Y%m%d"), separator="/")
    valid_until = start + timedelta(days=valid_days - 1)
    return action_id.alias("action_id"), valid_until.alias("valid_until")


def _pick(candidates: pl.LazyFrame, key: str, due: pl.Expr) -> pl.LazyFrame:
    """Per `key`: the latest due step (earlier due ones superseded), else the next one."""
    return (
        candidates.sort(key, "step_order")
        .group_by(key, maintain_order=True)
        .agg(
            pl.col("step_id").filter(due).alias("_due_steps"),
            pl.col("step_id").filter(~due).first().alias("_next_step"),
            pl.col("step_day").filter(due).last().alias("_due_day"),
            pl.col("step_day").filter(~due).first().alias("_next_day"),
        )
        .with_columns(
            pl.coalesce(pl.col("_due_steps").list.last(), "_next_step").alias("step_id"),
            pl.coalesce("_due_day", "_next_day").alias("step_day"),
            pl.col("_due_steps")
            .list.slice(0, (pl.col("_due_steps").list.len() - 1).clip(0))
            .alias("superseded"),
        )
        .drop("_due_steps", "_next_step", "_due_day", "_next_day")
    )


def plan_cases(
    status: pl.LazyFrame,
    segments: pl.LazyFrame,
    steps: pl.LazyFrame,
    past: pl.LazyFrame,
    payments: pl.LazyFrame,
    as_of: date,
    config: CasesConfig,
    written_channels: tuple[str, ...],
    on_broken_promise: pl.LazyFrame,
) -> pl.LazyFrame:
    """One row per collection case (per unlisted invoice for a listing step), with its step,
    state and reason."""
    tomorrow = as_of + timedelta(days=1)
    cases = open_cases(status, as_of)
    progress = case_progress(cases, segments, steps, past, written_channels)
    promises = case_promises(cases, past, payments, as_of, config)
    cases = (
        progress.join(promises, on="customer_id", how="left")
        .join(on_broken_promise, on="ladder_id", how="left")
        .with_columns(
            pl.when(pl.col("promise_state") == "broken")
            .then(pl.col("promise_resume_on"))
            .alias("_broken_on")
        )
    )
    step_done = (
        (pl.col("step_order") <= pl.col("last_done"))
        | ((pl.col("purpose") == NOTICE) & pl.col("all_noticed"))
        | ((pl.col("purpose") == LISTING) & pl.col("all_listed"))
        | ((pl.col("purpose") == HANDOFF) & pl.col("handed_off"))
    )
    forced = (pl.col("step_id") == pl.col("broken_step")) & pl.col("_broken_on").is_not_null()
    candidates = (
        cases.select(
            "customer_id",
            "ladder_id",
            "clock_anchor",
            "last_done",
            "all_noticed",
            "all_listed",
            "handed_off",
            "broken_step",
            "_broken_on",
        )
        .join(steps.filter(pl.col("offset_days") > 0), on="ladder_id")
        .filter(~step_done)
        .with_columns(
            pl.when(forced)
            .then(pl.min_horizontal("_broken_on", pl.lit(tomorrow)))
            .otherwise(pl.col("clock_anchor") + pl.duration(days=pl.col("offset_days")))
            .alias("step_day")
        )
        .with_columns(
            # a listing waits for the notice it needs rather than superseding it
            (
                (pl.col("purpose") == LISTING)
                & ~pl.col("all_noticed")
                & (pl.col("purpose") == NOTICE).any().over("customer_id")
            ).alias("_needs_notice")
        )
        .filter(~pl.col("_needs_notice"))
    )
    picked = _pick(candidates, "customer_id", pl.col("step_day") <= tomorrow)
    planned = (
        cases.join(picked, on="customer_id", how="left")
        .join(steps, on=["ladder_id", "step_id"], how="left")
        .with_columns(
            pl.col("superseded").fill_null([]),
            pl.col("invoice_ids").list.first().alias("invoice_id"),
            pl.col("invoice_amounts").list.first().alias("open_amount"),
            pl.col("oldest_due_at").alias("due_at"),
        )
    )
    state = (
        pl.when(pl.col("in_agreement"))
        .then(pl.lit("paused"))
        .when(pl.col("invoice_count") == 0)
        .then(pl.lit("paused"))
        .when(pl.col("promise_state") == "pending")
        .then(pl.lit("held"))
        .when(pl.col("step_id").is_null())
        .then(pl.lit("exhausted"))
        .when(pl.col("step_day") <= tomorrow)
        .then(pl.lit("due"))
        .otherwise(pl.lit("upcoming"))
    )
    reason = (
        pl.when(pl.col("state") == "paused")
        .then(
            pl.when(pl.col("in_agreement"))
            .then(pl.lit("caso pausado: acordo de pagamento ativo"))
            .otherwise(pl.lit("caso pausado: todas as faturas vencidas estão contestadas"))
        )
        .when(pl.col("state") == "held")
        .then(
            pl.lit("caso suspenso até a data prometida ")
            + pl.col("promise_date").dt.strftime("%d/%m/%Y")
        )
        .when(pl.col("state") == "exhausted")
        .then(pl.lit("todas as etapas da régua já executadas neste caso"))
        .when(pl.col("step_id") == pl.col("broken_step"))
        .then(
            pl.lit("promessa de pagamento para ")
            + pl.col("promise_date").dt.strftime("%d/%m/%Y")
            + pl.lit(" não cumprida: escalonado")
        )
        .when(pl.col("reaged_on").is_not_null())
        .then(
            pl.lit("etapa do caso; prazo reiniciado pelo pagamento de ")
            + pl.col("reaged_on").dt.strftime("%d/%m/%Y")
        )
        .otherwise(pl.lit("etapa do caso"))
    )
    resume = pl.max_horizontal("promise_resume_on", "step_day")
    planned = planned.with_columns(state.alias("state")).with_columns(
        reason.alias("reason"),
        pl.when(pl.col("state") == "due")
        .then(pl.lit(tomorrow))
        .when(pl.col("state") == "held")
        .then(resume)
        .when(pl.col("state") == "upcoming")
        .then(pl.col("step_day"))
        .alias("proposed_on"),
    )
    listing_due = (pl.col("purpose") == LISTING) & (pl.col("state") == "due")
    per_invoice = (
        planned.filter(listing_due)
        .explode("invoice_ids", "invoice_amounts", "invoice_due_dates")
        .join(
            ever_listed(past),
            left_on="invoice_ids",
            right_on="invoice_id",
            how="anti",
        )
        .with_columns(
            pl.col("invoice_ids").alias("invoice_id"),
            pl.col("invoice_amounts").alias("open_amount"),
            pl.col("invoice_due_dates").alias("due_at"),
            pl.concat_list("invoice_ids").alias("invoice_ids"),
            pl.concat_list("invoice_amounts").alias("invoice_amounts"),
            pl.concat_list("invoice_due_dates").alias("invoice_due_dates"),
        )
    )
    base = pl.when(pl.col("purpose") == LISTING).then("invoice_id").otherwise("case_id")
    planned = pl.concat(
        [planned.filter(~listing_due), per_invoice],
        how="diagonal_relaxed",
    ).with_columns(
        *_attempt(base, pl.col("step_id"), pl.col("step_day"), tomorrow, config.actions.valid_days)
    )
    return _conform(planned)


def plan_reminders(
    status: pl.LazyFrame,
    segments: pl.LazyFrame,
    steps: pl.LazyFrame,
    past: pl.LazyFrame,
    as_of: date,
    config: CasesConfig,
) -> pl.LazyFrame:
    """One row per open invoice not yet past due: its reminder before the due date."""
    tomorrow = as_of + timedelta(days=1)
    before_due = steps.filter(pl.col("offset_days") <= 0)
    invoices = status.filter(pl.col("due_at") > as_of).join(
        segments.select("customer_id", "segment", "ladder_id"), on="customer_id"
    )
    done = (
        past.filter(pl.col("invoice_id").is_not_null())
        .select("invoice_id", "step_id")
        .join(before_due.select("step_id", "step_order"), on="step_id")
        .group_by("invoice_id")
        .agg(pl.col("step_order").max().alias("_last_done"))
    )
    candidates = (
        invoices.select("invoice_id", "ladder_id", "due_at")
        .join(before_due, on="ladder_id")
        .join(done, on="invoice_id", how="left")
        .filter(pl.col("step_order") > pl.col("_last_done").fill_null(-1))
        .with_columns(
            (pl.col("due_at") + pl.duration(days=pl.col("offset_days"))).alias("step_day")
        )
    )
    picked = _pick(candidates, "invoice_id", pl.col("step_day") <= tomorrow)
    state = (
        pl.when(pl.col("step_id").is_null())
        .then(pl.lit("exhausted"))
        .when(pl.col("step_day") <= tomorrow)
        .then(pl.lit("due"))
        .otherwise(pl.lit("upcoming"))
    )
    return (
        invoices.join(picked, on="invoice_id", how="left")
        .join(steps, on=["ladder_id", "step_id"], how="left")
        .with_columns(state.alias("state"))
        .with_columns(
            pl.when(pl.col("state") == "exhausted")
            .then(pl.lit("lembretes antes do vencimento já enviados"))
            .otherwise(pl.lit("lembrete antes do vencimento"))
            .alias("reason"),
            pl.when(pl.col("state") == "due")
            .then(pl.lit(tomorrow))
            .when(pl.col("state") == "upcoming")
            .then(pl.col("step_day"))
            .alias("proposed_on"),
            pl.col("superseded").fill_null([]),
            pl.concat_list("invoice_id").alias("invoice_ids"),
            pl.concat_list("open_amount").alias("invoice_amounts"),
            pl.concat_list("due_at").alias("invoice_due_dates"),
            pl.col("open_amount").alias("total_due"),
            pl.lit(1, pl.UInt32).alias("invoice_count"),
            pl.col("due_at").alias("oldest_due_at"),
            *_attempt(
                pl.col("invoice_id"),
                pl.col("step_id"),
                pl.col("step_day"),
                tomorrow,
                config.actions.valid_days,
            ),
        )
        .pipe(_conform)
    )


def plan_delistings(
    past: pl.LazyFrame,
    invoices: pl.LazyFrame,
    payments: pl.LazyFrame,
    segments: pl.LazyFrame,
    as_of: date,
    config: CasesConfig,
    holidays: list[date],
) -> pl.LazyFrame:
    """One bureau de-listing per listed invoice paid in full or settled by agreement.

    The event is the invoice's settling day or the first agreement payment from its
    listing day on, whichever comes first; the deadline is `delisting.business_days` business days
    later (Monday to Friday less `holidays`).
    """
    tomorrow = as_of + timedelta(days=1)
    listed = listed_invoices(past).collect()
    if listed.is_empty():
        return pl.DataFrame(schema=PLAN_SCHEMA).lazy()
    is_listed = pl.col("invoice_id").is_in(listed["invoice_id"].implode())
    status = invoice_status_at(invoices.filter(is_listed), payments.filter(is_listed), as_of)
    agreed = (
        payments.filter(is_listed & (pl.col("method") == "agreement"))
        .join(listed.lazy().select("invoice_id", "listed_on"), on="invoice_id")
        .filter((pl.col("paid_at") >= pl.col("listed_on")) & (pl.col("paid_at") <= as_of))
        .group_by("invoice_id")
        .agg(pl.col("paid_at").min().alias("_agreed_on"))
    )
    events = (
        listed.lazy()
        .join(status.select("invoice_id", "due_at", "amount", "settled_at"), on="invoice_id")
        .join(agreed, on="invoice_id", how="left")
        .with_columns(pl.min_horizontal("settled_at", "_agreed_on").alias("_event"))
        .filter(pl.col("_event").is_not_null())
        .with_columns(
            pl.col("_event")
            .dt.add_business_days(config.delisting.business_days, holidays=holidays, roll="forward")
            .alias("deadline")
        )
    )
    late = pl.lit(tomorrow) > pl.col("deadline")
    return (
        events.join(
            segments.select("customer_id", "segment", "ladder_id"), on="customer_id", how="left"
        )
        .with_columns(
            pl.lit(DELISTING_STEP).alias("step_id"),
            pl.lit("bureau").alias("channel"),
            pl.lit(DELISTING_TEMPLATE).alias("template_id"),
            pl.lit("delisting").alias("purpose"),
            pl.lit(0.0).alias("open_amount"),
            pl.concat_list("invoice_id").alias("invoice_ids"),
            pl.concat_list(pl.lit(0.0)).alias("invoice_amounts"),
            pl.concat_list("due_at").alias("invoice_due_dates"),
            pl.col("_event").alias("settled_at"),
            pl.lit(0.0).alias("total_due"),
            pl.lit(1, pl.UInt32).alias("invoice_count"),
            pl.col("due_at").alias("oldest_due_at"),
            pl.col("_event").alias("step_day"),
            pl.lit(tomorrow).alias("proposed_on"),
            pl.lit("due").alias("state"),
            pl.when(pl.col("settled_at") == pl.col("_event"))
            .then(pl.lit("fatura negativada quitada em "))
            .otherwise(pl.lit("acordo de pagamento com primeira parcela paga em "))
            .add(pl.col("_event").dt.strftime("%d/%m/%Y"))
            .add(pl.lit(": pedir a baixa até "))
            .add(pl.col("deadline").dt.strftime("%d/%m/%Y"))
            .alias("reason"),
            pl.lit([], pl.List(pl.String)).alias("superseded"),
            pl.concat_str(
                "invoice_id",
                pl.lit(DELISTING_STEP),
                pl.col("_event").dt.strftime("%Y%m%d"),
                separator="/",
            ).alias("action_id"),
            pl.when(late)
            .then(pl.lit(tomorrow) + timedelta(days=config.actions.valid_days - 1))
            .otherwise(pl.col("deadline"))
            .alias("valid_until"),
        )
        .pipe(_conform)
    )


def plan_recalls(
    past: pl.LazyFrame,
    cases: pl.LazyFrame,
    payments: pl.LazyFrame,
    segments: pl.LazyFrame,
    as_of: date,
    config: CasesConfig,
) -> pl.LazyFrame:
    """An agency recall for every customer handed off whose case has closed or is paused by
    an agreement, and who has not been recalled since."""
    tomorrow = as_of + timedelta(days=1)
    handoffs = (
        past.filter(pl.col("purpose") == HANDOFF)
        .sort("at")
        .group_by("customer_id")
        .agg(pl.col("at").last().alias("_handed_at"), pl.col("case_id").last())
    )
    recalled = (
        past.filter(pl.col("purpose") == RECALL_STEP)
        .group_by("customer_id")
        .agg(pl.col("at").max().alias("_recalled_at"))
    )
    still_open = cases.filter(~pl.col("in_agreement")).select("customer_id")
    closed_on = (
        payments.filter(pl.col("paid_at") <= as_of)
        .group_by("customer_id")
        .agg(pl.col("paid_at").max().alias("step_day"))
    )
    due = (
        handoffs.join(recalled, on="customer_id", how="left")
        .filter(pl.col("_recalled_at").is_null() | (pl.col("_recalled_at") < pl.col("_handed_at")))
        .join(still_open, on="customer_id", how="anti")
        .join(closed_on, on="customer_id", how="left")
        .with_columns(pl.coalesce("step_day", pl.lit(as_of)).alias("step_day"))
    )
    base = pl.coalesce("case_id", "customer_id")
    return (
        due.join(
            segments.select("customer_id", "segment", "ladder_id"), on="customer_id", how="left"
        )
        .with_columns(
            pl.lit(None, pl.String).alias("invoice_id"),
            pl.lit([], pl.List(pl.String)).alias("invoice_ids"),
            pl.lit([], pl.List(pl.Float64)).alias("invoice_amounts"),
            pl.lit([], pl.List(pl.Date)).alias("invoice_due_dates"),
            pl.col("step_day").alias("settled_at"),
            pl.lit(RECALL_STEP).alias("step_id"),
            pl.lit("agency").alias("channel"),
            pl.lit(RECALL_TEMPLATE).alias("template_id"),
            pl.lit(RECALL_STEP).alias("purpose"),
            pl.lit(0.0).alias("open_amount"),
            pl.lit(0.0).alias("total_due"),
            pl.lit(0, pl.UInt32).alias("invoice_count"),
            pl.lit(tomorrow).alias("proposed_on"),
            pl.lit("due").alias("state"),
            pl.lit("caso quitado ou em acordo: retirar da agência de cobrança").alias("reason"),
            pl.lit([], pl.List(pl.String)).alias("superseded"),
            *_attempt(
                base, pl.lit(RECALL_STEP), pl.col("step_day"), tomorrow, config.actions.valid_days
            ),
        )
        .pipe(_conform)
    )


def plan_actions(
    status: pl.LazyFrame,
    segments: pl.LazyFrame,
    steps: pl.LazyFrame,
    past: pl.LazyFrame,
    invoices: pl.LazyFrame,
    payments: pl.LazyFrame,
    as_of: date,
    config: CasesConfig,
    written_channels: tuple[str, ...],
    broken_steps: pl.LazyFrame,
    holidays: list[date],
) -> pl.DataFrame:
    """Every proposed or waiting action of the night, in priority order within a customer's
    day: agency recalls, de-listings, case steps, then reminders before the due date.

    `status` is `open_invoice_status` with the case clocks; `past` is `cases.history`;
    `broken_steps` is (ladder_id, broken_step); `holidays` are the business-day holidays
    of the de-listing deadline.
    """
    payments = payments.filter(pl.col("paid_at") <= as_of)
    in_case = (
        status.filter(pl.col("due_at") <= as_of)
        .group_by("customer_id")
        .agg(pl.col("in_agreement").any())
    )
    parts = [
        plan_recalls(past, in_case, payments, segments, as_of, config),
        plan_delistings(past, invoices, payments, segments, as_of, config, holidays),
        plan_cases(
            status,
            segments,
            steps,
            past,
            payments,
            as_of,
            config,
            written_channels,
            broken_steps,
        ),
        plan_reminders(status, segments, steps, past, as_of, config),
    ]
    # One order whatever the joins did: it breaks the guardrails' ties (two contacts of a
    # customer at the same time), so a re-run, or the same night in the twin, is the same.
    return (
        pl.concat(
            [part.collect().with_columns(pl.lit(i).alias("_kind")) for i, part in enumerate(parts)],
            how="vertical_relaxed",
        )
        .sort("customer_id", "_kind", "action_id", "invoice_id", "step_id", nulls_last=True)
        .drop("_kind")
    )
