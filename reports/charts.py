"""Charts of the report's tables as PNG, drawn with matplotlib's object API (no pyplot).

Each function takes a table from `reports.portfolio`, `reports.decisions` or
`reports.health` and returns a `Chart`: the PNG bytes with a title. A notebook shows a
Chart inline (it has `_repr_png_`), the HTML report embeds it as base64. Drawing on a
bare `Figure` needs no display and leaves no global pyplot state behind.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import numpy as np
import polars as pl
from matplotlib import colormaps
from matplotlib.figure import Figure

from reports.portfolio import BUCKETS

PALETTE = ("#2b6cb0", "#38a169", "#d69e2e", "#dd6b20", "#c53030", "#6b46c1", "#718096")
BUCKET_COLOURS = ("#38a169", "#d69e2e", "#dd6b20", "#c53030", "#742a2a")
DPI = 100


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its title and PNG bytes; Jupyter displays it inline."""

    title: str
    png: bytes

    def _repr_png_(self) -> bytes:
        return self.png

    def to_html(self) -> str:
        """An <img> with the PNG inline as base64, so the page needs no other file."""
        data = base64.b64encode(self.png).decode("ascii")
        title = html.escape(self.title)
        return f'<figure><img alt="{title}" src="data:image/png;base64,{data}"/></figure>'


