"""The one error a failed batch raises: it names the file, the column and the rule."""

from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """A batch-level failure: nothing was written and the store is as it was."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        column: str | None = None,
        rule: str,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.column = column
        self.rule = rule
        self.detail = message
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if column:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message} [rule: {rule}]" if prefix else f"{message} [{rule}]")
