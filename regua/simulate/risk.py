"""The delinquency Markov chain: states, transition probabilities and their simulation.

Each open customer moves once a month (a "step" u, about the bill issued in month u):

- C  current: pays the month's bills within 29 days of due; misses them with `miss_current`.
- R  recovering: like C but cured recently, so misses more (`miss_recovering`; chronic
     lateness); returns to C with probability 1/6 a month.
- X1 one cycle missed (bill 30-59 days past due): cures (pays everything, to R), rolls
     (pays the old bill but misses the new one, stays X1) or goes to X2.
- X2 two cycles missed: the oldest bill has reached 60 days past due. The account is
     blocked (no new bills). Cures, settles through an agreement, or defaults (D).
- D  default: stops paying, month after month, until a late cure or an agreement; it
     cures more in its first month (the oldest bill about 90-120 days late) than later.
- A_k agreement with k instalments left (method "agreement"); breaks back to D, or
     completes (all overdue paid) and returns to R.
- CO charged off: the oldest unpaid bill passed `charge_off_days` (config) past due, so
     the lender wrote the debt off and closed the account for good: no new bills, the
     written-off bills stay open. An agency may still recover it: paid in one go (method
     "boleto", to S) or through an agreement A_k that, being closed, breaks back to CO and
     completes to S.
- S  settled after charge-off: nothing owed, the account closed; absorbing.

Whether a customer is charged off depends on the due date of their oldest unpaid bill,
which the states alone do not carry: `ChargeOffClock` holds the due dates and the age,
and `oldest_unpaid` rebuilds that bill's month from a path of states. In the month the
age is reached, a customer in D can still cure or agree on a day before it (the chance
scaled by the days left, `ChargeOffClock.window`); an agreement running that month
closes the account whatever day its last instalment falls on (the lender closes it in
the month's batch).

The same `transition_probabilities` drive the simulation and the ground truth, so the
truth is exactly what the generative model implies. Contacts enter through `lifts`:
how reachable and responsive a customer is on the ladder's channels in each window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CURRENT, RECOVERING, LATE_30, LATE_60, DEFAULT = 0, 1, 2, 3, 4
AGREEMENT_1 = 5  # A_k has code AGREEMENT_1 + k - 1, k = 1..11
AGREEMENT_LAST = 15
NOT_BILLED = 16
CHARGED_OFF = 17
SETTLED = 18
STATE_LABELS = (
    "current", "recovering", "dpd30", "dpd60", "default",
    *(f"agreement_{k}" for k in range(1, 12)), "not_billed", "charged_off", "closed",
)  # fmt: skip
EVENT_DAYS = 27
"""Days of the month (the 2nd to the 28th) on which a customer in default or charged off
cures, settles or agrees: never the 1st, so bills 60+ days late at a month end stay unpaid
through the first day after it."""

RECOVERY_RATE = 1 / 6
AGREEMENT_LENGTHS = np.array([2, 3, 4, 5, 6, 8, 10, 12])
AGREEMENT_SHARES = np.array([0.10, 0.15, 0.10, 0.10, 0.20, 0.10, 0.10, 0.15])
_AGREEMENT_CUMULATIVE = np.cumsum(AGREEMENT_SHARES)


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class Lifts:
    """Expected contact effect per customer in each ladder window (reach x responsiveness)."""

    early: np.ndarray  # days 1-29: the first bill overdue
    middle: np.ndarray  # days 30-59
    late: np.ndarray  # days 60-89
    agency: np.ndarray  # days 90+


@dataclass(frozen=True)
class Transitions:
    """Monthly transition probabilities out of each state, same shape as the risk index."""

    miss_current: np.ndarray  # C -> X1
    miss_recovering: np.ndarray  # R -> X1
    cure_late_30: np.ndarray  # X1 -> R
    roll_late_30: np.ndarray  # X1 -> X1
    cure_late_60: np.ndarray  # X2 -> R
    agree_late_60: np.ndarray  # X2 -> A
    cure_default: np.ndarray  # D -> R, the first month in default (bills 90-120 days late)
    agree_default: np.ndarray  # D -> A, the first month in default
    cure_default_late: np.ndarray  # D -> R, later months
    agree_default_late: np.ndarray  # D -> A, later months
    break_agreement: np.ndarray  # A -> D (A -> CO once charged off)
    recover_charged_off: np.ndarray  # CO -> S: the agency collects it in one go
    agree_charged_off: np.ndarray  # CO -> A: the agency's settlement in instalments


def transition_probabilities(x: np.ndarray, lifts: Lifts) -> Transitions:
    """Transition probabilities given the latent risk index `x` (log-odds) and contact lifts.

    `x` is (customers,) or (customers, months); lifts broadcast along the first axis.

    Where the cures fall (issue 17: every bucket a treatment could move has a cure rate).
    No roll or cure rate of Brazilian consumer credit is published (benchmarks/README.md,
    "The simulated book against published figures"), so the levels below are a modelling
    choice, set (with `python benchmarks/bench_book.py`) so that the default book's 90+
    stock lands at 5-7% of its customers when held to 360 days (the BCB's household
    free-rate series, 5.2-6.9% in 2024-2025; Nubank 6.3-7.0%) and 0.55-0.8% of the book
    rolls past 90 days a month, with cures spread over every bucket. Before this change
    early cures were many (70% of the 1-30 and 42% of the 31-60 customers a month) and
    late ones almost none (99% of the 61-90 customers rolled to 91+, 1.5% of D cured):

    - fewer early cures, so that more customers reach 61-90: X1 (a bill 30-59 days
      late) cures 0.0 - 0.8x in log-odds (was 0.9; about 40% of X1 customers a month
      now) and rolls a little more (-0.5, was -0.8), X2 (60-89 days) cures -2.2 (was
      -1.2; about 5%); a current customer misses at -4.1 (was -4.3);
    - D (90 days and more) cures -1.2 - 0.6x in its first month (about 14% at the
      typical defaulter's risk, so about 15% of the book's 61-90 customers cure a month
      later) and -2.4 later (about 5%: the 91-180 bucket), where before it was -4.0
      throughout. Collectors know that a debt still pays after 90 days, less the older it
      gets; agreements start at the same rate as before;
    - the late-window and agency contacts lift X2 and D cures and agreements (the `late`
      and `agency` lifts), so treatments there move money, not only those before 60 days.
    """

    def col(values: np.ndarray) -> np.ndarray:
        return values if x.ndim == 1 else values[:, None]

    early, middle, late, agency = (
        col(v) for v in (lifts.early, lifts.middle, lifts.late, lifts.agency)
    )
    cure_1 = sigmoid(0.0 - 0.8 * x + 1.5 * middle)
    cure_2 = sigmoid(-2.2 - 0.8 * x + 1.5 * late)
    cure_d = sigmoid(-1.2 - 0.6 * x + 1.5 * agency)
    cure_d_late = sigmoid(-2.4 - 0.6 * x + 1.5 * agency)
    agree_d = sigmoid(-2.6 - 0.4 * x + 1.5 * agency)
    # Recoveries after charge-off: no published figure (the BCB publishes none for
    # Brazilian credit after write-off, nor do agencies). A modelling choice: an agency
    # collects everything in one go (method "boleto") from a charged-off customer at
    # -5.5 - 0.4x log-odds a month (about 0.3% at the typical charged-off customer's
    # risk, x about 1.5) and settles in instalments (method "agreement") at -5.1 - 0.4x
    # (about 0.4%), so that about one charged-off customer in fourteen pays something
    # within a year of the charge-off (7% on the default book), the low-risk more often;
    # the agency contacts (the `agency` lift) help. Small on purpose: what the lender's
    # own collection does not recover by 180 days mostly stays lost.
    recover_co = sigmoid(-5.5 - 0.4 * x + 1.0 * agency)
    return Transitions(
        miss_current=sigmoid(-4.1 + x - 1.0 * early),
        miss_recovering=sigmoid(-2.8 + x - 1.0 * early),
        cure_late_30=cure_1,
        roll_late_30=(1 - cure_1) * sigmoid(-0.5 - 0.3 * x),
        cure_late_60=cure_2,
        agree_late_60=(1 - cure_2) * sigmoid(-2.0 - 0.3 * x + 1.5 * late),
        cure_default=cure_d,
        agree_default=(1 - cure_d) * agree_d,
        cure_default_late=cure_d_late,
        agree_default_late=(1 - cure_d_late) * agree_d,
        break_agreement=sigmoid(-3.0 + 0.8 * x),
        recover_charged_off=recover_co,
        agree_charged_off=(1 - recover_co) * sigmoid(-5.1 - 0.4 * x + 1.0 * agency),
    )


@dataclass(frozen=True)
class ChargeOffClock:
    """When each customer's oldest unpaid bill reaches the charge-off age.

    `due` (customers, months) is the due day of each month's bill, `start` and `last`
    (months,) the first and last day of each month; an invoice unpaid through day
    due + `charge_off_days` is written off on the day after (the measurement's rule in
    regua.simulate.book: in the book while days past due <= charge_off_days).
    """

    due: np.ndarray
    start: np.ndarray
    last: np.ndarray
    charge_off_days: int

    def charge_day(self, oldest: np.ndarray) -> np.ndarray:
        """First day the bill of month `oldest` (per customer, -1: none) is written off."""
        rows = np.arange(len(oldest))
        due = self.due[rows, np.maximum(oldest, 0)]
        return np.where(oldest >= 0, due + self.charge_off_days + 1, NEVER)

    def window(self, oldest: np.ndarray, u: int) -> np.ndarray:
        """Days of month u on which a D customer can still pay before the write-off
        (from the 2nd, at most EVENT_DAYS)."""
        left = self.charge_day(oldest) - 1 - self.start[u]
        return np.clip(left, 0, EVENT_DAYS)


NEVER = np.iinfo(np.int32).max // 2
"""A day after every simulated day."""
FIRST_DEFAULT_AGE = 3
"""Steps from a bill's month to the first step its customer takes in default."""


