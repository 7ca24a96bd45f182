"""Training snapshots spread over the days of a month, each customer on one day."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from regua.features.build import build_from_frames, build_spread, spread_day, spread_days
from tests.features.frames import customer, invoice, payment, tables


def test_spread_days_are_the_mid_points_of_equal_parts_and_never_the_month_end():
    assert spread_days(date(2026, 9, 30), 10) == [date(2026, 9, d) for d in range(2, 30, 3)]
    # 28 days in 10 parts of 2.8 days: mid-points 1.4, 4.2, 7.0, ... from the 1st
    assert [d.day for d in spread_days(date(2026, 2, 28), 10)] == [
        2, 5, 8, 10, 13, 16, 19, 22, 24, 27,
    ]  # fmt: skip
    assert spread_days(date(2026, 1, 31), 2) == [date(2026, 1, 8), date(2026, 1, 24)]
    assert spread_days(date(2026, 1, 31), 1) == [date(2026, 1, 31)]
    with pytest.raises(ValueError, match=r"1\.\.14"):
        spread_days(date(2026, 1, 31), 15)


def test_each_part_moves_to_the_next_day_every_month():
    days = [spread_day(date(2026, m, 30), 10, part=3).day for m in (4, 6, 9)]
    # April is month 24,315 (year * 12 + month - 1): part 3 on day (3 + 24315) % 10 = 8
    assert days == [2 + 3 * 8, 2 + 3 * 0, 2 + 3 * 3]


def portfolio() -> dict[str, pl.DataFrame]:
    """Five customers with bills due on the 10th, paid on different days of the month."""
    ids = [f"C{i}" for i in range(5)]
    d = date
    invoices, payments = [], []
    for i, cid in enumerate(ids):
        for month in (5, 6, 7):
            invoices.append(
                invoice(f"I{i}{month}", cid, d(2026, month, 1), d(2026, month, 10), 100.0)
            )
            payments.append(
                payment(f"P{i}{month}", f"I{i}{month}", cid, d(2026, month, 3 + 5 * i), 100.0)
            )
    return tables(
        customers=[customer(cid, d(2025, 1, 1)) for cid in ids],
        invoices=invoices,
        payments=payments,
    )


def test_a_spread_snapshot_is_each_customer_once_a_month_as_a_full_build_sees_it_that_day():
    frames = portfolio()
    months = [date(2026, 6, 30), date(2026, 7, 31)]
    spread = build_spread(frames, months, per_month=3)
    assert spread.group_by(pl.col("as_of").dt.month_end()).len().sort("as_of")["len"].to_list() == [
        5,
        5,
    ]
    assert spread.select(pl.col("as_of").dt.month_end(), "customer_id").is_unique().all()
    assert not spread["as_of"].is_in(months).any()
    # June 2026 (month 24,317) puts row 0 on day (0 + 24317) % 3 = 2: the 1st + 25 days
    june = spread.filter(pl.col("as_of").dt.month() == 6)
    assert june.filter(pl.col("customer_id") == "C0")["as_of"].item() == date(2026, 6, 26)
    for (customer_id, as_of), row in spread.group_by("customer_id", "as_of"):
        whole = build_from_frames(frames, as_of).filter(pl.col("customer_id") == customer_id)
        assert_frame_equal(row, whole)
