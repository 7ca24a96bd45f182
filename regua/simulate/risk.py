"""The delinquency Markov chain: states, transition probabilities and their simulation.

Each open customer moves once a month (a "step" u, about the bill issued in month u):

- C  current: pays the month's bills within 29 days of due; misses them with `miss_current`.
- R  recovering: like C but cured recently, so misses more (`miss_recovering`; chronic
     lateness); returns to C with probability 1/6 a month.
- X1 one cycle missed (bill 30-59 days past due): cures (pays everything, to R), rolls
     (pays the old bill but misses the new one, stays X1) or goes to X2.
- X2 two cycles missed: the oldest bill has reached 60 days past due. The account is
     blocked (no new bills). Cures, settles through an agreement, or defaults (D).
- D  default: stops paying, month after month, until a late cure or an agreement.
- A_k agreement with k instalments left (method "agreement"); breaks back to D, or
     completes (all overdue paid) and returns to R.

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
STATE_LABELS = (
    "current", "recovering", "dpd30", "dpd60", "default",
    *(f"agreement_{k}" for k in range(1, 12)), "not_billed",
)  # fmt: skip

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
    cure_default: np.ndarray  # D -> R
    agree_default: np.ndarray  # D -> A
    break_agreement: np.ndarray  # A -> D


def transition_probabilities(x: np.ndarray, lifts: Lifts) -> Transitions:
    """Transition probabilities given the latent risk index `x` (log-odds) and contact lifts.

    `x` is (customers,) or (customers, months); lifts broadcast along the first axis.
    """

    def col(values: np.ndarray) -> np.ndarray:
        return values if x.ndim == 1 else values[:, None]

    early, middle, late, agency = (
        col(v) for v in (lifts.early, lifts.middle, lifts.late, lifts.agency)
    )
    cure_1 = sigmoid(0.9 - 0.8 * x + 1.5 * middle)
    cure_2 = sigmoid(-1.2 - 0.8 * x + 1.5 * late)
    cure_d = sigmoid(-4.0 - 0.6 * x)
    return Transitions(
        miss_current=sigmoid(-4.3 + x - 1.0 * early),
        miss_recovering=sigmoid(-2.8 + x - 1.0 * early),
        cure_late_30=cure_1,
        roll_late_30=(1 - cure_1) * sigmoid(-0.8 - 0.3 * x),
        cure_late_60=cure_2,
        agree_late_60=(1 - cure_2) * sigmoid(-2.0 - 0.3 * x + 1.5 * late),
        cure_default=cure_d,
        agree_default=(1 - cure_d) * sigmoid(-2.6 - 0.4 * x + 1.5 * agency),
        break_agreement=sigmoid(-3.0 + 0.8 * x),
    )


def agreement_state(u: np.ndarray) -> np.ndarray:
    """The A_k state entered by a new agreement, its length drawn from a uniform `u`."""
    lengths = AGREEMENT_LENGTHS[np.searchsorted(_AGREEMENT_CUMULATIVE, u, side="right")]
    return (AGREEMENT_1 + lengths - 2).astype(np.int8)


def step_states(prev: np.ndarray, t: Transitions, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """One monthly transition of every customer, from uniforms `u` (move) and `v` (length)."""
    new_agreement = agreement_state(v)
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
    out_d = np.where(
        u < t.cure_default,
        RECOVERING,
        np.where(u < t.cure_default + t.agree_default, new_agreement, DEFAULT),
    )
    out_a = np.where(
        u < t.break_agreement,
        DEFAULT,
        np.where(prev == AGREEMENT_1, RECOVERING, prev - 1),
    )
    return np.select(
        [prev == CURRENT, prev == RECOVERING, prev == LATE_30, prev == LATE_60, prev == DEFAULT],
        [out_c, out_r, out_1, out_2, out_d],
        default=out_a,
    ).astype(np.int8)


def simulate_states(
    x: np.ndarray,
    lifts: Lifts,
    open_month: np.ndarray,
    initial: np.ndarray,
    months: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """The state of each customer after each step (customers, months); NOT_BILLED before.

    A customer opened in month o is billed from month o + 1, so moves from step o + 1.
    """
    n = len(open_month)
    states = np.empty((n, months), dtype=np.int8)
    prev = initial.astype(np.int8)
    moves = rng.random((n, months))
    lengths = rng.random((n, months))
    for u in range(months):
        nxt = step_states(
            prev, transition_probabilities(x[:, u], lifts), moves[:, u], lengths[:, u]
        )
        billed = open_month < u
        prev = np.where(billed, nxt, prev)
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
    """True where the account is blocked (60+ days: X2, D or an agreement): no new bills."""
    return (states >= LATE_60) & (states <= AGREEMENT_LAST)
