"""Segment assignment: hand-checked customers, input errors, and one segment for any input."""

from __future__ import annotations

import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from regua.config.dunning import RECURRENCE, Band, SegmentsConfig, load_segments
from regua.dunning.segments import OUTPUT, assign_segments, recurrence, segment_table

CONFIG = load_segments()

# customer, pd, propensity, open_balance, late_chronic, dpd_now, paid_late_count_365
CUSTOMERS = [
    ("gentle", 0.01, 0.90, 1_000.0, 0, 0, 0),
    ("big_risky", 0.50, 0.10, 20_000.0, 0, 3, 0),
    ("chronic", 0.10, 0.50, 800.0, 1, 12, 2),
    ("small", 0.30, 0.20, 120.0, 0, 5, 1),
    ("not_overdue", 0.02, None, 300.0, 0, 0, 0),
    ("boundaries", 0.05, 0.65, 5_000.0, 0, 0, 2),
    ("pd_one", 1.0, 0.0, None, 0, 40, 0),
    ("credit", 0.20, 0.35, -50.0, None, None, None),
]
# risk, propensity, recurrence, exposure, segment, ladder: worked out from config/segments.yaml
EXPECTED = [
    ("gentle", "low", "high", "never_late", "medium", "self_cure", "gentle"),
    ("big_risky", "high", "low", "first_time_late", "large", "high_risk_exposed", "intensive"),
    ("chronic", "medium", "medium", "chronic", "medium", "chronic_exposed", "recovery"),
    ("small", "high", "low", "first_time_late", "small", "small_balance", "digital"),
    # no propensity -> "high" (missing_propensity); low risk, never late -> self-cure first
    ("not_overdue", "low", "high", "never_late", "small", "self_cure", "gentle"),
    # lower bounds are inclusive: 0.05 is medium risk, 0.65 high propensity, R$ 5,000 large
    ("boundaries", "medium", "high", "first_time_late", "large", "standard", "standard"),
    # pd 1 is in the top band; a null balance is 0
    ("pd_one", "high", "low", "first_time_late", "small", "small_balance", "digital"),
    # a negative balance is the lowest band; null lateness is no lateness
    ("credit", "high", "medium", "never_late", "small", "small_balance", "digital"),
]
SCHEMA = {
    "customer_id": pl.String,
    "pd": pl.Float64,
    "propensity": pl.Float64,
    "open_balance": pl.Float64,
    "late_chronic": pl.Int8,
    "dpd_now": pl.Int32,
    "paid_late_count_365": pl.Int32,
}


def scored(rows: list[tuple[object, ...]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def test_hand_checked_customers_get_their_segment() -> None:
    expected = pl.DataFrame(EXPECTED, schema=list(OUTPUT), orient="row")
    assert_frame_equal(assign_segments(scored(CUSTOMERS), CONFIG), expected)


def test_a_lazy_frame_gives_the_same_answer_in_input_order() -> None:
    frame = scored(CUSTOMERS[::-1])
    out = assign_segments(frame.lazy(), CONFIG)
    assert out["customer_id"].to_list() == frame["customer_id"].to_list()
    assert_frame_equal(out, assign_segments(frame, CONFIG))


def test_recurrence_rule() -> None:
    frame = pl.DataFrame(
        {
            "late_chronic": [0, 0, 0, 1, 1, None],
            "dpd_now": [0, 4, 0, 0, 30, None],
            "paid_late_count_365": [0, 0, 2, 3, 0, None],
        }
    )
    labels = frame.select(recurrence()).to_series().to_list()
    assert labels == [
        "never_late",
        "first_time_late",
        "first_time_late",
        "chronic",
        "chronic",
        "never_late",
    ]


def test_segment_table_follows_the_rules() -> None:
    table = segment_table(CONFIG)
    assert table.height == len(list(CONFIG.combinations()))
    assert table["code"].to_list() == list(range(table.height))
    for row in table.iter_rows(named=True):
        combination = {
            "risk": row["risk_band"],
            "propensity": row["propensity_band"],
            "recurrence": row["recurrence"],
            "exposure": row["exposure_band"],
        }
        assert row["segment"] == CONFIG.segment_for(combination)
        assert row["ladder_id"] == CONFIG.segments[row["segment"]].ladder


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            ("x", None, 0.5, 10.0, 0, 0, 0),
            "pd must be a number in [0, 1]; 1 row(s) are not (first: 'x')",
        ),
        (("x", 1.2, 0.5, 10.0, 0, 0, 0), "pd must be a number in [0, 1]"),
        (("x", float("nan"), 0.5, 10.0, 0, 0, 0), "pd must be a number in [0, 1]"),
        (("x", 0.1, -0.1, 10.0, 0, 0, 0), "propensity must be null or in [0, 1]"),
        (("x", 0.1, 0.5, float("nan"), 0, 0, 0), "open_balance must not be NaN"),
        ((None, 0.1, 0.5, 10.0, 0, 0, 0), "customer_id must be present"),
        (("gentle", 0.1, 0.5, 10.0, 0, 0, 0), "customer_id must be unique"),
    ],
)
def test_inputs_that_cannot_be_segmented_are_refused(row: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        assign_segments(scored([*CUSTOMERS, row]), CONFIG)


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match=r"missing column.*dpd_now"):
        assign_segments(scored(CUSTOMERS).drop("dpd_now"), CONFIG)


