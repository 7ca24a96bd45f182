"""Payments: when and how each bill is paid, from the customer's path through the Markov chain.

A cycle (a month's bills) is paid according to the step that decides it:

- current -> current: on time (usually a few days before due; on the due date by debit)
  or late by 1-29 days, sometimes partly first and the rest later;
- a missed cycle (-> dpd30) stays open, maybe partly paid, until a later step cures
  it (everything overdue paid at once, 30-59 or 60-89 days late), rolls it (the old
  bill paid 30-59 days late while the new one is missed), settles it through an
  agreement (instalments with method "agreement", pro rata over the open invoices),
  or never;
- once charged off (regua.simulate.risk: the oldest bill passed the charge-off age)
  the account takes no new bills and its bills stay open, unless an agency recovers
  them: everything in one payment (method "boleto"), or an agreement as above.

Late payments within a ladder window fall on the earlier of a baseline day and the
day a reached contact prompts, so the payment hazard rises just after contacts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import polars as pl

from regua.contract import PAYMENT_METHODS, PAYMENTS
from regua.simulate.calendar import Calendar
from regua.simulate.config import sequential_ids
from regua.simulate.customers import CustomerBlock
from regua.simulate.invoices import Cycles, Invoices
from regua.simulate.ladder import BIG_DAY, Ladders, draw_ladders
from regua.simulate.risk import (
    AGREEMENT_1,
    CHARGED_OFF,
    CURRENT,
    DEFAULT,
    EVENT_DAYS,
    LATE_30,
    LATE_60,
    RECOVERING,
    SETTLED,
    ChargeOffClock,
    in_agreement,
    oldest_unpaid,
    sigmoid,
)

NO_EVENT, CURE, ROLL, AGREE, INSTALMENT, FINAL, BREAK, RECOVER = range(8)
PIX, BOLETO, CARD, DEBIT, AGREEMENT = (
    PAYMENT_METHODS.index(m) for m in ("pix", "boleto", "card", "debit", "agreement")
)
_FALLBACK_METHODS = np.array([0.55, 0.35, 0.10])  # pix, boleto, card


@dataclass(frozen=True)
class Events:
    """What each customer does at each step about bills already overdue: (customers, months)."""

    kind: np.ndarray
    day: np.ndarray
    length: np.ndarray  # agreement instalments, at AGREE


@dataclass(frozen=True)
class Fates:
    """How each cycle is decided: (cycles,) arrays."""

    normal: np.ndarray  # paid within 29 days of due
    on_time: np.ndarray
    cured_with_older: np.ndarray  # paid when an older missed cycle is cured
    missed: np.ndarray
    episode: np.ndarray  # index into the ladders, or -1 when the cycle runs no ladder
    start: np.ndarray  # first day the cycle's ladder may contact (it is the oldest open)


@dataclass(frozen=True)
class Payments:
    """Payment rows of a block: (payments,) arrays."""

    invoice: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    method: np.ndarray


@dataclass(frozen=True)
class Behaviour:
    """Everything the payment stage decides about a block."""

    fates: Fates
    ladders: Ladders
    events: Events
    payments: Payments
    close: np.ndarray  # (invoices,) day the invoice stopped being chased, or BIG_DAY
    disputed: np.ndarray  # (invoices,)
    cycle_day: np.ndarray | None = None  # (cycles,) day paid in full in its own step, or BIG_DAY


def classify_cycles(
    cycles: Cycles,
    states: np.ndarray,
    prev: np.ndarray,
    x: np.ndarray,
    customers: CustomerBlock,
    rng: np.random.Generator,
) -> Fates:
    """Fate of every cycle from the step that decides it; which cycles run a ladder."""
    c, m = cycles.customer, cycles.month
    src, dst = prev[c, m], states[c, m]
    from_current = (src == CURRENT) | (src == RECOVERING)
    normal = from_current & ((dst == CURRENT) | (dst == RECOVERING))
    cured_with_older = (src == LATE_30) & (dst == RECOVERING)
    missed = ~normal & ~cured_with_older
    on_time = normal & (
        rng.random(len(c)) < sigmoid(1.7 + 0.7 * customers.punctuality[c] - 0.6 * x[c, m])
    )
    rolled_into = (src == LATE_30) & (dst == LATE_30)
    runs_ladder = (normal & ~on_time) | (missed & from_current) | rolled_into
    episode = np.full(len(c), -1, dtype=np.int64)
    episode[runs_ladder] = np.arange(int(runs_ladder.sum()))
    return Fates(
        normal=normal,
        on_time=on_time,
        cured_with_older=cured_with_older,
        missed=missed,
        episode=episode,
        start=cycles.due + 1,
    )


def _window_day(
    ladders: Ladders,
    episode: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Payment day in [low, high]: a uniform baseline or earlier if a contact prompts it."""
    baseline = low + (rng.random(len(low)) * (high - low + 1)).astype(np.int64)
    return np.minimum(baseline, ladders.first_prompt(episode, low, high))


