"""Legal contact guardrails over proposed dunning actions: pure functions over polars frames.

An action is one proposed row: customer_id, invoice_id, step_id, channel, purpose, uf and
`scheduled_for`, a naive datetime in the customer's local time (the UF's zone); optional
`action_id` and `due_at` (the invoice's due date, read by the listing rules). Every rule
either leaves a row alone, moves it later (status "scheduled", reason "moved:<why>") or
skips it (status "skipped", reason "skipped:<why>"); no row is ever dropped. Reasons add up,
separated by "; ", and `reason_pt` says the same in Portuguese for analysts.

Not contacts with the customer (no window, no cap, no opt-out; day rules instead): the
purposes "negative_listing", "delisting" and "suspension", and every action on channel
"bureau" (a listing notice the bureau sends included). Purpose "agency_recall" (telling the
agency to stop) keeps its channel's window but is never skipped by opt-outs nor capped.
Any other purpose is an ordinary collection contact. Decisions:
- do_not_contact and channel opt-outs skip ordinary contacts on any channel, letters and
  agency hand-offs included (the agency contacts the customer); listing notices still go out
  while `legal_notices_ignore_opt_outs` is on (a legal duty, LGPD art. 7 II).
- Caps, over `cap_channels`, history counted: at most `max_contacts_per_7_days` in any 7
  days and `max_contacts_per_day` on one local day; greedy by day, a pushed contact goes to
  its channel's next slot from the next day (moved:frequency_cap / moved:daily_cap), or is
  skipped past `horizon_days`. Listing notices go first in their day; the caps hold for them too.
- A negative listing needs the customer's CPF/CNPJ: it is skipped for a customer whose
  `document_hash` is empty (customers without a `document_hash` column are not checked).
- A negative listing needs a counted written notice (purpose negative_listing_notice on a
  `written_notice_channels` channel, not undelivered nor wrong_number, in history or
  scheduled in this batch) of the same customer, dated after the listed invoice's `due_at`
  (without `due_at`, a notice for the same invoice); the earliest such notice day n sets the
  earliest listing day n + lead_days(uf). It is skipped when the debt fell due more than
  `max_debt_age_years` before the listing day (CDC art. 43 §1, STJ Súmula 323).
- Listings, de-listings and bureau actions land on a business day; a suspension on
  Monday-Thursday, not a holiday and not the eve of one. Holidays include the configured
  no-contact days (Carnival, Christmas and New Year's Eves).

Evidence columns `apply_guardrails` adds to every row, scheduled or skipped ("final day" is
the date of the final `scheduled_for`; all null where that is null):
- ev_window: the channel's window on the final day in the customer's UF ("08:00-20:00"),
  null when the channel has none that weekday or the day is a holiday or no-contact day.
- ev_contacts_7d, ev_contacts_day: the customer's counted contacts (cap channels, history
  plus this batch's scheduled rows ahead of the row, never the row itself) in the 7 days
  ending on the final day, and on that day. Ahead means an earlier day, or the same day and
  earlier in the caps' order (listing notices first, then time, then input order), so for a
  contact the caps kept they are exactly what the caps saw.
- ev_notice_id, ev_notice_date: for listings, the covering notice (its contact_id, else
  action_id, from history; the batch row's action_id) and its day; null without one.
- ev_listing_earliest: for listings, notice day + lead_days(uf); for a scheduled counted
  notice, the earliest day a listing it covers may happen.
- ev_debt_age_days: final day - due_at in days (when `due_at` is given).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from regua.config.guardrails import GuardrailsConfig
from regua.contract import UFS
from regua.dunning.calendar import flag_holidays, holiday_table, uf_timezone, years_covering
from regua.dunning.slots import search_days, search_slots, window_table

NOTICE = "negative_listing_notice"
LISTING = "negative_listing"
DELISTING = "delisting"
SUSPENSION = "suspension"
RECALL = "agency_recall"
BUREAU = "bureau"
NON_CONTACT = (LISTING, SUSPENSION, DELISTING)
"""Purposes that are never a contact with the customer (neither is any bureau action)."""
OPT_OUTS = {
    "email": "opt_out_email",
    "sms": "opt_out_sms",
    "whatsapp": "opt_out_whatsapp",
    "phone": "opt_out_phone",
}
NOT_COUNTED_OUTCOMES = ("undelivered", "wrong_number")
"""Outcomes of a past notice that did not reach the customer: it is not a written notice."""
REQUIRED = ("customer_id", "channel", "purpose", "scheduled_for")
OPTIONAL = {"invoice_id": pl.String(), "step_id": pl.String()}
EVIDENCE = pl.Schema(
    {
        "ev_window": pl.String(),
        "ev_contacts_7d": pl.Int32(),
        "ev_contacts_day": pl.Int32(),
        "ev_notice_id": pl.String(),
        "ev_notice_date": pl.Date(),
        "ev_listing_earliest": pl.Date(),
        "ev_debt_age_days": pl.Int32(),
    }
)
"""Evidence columns apply_guardrails adds (see the module docstring)."""

REASONS_PT: dict[str, str] = {
    "moved:outside_window": "adiado: fora do horário permitido",
    "moved:sunday": "adiado: domingo",
    "moved:no_window_day": "adiado: dia sem horário para o canal",
    "moved:holiday": "adiado: feriado ou dia sem contato",
    "moved:frequency_cap": "adiado: limite de contatos em 7 dias",
    "moved:daily_cap": "adiado: limite de contatos no dia",
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
    "skipped:frequency_cap": "não enviado: limite de contatos em 7 dias sem vaga no prazo",
    "skipped:daily_cap": "não enviado: limite de contatos no dia sem vaga no prazo",
    "skipped:no_written_notice": "não enviado: sem notificação prévia por escrito",
    "skipped:debt_too_old": "não enviado: dívida vencida há tempo demais para negativar",
    "skipped:no_document": "não enviado: negativação exige CPF/CNPJ do cliente",
    "skipped:unknown_uf": "não enviado: UF desconhecida",
    "skipped:no_date": "não enviado: sem data proposta",
}
"""Every reason code the guardrails emit, with the Portuguese text analysts read."""

_PENDING = pl.col("status") == "scheduled"
_NOT_A_CONTACT = pl.col("purpose").is_in(NON_CONTACT).fill_null(False) | (
    pl.col("channel") == BUREAU
).fill_null(False)
_CONTACT = _PENDING & ~_NOT_A_CONTACT
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
    """Merge per-row results (_row, new_for, new_status, code; nulls change nothing).

    Any further column of `updates` (evidence) is added to the frame as it is.
    """
    if updates.is_empty():
        return frame
    extra = [c for c in updates.columns if c not in ("_row", "new_for", "new_status", "code")]
    updates = updates.select(
        pl.col("_row").cast(pl.UInt32),
        pl.col("new_for").cast(pl.Datetime("us")),
        pl.col("new_status").cast(pl.String),
        pl.col("code").cast(pl.String),
        *extra,
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


def _finish(frame: pl.DataFrame, columns: list[str], *, evidence: bool = False) -> pl.DataFrame:
    added = ["uf", "proposed_for", "scheduled_tz", "status", "reason"]
    if evidence:
        added += list(EVIDENCE)
    order = columns + [c for c in added if c not in columns]
    return frame.sort("_row").select(order)


def _holidays_for(frame: pl.DataFrame, config: GuardrailsConfig) -> pl.DataFrame:
    years = years_covering([frame["scheduled_for"]], extra_days=2 * config.horizon_days + 90)
    rules = config.holidays
    return holiday_table(
        years, tuple(rules.categories), rules.include_state, tuple(rules.no_contact_days)
    )


def _capped(config: GuardrailsConfig) -> pl.Expr:
    """Rows the caps count (and push, unless a listing notice), whatever their status."""
    return (
        ~_NOT_A_CONTACT
        & pl.col("channel").is_in(config.cap_channels).fill_null(False)
        & (pl.col("purpose") != RECALL).fill_null(True)
    )


def _past_counts(
    history: pl.DataFrame, config: GuardrailsConfig, customers: pl.DataFrame, first: date
) -> pl.DataFrame:
    """History's counted contacts of `customers` per local day from `first` - 6 days on."""
    counted = pl.col("channel").is_in(config.cap_channels)
    if "purpose" in history.columns:
        counted = counted & (pl.col("purpose") != RECALL).fill_null(True)
    since = datetime.combine(first - timedelta(days=6), datetime.min.time())
    return (
        history.filter(counted & (pl.col("at") >= since))
        .select("customer_id", day=pl.col("at").dt.date())
        .join(customers, on="customer_id", how="semi")
        .group_by("customer_id", "day")
        .agg(n=pl.len().cast(pl.Int64))
    )


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
    subject = ~_NOT_A_CONTACT & (pl.col("purpose") != RECALL).fill_null(True)
    if config.legal_notices_ignore_opt_outs:
        subject = subject & (pl.col("purpose") != NOTICE).fill_null(True)
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


