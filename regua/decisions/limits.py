"""Limit decisions: the authority matrix, recording a decision, a supervisor's approval, and
the decisions in force on a night (the frame the nightly limits step holds to).

The rules are plain functions so the workbench and the nightly flow share them:
- an analyst's move of at most both the configured BRL amount and share of the current
  limit takes effect at once; a larger move waits for a supervisor (status pending);
- a supervisor's decision takes effect at once;
- an approved decision is in force for the nights from the one it was taken on (its as_of)
  until the day before its review date; the latest approved decision of a customer wins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from regua.config.workbench import WorkbenchConfig
from regua.decisions.audit import append
from regua.decisions.db import require_current
from regua.decisions.models import ACTIONS, Decision, User
from regua.decisions.users import now_utc

IN_FORCE_SCHEMA = {
    "customer_id": pl.String,
    "decision_id": pl.Int64,
    "decided_limit": pl.Float64,
    "decision_action": pl.String,
    "decision_reason_code": pl.String,
    "review_on": pl.Date,
}


class DecisionError(ValueError):
    """A decision that breaks a rule (unknown reason code, bad amount, no authority)."""


def needs_approval(config: WorkbenchConfig, role: str, old: float | None, new: float) -> bool:
    """Whether moving a limit from `old` to `new` needs a supervisor, by the authority matrix."""
    if role == "supervisor":
        return False
    move = abs(new - (old or 0.0))
    if move == 0:
        return False
    rules = config.authority
    share_ok = old is not None and old > 0 and move / old <= rules.analyst_max_change_share
    return not (move <= rules.analyst_max_change_brl and share_ok)


@dataclass(frozen=True)
class Seen:
    """What the analyst saw on the night's page: the limits and the model behind them."""

    customer_id: str
    as_of: date
    current_limit: float | None
    model_limit: float | None
    model_version: str | None


def record_decision(
    session: Session,
    config: WorkbenchConfig,
    user: User,
    seen: Seen,
    action: str,
    reason_code: str,
    comment: str = "",
    new_limit: float | None = None,
    review_on: date | None = None,
) -> Decision:
    """Store an accept / reject / override of the night's recommendation, and audit it.

    accept sets the model's limit, reject keeps the current one, override sets `new_limit`.
    The decision is approved at once within the user's authority, pending otherwise.
    """
    if action not in ACTIONS:
        raise DecisionError(f"action {action!r}: must be one of {', '.join(ACTIONS)}")
    if reason_code not in config.reason_codes:
        raise DecisionError(f"reason code {reason_code!r} is not in config/workbench.yaml")
    limit = {"accept": seen.model_limit, "reject": seen.current_limit, "override": new_limit}[
        action
    ]
    if limit is None or not math.isfinite(limit) or limit < 0:
        raise DecisionError("the new limit must be a number of at least 0")
    review_on = review_on or seen.as_of + timedelta(days=config.default_hold_days)
    if not seen.as_of < review_on <= seen.as_of + timedelta(days=config.max_hold_days):
        raise DecisionError(
            f"review date {review_on} must be after {seen.as_of} and within "
            f"{config.max_hold_days} days"
        )
    pending = needs_approval(config, user.role, seen.current_limit, limit)
    decision = Decision(
        customer_id=seen.customer_id,
        as_of=seen.as_of,
        action=action,
        old_limit=seen.current_limit,
        new_limit=round(float(limit), 2),
        model_limit=seen.model_limit,
        model_version=seen.model_version,
        reason_code=reason_code,
        comment=comment,
        decided_by=user.id,
        decided_at=now_utc(),
        review_on=review_on,
        status="pending" if pending else "approved",
    )
    if not pending:
        decision.approved_by, decision.approved_at = user.id, decision.decided_at
    session.add(decision)
    session.flush()
    append(
        session, user.name, f"decision.{action}", customer_id=seen.customer_id,
        decision_id=decision.id, old_value=_amount(seen.current_limit),
        new_value=_amount(decision.new_limit), reason_code=reason_code, comment=comment,
        model_limit=seen.model_limit, model_version=seen.model_version,
    )  # fmt: skip
    if pending:
        append(session, user.name, "decision.pending_approval", customer_id=seen.customer_id,
               decision_id=decision.id)  # fmt: skip
    return decision


