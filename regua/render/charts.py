"""Charts as PNG bytes, drawn with matplotlib's object API on the Agg canvas (no pyplot).

A `Chart` is a title and PNG bytes: a notebook shows it inline (`_repr_png_`), a page
embeds it as base64 and MLflow stores it as a file. `line_chart`, `bar_chart` and
`stacked_bar_chart` draw the common shapes; a chart that needs more (a heat map, say)
draws on `new_figure()` and finishes with `render()`. Drawing on a bare `Figure` needs
no display and leaves no global state behind, and the same data gives the same bytes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

PALETTE = ("#2b6cb0", "#38a169", "#d69e2e", "#dd6b20", "#c53030", "#6b46c1", "#718096")
"""Colours in the order series take them: blue, green, yellow, orange, red, purple, grey."""
DPI = 100


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its title and PNG bytes; Jupyter displays it inline."""

    title: str
    png: bytes

    def _repr_png_(self) -> bytes:
        return self.png

    @property
    def png_base64(self) -> str:
        """The PNG as base64 text, for a data: URL that keeps the page self-contained."""
        return base64.b64encode(self.png).decode("ascii")


def new_figure(width: float = 6.5, height: float = 4.0) -> Figure:
    """An empty figure on the Agg canvas, laid out so labels and legends fit."""
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def render(figure: Figure, title: str) -> Chart:
    """The figure as PNG (no timestamp or version in the file, so same data, same bytes)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return Chart(title, buffer.getvalue())


def save_pngs(charts: Mapping[str, Chart], folder: Path) -> dict[str, Path]:
    """Write each chart as `<name>.png` into `folder`; returns name → path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, chart in charts.items():
        paths[name] = folder / f"{name}.png"
        paths[name].write_bytes(chart.png)
    return paths


def show_empty(axis: Axes, message: str = "no data") -> None:
    """Write `message` in the middle of an axis that has nothing to draw."""
    axis.text(0.5, 0.5, message, ha="center", va="center", transform=axis.transAxes)
    axis.set_axis_off()


def _colours(count: int, colours: Sequence[str] | None) -> list[str]:
    chosen = list(colours or PALETTE)
    return [chosen[index % len(chosen)] for index in range(count)]


def line_chart(
    series: Mapping[str, tuple[ArrayLike, ArrayLike]],
    *,
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    size: tuple[float, float] = (6.0, 4.0),
    colours: Sequence[str] | None = None,
    marker: str | None = None,
    diagonal: bool = False,
    limits: tuple[float, float] | None = None,
    legend_title: str | None = None,
    empty: str = "no data",
) -> Chart:
    """One line per named (x, y) series; `diagonal` adds the dotted y = x reference.

    `limits` fixes both axes to the same range (probabilities: (0, 1)); without series
    the chart says `empty` instead of drawing axes.
    """
    figure = new_figure(*size)
    axis = figure.subplots()
    if not series:
        show_empty(axis, empty)
        return render(figure, title)
    top = 0.0
    for colour, (name, (x, y)) in zip(_colours(len(series), colours), series.items(), strict=True):
        xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        axis.plot(xs, ys, marker=marker, color=colour, label=name)
        top = max(top, np.nanmax(xs, initial=0.0), np.nanmax(ys, initial=0.0))
    if diagonal:
        end = limits[1] if limits else top
        axis.plot([0, end], [0, end], linestyle=":", color="grey")
    if limits:
        axis.set(xlim=limits, ylim=limits)
    axis.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if len(series) > 1 or legend_title:
        axis.legend(fontsize=7, ncol=2 if len(series) > 8 else 1, title=legend_title)
    return render(figure, title)


def bar_chart(
    labels: Sequence[str],
    values: ArrayLike,
    *,
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    size: tuple[float, float] = (6.0, 4.0),
    horizontal: bool = False,
    colours: Sequence[str] | None = None,
    notes: Sequence[str | None] | None = None,
) -> Chart:
    """One bar per label, the first label at the top when `horizontal`.

    `notes` are short texts written at the end of each bar (a count, a mean); colours
    repeat when fewer than the bars, and default to one colour for every bar.
    """
    figure = new_figure(*size)
    axis = figure.subplots()
    labels = [str(label) for label in labels]
    heights = np.asarray(values, dtype=float)
    fill = _colours(len(labels), colours or PALETTE[:1])
    if horizontal:
        bars = axis.barh(labels[::-1], heights[::-1], color=fill[::-1])
        ordered_notes = list(notes)[::-1] if notes is not None else None
    else:
        bars = axis.bar(labels, heights, color=fill)
        ordered_notes = list(notes) if notes is not None else None
    if ordered_notes is not None:
        for bar, note in zip(bars, ordered_notes, strict=True):
            if note is None:
                continue
            if horizontal:
                end = (bar.get_width(), bar.get_y() + bar.get_height() / 2)
                axis.annotate(f" {note}", end, va="center", fontsize=8)
            else:
                end = (bar.get_x() + bar.get_width() / 2, bar.get_height())
                axis.annotate(note, end, ha="center", va="bottom", fontsize=8)
        axis.margins(**({"x": 0.25} if horizontal else {"y": 0.1}))
    if not horizontal and len(labels) > 8:
        axis.tick_params(axis="x", rotation=60, labelsize=7)
    axis.set(xlabel=xlabel, ylabel=ylabel, title=title)
    return render(figure, title)


def stacked_bar_chart(
    labels: Sequence[str],
    series: Mapping[str, ArrayLike],
    *,
    title: str,
    xlabel: str = "",
    ylabel: str = "",
    size: tuple[float, float] = (7.0, 3.8),
    colours: Sequence[str] | None = None,
) -> Chart:
    """One bar per label with the named series stacked in order, legend beside the plot."""
    figure = new_figure(*size)
    axis = figure.subplots()
    labels = [str(label) for label in labels]
    if not labels or not series:
        show_empty(axis)
        return render(figure, title)
    bottom = np.zeros(len(labels))
    for colour, (name, values) in zip(_colours(len(series), colours), series.items(), strict=True):
        heights = np.asarray(values, dtype=float)
        axis.bar(labels, heights, bottom=bottom, color=colour, label=name)
        bottom += heights
    if len(labels) > 8:
        axis.tick_params(axis="x", rotation=60, labelsize=7)
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    axis.set(xlabel=xlabel, ylabel=ylabel, title=title)
    return render(figure, title)