_CAP_ORDER = (["exempt", "scheduled_for", "first_for", "_row"], [True, False, False, False])
"""Order of a customer's contacts within a day for the caps: listing notices first (they
take the day's slot; the cap itself holds for them too, so a notice may be pushed a day)."""


def _cap(
    frame: pl.DataFrame,
    history: pl.DataFrame,
    config: GuardrailsConfig,
    holidays: pl.DataFrame,
) -> pl.DataFrame:
    """Greedy, day by day in date order: on each day a customer gets what is left of both the
    last 7 days' cap and the day's cap; the rest is pushed to the next allowed slot."""
    per_week, per_day = config.max_contacts_per_7_days, config.max_contacts_per_day
    horizon = config.horizon_days
    frame = frame.with_columns(_first_for=pl.col("scheduled_for"))
    todo = frame.filter(_PENDING & _capped(config)).select(
        "_row",
        "customer_id",
        "uf",
        "channel",
        "scheduled_for",
        exempt=(pl.col("purpose") == NOTICE).fill_null(False),
        first_for=pl.col("scheduled_for"),
        day=pl.col("scheduled_for").dt.date(),
        last_day=pl.col("scheduled_for").dt.date() + pl.duration(days=horizon),
        by_week=pl.lit(False),
        by_day=pl.lit(False),
    )
    if todo.is_empty():
        return frame
    first: date = todo["day"].min()  # type: ignore[assignment]
    past = _past_counts(history, config, todo.select("customer_id").unique(), first)
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
        # a day is taken once, so what it counts so far is history only
        for name, days in (("n", range(7)), ("nd", range(1))):
            parts = [f for d in days for f in counted.get(day - timedelta(days=d), [])]
            used = pl.concat(parts) if parts else past.clear().drop("day")
            if len(parts) > 1:
                used = used.group_by("customer_id").agg(pl.col("n").sum())
            today = today.join(used.rename({"n": name}), on="customer_id", how="left")
        # rank within the customer in the caps' order: sorted, then counted from each start
        today = today.sort(["customer_id", *_CAP_ORDER[0]], descending=[False, *_CAP_ORDER[1]])
        start = (pl.col("customer_id") != pl.col("customer_id").shift()).fill_null(True)
        at = pl.int_range(pl.len(), dtype=pl.Int64)
        rank = at - pl.when(start).then(at).forward_fill()
        today = today.with_columns(
            week_full=rank + pl.col("n").fill_null(0) >= per_week,
            day_full=rank + pl.col("nd").fill_null(0) >= per_day,
        ).with_columns(ok=~(pl.col("week_full") | pl.col("day_full")))
        kept = today.filter("ok")
        placed.append(kept.select("_row", "scheduled_for", "by_week", "by_day"))
        counted.setdefault(day, []).append(
            kept.group_by("customer_id").agg(n=pl.len().cast(pl.Int64))
        )
        pushed = today.filter(~pl.col("ok"))
        if pushed.is_empty():
            continue
        pushed = pushed.with_columns(
            scheduled_for=(pl.col("day") + pl.duration(days=1)).cast(pl.Datetime("us")),
            by_week=pl.col("by_week") | pl.col("week_full"),
            by_day=pl.col("by_day") | pl.col("day_full"),
        )
        slots = search_slots(pushed, windows, holidays, horizon)
        pushed = pushed.join(slots.select("_row", "slot"), on="_row", how="left").with_columns(
            scheduled_for=pl.col("slot"), day=pl.col("slot").dt.date()
        )
        late = pl.col("slot").is_null() | (pl.col("day") > pl.col("last_day"))
        dropped.append(pushed.filter(late).select("_row", "week_full"))
        again = pushed.filter(~late).select(todo.columns)
        for (next_day,), part in again.partition_by("day", as_dict=True).items():
            queue.setdefault(next_day, []).append(part)
    moved = pl.concat(placed).filter(pl.col("by_week") | pl.col("by_day"))
    updates = pl.concat(
        [
            moved.select(
                "_row",
                new_for="scheduled_for",
                new_status=pl.lit(None, dtype=pl.String),
                code=pl.concat_str(
                    pl.when("by_day").then(pl.lit("moved:daily_cap")),
                    pl.when("by_week").then(pl.lit("moved:frequency_cap")),
                    separator="; ",
                    ignore_nulls=True,
                ),
            ),
            *(
                d.select(
                    "_row",
                    new_for=pl.lit(None, dtype=pl.Datetime("us")),
                    new_status=pl.lit("skipped"),
                    code=pl.when("week_full")
                    .then(pl.lit("skipped:frequency_cap"))
                    .otherwise(pl.lit("skipped:daily_cap")),
                )
                for d in dropped
            ),
        ]
    )
    return _apply(frame, updates)


