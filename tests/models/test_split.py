"""The out-of-time split, as a property: disjoint, and label windows closed before the test."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.models.train import month_end_on_or_before, month_ends, split_out_of_time


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(0, 720), min_size=3, max_size=20, unique=True),
    held_out=st.integers(1, 2),
    horizon=st.sampled_from([0, 30, 90, 180]),
)
def test_split_is_disjoint_and_respects_the_label_horizon(offsets, held_out, horizon):
    dates = [date(2024, 1, 1) + timedelta(days=o) for o in offsets]
    dataset = pl.DataFrame(
        {"customer_id": ["c"] * len(dates), "as_of": dates, "label": [0] * len(dates)}
    )
    try:
        train, test = split_out_of_time(dataset, held_out, horizon)
    except ValueError:
        return  # too few snapshots before the test period: refused, not silently leaky
    assert set(train["as_of"].to_list()).isdisjoint(test["as_of"].to_list())
    assert test["as_of"].n_unique() == held_out
    assert train["as_of"].max() + timedelta(days=horizon) <= test["as_of"].min()


def test_month_ends_walk_back_across_february_and_years():
    assert month_ends(date(2026, 3, 15), 3) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


def test_the_month_end_on_or_before_a_day_is_itself_or_the_previous_months():
    assert month_end_on_or_before(date(2026, 3, 31)) == date(2026, 3, 31)
    assert month_end_on_or_before(date(2026, 3, 30)) == date(2026, 2, 28)
    assert month_end_on_or_before(date(2024, 3, 1)) == date(2024, 2, 29)
    assert month_end_on_or_before(date(2026, 1, 15)) == date(2025, 12, 31)


def test_too_few_snapshots_are_refused():
    dataset = pl.DataFrame({"customer_id": ["c"], "as_of": [date(2026, 1, 31)], "label": [0]})
    with pytest.raises(ValueError, match="need more than"):
        split_out_of_time(dataset, 1, 0)
