"""Markdown for the generated docs (data contract, feature catalog, output dictionary)."""

from __future__ import annotations

from typing import Any


def markdown_cell(value: Any) -> str:
    """A value as the text of one Markdown table cell: empty for None, `|` escaped."""
    return "" if value is None else str(value).replace("|", "\\|")
