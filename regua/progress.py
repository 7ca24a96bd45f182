"""Progress bars for long steps on the command line (silent when stderr is not a terminal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


def _progress() -> Progress:
    """Bars on stderr: description, bar, done of total, time elapsed."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=False,
    )


@contextmanager
def stage_bar(total: int, description: str) -> Iterator[Callable[[], None]]:
    """A bar of `total` steps; yields the function that advances it by one."""
    progress = _progress()
    with progress:
        bar = progress.add_task(description, total=total)
        yield lambda: progress.advance(bar)


@contextmanager
def run_bars() -> Iterator[Callable[[str, int, int], None]]:
    """One bar per named run (a policy on a seed, say), made on first report; yields
    `report(label, done, total)`."""
    progress = _progress()
    bars: dict[str, TaskID] = {}

    def report(label: str, done: int, total: int) -> None:
        if label not in bars:
            bars[label] = progress.add_task(label, total=total)
        progress.update(bars[label], completed=done)

    with progress:
        yield report
