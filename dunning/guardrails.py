"""Legal contact guardrails over proposed dunning actions: pure functions over polars frames.

An action is one proposed row: customer_id, invoice_id, step_id, channel, purpose, uf and
`scheduled_for`, a naive datetime in the customer's local time (the UF's zone). Every rule
either leaves a row alone, moves it later (status "scheduled", reason "moved:<why>") or
skips it (status "skipped", reason "skipped:<why>"); no row is ever dropped. Reasons add up,
separated by "; ", and `reason_pt` says the same in Portuguese for analysts.

Purposes the rules know: "negative_listing_notice" (the written notice of CDC art. 43 §2),
"negative_listing" and "suspension" (not contacts: no window, no cap, no opt-out; day rules
instead). Any other purpose is an ordinary collection contact. Decisions:
- do_not_contact and channel opt-outs skip ordinary contacts on any channel, letters and
  agency hand-offs included (the agency contacts the customer); listing notices still go out
  while `legal_notices_ignore_opt_outs` is on (a legal duty, LGPD art. 7 II), as do listings
  and suspensions.
- Listing notices are never pushed by the frequency cap, but they count towards it.
- A negative listing needs the customer's CPF/CNPJ: it is skipped for a customer whose
  `document_hash` is empty (customers without a `document_hash` column are not checked).
- A listing is placed on a business day; a suspension on Monday-Thursday, not a holiday and
  not the eve of one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from regua.config.guardrails import GuardrailsConfig
from regua.contract import UFS
from regua.dunning.calendar import holiday_table, uf_timezone, years_covering
from regua.dunning.slots import search_days, search_slots, window_table

NOTICE = "negative_listing_notice"
LISTING = "negative_listing"
SUSPENSION = "suspension"
NON_CONTACT = (LISTING, SUSPENSION)
OPT_OUTS = {
    "email": "opt_out_email",
    "sms": "opt_out_sms",
    "whatsapp": "opt_out_whatsapp",
    "phone": "opt_out_phone",
}
REQUIRED = ("customer_id", "channel", "purpose", "scheduled_for")
OPTIONAL = {"invoice_id": pl.String(), "step_id": pl.String()}

REASONS_PT: dict[str, str] = {
    "moved:outside_window": "adiado: fora do horário permitido",
    "moved:sunday": "adiado: domingo",
    "moved:no_window_day": "adiado: dia sem horário para o canal",
    "moved:holiday": "adiado: feriado",
    "moved:frequency_cap": "adiado: limite de contatos em 7 dias",
    "moved:notice_lead": "adiado: prazo da notificação prévia",
    "moved:weekend": "adiado: fim de semana",
    "moved:friday_or_weekend": "adiado: sexta-feira ou fim de semana",
    "moved:eve_of_holiday": "adiado: véspera de feriado",
    "skipped:do_not_contact": "não enviado: cliente não quer ser contatado",
    "skipped:opt_out_email": "não enviado: cliente recusou e-mail",
    "skipped:opt_out_sms": "não enviado: cliente recusou SMS",
    "skipped:opt_out_whatsapp": "não enviado: cliente recusou WhatsApp",
    "skipped:opt_out_phone": "não enviado: cliente recusou ligações",
    "skipped:repeated_step": "não enviado: etapa já feita para esta fatura",
    "skipped:no_slot": "não enviado: sem horário permitido no prazo",
    "skipped:frequency_cap": "não enviado: limite de contatos sem vaga no prazo",
    "skipped:no_written_notice": "não enviado: sem notificação prévia por escrito",
    "skipped:no_document": "não enviado: negativação exige CPF/CNPJ do cliente",
    "skipped:unknown_uf": "não enviado: UF desconhecida",
    "skipped:no_date": "não enviado: sem data proposta",
}
"""Every reason code the guardrails emit, with the Portuguese text analysts read."""

_PENDING = pl.col("status") == "scheduled"
_CONTACT = _PENDING & ~pl.col("purpose").is_in(NON_CONTACT)
_UPDATE_SCHEMA = {"_row": pl.UInt32, "new_for": pl.Datetime("us"), "new_status": pl.String}


# ---- plumbing: one working frame, updated stage by stage ----------------------------------


def _prepare(actions: pl.DataFrame, customers: pl.DataFrame | None = None) -> pl.DataFrame:
    if "_row" in actions.columns:
        return actions
    missing = [c for c in REQUIRED if c not in actions.columns]
    if missing:
        raise ValueError(f"actions: missing columns {', '.join(missing)}")
    if actions.schema["scheduled_for"] == pl.Datetime and actions.schema["scheduled_for"].time_zone:  # type: ignore[union-attr]
        raise ValueError("actions: scheduled_for must be naive local time (no time zone)")
    frame = actions.with_columns(
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in OPTIONAL.items()
        if name not in actions.columns
    )
    if "uf" not in frame.columns:
        if customers is None:
            raise ValueError("actions: no `uf` column and no customers to take `state` from")
        states = customers.select("customer_id", pl.col("state").alias("uf"))
        frame = frame.join(states, on="customer_id", how="left", maintain_order="left")
    frame = frame.with_columns(pl.col("scheduled_for").cast(pl.Datetime("us")))
    if "status" not in frame.columns:
        frame = frame.with_columns(
            proposed_for=pl.col("scheduled_for"),
            status=pl.lit("scheduled"),
            reason=pl.lit(None, dtype=pl.String()),
        )
    frame = frame.with_row_index("_row").with_columns(
        pl.col("_row").cast(pl.UInt32), scheduled_tz=uf_timezone(pl.col("uf"))
    )
    frame = _mark(frame, ~pl.col("uf").is_in(UFS) | pl.col("uf").is_null(), "skipped:unknown_uf")
    return _mark(frame, pl.col("scheduled_for").is_null(), "skipped:no_date")


def _mark(frame: pl.DataFrame, where: pl.Expr, code: str) -> pl.DataFrame:
    """Move (code moved:*) or skip (code skipped:*) the pending rows where `where` holds."""
    hit = _PENDING & where.fill_null(False)
    status = "skipped" if code.startswith("skipped:") else "scheduled"
    return frame.with_columns(
        status=pl.when(hit).then(pl.lit(status)).otherwise("status"),
        reason=pl.when(hit).then(_append(pl.lit(code))).otherwise("reason"),
    )


def _append(code: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.col("reason"), code], separator="; ", ignore_nulls=True)


def _apply(frame: pl.DataFrame, updates: pl.DataFrame) -> pl.DataFrame:
    """Merge per-row results (_row, new_for, new_status, code; nulls change nothing)."""
    if updates.is_empty():
        return frame
    updates = updates.select(
        pl.col("_row").cast(pl.UInt32),
        pl.col("new_for").cast(pl.Datetime("us")),
        pl.col("new_status").cast(pl.String),
        pl.col("code").cast(pl.String),
    )
    return (
        frame.join(updates, on="_row", how="left", maintain_order="left")
        .with_columns(
            scheduled_for=pl.coalesce("new_for", "scheduled_for"),
            status=pl.coalesce("new_status", "status"),
            reason=pl.when(pl.col("code").is_not_null())
            .then(_append(pl.col("code")))
            .otherwise("reason"),
        )
        .drop("new_for", "new_status", "code")
    )


def _from_slots(slots: pl.DataFrame, skip_code: str) -> pl.DataFrame:
    """Turn search results into updates: moved where a slot differs, skipped where none."""
    return slots.select(
        "_row",
        new_for=pl.col("slot"),
        new_status=pl.when(pl.col("slot").is_null()).then(pl.lit("skipped")),
        code=pl.when(pl.col("slot").is_null()).then(pl.lit(skip_code)).otherwise("code"),
    )


def _finish(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    added = ["uf", "proposed_for", "scheduled_tz", "status", "reason"]
    order = columns + [c for c in added if c not in columns]
    return frame.sort("_row").select(order)


def _holidays_for(frame: pl.DataFrame, config: GuardrailsConfig) -> pl.DataFrame:
    years = years_covering([frame["scheduled_for"]], extra_days=2 * config.horizon_days + 90)
    rules = config.holidays
    return holiday_table(years, tuple(rules.categories), rules.include_state)


# ---- the rules -----------------------------------------------------------------------------


def _preferences(
    frame: pl.DataFrame, customers: pl.DataFrame, config: GuardrailsConfig
) -> pl.DataFrame:
    flags = ["do_not_contact", *OPT_OUTS.values()]
    has_document = "document_hash" in customers.columns
    prefs = customers.select(
        "customer_id",
        *(
            (pl.col(f) if f in customers.columns else pl.lit(False)).cast(pl.Boolean).alias(f"_{f}")
            for f in flags
        ),
        _no_document=pl.col("document_hash").is_null() if has_document else pl.lit(False),
    ).unique("customer_id")
    frame = frame.join(prefs, on="customer_id", how="left", maintain_order="left")
    subject = ~pl.col("purpose").is_in(NON_CONTACT)
    if config.legal_notices_ignore_opt_outs:
        subject = subject & (pl.col("purpose") != NOTICE)
    frame = _mark(frame, subject & pl.col("_do_not_contact"), "skipped:do_not_contact")
    for channel, flag in OPT_OUTS.items():
        where = subject & (pl.col("channel") == channel) & pl.col(f"_{flag}")
        frame = _mark(frame, where, f"skipped:opt_out_{channel}")
    listing = (pl.col("purpose") == LISTING) & pl.col("_no_document")
    frame = _mark(frame, listing, "skipped:no_document")
    return frame.drop(*(f"_{f}" for f in flags), "_no_document")


def _repeats(frame: pl.DataFrame, history: pl.DataFrame) -> pl.DataFrame:
    keys = ["invoice_id", "step_id"]
    proposed = frame.select(keys).drop_nulls().unique()
    # the batch's pairs looked up in history: far cheaper than every pair ever done
    done = (
        history.select(keys)
        .join(proposed, on=keys, how="semi")
        .unique()
        .with_columns(_done=pl.lit(True))
    )
    frame = frame.join(done, on=keys, how="left", maintain_order="left")
    frame = _mark(frame, pl.col("_done"), "skipped:repeated_step").drop("_done")
    later = (
        frame.filter(_PENDING & pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
        .sort("scheduled_for", "_row")
        .filter(~pl.struct(keys).is_first_distinct())
    )
    return _mark(frame, pl.col("_row").is_in(later["_row"].implode()), "skipped:repeated_step")


def _windows(frame: pl.DataFrame, config: GuardrailsConfig, holidays: pl.DataFrame) -> pl.DataFrame:
    todo = frame.filter(_CONTACT).select("_row", "uf", "channel", "scheduled_for")
    slots = search_slots(todo, window_table(config), holidays, config.horizon_days)
    return _apply(frame, _from_slots(slots, "skipped:no_slot"))


def _cap(
    frame: pl.DataFrame,
    history: pl.DataFrame,
    config: GuardrailsConfig,
    holidays: pl.DataFrame,
) -> pl.DataFrame:
    """Greedy, day by day in date order: on each day a customer gets what the last 7 days left."""
    limit, horizon = config.max_contacts_per_7_days, config.horizon_days
    subject = _CONTACT & pl.col("channel").is_in(config.cap_channels)
    todo = frame.filter(subject).select(
        "_row",
        "customer_id",
        "uf",
        "channel",
        "scheduled_for",
        exempt=pl.col("purpose") == NOTICE,
        first_for=pl.col("scheduled_for"),
        day=pl.col("scheduled_for").dt.date(),
        last_day=pl.col("scheduled_for").dt.date() + pl.duration(days=horizon),
        moved=pl.lit(False),
    )
    if todo.is_empty():
        return frame
    first: date = todo["day"].min()  # type: ignore[assignment]
    past = (
        history.filter(pl.col("channel").is_in(config.cap_channels))
        .select("customer_id", day=pl.col("at").dt.date())
        .filter(pl.col("day") >= first - timedelta(days=6))
        .join(todo.select("customer_id").unique(), on="customer_id", how="semi")
        .group_by("customer_id", "day")
        .agg(n=pl.len().cast(pl.Int64))
    )
    counted: dict[date, list[pl.DataFrame]] = {}
    for (day,), part in past.partition_by("day", as_dict=True, include_key=False).items():
        counted.setdefault(day, []).append(part)
    queue: dict[date, list[pl.DataFrame]] = {}
    for (day,), part in todo.partition_by("day", as_dict=True).items():
        queue.setdefault(day, []).append(part)
    windows, placed, dropped = window_table(config), [], []
    while queue:
        day = min(queue)
        today = pl.concat(queue.pop(day))
        recent = [f for d in range(7) for f in counted.get(day - timedelta(days=d), [])]
        if recent:
            used = pl.concat(recent).group_by("customer_id").agg(pl.col("n").sum())
            today = today.join(used, on="customer_id", how="left")
        else:
            today = today.with_columns(n=pl.lit(None, dtype=pl.Int64))
        order = ["exempt", "scheduled_for", "first_for", "_row"]
        today = today.sort(order, descending=[True, False, False, False])
        today = today.with_columns(
            ok=pl.col("exempt")
            | (pl.int_range(pl.len()).over("customer_id") + pl.col("n").fill_null(0) < limit)
        ).drop("n")
        kept = today.filter("ok").drop("ok")
        placed.append(kept.select("_row", "scheduled_for", "moved"))
        counted.setdefault(day, []).append(
            kept.group_by("customer_id").agg(n=pl.len().cast(pl.Int64))
        )
        pushed = today.filter(~pl.col("ok")).drop("ok")
        if pushed.is_empty():
            continue
        pushed = pushed.with_columns(
            scheduled_for=(pl.col("day") + pl.duration(days=1)).cast(pl.Datetime("us")),
            moved=pl.lit(True),
        )
        slots = search_slots(pushed, windows, holidays, horizon)
        pushed = pushed.join(slots.select("_row", "slot"), on="_row", how="left").with_columns(
            scheduled_for=pl.col("slot"), day=pl.col("slot").dt.date()
        )
        late = pl.col("slot").is_null() | (pl.col("day") > pl.col("last_day"))
        dropped.append(pushed.filter(late).select("_row"))
        again = pushed.filter(~late).drop("slot")
        for (next_day,), part in again.partition_by("day", as_dict=True).items():
            queue.setdefault(next_day, []).append(part)
    moved = pl.concat(placed).filter("moved")
    updates = pl.concat(
        [
            moved.select(
                "_row",
                new_for="scheduled_for",
                new_status=pl.lit(None, dtype=pl.String),
                code=pl.lit("moved:frequency_cap"),
            ),
            *(
                d.select(
                    "_row",
                    new_for=pl.lit(None, dtype=pl.Datetime("us")),
                    new_status=pl.lit("skipped"),
                    code=pl.lit("skipped:frequency_cap"),
                )
                for d in dropped
            ),
        ]
    )
    return _apply(frame, updates)


def _notice_days(
    frame: pl.DataFrame, history: pl.DataFrame, config: GuardrailsConfig
) -> pl.DataFrame:
    written = pl.col("channel").is_in(config.written_notice_channels)
    batch = frame.filter(_PENDING & (pl.col("purpose") == NOTICE) & written).select(
        "invoice_id", notice_day=pl.col("scheduled_for").dt.date()
    )
    parts = [batch]
    if "purpose" in history.columns:
        sent = pl.col("outcome") != "undelivered" if "outcome" in history.columns else pl.lit(True)
        parts.append(
            history.filter((pl.col("purpose") == NOTICE) & written & sent.fill_null(True)).select(
                "invoice_id", notice_day=pl.col("at").dt.date()
            )
        )
    return pl.concat(parts).drop_nulls().group_by("invoice_id").agg(pl.col("notice_day").min())


def _listing(
    frame: pl.DataFrame,
    history: pl.DataFrame,
    config: GuardrailsConfig,
    holidays: pl.DataFrame,
) -> pl.DataFrame:
    listing = _PENDING & (pl.col("purpose") == LISTING)
    if frame.filter(listing).is_empty():
        return frame
    lead = {uf: config.lead_days(uf) for uf in UFS}
    todo = (
        frame.filter(listing)
        .select("_row", "uf", "invoice_id", "scheduled_for")
        .join(_notice_days(frame, history, config), on="invoice_id", how="left")
    )
    no_notice = todo.filter(pl.col("notice_day").is_null())
    todo = todo.filter(pl.col("notice_day").is_not_null()).with_columns(
        earliest=pl.col("notice_day")
        + pl.duration(days=pl.col("uf").replace_strict(lead, return_dtype=pl.Int64))
    )
    early = pl.col("scheduled_for").dt.date() < pl.col("earliest")
    todo = todo.with_columns(
        scheduled_for=pl.when(early)
        .then(pl.col("earliest").dt.combine(pl.col("scheduled_for").dt.time()))
        .otherwise("scheduled_for"),
        code=pl.when(early).then(pl.lit("moved:notice_lead")),
    )
    days = search_days(todo, holidays, config.horizon_days, rule="business")
    moved = todo.select("_row", new_for="scheduled_for", new_status=pl.lit(None), code="code")
    updates = [
        no_notice.select(
            "_row",
            new_for=pl.lit(None),
            new_status=pl.lit("skipped"),
            code=pl.lit("skipped:no_written_notice"),
        ),
        moved.filter(pl.col("code").is_not_null()),
        _from_slots(days, "skipped:no_slot").filter(pl.col("code").is_not_null()),
    ]
    for update in updates:
        frame = _apply(frame, update.cast(_UPDATE_SCHEMA | {"code": pl.String}))
    return frame


def _suspension(
    frame: pl.DataFrame, config: GuardrailsConfig, holidays: pl.DataFrame
) -> pl.DataFrame:
    todo = frame.filter(_PENDING & (pl.col("purpose") == SUSPENSION))
    days = search_days(todo, holidays, config.horizon_days, rule="suspension")
    return _apply(frame, _from_slots(days, "skipped:no_slot"))


def _history(history: pl.DataFrame | None, as_of: date | None) -> pl.DataFrame:
    columns = {"customer_id": pl.String, "invoice_id": pl.String, "at": pl.Datetime("us")}
    if history is None:
        return pl.DataFrame(schema={**columns, "channel": pl.String, "step_id": pl.String})
    history = history.with_columns(pl.col("at").cast(pl.Datetime("us")))
    for name in ("invoice_id", "step_id"):
        if name not in history.columns:
            history = history.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    if as_of is None:
        return history
    end = datetime.combine(as_of, datetime.min.time()) + timedelta(days=1)
    return history.filter(pl.col("at") < end)


# ---- public API ----------------------------------------------------------------------------


def next_allowed_slot(
    actions: pl.DataFrame, config: GuardrailsConfig, holidays: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Move each contact to the earliest allowed local time for its channel and UF.

    Windows per weekday, no Sundays, no national or state holidays; a contact with no slot
    within `config.horizon_days` is skipped. Listings and suspensions pass through.
    Adds proposed_for, scheduled_tz, status and reason.
    """
    frame = _prepare(actions)
    holidays = _holidays_for(frame, config) if holidays is None else holidays
    return _finish(_windows(frame, config, holidays), actions.columns)


