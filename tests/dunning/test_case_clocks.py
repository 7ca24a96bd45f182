"""The case clock: when a customer's case opened, and which payments re-anchor it."""

from __future__ import annotations

from datetime import date

from regua.features.build import open_invoice_plan
from tests.features.frames import customer, invoice, payment, tables

AS_OF = date(2026, 10, 12)
ISSUED = date(2026, 7, 1)


def clocks(invoices, payments, share: float = 0.5) -> dict[str, tuple]:
    ids = sorted({row["customer_id"] for row in invoices})
    frames = tables(
        customers=[customer(c, date(2026, 1, 1)) for c in ids],
        invoices=invoices,
        payments=payments,
    )
    plan = open_invoice_plan(frames, AS_OF, reaging_share=share).collect()
    rows = plan.select("customer_id", "case_opened_on", "clock_anchor", "reaged_on").unique()
    return {r[0]: r[1:] for r in rows.sort("customer_id").iter_rows()}


def test_the_clock_starts_at_the_oldest_unpaid_due_date():
    got = clocks(
        [
            invoice("I1", "C1", ISSUED, date(2026, 9, 10), 100.0),
            invoice("I2", "C1", ISSUED, date(2026, 10, 10), 100.0),
        ],
        [],
    )
    assert got["C1"] == (date(2026, 9, 10), date(2026, 9, 10), None)


def test_a_payment_of_half_what_is_past_due_re_anchors_the_clock_and_a_token_one_does_not():
    got = clocks(
        [
            invoice("I1", "C2", ISSUED, date(2026, 9, 10), 100.0),
            invoice("I1b", "C3", ISSUED, date(2026, 9, 10), 100.0),
        ],
        [
            payment("P1", "I1", "C2", date(2026, 9, 20), 50.0),
            payment("P2", "I1b", "C3", date(2026, 9, 20), 49.0),
        ],
    )
    assert got["C2"] == (date(2026, 9, 10), date(2026, 9, 20), date(2026, 9, 20))
    assert got["C3"] == (date(2026, 9, 10), date(2026, 9, 10), None)


def test_paying_off_the_oldest_invoice_only_re_anchors_when_it_is_that_large_a_share():
    got = clocks(
        [
            # C5: pays the oldest (100 of 200 past due): half, re-anchored
            invoice("A1", "C5", ISSUED, date(2026, 8, 10), 100.0),
            invoice("A2", "C5", ISSUED, date(2026, 9, 10), 100.0),
            # C6: pays the oldest (50 of 250 past due): a fifth, the clock keeps running
            invoice("B1", "C6", ISSUED, date(2026, 8, 10), 50.0),
            invoice("B2", "C6", ISSUED, date(2026, 9, 10), 200.0),
        ],
        [
            payment("P1", "A1", "C5", date(2026, 9, 15), 100.0),
            payment("P2", "B1", "C6", date(2026, 9, 15), 50.0),
        ],
    )
    assert got["C5"] == (date(2026, 8, 10), date(2026, 9, 15), date(2026, 9, 15))
    assert got["C6"] == (date(2026, 8, 10), date(2026, 8, 10), None)


def test_a_case_closed_by_full_payment_is_not_reopened_by_a_later_invoice():
    got = clocks(
        [
            invoice("I1", "C4", ISSUED, date(2026, 8, 10), 100.0),
            invoice("I2", "C4", ISSUED, date(2026, 9, 10), 100.0),
        ],
        [payment("P1", "I1", "C4", date(2026, 8, 20), 100.0)],
    )
    # nothing was past due from 08-21 to 09-10: the case open now started with I2
    assert got["C4"] == (date(2026, 9, 10), date(2026, 9, 10), None)


def test_an_invoice_due_on_as_of_is_in_a_case_and_one_due_tomorrow_is_not():
    got = clocks(
        [
            invoice("I1", "C7", ISSUED, AS_OF, 100.0),
            invoice("I2", "C8", ISSUED, date(2026, 10, 13), 100.0),
        ],
        [],
    )
    assert got["C7"] == (AS_OF, AS_OF, None)
    assert got["C8"] == (None, None, None)


def test_payments_after_as_of_change_nothing():
    got = clocks(
        [invoice("I1", "C9", ISSUED, date(2026, 9, 10), 100.0)],
        [payment("P1", "I1", "C9", date(2026, 10, 14), 100.0)],
    )
    assert got["C9"] == (date(2026, 9, 10), date(2026, 9, 10), None)


def test_the_share_is_a_setting():
    rows = [invoice("I1", "C2", ISSUED, date(2026, 9, 10), 100.0)]
    paid = [payment("P1", "I1", "C2", date(2026, 9, 20), 30.0)]
    assert clocks(rows, paid, share=0.3)["C2"][1] == date(2026, 9, 20)
    assert clocks(rows, paid, share=0.31)["C2"][1] == date(2026, 9, 10)