def step_events(
    states: np.ndarray,
    prev: np.ndarray,
    cycles: Cycles,
    fates: Fates,
    ladders: Ladders,
    customers: CustomerBlock,
    calendar: Calendar,
    rng: np.random.Generator,
    clock: ChargeOffClock | None = None,
) -> tuple[Events, np.ndarray]:
    """Cure, roll, agreement and recovery days of every step; also the ladder start of
    rolled-into cycles. With a `clock`, a customer in default pays before their write-off."""
    n, months = states.shape
    oldest = oldest_unpaid(states, customers.open_month + 1) if clock is not None else None
    kind = np.zeros((n, months), dtype=np.int8)
    day = np.zeros((n, months), dtype=np.int64)
    length = np.zeros((n, months), dtype=np.int8)
    start = fates.start.copy()
    agreement_day = np.ones(n, dtype=np.int64)
    for u in range(months):
        src, dst = prev[:, u], states[:, u]
        month_start = int(calendar.start(u))
        due_now = month_start + customers.due_day - 1
        cure = (dst == RECOVERING) & ((src == LATE_30) | (src == LATE_60) | (src == DEFAULT))
        kind[:, u] = np.select(
            [
                cure,
                (src == LATE_30) & (dst == LATE_30),
                ~in_agreement(src) & in_agreement(dst),
                in_agreement(src) & in_agreement(dst),
                in_agreement(src) & ((dst == RECOVERING) | (dst == SETTLED)),
                in_agreement(src) & ((dst == DEFAULT) | (dst == CHARGED_OFF)),
                (src == CHARGED_OFF) & (dst == SETTLED),
            ],
            [CURE, ROLL, AGREE, INSTALMENT, FINAL, BREAK, RECOVER],
            default=NO_EVENT,
        )
        length[:, u] = np.where(kind[:, u] == AGREE, dst - AGREEMENT_1 + 2, 0)
        acts = np.isin(kind[:, u], (CURE, ROLL, AGREE, RECOVER))

        who = np.flatnonzero(acts & (src == LATE_30))
        if len(who):
            ref = cycles.index[who, u - 1]
            due = cycles.due[ref]
            low = np.maximum(due + 30, start[ref])
            high = np.where(kind[who, u] == CURE, np.minimum(due + 59, due_now[who] + 29), due + 59)
            low = np.minimum(low, high)
            day[who, u] = _window_day(ladders, fates.episode[ref], low, high, rng)
            rolled = who[kind[who, u] == ROLL]
            into = cycles.index[rolled, u]
            into_ok = into >= 0
            start[into[into_ok]] = day[rolled[into_ok], u] + 1

        who = np.flatnonzero(acts & (src == LATE_60))
        if len(who):
            ref = cycles.index[who, u - 2]
            due = cycles.due[ref]
            previous_due = int(calendar.start(u - 1)) + customers.due_day[who] - 1
            low = due + 61  # unpaid through day due + 60: the bill did reach 60 days
            high = np.minimum.reduce(
                [due + 89, previous_due + 59, np.full(len(who), int(calendar.last(u)))]
            )
            day[who, u] = _window_day(ladders, fates.episode[ref], low, high, rng)

        # From default or charge-off, and for agreement instalments, never on the 1st: the
        # bills stay unpaid through the first day after a month-end in which they were 60+
        # late. From default, before the write-off day (the chain allowed only as many
        # chances as there are days left before it).
        who = np.flatnonzero(acts & ((src == DEFAULT) | (src == CHARGED_OFF)))
        days = np.full(len(who), EVENT_DAYS)
        if clock is not None:
            in_default = src[who] == DEFAULT
            left = clock.window(oldest[who, u], u)
            days = np.where(in_default, np.maximum(left, 1), days)
        day[who, u] = month_start + 1 + (rng.random(len(who)) * days).astype(np.int64)

        starts = np.flatnonzero(kind[:, u] == AGREE)
        agreement_day[starts] = np.clip(day[starts, u] - month_start + 1, 2, 28)
        paying = np.flatnonzero((kind[:, u] == INSTALMENT) | (kind[:, u] == FINAL))
        day[paying, u] = month_start + agreement_day[paying] - 1
    return Events(kind=kind, day=day, length=length), start


