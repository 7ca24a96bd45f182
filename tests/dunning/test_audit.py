"""The independent contact audit: each guardrail breach is found once, a clean history is clean."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.config.guardrails import load_guardrails
from regua.dunning.audit import audit_contacts, audit_summary

CONFIG = load_guardrails()
RULE_NAMES = [
    "window",
    "daily_cap",
    "weekly_cap",
    "opt_out",
    "notice_lead",
    "debt_age",
    "double_listing",
    "delisting_deadline",
    "agency_handoff_once",
]
UNTIL = date(2026, 5, 29)
CONTACT_SCHEMA = {
    "contact_id": pl.String(),
    "customer_id": pl.String(),
    "invoice_id": pl.String(),
    "at": pl.Datetime("us"),
    "channel": pl.String(),
    "step_id": pl.String(),
    "purpose": pl.String(),
    "outcome": pl.String(),
    "case_id": pl.String(),
    "action_id": pl.String(),
}

# C1 lives in SP (notice lead 20 days), C2 in RJ (10 days) and is marked do-not-contact.
# Every date below was checked on a calendar: 2026-03-05 is a Thursday, Carnival 2026 is
# 16-17 Feb, Tiradentes is Tuesday 21 Apr, SP's own holiday is 9 Jul.
CLEAN = [
    ("K1", "C1", "I1", "2026-01-07 10:00", "email", "std_email_dm3", "reminder", "delivered", None),
    ("K2", "C1", "I1", "2026-01-12 09:00", "sms", "std_sms_d0", "reminder", "read", None),
    # SP: the notice exactly 20 days before the listing is enough.
    ("K3", "C1", "I1", "2026-02-13 10:00", "letter", "std_letter_d30",
     "negative_listing_notice", "delivered", "CASE1"),
    ("K4", "C1", "I1", "2026-03-05 10:00", "bureau", "std_listing_d55", "negative_listing",
     "delivered", "CASE1"),
    ("K5", "C1", "I1", "2026-03-06 11:00", "agency", "std_agency_d90", "agency_handoff",
     "delivered", "CASE1"),
    # Paid in full on Tue 10 Mar: de-listing due by the 5th business day, Tue 17 Mar.
    ("K6", "C1", "I1", "2026-03-12 10:00", "bureau", "delisting", "delisting", "delivered",
     "CASE1"),
    # A listing notice still goes to a do-not-contact customer (legal duty).
    ("K7", "C2", "I2", "2026-02-20 10:00", "letter", "std_letter_d30",
     "negative_listing_notice", "delivered", "CASE2"),
    # RJ: exactly 10 days after the notice.
    ("K8", "C2", "I2", "2026-03-02 10:00", "bureau", "std_listing_d55", "negative_listing",
     "delivered", "CASE2"),
]  # fmt: skip


def contacts(rows: list[tuple]) -> pl.DataFrame:
    """Contacts from (id, customer, invoice, 'YYYY-MM-DD HH:MM', channel, step, purpose,
    outcome, case) tuples; the action id is the contact id with an A."""
    records = [
        dict(zip(list(CONTACT_SCHEMA)[:-1], row, strict=True))
        | {"at": datetime.fromisoformat(row[3]), "action_id": "A" + row[0]}
        for row in rows
    ]
    return pl.DataFrame(records, schema=CONTACT_SCHEMA)


def customers(**flags: dict[str, bool]) -> pl.DataFrame:
    """C1 (SP) and C2 (RJ, do-not-contact), with flags changed per customer id."""
    base = {
        "C1": {"state": "SP", "do_not_contact": False},
        "C2": {"state": "RJ", "do_not_contact": True},
    }
    names = ["do_not_contact", "opt_out_email", "opt_out_sms", "opt_out_whatsapp", "opt_out_phone"]
    return pl.DataFrame(
        [
            {"customer_id": cid, "state": row["state"]}
            | {n: flags.get(cid, {}).get(n, row.get(n, False)) for n in names}
            for cid, row in base.items()
        ]
    )


def invoices(i1_due: date = date(2026, 1, 10)) -> pl.DataFrame:
    """I1 of C1 (R$ 500) and I2 of C2 (R$ 300)."""
    return pl.DataFrame(
        {
            "invoice_id": ["I1", "I2"],
            "customer_id": ["C1", "C2"],
            "issued_at": [date(2020, 1, 1), date(2025, 12, 20)],
            "due_at": [i1_due, date(2026, 1, 5)],
            "amount": [500.0, 300.0],
        }
    )


def payments(*rows: tuple[str, float, str]) -> pl.DataFrame:
    """Payments of I1: (paid_at, amount, method); default: paid in full on 10 Mar."""
    rows = rows or (("2026-03-10", 500.0, "pix"),)
    return pl.DataFrame(
        {
            "payment_id": [f"P{i}" for i in range(len(rows))],
            "invoice_id": ["I1"] * len(rows),
            "customer_id": ["C1"] * len(rows),
            "paid_at": [date.fromisoformat(r[0]) for r in rows],
            "amount": [r[1] for r in rows],
            "method": [r[2] for r in rows],
        },
        schema_overrides={"paid_at": pl.Date()},
    )


def replace(rows: list[tuple], contact_id: str, **changes: str) -> list[tuple]:
    """`rows` with contact `contact_id` changed (at, channel, outcome) or dropped (drop=...)."""
    fields = {"at": 3, "channel": 4, "outcome": 7}
    out = []
    for row in rows:
        if row[0] != contact_id:
            out.append(row)
        elif "drop" not in changes:
            changed = list(row)
            for name, value in changes.items():
                changed[fields[name]] = value
            out.append(tuple(changed))
    return out


def audit(
    rows: list[tuple] = CLEAN,
    *,
    people: pl.DataFrame | None = None,
    bills: pl.DataFrame | None = None,
    paid: pl.DataFrame | None = None,
    until: date = UNTIL,
    config=CONFIG,
) -> pl.DataFrame:
    return audit_contacts(
        contacts(rows),
        customers() if people is None else people,
        invoices() if bills is None else bills,
        payments() if paid is None else paid,
        config,
        until,
    )


def only(rule: str | None, count: int = 1) -> dict[str, int]:
    """The summary expected when nothing but `rule` is broken, `count` times."""
    return {name: (count if name == rule else 0) for name in RULE_NAMES}


# --- a clean history --------------------------------------------------------------------------


def test_a_clean_history_breaks_no_rule():
    found = audit()
    assert found.is_empty()
    assert found.columns == [
        "rule", "customer_id", "contact_id", "action_id", "invoice_id", "at", "detail"
    ]  # fmt: skip
    assert audit_summary(found) == only(None)


def test_the_step_purposes_come_from_the_ladders_when_contacts_carry_none():
    clean = contacts(CLEAN).drop("purpose")
    found = audit_contacts(clean, customers(), invoices(), payments(), CONFIG, UNTIL)
    assert audit_summary(found) == only(None)
    unnoticed = contacts(replace(CLEAN, "K3", drop="")).drop("purpose")
    found = audit_contacts(unnoticed, customers(), invoices(), payments(), CONFIG, UNTIL)
    assert audit_summary(found) == only("notice_lead")


def test_an_explicit_purpose_map_is_used_for_steps():
    renamed = contacts(CLEAN).drop("purpose").with_columns(pl.lit("x").alias("step_id"))
    found = audit_contacts(
        renamed, customers(), invoices(), payments(), CONFIG, UNTIL, purposes={"x": "reminder"}
    )
    # Every contact reads as a reminder: no listing, so no listing rule can fire.
    assert audit_summary(found) == only("opt_out")  # the do-not-contact letter is no notice now


def test_a_repeated_notice_is_not_a_violation():
    extra = ("K9", "C1", "I1", "2026-02-10 10:00", "letter", "std_letter_d30",
             "negative_listing_notice", "delivered", "CASE1")  # fmt: skip
    assert audit_summary(audit([*CLEAN, extra])) == only(None)


def test_a_listing_again_after_a_delisting_is_not_a_double_listing():
    # An agreement payment on 10 Mar, de-listed on 12 Mar, the agreement broke: listed again.
    again = ("K9", "C1", "I1", "2026-04-15 10:00", "bureau", "std_listing_d55",
             "negative_listing", "delivered", "CASE1")  # fmt: skip
    found = audit([*CLEAN, again], paid=payments(("2026-03-10", 100.0, "agreement")))
    assert audit_summary(found) == only(None)


# --- one breach each --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "channel", "why"),
    [
        ("2026-01-14 21:00", "sms", "outside the sms window 08:00-20:00 on wed"),
        ("2026-01-14 07:59", "phone", "outside the phone window 08:00-20:00 on wed"),
        ("2026-01-17 15:00", "whatsapp", "outside the whatsapp window 08:00-14:00 on sat"),
        ("2026-01-17 10:00", "letter", "with no letter window on sat"),
        ("2026-01-18 10:00", "email", "on a Sunday"),
        ("2026-04-21 10:00", "phone", "on a holiday (Tiradentes' Day)"),
        ("2026-07-09 10:00", "phone", "on a holiday (Constitutionalist Revolution)"),
        ("2026-02-16 10:00", "whatsapp", "on a no-contact day (carnival_monday)"),
        ("2026-12-24 10:00", "email", "on a no-contact day (christmas_eve)"),
    ],
)
def test_a_contact_outside_its_window_is_a_violation(at: str, channel: str, why: str):
    extra = ("K9", "C1", "I1", at, channel, "s", "reminder", "delivered", None)
    found = audit([*CLEAN, extra])
    assert audit_summary(found) == only("window")
    assert found["contact_id"].to_list() == ["K9"]
    assert why in found["detail"][0]


def test_a_contact_at_the_edges_of_its_window_is_allowed():
    edges = [
        ("K9", "C1", "I1", "2026-01-14 08:00", "sms", "s", "reminder", "delivered", None),
        ("K10", "C1", "I1", "2026-01-16 19:59", "phone", "s", "reminder", "delivered", None),
        ("K11", "C1", "I1", "2026-01-24 13:59", "whatsapp", "s", "reminder", "delivered", None),
    ]
    assert audit_summary(audit([*CLEAN, *edges])) == only(None)


@pytest.mark.parametrize(
    ("at", "why"),
    [
        ("2026-03-07 11:00", "on a Saturday, not a business day"),
        ("2026-03-08 11:00", "on a Sunday"),
        ("2026-02-17 11:00", "on a no-contact day (carnival_tuesday)"),
    ],
)
def test_an_agency_handoff_off_a_business_day_is_a_violation(at: str, why: str):
    found = audit(replace(CLEAN, "K5", at=at))
    assert audit_summary(found) == only("window")
    assert why in found["detail"][0]


def test_a_second_counted_contact_on_a_day_breaks_the_daily_cap():
    extra = ("K9", "C1", "I1", "2026-01-12 15:00", "email", "s", "reminder", "undelivered", None)
    found = audit([*CLEAN, extra])
    assert audit_summary(found) == only("daily_cap")
    assert found["contact_id"].to_list() == ["K9"]


def test_a_fourth_contact_in_seven_days_breaks_the_weekly_cap_whatever_its_outcome():
    extra = [
        ("K9", "C1", "I1", "2026-01-08 10:00", "phone", "s", "reminder", "no_answer", None),
        ("K10", "C1", "I1", "2026-01-09 10:00", "whatsapp", "s", "reminder", "undelivered", None),
    ]
    found = audit([*CLEAN, *extra])
    # 7, 8, 9 and 12 Jan lie in the 7 days 6-12 Jan: the 12 Jan SMS is the fourth.
    assert audit_summary(found) == only("weekly_cap")
    assert found["contact_id"].to_list() == ["K2"]


def test_the_seven_days_are_the_contact_day_and_the_six_before():
    def weekly(day_gap: int) -> int:
        later = date(2026, 1, 7) + timedelta(days=day_gap)
        extra = ("K9", "C1", "I1", f"{later} 10:00", "email", "s", "reminder", "read", None)
        base = [r for r in CLEAN if r[0] not in ("K1", "K2")]
        first = ("K1", "C1", "I1", "2026-01-07 10:00", "sms", "s", "reminder", "read", None)
        strict = CONFIG.model_copy(update={"max_contacts_per_7_days": 1})
        return audit_summary(audit([*base, first, extra], config=strict))["weekly_cap"]

    assert weekly(6) == 1  # 7 and 13 Jan lie in the same 7 days
    assert weekly(7) == 0  # 7 and 14 Jan do not


def test_uncounted_channels_do_not_count_towards_the_caps():
    extra = [
        ("K9", "C1", "I1", "2026-03-06 15:00", "agency", "s", "agency_recall", "delivered", None),
        ("K10", "C1", "I1", "2026-03-05 15:00", "bureau", "delisting", "delisting", "delivered",
         None),
    ]  # fmt: skip
    assert audit_summary(audit([*CLEAN, *extra])) == only(None)


def test_a_suspension_notice_does_not_count_towards_the_caps():
    # The same day as the 12 Jan SMS: an e-mail telling of the suspension of credit (the
    # creditor's own act) is not collection pressure; an e-mail reminder would be.
    notice = ("K9", "C1", "I1", "2026-01-12 15:00", "email", "s", "suspension", "delivered", None)
    assert audit_summary(audit([*CLEAN, notice])) == only(None)
    reminder = (*notice[:6], "reminder", *notice[7:])
    assert audit_summary(audit([*CLEAN, reminder])) == only("daily_cap")


@pytest.mark.parametrize(
    ("rows", "flags"),
    [
        (CLEAN, {"C1": {"opt_out_sms": True}}),
        (
            [*CLEAN, ("K9", "C2", "I2", "2026-01-14 10:00", "whatsapp", "s", "reminder", "read",
                      None)],
            {},
        ),
        (
            [*CLEAN, ("K9", "C2", "I2", "2026-03-09 10:00", "agency", "s", "agency_handoff",
                      "delivered", None)],
            {},
        ),
    ],
    ids=["opted-out-channel", "do-not-contact", "agency-handoff-of-do-not-contact"],
)  # fmt: skip
def test_an_ordinary_contact_against_an_opt_out_is_a_violation(rows, flags):
    assert audit_summary(audit(rows, people=customers(**flags))) == only("opt_out")


def test_exempt_purposes_reach_opted_out_customers():
    recall = ("K9", "C2", "I2", "2026-03-09 10:00", "agency", "agency_recall", "agency_recall",
              "delivered", None)  # fmt: skip
    people = customers(C1={"do_not_contact": True})
    # C1's reminders (K1, K2) break the opt-out; its notice, listing, de-listing do not.
    found = audit([*CLEAN, recall], people=people)
    assert audit_summary(found) == only("opt_out", 3)
    assert sorted(found["contact_id"].to_list()) == ["K1", "K2", "K5"]


def test_a_listing_notice_obeys_opt_outs_when_the_config_says_so():
    strict = CONFIG.model_copy(update={"legal_notices_ignore_opt_outs": False})
    found = audit(config=strict)
    assert audit_summary(found) == only("opt_out")
    assert found["contact_id"].to_list() == ["K7"]


@pytest.mark.parametrize(
    ("rows", "bills"),
    [
        (replace(CLEAN, "K4", at="2026-03-04 10:00"), None),  # 19 days in SP
        (replace(CLEAN, "K8", at="2026-02-27 10:00"), None),  # 7 days in RJ
        (replace(CLEAN, "K3", outcome="undelivered"), None),
        (replace(CLEAN, "K3", outcome="wrong_number"), None),
        (replace(CLEAN, "K3", channel="email"), None),  # not a written notice by default
        (CLEAN, invoices(i1_due=date(2026, 2, 13))),  # notice on the due date, not after
    ],
    ids=["sp-19-days", "rj-7-days", "undelivered", "wrong-number", "email", "before-due"],
)
def test_a_listing_without_a_counted_notice_in_time_is_a_violation(rows, bills):
    found = audit(rows, bills=bills)
    assert audit_summary(found) == only("notice_lead")
    assert found["invoice_id"].to_list() in (["I1"], ["I2"])


def test_a_bureau_notice_counts_where_the_config_accepts_it():
    bureau_notice = replace(CLEAN, "K3", channel="bureau")
    assert audit_summary(audit(bureau_notice)) == only("notice_lead")
    lenient = CONFIG.model_copy(update={"written_notice_channels": ("letter", "bureau")})
    assert audit_summary(audit(bureau_notice, config=lenient)) == only(None)


def test_listing_a_debt_older_than_five_years_is_a_violation():
    assert audit_summary(audit(bills=invoices(i1_due=date(2021, 3, 4)))) == only("debt_age")
    assert audit_summary(audit(bills=invoices(i1_due=date(2021, 3, 5)))) == only(None)


def test_listing_an_invoice_still_listed_is_a_double_listing():
    again = ("K9", "C1", "I1", "2026-03-06 10:00", "bureau", "std_listing_d55",
             "negative_listing", "delivered", "CASE1")  # fmt: skip
    found = audit([*CLEAN, again])
    assert audit_summary(found) == only("double_listing")
    assert found["contact_id"].to_list() == ["K9"]


def test_a_delisting_after_the_fifth_business_day_is_late():
    found = audit(replace(CLEAN, "K6", at="2026-03-18 10:00"))
    assert audit_summary(found) == only("delisting_deadline")
    assert found["contact_id"].to_list() == ["K6"]
    assert audit_summary(audit(replace(CLEAN, "K6", at="2026-03-17 17:00"))) == only(None)


def test_a_missing_delisting_counts_once_its_deadline_has_passed():
    missing = replace(CLEAN, "K6", drop="")
    found = audit(missing, until=date(2026, 3, 17))
    assert audit_summary(found) == only("delisting_deadline")
    assert found["contact_id"].to_list() == ["K4"]  # the listing still standing
    assert found["at"].to_list() == [datetime(2026, 3, 17)]
    assert audit_summary(audit(missing, until=date(2026, 3, 16))) == only(None)


def test_the_delisting_deadline_skips_holidays():
    # Paid Thu 16 Apr: business days 17, 20, 22 (21 is Tiradentes), 23, 24 -> Fri 24 Apr.
    paid = payments(("2026-04-16", 500.0, "boleto"))
    assert audit_summary(audit(replace(CLEAN, "K6", at="2026-04-24 10:00"), paid=paid)) == only(
        None
    )
    late = audit(replace(CLEAN, "K6", at="2026-04-27 10:00"), paid=paid)
    assert audit_summary(late) == only("delisting_deadline")


def test_an_agreement_payment_starts_the_delisting_clock():
    agreed = payments(("2026-03-10", 100.0, "agreement"))
    assert audit_summary(audit(paid=agreed)) == only(None)
    assert audit_summary(audit(replace(CLEAN, "K6", at="2026-03-18 10:00"), paid=agreed)) == (
        only("delisting_deadline")
    )


def test_a_payment_short_of_the_amount_by_more_than_a_real_starts_no_clock():
    missing = replace(CLEAN, "K6", drop="")
    short = payments(("2026-03-09", 400.0, "pix"), ("2026-03-10", 98.99, "pix"))
    assert audit_summary(audit(missing, paid=short)) == only(None)
    enough = payments(("2026-03-09", 400.0, "pix"), ("2026-03-10", 99.0, "pix"))
    assert audit_summary(audit(missing, paid=enough)) == only("delisting_deadline")


@pytest.mark.parametrize(("case", "expected"), [("CASE1", 1), (None, 0), ("CASE9", 0)])
def test_a_case_goes_to_the_agency_only_once(case: str | None, expected: int):
    again = ("K9", "C1", "I1", "2026-03-09 10:00", "agency", "std_agency_d90", "agency_handoff",
             "delivered", case)  # fmt: skip
    assert audit_summary(audit([*CLEAN, again])) == only("agency_handoff_once", expected)


def test_handoffs_without_a_case_are_grouped_by_customer():
    rows = replace(CLEAN, "K5", drop="")
    twice = [
        ("K9", "C1", "I1", "2026-03-06 10:00", "agency", "a", "agency_handoff", "delivered", None),
        ("K10", "C1", "I1", "2026-03-09 10:00", "agency", "a", "agency_handoff", "delivered", None),
    ]
    found = audit([*rows, *twice])
    assert audit_summary(found) == only("agency_handoff_once")
    assert found["contact_id"].to_list() == ["K10"]


def test_the_summary_of_no_violation_lists_every_rule_at_zero():
    empty = audit([])
    assert empty.is_empty()
    assert audit_summary(empty) == only(None)


# --- the caps, against a plain count ----------------------------------------------------------

COUNTED = ["email", "sms", "whatsapp", "phone", "letter"]


def brute_force_caps(rows: list[tuple[str, datetime, str]], per_day: int, per_week: int):
    """Contacts over the daily and 7-day caps, counted one contact at a time."""
    by_customer: dict[str, list[datetime]] = defaultdict(list)
    for customer, at, channel in rows:
        if channel in COUNTED:
            by_customer[customer].append(at)
    over_day = over_week = 0
    for times in by_customer.values():
        times.sort()
        for k, at in enumerate(times):
            earlier = times[: k + 1]
            same_day = [t for t in earlier if t.date() == at.date()]
            last_7_days = [t for t in earlier if at.date() - t.date() <= timedelta(days=6)]
            over_day += len(same_day) > per_day
            over_week += len(last_7_days) > per_week
    return over_day, over_week


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["C1", "C2", "C3"]),
            st.integers(0, 20),
            st.integers(8 * 60, 20 * 60 - 1),
            st.sampled_from([*COUNTED, "agency"]),
        ),
        min_size=2,
        max_size=40,
    ),
    per_week=st.integers(1, 4),
)
def test_cap_violations_match_a_plain_count(rows, per_week):
    config = CONFIG.model_copy(update={"max_contacts_per_7_days": per_week})
    per_day = getattr(config, "max_contacts_per_day", 1)
    start = datetime(2026, 3, 2)
    contacts_ = [
        (customer, start + timedelta(days=day, minutes=minute), channel)
        for customer, day, minute, channel in rows
    ]
    frame = pl.DataFrame(
        {
            "contact_id": [f"K{i}" for i in range(len(contacts_))],
            "customer_id": [c for c, _, _ in contacts_],
            "invoice_id": ["I1"] * len(contacts_),
            "at": [at for _, at, _ in contacts_],
            "channel": [ch for _, _, ch in contacts_],
            "step_id": ["s"] * len(contacts_),
            "purpose": ["reminder"] * len(contacts_),
            "outcome": ["delivered"] * len(contacts_),
        },
        schema={k: v for k, v in CONTACT_SCHEMA.items() if k not in ("case_id", "action_id")},
    )
    people = pl.DataFrame({"customer_id": ["C1", "C2", "C3"], "state": ["SP", "RJ", "AM"]})
    found = audit_contacts(frame, people, invoices(), payments(), config, UNTIL, purposes={})
    summary = audit_summary(found)
    assert (summary["daily_cap"], summary["weekly_cap"]) == brute_force_caps(
        contacts_, per_day, per_week
    )