def _figure(width: float = 7.0, height: float = 4.0) -> Figure:
    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def _render(figure: Figure, title: str) -> Chart:
    """The figure as PNG (no timestamp or version in the file, so same data, same bytes)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return Chart(title, buffer.getvalue())


def _stacked_bars(axis, labels: list[str], series: dict[str, np.ndarray]) -> None:
    """One bar per label, the series stacked in order, with a legend beside the plot."""
    bottom = np.zeros(len(labels))
    for colour, (name, values) in zip(PALETTE, series.items(), strict=False):
        axis.bar(labels, values, bottom=bottom, color=colour, label=name)
        bottom += values
    axis.tick_params(axis="x", rotation=60, labelsize=7)
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))


def _empty(axis, message: str = "no data") -> None:
    axis.text(0.5, 0.5, message, ha="center", va="center", transform=axis.transAxes)
    axis.set_axis_off()


def aging_chart(aging: pl.DataFrame) -> Chart:
    """Amount still owed per bucket (bars, R$ thousand) with the invoice count on each bar."""
    figure = _figure(6.5, 3.8)
    axis = figure.subplots()
    amounts = aging["amount"].to_numpy() / 1000
    bars = axis.bar(aging["bucket"].cast(pl.String).to_list(), amounts, color=BUCKET_COLOURS)
    for bar, count in zip(bars, aging["invoices"].to_list(), strict=True):
        axis.annotate(
            f"{count:,}".replace(",", "."),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axis.set(
        xlabel="days past due",
        ylabel="amount owed (R$ thousand)",
        title="Aging of receivables (labels: invoices)",
    )
    return _render(figure, "Aging of receivables")


def roll_rate_chart(rates: pl.DataFrame) -> Chart:
    """Heat map of roll rates: from bucket (rows) to bucket (columns), in percent."""
    matrix = (
        rates.sort("from_bucket", "to_bucket")["rate"]
        .fill_null(np.nan)
        .to_numpy()
        .reshape(len(BUCKETS), len(BUCKETS))
    )
    figure = _figure(5.5, 4.5)
    axis = figure.subplots()
    image = axis.imshow(matrix * 100, cmap="Reds", vmin=0, vmax=100)
    for i in range(len(BUCKETS)):
        for j in range(len(BUCKETS)):
            if not np.isnan(matrix[i, j]):
                value = matrix[i, j] * 100
                axis.text(
                    j,
                    i,
                    f"{value:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if value > 60 else "black",
                )
    axis.set_xticks(range(len(BUCKETS)), BUCKETS)
    axis.set_yticks(range(len(BUCKETS)), BUCKETS)
    axis.set(xlabel="bucket a month later", ylabel="bucket at month-end", title="Roll rates")
    figure.colorbar(image, ax=axis, label="% of customers")
    return _render(figure, "Roll rates")


def vintage_chart(curves: pl.DataFrame) -> Chart:
    """Cumulative late rate by months on book, one line per origination cohort."""
    figure = _figure(7, 4.2)
    axis = figure.subplots()
    cohorts = curves["cohort"].unique().sort().to_list()
    if not cohorts:
        _empty(axis)
    colours = colormaps["viridis"](np.linspace(0, 0.9, len(cohorts)))
    for colour, cohort in zip(colours, cohorts, strict=True):
        line = curves.filter(pl.col("cohort") == cohort)
        axis.plot(line["months_on_book"], line["rate"] * 100, color=colour, label=f"{cohort:%Y-%m}")
    if cohorts:
        axis.set(
            xlabel="months on book",
            ylabel="% of cohort late (cumulative)",
            title="Vintage curves by origination cohort",
        )
        axis.legend(fontsize=7, ncol=2 if len(cohorts) > 8 else 1, title="cohort")
    return _render(figure, "Vintage curves")


def payment_mix_chart(mix: pl.DataFrame) -> Chart:
    """Share of the amount paid per month by payment method (stacked bars)."""
    figure = _figure(7, 3.8)
    axis = figure.subplots()
    months = mix["month"].unique().sort()
    labels = [m.strftime("%Y-%m") for m in months.to_list()]
    methods = mix["method"].cast(pl.String).unique(maintain_order=True).to_list()
    shares = {
        method: mix.filter(pl.col("method") == method)
        .sort("month")["amount_share"]
        .fill_null(0.0)
        .to_numpy()
        * 100
        for method in methods
    }
    _stacked_bars(axis, labels, shares)
    axis.set(ylabel="% of amount paid", title="Payment methods by month")
    return _render(figure, "Payment methods")


def score_chart(histogram: pl.DataFrame, title: str = "PD distribution") -> Chart:
    """Customers per score bin (from `score_histogram`)."""
    figure = _figure(6, 3.5)
    axis = figure.subplots()
    width = float((histogram["upper"] - histogram["lower"]).max() or 0.05)
    axis.bar(
        histogram["lower"],
        histogram["customers"],
        width=width,
        align="edge",
        color=PALETTE[0],
        edgecolor="white",
    )
    axis.set(xlabel="score", ylabel="customers", title=title, xlim=(0, 1))
    return _render(figure, title)


def segment_chart(sizes: pl.DataFrame) -> Chart:
    """Customers per segment (bars) with each segment's mean PD written beside its bar."""
    figure = _figure(6.5, 0.5 + 0.45 * max(sizes.height, 2))
    axis = figure.subplots()
    ordered = sizes.reverse()
    bars = axis.barh(ordered["segment"], ordered["customers"], color=PALETTE[0])
    for bar, pd_mean in zip(bars, ordered["mean_pd"].to_list(), strict=True):
        if pd_mean is not None:
            axis.annotate(
                f" PD {pd_mean * 100:.1f}%",
                (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                va="center",
                fontsize=8,
            )
    axis.set(xlabel="customers", title="Segments (riskiest on top)")
    axis.margins(x=0.25)
    return _render(figure, "Segments")


def workload_chart(workload: pl.DataFrame) -> Chart:
    """Scheduled actions per day, stacked by channel (from `ladder_workload`)."""
    figure = _figure(7, 3.8)
    axis = figure.subplots()
    channels = [c for c in workload.columns if c not in ("day", "weekday", "total")]
    labels = [f"{d:%d/%m} {w}" for d, w in workload.select("day", "weekday").iter_rows()]
    _stacked_bars(axis, labels, {c: workload[c].to_numpy().astype(float) for c in channels})
    axis.set(ylabel="scheduled actions", title="Ladder workload per channel, next days")
    return _render(figure, "Ladder workload")


def limit_chart(by_band: pl.DataFrame) -> Chart:
    """Limit decisions per risk band (stacked bars, from `limit_changes_by_band`)."""
    figure = _figure(6.5, 3.8)
    axis = figure.subplots()
    decisions = [c for c in by_band.columns if c not in ("risk_band", "customers")]
    colours = {"increase": PALETTE[1], "decrease": PALETTE[4], "keep": PALETTE[6]}
    bottom = np.zeros(by_band.height)
    for index, decision in enumerate(decisions):
        counts = by_band[decision].to_numpy().astype(float)
        axis.bar(
            by_band["risk_band"],
            counts,
            bottom=bottom,
            label=decision,
            color=colours.get(decision, PALETTE[index % len(PALETTE)]),
        )
        bottom += counts
    axis.set(xlabel="risk band", ylabel="customers", title="Limit recommendations by risk band")
    axis.legend(fontsize=8)
    return _render(figure, "Limit recommendations")


def calibration_chart(calibration: pl.DataFrame) -> Chart:
    """Observed against predicted rate per score bin, one line per model (reliability)."""
    figure = _figure(5, 4.5)
    axis = figure.subplots()
    models = calibration["model"].unique(maintain_order=True).to_list()
    if not models:
        _empty(axis, "no matured labels with both outcomes")
    for colour, model in zip(PALETTE, models, strict=False):
        rows = calibration.filter(pl.col("model") == model)
        axis.plot(rows["predicted"], rows["observed"], marker="o", color=colour, label=model)
    if models:
        axis.plot([0, 1], [0, 1], linestyle=":", color="grey")
        axis.set(
            xlabel="mean predicted",
            ylabel="observed rate",
            xlim=(0, 1),
            ylim=(0, 1),
            title="Calibration on matured labels",
        )
        axis.legend(fontsize=8)
    return _render(figure, "Calibration")
