"""Logins, CSRF tokens and the login rate limit: small pieces the routes call.

- The session is Starlette's signed cookie (HttpOnly, SameSite=Strict, Secure unless the
  configuration allows plain http on localhost), keyed by a private secret file.
- Every form carries the session's CSRF token; a POST without the same token is refused.
- Failed logins are counted per user name and per client address within a window.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque

from starlette.requests import Request

CSRF_FIELD = "csrf_token"
CLIENT_FACTOR = 4
"""A client address may fail this many times the failures allowed per user name."""


class CsrfError(PermissionError):
    """A form posted without this session's CSRF token."""


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    """Refuse (`CsrfError`) unless `sent` is this session's token."""
    expected = request.session.get("csrf")
    if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
        raise CsrfError("missing or wrong CSRF token")


def start_session(request: Request, user_id: int) -> None:
    """A fresh session for a user who just logged in (a new CSRF token; no fixation)."""
    request.session.clear()
    request.session["user_id"] = user_id
    request.session["csrf"] = secrets.token_urlsafe(32)


class LoginLimiter:
    """At most `max_failures` failed logins per name (and CLIENT_FACTOR times as many per
    client address) within `window` seconds."""

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _keys(self, name: str, client: str) -> tuple[str, str]:
        return (f"user:{name.lower()}", f"client:{client}")

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def blocked(self, name: str, client: str) -> bool:
        """Whether this name has used up its failures in the window, or this client
        CLIENT_FACTOR times as many (an office behind one address has many analysts)."""
        now = time.monotonic()
        user, address = self._keys(name, client)
        with self._lock:
            return (
                len(self._recent(user, now)) >= self.max_failures
                or len(self._recent(address, now)) >= self.max_failures * CLIENT_FACTOR
            )

    def failed(self, name: str, client: str) -> None:
        """Count one failed login."""
        now = time.monotonic()
        with self._lock:
            for key in self._keys(name, client):
                self._recent(key, now).append(now)

    def succeeded(self, name: str) -> None:
        """A good login clears the name's failures (not the client's)."""
        with self._lock:
            self._failures.pop(self._keys(name, "")[0], None)
