"""Ladder steps per open invoice: due, superseded, re-anchored, held, paused, ended."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from regua.dunning.schedule import delistings, invoice_status, open_invoice_status, plan_steps
from regua.features.build import open_invoice_plan
from tests.features.frames import random_portfolio

AS_OF = date(2026, 10, 12)

STEPS = pl.DataFrame(
    {
        "ladder_id": ["std"] * 5,
        "step_id": ["r_m3", "s_p1", "s_p10", "n_p30", "l_p45"],
        "step_order": [1, 2, 3, 4, 5],
        "offset_days": [-3, 1, 10, 30, 45],
        "channel": ["email", "sms", "whatsapp", "letter", "agency"],
        "template_id": ["t1", "t2", "t3", "t4", "t5"],
        "purpose": [
            "reminder",
            "reminder",
            "notice",
            "negative_listing_notice",
            "negative_listing",
        ],
        "tone": ["friendly", "friendly", "neutral", "firm", "firm"],
    }
)


def invoice(invoice_id: str, customer_id: str, due: date, amount: float = 100.0, **extra):
    return {
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "issued_at": date(2026, 9, 1),
        "due_at": due,
        "amount": amount,
        "disputed": extra.get("disputed", False),
    }


INVOICES = pl.DataFrame(
    [
        invoice("I_due", "C1", date(2026, 10, 1)),
        invoice("I_done_s10", "C2", date(2026, 10, 1)),
        invoice("I_partial", "C3", date(2026, 10, 1)),
        invoice("I_promise", "C4", date(2026, 10, 1)),
        invoice("I_dispute", "C5", date(2026, 10, 1), disputed=True),
        invoice("I_paid", "C6", date(2026, 10, 1)),
        invoice("I_listed_paid", "C7", date(2026, 8, 1)),
        invoice("I_future", "C8", date(2026, 10, 20)),
    ]
)
PAYMENTS = pl.DataFrame(
    {
        "invoice_id": ["I_partial", "I_paid", "I_listed_paid", "I_due"],
        "paid_at": [date(2026, 10, 8), date(2026, 10, 5), date(2026, 10, 9), date(2026, 10, 13)],
        "amount": [40.0, 100.0, 100.0, 100.0],  # I_due is paid after as_of: still open
        "method": ["pix", "pix", "boleto", "pix"],
    }
)
CONTACTS = pl.DataFrame(
    {
        "invoice_id": ["I_done_s10", "I_promise", "I_listed_paid", "I_due"],
        "step_id": ["s_p10", "s_p1", "l_p45", "r_m3"],
        "at": [
            datetime(2026, 10, 11, 10),
            datetime(2026, 10, 2, 9),
            datetime(2026, 9, 16, 9),
            datetime(2026, 10, 13, 9),  # after as_of: not yet executed
        ],
        "promise_date": [None, date(2026, 10, 15), None, None],
    }
)
SEGMENTS = pl.DataFrame(
    {
        "customer_id": [f"C{i}" for i in range(1, 9)],
        "segment": ["standard"] * 8,
        "ladder_id": ["std"] * 8,
    }
)


@pytest.fixture
def plan() -> dict[str, dict]:
    status = invoice_status(INVOICES.lazy(), PAYMENTS.lazy(), AS_OF)
    out = plan_steps(status, SEGMENTS.lazy(), STEPS.lazy(), CONTACTS.lazy(), AS_OF)
    return {row["invoice_id"]: row for row in out.iter_rows(named=True)}


def test_the_latest_due_step_is_proposed_and_earlier_ones_superseded(plan):
    row = plan["I_due"]
    assert (row["step_id"], row["state"], row["proposed_on"]) == ("s_p10", "due", AS_OF)
    assert row["superseded"] == ["r_m3", "s_p1"]


def test_an_executed_step_is_not_repeated_and_the_next_comes_on_its_day(plan):
    row = plan["I_done_s10"]
    assert (row["step_id"], row["state"], row["proposed_on"]) == (
        "n_p30",
        "upcoming",
        date(2026, 10, 31),
    )


def test_a_partial_payment_re_anchors_the_ladder_on_what_is_still_open(plan):
    row = plan["I_partial"]
    assert row["anchor"] == date(2026, 10, 8)
    assert row["open_amount"] == pytest.approx(60.0)
    assert (row["step_id"], row["state"]) == ("s_p1", "due")  # s_p10 waits until 18 Oct
    assert "reancorada" in row["reason"]


def test_a_promise_holds_the_ladder_until_the_promised_date(plan):
    row = plan["I_promise"]
    assert row["state"] == "held"
    assert row["proposed_on"] == date(2026, 10, 16)
    assert "prometida" in row["reason"]


def test_a_dispute_pauses_and_payment_ends_the_ladder(plan):
    assert plan["I_dispute"]["state"] == "paused"
    assert "contestada" in plan["I_dispute"]["reason"]
    assert "I_paid" not in plan and "I_listed_paid" not in plan


def test_steps_before_the_due_date_come_on_their_day(plan):
    row = plan["I_future"]
    assert (row["step_id"], row["state"], row["proposed_on"]) == (
        "r_m3",
        "upcoming",
        date(2026, 10, 17),
    )


def test_paying_a_listed_invoice_asks_for_delisting_within_five_business_days():
    status = invoice_status(INVOICES.lazy(), PAYMENTS.lazy(), AS_OF)
    out = delistings(status, CONTACTS.lazy(), STEPS.lazy(), AS_OF, holidays=[date(2026, 10, 12)])
    assert out["invoice_id"].to_list() == ["I_listed_paid"]
    row = out.row(0, named=True)
    # paid Friday 9 Oct; Monday 12 Oct is a holiday: 13, 14, 15, 16, 19 Oct
    assert row["deadline"] == date(2026, 10, 19)
    assert row["proposed_on"] == AS_OF
    cleared = pl.concat(
        [
            CONTACTS,
            pl.DataFrame(
                {
                    "invoice_id": ["I_listed_paid"],
                    "step_id": ["delisting"],
                    "at": [datetime(2026, 10, 12, 9)],
                    "promise_date": [None],
                },
                schema=CONTACTS.schema,
            ),
        ]
    )
    assert delistings(status, cleared.lazy(), STEPS.lazy(), AS_OF).height == 0


def test_an_earlier_as_of_sees_only_what_was_known_then():
    status = invoice_status(INVOICES.lazy(), PAYMENTS.lazy(), date(2026, 10, 6)).collect()
    paid = status.filter(pl.col("invoice_id") == "I_paid").row(0, named=True)
    partial = status.filter(pl.col("invoice_id") == "I_partial").row(0, named=True)
    assert paid["settled_at"] == date(2026, 10, 5)
    assert partial["open_amount"] == 100.0 and partial["last_paid_at"] is None


def _ledger_and_reference(seed: int, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Open invoices from the features' ledger and from `invoice_status`, same row order."""
    tables = random_portfolio(seed=seed, customers=25)
    tables["invoices"] = tables["invoices"].with_columns(
        (pl.col("invoice_id").hash(seed) % 7 == 0).alias("disputed")
    )
    # a payment of an unknown invoice, and one dated after as_of, are ignored by both
    tables["payments"] = pl.concat(
        [
            tables["payments"],
            tables["payments"].head(1).with_columns(pl.lit("I-unknown").alias("invoice_id")),
        ]
    )
    reference = (
        invoice_status(tables["invoices"].lazy(), tables["payments"].lazy(), as_of)
        .filter(pl.col("settled_at").is_null())
        .collect()
        .sort("invoice_id")
    )
    from_ledger = (
        open_invoice_status(open_invoice_plan(tables, as_of), as_of).collect().sort("invoice_id")
    )
    return from_ledger, reference


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), as_of=st.dates(date(2024, 6, 1), date(2026, 12, 31)))
def test_open_invoices_from_the_ledger_are_the_invoice_status_of_open_invoices(
    seed: int, as_of: date
) -> None:
    from_ledger, reference = _ledger_and_reference(seed, as_of)
    assert_frame_equal(from_ledger, reference)


def test_open_invoices_from_the_ledger_cover_partial_agreement_and_disputed_invoices() -> None:
    from_ledger, reference = _ledger_and_reference(3, date(2026, 6, 20))
    assert_frame_equal(from_ledger, reference)
    assert from_ledger.filter(pl.col("paid") > 0).height > 0  # partly paid
    assert from_ledger.filter(pl.col("paid") == 0).height > 0  # nothing paid yet
    assert from_ledger["disputed"].any()
    assert from_ledger["in_agreement"].any()
