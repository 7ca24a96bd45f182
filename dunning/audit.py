"""Independent compliance audit of executed collection contacts: one row per guardrail breach.

Multi-night tests and the collection twin count breaches here. The audit re-reads the rules
from the configuration (config/guardrails.yaml via `GuardrailsConfig`) and the `holidays`
package and never imports the scheduling code it checks (`dunning.guardrails`, `.slots`,
`.calendar`): a bug shared by the scheduler and its own checks would otherwise go unseen.

Every rule is its own function returning violations in one schema (`VIOLATION_SCHEMA`);
`audit_contacts` runs them all. Times are the naive local times of the contacts file (the
customer's UF), so no time-zone conversion happens here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays
import polars as pl
from dateutil.easter import easter

from regua.config.guardrails import GuardrailsConfig

__all__ = [
    "CUSTOMER_CHANNELS",
    "RULES",
    "VIOLATION_SCHEMA",
    "audit_contacts",
    "audit_summary",
    "check_agency_handoff_once",
    "check_caps",
    "check_debt_age",
    "check_delisting_deadline",
    "check_double_listing",
    "check_notice_lead",
    "check_opt_out",
    "check_window",
    "ladder_purposes",
    "no_contact_days",
]

RULES: tuple[str, ...] = (
    "window",
    "daily_cap",
    "weekly_cap",
    "opt_out",
    "notice_lead",
    "debt_age",
    "double_listing",
    "delisting_deadline",
    "agency_handoff_once",
)
"""Every rule the audit reports, in the order `audit_summary` lists them."""

CUSTOMER_CHANNELS: tuple[str, ...] = ("email", "sms", "whatsapp", "phone", "letter")
"""Channels that reach the customer directly: each has a weekly window per UF."""
BUSINESS_DAY_CHANNELS: tuple[str, ...] = ("bureau", "agency")
"""Channels whose requests go out on business days (Mon-Fri, not a holiday or no-contact day)."""
UNCAPPED_PURPOSES: tuple[str, ...] = (
    "negative_listing",
    "delisting",
    "suspension",
    "agency_recall",
)
"""Purposes the caps never count (config/guardrails.yaml): bureau requests, the notice of the
creditor's own suspension of credit and the agency's recall are not collection pressure."""
OPT_OUT_CHANNELS: tuple[str, ...] = ("email", "sms", "whatsapp", "phone")
"""Channels a customer can opt out of (customers.opt_out_<channel>)."""
FAILED_NOTICE_OUTCOMES: tuple[str, ...] = ("undelivered", "wrong_number")
"""Outcomes of a written notice that did not reach the customer, so it does not count."""
EXTRA_PURPOSES: dict[str, str] = {"delisting": "delisting", "agency_recall": "agency_recall"}
"""Step ids that are not ladder steps but carry a purpose of their own."""
PAID_TOLERANCE_BRL = 1.00
"""An invoice is fully paid once its payments reach its amount minus this (rounding, fees)."""
DELISTING_BUSINESS_DAYS = 5
"""De-listing within 5 business days of payment (STJ Súmula 548)."""
DEFAULT_MAX_CONTACTS_PER_DAY = 1
DEFAULT_MAX_DEBT_AGE_YEARS = 5
"""CDC art. 43 §1: no negative record of a debt older than five years."""
DEFAULT_NO_CONTACT_DAYS: tuple[str, ...] = (
    "carnival_monday",
    "carnival_tuesday",
    "christmas_eve",
    "new_years_eve",
)
"""No-contact days when the config names none (its own default: all four)."""

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # ISO 1..7

VIOLATION_SCHEMA = pl.Schema(
    {
        "rule": pl.String(),
        "customer_id": pl.String(),
        "contact_id": pl.String(),
        "action_id": pl.String(),
        "invoice_id": pl.String(),
        "at": pl.Datetime("us"),
        "detail": pl.String(),
    }
)
"""One violation: the rule, whom and which contact (or action) it concerns, when, and why."""


# --- reading the rules ----------------------------------------------------------------------


def ladder_purposes(ladders: Any | None = None) -> dict[str, str]:
    """Purpose of every step id (config/ladders.yaml) plus `delisting` and `agency_recall`."""
    if ladders is None:
        # Only step ids and purposes matter here: the ladders are validated as a model, their
        # templates are not read (a template being edited must not stop an audit).
        from regua.config import load_yaml_model
        from regua.config.dunning import LaddersConfig
        from regua.settings import get_settings

        ladders = load_yaml_model(get_settings().config_dir / "ladders.yaml", LaddersConfig)
    mapping = {step.id: step.purpose for _, _, step in ladders.steps()}
    return {**mapping, **EXTRA_PURPOSES}


def _max_per_day(config: GuardrailsConfig) -> int:
    return int(getattr(config, "max_contacts_per_day", DEFAULT_MAX_CONTACTS_PER_DAY))


def _max_debt_age_years(config: GuardrailsConfig) -> int:
    return int(getattr(config, "max_debt_age_years", DEFAULT_MAX_DEBT_AGE_YEARS))


def _no_contact_names(config: GuardrailsConfig) -> tuple[str, ...]:
    """Names of the no-contact days in force (config `holidays.no_contact_days`, else all)."""
    return tuple(getattr(config.holidays, "no_contact_days", DEFAULT_NO_CONTACT_DAYS))


def no_contact_days(config: GuardrailsConfig, years: Iterable[int]) -> pl.DataFrame:
    """Days with no contact at all (day, no_contact_day): Carnival, Christmas and New Year's Eves.

    Carnival Monday and Tuesday fall 48 and 47 days before Easter Sunday.
    """
    names = set(_no_contact_names(config))
    rows: list[tuple[date, str]] = []
    for year in years:
        days = {
            "carnival_monday": easter(year) - timedelta(days=48),
            "carnival_tuesday": easter(year) - timedelta(days=47),
            "christmas_eve": date(year, 12, 24),
            "new_years_eve": date(year, 12, 31),
        }
        rows += [(day, name) for name, day in days.items() if name in names]
    frame = pl.DataFrame(
        rows, schema={"day": pl.Date(), "no_contact_day": pl.String()}, orient="row"
    )
    return frame.unique("day", keep="first").sort("day")


@lru_cache(maxsize=16)
def _holiday_rows(
    ufs: tuple[str, ...], years: tuple[int, ...], categories: tuple[str, ...], state: bool
) -> pl.DataFrame:
    """Holidays of each UF (national plus, when `state`, the UF's own); "" is national only."""
    rows: list[tuple[str, date, str]] = []
    for uf in ufs:
        days = (
            holidays.Brazil(subdiv=uf, years=years, categories=categories)
            if state and uf
            else holidays.Brazil(years=years, categories=categories)
        )
        rows += [(uf, day, name) for day, name in days.items()]
    schema = {"uf": pl.String(), "day": pl.Date(), "holiday": pl.String()}
    return pl.DataFrame(rows, schema=schema, orient="row").unique(["uf", "day"], keep="first")


def _holidays(
    ufs: Iterable[str], years: Iterable[int], categories: Iterable[str], state: bool
) -> pl.DataFrame:
    return _holiday_rows(
        tuple(sorted(set(ufs))), tuple(sorted(set(years))), tuple(categories), state
    )


def _years(days: pl.Series) -> list[int]:
    """Every year from the earliest to the latest of `days` (empty when there are none)."""
    days = days.drop_nulls()
    return list(range(days.min().year, days.max().year + 1)) if days.len() else []


# --- shaping the contacts -------------------------------------------------------------------


def _prepare(
    contacts: pl.DataFrame,
    customers: pl.DataFrame,
    purposes: Mapping[str, str] | None,
) -> pl.DataFrame:
    """Contacts with purpose, UF, local day, day number, minute of day and ISO weekday."""
    optional = ("contact_id", "action_id", "case_id", "invoice_id", "step_id", "purpose")
    frame = contacts.with_columns(
        pl.lit(None, dtype=pl.String()).alias(c) for c in optional if c not in contacts.columns
    )
    if frame["purpose"].null_count() and purposes is None:
        purposes = ladder_purposes()
    mapped = pl.col("step_id").replace_strict(
        dict(purposes or {}), default=None, return_dtype=pl.String()
    )
    flags = ("do_not_contact", *(f"opt_out_{c}" for c in OPT_OUT_CHANNELS))
    people = customers.select(
        "customer_id",
        pl.col("state").alias("uf"),
        *(
            (pl.col(f).fill_null(False) if f in customers.columns else pl.lit(False)).alias(f)
            for f in flags
        ),
    )
    return (
        frame.with_row_index("_row")
        .with_columns(
            pl.col("purpose").cast(pl.String()).fill_null(mapped),
            pl.col("at").cast(pl.Datetime("us")),
        )
        .join(people, on="customer_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("uf").fill_null(""),
            pl.col("at").dt.date().alias("day"),
            pl.col("at").dt.weekday().alias("weekday"),
            (
                pl.col("at").dt.hour().cast(pl.Int32()) * 60
                + pl.col("at").dt.minute().cast(pl.Int32())
            ).alias("minute"),
        )
        .with_columns(pl.col("day").cast(pl.Int32()).alias("day_no"))
    )


def _emit(
    frame: pl.DataFrame, rule: str, detail: pl.Expr, at: pl.Expr | None = None
) -> pl.DataFrame:
    """`frame`'s rows as violations of `rule` (detail and time as given)."""
    return frame.select(
        pl.lit(rule).alias("rule"),
        pl.col("customer_id").cast(pl.String()),
        pl.col("contact_id").cast(pl.String()),
        pl.col("action_id").cast(pl.String()),
        pl.col("invoice_id").cast(pl.String()),
        (pl.col("at") if at is None else at).cast(pl.Datetime("us")).alias("at"),
        detail.alias("detail"),
    )


def _stamp(column: str = "at") -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m-%d %H:%M")


def _hhmm(minutes: pl.Expr) -> pl.Expr:
    return pl.format(
        "{}:{}",
        (minutes // 60).cast(pl.String()).str.zfill(2),
        (minutes % 60).cast(pl.String()).str.zfill(2),
    )


def _listings(frame: pl.DataFrame, purpose: str) -> pl.DataFrame:
    return frame.filter((pl.col("purpose") == purpose) & (pl.col("channel") == "bureau"))


# --- the rules ------------------------------------------------------------------------------


def check_window(frame: pl.DataFrame, config: GuardrailsConfig) -> pl.DataFrame:
    """Contacts outside their channel's weekday window, or on a Sunday, holiday or no-contact
    day; bureau and agency requests off business days."""
    years = _years(frame["day"])
    rules = config.holidays
    off = _holidays(frame["uf"].unique(), years, rules.categories, rules.include_state)
    windows = pl.DataFrame(
        [
            (uf, channel, iso, w.start_minute, w.end_minute)
            for uf in frame["uf"].unique().to_list()
            for channel in CUSTOMER_CHANNELS
            for iso, name in enumerate(_WEEKDAYS[:6], start=1)
            if (w := config.window(uf, channel, name)) is not None
        ],
        schema={
            "uf": pl.String(),
            "channel": pl.String(),
            "weekday": pl.Int8(),
            "start": pl.Int32(),
            "end": pl.Int32(),
        },
        orient="row",
    )
    checked = (
        frame.filter(pl.col("channel").is_in([*CUSTOMER_CHANNELS, *BUSINESS_DAY_CHANNELS]))
        .with_columns(pl.col("weekday").cast(pl.Int8()))
        .join(off, on=["uf", "day"], how="left")
        .join(no_contact_days(config, years), on="day", how="left")
        .join(windows, on=["uf", "channel", "weekday"], how="left")
    )
    weekday = pl.col("weekday").replace_strict(
        dict(enumerate(_WEEKDAYS, start=1)), return_dtype=pl.String()
    )
    business = pl.col("channel").is_in(BUSINESS_DAY_CHANNELS)
    reason = (
        pl.when(pl.col("weekday") == 7)
        .then(pl.lit("on a Sunday"))
        .when(pl.col("holiday").is_not_null())
        .then(pl.format("on a holiday ({})", pl.col("holiday")))
        .when(pl.col("no_contact_day").is_not_null())
        .then(pl.format("on a no-contact day ({})", pl.col("no_contact_day")))
        .when(business & (pl.col("weekday") == 6))
        .then(pl.lit("on a Saturday, not a business day"))
        .when(business)
        .then(pl.lit(None))
        .when(pl.col("start").is_null())
        .then(pl.format("with no {} window on {}", pl.col("channel"), weekday))
        .when((pl.col("minute") < pl.col("start")) | (pl.col("minute") >= pl.col("end")))
        .then(
            pl.format(
                "outside the {} window {}-{} on {}",
                pl.col("channel"),
                _hhmm(pl.col("start")),
                _hhmm(pl.col("end")),
                weekday,
            )
        )
    )
    bad = checked.with_columns(reason.alias("reason")).filter(pl.col("reason").is_not_null())
    detail = pl.format(
        "{} contact at {} ({}) {}", pl.col("channel"), _stamp(), pl.col("uf"), pl.col("reason")
    )
    return _emit(bad.sort("_row"), "window", detail)


def check_caps(frame: pl.DataFrame, config: GuardrailsConfig) -> pl.DataFrame:
    """Counted contacts beyond the daily cap, and beyond the cap of any 7 consecutive days.

    Counted: contacts on `cap_channels` whose purpose is not in `UNCAPPED_PURPOSES`.

    Each contact that takes its customer's day (or its trailing 7 days, itself included) over
    the cap is one violation, so a window with k contacts too many gives k violations.
    """
    per_day, per_week = _max_per_day(config), config.max_contacts_per_7_days
    counted = (
        frame.filter(
            pl.col("channel").is_in(config.cap_channels)
            & ~pl.col("purpose").is_in(UNCAPPED_PURPOSES).fill_null(False)
        )
        .sort("customer_id", "at", "_row")
        .with_columns(pl.int_range(1, pl.len() + 1).over("customer_id", "day_no").alias("nth"))
    )
    daily = (
        counted.group_by("customer_id", "day_no")
        .agg(pl.len().alias("n"))
        .sort("customer_id", "day_no")
    )
    weekly = daily.rolling(index_column="day_no", period="7i", group_by="customer_id").agg(
        pl.col("n").sum().alias("week")
    )
    ranked = (
        counted.join(daily, on=["customer_id", "day_no"], how="left")
        .join(weekly, on=["customer_id", "day_no"], how="left")
        .with_columns((pl.col("week") - pl.col("n") + pl.col("nth")).alias("trailing"))
    )
    over_day = ranked.filter(pl.col("nth") > per_day)
    over_week = ranked.filter(pl.col("trailing") > per_week)
    return pl.concat(
        [
            _emit(
                over_day,
                "daily_cap",
                pl.format(
                    "{} contact at {} is contact {} of the day (cap {})",
                    pl.col("channel"),
                    _stamp(),
                    pl.col("nth"),
                    pl.lit(per_day),
                ),
            ),
            _emit(
                over_week,
                "weekly_cap",
                pl.format(
                    "{} contact at {} is contact {} in 7 days (cap {})",
                    pl.col("channel"),
                    _stamp(),
                    pl.col("trailing"),
                    pl.lit(per_week),
                ),
            ),
        ]
    )


def check_opt_out(frame: pl.DataFrame, config: GuardrailsConfig) -> pl.DataFrame:
    """Ordinary contacts with a do-not-contact customer or on a channel they opted out of."""
    # A suspension notice tells of the creditor's own act (no new credit); like a bureau
    # request or an agency recall it is not collection pressure, and opt-outs do not stop it.
    exempt = (pl.col("channel") == "bureau") | pl.col("purpose").is_in(
        ["agency_recall", "suspension"]
    )
    if config.legal_notices_ignore_opt_outs:
        exempt = exempt | (pl.col("purpose") == "negative_listing_notice")
    opted_out = pl.lit(False)
    for channel in OPT_OUT_CHANNELS:
        opted_out = opted_out | ((pl.col("channel") == channel) & pl.col(f"opt_out_{channel}"))
    reason = (
        pl.when(pl.col("do_not_contact"))
        .then(pl.lit("a do-not-contact customer"))
        .when(opted_out)
        .then(pl.format("a customer opted out of {}", pl.col("channel")))
    )
    bad = frame.filter(~exempt.fill_null(False)).with_columns(reason.alias("reason"))
    bad = bad.filter(pl.col("reason").is_not_null())
    detail = pl.format(
        "{} contact at {} (purpose {}) to {}",
        pl.col("channel"),
        _stamp(),
        pl.col("purpose").fill_null("unknown"),
        pl.col("reason"),
    )
    return _emit(bad, "opt_out", detail)


def check_notice_lead(
    frame: pl.DataFrame, invoices: pl.DataFrame, config: GuardrailsConfig
) -> pl.DataFrame:
    """Negative listings without a delivered written notice sent after the due date and at
    least lead_days(uf) calendar days before."""
    listings = _listings(frame, "negative_listing").join(
        invoices.select("invoice_id", "due_at"), on="invoice_id", how="left"
    )
    ufs = listings["uf"].unique().to_list()
    leads = pl.DataFrame(
        {"uf": ufs, "lead": [config.lead_days(uf) for uf in ufs]},
        schema={"uf": pl.String(), "lead": pl.Int32()},
    )
    listings = listings.join(leads, on="uf", how="left")
    notices = frame.filter(
        (pl.col("purpose") == "negative_listing_notice")
        & pl.col("channel").is_in(config.written_notice_channels)
        & ~pl.col("outcome").is_in(FAILED_NOTICE_OUTCOMES).fill_null(False)
    ).select("customer_id", pl.col("day").alias("notice_day"))
    noticed = (
        listings.join(notices, on="customer_id", how="inner")
        .filter(
            (pl.col("notice_day") > pl.col("due_at"))
            & ((pl.col("day") - pl.col("notice_day")).dt.total_days() >= pl.col("lead"))
        )
        .select("_row")
        .unique()
    )
    bad = listings.join(noticed, on="_row", how="anti").sort("_row")
    detail = pl.format(
        "negative listing of invoice {} at {} without a written notice sent after the due date "
        "{} and at least {} days before",
        pl.col("invoice_id"),
        _stamp(),
        pl.col("due_at"),
        pl.col("lead"),
    )
    return _emit(bad, "notice_lead", detail)


def check_debt_age(
    frame: pl.DataFrame, invoices: pl.DataFrame, config: GuardrailsConfig
) -> pl.DataFrame:
    """Negative listings of invoices due more than max_debt_age_years before the listing."""
    years = _max_debt_age_years(config)
    bad = (
        _listings(frame, "negative_listing")
        .join(invoices.select("invoice_id", "due_at"), on="invoice_id", how="left")
        .filter(pl.col("due_at") < pl.col("day").dt.offset_by(f"-{years}y"))
    )
    detail = pl.format(
        "negative listing of invoice {} at {}: due {}, more than {} years before",
        pl.col("invoice_id"),
        _stamp(),
        pl.col("due_at"),
        pl.lit(years),
    )
    return _emit(bad, "debt_age", detail)


def check_double_listing(frame: pl.DataFrame) -> pl.DataFrame:
    """An invoice listed again while still listed (no de-listing since its last listing)."""
    events = pl.concat(
        [
            _listings(frame, "negative_listing").with_columns(pl.lit(1).alias("kind")),
            _listings(frame, "delisting").with_columns(pl.lit(0).alias("kind")),
        ]
    ).sort("invoice_id", "at", "kind", "_row")
    bad = events.with_columns(pl.col("kind").shift(1).over("invoice_id").alias("before")).filter(
        (pl.col("kind") == 1) & (pl.col("before") == 1)
    )
    detail = pl.format(
        "invoice {} listed again at {} without a de-listing since its last listing",
        pl.col("invoice_id"),
        _stamp(),
    )
    return _emit(bad.sort("_row"), "double_listing", detail)


def _business_days(ufs: Iterable[str], first: date, last: date) -> pl.DataFrame:
    """Every day per UF with `bd`, the number of business days (Mon-Fri, not a national or
    state public holiday) up to and including it, and whether it is one (`is_bd`)."""
    ufs = sorted(set(ufs))
    days = pl.DataFrame({"day": pl.date_range(first, last, "1d", eager=True)})
    grid = pl.DataFrame({"uf": ufs}, schema={"uf": pl.String()}).join(days, how="cross")
    off = _holidays(ufs, range(first.year, last.year + 1), ("public",), True)
    return (
        grid.join(off, on=["uf", "day"], how="left")
        .with_columns(
            ((pl.col("day").dt.weekday() <= 5) & pl.col("holiday").is_null()).alias("is_bd")
        )
        .sort("uf", "day")
        .with_columns(pl.col("is_bd").cast(pl.Int32()).cum_sum().over("uf").alias("bd"))
        .select("uf", "day", "bd", "is_bd")
    )


def check_delisting_deadline(
    frame: pl.DataFrame, invoices: pl.DataFrame, payments: pl.DataFrame, until: date
) -> pl.DataFrame:
    """Listed invoices paid in full or renegotiated (agreement) afterwards whose de-listing
    came after the 5th business day, or is missing with that deadline already past `until`."""
    listings = _listings(frame, "negative_listing")
    if listings.is_empty():
        return pl.DataFrame(schema=VIOLATION_SCHEMA)
    paid = (
        payments.group_by("invoice_id", "paid_at")
        .agg(pl.col("amount").sum())
        .sort("invoice_id", "paid_at")
        .with_columns(pl.col("amount").cum_sum().over("invoice_id").alias("paid"))
        .join(invoices.select("invoice_id", pl.col("amount").alias("owed")), on="invoice_id")
        .filter(pl.col("paid") >= pl.col("owed") - PAID_TOLERANCE_BRL)
        .group_by("invoice_id")
        .agg(pl.col("paid_at").min().alias("settled"))
    )
    agreements = payments.filter(pl.col("method") == "agreement").select(
        "invoice_id", pl.col("paid_at").alias("agreed")
    )
    agreed = (
        listings.select("_row", "invoice_id", "day")
        .join(agreements, on="invoice_id")
        .filter(pl.col("agreed") >= pl.col("day"))
        .group_by("_row")
        .agg(pl.col("agreed").min())
    )
    delistings = _listings(frame, "delisting").select(
        "invoice_id",
        pl.col("at").alias("delisted_at"),
        pl.col("contact_id").alias("delisting_contact_id"),
        pl.col("action_id").alias("delisting_action_id"),
    )
    first_delisting = (
        listings.select("_row", "invoice_id", "at")
        .join(delistings, on="invoice_id")
        .filter(pl.col("delisted_at") >= pl.col("at"))
        .sort("delisted_at")
        .group_by("_row", maintain_order=True)
        .first()
        .drop("invoice_id", "at")
    )
    settled = pl.when(pl.col("settled").is_not_null()).then(pl.max_horizontal("settled", "day"))
    triggered = (
        listings.join(paid, on="invoice_id", how="left")
        .join(agreed, on="_row", how="left")
        .with_columns(pl.min_horizontal(settled, pl.col("agreed")).alias("trigger"))
        .filter(pl.col("trigger").is_not_null())
    )
    if triggered.is_empty():
        return pl.DataFrame(schema=VIOLATION_SCHEMA)
    first, last = triggered["trigger"].min(), triggered["trigger"].max()
    calendar = _business_days(triggered["uf"], first, last + timedelta(days=60))
    # The deadline is the business day numbered 5 after the trigger day's count.
    deadlines = calendar.filter("is_bd").select(
        "uf", (pl.col("bd") - DELISTING_BUSINESS_DAYS).alias("bd"), pl.col("day").alias("deadline")
    )
    due = (
        triggered.join(
            calendar.select("uf", pl.col("day").alias("trigger"), "bd"),
            on=["uf", "trigger"],
            how="left",
        )
        .join(deadlines, on=["uf", "bd"], how="left")
        .join(first_delisting, on="_row", how="left")
    )
    late = due.filter(pl.col("delisted_at").dt.date() > pl.col("deadline")).with_columns(
        pl.col("delisting_contact_id").alias("contact_id"),
        pl.col("delisting_action_id").alias("action_id"),
    )
    missing = due.filter(pl.col("delisted_at").is_null() & (pl.col("deadline") <= until))
    why = pl.when(pl.col("agreed") == pl.col("trigger")).then(pl.lit("agreement payment"))
    why = why.otherwise(pl.lit("paid in full"))
    return pl.concat(
        [
            _emit(
                late,
                "delisting_deadline",
                pl.format(
                    "invoice {} listed at {}, {} on {}: de-listed at {}, after the deadline {}",
                    pl.col("invoice_id"),
                    _stamp(),
                    why,
                    pl.col("trigger"),
                    _stamp("delisted_at"),
                    pl.col("deadline"),
                ),
                at=pl.col("delisted_at"),
            ),
            _emit(
                missing,
                "delisting_deadline",
                pl.format(
                    "invoice {} listed at {}, {} on {}: no de-listing by the deadline {}",
                    pl.col("invoice_id"),
                    _stamp(),
                    why,
                    pl.col("trigger"),
                    pl.col("deadline"),
                ),
                at=pl.col("deadline").cast(pl.Datetime("us")),
            ),
        ]
    ).sort("at")


def check_agency_handoff_once(frame: pl.DataFrame) -> pl.DataFrame:
    """Agency hand-offs after the first of a case (a customer when the case is unknown)."""
    case = [
        pl.col("case_id"),
        pl.when(pl.col("case_id").is_null()).then(pl.col("customer_id")),
    ]
    bad = (
        frame.filter(pl.col("purpose") == "agency_handoff")
        .sort("at", "_row")
        .with_columns(pl.int_range(1, pl.len() + 1).over(case).alias("nth"))
        .filter(pl.col("nth") > 1)
    )
    detail = pl.format(
        "agency hand-off {} of case {} at {}",
        pl.col("nth"),
        pl.col("case_id").fill_null(pl.format("(none, customer {})", pl.col("customer_id"))),
        _stamp(),
    )
    return _emit(bad.sort("_row"), "agency_handoff_once", detail)


# --- entry points ---------------------------------------------------------------------------


def audit_contacts(
    contacts: pl.DataFrame,
    customers: pl.DataFrame,
    invoices: pl.DataFrame,
    payments: pl.DataFrame,
    config: GuardrailsConfig,
    until: date,
    purposes: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Every guardrail violation in executed `contacts` (VIOLATION_SCHEMA, one row each).

    `contacts` follows the contract (local `at` of the customer's UF) and may carry
    `purpose`; otherwise `purposes` (default: config/ladders.yaml plus `delisting` and
    `agency_recall`) maps step_id to purpose. `until` is the last day the history covers:
    a missing de-listing is a violation only once its deadline is on or before it.
    `at` is the offending contact's time, or the deadline day for a missing de-listing.
    """
    frame = _prepare(contacts, customers, purposes)
    checks: list[Callable[[], pl.DataFrame]] = [
        lambda: check_window(frame, config),
        lambda: check_caps(frame, config),
        lambda: check_opt_out(frame, config),
        lambda: check_notice_lead(frame, invoices, config),
        lambda: check_debt_age(frame, invoices, config),
        lambda: check_double_listing(frame),
        lambda: check_delisting_deadline(frame, invoices, payments, until),
        lambda: check_agency_handoff_once(frame),
    ]
    found = pl.concat([check().cast(VIOLATION_SCHEMA) for check in checks])
    order = {rule: i for i, rule in enumerate(RULES)}
    return (
        found.with_columns(pl.col("rule").replace_strict(order).alias("_order"))
        .sort("_order", "customer_id", "at", maintain_order=True)
        .drop("_order")
    )


def audit_summary(violations: pl.DataFrame) -> dict[str, int]:
    """How many violations of each rule (every rule listed, 0 when clean)."""
    counts = dict(violations.group_by("rule").len().iter_rows())
    return {rule: int(counts.get(rule, 0)) for rule in RULES}
