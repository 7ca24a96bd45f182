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
    # the test set is the latest `held_out` months (several days of a month are one month)
    assert test["as_of"].dt.month_end().n_unique() == held_out
    assert train["as_of"].dt.month_end().max() < test["as_of"].dt.month_end().min()
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


def test_spread_training_days_and_month_end_test_months_split_by_month():
    # training months hold customers on spread days, the test months every one at month-end
    days = [date(2026, 1, 2), date(2026, 1, 17), date(2026, 2, 5), date(2026, 2, 26),
            date(2026, 3, 3), date(2026, 3, 29), date(2026, 4, 30), date(2026, 5, 31)]  # fmt: skip
    dataset = pl.DataFrame({"customer_id": ["c"] * 8, "as_of": days, "label": [0] * 8})
    train, test = split_out_of_time(dataset, 2, 30)
    assert test["as_of"].to_list() == [date(2026, 4, 30), date(2026, 5, 31)]
    # 03-29 + 30 days = 04-28, before the first test day (04-30): kept
    assert train["as_of"].to_list() == days[:6]
    train, _ = split_out_of_time(dataset, 2, 45)
    assert train["as_of"].to_list() == days[:5]  # 03-29 + 45 days = 05-13, inside the test
