"""The legal and case rules hold night after night over a simulated book (issue 16).

Each run simulates a book, then plays regua's night decisions for consecutive nights with
the collection tools carrying out what was scheduled (`tests.dunning.nights`). The checks
here count over the executed contacts and the nights' action rows with plain frame logic,
and the independent audit (`dunning.audit`) is run over the same contacts.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import polars as pl
import pytest

from regua.dunning.audit import audit_contacts, audit_summary, ladder_purposes
from tests.dunning.nights import NightsRun, run_nights

# one worker builds the module's run; the other runs the rest of the suite meanwhile
pytestmark = pytest.mark.xdist_group("nights")

FAILED_OUTCOMES = ("undelivered", "wrong_number")
SETTLE_TOLERANCE_BRL = 1.0
DELISTING_BUSINESS_DAYS = 5


@pytest.fixture(
    scope="module",
    params=[
        pytest.param((300, 60), id="300x60"),
        pytest.param((1000, 90), id="1000x90", marks=pytest.mark.slow),
    ],
)
def run(request, tmp_path_factory) -> NightsRun:
    """One multi-night run per size and test process (the seconds per night are printed, -s).

    Kept for the whole process: pytest may set a module fixture up again when the worker
    interleaves this module's tests with others', and a run costs 20 s.
    """
    customers, nights = request.param
    if request.param not in _RUNS:
        folder = tmp_path_factory.mktemp(f"nights-{customers}x{nights}")
        _RUNS[request.param] = run_nights(folder, customers=customers, nights=nights, seed=16)
    result = _RUNS[request.param]
    print(f"\n{customers} customers x {nights} nights: {result.seconds_per_night:.2f} s per night")
    return result


_RUNS: dict[tuple[int, int], NightsRun] = {}


@pytest.fixture(scope="module")
def violations(run: NightsRun) -> pl.DataFrame:
    """The independent audit's violations by regua's contacts (history before day 0 is the
    simulator's, not regua's)."""
    tables = run.tables
    # a month before day 0 covers every rule's look-back (7-day caps, 20-day notice leads);
    # the simulator never lists, so no earlier listing is needed for de-listings
    recent = tables["contacts"].filter(pl.col("at").dt.date() >= run.day0 - timedelta(days=30))
    found = audit_contacts(
        recent,
        tables["customers"],
        tables["invoices"],
        tables["payments"],
        run.config.guardrails,
        until=run.end,
        purposes=ladder_purposes(run.config.ladders),
    )
    return found.filter(pl.col("at").dt.date() >= run.day0)


def _regua(run: NightsRun) -> pl.DataFrame:
    """Executed contacts with their local day and UF."""
    uf = run.tables["customers"].select("customer_id", pl.col("state").alias("uf"))
    return run.contacts.with_columns(pl.col("at").dt.date().alias("day")).join(
        uf, on="customer_id", how="left"
    )


def _sample(frame: pl.DataFrame, n: int = 5) -> str:
    """The first rows of `frame` as text, for an assertion message."""
    return str(frame.head(n).to_dicts())


def test_counted_contacts_stay_within_the_daily_and_weekly_caps(
    run: NightsRun, violations: pl.DataFrame
):
    rules = run.config.guardrails
    counted = pl.col("channel").is_in(rules.cap_channels)
    mine = _regua(run).filter(counted)
    everyone = (
        run.tables["contacts"]
        .filter(counted)
        .group_by("customer_id", pl.col("at").dt.date().alias("day"))
        .agg(pl.len().alias("n"))
    )
    per_day = mine.group_by("customer_id", "day").agg(pl.len().alias("n"))
    over_day = per_day.filter(pl.col("n") > rules.max_contacts_per_day)
    # every 7-day window holding one of regua's contacts, history before day 0 included
    windows = (
        mine.select("customer_id", pl.col("day").alias("first"))
        .with_columns(pl.date_ranges("first", pl.col("first") + timedelta(days=6)).alias("last"))
        .explode("last")
        .select("customer_id", "last")
        .unique()
    )
    per_week = (
        windows.join(everyone, on="customer_id")
        .filter(
            (pl.col("day") <= pl.col("last")) & (pl.col("day") > pl.col("last") - timedelta(days=7))
        )
        .group_by("customer_id", "last")
        .agg(pl.col("n").sum())
    )
    over_week = per_week.filter(pl.col("n") > rules.max_contacts_per_7_days)
    audited = violations.filter(pl.col("rule").is_in(["daily_cap", "weekly_cap"]))
    assert mine.height > 0
    assert (over_day.height, over_week.height, audited.height) == (0, 0, 0), (
        f"{mine.height} counted contacts; {over_day.height} customer-days over "
        f"{rules.max_contacts_per_day}: {_sample(over_day)}; {over_week.height} windows over "
        f"{rules.max_contacts_per_7_days} in 7 days: {_sample(over_week)}; audit: "
        f"{_sample(audited)}"
    )


def test_every_listing_follows_a_counted_written_notice_by_the_lead_days(
    run: NightsRun, violations: pl.DataFrame
):
    rules = run.config.guardrails
    contacts = _regua(run)
    listings = contacts.filter(
        (pl.col("purpose") == "negative_listing") & (pl.col("channel") == "bureau")
    ).join(run.tables["invoices"].select("invoice_id", "due_at"), on="invoice_id", how="left")
    leads = {uf: rules.lead_days(uf) for uf in listings["uf"].unique().to_list()}
    listings = listings.with_columns(
        pl.col("uf").replace_strict(leads, return_dtype=pl.Int64).alias("lead")
    )
    notices = contacts.filter(
        (pl.col("purpose") == "negative_listing_notice")
        & pl.col("channel").is_in(rules.written_notice_channels)
        & ~pl.col("outcome").is_in(FAILED_OUTCOMES)
    ).select("customer_id", pl.col("day").alias("notice_day"))
    covered = (
        listings.join(notices, on="customer_id")
        .filter(
            (pl.col("notice_day") > pl.col("due_at"))
            & ((pl.col("day") - pl.col("notice_day")).dt.total_days() >= pl.col("lead"))
        )
        .select("contact_id")
        .unique()
    )
    bare = listings.join(covered, on="contact_id", how="anti")
    audited = violations.filter(pl.col("rule") == "notice_lead")
    assert listings.height > 0, "no listing happened: the check is vacuous"
    assert (bare.height, audited.height) == (0, 0), (
        f"{listings.height} listings, {bare.height} without a counted written notice sent "
        f"after the due date and the lead days before: "
        f"{_sample(bare.select('customer_id', 'invoice_id', 'day', 'due_at', 'uf', 'lead'))}; "
        f"audit: {_sample(audited)}"
    )


def _business_days(ufs: list[str], first: date, last: date) -> pl.DataFrame:
    """Per UF and day: business days (Mon-Fri, not a national or state holiday) up to it."""
    years = range(first.year, last.year + 1)
    off = pl.DataFrame(
        [
            (uf, day)
            for uf in ufs
            for day in holidays.Brazil(subdiv=uf, years=years, categories=("public",))
        ],
        schema={"uf": pl.String, "day": pl.Date},
        orient="row",
    ).with_columns(pl.lit(True).alias("holiday"))
    days = pl.DataFrame({"day": pl.date_range(first, last, "1d", eager=True)})
    return (
        pl.DataFrame({"uf": ufs}, schema={"uf": pl.String})
        .join(days, how="cross")
        .join(off, on=["uf", "day"], how="left")
        .with_columns(
            ((pl.col("day").dt.weekday() <= 5) & pl.col("holiday").is_null()).alias("is_bd")
        )
        .sort("uf", "day")
        .with_columns(pl.col("is_bd").cast(pl.Int32).cum_sum().over("uf").alias("bd"))
    )


def _delisting_duties(run: NightsRun) -> pl.DataFrame:
    """Every executed listing paid in full or settled by agreement since, with the deadline
    of its de-listing and the first de-listing of the invoice after the listing."""
    contacts = _regua(run)
    listings = contacts.filter(pl.col("purpose") == "negative_listing").select(
        "invoice_id", "uf", pl.col("day").alias("listed_on")
    )
    invoices = run.tables["invoices"].select("invoice_id", pl.col("amount").alias("owed"))
    payments = run.tables["payments"]
    settled = (
        payments.sort("invoice_id", "paid_at")
        .with_columns(pl.col("amount").cum_sum().over("invoice_id").alias("paid"))
        .join(invoices, on="invoice_id")
        .filter(pl.col("paid") >= pl.col("owed") - SETTLE_TOLERANCE_BRL)
        .group_by("invoice_id")
        .agg(pl.col("paid_at").min().alias("settled_on"))
    )
    agreed = (
        listings.join(payments.filter(pl.col("method") == "agreement"), on="invoice_id")
        .filter(pl.col("paid_at") >= pl.col("listed_on"))
        .group_by("invoice_id", "listed_on")
        .agg(pl.col("paid_at").min().alias("agreed_on"))
    )
    delisted = contacts.filter(pl.col("purpose") == "delisting").select(
        "invoice_id", pl.col("day").alias("delisted_on")
    )
    first_delisting = (
        listings.join(delisted, on="invoice_id")
        .filter(pl.col("delisted_on") >= pl.col("listed_on"))
        .group_by("invoice_id", "listed_on")
        .agg(pl.col("delisted_on").min())
    )
    duties = (
        listings.join(settled, on="invoice_id", how="left")
        .join(agreed, on=["invoice_id", "listed_on"], how="left")
        .with_columns(
            pl.min_horizontal(
                pl.when(pl.col("settled_on").is_not_null()).then(
                    pl.max_horizontal("settled_on", "listed_on")
                ),
                "agreed_on",
            ).alias("trigger")
        )
        .filter(pl.col("trigger").is_not_null())
        .join(first_delisting, on=["invoice_id", "listed_on"], how="left")
    )
    if duties.is_empty():
        return duties.with_columns(pl.lit(None, pl.Date).alias("deadline"))
    calendar = _business_days(
        duties["uf"].unique().to_list(), duties["trigger"].min(), run.end + timedelta(days=60)
    )
    deadlines = calendar.filter("is_bd").select(
        "uf", (pl.col("bd") - DELISTING_BUSINESS_DAYS).alias("bd"), pl.col("day").alias("deadline")
    )
    return (
        duties.join(
            calendar.select("uf", pl.col("day").alias("trigger"), "bd"), on=["uf", "trigger"]
        )
        .join(deadlines, on=["uf", "bd"], how="left")
        .drop("bd")
    )


def test_listed_invoices_paid_or_settled_are_delisted_within_five_business_days(
    run: NightsRun, violations: pl.DataFrame
):
    duties = _delisting_duties(run)
    late = duties.filter(pl.col("delisted_on") > pl.col("deadline"))
    missing = duties.filter(pl.col("delisted_on").is_null() & (pl.col("deadline") <= run.end))
    delistings = run.contacts.filter(pl.col("purpose") == "delisting")
    audited = violations.filter(pl.col("rule").is_in(["delisting_deadline", "double_listing"]))
    shown = ["invoice_id", "uf", "listed_on", "settled_on", "agreed_on", "deadline", "delisted_on"]
    assert delistings.height > 0, "no de-listing happened: the check is vacuous"
    assert (late.height, missing.height, audited.height) == (0, 0, 0), (
        f"{duties.height} listings paid or settled, {delistings.height} de-listings; "
        f"{late.height} late: {_sample(late.select(shown))}; {missing.height} missing: "
        f"{_sample(missing.select(shown))}; audit: {_sample(audited)}"
    )


def test_no_action_is_scheduled_before_the_next_day(run: NightsRun):
    scheduled = run.actions.filter(pl.col("status") == "scheduled")
    past = scheduled.filter(
        pl.col("scheduled_for").is_null() | (pl.col("scheduled_for").dt.date() <= pl.col("as_of"))
    )
    assert scheduled.height > 0
    assert past.height == 0, (
        f"{past.height} of {scheduled.height} scheduled rows not after their night: "
        f"{_sample(past.select('as_of', 'customer_id', 'action_id', 'scheduled_for'))}"
    )


def test_a_case_is_handed_to_the_agency_once(run: NightsRun, violations: pl.DataFrame):
    handoffs = run.contacts.filter(pl.col("purpose") == "agency_handoff")
    per_case = handoffs.group_by("case_id").agg(pl.len().alias("n"), pl.col("at"))
    repeated = per_case.filter(pl.col("n") > 1)
    audited = violations.filter(pl.col("rule") == "agency_handoff_once")
    assert handoffs.height > 0, "no hand-off happened: the check is vacuous"
    assert (repeated.height, audited.height) == (0, 0), (
        f"{handoffs.height} hand-offs of {per_case.height} cases; {repeated.height} cases "
        f"handed off more than once: {_sample(repeated)}; audit: {_sample(audited)}"
    )


def test_a_night_schedules_each_action_id_once(run: NightsRun):
    scheduled = run.actions.filter(pl.col("status") == "scheduled")
    twice = (
        scheduled.group_by("as_of", "action_id").agg(pl.len().alias("n")).filter(pl.col("n") > 1)
    )
    unnamed = scheduled.filter(pl.col("action_id").is_null())
    assert (twice.height, unnamed.height) == (0, 0), (
        f"{scheduled.height} scheduled rows; {twice.height} action ids scheduled twice in a "
        f"night: {_sample(twice)}; {unnamed.height} without an id: {_sample(unnamed)}"
    )


def _renamed(run: NightsRun, issued: pl.DataFrame) -> pl.DataFrame:
    """Issued actions (as_of, action_id, valid_until) whose case (or invoice) and step got
    another id on a later night whose next day is still within valid_until, while the
    action was not carried out yet."""
    key = pl.col("action_id").str.replace(r"/[0-9]{8}$", "")
    done = run.contacts.select("action_id", pl.col("at").dt.date().alias("done_on"))
    later = run.actions.filter(pl.col("action_id").is_not_null()).select(
        pl.col("as_of").alias("later_night"),
        pl.col("action_id").alias("later_id"),
        key.alias("key"),
        pl.col("scheduled_for").alias("later_scheduled_for"),
    )
    return (
        issued.with_columns(key.alias("key"))
        .join(later, on="key")
        .filter(
            (pl.col("later_night") > pl.col("as_of"))
            & (pl.col("later_night") + timedelta(days=1) <= pl.col("valid_until"))
            & (pl.col("later_id") != pl.col("action_id"))
        )
        .join(done, on="action_id", how="left")
        .filter(pl.col("done_on").is_null() | (pl.col("done_on") > pl.col("later_night")))
        .sort("as_of", "action_id", "later_night")
    )


def test_an_action_left_undone_comes_back_with_its_id_the_next_night(run: NightsRun):
    dropped = run.dropped.select("as_of", "action_id", "valid_until", "scheduled_for").unique()
    renamed = _renamed(run, dropped)
    again = run.actions.select(pl.col("as_of").alias("next_night"), "action_id")
    done = run.contacts.select("action_id", pl.col("at").dt.date().alias("done_on"))
    # undone on D+1 and still valid on D+2: tonight's id again, carried out on D+2
    came_back = (
        dropped.filter(pl.col("valid_until") >= pl.col("as_of") + timedelta(days=2))
        .join(again, on="action_id")
        .filter(pl.col("next_night") == pl.col("as_of") + timedelta(days=1))
        .join(done, on="action_id")
        .filter(pl.col("done_on") == pl.col("as_of") + timedelta(days=2))
    )
    assert dropped.height > 0, "no action was left undone: the check is vacuous"
    assert came_back.height > 0 and renamed.height == 0, (
        f"{dropped.height} actions left undone, {came_back.height} carried out the next day "
        f"under the same id: {_sample(dropped)}; {renamed.height} renamed while valid: "
        f"{_sample(renamed)}"
    )


def test_an_action_pushed_to_a_later_day_keeps_its_id_until_valid_until(run: NightsRun):
    issued = (
        run.actions.filter(pl.col("status") == "scheduled")
        .select("as_of", "action_id", "valid_until", "scheduled_for")
        .unique()
    )
    renamed = _renamed(run, issued)
    shown = ["as_of", "action_id", "scheduled_for", "valid_until", "later_night", "later_id"]
    assert renamed.height == 0, (
        f"{issued.height} scheduled (night, action) rows; {renamed.height} renamed on a later "
        f"night before their valid_until without being carried out: "
        f"{_sample(renamed.select(*shown, 'later_scheduled_for'))}"
    )


def _promises(run: NightsRun) -> pl.DataFrame:
    """Every promise to pay with the end of its term (promised date plus the grace days) and
    the day the customer's payments since the promise reached the amount (null if never)."""
    grace = timedelta(days=run.config.cases.promises.grace_days)
    promises = run.contacts.filter(pl.col("outcome") == "promise").select(
        "contact_id",
        "customer_id",
        "case_id",
        pl.col("at").dt.date().alias("made_on"),
        (pl.col("promise_date") + grace).alias("term_end"),
        "promise_amount",
    )
    paid = (
        promises.join(run.tables["payments"], on="customer_id")
        .filter(pl.col("paid_at") >= pl.col("made_on"))
        .sort("paid_at")
        .with_columns(pl.col("amount").cum_sum().over("contact_id").alias("paid"))
        .filter(pl.col("paid") >= pl.col("promise_amount") - SETTLE_TOLERANCE_BRL)
        .group_by("contact_id")
        .agg(pl.col("paid_at").min().alias("kept_on"))
    )
    return promises.join(paid, on="contact_id", how="left")


