"""Review requests (LGPD art. 20): a customer asks for a human review of an automated
decision; the request keeps the explanation shown at the time and the analyst's answer."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from regua.decisions.audit import append
from regua.decisions.models import ReviewRequest, User
from regua.decisions.users import now_utc

SUBJECTS = {
    "limite": "limite de crédito",
    "cobranca": "ação de cobrança",
    "negativacao": "negativação",
    "score": "score de risco",
}
"""What automated decision a request is about (code: Portuguese label)."""


class ReviewError(ValueError):
    """A review request that breaks a rule (unknown subject, empty text, already answered)."""


def open_request(
    session: Session,
    user: User,
    customer_id: str,
    subject: str,
    request: str,
    explanation: str,
    as_of: date | None,
    received_on: date,
) -> ReviewRequest:
    """Record a customer's review request with the explanation the workbench showed then."""
    if subject not in SUBJECTS:
        raise ReviewError(f"subject {subject!r}: must be one of {', '.join(SUBJECTS)}")
    if not request.strip():
        raise ReviewError("the request needs a description")
    review = ReviewRequest(
        customer_id=customer_id, received_on=received_on, subject=subject, request=request,
        explanation=explanation, as_of=as_of, status="open", created_by=user.id,
        created_at=now_utc(),
    )  # fmt: skip
    session.add(review)
    session.flush()
    append(session, user.name, "review.open", customer_id=customer_id, review_id=review.id,
           new_value=subject, comment=request)  # fmt: skip
    return review


def answer_request(session: Session, user: User, review_id: int, answer: str) -> ReviewRequest:
    """The analyst's answer closes an open request; audited."""
    review = session.get(ReviewRequest, review_id)
    if review is None or review.status != "open":
        raise ReviewError(f"review request {review_id} is not open")
    if not answer.strip():
        raise ReviewError("the answer cannot be empty")
    review.status, review.answer = "answered", answer
    review.answered_by, review.answered_at = user.id, now_utc()
    append(session, user.name, "review.answer", customer_id=review.customer_id,
           review_id=review.id, new_value="answered", comment=answer)  # fmt: skip
    return review


def requests(session: Session, status: str | None = None) -> list[ReviewRequest]:
    """Review requests, newest first (open or answered only, when given)."""
    query = select(ReviewRequest).order_by(ReviewRequest.id.desc())
    if status is not None:
        query = query.where(ReviewRequest.status == status)
    return list(session.scalars(query))