def _bureau_days(
    frame: pl.DataFrame, config: GuardrailsConfig, holidays: pl.DataFrame
) -> pl.DataFrame:
    """De-listings and bureau requests (not listings, placed by _listing) on a business day."""
    bureau = _NOT_A_CONTACT & ~pl.col("purpose").is_in([LISTING, SUSPENSION]).fill_null(False)
    todo = frame.filter(_PENDING & bureau)
    days = search_days(todo, holidays, config.horizon_days, rule="business")
    return _apply(frame, _from_slots(days, "skipped:no_slot"))


def _notices(
    frame: pl.DataFrame, history: pl.DataFrame, config: GuardrailsConfig, who: pl.DataFrame
) -> pl.DataFrame:
    """Counted written notices of customers `who`, earliest first, history before batch.

    Columns customer_id, invoice_id, notice_day, notice_id (history: contact_id, else
    action_id; batch: action_id).
    """
    written = pl.col("channel").is_in(config.written_notice_channels).fill_null(False)
    notice = (pl.col("purpose") == NOTICE).fill_null(False)
    batch_id = [pl.col("action_id").cast(pl.String)] if "action_id" in frame.columns else []
    parts = [
        frame.filter(_PENDING & notice & written).select(
            "customer_id",
            "invoice_id",
            notice_day=pl.col("scheduled_for").dt.date(),
            notice_id=pl.coalesce(*batch_id, pl.lit(None, pl.String)),
            src=pl.lit(1, pl.Int8),
        )
    ]
    if "purpose" in history.columns:
        sent = pl.lit(True)
        if "outcome" in history.columns:
            sent = ~pl.col("outcome").is_in(NOT_COUNTED_OUTCOMES).fill_null(False)
        ids = [
            pl.col(c).cast(pl.String) for c in ("contact_id", "action_id") if c in history.columns
        ]
        parts.append(
            history.filter(notice & written & sent)
            .join(who, on="customer_id", how="semi")
            .select(
                pl.col("customer_id").cast(pl.String),
                pl.col("invoice_id").cast(pl.String),
                notice_day=pl.col("at").dt.date(),
                notice_id=pl.coalesce(*ids, pl.lit(None, pl.String)),
                src=pl.lit(0, pl.Int8),
            )
        )
    return (
        pl.concat(parts)
        .filter(pl.col("notice_day").is_not_null())
        .sort("notice_day", "src", "notice_id", nulls_last=True)
    )


