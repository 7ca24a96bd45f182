"""HTML pages from Jinja2 templates with autoescaping on, and the numbers in them.

Templates are package data (`regua/render/templates/*.html.j2`): `base.html.j2` is the
one layout with the shared CSS, `macros.html.j2` has the `table` and `figure` macros,
and each report extends the layout. Every value reaching a page is escaped unless it is
`Markup` written by us. Numbers follow Brazilian conventions (R$ 1.234,56; 12,3%), as
the analysts and managers read them; only aggregates reach a page.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined

MISSING = "—"
"""How a null or NaN cell reads."""


def format_number(value: float, decimals: int, *, signed: bool = False) -> str:
    """A number in Brazilian notation: 1.234.567,89 (with `signed`, +0,0123 / -0,0123)."""
    text = f"{value:{'+' if signed else ''},.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_money(value: float) -> str:
    """An amount in reais: R$ 1.234,56."""
    return f"R$ {format_number(float(value), 2)}"


def format_percent(share: float, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.1234 → 12,3%."""
    return f"{format_number(float(share) * 100, decimals)}%"


@dataclass(frozen=True)
class CellFormats:
    """How a page shows a table cell, decided by its column name.

    Money columns read R$ 1.234,56; a column ending in `_pct` already holds percent
    points (12,3%); shares (any column ending in `share` or `rate`, the `shares` and those
    starting with a `share_prefixes` entry) read 12,3%, probabilities 1,23%. Integers get
    thousands separators, other numbers `decimals` (by column) or `default_decimals`.
    """

    money: frozenset[str] = frozenset()
    shares: frozenset[str] = frozenset()
    share_prefixes: tuple[str, ...] = ()
    probabilities: frozenset[str] = frozenset()
    decimals: Mapping[str, int] = field(default_factory=dict)
    default_decimals: int = 3

    def cell(self, column: str, value: object) -> str:
        """One cell as text; dates as ISO, text as it is (escaped later by the template)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return MISSING
        if isinstance(value, bool) or not isinstance(value, int | float):
            return value.isoformat() if isinstance(value, date) else str(value)
        if column in self.money:
            return format_money(value)
        if column.endswith("_pct"):
            return f"{format_number(float(value), 1)}%"
        if column in self.probabilities:
            return format_percent(value, 2)
        if (
            column.endswith(("share", "rate"))
            or column in self.shares
            or (self.share_prefixes and column.startswith(self.share_prefixes))
        ):
            return format_percent(value, 1)
        if isinstance(value, int):
            return format_number(value, 0)
        return format_number(value, self.decimals.get(column, self.default_decimals))

    def rows(self, frame: pl.DataFrame) -> Iterator[list[str]]:
        """The frame's rows as formatted text, column by column."""
        columns = frame.columns
        for row in frame.iter_rows():
            yield [self.cell(column, value) for column, value in zip(columns, row, strict=True)]


ENVIRONMENT = Environment(
    loader=PackageLoader("regua.render", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
"""The one Jinja2 environment: autoescape on, unknown names are errors, not blanks."""
ENVIRONMENT.filters.update(number=format_number, money=format_money, percent=format_percent)


def render_page(template: str, **context: Any) -> str:
    """Render a page template of `regua/render/templates` with `context` (escaped)."""
    return ENVIRONMENT.get_template(template).render(**context)
