"""Prefect tasks that touch files or services: retried with backoff, on I/O failures only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff
from sqlalchemy.exc import OperationalError

from regua.store import DISK_ERRORS


def retry_on_io_error(_task: object, _run: object, state: object) -> bool:
    """Retry only when the task failed on files, network or a locked database (also when a
    database error is the cause of the error the task raised).

    A bad batch, a missing champion, a full disk, a read-only folder or a bug fails the same
    way every time: retrying it would only delay the message.
    """
    try:
        state.result()  # type: ignore[attr-defined]
    except Exception as exc:
        return _transient(exc) or isinstance(exc.__cause__, OperationalError)
    return False


def _transient(error: BaseException | None) -> bool:
    if isinstance(error, OSError):  # ConnectionError and TimeoutError are OSErrors too
        return error.errno not in DISK_ERRORS
    return isinstance(error, OperationalError)


def io_task(
    name: str, *, retries: int = 2, backoff_factor: float = 2.0, **options: Any
) -> Callable:
    """A task decorator for I/O steps; not cached unless a cache key is given."""
    if "cache_key_fn" not in options:
        options.setdefault("cache_policy", NO_CACHE)
    return task(
        name=name,
        retries=retries,
        retry_delay_seconds=exponential_backoff(backoff_factor=backoff_factor),
        retry_condition_fn=retry_on_io_error,
        **options,
    )