def apply_contact_preferences(
    actions: pl.DataFrame, customers: pl.DataFrame, config: GuardrailsConfig
) -> pl.DataFrame:
    """Skip contacts to do-not-contact customers and on channels they opted out of, and
    negative listings of customers without a CPF/CNPJ."""
    frame = _prepare(actions, customers)
    return _finish(_preferences(frame, customers, config), actions.columns)


def skip_repeated_steps(actions: pl.DataFrame, history: pl.DataFrame | None) -> pl.DataFrame:
    """Skip a step already done for the same invoice, in history or earlier in the batch."""
    frame = _prepare(actions)
    return _finish(_repeats(frame, _history(history, None)), actions.columns)


def cap_contact_frequency(
    actions: pl.DataFrame,
    history: pl.DataFrame | None,
    config: GuardrailsConfig,
    as_of: date | None = None,
    holidays: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Keep at most N contacts per customer in any 7 days (history counted); push the rest.

    Within a day, listing notices go first, then earlier times, then earlier proposals, then
    input order; a pushed contact goes to the next allowed slot from the following day, or
    is skipped once that is beyond `horizon_days` after its proposed day.
    """
    frame = _prepare(actions)
    holidays = _holidays_for(frame, config) if holidays is None else holidays
    return _finish(_cap(frame, _history(history, as_of), config, holidays), actions.columns)


def enforce_listing_notice(
    actions: pl.DataFrame,
    history: pl.DataFrame | None,
    config: GuardrailsConfig,
    holidays: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Hold a negative listing until its written notice is `lead_days` old; skip it without one.

    A notice is a `negative_listing_notice` on a written channel for the same invoice,
    scheduled in this batch or in history (history needs a `purpose` column to be read;
    undelivered ones do not count). The listing then lands on a business day.
    """
    frame = _prepare(actions)
    holidays = _holidays_for(frame, config) if holidays is None else holidays
    frame = _listing(frame, _history(history, None), config, holidays)
    return _finish(frame, actions.columns)


def enforce_suspension_days(
    actions: pl.DataFrame, config: GuardrailsConfig, holidays: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Move a suspension off Fridays, weekends, holidays and holiday eves."""
    frame = _prepare(actions)
    holidays = _holidays_for(frame, config) if holidays is None else holidays
    return _finish(_suspension(frame, config, holidays), actions.columns)


def apply_guardrails(
    actions: pl.DataFrame,
    customers: pl.DataFrame,
    history: pl.DataFrame | None,
    config: GuardrailsConfig,
    as_of: date,
) -> pl.DataFrame:
    """Every legal guardrail on a batch of proposed actions; every input row comes back.

    Order: preferences, repeated steps, windows, frequency cap, listing notice, suspension
    days. Output: the input columns plus uf (if it came from customers), proposed_for,
    scheduled_for (final, naive local), scheduled_tz, status, reason and reason_pt.
    """
    past = _history(history, as_of)
    frame = _prepare(actions, customers)
    holidays = _holidays_for(frame, config)
    frame = _preferences(frame, customers, config)
    frame = _repeats(frame, past)
    frame = _windows(frame, config, holidays)
    frame = _cap(frame, past, config, holidays)
    frame = _listing(frame, past, config, holidays)
    frame = _suspension(frame, config, holidays)
    out = _finish(frame, actions.columns)
    return out.with_columns(
        reason_pt=pl.col("reason").str.replace_many(
            list(REASONS_PT), list(REASONS_PT.values()), leftmost=True
        )
    )
