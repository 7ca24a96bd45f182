"""Guardrails for collection cases: daily cap, no-contact days, bureau, per-customer notices,
debt age and the evidence columns."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.config.guardrails import ConfigError, load_guardrails
from regua.dunning.calendar import holiday_table
from regua.dunning.guardrails import (
    EVIDENCE,
    REASONS_PT,
    apply_contact_preferences,
    apply_guardrails,
    cap_contact_frequency,
    enforce_bureau_days,
    enforce_listing_notice,
    enforce_suspension_days,
    next_allowed_slot,
)

CONFIG = load_guardrails()
NAMES = ["action_id", "customer_id", "invoice_id", "step_id", "channel", "purpose", "uf"]
HISTORY = ["contact_id", "customer_id", "invoice_id", "channel", "purpose", "at", "outcome"]


NOTICE, LISTING = "negative_listing_notice", "negative_listing"


def act(
    aid: str,
    cid: str,
    channel: str | None,
    purpose: str,
    uf: str,
    at: datetime,
    due: date | None = None,
    invoice: str | None = None,
) -> tuple:
    """One action row; the invoice defaults to one of its own, the step is the action id."""
    return (aid, cid, invoice or f"I-{aid}", aid, channel, purpose, uf, at, due)


def sent(
    kid: str, cid: str, at: datetime, outcome: str = "delivered", channel: str = "letter"
) -> tuple:
    """One past listing notice of customer `cid` (invoice I0)."""
    return (kid, cid, "I0", channel, NOTICE, at, outcome)


def actions(*rows: tuple, due: bool = True) -> pl.DataFrame:
    """(action_id, customer, invoice, step, channel, purpose, uf, scheduled_for, due_at)."""
    names = [*NAMES, "scheduled_for", "due_at"]
    frame = pl.DataFrame(
        [dict(zip(names, row, strict=True)) for row in rows],
        schema={n: pl.String for n in NAMES}
        | {"scheduled_for": pl.Datetime("us"), "due_at": pl.Date},
    )
    return frame if due else frame.drop("due_at")


def history(*rows: tuple) -> pl.DataFrame:
    """(contact_id, customer, invoice, channel, purpose, at, outcome)."""
    return pl.DataFrame(
        [dict(zip(HISTORY, row, strict=True)) for row in rows],
        schema={n: pl.String for n in HISTORY} | {"at": pl.Datetime("us")},
    )


def people(dnc: tuple[str, ...] = ()) -> pl.DataFrame:
    """Customers C1 (SP), C2 (RJ), C3 (AM); those in `dnc` are do-not-contact."""
    ids = ["C1", "C2", "C3"]
    return pl.DataFrame(
        {
            "customer_id": ids,
            "state": ["SP", "RJ", "AM"],
            "do_not_contact": [c in dnc for c in ids],
            "opt_out_sms": [c in dnc for c in ids],
        }
    )


def _write(tmp_path: Path, text: str) -> Path:
    base = (Path(__file__).resolve().parents[2] / "config" / "guardrails.yaml").read_text()
    path = tmp_path / "guardrails.yaml"
    path.write_text(base + "\n" + text, encoding="utf-8")
    return path


# ---- daily cap ----------------------------------------------------------------------------


def test_a_second_contact_the_same_day_waits_for_the_next_day() -> None:
    frame = actions(
        act("a1", "C2", "sms", "reminder", "RJ", datetime(2026, 11, 10, 9)),
        act("a2", "C2", "email", "reminder", "RJ", datetime(2026, 11, 10, 10)),
        act("a3", "C1", "email", "reminder", "SP", datetime(2026, 11, 10, 10)),
    )
    out = cap_contact_frequency(frame, None, CONFIG, as_of=date(2026, 11, 9))
    assert out["scheduled_for"].to_list() == [
        datetime(2026, 11, 10, 9),
        datetime(2026, 11, 11, 8),
        datetime(2026, 11, 10, 10),
    ]
    assert out["reason"].to_list() == [None, "moved:daily_cap", None]


def test_a_past_contact_of_the_same_day_fills_the_daily_cap() -> None:
    past = history(("k1", "C2", "I0", "phone", "reminder", datetime(2026, 11, 10, 8), "answered"))
    frame = actions(act("a1", "C2", "sms", "reminder", "RJ", datetime(2026, 11, 10, 15)))
    out = cap_contact_frequency(frame, past, CONFIG, as_of=date(2026, 11, 10))
    assert out.row(0, named=True)["scheduled_for"] == datetime(2026, 11, 11, 8)
    assert out.row(0, named=True)["reason"] == "moved:daily_cap"


def test_listing_notices_go_first_in_their_day_and_the_daily_cap_holds_for_them() -> None:
    frame = actions(
        act("a1", "C2", "sms", "reminder", "RJ", datetime(2026, 11, 10, 9)),
        act("a2", "C2", "letter", NOTICE, "RJ", datetime(2026, 11, 10, 14)),
        act("a3", "C2", "letter", NOTICE, "RJ", datetime(2026, 11, 10, 15)),
    )
    out = cap_contact_frequency(frame, None, CONFIG, as_of=date(2026, 11, 9))
    # 10 Nov: the first notice; 11 Nov: the second (notices go first); 12 Nov: the sms
    assert out["scheduled_for"].to_list() == [
        datetime(2026, 11, 12, 8),
        datetime(2026, 11, 10, 14),
        datetime(2026, 11, 11, 8),
    ]
    assert out["reason"].to_list() == ["moved:daily_cap", None, "moved:daily_cap"]


def test_a_contact_with_no_free_day_within_the_horizon_is_skipped_for_the_daily_cap() -> None:
    config = CONFIG.model_copy(update={"horizon_days": 1})
    frame = actions(
        # Friday 20 Nov is a holiday, Saturday has no letter window: nothing within one day
        act("a1", "C2", "sms", "reminder", "RJ", datetime(2026, 11, 19, 9)),
        act("a2", "C2", "letter", "reminder", "RJ", datetime(2026, 11, 19, 10)),
    )
    out = cap_contact_frequency(frame, None, config, as_of=date(2026, 11, 18))
    assert out["status"].to_list() == ["scheduled", "skipped"]
    assert out["reason"].to_list() == [None, "skipped:daily_cap"]
    assert REASONS_PT["skipped:daily_cap"].startswith("não enviado")


def test_a_contact_pushed_by_both_caps_says_so() -> None:
    config = CONFIG.model_copy(update={"max_contacts_per_7_days": 2})
    past = history(("k1", "C2", "I0", "sms", "reminder", datetime(2026, 11, 9, 9), "delivered"))
    frame = actions(
        act("a1", "C2", "sms", "reminder", "RJ", datetime(2026, 11, 10, 9)),
        act("a2", "C2", "email", "reminder", "RJ", datetime(2026, 11, 10, 10)),
    )
    out = cap_contact_frequency(frame, past, config, as_of=date(2026, 11, 9))
    # 11-10 is full for the day; from 11-11 the week (k1 on 11-09, a1 on 11-10) is full
    # until 11-16, when only a1 is left in the 7 days
    assert out["scheduled_for"][1] == datetime(2026, 11, 16, 8)
    assert out["reason"][1] == "moved:daily_cap; moved:frequency_cap"


CAP_DAYS = [date(2026, 11, d) for d in (9, 10, 11, 12, 13, 16, 17, 18, 19, 23, 24, 25)]
"""Business days of Nov 2026 with no holiday in RJ, so proposals stay where they are."""


@settings(max_examples=60, deadline=None)
@given(
    per_day=st.integers(1, 2),
    extra_week=st.integers(0, 2),
    past=st.lists(
        st.tuples(
            st.sampled_from(["C1", "C2"]), st.integers(1, 8), st.sampled_from(["sms", "agency"])
        ),
        max_size=8,
    ),
    batch=st.lists(
        st.tuples(
            st.sampled_from(["C1", "C2"]),
            st.sampled_from(CAP_DAYS[1:]),
            st.integers(9 * 60, 17 * 60 + 59),
            st.sampled_from(
                [
                    ("sms", "reminder"),
                    ("email", "reminder"),
                    ("phone", "negotiation_offer"),
                    ("letter", "negative_listing_notice"),
                    ("bureau", "negative_listing_notice"),
                    ("agency", "agency_recall"),
                ]
            ),
        ),
        min_size=1,
        max_size=25,
    ),
)  # fmt: skip
def test_no_customer_ever_exceeds_either_cap_and_the_evidence_counts_what_came_before(
    per_day: int, extra_week: int, past: list, batch: list
) -> None:
    config = CONFIG.model_copy(
        update={"max_contacts_per_day": per_day, "max_contacts_per_7_days": per_day + extra_week}
    )
    as_of = date(2026, 11, 9)
    at_ten = [datetime.combine(as_of - timedelta(days=back), time(10)) for _, back, _ in past]
    hist = history(
        *(
            (f"k{i}", c, "I0", ch, "reminder", at, "delivered")
            for i, ((c, _, ch), at) in enumerate(zip(past, at_ten, strict=True))
        )
    )
    # distinct proposed times, inside every window: the caps' order is (notice, time, row)
    times = [
        datetime.combine(day, time(minute // 60, minute % 60, 0, i))
        for i, (_, day, minute, _) in enumerate(batch)
    ]
    frame = actions(
        *(
            act(f"a{i}", c, ch, purpose, "RJ", at)
            for i, ((c, _, _, (ch, purpose)), at) in enumerate(zip(batch, times, strict=True))
        )
    )
    out = apply_guardrails(frame, people(), hist, config, as_of)
    assert out.height == frame.height
    capped = set(config.cap_channels)
    events: dict[str, list[tuple[date, tuple]]] = {"C1": [], "C2": []}
    for row in hist.iter_rows(named=True):
        if row["channel"] in capped:
            events[row["customer_id"]].append((row["at"].date(), (-1,)))
    rows = list(out.with_row_index("i").iter_rows(named=True))
    for row in rows:
        counted = row["channel"] in capped and row["purpose"] != "agency_recall"
        if row["status"] == "scheduled" and counted:
            notice = row["purpose"] == "negative_listing_notice"
            key = (0 if notice else 1, row["scheduled_for"], row["proposed_for"], row["i"])
            events[row["customer_id"]].append((row["scheduled_for"].date(), key))
    for row in rows:
        day = row["scheduled_for"].date()
        mine = events[row["customer_id"]]
        notice = row["purpose"] == "negative_listing_notice"
        key = (0 if notice else 1, row["scheduled_for"], row["proposed_for"], row["i"])
        ahead_today = [k for d, k in mine if d == day and k < key]
        earlier = [k for d, k in mine if day - timedelta(days=6) <= d < day]
        assert row["ev_contacts_day"] == len(ahead_today)
        assert row["ev_contacts_7d"] == len(ahead_today) + len(earlier)
        counted = row["channel"] in capped and row["purpose"] != "agency_recall"
        if row["status"] == "scheduled" and counted and not notice:
            on_day = sum(1 for d, _ in mine if d == day)
            in_week = sum(1 for d, _ in mine if day - timedelta(days=6) <= d <= day)
            assert on_day <= config.max_contacts_per_day
            assert in_week <= config.max_contacts_per_7_days
        if row["channel"] in ("bureau", "agency"):
            assert row["status"] == "scheduled"
            assert "cap" not in (row["reason"] or "")


def test_a_daily_cap_above_the_weekly_cap_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "max_contacts_per_day: 4")
    with pytest.raises(ConfigError) as caught:
        load_guardrails(path)
    assert str(caught.value).startswith(f"{path}: max_contacts_per_day: ")
    assert "must not exceed max_contacts_per_7_days (3)" in str(caught.value)


# ---- no-contact days ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uf", "channel", "proposed", "expected"),
    [
        # Carnival Monday and Tuesday 2026; Ash Wednesday is an ordinary day
        ("SP", "sms", datetime(2026, 2, 16, 10), datetime(2026, 2, 18, 8)),
        ("SP", "sms", datetime(2026, 2, 17, 10), datetime(2026, 2, 18, 8)),
        # Christmas Eve (Thu), Christmas: Saturday morning
        ("MG", "whatsapp", datetime(2026, 12, 24, 10), datetime(2026, 12, 26, 8)),
        # New Year's Eve (Thu), New Year: a letter waits for Monday 4 January
        ("BA", "letter", datetime(2026, 12, 31, 10), datetime(2027, 1, 4, 8)),
        # Carnival 2027 comes from Easter (28 March 2027)
        ("AM", "phone", datetime(2027, 2, 8, 10), datetime(2027, 2, 10, 8)),
    ],
)
def test_no_contact_on_carnival_and_the_year_end_eves(
    uf: str, channel: str, proposed: datetime, expected: datetime
) -> None:
    frame = actions(("a", "C1", "I1", "s", channel, "reminder", uf, proposed, None))
    row = next_allowed_slot(frame, CONFIG).row(0, named=True)
    assert (row["scheduled_for"], row["reason"]) == (expected, "moved:holiday")
    off = CONFIG.model_copy(
        update={"holidays": CONFIG.holidays.model_copy(update={"no_contact_days": ()})}
    )
    assert next_allowed_slot(frame, off).row(0, named=True)["scheduled_for"] == proposed


def test_no_contact_days_are_not_business_days_for_listings_and_suspensions() -> None:
    frame = actions(
        act("a", "C2", "bureau", "delisting", "RJ", datetime(2026, 12, 24, 9)),
        act("b", "C2", None, "suspension", "RJ", datetime(2026, 12, 23, 10)),
        act("c", "C2", "bureau", "delisting", "RJ", datetime(2026, 2, 16, 9)),
    )
    assert enforce_bureau_days(frame, CONFIG)["scheduled_for"].to_list()[::2] == [
        datetime(2026, 12, 28, 9),
        datetime(2026, 2, 18, 9),
    ]
    row = enforce_suspension_days(frame, CONFIG).row(1, named=True)
    # the 23rd is the eve of Christmas Eve; 24-27 are off; Monday 28 is not an eve
    assert (row["scheduled_for"], row["reason"]) == (
        datetime(2026, 12, 28, 10),
        "moved:eve_of_holiday",
    )


def test_an_unknown_no_contact_day_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "holidays: {no_contact_days: [carnival_monday, ash_wednesday]}")
    with pytest.raises(ConfigError) as caught:
        load_guardrails(path)
    assert str(caught.value).startswith(f"{path}: holidays.no_contact_days: ")
    assert "'ash_wednesday'" in str(caught.value)


# ---- bureau and agency recall -------------------------------------------------------------


def test_bureau_actions_and_agency_recalls_ignore_opt_outs() -> None:
    strict = CONFIG.model_copy(update={"legal_notices_ignore_opt_outs": False})
    frame = actions(
        act("a", "C2", "bureau", NOTICE, "RJ", datetime(2026, 11, 10, 9)),
        act("b", "C2", "bureau", "delisting", "RJ", datetime(2026, 11, 10, 9)),
        act("c", "C2", "agency", "agency_recall", "RJ", datetime(2026, 11, 10, 9)),
        act("d", "C2", "agency", "agency_handoff", "RJ", datetime(2026, 11, 10, 9)),
        act("e", "C2", "letter", NOTICE, "RJ", datetime(2026, 11, 10, 9)),
    )
    out = apply_contact_preferences(frame, people(dnc=("C2",)), strict)
    assert out["reason"].to_list() == [
        None,
        None,
        None,
        "skipped:do_not_contact",  # the hand-off is collection: it obeys
        "skipped:do_not_contact",  # so does our own letter when notices obey opt-outs
    ]


def test_bureau_actions_go_on_business_days_and_are_not_capped() -> None:
    frame = actions(
        act("a", "C2", "sms", "reminder", "RJ", datetime(2026, 11, 10, 9)),
        act("b", "C2", "bureau", NOTICE, "RJ", datetime(2026, 11, 10, 8)),
        act("c", "C2", "bureau", "delisting", "RJ", datetime(2026, 11, 14, 23)),
        act("d", "C2", "agency", "agency_recall", "RJ", datetime(2026, 11, 14, 10)),
        act("e", "C2", "agency", "agency_recall", "RJ", datetime(2026, 11, 16, 10)),
    )
    config = CONFIG.model_copy(update={"cap_channels": (*CONFIG.cap_channels, "agency")})
    out = apply_guardrails(frame, people(), None, config, date(2026, 11, 9))
    assert out["status"].to_list() == ["scheduled"] * 5
    assert out["scheduled_for"].to_list() == [
        datetime(2026, 11, 10, 9),  # the bureau's notice neither pushes nor counts
        datetime(2026, 11, 10, 8),
        datetime(2026, 11, 16, 23),  # Saturday: Monday, same time (a request, not a call)
        datetime(2026, 11, 16, 8),  # the agency's business hours
        datetime(2026, 11, 16, 10),  # a second recall the same day is not capped
    ]
    assert out["reason"].to_list() == [
        None,
        None,
        "moved:weekend",
        "moved:no_window_day",
        None,
    ]
    assert out["ev_contacts_day"].to_list() == [0, 0, 0, 0, 0]


def test_bureau_cannot_be_a_capped_channel(tmp_path: Path) -> None:
    path = _write(tmp_path, "cap_channels: [sms, bureau]")
    with pytest.raises(ConfigError) as caught:
        load_guardrails(path)
    assert str(caught.value).startswith(f"{path}: cap_channels: ")


# ---- the notice is the customer's ---------------------------------------------------------


def test_a_customer_notice_covers_listings_of_invoices_due_before_it() -> None:
    past = history(
        sent("k1", "C2", datetime(2026, 10, 1, 9)),
        sent("k2", "C2", datetime(2026, 11, 2, 9)),
        sent("k3", "C3", datetime(2026, 9, 1, 9)),
    )
    at = datetime(2026, 11, 10, 9)
    frame = actions(
        # fell due before the first notice: that one covers it
        act("a", "C2", "bureau", LISTING, "RJ", at, date(2026, 9, 10)),
        # fell due between the notices: the second one sets the listing day (12 Nov)
        act("b", "C2", "bureau", LISTING, "RJ", at, date(2026, 10, 10)),
        # fell due on the day of the last notice: no notice after it
        act("c", "C2", "bureau", LISTING, "RJ", at, date(2026, 11, 2)),
        # C3's notice says nothing to C1
        act("d", "C1", "bureau", LISTING, "SP", at, date(2026, 8, 1)),
    )
    out = apply_guardrails(frame, people(), past, CONFIG, date(2026, 11, 9))
    assert out["status"].to_list() == ["scheduled", "scheduled", "skipped", "skipped"]
    assert out["scheduled_for"][:2].to_list() == [at, datetime(2026, 11, 12, 9)]
    assert out["reason"].to_list() == [
        None,
        "moved:notice_lead",
        "skipped:no_written_notice",
        "skipped:no_written_notice",
    ]
    assert out["ev_notice_id"].to_list() == ["k1", "k2", None, None]
    assert out["ev_notice_date"].to_list() == [date(2026, 10, 1), date(2026, 11, 2), None, None]
    earliest = [date(2026, 10, 11), date(2026, 11, 12), None, None]
    assert out["ev_listing_earliest"].to_list() == earliest


def test_only_a_notice_that_reached_the_customer_on_a_written_channel_counts() -> None:
    past = history(
        sent("k1", "C2", datetime(2026, 10, 1, 9), "wrong_number"),
        sent("k2", "C2", datetime(2026, 10, 2, 9), "undelivered"),
        sent("k3", "C2", datetime(2026, 10, 3, 9), "read", channel="email"),
        sent("k4", "C2", datetime(2026, 10, 4, 9), channel="bureau"),
    )
    at = datetime(2026, 11, 10, 9)
    frame = actions(act("a", "C2", "bureau", LISTING, "RJ", at, date(2026, 9, 1)))
    out = enforce_listing_notice(frame, past, CONFIG)
    assert out["reason"].to_list() == ["skipped:no_written_notice"]
    with_bureau = CONFIG.model_copy(update={"written_notice_channels": ("letter", "bureau")})
    out = apply_guardrails(frame, people(), past, with_bureau, date(2026, 11, 9))
    assert out["status"].to_list() == ["scheduled"]
    assert out["ev_notice_id"].to_list() == ["k4"]


def test_a_case_notice_in_the_same_batch_covers_every_overdue_invoice() -> None:
    at = datetime(2026, 11, 10, 9)
    frame = actions(
        act("n1", "C2", "letter", NOTICE, "RJ", datetime(2026, 11, 3, 9), date(2026, 9, 1), "I1"),
        act("l1", "C2", "bureau", LISTING, "RJ", at, date(2026, 9, 1), "I1"),
        act("l2", "C2", "bureau", LISTING, "RJ", at, date(2026, 10, 1)),
        act("l3", "C2", "bureau", LISTING, "RJ", at, date(2026, 11, 5)),
    )
    out = apply_guardrails(frame, people(), None, CONFIG, date(2026, 11, 2))
    assert out["status"].to_list() == ["scheduled", "scheduled", "scheduled", "skipped"]
    assert out["scheduled_for"][1:3].to_list() == [datetime(2026, 11, 13, 9)] * 2
    assert out["ev_notice_id"].to_list() == [None, "n1", "n1", None]
    # the notice itself says when the listings it covers may happen
    assert out["ev_listing_earliest"].to_list() == [date(2026, 11, 13)] * 3 + [None]


def test_a_listing_without_due_date_still_needs_a_notice_for_its_own_invoice() -> None:
    past = history(("k1", "C2", "I1", "letter", NOTICE, datetime(2026, 10, 1, 9), "delivered"))
    frame = actions(
        act("a", "C2", "bureau", LISTING, "RJ", datetime(2026, 11, 10, 9), None, "I1"),
        act("b", "C2", "bureau", LISTING, "RJ", datetime(2026, 11, 10, 9), None, "I2"),
    )
    for batch in (frame, frame.drop("due_at")):
        out = enforce_listing_notice(batch, past, CONFIG)
        assert out["reason"].to_list() == [None, "skipped:no_written_notice"]


@settings(max_examples=50, deadline=None)
@given(
    notices=st.lists(
        st.tuples(
            st.sampled_from(["C1", "C2"]),
            st.integers(0, 100),
            st.sampled_from(["letter", "email", "bureau"]),
            st.sampled_from(["delivered", "read", "undelivered", "wrong_number"]),
        ),
        max_size=6,
    ),
    listings=st.lists(
        st.tuples(st.sampled_from(["C1", "C2"]), st.integers(0, 110), st.integers(1, 20)),
        min_size=1,
        max_size=6,
    ),
)
def test_a_listing_waits_for_the_customer_first_notice_after_its_due_date(
    notices: list, listings: list
) -> None:
    as_of, start = date(2026, 11, 9), date(2026, 8, 1)
    uf = {"C1": "SP", "C2": "RJ"}
    hist = history(
        *(
            sent(f"k{i}", c, datetime.combine(start + timedelta(days=d), time(9)), outcome, ch)
            for i, (c, d, ch, outcome) in enumerate(notices)
        )
    )
    nine = datetime.combine(as_of, time(9))
    frame = actions(
        *(
            act(f"l{i}", c, "bureau", LISTING, uf[c], nine + timedelta(k), start + timedelta(due))
            for i, (c, due, k) in enumerate(listings)
        )
    )
    out = apply_guardrails(frame, people(), hist, CONFIG, as_of)
    for row in out.iter_rows(named=True):
        covering = [
            start + timedelta(days=d)
            for c, d, ch, outcome in notices
            if c == row["customer_id"]
            and ch == "letter"
            and outcome not in ("undelivered", "wrong_number")
            and start + timedelta(days=d) > row["due_at"]
        ]
        if not covering:
            assert (row["status"], row["reason"]) == ("skipped", "skipped:no_written_notice")
            assert row["ev_notice_date"] is None
            continue
        earliest = min(covering) + timedelta(days=CONFIG.lead_days(row["uf"]))
        assert row["ev_notice_date"] == min(covering)
        assert row["ev_listing_earliest"] == earliest
        assert row["status"] == "scheduled"
        day = row["scheduled_for"].date()
        assert day >= max(earliest, row["proposed_for"].date())
        assert day.weekday() < 5
        assert (row["uf"], day) not in HOLIDAYS


HOLIDAYS = set(holiday_table((2026, 2027)).select("uf", "date").iter_rows())


# ---- debt age -----------------------------------------------------------------------------


def test_a_debt_more_than_five_years_old_on_the_listing_day_is_not_listed() -> None:
    past = history(
        sent("k1", "C2", datetime(2026, 10, 1, 9)), sent("k2", "C3", datetime(2026, 11, 5, 9))
    )
    at = datetime(2026, 11, 10, 9)
    frame = actions(
        act("a", "C2", "bureau", LISTING, "RJ", at, date(2021, 11, 9)),
        act("b", "C2", "bureau", LISTING, "RJ", at, date(2021, 11, 10)),
        # the notice lead moves the listing to Monday 16 Nov, past the five years
        act("c", "C3", "bureau", LISTING, "AM", at, date(2021, 11, 12)),
    )
    out = apply_guardrails(frame, people(), past, CONFIG, date(2026, 11, 9))
    assert out["status"].to_list() == ["skipped", "scheduled", "skipped"]
    assert out["reason"].to_list() == [
        "skipped:debt_too_old",
        None,
        "moved:notice_lead; moved:holiday; skipped:debt_too_old",
    ]
    assert out["ev_debt_age_days"].to_list() == [5 * 365 + 2, 5 * 365 + 1, 5 * 365 + 1 + 4]
    assert out["reason_pt"][0] == REASONS_PT["skipped:debt_too_old"]
    three = CONFIG.model_copy(update={"max_debt_age_years": 3})
    out = enforce_listing_notice(frame[1:2], past, three)
    assert out["reason"].to_list() == ["skipped:debt_too_old"]


def test_a_debt_age_above_five_years_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "max_debt_age_years: 6")
    with pytest.raises(ConfigError) as caught:
        load_guardrails(path)
    assert str(caught.value).startswith(f"{path}: max_debt_age_years: ")


# ---- evidence -----------------------------------------------------------------------------


def test_evidence_says_what_each_rule_saw_for_every_row() -> None:
    past = history(
        ("k1", "C2", "I0", "sms", "reminder", datetime(2026, 11, 4, 10), "delivered"),
        sent("k2", "C2", datetime(2026, 11, 5, 9)),
        ("k3", "C2", "I0", "agency", "agency_handoff", datetime(2026, 11, 6, 9), "delivered"),
    )
    due = date(2026, 10, 1)
    frame = actions(
        act("a1", "C2", "sms", "reminder", "RJ", datetime(2026, 11, 10, 9), due),
        act("a2", "C2", "email", "reminder", "RJ", datetime(2026, 11, 10, 11), due),
        act("a3", "C2", "bureau", LISTING, "RJ", datetime(2026, 11, 12, 9), due),
        act("a4", "C2", "letter", "reminder", "RJ", datetime(2026, 11, 14, 10), due),
        act("a5", "C1", "sms", "reminder", "SP", datetime(2026, 11, 20, 9)),
        act("a6", "C9", "sms", "reminder", "ZZ", datetime(2026, 11, 10, 9)),
    )
    out = apply_guardrails(frame, people(dnc=("C1",)), past, CONFIG, date(2026, 11, 9))
    assert out.columns[-len(EVIDENCE) - 1 : -1] == list(EVIDENCE)
    assert out["scheduled_for"].to_list() == [
        datetime(2026, 11, 10, 9),
        datetime(2026, 11, 11, 8),  # daily cap
        datetime(2026, 11, 16, 9),  # 5 Nov + 10 = Sunday 15 Nov, a holiday
        datetime(2026, 11, 16, 8),  # no Saturday window for letters
        datetime(2026, 11, 20, 9),  # skipped, left where it was
        datetime(2026, 11, 10, 9),
    ]
    assert out["status"].to_list() == ["scheduled"] * 4 + ["skipped"] * 2
    assert out["ev_window"].to_list() == [
        "08:00-20:00",
        "08:00-20:00",
        "08:00-18:00",
        "08:00-18:00",
        None,  # Consciência Negra
        None,  # no such UF
    ]
    # 7 days to 10 Nov: k1, k2 (the agency does not count); to 11 Nov: k2, a1;
    # to 16 Nov: a1, a2 and, on the day, the 08:00 letter ahead of the 09:00 listing
    assert out["ev_contacts_7d"].to_list() == [2, 2, 3, 2, 0, 0]
    assert out["ev_contacts_day"].to_list() == [0, 0, 1, 0, 0, 0]
    assert out["ev_notice_id"].to_list() == [None, None, "k2", None, None, None]
    assert out["ev_notice_date"].to_list() == [None, None, date(2026, 11, 5), None, None, None]
    earliest = [None, None, date(2026, 11, 15), None, None, None]
    assert out["ev_listing_earliest"].to_list() == earliest
    assert out["ev_debt_age_days"].to_list() == [40, 41, 46, 46, None, None]
    assert dict(out.select(list(EVIDENCE)).schema) == dict(EVIDENCE)


def test_evidence_columns_are_there_when_nothing_is_listed_or_capped() -> None:
    frame = actions(act("a", "C1", None, "suspension", "SP", datetime(2026, 11, 10, 9)), due=False)
    out = apply_guardrails(frame, people(), None, CONFIG, date(2026, 11, 9))
    assert dict(out.select(list(EVIDENCE)).schema) == dict(EVIDENCE)
    assert out.row(0, named=True)["ev_contacts_7d"] == 0
    assert out.row(0, named=True)["ev_debt_age_days"] is None


def test_every_new_reason_has_a_portuguese_text() -> None:
    past = history(sent("k1", "C2", datetime(2026, 10, 1, 9)))
    config = CONFIG.model_copy(update={"horizon_days": 1, "max_contacts_per_7_days": 5})
    frame = actions(
        act("a", "C2", "sms", "reminder", "RJ", datetime(2026, 11, 19, 9)),
        act("b", "C2", "letter", "reminder", "RJ", datetime(2026, 11, 19, 10)),
        act("c", "C2", "email", "reminder", "RJ", datetime(2026, 11, 17, 10)),
        act("d", "C2", "whatsapp", "reminder", "RJ", datetime(2026, 11, 17, 11)),
        act("e", "C2", "bureau", LISTING, "RJ", datetime(2026, 11, 10, 9), date(2020, 1, 1)),
    )
    out = apply_guardrails(frame, people(), past, config, date(2026, 11, 9))
    codes = set("; ".join(out["reason"].drop_nulls().to_list()).split("; "))
    assert {"skipped:daily_cap", "moved:daily_cap", "skipped:debt_too_old"} <= codes
    assert codes <= set(REASONS_PT)
    assert not out["reason_pt"].drop_nulls().str.contains(r"[a-z]+:[a-z_]+").any()
