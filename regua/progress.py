"""Progress bars for long steps on the command line (silent when stderr is not a terminal)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def stage_bar(total: int, description: str) -> Iterator[Callable[[], None]]:
    """A bar of `total` steps; yields the function that advances it by one."""
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=False,
    )
    with progress:
        bar = progress.add_task(description, total=total)
        yield lambda: progress.advance(bar)
