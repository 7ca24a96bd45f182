"""Point in time as a property: rows dated after as_of never change a feature; many as_of
dates in one call equal one call per date."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from regua.features import build_from_frames
from tests.features.frames import (
    contact,
    customer,
    invoice,
    macro,
    payment,
    random_portfolio,
    tables,
)

AS_OF = date(2026, 6, 30)
END_OF_AS_OF = datetime(2026, 7, 1)

offsets = st.integers(min_value=-420, max_value=90)
amounts = st.sampled_from([0.5, 10.0, 99.99, 250.0, 1234.56])


def day(offset: int) -> date:
    return AS_OF + timedelta(days=offset)


@st.composite
def portfolios(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    """A few customers with invoices, payments, contacts and macro rows on both sides of as_of."""
    rows: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("customers", "invoices", "payments", "contacts", "macro")
    }
    for c in range(draw(st.integers(1, 4))):
        cid = f"C{c}"
        opened = draw(st.integers(-800, 60))
        rows["customers"].append(
            customer(cid, day(opened), state=draw(st.sampled_from(["SP", "BA"])))
        )
        invoices = []
        for i in range(draw(st.integers(0, 6))):
            iid = f"I{c}-{i}"
            issued = max(opened, draw(offsets))
            due = issued + draw(st.integers(0, 40))
            amount = draw(amounts)
            rows["invoices"].append(
                invoice(
                    iid,
                    cid,
                    day(issued),
                    day(due),
                    amount,
                    draw(st.sampled_from(["credit_card", "services"])),
                )
            )
            invoices.append((iid, issued, amount))
            left = amount
            for p in range(draw(st.integers(0, 3))):
                paid = issued + draw(st.integers(0, 150))
                share = draw(st.sampled_from([0.3, 0.5, 1.0, "rest", "short"]))
                value = {"rest": left, "short": left - 0.6}.get(share)
                value = round(amount * share if value is None else value, 2)
                if value <= 0:
                    continue
                method = draw(st.sampled_from(["pix", "agreement"]))
                rows["payments"].append(payment(f"P{iid}-{p}", iid, cid, day(paid), value, method))
                left = round(left - value, 2)
        for k in range(draw(st.integers(0, 4))):
            at = datetime.combine(
                day(draw(st.integers(max(opened, -400), 60))), datetime.min.time()
            )
            at += timedelta(minutes=draw(st.sampled_from([0, 1, 600, 1439])))
            outcome = draw(st.sampled_from(["delivered", "answered", "promise", "undelivered"]))
            named = [iid for iid, issued, _ in invoices if day(issued) <= at.date()]
            rows["contacts"].append(
                contact(
                    cid,
                    at,
                    outcome,
                    invoice_id=draw(st.sampled_from([None, *named])),
                    channel=["sms", "phone", "email", "whatsapp"][k],
                    promise_date=at.date() + timedelta(days=draw(st.integers(0, 10)))
                    if outcome == "promise"
                    else None,
                    promise_amount=draw(st.sampled_from([None, 5.0, 100.0]))
                    if outcome == "promise"
                    else None,
                )
            )
    for m in range(-14, 3):
        month = date(AS_OF.year + (AS_OF.month - 1 + m) // 12, (AS_OF.month - 1 + m) % 12 + 1, 1)
        for region in ("BR", "SP"):
            if draw(st.booleans()):
                rows["macro"].append(macro(month, "unemployment", draw(st.floats(1, 20)), region))
    return rows


def is_future(name: str, row: dict[str, Any]) -> bool:
    """Whether a row is dated after as_of (not yet known at as_of)."""
    if name == "customers":
        return row["opened_at"] > AS_OF
    if name == "invoices":
        return row["issued_at"] > AS_OF
    if name == "payments":
        return row["paid_at"] > AS_OF
    if name == "contacts":
        return row["at"] >= END_OF_AS_OF
    month = row["month"]
    return date(month.year + month.month // 12, month.month % 12 + 1, 1) > AS_OF


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=portfolios(), keep=st.randoms(use_true_random=False))
def test_rows_after_as_of_change_no_feature(
    rows: dict[str, list[dict[str, Any]]], keep: Any
) -> None:
    everything = build_from_frames(tables(**rows), AS_OF)
    past_only = {
        name: [r for r in table_rows if not is_future(name, r)] for name, table_rows in rows.items()
    }
    some_future = {
        name: [r for r in table_rows if not is_future(name, r) or keep.random() < 0.5]
        for name, table_rows in rows.items()
    }
    assert_frame_equal(build_from_frames(tables(**past_only), AS_OF), everything)
    assert_frame_equal(build_from_frames(tables(**some_future), AS_OF), everything)


def test_many_dates_in_one_call_equal_one_call_per_date() -> None:
    frames = random_portfolio(seed=3, customers=60, months=18)
    dates = [date(2026, 2, 1), date(2025, 11, 15), date(2026, 10, 31), date(2026, 6, 30)]
    together = build_from_frames(frames, dates)
    one_by_one = pl.concat([build_from_frames(frames, d) for d in sorted(dates)])
    assert_frame_equal(together, one_by_one)
    assert together.select("as_of", "customer_id").is_duplicated().sum() == 0


def test_lazy_and_eager_inputs_agree() -> None:
    frames = random_portfolio(seed=4, customers=30, months=12)
    lazy = {name: frame.lazy() for name, frame in frames.items()}
    assert_frame_equal(build_from_frames(lazy, AS_OF), build_from_frames(frames, AS_OF))


def test_output_is_sorted_whatever_the_input_order() -> None:
    frames = random_portfolio(seed=5, customers=40, months=6)
    shuffled = {
        name: frame.sample(fraction=1.0, shuffle=True, seed=7) for name, frame in frames.items()
    }
    dates = [date(2026, 10, 31), date(2026, 8, 31)]
    out = build_from_frames(shuffled, dates)
    assert_frame_equal(out, build_from_frames(frames, dates))
    assert_frame_equal(out, out.sort("as_of", "customer_id"))


def test_a_missing_required_column_is_named() -> None:
    frames = random_portfolio(seed=6, customers=5, months=3)
    frames["invoices"] = frames["invoices"].drop("due_at")
    with pytest.raises(ValueError, match=r"invoices lacks required column.*due_at"):
        build_from_frames(frames, AS_OF)
