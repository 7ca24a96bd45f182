"""Local workbench users: passwords hashed with argon2 (argon2-cffi), never stored in clear."""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from regua.decisions.audit import append
from regua.decisions.models import ROLES, User

MIN_PASSWORD = 10
_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("regua: no such user, same work")


class UserError(ValueError):
    """A user that cannot be created: name taken, bad role, short password."""


def now_utc() -> datetime:
    """The current time in UTC, without zone (as the database keeps it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def check_name(name: str) -> str:
    """A user name of 1-64 letters, digits, '.', '_' or '-'."""
    if not name or len(name) > 64 or not all(ch.isalnum() or ch in "._-" for ch in name):
        raise UserError(f"user name {name!r}: 1-64 letters, digits, '.', '_' or '-'")
    return name


def add_user(session: Session, name: str, role: str, password: str, by: str = "cli") -> User:
    """A new user with an argon2 hash of `password`, recorded in the audit log."""
    check_name(name)
    if role not in ROLES:
        raise UserError(f"role {role!r}: must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters")
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise UserError(f"user {name!r} already exists")
    user = User(name=name, role=role, password_hash=_HASHER.hash(password), created_at=now_utc())
    user.active = True
    session.add(user)
    session.flush()
    append(session, by, "user.add", new_value=f"{name}:{role}")
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The active user whose password this is, else None (same work whether the name exists)."""
    user = session.scalar(select(User).where(User.name == name, User.active.is_(True)))
    try:
        _HASHER.verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    return user