def band_of(value: float, bands: tuple[Band, ...]) -> str:
    """Reference: the band whose [lower, upper) holds value (the top band is closed)."""
    value = max(value, 0.0)
    for band in bands:
        if band.upper is None or value < band.upper or band is bands[-1]:
            return band.name
    raise AssertionError(value)


def reference(row: tuple[object, ...], config: SegmentsConfig) -> tuple[str, ...]:
    """The expected output row, computed one customer at a time in plain Python."""
    customer, pd_, propensity, balance, chronic, dpd, late = row
    propensity_band = (
        config.missing_propensity
        if propensity is None
        else band_of(propensity, config.bands.propensity)  # type: ignore[arg-type]
    )
    if chronic:
        recurrence_label = RECURRENCE[2]
    elif (dpd or 0) > 0 or (late or 0) > 0:  # type: ignore[operator]
        recurrence_label = RECURRENCE[1]
    else:
        recurrence_label = RECURRENCE[0]
    combination = {
        "risk": band_of(pd_, config.bands.risk),  # type: ignore[arg-type]
        "propensity": propensity_band,
        "recurrence": recurrence_label,
        "exposure": band_of(balance or 0.0, config.bands.exposure),  # type: ignore[arg-type]
    }
    segment = config.segment_for(combination)
    return (customer, *combination.values(), segment, config.segments[segment].ladder)  # type: ignore[return-value]


unit = st.floats(0.0, 1.0, allow_nan=False)
customer = st.tuples(
    unit,
    st.none() | unit,
    st.none() | st.floats(-100.0, 1e9, allow_nan=False),
    st.none() | st.integers(0, 1),
    st.none() | st.integers(0, 400),
    st.none() | st.integers(0, 12),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(customer, min_size=1, max_size=40))
def test_any_scores_get_exactly_one_segment(rows: list[tuple[object, ...]]) -> None:
    rows = [(f"C{i}", *row) for i, row in enumerate(rows)]
    out = assign_segments(scored(rows), CONFIG)
    assert out.height == len(rows)
    assert out["customer_id"].to_list() == [r[0] for r in rows]
    assert out.null_count().sum_horizontal().item() == 0
    assert set(out["segment"]) <= set(CONFIG.segments)
    assert out.rows() == [reference(r, CONFIG) for r in rows]


def test_features_from_the_feature_engine_segment_end_to_end() -> None:
    from datetime import date

    from regua.features import build_from_frames
    from tests.features.frames import random_portfolio

    features = build_from_frames(random_portfolio(5, customers=60), date(2026, 9, 30))
    scored = features.with_columns(
        pd=(pl.col("dpd_now").clip(0, 100) / 100).cast(pl.Float64),
        propensity=pl.when(pl.col("dpd_now") > 0).then(0.5),
    )
    out = assign_segments(scored, CONFIG)
    assert out["customer_id"].to_list() == features["customer_id"].to_list()
    assert out.null_count().sum_horizontal().item() == 0
    joined = features.select("late_first_time", "late_chronic").hstack(out)
    assert (joined.filter(pl.col("late_chronic") == 1)["recurrence"] == "chronic").all()
    # both flags are 1 when three or more invoices are overdue at once: chronic wins
    first = joined.filter((pl.col("late_first_time") == 1) & (pl.col("late_chronic") == 0))
    assert first.height > 0 and (first["recurrence"] == "first_time_late").all()
    assert set(out["recurrence"]) == set(RECURRENCE)