def charge_off_clock(
    month_starts: np.ndarray, due_day: np.ndarray, charge_off_days: int
) -> ChargeOffClock:
    """The clock of a block: `month_starts` holds the first day of months 0 .. months (one
    more than simulated), `due_day` the day of the month each customer's bills fall due."""
    start = np.asarray(month_starts[:-1], dtype=np.int64)
    last = np.asarray(month_starts[1:], dtype=np.int64) - 1
    due = start[None, :] + due_day.astype(np.int64)[:, None] - 1
    return ChargeOffClock(due=due, start=start, last=last, charge_off_days=charge_off_days)


def agreement_state(u: np.ndarray) -> np.ndarray:
    """The A_k state entered by a new agreement, its length drawn from a uniform `u`."""
    lengths = AGREEMENT_LENGTHS[np.searchsorted(_AGREEMENT_CUMULATIVE, u, side="right")]
    return (AGREEMENT_1 + lengths - 2).astype(np.int8)


def step_states(
    prev: np.ndarray,
    t: Transitions,
    u: np.ndarray,
    v: np.ndarray,
    closing: np.ndarray | None = None,
    window: np.ndarray | None = None,
    late_default: np.ndarray | None = None,
) -> np.ndarray:
    """One monthly transition of every customer, from uniforms `u` (move) and `v` (length).

    `late_default` marks the D customers past their first month in default (their oldest
    bill more than `FIRST_DEFAULT_AGE` months old), who cure less.
    `closing` marks the customers whose account is closed by the end of the step (charged
    off before or during it): their agreements complete to S and break to CO. `window`
    scales the chance of a D customer curing or agreeing to the share of the month's
    event days before their write-off (1 when it is further off).
    """
    new_agreement = agreement_state(v)
    closing = np.zeros(prev.shape, dtype=bool) if closing is None else closing
    share = 1.0 if window is None else window
    out_c = np.where(u < t.miss_current, LATE_30, CURRENT)
    stay = 1 - t.miss_recovering
    out_r = np.where(
        u < t.miss_recovering,
        LATE_30,
        np.where(u < t.miss_recovering + stay * RECOVERY_RATE, CURRENT, RECOVERING),
    )
    out_1 = np.where(
        u < t.cure_late_30,
        RECOVERING,
        np.where(u < t.cure_late_30 + t.roll_late_30, LATE_30, LATE_60),
    )
    out_2 = np.where(
        u < t.cure_late_60,
        RECOVERING,
        np.where(u < t.cure_late_60 + t.agree_late_60, new_agreement, DEFAULT),
    )
    late = np.zeros(prev.shape, dtype=bool) if late_default is None else late_default
    cure_d = np.where(late, t.cure_default_late, t.cure_default) * share
    agree_d = np.where(late, t.agree_default_late, t.agree_default) * share
    out_d = np.where(
        u < cure_d,
        RECOVERING,
        np.where(u < cure_d + agree_d, new_agreement, DEFAULT),
    )
    out_a = np.where(
        u < t.break_agreement,
        np.where(closing, CHARGED_OFF, DEFAULT),
        np.where(prev == AGREEMENT_1, np.where(closing, SETTLED, RECOVERING), prev - 1),
    )
    out_co = np.where(
        u < t.recover_charged_off,
        SETTLED,
        np.where(u < t.recover_charged_off + t.agree_charged_off, new_agreement, CHARGED_OFF),
    )
    return np.select(
        [
            prev == CURRENT,
            prev == RECOVERING,
            prev == LATE_30,
            prev == LATE_60,
            prev == DEFAULT,
            prev == CHARGED_OFF,
            prev == SETTLED,
        ],
        [out_c, out_r, out_1, out_2, out_d, out_co, prev],
        default=out_a,
    ).astype(np.int8)


