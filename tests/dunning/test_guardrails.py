"""Legal contact guardrails: windows, holidays, time zones, caps, opt-outs, listing, fees."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.config.guardrails import WEEKDAYS, ConfigError, GuardrailsConfig, load_guardrails
from regua.contract import CHANNELS, UFS
from regua.contract import CONTACT_CHANNELS as CUSTOMER_CHANNELS
from regua.dunning.calendar import holiday_table
from regua.dunning.guardrails import (
    REASONS_PT,
    apply_contact_preferences,
    apply_guardrails,
    cap_contact_frequency,
    enforce_listing_notice,
    enforce_suspension_days,
    next_allowed_slot,
    skip_repeated_steps,
)

CONFIG = load_guardrails()
CONTACT_CHANNELS = tuple(c for c in CHANNELS if c != "agency")


def actions(*rows: tuple) -> pl.DataFrame:
    """Proposed actions: (customer, invoice, step, channel, purpose, uf, scheduled_for)."""
    names = ["customer_id", "invoice_id", "step_id", "channel", "purpose", "uf", "scheduled_for"]
    return pl.DataFrame(
        [dict(zip(names, row, strict=True)) for row in rows],
        schema={n: pl.String for n in names[:-1]} | {"scheduled_for": pl.Datetime("us")},
    )


def history(*rows: tuple) -> pl.DataFrame:
    """Contacts already made: (customer, invoice, step, channel, purpose, at, outcome)."""
    names = ["customer_id", "invoice_id", "step_id", "channel", "purpose", "at", "outcome"]
    return pl.DataFrame(
        [dict(zip(names, row, strict=True)) for row in rows],
        schema={n: pl.String for n in names} | {"at": pl.Datetime("us")},
    )


def customers(**flags: dict[str, bool]) -> pl.DataFrame:
    """Customers C1..C3 in SP, RJ and AM, with the given flags per customer id."""
    columns = ["do_not_contact", "opt_out_email", "opt_out_sms", "opt_out_whatsapp"]
    rows = []
    for cid, uf in (("C1", "SP"), ("C2", "RJ"), ("C3", "AM")):
        rows.append(
            {"customer_id": cid, "state": uf}
            | {c: flags.get(cid, {}).get(c, False) for c in columns}
        )
    return pl.DataFrame(rows)


def one(uf: str, channel: str, at: datetime, purpose: str = "reminder") -> dict:
    out = next_allowed_slot(actions(("C1", "I1", "s", channel, purpose, uf, at)), CONFIG)
    return out.row(0, named=True)


# ---- windows, holidays, time zones ---------------------------------------------------------


@pytest.mark.parametrize(
    ("uf", "channel", "proposed", "expected", "reason"),
    [
        ("SP", "sms", datetime(2026, 11, 10, 9, 30), datetime(2026, 11, 10, 9, 30), None),
        ("SP", "sms", datetime(2026, 11, 8, 10), datetime(2026, 11, 9, 8), "moved:sunday"),
        (
            "SP",
            "phone",
            datetime(2026, 11, 7, 15),
            datetime(2026, 11, 9, 8),
            "moved:outside_window",
        ),
        ("SP", "phone", datetime(2026, 11, 7, 13, 59), datetime(2026, 11, 7, 13, 59), None),
        (
            "SP",
            "email",
            datetime(2026, 11, 10, 7),
            datetime(2026, 11, 10, 8),
            "moved:outside_window",
        ),
        (
            "SP",
            "email",
            datetime(2026, 11, 10, 20),
            datetime(2026, 11, 11, 8),
            "moved:outside_window",
        ),
        # Finados (Mon 2 Nov) after a Sunday: first slot is Tuesday
        ("RJ", "sms", datetime(2026, 11, 1, 9), datetime(2026, 11, 3, 8), "moved:sunday"),
        ("RJ", "sms", datetime(2026, 11, 2, 9), datetime(2026, 11, 3, 8), "moved:holiday"),
        # Consciência Negra (Fri 20 Nov), national since 2024
        ("BA", "whatsapp", datetime(2026, 11, 20, 9), datetime(2026, 11, 21, 8), "moved:holiday"),
        # 9 July is a holiday in SP only
        ("SP", "phone", datetime(2026, 7, 9, 10), datetime(2026, 7, 10, 8), "moved:holiday"),
        ("RJ", "phone", datetime(2026, 7, 9, 10), datetime(2026, 7, 9, 10), None),
        # letters have no Saturday window
        ("SP", "letter", datetime(2026, 11, 7, 9), datetime(2026, 11, 9, 8), "moved:no_window_day"),
        (
            "SP",
            "agency",
            datetime(2026, 11, 6, 18),
            datetime(2026, 11, 9, 8),
            "moved:outside_window",
        ),
    ],
)
def test_slot_moves_to_the_next_allowed_time(
    uf: str, channel: str, proposed: datetime, expected: datetime, reason: str | None
) -> None:
    row = one(uf, channel, proposed)
    assert (row["scheduled_for"], row["status"], row["reason"]) == (expected, "scheduled", reason)
    assert row["proposed_for"] == proposed


def test_windows_are_local_to_the_customer_time_zone() -> None:
    row = one("AM", "sms", datetime(2026, 11, 10, 7, 30))
    assert row["scheduled_tz"] == "America/Manaus"
    assert row["scheduled_for"] == datetime(2026, 11, 10, 8)  # 08:00 in Manaus, 09:00 in SP
    assert one("AC", "sms", datetime(2026, 11, 10, 9))["scheduled_tz"] == "America/Rio_Branco"


def test_uf_override_and_no_slot_in_horizon_is_skipped() -> None:
    never = {d: None for d in WEEKDAYS}
    config = CONFIG.model_copy(
        update={"ufs": {"RJ": CONFIG.ufs["SP"].model_copy(update={"windows": {"sms": never}})}}
    )
    frame = actions(
        ("C1", "I1", "a", "sms", "reminder", "RJ", datetime(2026, 11, 10, 9)),
        ("C2", "I2", "b", "sms", "reminder", "SP", datetime(2026, 11, 10, 9)),
    )
    out = next_allowed_slot(frame, config, holiday_table((2026,)))
    assert out["status"].to_list() == ["skipped", "scheduled"]
    assert out["reason"].to_list() == ["skipped:no_slot", None]


def test_listings_and_suspensions_are_not_held_to_contact_windows() -> None:
    row = one("SP", "letter", datetime(2026, 11, 10, 23), purpose="suspension")
    assert (row["scheduled_for"], row["reason"]) == (datetime(2026, 11, 10, 23), None)


# ---- frequency cap ---------------------------------------------------------------------------


def test_frequency_cap_counts_past_contacts_and_pushes_the_rest() -> None:
    past = history(
        ("C1", "I0", "e1", "email", None, datetime(2026, 11, 4, 10), "delivered"),
        ("C1", "I0", "s1", "sms", None, datetime(2026, 11, 5, 10), "delivered"),
        ("C1", "I0", "a1", "agency", None, datetime(2026, 11, 6, 10), "delivered"),  # not counted
    )
    frame = actions(
        ("C1", "I1", "call", "phone", "reminder", "SP", datetime(2026, 11, 10, 11)),
        ("C1", "I1", "sms", "sms", "reminder", "SP", datetime(2026, 11, 10, 9)),
        ("C1", "I1", "mail", "email", "reminder", "SP", datetime(2026, 11, 10, 10)),
        ("C2", "I2", "sms", "sms", "reminder", "RJ", datetime(2026, 11, 10, 9)),
    )
    week_only = CONFIG.model_copy(update={"max_contacts_per_day": 3})
    out = cap_contact_frequency(frame, past, week_only, as_of=date(2026, 11, 9))
    assert out["scheduled_for"].to_list() == [
        datetime(2026, 11, 12, 8),  # 11-06..11-12 holds sms 11-10 and email 11-11 only
        datetime(2026, 11, 10, 9),  # 11-04..11-10 holds two past contacts: room for one
        datetime(2026, 11, 11, 8),  # 11-05..11-11 holds one past contact and the sms
        datetime(2026, 11, 10, 9),
    ]
    assert out["reason"].to_list() == ["moved:frequency_cap", None, "moved:frequency_cap", None]


def test_a_listing_notice_goes_first_in_its_day_and_the_cap_holds_for_it_too() -> None:
    config = CONFIG.model_copy(update={"max_contacts_per_7_days": 1, "horizon_days": 2})
    frame = actions(
        ("C1", "I1", "sms", "sms", "reminder", "SP", datetime(2026, 11, 10, 9)),
        ("C1", "I1", "n", "letter", "negative_listing_notice", "SP", datetime(2026, 11, 10, 9)),
    )
    out = cap_contact_frequency(frame, None, config, as_of=date(2026, 11, 9))
    assert out["status"].to_list() == ["skipped", "scheduled"]
    assert out["reason"].to_list() == ["skipped:frequency_cap", None]
    # a contact the day before fills the week: the notice waits too, past the horizon here
    past = history(("C1", "I0", "s0", "sms", None, datetime(2026, 11, 9, 9), "delivered"))
    out = cap_contact_frequency(frame, past, config, as_of=date(2026, 11, 9))
    assert out["status"].to_list() == ["skipped", "skipped"]
    assert out["reason"].to_list() == ["skipped:frequency_cap", "skipped:frequency_cap"]


def test_frequency_cap_ignores_history_after_as_of() -> None:
    config = CONFIG.model_copy(update={"max_contacts_per_7_days": 1})
    past = history(("C1", "I0", "s0", "sms", None, datetime(2026, 11, 10, 9), "delivered"))
    frame = actions(("C1", "I1", "sms", "sms", "reminder", "SP", datetime(2026, 11, 10, 9)))
    out = cap_contact_frequency(frame, past, config, as_of=date(2026, 11, 9))
    assert out["reason"].to_list() == [None]


# ---- preferences and repeats -----------------------------------------------------------------


def test_opt_outs_and_do_not_contact() -> None:
    people = customers(C1={"opt_out_sms": True}, C2={"do_not_contact": True, "opt_out_email": True})
    frame = actions(
        ("C1", "I1", "a", "sms", "reminder", "SP", datetime(2026, 11, 10, 9)),
        ("C1", "I1", "b", "email", "reminder", "SP", datetime(2026, 11, 10, 9)),
        ("C2", "I2", "c", "whatsapp", "reminder", "RJ", datetime(2026, 11, 10, 9)),
        ("C2", "I2", "d", "letter", "reminder", "RJ", datetime(2026, 11, 10, 9)),
        ("C2", "I2", "e", "agency", "agency_handoff", "RJ", datetime(2026, 11, 10, 9)),
        ("C2", "I2", "f", "email", "negative_listing_notice", "RJ", datetime(2026, 11, 10, 9)),
        ("C2", "I2", "g", None, "negative_listing", "RJ", datetime(2026, 11, 30, 9)),
    )
    out = apply_contact_preferences(frame, people, CONFIG)
    assert out["reason"].to_list() == [
        "skipped:opt_out_sms",
        None,
        "skipped:do_not_contact",
        "skipped:do_not_contact",
        "skipped:do_not_contact",
        None,  # the legal notice still goes out
        None,
    ]
    strict = CONFIG.model_copy(update={"legal_notices_ignore_opt_outs": False})
    out = apply_contact_preferences(frame, people, strict)
    assert out["reason"][5] == "skipped:do_not_contact"  # the first reason to skip wins


def test_listing_is_skipped_for_a_customer_without_document() -> None:
    people = customers().with_columns(
        document_hash=pl.Series(["hash-c1", None, "hash-c3"], dtype=pl.String)
    )
    frame = actions(
        ("C2", "I2", "a", "sms", "reminder", "RJ", datetime(2026, 11, 10, 9)),
        ("C2", "I2", "b", "letter", "negative_listing_notice", "RJ", datetime(2026, 11, 10, 9)),
        ("C2", "I2", "c", None, "negative_listing", "RJ", datetime(2026, 11, 30, 9)),
        ("C1", "I1", "d", None, "negative_listing", "SP", datetime(2026, 11, 30, 9)),
    )
    out = apply_contact_preferences(frame, people, CONFIG)
    assert out["status"].to_list() == ["scheduled", "scheduled", "skipped", "scheduled"]
    assert out["reason"].to_list() == [None, None, "skipped:no_document", None]
    chain = apply_guardrails(frame, people, None, CONFIG, date(2026, 11, 10))
    assert chain["reason"][2] == "skipped:no_document"
    assert chain["reason_pt"][2] == "não enviado: negativação exige CPF/CNPJ do cliente"
    assert chain["status"][0] == "scheduled"  # the customer is still contacted


def test_repeated_steps_are_skipped() -> None:
    past = history(("C1", "I1", "sms_d1", "sms", None, datetime(2026, 11, 1, 9), "delivered"))
    frame = actions(
        ("C1", "I1", "sms_d1", "sms", "reminder", "SP", datetime(2026, 11, 10, 9)),
        ("C1", "I2", "sms_d1", "sms", "reminder", "SP", datetime(2026, 11, 10, 10)),
        ("C1", "I2", "sms_d1", "sms", "reminder", "SP", datetime(2026, 11, 10, 9)),
        ("C1", "I3", None, "sms", "reminder", "SP", datetime(2026, 11, 10, 9)),
    )
    out = skip_repeated_steps(frame, past)
    assert out["reason"].to_list() == [
        "skipped:repeated_step",
        "skipped:repeated_step",  # the 09:00 copy of the same step goes first
        None,
        None,
    ]


# ---- negative listing and suspension --------------------------------------------------------


def test_listing_needs_a_written_notice_with_lead_time() -> None:
    past = history(
        (
            "C2",
            "I2",
            "n",
            "letter",
            "negative_listing_notice",
            datetime(2026, 11, 5, 9),
            "delivered",
        ),
        (
            "C1",
            "I1",
            "n",
            "letter",
            "negative_listing_notice",
            datetime(2026, 11, 5, 9),
            "delivered",
        ),
        ("C3", "I3", "n", "sms", "negative_listing_notice", datetime(2026, 10, 1, 9), "delivered"),
        (
            "C3",
            "I4",
            "n",
            "letter",
            "negative_listing_notice",
            datetime(2026, 10, 1, 9),
            "undelivered",
        ),
        ("C3", "I5", "n", "email", "negative_listing_notice", datetime(2026, 10, 1, 9), "read"),
    )
    frame = actions(
        ("C2", "I2", "l", None, "negative_listing", "RJ", datetime(2026, 11, 10, 9)),
        ("C1", "I1", "l", None, "negative_listing", "SP", datetime(2026, 11, 10, 9)),
        ("C3", "I3", "l", None, "negative_listing", "AM", datetime(2026, 11, 10, 9)),
        ("C3", "I4", "l", None, "negative_listing", "AM", datetime(2026, 11, 10, 9)),
        ("C3", "I5", "l", None, "negative_listing", "AM", datetime(2026, 11, 10, 9)),
    )
    out = enforce_listing_notice(frame, past, CONFIG)
    assert out["scheduled_for"][:2].to_list() == [
        datetime(2026, 11, 16, 9),  # 5 Nov + 10 = Sun 15 Nov (holiday): Monday
        datetime(2026, 11, 25, 9),  # SP: 5 Nov + 20 days
    ]
    assert out["reason"].to_list() == [
        "moved:notice_lead; moved:holiday",
        "moved:notice_lead",
        "skipped:no_written_notice",  # an SMS is not a written notice
        "skipped:no_written_notice",  # an undelivered letter does not count
        "skipped:no_written_notice",  # nor, by default, an e-mail
    ]


def test_listing_counts_a_notice_in_the_same_batch() -> None:
    frame = actions(
        ("C2", "I2", "n", "letter", "negative_listing_notice", "RJ", datetime(2026, 11, 3, 9)),
        ("C2", "I2", "l", None, "negative_listing", "RJ", datetime(2026, 11, 24, 9)),
    )
    out = apply_guardrails(frame, customers(), None, CONFIG, date(2026, 11, 3))
    assert out["status"].to_list() == ["scheduled", "scheduled"]
    assert out["scheduled_for"].to_list() == [datetime(2026, 11, 3, 9), datetime(2026, 11, 24, 9)]


@pytest.mark.parametrize(
    ("uf", "proposed", "expected", "reason"),
    [
        ("SP", datetime(2026, 11, 10, 10), datetime(2026, 11, 10, 10), None),
        ("SP", datetime(2026, 11, 13, 10), datetime(2026, 11, 16, 10), "moved:friday_or_weekend"),
        ("SP", datetime(2026, 10, 30, 10), datetime(2026, 11, 3, 10), "moved:friday_or_weekend"),
        ("SP", datetime(2026, 11, 19, 10), datetime(2026, 11, 23, 10), "moved:eve_of_holiday"),
        ("SP", datetime(2026, 7, 8, 10), datetime(2026, 7, 13, 10), "moved:eve_of_holiday"),
        ("RJ", datetime(2026, 7, 8, 10), datetime(2026, 7, 8, 10), None),
        ("SP", datetime(2026, 11, 2, 10), datetime(2026, 11, 3, 10), "moved:holiday"),
    ],
)
def test_suspension_days(
    uf: str, proposed: datetime, expected: datetime, reason: str | None
) -> None:
    frame = actions(("C1", "I1", "susp", None, "suspension", uf, proposed))
    row = enforce_suspension_days(frame, CONFIG).row(0, named=True)
    assert (row["scheduled_for"], row["reason"]) == (expected, reason)


# ---- the whole chain --------------------------------------------------------------------------


def test_apply_guardrails_returns_every_row_with_a_reason() -> None:
    people = customers(C1={"opt_out_sms": True}, C2={"do_not_contact": True})
    frame = actions(
        ("C1", "I1", "sms_d0", "sms", "reminder", "SP", datetime(2026, 11, 10, 9)),
        ("C1", "I1", "mail_d0", "email", "reminder", "SP", datetime(2026, 11, 8, 9)),
        ("C1", "I1", "mail_d0", "email", "reminder", "SP", datetime(2026, 11, 9, 9)),
        ("C2", "I2", "call_d5", "phone", "reminder", "RJ", datetime(2026, 11, 10, 9)),
        ("C3", "I3", "wa_d3", "whatsapp", "reminder", "AM", datetime(2026, 11, 20, 21)),
        ("C3", "I3", "list", None, "negative_listing", "AM", datetime(2026, 11, 20, 9)),
        ("C3", "I3", "susp", None, "suspension", "AM", datetime(2026, 11, 20, 9)),
        ("C9", "I9", "x", "sms", "reminder", "ZZ", datetime(2026, 11, 10, 9)),
    )
    out = apply_guardrails(frame, people, None, CONFIG, date(2026, 11, 8))
    assert out.height == frame.height
    assert out.select(frame.columns[:5]).equals(frame.select(frame.columns[:5]))
    assert out["proposed_for"].to_list() == frame["scheduled_for"].to_list()
    assert out["status"].to_list() == [
        "skipped", "scheduled", "skipped", "skipped", "scheduled", "skipped", "scheduled", "skipped"
    ]  # fmt: skip
    assert out["reason"].to_list() == [
        "skipped:opt_out_sms",
        "moved:sunday",
        "skipped:repeated_step",
        "skipped:do_not_contact",
        "moved:holiday",
        "skipped:no_written_notice",
        "moved:holiday",
        "skipped:unknown_uf",
    ]
    assert out["scheduled_tz"][4] == "America/Manaus"
    assert out["reason_pt"][1] == "adiado: domingo"
    codes = "; ".join(out["reason"].drop_nulls().to_list()).split("; ")
    assert set(codes) <= set(REASONS_PT)
    assert not out["reason_pt"].drop_nulls().str.contains(":[a-z_]+$").any()


def test_apply_guardrails_takes_the_uf_from_customers() -> None:
    frame = actions(("C3", "I3", "wa", "whatsapp", "reminder", None, datetime(2026, 11, 10, 9)))
    out = apply_guardrails(frame.drop("uf"), customers(), None, CONFIG, date(2026, 11, 10))
    assert out.row(0, named=True)["uf"] == "AM"
    assert out.row(0, named=True)["scheduled_tz"] == "America/Manaus"


# ---- property ----------------------------------------------------------------------------------

HOLIDAYS = holiday_table((2026, 2027))
HOLIDAY_SET = set(HOLIDAYS.select("uf", "date").iter_rows())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
            st.sampled_from(UFS),
            st.sampled_from(CUSTOMER_CHANNELS),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_every_scheduled_slot_is_allowed_and_never_earlier(rows: list) -> None:
    frame = actions(
        *((f"C{i}", f"I{i}", "s", ch, "reminder", uf, at) for i, (at, uf, ch) in enumerate(rows))
    )
    out = next_allowed_slot(frame, CONFIG, HOLIDAYS)
    assert out.height == frame.height
    for row in out.iter_rows(named=True):
        assert row["status"] == "scheduled"  # a 14-day horizon always has a slot
        at: datetime = row["scheduled_for"]
        assert at >= row["proposed_for"].replace(microsecond=0) - timedelta(microseconds=1)
        assert at.weekday() != 6
        assert (row["uf"], at.date()) not in HOLIDAY_SET
        window = CONFIG.window(row["uf"], row["channel"], WEEKDAYS[at.weekday()])
        assert window is not None
        minute = at.hour * 60 + at.minute
        assert window.start_minute <= minute < window.end_minute


# ---- config validation ------------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    base = (Path(__file__).resolve().parents[2] / "config" / "guardrails.yaml").read_text()
    path = tmp_path / "guardrails.yaml"
    path.write_text(base + "\n" + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "key", "rule"),
    [
        ("ufs: {XX: {notice_lead_days: 5}}", "ufs.XX.[key]", "unknown UF 'XX'"),
        ("cap_channels: [fax]", "cap_channels.0", "unknown channel 'fax'"),
        (
            "ufs: {RJ: {windows: {phone: {mon: '20:00-08:00'}}}}",
            "ufs.RJ.windows.phone.mon",
            "end before start",
        ),
        (
            "ufs: {RJ: {windows: {phone: {mon: '08:00-25:00'}}}}",
            "ufs.RJ.windows.phone.mon",
            "out of range",
        ),
        (
            "ufs: {RJ: {windows: {phone: {sun: '08:00-12:00'}}}}",
            "ufs.RJ.windows.phone.sun.[key]",
            "Sundays",
        ),
        # regua computes no late fee, so there is no cap to set (removed, not ignored)
        ("late_fee_cap: 0.02", "late_fee_cap", "Extra inputs are not permitted"),
        ("max_contacts_per_7_days: 0", "max_contacts_per_7_days", "greater than or equal to 1"),
        ("max_contacts_per_day: 0", "max_contacts_per_day", "greater than or equal to 1"),
        ("max_debt_age_years: 0", "max_debt_age_years", "greater than or equal to 1"),
    ],
)
def test_bad_config_names_file_key_and_rule(
    tmp_path: Path, extra: str, key: str, rule: str
) -> None:
    path = _write(tmp_path, extra)
    with pytest.raises(ConfigError) as caught:
        load_guardrails(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: ")
    assert rule in message


def test_default_config() -> None:
    assert isinstance(CONFIG, GuardrailsConfig)
    assert CONFIG.max_contacts_per_7_days == 3
    assert CONFIG.max_contacts_per_day == 1
    assert CONFIG.written_notice_channels == ("letter",)
    assert "bureau" not in CONFIG.cap_channels
    assert CONFIG.max_debt_age_years == 5
    assert CONFIG.holidays.no_contact_days == (
        "carnival_monday",
        "carnival_tuesday",
        "christmas_eve",
        "new_years_eve",
    )
    assert (CONFIG.lead_days("SP"), CONFIG.lead_days("RJ")) == (20, 10)
    assert CONFIG.window("SP", "phone", "sat").end_minute == 14 * 60  # type: ignore[union-attr]
    assert CONFIG.window("SP", "letter", "sat") is None
    assert all(CONFIG.window(uf, c, "mon") for uf in UFS for c in CONTACT_CHANNELS)
