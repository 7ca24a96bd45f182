"""Ground truth: one row per customer per simulated month-end, exactly as the model implies it.

Columns of `truth/truth.parquet` (T is the month, month_end its last day, capped at `end`):

- customer_id, month_end (Date).
- state: the customer's delinquency state after month T's step (regua.simulate.risk):
  current, recovering, dpd30 (month T's bill will not be paid within 29 days of due),
  dpd60 (a bill is past or about to pass 60 days), default, agreement_k (k agreement
  instalments left), not_billed (no bill yet: opened this month or later),
  charged_off (a bill passed the charge-off age: written off, the account closed),
  closed (charged off, then everything recovered: owes nothing, never billed again).
- opened: the relationship had begun by month_end.
- latent_risk: the risk index of month T in log-odds, the sum of
  risk_character + risk_capacity + risk_capital + risk_collateral + risk_conditions
  + risk_profile (see regua.simulate.customers); risk_conditions moves with the macro.
- pd_next_month: probability of not paying in full, within 29 days of its due date, the
  next bill (the one issued in month T+1); for customers whose account is blocked it is
  the probability of not clearing what is overdue next month (dpd60, default) or of
  missing the next agreement instalment (agreement); for charged_off the probability
  that the agency recovers nothing next month, for closed 0 (no bill). In the month a
  default reaches the charge-off age the chance of a cure is cut to the days left
  before it; this column does not cut it.
- pd_60_180d: probability that some invoice of the customer is 60 or more days past due
  on some day t in (month_end, month_end + 180 days], where an invoice is k days past
  due on day t when t - due_at = k and it is not paid in full by the end of day t. It
  is 1 for states dpd60, default, agreement_k and charged_off (an invoice already is,
  or is about to be, that late), 0 for closed (never billed again), and otherwise the
  probability that the chain enters dpd60 at one of the next five steps. It is
  computed exactly, not by Monte Carlo: the chain is propagated over {current,
  recovering, dpd30} with the transition probabilities of each future month (months
  after `end` use the simulated but unwritten macro path).
  Bills fall due on days 8-28, so the chain entering dpd60 at step u is the day the
  bill of month u-1 turns 60 days past due, and this event matches the written
  invoices and payments day for day.
- pd_60_180d_pit: the same event, known only up to the previous month-end: the chain
  starts from the state after step T-1 and steps T .. T+5 are all uncertain. The state
  after step T says whether month T's bill will be paid within 29 days of its due date,
  which at month_end is up to four weeks in the future, so pd_60_180d knows part of the
  outcome; pd_60_180d_pit does not, and is the oracle for a model fed data up to
  month_end (it knows every hidden trait, but nothing of month T's payments).
- oracle_pd_60_180d, oracle_pay_30d: the probability of each training label as
  config/labels.yaml defines it (delinquency: an invoice 60+ days past due in
  (month_end, month_end + 180 days]; propensity: 90% of what is overdue at month_end
  paid within 30 days) given everything the simulator had realised by month_end: every
  hidden trait, the chain's state after step T - 1, and what step T had shown by then
  (month T's bill paid or not, a cure or roll made or not, a contact that prompted).
  The ceiling of a model fed data up to month_end (regua.simulate.label_oracle).
- propensity_to_pay: probability of paying in full (so at least 90% of) what is
  overdue at the next step, i.e. within about 30 days: from dpd30 a cure or a roll
  (the overdue bill paid), from dpd60 or default a cure. For every other state
  (current, recovering, agreement_k, not_billed) it is evaluated as if the customer's
  bill had just gone 30 days overdue (dpd30); for charged_off it is the agency
  recovering everything in one go, for closed 0.
- character: the hidden trait behind risk_character (standard normal, higher pays
  better; the bureau score reflects it with noise). punctuality: the hidden trait that
  makes a customer pay before due rather than a few days late.
- responsiveness_<channel>: probability that a contact on the channel that reaches the
  customer prompts a payment within 0-2 days. contact_lift: expected prompted payments
  over the first 29 days of the ladder (reach x responsiveness summed over its steps,
  zero under do_not_contact); it lowers the monthly miss odds by exp(-contact_lift).
- reach_<channel>: probability that a contact on the channel reaches the customer
  (delivered, or answered by the right person): the channel's base rate, cut for stale
  phones and bouncing e-mails (constant per customer). Opt-outs and do_not_contact are not
  in it: they forbid a contact rather than lose it.
- macro_shock: month T is inside the unemployment shock window.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from regua.contract import CONTACT_CHANNELS
from regua.simulate.calendar import Calendar
from regua.simulate.customers import CustomerBlock
from regua.simulate.macro import SHOCK_FLAG_LEVEL, MacroPath
from regua.simulate.risk import (
    CHARGED_OFF,
    DEFAULT,
    LATE_30,
    LATE_60,
    RECOVERING,
    RECOVERY_RATE,
    SETTLED,
    STATE_LABELS,
    Lifts,
    Transitions,
    in_agreement,
    in_late_default,
    is_blocked,
    oldest_unpaid,
    previous_states,
    transition_probabilities,
)

HORIZON_STEPS = 5  # steps u = T+1 .. T+5 turn a bill 60 days late within 180 days of T


def risk_index(customers: CustomerBlock, path: MacroPath, months: int) -> np.ndarray:
    """Latent risk index (log-odds) of each customer in month 0 .. months + HORIZON_STEPS."""
    columns = path.at(np.arange(months + HORIZON_STEPS + 1))
    conditions = path.conditions()[customers.uf][:, columns]
    return customers.base_risk[:, None] + customers.exposure[:, None] * conditions


def chance_of_60(
    start: np.ndarray, t: Transitions, steps: range, billed_from: np.ndarray, months: int
) -> np.ndarray:
    """Probability that the chain, in `start` before the first of `steps`, enters dpd60 at
    one of them; step k of column T uses the transitions of month T + k."""
    month_grid = np.arange(months)[None, :]
    settled = start == SETTLED
    v_c = ((start != LATE_30) & (start != RECOVERING) & ~is_blocked(start) & ~settled).astype(float)
    v_r = (start == RECOVERING).astype(float)
    v_x = (start == LATE_30).astype(float)
    for k in steps:
        mc = t.miss_current[:, k : k + months]
        mr = t.miss_recovering[:, k : k + months]
        c1 = t.cure_late_30[:, k : k + months]
        r1 = t.roll_late_30[:, k : k + months]
        moves = month_grid + k >= billed_from
        new_c = v_c * (1 - mc) + v_r * (1 - mr) * RECOVERY_RATE
        new_r = v_r * (1 - mr) * (1 - RECOVERY_RATE) + v_x * c1
        new_x = v_c * mc + v_r * mr + v_x * r1
        v_c = np.where(moves, new_c, v_c)
        v_r = np.where(moves, new_r, v_r)
        v_x = np.where(moves, new_x, v_x)
    return np.where(is_blocked(start), 1.0, np.where(settled, 0.0, 1.0 - (v_c + v_r + v_x)))


def truth_probabilities(
    states: np.ndarray,
    x: np.ndarray,
    lifts: Lifts,
    open_month: np.ndarray,
    initial: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """pd_next_month, pd_60_180d, pd_60_180d_pit and propensity_to_pay per customer-month."""
    months = states.shape[1]
    t = transition_probabilities(x, lifts)
    billed_from = open_month[:, None] + 1
    pd_60 = chance_of_60(states, t, range(1, HORIZON_STEPS + 1), billed_from, months)
    before = previous_states(states, states[:, 0] if initial is None else initial)
    pd_60_pit = chance_of_60(before, t, range(HORIZON_STEPS + 1), billed_from, months)

    def nxt(values: np.ndarray) -> np.ndarray:
        return values[:, 1 : months + 1]

    # the next step finds a customer in D in their first month of default or later
    late = in_late_default(
        oldest_unpaid(states, billed_from[:, 0])[:, 1:], np.arange(1, months + 1)
    )
    cure_default = np.where(late, nxt(t.cure_default_late), nxt(t.cure_default))

    pd_next = np.select(
        [
            states == RECOVERING,
            states == LATE_30,
            states == LATE_60,
            states == DEFAULT,
            in_agreement(states),
            states == CHARGED_OFF,
            states == SETTLED,
        ],
        [
            nxt(t.miss_recovering),
            1 - nxt(t.cure_late_30),
            1 - nxt(t.cure_late_60),
            1 - cure_default,
            nxt(t.break_agreement),
            1 - nxt(t.recover_charged_off),
            np.zeros(states.shape),
        ],
        default=nxt(t.miss_current),
    )
    propensity = np.select(
        [states == LATE_60, states == DEFAULT, states == CHARGED_OFF, states == SETTLED],
        [
            nxt(t.cure_late_60),
            cure_default,
            nxt(t.recover_charged_off),
            np.zeros(states.shape),
        ],
        default=nxt(t.cure_late_30) + nxt(t.roll_late_30),
    )
    return {
        "pd_next_month": np.clip(pd_next, 0.0, 1.0),
        "pd_60_180d": np.clip(pd_60, 0.0, 1.0),
        "pd_60_180d_pit": np.clip(pd_60_pit, 0.0, 1.0),
        "propensity_to_pay": np.clip(propensity, 0.0, 1.0),
    }


def truth_frame(
    customers: CustomerBlock,
    states: np.ndarray,
    x: np.ndarray,
    lifts: Lifts,
    path: MacroPath,
    calendar: Calendar,
    oracle: dict[str, np.ndarray] | None = None,
    export_defect: pl.Series | None = None,
) -> pl.DataFrame:
    """The truth rows of a block, customer by customer, month by month; `oracle` adds the
    label oracle's columns (regua.simulate.label_oracle).

    `export_defect` (per customer) says the customer's exported rows carry an injected
    defect (`--error-rate`): a payment or a bill rejected at ingest leaves a stored
    history, and labels, that the simulation did not live, so the oracle is no ceiling
    for that customer (`models.train.oracle_rows` leaves them out).
    """
    n, months = states.shape
    probabilities = truth_probabilities(states, x, lifts, customers.open_month, customers.initial)
    month_end = calendar.month_end(np.arange(months))
    opened_at = customers.frame["opened_at"].cast(pl.Int32).to_numpy()

    def per_row(values: np.ndarray) -> np.ndarray:
        return np.repeat(values, months)

    def per_month(values: np.ndarray) -> np.ndarray:
        return np.tile(values, n)

    conditions = x[:, :months] - customers.base_risk[:, None]
    columns: dict[str, object] = {
        "customer_id": customers.ids.gather(np.repeat(np.arange(n), months)),
        "month_end": pl.Series(per_month(month_end)).cast(pl.Int32).cast(pl.Date),
        "state": pl.Series(STATE_LABELS).gather(states.ravel()),
        "opened": per_row(opened_at) <= per_month(month_end),
        "latent_risk": x[:, :months].ravel(),
        **{
            f"risk_{name}": per_row(values)
            for name, values in customers.components.items()
            if name != "profile"
        },
        "risk_conditions": conditions.ravel(),
        "risk_profile": per_row(customers.components["profile"]),
        **{name: values.ravel() for name, values in probabilities.items()},
        **{name: values.ravel() for name, values in (oracle or {}).items()},
        "character": per_row(customers.character),
        "punctuality": per_row(customers.punctuality),
        **{
            f"responsiveness_{ch}": per_row(customers.responsiveness[:, i])
            for i, ch in enumerate(CONTACT_CHANNELS)
        },
        **{f"reach_{ch}": per_row(customers.reach[:, i]) for i, ch in enumerate(CONTACT_CHANNELS)},
        "contact_lift": per_row(lifts.early),
        "macro_shock": per_month(path.shock[path.at(np.arange(months))] >= SHOCK_FLAG_LEVEL),
        "export_defect": per_row(
            np.zeros(n, bool) if export_defect is None else export_defect.to_numpy()
        ),
    }
    return pl.DataFrame(columns)