def next_oldest(oldest: np.ndarray, dst: np.ndarray, u: int) -> np.ndarray:
    """Month of the oldest unpaid bill after step u, given it before and the new state.

    Entering X1 (from C or R, or rolling: the old bill paid, month u's missed) makes it
    month u; a cure, a completed agreement or a settlement clears it (-1); every other
    move (X2, D, an agreement, a break, a charge-off) leaves the bills unpaid.
    """
    cleared = (dst == CURRENT) | (dst == RECOVERING) | (dst == SETTLED)
    return np.where(dst == LATE_30, u, np.where(cleared, -1, oldest))


def oldest_unpaid(states: np.ndarray, billed_from: np.ndarray) -> np.ndarray:
    """Month of the oldest unpaid bill before each step, and after the last one
    (customers, months + 1); -1 for none.

    `billed_from` is each customer's first step (open month + 1); states before it are
    NOT_BILLED and leave nothing unpaid.
    """
    n, months = states.shape
    out = np.empty((n, months + 1), dtype=np.int64)
    oldest = np.full(n, -1, dtype=np.int64)
    for u in range(months):
        out[:, u] = oldest
        moved = next_oldest(oldest, states[:, u], u)
        oldest = np.where(billed_from <= u, moved, oldest)
    out[:, months] = oldest
    return out


