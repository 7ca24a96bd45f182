"""The collection ladder the simulated lender already runs, and how customers respond to it.

Each overdue bill cycle that is the customer's oldest open one runs the ladder below,
from its due date, each step on the next business day at a time within business
hours, skipping channels the customer opted out of and everything under
do_not_contact, until the cycle is paid or settled through an agreement.

A contact either reaches the customer (with a per-customer, per-channel probability)
or not; a reached customer pays within 0-2 days of it with their per-channel
responsiveness. That is the contact's effect on the payment hazard; its effect on
whether the customer cures at all is in the Markov chain through `Lifts`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from regua.contract import CONTACT_CHANNELS, CONTACT_OUTCOMES
from regua.simulate.calendar import Calendar
from regua.simulate.risk import Lifts

BIG_DAY = np.iinfo(np.int32).max // 2
"""A day after every simulated day: 'never'."""


@dataclass(frozen=True)
class LadderStep:
    """One step of the ladder: days after due, channel and id."""

    step_id: str
    offset: int
    channel: str


LADDER: tuple[LadderStep, ...] = (
    LadderStep("sms_d1", 1, "sms"),
    LadderStep("whatsapp_d3", 3, "whatsapp"),
    LadderStep("phone_d5", 5, "phone"),
    LadderStep("email_d7", 7, "email"),
    LadderStep("phone_d10", 10, "phone"),
    LadderStep("letter_d20", 20, "letter"),  # notice before a negative listing (CDC art. 43 §2)
    LadderStep("phone_d35", 35, "phone"),
    LadderStep("whatsapp_d45", 45, "whatsapp"),
    LadderStep("phone_d65", 65, "phone"),
    LadderStep("agency_d90", 90, "agency"),
    LadderStep("agency_d120", 120, "agency"),
    LadderStep("agency_d150", 150, "agency"),
    LadderStep("agency_d180", 180, "agency"),
)
OFFSETS = np.array([s.offset for s in LADDER])
STEP_CHANNELS = np.array([CONTACT_CHANNELS.index(s.channel) for s in LADDER])
STEP_IDS = tuple(s.step_id for s in LADDER)
WINDOWS = {"early": (1, 29), "middle": (30, 59), "late": (60, 89), "agency": (90, 10_000)}
HOURS = {
    "email": (8, 20),
    "sms": (9, 20),
    "whatsapp": (9, 20),
    "phone": (9, 20),
    "letter": (10, 17),
    "agency": (9, 18),
}
_HOUR_FROM = np.array([HOURS[c][0] for c in CONTACT_CHANNELS])
_HOUR_TO = np.array([HOURS[c][1] for c in CONTACT_CHANNELS])
LAG_SHARES = np.array([0.45, 0.35, 0.20])  # days from a contact to the payment it prompts


def contact_lifts(reach: np.ndarray, responsiveness: np.ndarray, allowed: np.ndarray) -> Lifts:
    """Expected prompted payments per ladder window: the sum over its steps of reach x response."""
    per_step = (allowed * reach * responsiveness)[:, STEP_CHANNELS]
    offsets = OFFSETS
    sums = {
        name: per_step[:, (offsets >= lo) & (offsets <= hi)].sum(axis=1)
        for name, (lo, hi) in WINDOWS.items()
    }
    return Lifts(**sums)


@dataclass(frozen=True)
class Ladders:
    """The ladder of each episode (an overdue cycle), step by step: (episodes, steps) arrays."""

    customer: np.ndarray  # (episodes,) block-local customer index
    cycle: np.ndarray  # (episodes,) index of the cycle
    due: np.ndarray  # (episodes,) due day
    day: np.ndarray  # day of the attempt (next business day on or after due + offset)
    second: np.ndarray  # second of the day of the attempt
    allowed: np.ndarray
    reached: np.ndarray
    prompted: np.ndarray  # the customer pays within `lag` days of it
    lag: np.ndarray
    prompted_day: np.ndarray  # day of the payment an attempted step prompts, or BIG_DAY

    def first_prompt(self, rows: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Earliest prompted payment day of `rows` among steps attempted in [low, high]."""
        day = self.day[rows]
        prompted = self.prompted_day[rows]
        inside = (day >= low[:, None]) & (prompted <= high[:, None])
        return np.where(inside, prompted, BIG_DAY).min(axis=1, initial=BIG_DAY)


