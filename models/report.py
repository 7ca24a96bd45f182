"""The model report: ROC, KS, calibration, lift and importance charts, and one HTML page.

Charts come from `regua.render.charts` (PNG, no display needed) and the page from the
`model.html.j2` template of `regua.render.html`, the same stack as the portfolio report.
`models.tracking` logs the charts as PNG files and the page, which embeds them with the
tables, so it can be attached to an MLflow run and opened anywhere.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
from sklearn.metrics import roc_curve

from regua.models.train import TrainingResult
from regua.render.charts import Chart, bar_chart, line_chart
from regua.render.html import CellFormats, render_page

CELLS = CellFormats(
    shares=frozenset({"capture", "top_decile_capture"}),
    probabilities=frozenset({"predicted", "observed", "mean_score"}),
    decimals={"bads": 0, "lift": 2, "top_decile_lift": 2},
    default_decimals=4,
)
"""Rates and shares as %, mean scores and calibration as % with 2 decimals, the rest 4."""


def model_charts(result: TrainingResult) -> dict[str, Chart]:
    """Every chart of the report, keyed by the name its PNG file gets (`roc` → roc.png)."""
    scores = result.test_scores
    y = scores["label"].to_numpy()
    curves = {}
    for column, label in (("score", "LightGBM"), ("baseline_score", "scorecard")):
        fpr, tpr, _ = roc_curve(y, scores[column].to_numpy())
        curves[label] = (fpr, tpr)
    order = np.sort(scores["score"].to_numpy())
    cumulative = {}
    for outcome, label in ((1, "label 1"), (0, "label 0")):
        values = np.sort(scores.filter(pl.col("label") == outcome)["score"].to_numpy())
        cumulative[label] = (
            order,
            np.searchsorted(values, order, side="right") / max(len(values), 1),
        )
    calibration, lift = result.calibration, result.lift
    top_features = result.importance.head(20)
    groups = result.group_importance
    return {
        "roc": line_chart(
            curves,
            title="ROC (out of time)",
            xlabel="false positive rate",
            ylabel="true positive rate",
            size=(5, 5),
            diagonal=True,
            limits=(0, 1),
        ),
        "ks": line_chart(
            cumulative,
            title=f"KS = {result.evaluation.ks:.3f}",
            xlabel="score",
            ylabel="cumulative share",
            size=(5, 4),
        ),
        "calibration": line_chart(
            {"LightGBM": (calibration["predicted"], calibration["observed"])},
            title=f"calibration (ECE {result.evaluation.ece:.3f})",
            xlabel="mean predicted",
            ylabel="observed rate",
            size=(5, 5),
            marker="o",
            diagonal=True,
        ),
        "lift": bar_chart(
            lift["decile"].to_list(),
            lift["lift"],
            title="lift by decile",
            xlabel="decile (1 = riskiest)",
            ylabel="lift",
        ),
        "importance": bar_chart(
            top_features["feature"].to_list(),
            top_features["mean_abs_contribution"],
            title="importance by feature (top 20)",
            xlabel="mean |log-odds contribution|",
            size=(7, 6),
            horizontal=True,
        ),
        "importance_by_group": bar_chart(
            groups["group"].to_list(),
            groups["mean_abs_contribution"],
            title="importance by 5 C's group",
            xlabel="mean |log-odds contribution|",
            size=(5, 3.5),
            horizontal=True,
        ),
    }


def metrics_table(result: TrainingResult) -> pl.DataFrame:
    """The headline figures of the model and its scorecard baseline, one row each."""
    rows = [
        {"model": name, **dataclasses.asdict(evaluation)}
        for name, evaluation in (
            ("LightGBM", result.evaluation),
            ("scorecard", result.baseline_evaluation),
        )
    ]
    return pl.DataFrame(rows)


def render_html(result: TrainingResult, charts: dict[str, Chart], fairness: pl.DataFrame) -> str:
    """One self-contained HTML page: charts embedded as base64 PNG, tables inline."""
    oracle_gap = result.oracle_gap
    return render_page(
        "model.html.j2",
        lang="en",
        kind=result.spec.kind,
        train_dates=result.train_dates,
        test_dates=result.test_dates,
        train_rows=result.train_rows,
        test_rows=result.test_rows,
        best_iteration=result.model.best_iteration_,
        violations=sum(result.model.monotonicity_violations_.values()),
        oracle_auc=result.oracle_auc,
        oracle_gap=oracle_gap,
        oracle_rows=result.oracle_rows,
        oracle_auc_lookahead=result.oracle_auc_lookahead,
        formats=CELLS,
        metrics=metrics_table(result),
        charts=list(charts.values()),
        lift=result.lift,
        calibration=result.calibration,
        group_importance=result.group_importance,
        fairness=fairness,
    )
