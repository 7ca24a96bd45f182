"""The model report: its charts under the file names MLflow logs, and one escaped page."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import polars as pl
import pytest

from regua.models.gbm import MonotoneGBMClassifier
from regua.models.metrics import Evaluation
from regua.models.report import model_charts, render_html
from regua.models.train import TrainingResult, TrainingSpec
from regua.render.charts import save_pngs

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def model() -> MonotoneGBMClassifier:
    """A small real model: the report reads its best iteration and monotonicity check."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"days_past_due": rng.exponential(10, 600), "noise": rng.normal(size=600)})
    y = (rng.random(600) < 1 / (1 + np.exp(2 - 0.1 * X["days_past_due"]))).astype(int)
    return MonotoneGBMClassifier(
        monotone={"days_past_due": 1}, n_estimators=20, min_child_samples=20, random_state=1
    ).fit(X, y, time=np.repeat(np.arange(6), 100))


def evaluation(auc: float, lift: float) -> Evaluation:
    return Evaluation(
        n=1200,
        base_rate=0.25,
        auc=auc,
        gini=2 * auc - 1,
        ks=0.41,
        brier=0.1712,
        ece=0.0123,
        top_decile_lift=lift,
        top_decile_capture=0.3,
    )


def result(model: MonotoneGBMClassifier, oracle_auc: float | None = 0.8) -> TrainingResult:
    scores = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "as_of": [date(2026, 6, 30)] * 6,
            "label": [1, 0, 1, 0, 0, 0],
            "score": [0.9, 0.2, 0.6, 0.4, 0.1, 0.3],
            "baseline_score": [0.7, 0.3, 0.4, 0.5, 0.2, 0.2],
        }
    )
    return TrainingResult(
        spec=TrainingSpec(kind="delinquency"),
        model=model,
        baseline=None,
        train_rows=12345,
        test_rows=1200,
        train_dates=[date(2026, 1, 31), date(2026, 4, 30)],
        test_dates=[date(2026, 5, 31), date(2026, 6, 30)],
        evaluation=evaluation(0.75, 2.5),
        baseline_evaluation=evaluation(0.7, 2.0),
        lift=pl.DataFrame(
            {
                "decile": [1, 2],
                "n": [600, 600],
                "bads": [200.0, 100.0],
                "mean_score": [0.4, 0.1],
                "bad_rate": [1 / 3, 1 / 6],
                "lift": [4 / 3, 2 / 3],
                "capture": [2 / 3, 1.0],
            }
        ),
        calibration=pl.DataFrame(
            {"bin": [0, 1], "n": [600, 600], "predicted": [0.1, 0.4], "observed": [0.12, 0.38]}
        ),
        importance=pl.DataFrame(
            {
                "feature": ["days_past_due", "noise"],
                "group": ["character", "capacity"],
                "mean_abs_contribution": [0.8, 0.01],
            }
        ),
        group_importance=pl.DataFrame(
            {"group": ["character", "capacity"], "mean_abs_contribution": [0.8, 0.01]}
        ),
        test_scores=scores,
        input_example=pd.DataFrame({"days_past_due": [1.0], "noise": [0.0]}),
        data_fingerprint="abc",
        seconds=1.0,
        oracle_auc=oracle_auc,
    )


FAIRNESS = pl.DataFrame(
    {
        "attribute": ["religion", "religion"],
        "group": ["<script>alert(1)</script>", "(não informado)"],
        "customers": [2, 4],
        "mean_score": [0.55, 0.25],
        "bad_rate": [0.5, 0.25],
    }
)


def test_the_charts_are_the_files_mlflow_logs(model, tmp_path):
    charts = model_charts(result(model))
    paths = save_pngs(charts, tmp_path)
    assert sorted(p.name for p in paths.values()) == [
        "calibration.png",
        "importance.png",
        "importance_by_group.png",
        "ks.png",
        "lift.png",
        "roc.png",
    ]
    assert all(path.read_bytes().startswith(PNG) for path in paths.values())
    assert charts["ks"].title == "KS = 0.410"
    assert model_charts(result(model)) == charts


def test_the_page_has_every_section_and_embeds_every_chart(model):
    report = result(model)
    page = render_html(report, model_charts(report), FAIRNESS)
    for title in (
        "Figures",
        "Lift and capture by decile",
        "Calibration",
        "Importance by 5 C's group",
        "Fairness",
    ):
        assert f"<h2>{title}</h2>" in page
    for name in ("metrics", "lift", "calibration", "group_importance", "fairness"):
        assert f'<table data-table="{name}">' in page
    assert (
        len(re.findall(r'<img alt="[^"]+" src="data:image/png;base64,[A-Za-z0-9+/=]+"', page)) == 6
    )
    assert "<title>regua — delinquency model</title>" in page
    assert "Train snapshots 2026-01-31 … 2026-04-30 (12.345\nrows)" in page
    assert f"Best iteration {model.best_iteration_};" in page
    assert "Oracle AUC (simulator truth, point in time): 0,8000; gap\n+0,0500." in page
    assert (
        "<tr><td>LightGBM</td><td>1.200</td><td>25,0%</td><td>0,7500</td><td>0,5000</td>"
        "<td>0,4100</td><td>0,1712</td><td>0,0123</td><td>2,50</td><td>30,0%</td></tr>"
    ) in page
    assert "<tr><td>1</td><td>600</td><td>200</td><td>40,00%</td><td>33,3%</td>" in page
    assert "<tr><td>1</td><td>600</td><td>40,00%</td><td>38,00%</td></tr>" in page


def test_a_script_in_a_group_value_is_shown_as_text(model):
    page = render_html(result(model), {}, FAIRNESS)
    assert "<script" not in page
    assert "<td>religion</td><td>&lt;script&gt;alert(1)&lt;/script&gt;</td><td>2</td>" in page


def test_without_oracle_or_protected_attribute_the_page_says_so(model):
    page = render_html(result(model, oracle_auc=None), {}, FAIRNESS.clear())
    assert "Oracle AUC" not in page
    assert "<p>No protected attribute in the data.</p>" in page
    assert 'data-table="fairness"' not in page
