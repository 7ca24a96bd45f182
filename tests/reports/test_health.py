"""Model health figures: matured dates, AUC/ECE on labels, PSI between two dates."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from regua.models.metrics import evaluate
from regua.reports.health import (
    compare_evaluations,
    label_summary,
    matured_as_of,
    model_health,
    psi_status,
)


@pytest.mark.parametrize(
    ("as_of", "observed", "horizon", "expected"),
    [
        (date(2026, 10, 30), date(2026, 10, 31), 180, date(2026, 4, 30)),  # 4 May -> April
        (date(2026, 10, 30), date(2026, 10, 31), 30, date(2026, 9, 30)),  # 1 Oct -> September
        (date(2026, 10, 30), date(2026, 10, 30), 30, date(2026, 9, 30)),  # exactly a month-end
        (date(2026, 3, 15), date(2026, 10, 31), 30, date(2026, 2, 28)),  # as_of comes first
    ],
)
def test_matured_as_of_is_the_latest_month_end_with_a_whole_horizon(
    as_of, observed, horizon, expected
):
    assert matured_as_of(as_of, observed, horizon) == expected


def test_model_health_on_known_scores():
    rng = np.random.default_rng(3)
    score = rng.random(400)
    label = (rng.random(400) < score).astype(np.int8)
    labelled = pl.DataFrame({"label": label, "score": score})
    same = model_health(
        "delinquency", "7", date(2026, 4, 30), labelled, pl.Series(score), pl.Series(score)
    )
    row = same.row(0, named=True)
    reference = evaluate(label, score)
    assert row["auc"] == pytest.approx(reference.auc) and row["auc"] > 0.7
    assert row["ece"] == pytest.approx(reference.ece)
    assert row["labelled"] == 400 and row["base_rate"] == pytest.approx(label.mean())
    assert row["psi"] == pytest.approx(0.0) and row["psi_status"] == "ok"
    shifted = model_health(
        "delinquency", "7", date(2026, 4, 30), labelled, pl.Series(score), pl.Series(score**4)
    )
    assert shifted["psi"][0] > 0.25 and shifted["psi_status"][0] == "breach"


def test_model_health_without_both_outcomes_has_no_auc():
    labelled = pl.DataFrame({"label": [0, 0, 0], "score": [0.1, 0.2, 0.3]})
    row = model_health(
        "propensity_to_pay",
        "1",
        date(2026, 9, 30),
        labelled,
        pl.Series([0.1]),
        pl.Series([], dtype=pl.Float64),
    ).row(0, named=True)
    assert row["auc"] is None and row["ece"] is None and row["labelled"] == 3
    assert row["psi"] is None and row["psi_status"] is None


def test_psi_status_reads_the_thresholds_of_config_drift_yaml():
    """warn_above 0.1 and breach_above 0.25 in the packaged config/drift.yaml."""
    values = (0.0, 0.1, 0.1001, 0.25, 0.2501, float("nan"), None)
    assert [psi_status(v) for v in values] == ["ok", "ok", "warn", "warn", "breach", None, None]


def test_label_summary_and_side_by_side_evaluations():
    labels = pl.DataFrame(
        {
            "customer_id": ["a", "b", "a", "b"],
            "label": [1, 0, 0, 0],
            "as_of": [date(2026, 2, 28), date(2026, 2, 28), date(2026, 1, 31), date(2026, 1, 31)],
        }
    )
    summary = label_summary(labels)
    assert summary.rows() == [(date(2026, 1, 31), 2, 0.0), (date(2026, 2, 28), 2, 0.5)]
    one = evaluate([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8])
    two = evaluate([0, 1, 0, 1], [0.9, 0.1, 0.2, 0.8])
    table = compare_evaluations({"new": one, "old": two})
    assert table.columns == ["figure", "new", "old"]
    auc = table.filter(pl.col("figure") == "auc").row(0)
    assert auc == ("auc", 1.0, 0.25)  # one pair of four in the right order
