"""Behavioural features on a tiny hand-computed portfolio (as_of 2026-06-30)."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from regua.features import build_from_frames
from tests.features.frames import contact, customer, invoice, payment, tables

AS_OF = date(2026, 6, 30)


def portfolio() -> dict[str, pl.DataFrame]:
    """C1 has five invoices (on time, late, open and overdue, not yet due, long ago late);
    C2 has no history; C3 opens after as_of."""
    d = date
    return tables(
        customers=[
            customer("C1", d(2025, 1, 1), credit_limit=1000.0),
            customer("C2", d(2026, 6, 1), state="BA"),
            customer("C3", d(2026, 7, 15)),
        ],
        invoices=[
            invoice("I1", "C1", d(2026, 5, 1), d(2026, 5, 10), 100.0),
            invoice("I2", "C1", d(2026, 5, 20), d(2026, 6, 10), 200.0),
            invoice("I3", "C1", d(2026, 6, 1), d(2026, 6, 15), 300.0),
            invoice("I4", "C1", d(2026, 6, 20), d(2026, 7, 10), 400.0),
            invoice("I5", "C1", d(2025, 12, 1), d(2025, 12, 10), 50.0),
            invoice("I6", "C1", d(2026, 7, 1), d(2026, 7, 10), 999.0),  # issued after as_of
        ],
        payments=[
            payment("P1", "I1", "C1", d(2026, 5, 8), 100.0),
            payment("P2", "I2", "C1", d(2026, 6, 15), 50.0),
            payment("P3", "I2", "C1", d(2026, 6, 25), 149.5),  # settles within the R$1 tolerance
            payment("P4", "I3", "C1", d(2026, 6, 20), 100.0),
            payment("P5", "I5", "C1", d(2026, 3, 20), 50.0),
            payment("P6", "I3", "C1", d(2026, 7, 5), 200.0),  # after as_of
        ],
        contacts=[
            contact("C1", datetime(2026, 5, 1, 9), "undelivered", "I1"),
            contact("C1", datetime(2026, 6, 16, 10), "delivered", "I3"),
            contact(
                "C1", datetime(2026, 6, 17, 11), "promise", "I3", "phone", d(2026, 6, 20), 100.0
            ),
            contact(
                "C1", datetime(2026, 6, 21, 11), "promise", "I3", "phone", d(2026, 6, 28), 200.0
            ),
            contact(
                "C1", datetime(2026, 6, 29, 11), "promise", "I3", "whatsapp", d(2026, 7, 5), 200.0
            ),
            contact("C1", datetime(2026, 6, 30, 23, 59), "answered", "I3", "phone"),
            contact("C1", datetime(2026, 7, 1, 0, 0), "delivered", "I3"),  # after as_of
        ],
    )


@pytest.fixture(scope="module")
def features() -> pl.DataFrame:
    return build_from_frames(portfolio(), AS_OF)


def expect(features: pl.DataFrame, values: dict[str, list[object]]) -> None:
    """The named columns of C1 and C2 equal `values` (in that order, typed as built)."""
    got = features.select(list(values))
    assert_frame_equal(got, pl.DataFrame(values, schema=got.schema))


def test_one_row_per_customer_opened_by_as_of(features: pl.DataFrame) -> None:
    assert features["customer_id"].to_list() == ["C1", "C2"]
    assert features["as_of"].unique().to_list() == [AS_OF]


def test_days_past_due(features: pl.DataFrame) -> None:
    # I3 is open 15 days after its due date; I5 reached 100 days late in March
    expect(
        features,
        {
            "dpd_now": [15, 0],
            "dpd_worst_30": [15, 0],
            "dpd_worst_90": [15, 0],
            "dpd_worst_180": [100, 0],
            "dpd_worst_365": [100, 0],
            "delinquency_bucket_now": [1, 0],
            "dpd_worst_lifetime": [100, 0],
            "days_since_last_delinquency": [0, None],
        },
    )


def test_bucket_transitions(features: pl.DataFrame) -> None:
    # buckets at as_of - 30k, k = 0..12: [1, 0, 0, 0, 3, 2, 1, 0, 0, 0, 0, 0, 0]
    expect(
        features,
        {
            "roll_forward_90": [1, 0],
            "roll_forward_180": [3, 0],
            "roll_forward_365": [4, 0],
            "roll_back_90": [0, 0],
            "roll_back_180": [1, 0],
            "roll_back_365": [1, 0],
        },
    )


def test_matured_invoices(features: pl.DataFrame) -> None:
    # matured in 30 days: I2 (settled 15 days late), I3 (open, 15 days late);
    # 90 and 180 days add I1 (on time); 365 days adds I5 (100 days late)
    expect(
        features,
        {
            "paid_late_count_30": [1, 0],
            "paid_late_count_365": [2, 0],
            "paid_late_share_30": [1.0, None],
            "paid_late_share_90": [0.5, None],
            "paid_late_share_365": [2 / 3, None],
            "paid_on_time_share_30": [0.0, None],
            "paid_on_time_share_90": [1 / 3, None],
            "paid_on_time_share_365": [0.25, None],
            "days_late_mean_30": [15.0, None],
            "days_late_mean_90": [10.0, None],
            "days_late_mean_365": [32.5, None],
            "days_late_max_90": [15, 0],
            "days_late_max_365": [100, 0],
        },
    )


def test_payments(features: pl.DataFrame) -> None:
    expect(
        features,
        {
            "paid_to_billed_30": [299.5 / 500, None],
            "paid_to_billed_90": [399.5 / 600, None],
            "paid_to_billed_180": [449.5 / 600, None],
            "paid_to_billed_365": [449.5 / 650, None],
            "partial_payments_30": [2, 0],
            "partial_payments_365": [2, 0],
            "days_since_last_payment": [5, None],
        },
    )


def test_balances_and_trends(features: pl.DataFrame) -> None:
    # open: I3 (300 - 100) and I4 (400, not yet due); I2 counts as settled
    expect(
        features,
        {
            "open_balance": [600.0, 0.0],
            "overdue_balance": [200.0, 0.0],
            "limit_utilisation": [0.6, 0.0],
            "days_late_mean_trend": [10.0 - 32.5, None],
            "paid_late_share_trend": [0.5 - 2 / 3, None],
            "paid_to_billed_trend": [399.5 / 600 - 449.5 / 650, None],
            "late_first_time": [0, 0],
            "late_chronic": [1, 0],
        },
    )


def test_contacts_and_promises(features: pl.DataFrame) -> None:
    # promise 1 kept on 06-20; promise 2 broken (nothing paid by 06-28); promise 3 pending
    expect(
        features,
        {
            "contacts_received_30": [5, 0],
            "contacts_received_90": [5, 0],
            "contacts_answered_30": [4, 0],
            "promises_made_90": [3, 0],
            "promises_kept_90": [1, 0],
            "promises_broken_90": [1, 0],
            "promise_kept_share_90": [0.5, None],
            "agreements_active": [0, 0],
        },
    )


def test_lifetime_track_record(features: pl.DataFrame) -> None:
    expect(
        features,
        {
            "invoices_365": [5, 0],
            "paid_late_share_lifetime": [2 / 3, None],
            "tenure_months": [17, 0],
        },
    )


def test_first_time_late_without_earlier_late_payment() -> None:
    frames = tables(
        customers=[customer("C1", date(2026, 1, 1))],
        invoices=[
            invoice("I1", "C1", date(2026, 5, 1), date(2026, 5, 10), 100.0),
            invoice("I2", "C1", date(2026, 6, 1), date(2026, 6, 10), 100.0),
        ],
        payments=[payment("P1", "I1", "C1", date(2026, 5, 10), 100.0)],
    )
    out = build_from_frames(frames, AS_OF)
    assert out.select("dpd_now", "late_first_time", "late_chronic").row(0) == (20, 1, 0)


def test_agreements_count_each_open_invoice_once() -> None:
    frames = tables(
        customers=[customer("C1", date(2026, 1, 1))],
        invoices=[
            invoice("I1", "C1", date(2026, 2, 1), date(2026, 2, 10), 300.0),
            invoice("I2", "C1", date(2026, 3, 1), date(2026, 3, 10), 100.0),
            invoice("I3", "C1", date(2026, 1, 1), date(2026, 1, 10), 100.0),
        ],
        payments=[
            payment("P1", "I1", "C1", date(2026, 5, 1), 100.0, "agreement"),
            payment("P2", "I1", "C1", date(2026, 6, 1), 100.0, "agreement"),
            payment("P3", "I1", "C1", date(2026, 6, 1), 50.0, "agreement"),
            payment("P4", "I2", "C1", date(2026, 6, 2), 100.0, "agreement"),  # settles I2
            payment("P5", "I3", "C1", date(2026, 3, 1), 50.0, "agreement"),  # before 90 days
            payment("P6", "I1", "C1", date(2026, 7, 2), 50.0, "agreement"),  # after as_of
        ],
    )
    out = build_from_frames(frames, AS_OF)
    assert out.select("agreements_active", "agreement_payments_365").row(0) == (1, 5)
    # I1: 300 - 250 paid; I3: 100 - 50 paid; partial payments: P1, P2+P3 (same day), P5
    assert out.select("open_balance", "partial_payments_365").row(0) == (100.0, 4)


def test_same_day_payments_settle_together() -> None:
    frames = tables(
        customers=[customer("C1", date(2026, 1, 1))],
        invoices=[invoice("I1", "C1", date(2026, 6, 1), date(2026, 6, 10), 100.0)],
        payments=[
            payment("P1", "I1", "C1", date(2026, 6, 12), 60.0),
            payment("P2", "I1", "C1", date(2026, 6, 12), 40.0),
        ],
    )
    out = build_from_frames(frames, AS_OF)
    assert out.select("partial_payments_30", "paid_late_count_30", "days_late_max_30").row(0) == (
        0,
        1,
        2,
    )
