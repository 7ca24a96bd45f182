"""The report's domain charts (aging, roll rates, vintages...) drawn with `regua.render.charts`.

Each function takes a table from `reports.portfolio`, `reports.decisions` or
`reports.health` and returns a `Chart`: the PNG bytes with a title. A notebook shows a
Chart inline (it has `_repr_png_`), the HTML report embeds it as base64. The line, bar
and stacked-bar drawing, the palette and the PNG rendering are shared with the model
report; only the heat map and the score histogram draw on a figure of their own.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from matplotlib import colormaps
from matplotlib.colors import to_hex

from regua.render.charts import (
    PALETTE,
    Chart,
    bar_chart,
    line_chart,
    new_figure,
    render,
    stacked_bar_chart,
)
from regua.reports.portfolio import BUCKETS

BUCKET_COLOURS = ("#38a169", "#d69e2e", "#dd6b20", "#c53030", "#742a2a")
"""Green for current through dark red for 90+, one per aging bucket."""


def aging_chart(aging: pl.DataFrame) -> Chart:
    """Amount still owed per bucket (bars, R$ thousand) with the invoice count on each bar."""
    return bar_chart(
        aging["bucket"].cast(pl.String).to_list(),
        aging["amount"].to_numpy() / 1000,
        title="Aging of receivables (labels: invoices)",
        xlabel="days past due",
        ylabel="amount owed (R$ thousand)",
        size=(6.5, 3.8),
        colours=BUCKET_COLOURS,
        notes=[f"{count:,}".replace(",", ".") for count in aging["invoices"].to_list()],
    )


def roll_rate_chart(rates: pl.DataFrame) -> Chart:
    """Heat map of roll rates: from bucket (rows) to bucket (columns), in percent."""
    matrix = (
        rates.sort("from_bucket", "to_bucket")["rate"]
        .fill_null(np.nan)
        .to_numpy()
        .reshape(len(BUCKETS), len(BUCKETS))
    )
    figure = new_figure(5.5, 4.5)
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
    return render(figure, "Roll rates")


def vintage_chart(curves: pl.DataFrame) -> Chart:
    """Cumulative late rate by months on book, one line per origination cohort."""
    cohorts = curves["cohort"].unique().sort().to_list()
    series = {}
    for cohort in cohorts:
        line = curves.filter(pl.col("cohort") == cohort)
        series[f"{cohort:%Y-%m}"] = (line["months_on_book"], line["rate"] * 100)
    return line_chart(
        series,
        title="Vintage curves by origination cohort",
        xlabel="months on book",
        ylabel="% of cohort late (cumulative)",
        size=(7, 4.2),
        colours=[to_hex(c) for c in colormaps["viridis"](np.linspace(0, 0.9, len(cohorts)))],
        legend_title="cohort",
    )


def payment_mix_chart(mix: pl.DataFrame) -> Chart:
    """Share of the amount paid per month by payment method (stacked bars)."""
    months = mix["month"].unique().sort()
    methods = mix["method"].cast(pl.String).unique(maintain_order=True).to_list()
    shares = {
        method: mix.filter(pl.col("method") == method)
        .sort("month")["amount_share"]
        .fill_null(0.0)
        .to_numpy()
        * 100
        for method in methods
    }
    return stacked_bar_chart(
        [m.strftime("%Y-%m") for m in months.to_list()],
        shares,
        title="Payment methods by month",
        ylabel="% of amount paid",
    )


def score_chart(histogram: pl.DataFrame, title: str = "PD distribution") -> Chart:
    """Customers per score bin (from `score_histogram`), bars on the [0, 1] score axis."""
    figure = new_figure(6, 3.5)
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
    return render(figure, title)


def segment_chart(sizes: pl.DataFrame) -> Chart:
    """Customers per segment (bars) with each segment's mean PD written beside its bar."""
    return bar_chart(
        sizes["segment"].to_list(),
        sizes["customers"],
        title="Segments (riskiest on top)",
        xlabel="customers",
        size=(6.5, 0.5 + 0.45 * max(sizes.height, 2)),
        horizontal=True,
        notes=[
            None if pd_mean is None else f"PD {pd_mean * 100:.1f}%"
            for pd_mean in sizes["mean_pd"].to_list()
        ],
    )


def workload_chart(workload: pl.DataFrame) -> Chart:
    """Scheduled actions per day, stacked by channel (from `ladder_workload`)."""
    channels = [c for c in workload.columns if c not in ("day", "weekday", "total")]
    return stacked_bar_chart(
        [f"{d:%d/%m} {w}" for d, w in workload.select("day", "weekday").iter_rows()],
        {c: workload[c].to_numpy().astype(float) for c in channels},
        title="Ladder workload per channel, next days",
        ylabel="scheduled actions",
    )


DECISION_COLOURS = {"increase": PALETTE[1], "decrease": PALETTE[4], "keep": PALETTE[6]}


def limit_chart(by_band: pl.DataFrame) -> Chart:
    """Limit decisions per risk band (stacked bars, from `limit_changes_by_band`)."""
    decisions = [c for c in by_band.columns if c not in ("risk_band", "customers")]
    return stacked_bar_chart(
        by_band["risk_band"].to_list(),
        {decision: by_band[decision].to_numpy().astype(float) for decision in decisions},
        title="Limit recommendations by risk band",
        xlabel="risk band",
        ylabel="customers",
        size=(6.5, 3.8),
        colours=[
            DECISION_COLOURS.get(decision, PALETTE[index % len(PALETTE)])
            for index, decision in enumerate(decisions)
        ],
    )


def calibration_chart(calibration: pl.DataFrame) -> Chart:
    """Observed against predicted rate per score bin, one line per model (reliability)."""
    return line_chart(
        {
            model: (rows["predicted"], rows["observed"])
            for (model,), rows in calibration.group_by("model", maintain_order=True)
        },
        title="Calibration on matured labels",
        xlabel="mean predicted",
        ylabel="observed rate",
        size=(5, 4.5),
        marker="o",
        diagonal=True,
        limits=(0, 1),
        empty="no matured labels with both outcomes",
    )