def draw_ladders(
    customer: np.ndarray,
    cycle: np.ndarray,
    due: np.ndarray,
    reach: np.ndarray,
    responsiveness: np.ndarray,
    allowed: np.ndarray,
    calendar: Calendar,
    rng: np.random.Generator,
) -> Ladders:
    """Attempt days, times, reach and prompted payments of every step of every episode."""
    e = len(customer)
    shape = (e, len(LADDER))
    channel = np.broadcast_to(STEP_CHANNELS, shape)
    day = calendar.next_business_day(due[:, None] + OFFSETS[None, :])
    hour_from = _HOUR_FROM[channel]
    span = (_HOUR_TO[channel] - hour_from) * 3600
    second = hour_from * 3600 + (rng.random(shape) * span).astype(np.int64)
    step_reach = reach[customer][:, STEP_CHANNELS]
    step_response = responsiveness[customer][:, STEP_CHANNELS]
    reached = rng.random(shape) < step_reach
    prompted = reached & (rng.random(shape) < step_response)
    lag = np.searchsorted(np.cumsum(LAG_SHARES), rng.random(shape), side="right")
    step_allowed = allowed[customer][:, STEP_CHANNELS]
    return Ladders(
        customer=customer,
        cycle=cycle,
        due=due,
        day=day,
        second=second,
        allowed=step_allowed,
        reached=reached,
        prompted=prompted,
        lag=lag,
        prompted_day=np.where(prompted & step_allowed, day + lag, BIG_DAY),
    )


_OUTCOME = {name: np.int8(i) for i, name in enumerate(CONTACT_OUTCOMES)}


def contact_outcomes(
    ladders: Ladders,
    stale_phone: np.ndarray,
    broken_promise: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Outcome code (into contract.CONTACT_OUTCOMES) and promise flag of every step.

    A prompted contact on a conversational channel is often a kept promise; a reached
    one that prompts nothing is sometimes a promise the customer then breaks, more so
    for customers with a high `broken_promise` propensity (by customer).
    """
    shape = ladders.day.shape
    channel = np.broadcast_to(STEP_CHANNELS, shape)
    u = rng.random(shape)
    v = rng.random(shape)
    stale = stale_phone[ladders.customer][:, None]
    talk = (channel == CONTACT_CHANNELS.index("phone")) | (
        channel == CONTACT_CHANNELS.index("agency")
    )
    whatsapp = channel == CONTACT_CHANNELS.index("whatsapp")
    email = channel == CONTACT_CHANNELS.index("email")
    reached, prompted = ladders.reached, ladders.prompted
    promise = (
        (talk | whatsapp)
        & reached
        & np.where(
            prompted, u < np.where(talk, 0.65, 0.3), v < broken_promise[ladders.customer][:, None]
        )
    )
    not_reached_talk = np.where(
        stale,
        _OUTCOME["wrong_number"],
        np.where(u < 0.85, _OUTCOME["no_answer"], _OUTCOME["refused"]),
    )
    reached_talk = np.where(prompted | (u < 0.8), _OUTCOME["answered"], _OUTCOME["refused"])
    reached_message = np.select(
        [whatsapp & prompted, whatsapp, email & (prompted | (u < 0.3))],
        [
            _OUTCOME["answered"],
            np.where(u < 0.7, _OUTCOME["read"], _OUTCOME["delivered"]),
            _OUTCOME["read"],
        ],
        default=_OUTCOME["delivered"],
    )
    outcome = np.select(
        [promise, talk & reached, talk, reached],
        [_OUTCOME["promise"], reached_talk, not_reached_talk, reached_message],
        default=_OUTCOME["undelivered"],
    ).astype(np.int8)
    return outcome, promise