def _cover(listings: pl.DataFrame, notices: pl.DataFrame) -> pl.DataFrame:
    """The earliest notice covering each listing (_row, notice_day, notice_id).

    With a due date: the customer's first notice dated after it (an as-of join); without
    one: the first notice for the same invoice.
    """
    found = pl.Schema({"_row": pl.UInt32(), "notice_day": pl.Date(), "notice_id": pl.String()})
    by_customer = notices.unique(["customer_id", "notice_day"], keep="first", maintain_order=True)
    dated = (
        listings.filter(pl.col("due").is_not_null())
        .sort("due")
        .join_asof(
            by_customer.select("customer_id", "notice_id", "notice_day", _on=pl.col("notice_day")),
            left_on="due",
            right_on="_on",
            by="customer_id",
            strategy="forward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .select(found.names())
    )
    by_invoice = notices.filter(pl.col("invoice_id").is_not_null()).unique(
        "invoice_id", keep="first", maintain_order=True
    )
    undated = (
        listings.filter(pl.col("due").is_null())
        .join(
            by_invoice.select("invoice_id", "notice_day", "notice_id"), on="invoice_id", how="left"
        )
        .select(found.names())
    )
    return pl.concat([dated.cast(dict(found)), undated.cast(dict(found))])


def _listing(
    frame: pl.DataFrame,
    history: pl.DataFrame,
    config: GuardrailsConfig,
    holidays: pl.DataFrame,
) -> pl.DataFrame:
    is_listing = (pl.col("purpose") == LISTING).fill_null(False)
    due = pl.col("due_at").cast(pl.Date) if "due_at" in frame.columns else pl.lit(None, pl.Date)
    listings = frame.filter(is_listing).select(
        "_row", "uf", "customer_id", "invoice_id", "scheduled_for", "status", due=due
    )
    if listings.is_empty():
        return frame
    lead = {uf: config.lead_days(uf) for uf in UFS}
    notices = _notices(frame, history, config, listings.select("customer_id").unique())
    listings = listings.join(_cover(listings, notices), on="_row", how="left").with_columns(
        earliest=pl.col("notice_day")
        + pl.duration(days=pl.col("uf").replace_strict(lead, default=None, return_dtype=pl.Int64))
    )
    evidence = listings.select(
        "_row",
        ev_notice_id="notice_id",
        ev_notice_date="notice_day",
        ev_listing_earliest="earliest",
    )
    pending = listings.filter(_PENDING)
    no_notice = pending.filter(pl.col("notice_day").is_null()).select(
        "_row",
        new_for=pl.lit(None, pl.Datetime("us")),
        new_status=pl.lit("skipped"),
        code=pl.lit("skipped:no_written_notice"),
    )
    early = pl.col("scheduled_for").dt.date() < pl.col("earliest")
    todo = pending.filter(pl.col("notice_day").is_not_null()).with_columns(
        scheduled_for=pl.when(early)
        .then(pl.col("earliest").dt.combine(pl.col("scheduled_for").dt.time()))
        .otherwise("scheduled_for"),
        lead_code=pl.when(early).then(pl.lit("moved:notice_lead")),
    )
    days = search_days(todo, holidays, config.horizon_days, rule="business")
    todo = todo.join(days, on="_row", how="left")
    oldest = pl.col("slot").dt.date().dt.offset_by(f"-{config.max_debt_age_years}y")
    too_old = (pl.col("due") < oldest).fill_null(False)
    placed = todo.select(
        "_row",
        new_for=pl.coalesce("slot", "scheduled_for"),
        new_status=pl.when(pl.col("slot").is_null() | too_old).then(pl.lit("skipped")),
        code=pl.concat_str(
            "lead_code",
            pl.when(pl.col("slot").is_null()).then(pl.lit("skipped:no_slot")).otherwise("code"),
            pl.when(too_old).then(pl.lit("skipped:debt_too_old")),
            separator="; ",
            ignore_nulls=True,
        ),
    ).with_columns(code=pl.when(pl.col("code") != "").then("code"))
    updates = pl.concat([no_notice.cast(_UPDATE_SCHEMA), placed.cast(_UPDATE_SCHEMA)])
    updates = evidence.join(updates, on="_row", how="left")
    return _apply(frame, updates)


def _suspension(
    frame: pl.DataFrame, config: GuardrailsConfig, holidays: pl.DataFrame
) -> pl.DataFrame:
    todo = frame.filter(_PENDING & (pl.col("purpose") == SUSPENSION))
    days = search_days(todo, holidays, config.horizon_days, rule="suspension")
    return _apply(frame, _from_slots(days, "skipped:no_slot"))


_KEY_DAYS = 1 << 32
"""Days per customer in the evidence's integer (customer, day) key."""


def _count_upto(counts: pl.DataFrame, keys: pl.Series) -> pl.Series:
    """Sum of `counts.n` over keys <= each of `keys` (`counts` sorted by key): a search."""
    cumulative = pl.concat([pl.Series([0], dtype=pl.Int64), counts["n"].cum_sum()])
    return cumulative.gather(counts["key"].search_sorted(keys, side="right"))


def _window_text(minutes: pl.Expr) -> pl.Expr:
    return pl.format(
        "{}:{}",
        (minutes // 60).cast(pl.String).str.zfill(2),
        (minutes % 60).cast(pl.String).str.zfill(2),
    )


def _evidence(
    frame: pl.DataFrame,
    history: pl.DataFrame,
    config: GuardrailsConfig,
    holidays: pl.DataFrame,
) -> pl.DataFrame:
    """Add the evidence columns (module docstring) to every row: a few joins, no row loop."""
    frame = frame.with_columns(
        pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in EVIDENCE.items()
        if name not in frame.columns
    )
    frame = frame.sort("_row")
    first: date | None = frame["scheduled_for"].dt.date().min()  # type: ignore[assignment]
    if first is None:
        return frame
    first_for = "_first_for" if "_first_for" in frame.columns else "scheduled_for"
    base = first - timedelta(days=14)  # day numbers >= 8 for history, >= 14 for rows
    rows = frame.select(
        "_row",
        "customer_id",
        "uf",
        "channel",
        "scheduled_for",
        day=pl.col("scheduled_for").dt.date(),
        counted=(_PENDING & _capped(config)).fill_null(False).cast(pl.Int64),
        exempt=(pl.col("purpose") == NOTICE).fill_null(False),
        first_for=pl.col(first_for),
    )
    # Sorted by customer, day and the caps' order; the customer's number and (customer, day)
    # as one integer key, so every count below is a cumulative sum or a binary search.
    rows = rows.sort(
        ["customer_id", "day", *_CAP_ORDER[0]], descending=[False, False, *_CAP_ORDER[1]]
    )
    new_customer = (pl.col("customer_id") != pl.col("customer_id").shift()).fill_null(True)
    new_day = new_customer | (pl.col("day") != pl.col("day").shift()).fill_null(True)
    upto = pl.col("counted").cum_sum() - pl.col("counted")
    rows = rows.with_columns(
        _new=new_customer,
        ahead=upto - pl.when(new_day).then(upto).forward_fill(),
        key=new_customer.cum_sum().cast(pl.Int64) * _KEY_DAYS
        + (pl.col("day") - base).dt.total_days(),
    )
    ids = rows.filter("_new").select("customer_id", cid=pl.col("key") // _KEY_DAYS)
    past = _past_counts(history, config, ids.select("customer_id"), first).join(
        ids, on="customer_id"
    )
    past = past.select(
        key=pl.col("cid") * _KEY_DAYS + (pl.col("day") - base).dt.total_days(), n="n"
    ).sort("key")
    batch = rows.filter(pl.col("counted") == 1).group_by("key").agg(n=pl.len().cast(pl.Int64))
    totals = pl.concat([past, batch]).group_by("key").agg(pl.col("n").sum()).sort("key")
    key = rows["key"].fill_null(0)
    same_day = _count_upto(past, key) - _count_upto(past, key - 1)
    prior = _count_upto(totals, key - 1) - _count_upto(totals, key - 7)
    windows = window_table(config).select(
        "uf",
        "channel",
        "wd",
        window=pl.concat_str(
            _window_text(pl.col("start") // 60_000_000),
            pl.lit("-"),
            _window_text(pl.col("end") // 60_000_000),
        ),
    )
    rows = (
        rows.with_columns(
            h=pl.when(pl.col("key").is_not_null()).then(same_day),
            prior=prior,
            wd=pl.col("day").dt.weekday(),
        )
        .join(windows, on=["uf", "channel", "wd"], how="left")
        .pipe(flag_holidays, holidays)
        .sort("_row")
    )
    lead = {uf: config.lead_days(uf) for uf in UFS}
    written = pl.col("channel").is_in(config.written_notice_channels).fill_null(False)
    notice_listing = pl.col("scheduled_for").dt.date() + pl.duration(
        days=pl.col("uf").replace_strict(lead, default=None, return_dtype=pl.Int64)
    )
    day = pl.col("scheduled_for").dt.date()
    out = frame.with_columns(
        ev_window=pl.when(~rows["is_holiday"]).then(rows["window"]),
        ev_contacts_day=(rows["h"] + rows["ahead"]).cast(pl.Int32),
        ev_contacts_7d=(rows["prior"] + rows["h"] + rows["ahead"]).cast(pl.Int32),
        ev_listing_earliest=pl.coalesce(
            "ev_listing_earliest",
            pl.when(_PENDING & (pl.col("purpose") == NOTICE) & written).then(notice_listing),
        ),
    )
    if "due_at" in frame.columns:
        age = (day - pl.col("due_at").cast(pl.Date)).dt.total_days()
        out = out.with_columns(ev_debt_age_days=age.cast(pl.Int32))
    return out


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
    """Keep at most N contacts per customer in any 7 days and M on one day (history counted).

    Within a day, listing notices go first (the caps hold for them too), then earlier times,
    then earlier proposals, then input order; a pushed contact goes to the next allowed slot
    from the following day, or is skipped once that is beyond `horizon_days` after its
    proposed day.
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

    A notice is a `negative_listing_notice` on a written channel, scheduled in this batch or
    in history (history needs a `purpose` column to be read; undelivered or wrong-number ones
    do not count). It covers the customer's listings of invoices whose `due_at` is before the
    notice day (without `due_at`: the same invoice). The listing then lands on a business day
    and is skipped if its debt is older than `max_debt_age_years` on that day.
    """
    frame = _prepare(actions)
    holidays = _holidays_for(frame, config) if holidays is None else holidays
    frame = _listing(frame, _history(history, None), config, holidays)
    return _finish(frame, actions.columns)


def enforce_bureau_days(
    actions: pl.DataFrame, config: GuardrailsConfig, holidays: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Move de-listings and other bureau requests (not listings) to a business day."""
    frame = _prepare(actions)
    holidays = _holidays_for(frame, config) if holidays is None else holidays
    return _finish(_bureau_days(frame, config, holidays), actions.columns)


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

    Order: preferences, repeated steps, windows, caps, bureau days, listing notice and debt
    age, suspension days. Output: the input columns plus uf (if it came from customers),
    proposed_for, scheduled_for (final, naive local), scheduled_tz, status, reason, the
    evidence columns of EVIDENCE (see the module docstring) and reason_pt.
    """
    past = _history(history, as_of)
    frame = _prepare(actions, customers)
    holidays = _holidays_for(frame, config)
    frame = _preferences(frame, customers, config)
    frame = _repeats(frame, past)
    frame = _windows(frame, config, holidays)
    frame = _cap(frame, past, config, holidays)
    frame = _bureau_days(frame, config, holidays)
    frame = _listing(frame, past, config, holidays)
    frame = _suspension(frame, config, holidays)
    frame = _evidence(frame, past, config, holidays)
    out = _finish(frame, actions.columns, evidence=True)
    return out.with_columns(
        reason_pt=pl.col("reason").str.replace_many(
            list(REASONS_PT), list(REASONS_PT.values()), leftmost=True
        )
    )
