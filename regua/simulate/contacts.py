"""Contacts: the ladder attempts actually made, with outcomes and promises.

A ladder step is attempted when its channel is allowed, the cycle is the customer's
oldest open one on that day, it is not yet paid or under an agreement, and the day is
on or before the end of history.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from regua.contract import CONTACT_CHANNELS, CONTACT_OUTCOMES, CONTACTS
from regua.simulate.behaviour import Behaviour
from regua.simulate.calendar import Calendar
from regua.simulate.config import sequential_ids
from regua.simulate.customers import CustomerBlock
from regua.simulate.invoices import Invoices
from regua.simulate.ladder import STEP_CHANNELS, STEP_IDS, contact_outcomes
from regua.simulate.risk import sigmoid

MICROSECONDS_PER_DAY = 86_400 * 1_000_000


def build_contacts(
    behaviour: Behaviour,
    invoices: Invoices,
    customers: CustomerBlock,
    calendar: Calendar,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Contact rows of a block as arrays (episode, step, day, time, outcome, promise)."""
    ladders = behaviour.ladders
    cycle = ladders.cycle
    lead = np.searchsorted(invoices.cycle, cycle)  # invoices are in cycle order, primary first
    start = behaviour.fates.start[cycle]
    close = behaviour.close[lead]
    made = (
        ladders.allowed
        & (ladders.day >= start[:, None])
        & (ladders.day <= close[:, None])
        & (ladders.day <= calendar.end_day)
    )
    broken_promise = 0.1 + 0.3 * sigmoid(customers.base_risk)
    outcome, promise = contact_outcomes(ladders, customers.stale_phone, broken_promise, rng)
    episode, step = np.nonzero(made)
    day = ladders.day[episode, step]
    promised = promise[episode, step]
    kept_by = day + ladders.lag[episode, step] + rng.integers(0, 2, size=len(day))
    promise_day = np.where(
        ladders.prompted[episode, step], kept_by, day + rng.integers(1, 8, size=len(day))
    )
    totals = np.bincount(invoices.cycle, weights=invoices.amount)
    share = np.where(rng.random(len(day)) < 0.2, rng.uniform(0.5, 1.0, len(day)), 1.0)
    return {
        "customer": ladders.customer[episode],
        "invoice": lead[episode],
        "day": day,
        "second": ladders.second[episode, step],
        "step": step,
        "outcome": outcome[episode, step],
        "promise_day": np.where(promised, promise_day, -1),
        "promise_amount": np.where(promised, np.round(totals[cycle[episode]] * share, 2), np.nan),
    }


def contact_ids(first: int, n: int) -> pl.Series:
    """K0000000001-style ids for contacts first+1 .. first+n."""
    return sequential_ids("K", first, n, "contact_id")


def contacts_frame(
    contacts: dict[str, np.ndarray],
    invoice_id: pl.Series,
    customer_ids: pl.Series,
    first: int,
) -> pl.DataFrame:
    """The contacts export in time order, ids numbered from `first` + 1."""
    at = contacts["day"] * 86_400 + contacts["second"]
    order = np.lexsort((contacts["step"], contacts["customer"], at))
    step = contacts["step"][order]
    promise_day = contacts["promise_day"][order]
    return (
        pl.DataFrame(
            {
                "contact_id": contact_ids(first, len(order)),
                "customer_id": customer_ids.gather(contacts["customer"][order]),
                "invoice_id": invoice_id.gather(contacts["invoice"][order]),
                "at": pl.Series(at[order] * 1_000_000).cast(pl.Datetime("us")),
                "channel": pl.Series(CONTACT_CHANNELS).gather(STEP_CHANNELS[step]),
                "step_id": pl.Series(STEP_IDS).gather(step),
                "outcome": pl.Series(CONTACT_OUTCOMES).gather(contacts["outcome"][order]),
                "promise_date": np.where(promise_day >= 0, promise_day, np.nan),
                "promise_amount": contacts["promise_amount"][order],
            },
            nan_to_null=True,
        )
        .with_columns(
            pl.col("promise_date").cast(pl.Int32).cast(pl.Date),
            # the simulated lender's history predates regua: no case or action ids
            pl.lit(None, pl.String).alias("case_id"),
            pl.lit(None, pl.String).alias("action_id"),
        )
        .select(CONTACTS.names)
    )
