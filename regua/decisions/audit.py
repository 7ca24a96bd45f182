"""The append-only audit log: one writer, no update or delete path (triggers refuse both)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from regua.decisions.models import AuditEntry


def append(
    session: Session,
    user_name: str,
    event: str,
    *,
    customer_id: str | None = None,
    decision_id: int | None = None,
    review_id: int | None = None,
    old_value: str | None = None,
    new_value: str | None = None,
    reason_code: str | None = None,
    comment: str | None = None,
    model_limit: float | None = None,
    model_version: str | None = None,
) -> AuditEntry:
    """Add one line to the audit log (in the caller's transaction)."""
    entry = AuditEntry(
        at=datetime.now(UTC).replace(tzinfo=None),
        user_name=user_name,
        event=event,
        customer_id=customer_id,
        decision_id=decision_id,
        review_id=review_id,
        old_value=old_value,
        new_value=new_value,
        reason_code=reason_code,
        comment=comment,
        model_limit=model_limit,
        model_version=model_version,
    )
    session.add(entry)
    session.flush()
    return entry


def entries(session: Session, customer_id: str | None = None, limit: int = 200) -> list[AuditEntry]:
    """The latest audit lines, newest first (one customer's when given)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if customer_id is not None:
        query = query.where(AuditEntry.customer_id == customer_id)
    return list(session.scalars(query))
