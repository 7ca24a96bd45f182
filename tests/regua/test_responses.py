"""The twin's customers: how a day's actions move who pays, stated by config/twin.yaml."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import polars as pl
import pytest

from regua.config.twin import load_twin_parameters
from regua.simulate.responses import initial_state, respond

PARAMS = load_twin_parameters()
DAY = date(2026, 11, 5)
DUE = date(2026, 10, 25)  # 11 days past due on DAY: the 1-30 bucket, past the early days
CHANNELS = ("email", "sms", "whatsapp", "phone", "letter")
NO_CONTACTS = pl.DataFrame(schema={"customer_id": pl.String, "n": pl.Int64})


def book(
    n: int, character: float = 0.0, stressed: bool = False
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """n customers, each owing one R$ 100 invoice 11 days past due; every contact reaches."""
    ids = [f"C{i:05d}" for i in range(n)]
    traits = pl.DataFrame(
        {
            "customer_id": ids,
            "character": [character] * n,
            "capacity": [0.0] * n,
            "stressed": [stressed] * n,
            **{f"reach_{c}": [1.0] * n for c in CHANNELS},
            **{f"responsiveness_{c}": [1.0] * n for c in CHANNELS},
        }
    )
    invoices = pl.DataFrame(
        {
            "invoice_id": [f"I{i:05d}" for i in range(n)],
            "customer_id": ids,
            "due_at": [DUE] * n,
            "open_amount": [100.0] * n,
        }
    )
    return traits, invoices, initial_state(pl.DataFrame({"customer_id": ids}))


def actions(ids: list[str], channel: str, purpose: str = "reminder", **extra) -> pl.DataFrame:
    n = len(ids)
    return pl.DataFrame(
        {
            "action_id": [f"A-{c}" for c in ids],
            "customer_id": ids,
            "case_id": [f"K-{c}" for c in ids],
            "invoice_id": [f"I{c[1:]}" for c in ids],
            "invoice_ids": [[f"I{c[1:]}"] for c in ids],
            "channel": [channel] * n,
            "step_id": ["step"] * n,
            "purpose": [purpose] * n,
            "tone": [extra.get("tone", "neutral")] * n,
            "discount_pct": [extra.get("discount_pct")] * n,
            "max_installments": [extra.get("max_installments")] * n,
            "offer_valid_until": [DAY + timedelta(days=10)] * n,
            "scheduled_for": [datetime.combine(DAY, datetime.min.time()).replace(hour=10)] * n,
        },
        schema_overrides={"discount_pct": pl.Float64, "max_installments": pl.Int32},
    )


def cures(day) -> pl.DataFrame:
    """The day's expected rows of the cure route (chances of paying of one's own accord)."""
    return day.expected.filter(pl.col("route") == "cure")


def test_the_same_seed_gives_the_same_day_and_another_seed_another():
    traits, invoices, state = book(500)
    todo = actions(traits["customer_id"].head(200).to_list(), "phone")
    first = respond(DAY, todo, invoices, traits, state, NO_CONTACTS, PARAMS, seed=3)
    again = respond(DAY, todo, invoices, traits, state, NO_CONTACTS, PARAMS, seed=3)
    other = respond(DAY, todo, invoices, traits, state, NO_CONTACTS, PARAMS, seed=4)
    for name in ("contacts", "payments", "events", "state", "expected"):
        assert getattr(first, name).equals(getattr(again, name)), name
    assert not first.payments.equals(other.payments)


def test_without_contact_customers_pay_at_the_stated_self_cure_rate():
    traits, invoices, state = book(40_000)
    day = respond(DAY, pl.DataFrame(), invoices, traits, state, NO_CONTACTS, PARAMS, seed=1)
    rate = PARAMS.self_cure.dpd_1_30
    assert cures(day)["hazard"].unique().to_list() == [pytest.approx(rate)]
    cured = day.payments["customer_id"].n_unique() / 40_000
    assert abs(cured - rate) < 4 * math.sqrt(rate * (1 - rate) / 40_000)


def test_a_call_answered_multiplies_the_chance_of_paying_by_the_phones_lift():
    traits, invoices, state = book(100)
    called = traits["customer_id"].head(50).to_list()
    day = respond(DAY, actions(called, "phone"), invoices, traits, state, NO_CONTACTS, PARAMS, 1)
    hazard = dict(cures(day).select("customer_id", "hazard").iter_rows())
    base = PARAMS.self_cure.dpd_1_30
    assert hazard[called[0]] == pytest.approx(base * PARAMS.channels["phone"].lift)
    assert hazard["C00099"] == pytest.approx(base)
    assert set(day.contacts["outcome"]) <= {"answered", "promise"}


def test_repetition_wears_a_contact_out():
    traits, invoices, state = book(10)
    ids = traits["customer_id"].to_list()
    recent = pl.DataFrame({"customer_id": ids[:5], "n": [2] * 5})
    day = respond(DAY, actions(ids, "sms"), invoices, traits, state, recent, PARAMS, 1)
    hazard = dict(cures(day).select("customer_id", "hazard").iter_rows())
    fresh = PARAMS.self_cure.dpd_1_30 * PARAMS.channels["sms"].lift
    assert hazard[ids[9]] == pytest.approx(fresh)
    assert hazard[ids[0]] == pytest.approx(fresh * PARAMS.fatigue.lift_factor**2)


def test_a_discount_moves_the_stressed_and_is_given_away_to_the_others():
    offer = {"discount_pct": 10.0, "max_installments": 1}
    for stressed, elasticity in ((True, PARAMS.offers.elasticity_stressed),
                                 (False, PARAMS.offers.elasticity_unstressed)):  # fmt: skip
        traits, invoices, state = book(20, stressed=stressed)
        ids = traits["customer_id"].to_list()
        todo = actions(ids, "email", "negotiation_offer", **offer)
        day = respond(DAY, todo, invoices, traits, state, NO_CONTACTS, PARAMS, 1)
        hazard = cures(day).filter(pl.col("customer_id").is_in(ids))["hazard"]
        lifted = PARAMS.self_cure.dpd_1_30 * PARAMS.channels["email"].lift
        assert hazard.to_list() == [pytest.approx(lifted * (1 + elasticity * 10))] * hazard.len()
        cash = day.payments.filter(pl.col("method") == "pix")
        # whoever pays in one go while the offer holds pays 90% and is forgiven 10%
        assert (cash["discount_brl"] == (cash["amount"] + cash["discount_brl"]) * 0.1).all()


def test_nobody_pays_more_than_is_open_and_the_agency_keeps_its_fee():
    traits, invoices, state = book(3000, character=1.5)
    ids = traits["customer_id"].to_list()
    handed = respond(DAY, actions(ids, "agency", "agency_handoff"), invoices, traits, state,
                     NO_CONTACTS, PARAMS, 1)  # fmt: skip
    later = respond(DAY + timedelta(days=1), pl.DataFrame(), invoices, traits, handed.state,
                    NO_CONTACTS, PARAMS, 1)  # fmt: skip
    paid = (
        pl.concat([handed.payments, later.payments])
        .group_by("invoice_id")
        .agg(pl.col("amount").sum() + pl.col("discount_brl").sum())
    )
    assert (paid["amount"] <= 100.0 + 1e-9).all()
    agency = later.payments.filter(pl.col("recovered_by") == "agency")
    assert agency.height > 0
    fees = later.events.filter(pl.col("kind") == "agency_fee")
    assert fees["amount"].sum() == pytest.approx(agency["amount"].sum() * PARAMS.agency.fee_share,
                                                 abs=0.01 * fees.height)  # fmt: skip
    assert handed.events.filter(pl.col("kind") == "agency_handoff").height == 3000


def test_a_kept_promise_is_paid_on_its_day_and_a_debt_is_charged_off_at_its_age():
    traits, invoices, state = book(2000, character=3.0)  # almost everyone keeps promises
    ids = traits["customer_id"].to_list()
    day = respond(DAY, actions(ids, "phone"), invoices, traits, state, NO_CONTACTS, PARAMS, 2)
    promises = day.contacts.filter(pl.col("outcome") == "promise")
    assert promises.height > 0
    assert (
        promises["promise_date"]
        .is_between(
            DAY + timedelta(days=PARAMS.promises.days_min),
            DAY + timedelta(days=PARAMS.promises.days_max),
        )
        .all()
    )
    old = invoices.with_columns(
        pl.lit(DAY - timedelta(days=PARAMS.charge_off_days)).alias("due_at")
    )
    charged = respond(DAY, pl.DataFrame(), old, traits, state, NO_CONTACTS, PARAMS, 2)
    assert charged.events.filter(pl.col("kind") == "charge_off").height == 2000
    assert charged.payments.height == 0  # a charged-off debt no longer cures on its own
