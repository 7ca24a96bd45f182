"""What the collection tools report back: the actions they carried out, as contacts.

regua's loop closes through the contacts export: a night's scheduled actions are carried
out by the tools (dialer, message senders, letter house, bureau and agency portals), which
report each attempt with the `case_id` and `action_id` they were given. `carry_out` is
that behaviour for the scheduled actions of one day, used by the multi-night tests and
the collection twin; a real installation gets the same rows from its tools.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from regua.contract import CONTACTS

CONTACT_SCHEMA = pl.Schema({c.name: c.dtype for c in CONTACTS.columns})


def due_actions(actions: pl.DataFrame, day: date, done: pl.Series | None = None) -> pl.DataFrame:
    """The scheduled action rows the tools carry out on `day`: local day of scheduled_for is
    `day`, still valid, not carried out before (`done`), once per action_id."""
    todo = actions.filter(
        (pl.col("status") == "scheduled")
        & (pl.col("scheduled_for").dt.date() == day)
        & (pl.col("valid_until") >= day)
    )
    if done is not None and not done.is_empty():
        todo = todo.filter(~pl.col("action_id").is_in(done.implode()))
    return todo.unique("action_id", keep="first", maintain_order=True)


def carry_out(
    actions: pl.DataFrame,
    day: date,
    done: pl.Series | None = None,
    outcome: pl.Expr | None = None,
) -> pl.DataFrame:
    """Contacts for the scheduled actions whose local day is `day`, as the tools report them.

    An action is carried out once: rows whose `action_id` is in `done` (ids already
    carried out on earlier days) or whose `valid_until` has passed are dropped, as the
    tools de-duplicate and drop stale work. Each contact is at `scheduled_for`, echoes
    the action's case, action, step, channel and invoice, and has `outcome` (an expression
    over the action rows; default "delivered").
    """
    return (
        due_actions(actions, day, done)
        .select(
            pl.concat_str(pl.col("action_id"), pl.lit(day.isoformat()), separator="@").alias(
                "contact_id"
            ),
            "customer_id",
            "invoice_id",
            pl.col("scheduled_for").alias("at"),
            "channel",
            "step_id",
            (outcome if outcome is not None else pl.lit("delivered")).alias("outcome"),
            pl.lit(None, pl.Date).alias("promise_date"),
            pl.lit(None, pl.Float64).alias("promise_amount"),
            "case_id",
            "action_id",
        )
        .cast(dict(CONTACT_SCHEMA))
    )