def in_late_default(oldest: np.ndarray, step: np.ndarray | int) -> np.ndarray:
    """True where, at `step`, the oldest unpaid bill (month `oldest`) is past the first
    month of default: the step that first finds a customer in D is FIRST_DEFAULT_AGE
    months after the bill's own (X1 at its month, X2 at the next, D at the one after)."""
    return (oldest >= 0) & (step - oldest > FIRST_DEFAULT_AGE)


def simulate_states(
    x: np.ndarray,
    lifts: Lifts,
    open_month: np.ndarray,
    initial: np.ndarray,
    months: int,
    rng: np.random.Generator,
    clock: ChargeOffClock | None = None,
) -> np.ndarray:
    """The state of each customer after each step (customers, months); NOT_BILLED before.

    A customer opened in month o is billed from month o + 1, so moves from step o + 1.
    With a `clock`, a customer whose oldest unpaid bill passes the charge-off age is
    charged off (CO) and their account closed for good; without one nobody is.
    """
    n = len(open_month)
    states = np.empty((n, months), dtype=np.int8)
    prev = initial.astype(np.int8)
    moves = rng.random((n, months))
    lengths = rng.random((n, months))
    oldest = np.full(n, -1, dtype=np.int64)
    closed = np.zeros(n, dtype=bool)
    for u in range(months):
        billed = open_month < u
        closing, window = closed, None
        if clock is not None:
            closing = closed | (clock.charge_day(oldest) <= clock.last[u])
            window = np.where(closed, 1.0, clock.window(oldest, u) / EVENT_DAYS)
        nxt = step_states(
            prev,
            transition_probabilities(x[:, u], lifts),
            moves[:, u],
            lengths[:, u],
            closing,
            window,
            in_late_default(oldest, u),
        )
        nxt = np.where(billed, nxt, prev)
        oldest = np.where(billed, next_oldest(oldest, nxt, u), oldest)
        if clock is not None:
            closed |= (oldest >= 0) & (clock.charge_day(oldest) <= clock.last[u])
            nxt = np.where(closed & (nxt == DEFAULT), CHARGED_OFF, nxt).astype(np.int8)
        prev = nxt
        states[:, u] = np.where(billed, prev, NOT_BILLED)
    return states


def previous_states(states: np.ndarray, initial: np.ndarray) -> np.ndarray:
    """The state each step starts from (the initial state for step 0 and before billing)."""
    prev = np.empty_like(states)
    prev[:, 0] = initial
    prev[:, 1:] = states[:, :-1]
    return np.where(prev == NOT_BILLED, CURRENT, prev).astype(np.int8)


def in_agreement(states: np.ndarray) -> np.ndarray:
    """True where the state is an agreement A_k."""
    return (states >= AGREEMENT_1) & (states <= AGREEMENT_LAST)


def is_blocked(states: np.ndarray) -> np.ndarray:
    """True where the account is blocked with something 60+ days late (X2, D, an
    agreement, or charged off): no new bills. S (settled after charge-off) is closed too,
    but owes nothing."""
    return ((states >= LATE_60) & (states <= AGREEMENT_LAST)) | (states == CHARGED_OFF)


def is_closed(states: np.ndarray) -> np.ndarray:
    """True where the account was closed by a charge-off (CO, or S once settled)."""
    return (states == CHARGED_OFF) | (states == SETTLED)