def settle(
    session: Session, supervisor: User, decision_id: int, approve: bool, comment: str = ""
) -> Decision:
    """A supervisor approves or rejects a pending decision; audited either way."""
    if supervisor.role != "supervisor":
        raise DecisionError("only a supervisor approves or rejects a pending decision")
    decision = session.get(Decision, decision_id)
    if decision is None or decision.status != "pending":
        raise DecisionError(f"decision {decision_id} is not waiting for approval")
    decision.status = "approved" if approve else "rejected"
    decision.approved_by, decision.approved_at = supervisor.id, now_utc()
    append(
        session, supervisor.name, "decision.approved" if approve else "decision.rejected",
        customer_id=decision.customer_id, decision_id=decision.id,
        old_value=_amount(decision.old_limit), new_value=_amount(decision.new_limit),
        reason_code=decision.reason_code, comment=comment, model_limit=decision.model_limit,
        model_version=decision.model_version,
    )  # fmt: skip
    return decision


def _amount(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def pending_decisions(session: Session) -> list[Decision]:
    """Decisions waiting for a supervisor, oldest first."""
    return list(
        session.scalars(select(Decision).where(Decision.status == "pending").order_by(Decision.id))
    )


def decided_on(session: Session, as_of: date) -> list[str]:
    """Customers with a decision on the night of as_of that is approved or waiting."""
    query = select(Decision.customer_id).where(
        Decision.as_of == as_of, Decision.status.in_(("approved", "pending"))
    )
    return list(session.scalars(query.distinct()))


def customer_decisions(session: Session, customer_id: str) -> list[Decision]:
    """Every decision on one customer, newest first."""
    query = select(Decision).where(Decision.customer_id == customer_id)
    return list(session.scalars(query.order_by(Decision.id.desc())))


def in_force(decisions: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The decision in force per customer on the night of as_of (IN_FORCE_SCHEMA).

    `decisions` has the decisions table's columns. Approved, taken on a night on or before
    as_of, review date after as_of; the latest approval wins.
    """
    c = pl.col
    if decisions.height == 0:
        return pl.DataFrame(schema=IN_FORCE_SCHEMA)
    return (
        decisions.filter(
            (c("status") == "approved") & (c("as_of") <= as_of) & (c("review_on") > as_of)
        )
        .sort("approved_at", "id")
        .group_by("customer_id", maintain_order=True)
        .last()
        .select(
            "customer_id",
            c("id").cast(pl.Int64).alias("decision_id"),
            c("new_limit").cast(pl.Float64).alias("decided_limit"),
            c("action").alias("decision_action"),
            c("reason_code").alias("decision_reason_code"),
            "review_on",
        )
        .sort("customer_id")
    )


def decisions_in_force(engine: Engine, as_of: date) -> pl.DataFrame:
    """The decisions in force on the night of as_of, read from the decisions database."""
    columns = ["id", "customer_id", "as_of", "action", "new_limit", "reason_code",
               "review_on", "status", "approved_at"]  # fmt: skip
    query = select(*(getattr(Decision, name) for name in columns)).where(
        Decision.status == "approved", Decision.as_of <= as_of, Decision.review_on > as_of
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    frame = pl.DataFrame(
        [dict(zip(columns, row, strict=True)) for row in rows],
        schema={"id": pl.Int64, "customer_id": pl.String, "as_of": pl.Date,
                "action": pl.String, "new_limit": pl.Float64, "reason_code": pl.String,
                "review_on": pl.Date, "status": pl.String, "approved_at": pl.Datetime("us")},
        orient="row",
    )  # fmt: skip
    return in_force(frame, as_of)


def read_in_force(url: str | None, as_of: date) -> pl.DataFrame:
    """The decisions in force at as_of from the database at `url` (default: the setting).

    A SQLite file that does not exist yet, or a database nobody migrated, has no decisions
    (an installation without the workbench); a database behind the migrations stops.
    """
    from regua.decisions.db import current_revision, database_url, make_engine, sqlite_file

    url = database_url(url)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return in_force(pl.DataFrame(), as_of)
    engine = make_engine(url)
    try:
        if current_revision(engine) is None:
            return in_force(pl.DataFrame(), as_of)
        require_current(engine)
        return decisions_in_force(engine, as_of)
    finally:
        engine.dispose()
