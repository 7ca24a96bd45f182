"""The honest oracle: each training label's probability given the simulator's state at as_of.

A model fed the ledger up to a month-end as_of can at best learn P(label | what had
happened by as_of). The oracle is that probability for someone who also sees every
hidden variable the simulator had realised by as_of (regua.simulate.truth's
`pd_60_180d_pit` knows less, `pd_60_180d` more), for both labels as config/labels.yaml
defines them (delinquency: an invoice 60+ days past due in (as_of, as_of + 180 days];
propensity: at least 90% of what is overdue at as_of paid in (as_of, as_of + 30 days]).

What the oracle knows at the end of month T (day L):

- every hidden trait (risk index, punctuality, reach and responsiveness per channel),
  the macro path (its shock is deterministic by design; the AR noise of its later
  months, sd 0.08 points of unemployment or about 0.02 log-odds a month, is read rather
  than drawn: a small advantage over any model, so still a ceiling);
- the chain's state after step T - 1 (every event of that step falls on or before L);
- what step T had done by L: whether month T's bill was paid in full by L (or, for a
  customer one cycle behind, whether the cure or roll payment had come), and whether a
  ladder contact before L had prompted the customer. Step T's outcome itself is not
  known when it has not shown by L: a bill 10 days late at L is paid late or missed,
  and the oracle weighs the two by Bayes' rule with the simulator's own timing laws
  (the late-payment day, the uniform window of a cure or roll, the prompt a contact
  gives). Steps after T, and every day drawn after L, are integrated over exactly.

Months are exact on the chain (pd_60_180d's propagation); payment days come from the
simulator's laws in closed form. Not conditioned on (a model could use them, so they
are the caveats of this ceiling): partial payments before L, and the amount already
paid of a missed bill when computing the 90% share after a roll.
"""

from __future__ import annotations

import numpy as np

from regua.simulate.behaviour import CURE, ROLL, Behaviour
from regua.simulate.calendar import Calendar
from regua.simulate.customers import CustomerBlock
from regua.simulate.invoices import Cycles, Invoices
from regua.simulate.ladder import LAG_SHARES, OFFSETS, STEP_CHANNELS
from regua.simulate.risk import (
    AGREEMENT_1,
    CHARGED_OFF,
    CURRENT,
    DEFAULT,
    EVENT_DAYS,
    LATE_30,
    RECOVERING,
    RECOVERY_RATE,
    ChargeOffClock,
    Lifts,
    Transitions,
    in_late_default,
    is_blocked,
    oldest_unpaid,
    sigmoid,
    transition_probabilities,
)
from regua.simulate.truth import HORIZON_STEPS, chance_of_60

LATE_GEOMETRIC = 0.12
"""Daily chance a late (but not missing) payer pays: regua.simulate.behaviour."""
MAX_LATE = 29
PAY_HORIZON = 30
"""config/labels.yaml propensity_to_pay.horizon_days (the simulator's label oracle)."""
PAY_SHARE = 0.9
"""config/labels.yaml propensity_to_pay.min_share_paid."""


def _late_beyond(m: np.ndarray) -> np.ndarray:
    """P(a late payer's delay in days > m): geometric(0.12), past 29 redrawn uniform 1..29."""
    q = 1.0 - LATE_GEOMETRIC
    m = np.clip(m, 0, MAX_LATE)
    return (q**m - q**MAX_LATE) + q**MAX_LATE * (MAX_LATE - m) / MAX_LATE


