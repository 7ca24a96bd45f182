"""Each chart renders a PNG from its table, also from an empty one, and the same bytes twice."""

from __future__ import annotations

import base64
from datetime import date

import polars as pl
import pytest

from regua.reports import charts
from regua.reports.portfolio import BUCKET, BUCKETS

PNG = b"\x89PNG\r\n\x1a\n"

AGING = pl.DataFrame(
    {
        "bucket": pl.Series(BUCKETS, dtype=BUCKET),
        "invoices": [2, 2, 1, 1, 1],
        "customers": [1, 2, 0, 1, 1],
        "amount": [150.0, 210.0, 300.0, 400.0, 500.0],
        "amount_share": [0.1, 0.13, 0.19, 0.26, 0.32],
    }
)
RATES = (
    pl.DataFrame({"from_bucket": pl.Series(BUCKETS, dtype=BUCKET)})
    .join(pl.DataFrame({"to_bucket": pl.Series(BUCKETS, dtype=BUCKET)}), how="cross")
    .with_columns(pl.lit(1).alias("customers"), pl.lit(0.2).alias("rate"))
)
CURVES = pl.DataFrame(
    {
        "cohort": [date(2026, 1, 1)] * 3 + [date(2026, 4, 1)] * 2,
        "months_on_book": [0, 1, 2, 0, 1],
        "customers": [10] * 5,
        "bad": [0, 1, 2, 0, 1],
        "rate": [0.0, 0.1, 0.2, 0.0, 0.1],
    }
)
MIX = pl.DataFrame(
    {
        "month": [date(2026, 9, 1)] * 2 + [date(2026, 10, 1)] * 2,
        "method": ["pix", "boleto"] * 2,
        "payments": [1, 3, 2, 0],
        "amount": [10.0, 30.0, 20.0, 0.0],
        "amount_share": [0.25, 0.75, 1.0, 0.0],
    }
)
HISTOGRAM = pl.DataFrame({"lower": [0.0, 0.5], "upper": [0.5, 1.0], "customers": [3, 1]})
SIZES = pl.DataFrame({"segment": ["a", "b"], "customers": [3, 2], "mean_pd": [0.5, None]})
WORKLOAD = pl.DataFrame(
    {
        "day": [date(2026, 10, 30), date(2026, 10, 31)],
        "weekday": ["sex", "sáb"],
        "email": [1, 0],
        "sms": [2, 1],
        "total": [3, 1],
    }
)
BY_BAND = pl.DataFrame(
    {"risk_band": ["baixo", "alto"], "decrease": [0, 2], "keep": [3, 1], "customers": [3, 3]}
)
CALIBRATION = pl.DataFrame(
    {
        "model": ["delinquency"] * 2,
        "bin": [0, 1],
        "n": [5, 5],
        "predicted": [0.1, 0.6],
        "observed": [0.12, 0.55],
    }
)

CASES = [
    (charts.aging_chart, AGING),
    (charts.roll_rate_chart, RATES),
    (charts.vintage_chart, CURVES),
    (charts.payment_mix_chart, MIX),
    (charts.score_chart, HISTOGRAM),
    (charts.segment_chart, SIZES),
    (charts.workload_chart, WORKLOAD),
    (charts.limit_chart, BY_BAND),
    (charts.calibration_chart, CALIBRATION),
]


@pytest.mark.parametrize(("draw", "table"), CASES, ids=[f.__name__ for f, _ in CASES])
def test_chart_renders_png_the_same_way_twice(draw, table):
    chart = draw(table)
    assert chart.png.startswith(PNG) and len(chart.png) > 2000
    assert chart._repr_png_() == chart.png
    assert draw(table).png == chart.png
    assert base64.b64decode(chart.png_base64) == chart.png


@pytest.mark.parametrize(
    ("draw", "table"),
    [(charts.vintage_chart, CURVES), (charts.calibration_chart, CALIBRATION)],
    ids=["vintage", "calibration"],
)
def test_chart_of_an_empty_table_still_renders(draw, table):
    empty = draw(table.clear())
    assert empty.png.startswith(PNG)
    assert empty.png != draw(table).png