def _methods(preferred: np.ndarray, on_time: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    fallback = rng.choice(3, size=len(preferred), p=_FALLBACK_METHODS)
    keep = (preferred != DEBIT) & (rng.random(len(preferred)) < 0.85)
    chosen = np.where(keep, preferred, fallback)
    return np.where(on_time & (preferred == DEBIT), DEBIT, chosen).astype(np.int8)


def cycle_payment_days(
    fates: Fates,
    cycles: Cycles,
    events: Events,
    customers: CustomerBlock,
    ladders: Ladders,
    rng: np.random.Generator,
) -> np.ndarray:
    """Day each cycle decided in its own step is paid in full (BIG_DAY for missed cycles)."""
    n = len(cycles.customer)
    c, m, due = cycles.customer, cycles.month, cycles.due
    early = np.minimum(rng.geometric(0.35, size=n) - 1, due - cycles.issue)
    on_time_day = np.where(customers.method[c] == DEBIT, due, due - early)
    late_days = rng.geometric(0.12, size=n)
    late_day = due + np.where(late_days > 29, rng.integers(1, 30, size=n), late_days)
    late = np.flatnonzero(fates.normal & ~fates.on_time)
    prompted = ladders.first_prompt(fates.episode[late], due[late] + 1, due[late] + 29)
    late_day[late] = np.minimum(late_day[late], prompted)
    return np.select(
        [fates.on_time, fates.normal, fates.cured_with_older],
        [on_time_day, late_day, events.day[c, m]],
        default=BIG_DAY,
    )


def partial_payments(
    fates: Fates,
    cycles: Cycles,
    invoices: Invoices,
    prev: np.ndarray,
    x: np.ndarray,
    cycle_day: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Day and amount of a first, partial payment of each invoice (amount 0 for none).

    Late payers sometimes pay part of the primary bill first and the rest later; a
    third of first-time missers pay part of it within 29 days and then stop.
    """
    n = len(cycles.customer)
    c, m, due = cycles.customer, cycles.month, cycles.due
    late = fates.normal & ~fates.on_time & (rng.random(n) < sigmoid(-2.0 + 0.4 * x[c, m]))
    missed = fates.missed & (prev[c, m] <= RECOVERING) & (rng.random(n) < 0.3)
    low = np.where(late, np.maximum(cycles.issue, due - 5), due + 1)
    high = np.maximum(np.where(late, cycle_day - 1, due + 29), low)
    day = low + (rng.random(n) * (high - low + 1)).astype(np.int64)
    share = np.where(late, rng.uniform(0.3, 0.8, n), rng.uniform(0.1, 0.6, n))
    partial = invoices.lead & (late | missed)[invoices.cycle]
    amount = np.where(partial, np.round(invoices.amount * share[invoices.cycle], 2), 0.0)
    return day[invoices.cycle], amount


def follow_missed_invoices(
    invoices: Invoices,
    missed: np.ndarray,
    already_paid: np.ndarray,
    events: Events,
    preferred: np.ndarray,
    months: int,
    rng: np.random.Generator,
) -> tuple[Payments, np.ndarray]:
    """Payments of missed invoices, step by step, and the day each stopped being chased.

    A cure pays everything open, a roll the bills of the month before, an agreement
    pays each open invoice pro rata in instalments until it completes or breaks, an
    agency's recovery after charge-off pays everything open by boleto.
    """
    rows = np.flatnonzero(missed)
    who = invoices.customer[rows]
    month = invoices.month[rows]
    remaining = np.round(invoices.amount[rows] - already_paid[rows], 2)
    agreeing = np.zeros(len(rows), dtype=bool)
    closed = np.zeros(len(rows), dtype=bool)
    instalment = np.zeros(len(rows))
    chase_until = np.full(len(rows), BIG_DAY, dtype=np.int64)
    parts = []
    for u in range(1, months):
        kind = events.kind[who, u]
        day = events.day[who, u]
        active = (month < u) & ~closed
        recover = active & ~agreeing & (kind == RECOVER)
        pay_all = active & ~agreeing & ((kind == CURE) | ((kind == ROLL) & (month == u - 1)))
        pay_all |= recover
        begin = active & ~agreeing & (kind == AGREE)
        instal = active & agreeing & (kind == INSTALMENT)
        final = active & agreeing & (kind == FINAL)
        broke = active & agreeing & (kind == BREAK)
        length = np.maximum(events.length[who, u], 1)
        instalment = np.where(begin, np.floor(remaining / length * 100) / 100, instalment)
        paid = np.round(
            np.select([pay_all | final, begin | instal], [remaining, instalment], default=0.0), 2
        )
        pays = np.flatnonzero(paid > 0)
        method = np.select(
            [(begin | instal | final)[pays], recover[pays]],
            [AGREEMENT, BOLETO],
            _methods(preferred[rows[pays]], np.zeros(len(pays), dtype=bool), rng),
        )
        parts.append(Payments(rows[pays], day[pays], paid[pays], method.astype(np.int8)))
        remaining = np.round(remaining - paid, 2)
        chase_until = np.where(pay_all | begin, np.minimum(chase_until, day), chase_until)
        closed |= pay_all | final
        agreeing = (agreeing | begin) & ~broke & ~final
    close = np.full(len(invoices.amount), BIG_DAY, dtype=np.int64)
    close[rows] = chase_until
    return concat_payments(parts), close


def concat_payments(parts: list[Payments]) -> Payments:
    """Payment rows of several parts, in order."""
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Payments(empty, empty, np.zeros(0), np.zeros(0, dtype=np.int8))
    return Payments(
        *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Payments))
    )


def simulate_behaviour(
    customers: CustomerBlock,
    states: np.ndarray,
    prev: np.ndarray,
    x: np.ndarray,
    cycles: Cycles,
    invoices: Invoices,
    calendar: Calendar,
    rng: np.random.Generator,
    ladder_rng: np.random.Generator,
    clock: ChargeOffClock | None = None,
) -> Behaviour:
    """Fates, ladders, events and payment rows of a block (payments after `end` dropped);
    `clock` is the chain's charge-off clock, when it had one."""
    fates = classify_cycles(cycles, states, prev, x, customers, rng)
    runs = np.flatnonzero(fates.episode >= 0)
    ladders = draw_ladders(
        customer=cycles.customer[runs],
        cycle=runs,
        due=cycles.due[runs],
        reach=customers.reach,
        responsiveness=customers.responsiveness,
        allowed=customers.allowed,
        calendar=calendar,
        rng=ladder_rng,
    )
    events, start = step_events(
        states, prev, cycles, fates, ladders, customers, calendar, rng, clock
    )
    fates = replace(fates, start=start)

    cycle_day = cycle_payment_days(fates, cycles, events, customers, ladders, rng)
    partial_day, partial_amount = partial_payments(fates, cycles, invoices, prev, x, cycle_day, rng)
    preferred = customers.method[invoices.customer]
    no_debit = np.zeros(len(preferred), dtype=bool)
    first = np.flatnonzero(partial_amount > 0)
    partials = Payments(
        first,
        partial_day[first],
        partial_amount[first],
        _methods(preferred[first], no_debit[first], rng),
    )
    inv_day = cycle_day[invoices.cycle]
    settled = np.flatnonzero(inv_day < BIG_DAY)
    in_full = Payments(
        settled,
        inv_day[settled],
        np.round(invoices.amount[settled] - partial_amount[settled], 2),
        _methods(preferred[settled], fates.on_time[invoices.cycle][settled], rng),
    )
    missed = fates.missed[invoices.cycle]
    followed, chased_until = follow_missed_invoices(
        invoices, missed, partial_amount, events, preferred, states.shape[1], rng
    )
    payments = concat_payments([partials, in_full, followed])
    keep = (payments.day <= calendar.end_day) & (payments.amount > 0)
    payments = Payments(*(getattr(payments, f.name)[keep] for f in fields(Payments)))
    disputed = rng.random(len(invoices.amount)) < np.where(missed & invoices.lead, 0.03, 0.003)
    return Behaviour(
        fates=fates,
        ladders=ladders,
        events=events,
        payments=payments,
        close=np.where(missed, chased_until, inv_day),
        disputed=disputed,
        cycle_day=cycle_day,
    )


def payment_ids(first: int, n: int) -> pl.Series:
    """P0000000001-style ids for payments first+1 .. first+n."""
    return sequential_ids("P", first, n, "payment_id")


def payments_frame(
    payments: Payments,
    invoices: Invoices,
    invoice_id: pl.Series,
    customer_ids: pl.Series,
    first: int,
) -> pl.DataFrame:
    """The payments export in time order, ids numbered from `first` + 1."""
    order = np.lexsort((payments.invoice, payments.day))
    invoice = payments.invoice[order]
    return pl.DataFrame(
        {
            "payment_id": payment_ids(first, len(order)),
            "invoice_id": invoice_id.gather(invoice),
            "customer_id": customer_ids.gather(invoices.customer[invoice]),
            "paid_at": pl.Series(payments.day[order]).cast(pl.Int32).cast(pl.Date),
            "amount": payments.amount[order],
            "method": pl.Series(PAYMENT_METHODS).gather(payments.method[order]),
        }
    ).select(PAYMENTS.names)