def _uniform_beyond(day: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """P(a uniform day on [low, high] falls after `day`)."""
    return np.clip((high - day) / (high - low + 1), 0.0, 1.0)


def _no_prompt(
    customers: CustomerBlock,
    calendar: Calendar,
    who: np.ndarray,
    due: np.ndarray,
    low: np.ndarray,
    until: np.ndarray,
) -> np.ndarray:
    """P(no ladder step of a bill due on `due` attempted from `low` prompts a payment by
    `until`), over the contact draws (all after as_of where this is used)."""
    days = calendar.next_business_day(due[:, None] + OFFSETS[None, :])
    chance = (customers.allowed * customers.reach * customers.responsiveness)[who][:, STEP_CHANNELS]
    by_lag = sum(share * (days + lag <= until[:, None]) for lag, share in enumerate(LAG_SHARES))
    prompts = chance * (days >= low[:, None]) * by_lag
    return np.prod(1.0 - prompts, axis=1)


def _paid_by(
    customers: CustomerBlock,
    calendar: Calendar,
    who: np.ndarray,
    due: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    until: np.ndarray,
) -> np.ndarray:
    """P(a payment drawn uniform on [low, high], or earlier when a contact prompts it,
    falls on or before `until`)."""
    low = np.minimum(low, high)
    cap = np.minimum(until, high)
    return 1.0 - _uniform_beyond(until, low, high) * _no_prompt(
        customers, calendar, who, due, low, cap
    )


def _due(calendar: Calendar, customers: CustomerBlock, month: int, who: np.ndarray) -> np.ndarray:
    """Due day of `who`'s bill of `month`."""
    return int(calendar.start(month)) + customers.due_day[who] - 1


def _pay_after_miss(
    customers: CustomerBlock,
    calendar: Calendar,
    t: Transitions,
    who: np.ndarray,
    month: int,
    low: np.ndarray,
    until: np.ndarray,
) -> np.ndarray:
    """P(`who`'s bill of `month`, missed, is cured or rolled at the next step by `until`)."""
    due = _due(calendar, customers, month, who)
    high_cure = np.minimum(due + 59, _due(calendar, customers, month + 1, who) + 29)
    cure = _paid_by(customers, calendar, who, due, low, high_cure, until)
    roll = _paid_by(customers, calendar, who, due, low, due + 59, until)
    return t.cure_late_30[who, month + 1] * cure + t.roll_late_30[who, month + 1] * roll


def label_oracle(
    customers: CustomerBlock,
    states: np.ndarray,
    prev: np.ndarray,
    x: np.ndarray,
    lifts: Lifts,
    cycles: Cycles,
    invoices: Invoices,
    behaviour: Behaviour,
    calendar: Calendar,
    clock: ChargeOffClock,
) -> dict[str, np.ndarray]:
    """`oracle_pd_60_180d` and `oracle_pay_30d` per customer and month-end: (customers, months)."""
    n, months = states.shape
    t = transition_probabilities(x, lifts)
    billed_from = customers.open_month[:, None] + 1
    steps = range(1, HORIZON_STEPS + 1)

    def pd_from(state: int) -> np.ndarray:
        return chance_of_60(np.full((n, months), state, np.int8), t, steps, billed_from, months)

    pd_known = chance_of_60(states, t, steps, billed_from, months)
    pd_c, pd_r, pd_x1 = pd_from(CURRENT), pd_from(RECOVERING), pd_from(LATE_30)
    oracle_pd = pd_known.copy()
    oracle_pay = np.zeros((n, months))
    amount = np.bincount(invoices.cycle, weights=invoices.amount, minlength=len(cycles.customer))
    oldest = oldest_unpaid(states, billed_from[:, 0])
    cycle_day = behaviour.cycle_day
    fates, ladders, events = behaviour.fates, behaviour.ladders, behaviour.events
    everyone = np.arange(n)
    for month in range(months):
        end = int(calendar.month_end(month))
        until = np.full(n, end + PAY_HORIZON)
        nxt = month + 1
        src, dst = prev[:, month], states[:, month]
        billed = customers.open_month < month
        cycle = cycles.index[:, month]
        due_now = _due(calendar, customers, month, everyone)

        miss_pay = _pay_after_miss(customers, calendar, t, everyone, month, due_now + 30, until)

        # the state after step T known (every event of the step by L): next step's chance
        late = in_late_default(oldest[:, nxt], nxt)
        window = np.where(
            oldest[:, nxt] >= 0, clock.window(oldest[:, nxt], min(nxt, months - 1)), EVENT_DAYS
        )
        cure_d = np.where(late, t.cure_default_late[:, nxt], t.cure_default[:, nxt])
        known_pay = np.select(
            [
                dst == DEFAULT,
                dst == CHARGED_OFF,
                dst == AGREEMENT_1,
                (dst > AGREEMENT_1) & is_blocked(dst),
                dst == LATE_30,
            ],
            [
                cure_d * window / EVENT_DAYS,
                t.recover_charged_off[:, nxt],
                1.0 - t.break_agreement[:, nxt],
                0.0,
                miss_pay,
            ],
            default=1.0,  # nothing overdue: the label's share is met trivially
        )
        oracle_pay[:, month] = known_pay

        # A: current or recovering, month T's bill not paid in full by L
        has = billed & (cycle >= 0)
        a = np.flatnonzero(has & ((src == CURRENT) | (src == RECOVERING)))
        if len(a):
            c = cycle[a]
            unpaid = cycle_day[c] > end
            episode = fates.episode[c]
            prompted = np.zeros(len(a), dtype=bool)
            runs = episode >= 0
            prompted[runs] = (
                ladders.first_prompt(
                    episode[runs], cycles.due[c[runs]] + 1, np.full(int(runs.sum()), end)
                )
                <= end
            )
            on_time = sigmoid(1.7 + 0.7 * customers.punctuality[a] - 0.6 * x[a, month])
            normal_unpaid = (1 - on_time) * _late_beyond(end - cycles.due[c]) * ~prompted
            miss = np.where(
                src[a] == CURRENT, t.miss_current[a, month], t.miss_recovering[a, month]
            )
            w_miss = np.where(unpaid, miss / (miss + (1 - miss) * normal_unpaid), 0.0)
            w_c = np.where(src[a] == CURRENT, 1 - w_miss, (1 - w_miss) * RECOVERY_RATE)
            w_r = 1 - w_miss - w_c
            oracle_pd[a, month] = (
                w_c * pd_c[a, month] + w_r * pd_r[a, month] + w_miss * pd_x1[a, month]
            )
            oracle_pay[a, month] = (1 - w_miss) + w_miss * miss_pay[a]

        # B: one cycle behind (X1) with no cure or roll by L
        b = np.flatnonzero(has & (src == LATE_30) & (month >= 1))
        b = b[cycles.index[b, month - 1] >= 0]
        done = np.isin(events.kind[b, month], (CURE, ROLL)) & (events.day[b, month] <= end)
        rolled = b[done & (events.kind[b, month] == ROLL)]
        if len(rolled):
            low = np.maximum(due_now[rolled] + 30, events.day[rolled, month] + 1)
            oracle_pay[rolled, month] = _pay_after_miss(
                customers, calendar, t, rolled, month, low, until[rolled]
            )
        b = b[~done]
        if len(b):
            ref = cycles.index[b, month - 1]
            due_prev = cycles.due[ref]
            low = np.maximum(due_prev + 30, fates.start[ref])
            high_cure = np.minimum(due_prev + 59, due_now[b] + 29)
            high_roll = due_prev + 59
            episode = fates.episode[ref]
            prompted = np.zeros(len(b), dtype=bool)
            runs = episode >= 0
            prompted[runs] = (
                ladders.first_prompt(episode[runs], low[runs], np.full(int(runs.sum()), end)) <= end
            )
            cure = (
                t.cure_late_30[b, month]
                * _uniform_beyond(np.full(len(b), end), np.minimum(low, high_cure), high_cure)
                * ~prompted
            )
            roll = (
                t.roll_late_30[b, month]
                * _uniform_beyond(np.full(len(b), end), np.minimum(low, high_roll), high_roll)
                * ~prompted
            )
            worse = np.clip(1 - t.cure_late_30[b, month] - t.roll_late_30[b, month], 0, None)
            total = cure + roll + worse
            w_cure, w_roll, w_x2 = cure / total, roll / total, worse / total
            oracle_pd[b, month] = w_cure * pd_r[b, month] + w_roll * pd_x1[b, month] + w_x2
            # after a roll the old bill is paid: enough alone when it is 90% of what is owed
            older = amount[ref] / (amount[ref] + amount[cycle[b]])
            roll_pays = np.where(older >= PAY_SHARE, 1.0, miss_pay[b])
            x2_low = due_prev + 61
            x2_high = np.minimum.reduce(
                [due_prev + 89, due_now[b] + 59, np.full(len(b), int(calendar.last(nxt)))]
            )
            x2_pays = t.cure_late_60[b, nxt] * _paid_by(
                customers, calendar, b, due_prev, x2_low, x2_high, until[b]
            )
            oracle_pay[b, month] = w_cure + w_roll * roll_pays + w_x2 * x2_pays
    return {
        "oracle_pd_60_180d": np.clip(oracle_pd, 0.0, 1.0),
        "oracle_pay_30d": np.clip(oracle_pay, 0.0, 1.0),
    }