def test_promises_are_kept_and_broken_over_the_run(run: NightsRun):
    promises = _promises(run).filter(pl.col("term_end") < run.end)
    kept = promises.filter(pl.col("kept_on") <= pl.col("term_end"))
    assert 0 < kept.height < promises.height, (
        f"{promises.height} promises with their term over by {run.end}, {kept.height} kept"
    )


def test_a_pending_promise_holds_its_case(run: NightsRun):
    rules = run.config.cases.promises
    promises = _promises(run)
    # promises that hold: at most max_per_case in the case within window_days up to them
    earlier = promises.select("case_id", pl.col("made_on").alias("other_on"))
    holding = (
        promises.join(earlier, on="case_id")
        .filter(
            (pl.col("other_on") <= pl.col("made_on"))
            & (pl.col("other_on") > pl.col("made_on") - timedelta(days=rules.window_days))
        )
        .group_by("contact_id")
        .agg(pl.len().alias("in_window"))
        .filter(pl.col("in_window") <= rules.max_per_case)
    )
    steps = _regua(run).filter(~pl.col("purpose").is_in(["delisting", "agency_recall"]))
    # a case step after the promise, within its term, before the night it was seen kept
    pressed = (
        promises.join(holding, on="contact_id")
        .join(
            steps.select("case_id", pl.col("action_id").alias("step_action"), "day", "purpose"),
            on="case_id",
        )
        .filter(
            (pl.col("day") > pl.col("made_on"))
            & (pl.col("day") <= pl.col("term_end"))
            & (pl.col("kept_on").is_null() | (pl.col("day") <= pl.col("kept_on")))
        )
    )
    assert holding.height > 0, "no promise held a case: the check is vacuous"
    assert pressed.height == 0, (
        f"{holding.height} promises holding their case; {pressed.height} case steps carried "
        f"out while one was pending: {_sample(pressed)}"
    )


def test_the_audit_finds_no_breach(run: NightsRun, violations: pl.DataFrame):
    summary = audit_summary(violations)
    assert summary == dict.fromkeys(summary, 0), (
        f"audit of {run.contacts.height} contacts: {summary}; first: {_sample(violations, 10)}"
    )
