"""The night's actions: one step per collection case, reminders per invoice, bureau work."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from regua.config.cases import CasesConfig
from regua.dunning.cases import history
from regua.dunning.schedule import invoice_status, open_invoice_status, plan_actions
from regua.features.build import open_invoice_plan
from tests.features.frames import customer, invoice, payment, random_portfolio, tables

AS_OF = date(2026, 10, 12)  # a Monday, and a national holiday (Nossa Senhora Aparecida)
TOMORROW = date(2026, 10, 13)
ISSUED = date(2026, 6, 1)


def _steps() -> pl.DataFrame:
    rows = [
        ("std", "r_m3", -3, "email", "reminder"),
        ("std", "r_0", 0, "sms", "reminder"),
        ("std", "s_p1", 1, "sms", "reminder"),
        ("std", "s_p10", 10, "whatsapp", "notice"),
        ("std", "o_p20", 20, "whatsapp", "negotiation_offer"),
        ("std", "n_p30", 30, "letter", "negative_listing_notice"),
        ("std", "l_p45", 45, "bureau", "negative_listing"),
        ("std", "a_p60", 60, "agency", "agency_handoff"),
        ("soft", "ss_p5", 5, "sms", "reminder"),
        ("soft", "sn_p20", 20, "letter", "negative_listing_notice"),
    ]
    frame = pl.DataFrame(
        rows, schema=["ladder_id", "step_id", "offset_days", "channel", "purpose"], orient="row"
    )
    return frame.with_columns(
        pl.int_range(pl.len()).over("ladder_id").cast(pl.Int32).alias("step_order"),
        pl.col("offset_days").cast(pl.Int32),
        ("t_" + pl.col("step_id")).alias("template_id"),
    )


STEPS = _steps()
BROKEN = pl.DataFrame({"ladder_id": ["std", "soft"], "broken_step": ["o_p20", None]})


def contact(customer_id, at, step_id, channel="sms", invoice_id=None, **extra):
    return {
        "contact_id": f"K-{customer_id}-{step_id}-{at:%m%d}",
        "customer_id": customer_id,
        "invoice_id": invoice_id,
        "at": at,
        "channel": channel,
        "step_id": step_id,
        "outcome": extra.get("outcome", "delivered"),
        "promise_date": extra.get("promise_date"),
        "promise_amount": extra.get("promise_amount"),
        "case_id": extra.get("case_id"),
        "action_id": extra.get("action_id"),
    }


INVOICES = [
    invoice("I1", "C1", ISSUED, date(2026, 9, 10), 100.0),
    invoice("I2", "C1", ISSUED, date(2026, 10, 1), 50.0),
    invoice("I20", "C2", ISSUED, date(2026, 9, 20), 100.0),
    invoice("I30", "C3", ISSUED, date(2026, 9, 25), 100.0),
    invoice("I40", "C4", ISSUED, date(2026, 10, 1), 100.0),
    invoice("I50", "C5", ISSUED, date(2026, 9, 1), 100.0),
    invoice("I55", "C55", ISSUED, date(2026, 8, 1), 300.0),
    invoice("I61", "C6", ISSUED, date(2026, 8, 20), 100.0),
    invoice("I62", "C6", ISSUED, date(2026, 8, 25), 80.0),
    invoice("I71", "C7", ISSUED, date(2026, 8, 1), 100.0),
    invoice("I8", "C8", ISSUED, date(2026, 10, 20), 70.0),
    invoice("I8b", "C8", ISSUED, TOMORROW, 70.0),
    invoice("I90", "C9", ISSUED, date(2026, 6, 20), 100.0),
    invoice("I100", "C10", ISSUED, date(2026, 9, 30), 100.0),
    invoice("I110", "C11", ISSUED, date(2026, 9, 1), 100.0),
]
PAYMENTS = [
    payment("P40", "I40", "C4", date(2026, 10, 5), 30.0),  # short of the promised 100
    payment("P55", "I55", "C55", date(2026, 9, 20), 60.0, method="agreement"),
    payment("P71", "I71", "C7", date(2026, 10, 9), 100.0),  # listed, then paid on a Friday
    payment("P90", "I90", "C9", date(2026, 10, 1), 100.0),  # handed off, then paid
]
CONTACTS = [
    contact("C2", datetime(2026, 9, 21, 9), "s_p1"),
    contact("C2", datetime(2026, 9, 30, 10), "s_p10", "whatsapp"),
    contact(
        "C3",
        datetime(2026, 10, 5, 15),
        "s_p10",
        "whatsapp",
        outcome="promise",
        promise_date=date(2026, 10, 15),
        promise_amount=100.0,
    ),
    contact(
        "C4",
        datetime(2026, 10, 2, 9),
        "s_p1",
        outcome="promise",
        promise_date=date(2026, 10, 6),
        promise_amount=100.0,
    ),
    contact("C6", datetime(2026, 9, 1, 9), "n_p30", "letter"),
    contact("C6", datetime(2026, 10, 5, 9), "l_p45", "bureau", invoice_id="I61"),
    contact(
        "C7",
        datetime(2026, 9, 16, 9),
        "l_p45",
        "bureau",
        invoice_id="I71",
        action_id="I71/l_p45/20260916",
    ),
    contact("C9", datetime(2026, 9, 1, 9), "a_p60", "agency", case_id="C9-20260620"),
    contact("C10", datetime(2026, 10, 6, 9), "ss_p5", "sms"),
    contact("C11", datetime(2026, 9, 2, 9), "s_p1", "sms"),
    contact("C11", datetime(2026, 9, 25, 9), "sn_p20", "letter"),
]
CUSTOMERS = sorted({row["customer_id"] for row in INVOICES})


def night(invoices=INVOICES, payments=PAYMENTS, contacts=CONTACTS, config=None):
    frames = tables(
        customers=[customer(c, date(2026, 1, 1)) for c in CUSTOMERS],
        invoices=invoices,
        payments=payments,
    )
    contacts_frame = pl.DataFrame(
        contacts,
        schema={
            "contact_id": pl.String,
            "customer_id": pl.String,
            "invoice_id": pl.String,
            "at": pl.Datetime("us"),
            "channel": pl.String,
            "step_id": pl.String,
            "outcome": pl.String,
            "promise_date": pl.Date,
            "promise_amount": pl.Float64,
            "case_id": pl.String,
            "action_id": pl.String,
        },
    )
    segments = pl.DataFrame(
        {"customer_id": CUSTOMERS, "segment": "standard", "ladder_id": "std"}
    ).lazy()
    status = open_invoice_status(open_invoice_plan(frames, AS_OF, reaging_share=0.5), AS_OF)
    past = history(contacts_frame.lazy(), STEPS.lazy(), AS_OF)
    return plan_actions(
        status, segments, STEPS.lazy(), past, frames["invoices"].lazy(),
        frames["payments"].lazy(), AS_OF, config or CasesConfig(), ("letter",),
        BROKEN.lazy(), [date(2026, 10, 12)],
    )  # fmt: skip


@pytest.fixture(scope="module")
def plan() -> pl.DataFrame:
    return night()


def rows(plan: pl.DataFrame, customer_id: str) -> list[dict]:
    return plan.filter(pl.col("customer_id") == customer_id).sort("invoice_id").to_dicts()


def test_a_case_proposes_its_latest_due_step_once_for_all_its_invoices(plan):
    [row] = rows(plan, "C1")
    assert (row["case_id"], row["step_id"], row["state"]) == ("C1-20260910", "n_p30", "due")
    assert row["superseded"] == ["s_p1", "s_p10", "o_p20"]
    assert row["invoice_ids"] == ["I1", "I2"] and row["invoice_amounts"] == [100.0, 50.0]
    assert (row["invoice_id"], row["total_due"], row["invoice_count"]) == ("I1", 150.0, 2)
    assert row["oldest_due_at"] == date(2026, 9, 10)


def test_the_night_schedules_from_the_next_day_with_a_stable_id_until_valid_until(plan):
    [row] = rows(plan, "C1")
    # n_p30 fell on 10 Oct; a week's attempts: 10-16 Oct, then 17-23 Oct
    assert row["proposed_on"] == TOMORROW
    assert row["action_id"] == "C1-20260910/n_p30/20261010"
    assert row["valid_until"] == date(2026, 10, 16)
    assert plan.filter(pl.col("proposed_on") <= AS_OF).height == 0


def test_a_carried_out_step_is_not_repeated_and_the_next_waits_for_its_day(plan):
    [row] = rows(plan, "C2")
    # s_p1 and s_p10 were carried out; o_p20 fell on 10 Oct
    assert (row["step_id"], row["state"], row["superseded"]) == ("o_p20", "due", [])
    upcoming = night(contacts=[*CONTACTS, contact("C2", datetime(2026, 10, 12, 9), "o_p20")])
    [row] = rows(upcoming, "C2")
    assert (row["step_id"], row["state"], row["proposed_on"]) == (
        "n_p30",
        "upcoming",
        date(2026, 10, 20),
    )
    assert row["action_id"] is not None  # the id it will have on 20 Oct


def test_a_pending_promise_holds_the_case_until_the_promised_date_and_grace(plan):
    [row] = rows(plan, "C3")
    assert (row["state"], row["promise_state"]) == ("held", "pending")
    assert row["proposed_on"] == date(2026, 10, 18)  # 15 Oct + 2 grace days + 1
    assert "15/10/2026" in row["reason"]


def test_a_broken_promise_escalates_to_the_ladders_configured_step(plan):
    [row] = rows(plan, "C4")
    assert row["promise_state"] == "broken"
    assert (row["step_id"], row["state"], row["superseded"]) == ("o_p20", "due", ["s_p10"])
    assert "não cumprida" in row["reason"]


def test_disputes_and_agreements_pause_the_case(plan):
    disputed = night(invoices=[{**r, "disputed": r["invoice_id"] == "I50"} for r in INVOICES])
    [row] = rows(disputed, "C5")
    assert (row["state"], row["invoice_count"]) == ("paused", 0)
    assert "contestadas" in row["reason"]
    [agreed] = rows(plan, "C55")
    assert agreed["state"] == "paused" and "acordo" in agreed["reason"]


def test_a_listing_goes_once_per_invoice_not_yet_listed(plan):
    listing = [r for r in rows(plan, "C6") if r["purpose"] == "negative_listing"]
    assert [(r["invoice_id"], r["step_id"], r["invoice_ids"]) for r in listing] == [
        ("I62", "l_p45", ["I62"])
    ]
    assert listing[0]["action_id"].startswith("I62/l_p45/")
    assert listing[0]["due_at"] == date(2026, 8, 25) and listing[0]["open_amount"] == 80.0


def test_paying_a_listed_invoice_asks_for_delisting_within_five_business_days(plan):
    [row] = rows(plan, "C7")
    assert (row["step_id"], row["channel"], row["purpose"]) == ("delisting", "bureau", "delisting")
    # paid Friday 9 Oct; Monday 12 Oct is a holiday: 13, 14, 15, 16, 19 Oct
    assert row["deadline"] == date(2026, 10, 19) and row["valid_until"] == date(2026, 10, 19)
    assert row["proposed_on"] == TOMORROW and row["action_id"] == "I71/delisting/20261009"
    cleared = night(
        contacts=[
            *CONTACTS,
            contact("C7", datetime(2026, 10, 12, 9), "delisting", "bureau", invoice_id="I71"),
        ]
    )
    assert rows(cleared, "C7") == []


def test_a_settlement_agreement_on_a_listed_invoice_also_asks_for_delisting():
    agreement = payment("P71", "I71", "C7", date(2026, 10, 8), 10.0, method="agreement")
    changed = night(payments=[p for p in PAYMENTS if p["payment_id"] != "P71"] + [agreement])
    by_purpose = {r["purpose"]: r for r in rows(changed, "C7")}
    # the case itself waits, paused, on the step it would take (the agency at day 60)
    assert by_purpose.keys() == {"delisting", "agency_handoff"}
    assert by_purpose["delisting"]["deadline"] == date(2026, 10, 16)
    assert "acordo" in by_purpose["delisting"]["reason"]
    assert by_purpose["agency_handoff"]["state"] == "paused"


def test_reminders_before_the_due_date_stay_per_invoice(plan):
    by_invoice = {r["invoice_id"]: r for r in rows(plan, "C8")}
    assert (by_invoice["I8b"]["step_id"], by_invoice["I8b"]["state"]) == ("r_0", "due")
    assert by_invoice["I8b"]["superseded"] == ["r_m3"]
    assert (by_invoice["I8"]["step_id"], by_invoice["I8"]["proposed_on"]) == (
        "r_m3",
        date(2026, 10, 17),
    )
    assert by_invoice["I8"]["case_id"] is None and by_invoice["I8"]["state"] == "upcoming"


def test_a_customer_handed_to_the_agency_is_recalled_once_the_case_is_paid(plan):
    [row] = rows(plan, "C9")
    assert (row["step_id"], row["channel"], row["case_id"]) == ("agency_recall", "agency",
                                                                "C9-20260620")  # fmt: skip
    assert row["action_id"] == "C9-20260620/agency_recall/20261008"  # paid 1 Oct: weeks from then
    recalled = night(
        contacts=[*CONTACTS, contact("C9", datetime(2026, 10, 5, 9), "agency_recall", "agency")]
    )
    assert rows(recalled, "C9") == []


def test_a_case_keeps_the_ladder_of_its_first_step(plan):
    [row] = rows(plan, "C10")
    assert (row["ladder_id"], row["step_id"], row["state"]) == ("soft", "sn_p20", "upcoming")


def test_a_debt_noticed_under_another_ladder_is_not_noticed_again(plan):
    [row] = rows(plan, "C11")
    # std's notice n_p30 is due by the clock, but the soft ladder's letter covered I110
    assert row["ladder_id"] == "std"
    assert (row["step_id"], row["state"]) == ("o_p20", "due")
    assert "n_p30" not in row["superseded"]


def test_every_row_is_one_case_one_invoice_or_one_bureau_action(plan):
    keys = plan.select("customer_id", "case_id", "invoice_id", "step_id")
    assert keys.is_duplicated().sum() == 0
    assert plan.filter(pl.col("state") == "due")["action_id"].is_duplicated().sum() == 0


def _ledger_and_reference(seed: int, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Open invoices from the features' ledger and from `invoice_status`, same row order."""
    frames = random_portfolio(seed=seed, customers=25)
    frames["invoices"] = frames["invoices"].with_columns(
        (pl.col("invoice_id").hash(seed) % 7 == 0).alias("disputed")
    )
    # a payment of an unknown invoice, and one dated after as_of, are ignored by both
    frames["payments"] = pl.concat(
        [
            frames["payments"],
            frames["payments"].head(1).with_columns(pl.lit("I-unknown").alias("invoice_id")),
        ]
    )
    reference = (
        invoice_status(frames["invoices"].lazy(), frames["payments"].lazy(), as_of)
        .filter(pl.col("settled_at").is_null())
        .collect()
        .sort("invoice_id")
    )
    from_ledger = (
        open_invoice_status(open_invoice_plan(frames, as_of), as_of)
        .collect()
        .sort("invoice_id")
        .select(reference.columns)
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
