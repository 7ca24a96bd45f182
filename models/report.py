"""The model report: ROC, KS, calibration, lift and importance plots, and one HTML page.

Plots are PNG files (matplotlib, no display needed); the HTML page embeds them with the
tables, so it can be attached to an MLflow run and opened anywhere.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import polars as pl
from sklearn.metrics import roc_curve

from models.train import TrainingResult

FIGURES = ("roc", "ks", "calibration", "lift", "importance", "importance_by_group")


def _save(figure: plt.Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def write_figures(result: TrainingResult, folder: Path) -> dict[str, Path]:
    """Write every plot of the report as PNG into `folder`; returns name → path."""
    folder.mkdir(parents=True, exist_ok=True)
    scores = result.test_scores
    y = scores["label"].to_numpy()
    paths: dict[str, Path] = {}

    figure, axis = plt.subplots(figsize=(5, 5))
    for column, label in (("score", "LightGBM"), ("baseline_score", "scorecard")):
        fpr, tpr, _ = roc_curve(y, scores[column].to_numpy())
        axis.plot(fpr, tpr, label=label)
    axis.plot([0, 1], [0, 1], linestyle=":", color="grey")
    axis.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (out of time)")
    axis.legend()
    paths["roc"] = _save(figure, folder / "roc.png")

    figure, axis = plt.subplots(figsize=(5, 4))
    order = np.sort(scores["score"].to_numpy())
    for outcome, label in ((1, "label 1"), (0, "label 0")):
        values = np.sort(scores.filter(pl.col("label") == outcome)["score"].to_numpy())
        axis.plot(
            order, np.searchsorted(values, order, side="right") / max(len(values), 1), label=label
        )
    axis.set(xlabel="score", ylabel="cumulative share", title=f"KS = {result.evaluation.ks:.3f}")
    axis.legend()
    paths["ks"] = _save(figure, folder / "ks.png")

    figure, axis = plt.subplots(figsize=(5, 5))
    calibration = result.calibration
    axis.plot(calibration["predicted"], calibration["observed"], marker="o")
    top = float(max(calibration["predicted"].max(), calibration["observed"].max()))
    axis.plot([0, top], [0, top], linestyle=":", color="grey")
    axis.set(
        xlabel="mean predicted",
        ylabel="observed rate",
        title=f"calibration (ECE {result.evaluation.ece:.3f})",
    )
    paths["calibration"] = _save(figure, folder / "calibration.png")

    figure, axis = plt.subplots(figsize=(6, 4))
    lift = result.lift
    axis.bar(lift["decile"], lift["lift"])
    axis.set(xlabel="decile (1 = riskiest)", ylabel="lift", title="lift by decile")
    paths["lift"] = _save(figure, folder / "lift.png")

    top_features = result.importance.head(20).reverse()
    figure, axis = plt.subplots(figsize=(7, 6))
    axis.barh(top_features["feature"], top_features["mean_abs_contribution"])
    axis.set(xlabel="mean |log-odds contribution|", title="importance by feature (top 20)")
    paths["importance"] = _save(figure, folder / "importance.png")

    groups = result.group_importance.reverse()
    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.barh(groups["group"], groups["mean_abs_contribution"])
    axis.set(xlabel="mean |log-odds contribution|", title="importance by 5 C's group")
    paths["importance_by_group"] = _save(figure, folder / "importance_by_group.png")
    return paths


def _table(frame: pl.DataFrame, digits: int = 4) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.iter_rows():
        cells = "".join(
            f"<td>{value:.{digits}f}</td>"
            if isinstance(value, float)
            else f"<td>{html.escape(str(value))}</td>"
            for value in row
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def render_html(result: TrainingResult, figures: dict[str, Path], fairness: pl.DataFrame) -> str:
    """One self-contained HTML page: figures embedded, tables inline."""
    spec = result.spec
    metrics = pl.DataFrame(
        {
            "figure": list(result.evaluation.as_dict()),
            "LightGBM": list(result.evaluation.as_dict().values()),
            "scorecard": list(result.baseline_evaluation.as_dict().values()),
        }
    )
    images = "".join(
        f'<figure><img alt="{name}" src="data:image/png;base64,'
        f'{base64.b64encode(path.read_bytes()).decode()}"/></figure>'
        for name, path in figures.items()
    )
    oracle = (
        f"<p>Oracle AUC (simulator truth, point in time): {result.oracle_auc:.4f}; "
        f"gap {result.oracle_auc - result.evaluation.auc:+.4f}"
        + (
            f". With four weeks of lookahead: {result.oracle_auc_lookahead:.4f}"
            if result.oracle_auc_lookahead is not None
            else ""
        )
        + "</p>"
        if result.oracle_auc is not None
        else ""
    )
    fairness_html = (
        _table(fairness) if fairness.height else "<p>No protected attribute in the data.</p>"
    )
    violations = result.model.monotonicity_violations_
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>regua — {spec.kind} model</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;
text-align:right}}figure{{display:inline-block;margin:.5em}}img{{max-width:520px}}</style>
</head><body>
<h1>{spec.kind}: out-of-time report</h1>
<p>Train snapshots {result.train_dates[0]} … {result.train_dates[-1]} ({result.train_rows:,}
rows); out-of-time {result.test_dates[0]} … {result.test_dates[-1]} ({result.test_rows:,}
rows). Best iteration {result.model.best_iteration_}; monotonicity violations found on the
fitted model: {sum(violations.values())}.</p>
{oracle}
<h2>Figures</h2>{_table(metrics)}
{images}
<h2>Lift and capture by decile</h2>{_table(result.lift)}
<h2>Calibration</h2>{_table(result.calibration)}
<h2>Importance by 5 C's group</h2>{_table(result.group_importance)}
<h2>Fairness</h2>{fairness_html}
</body></html>
"""
