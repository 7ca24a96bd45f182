"""The collection twin's figures (issue 17): money recovered, what it cost, how cases ended.

Pure functions of the frames one twin run produces, so a policy's figures depend on
nothing but what happened to its customers. `twin_kpis` gives one row per figure,
`twin_daily` one row per day (the curves of the report), and `summarise_runs` the mean
over seeds of each policy's figures with 95% intervals, and the difference to `fixed`.

Days follow regua's ledger (`features/ledger.py`, `config/ledger.yaml`):

- an invoice is settled on the first day its payments, plus what a discount forgave,
  reach its amount less the settle tolerance;
- it is past due at the end of day d when it fell due before d and is not settled by the
  end of d, until it is charged off (`charge_off_days` past due, the twin's rule in
  `simulate/responses.py`): from then on it is off the open book, though the agency may
  still recover it;
- it *fell past due* when it was not settled by the end of its due date; what fell past
  due is its amount less what was paid (and forgiven) by then. A payment after the due
  date is *recovered* money, by the customer or by the agency (`recovered_by`).

An invoice settled the day after its due date fell past due and its payment is recovered,
but no night saw it past due, so it makes no case.

The frames, as the twin's loop hands them over (dates are `pl.Date`, money BRL Float64):

- `invoices`: the canonical invoices (invoice_id, customer_id, due_at, amount; other
  columns ignored): every invoice open at `day0` or issued up to `last_day`. Older,
  settled invoices may be left in: they are harmless when their payments are given too.
- `payments`: the canonical payments (invoice_id, customer_id, paid_at, amount; method
  "agreement" for agreement instalments) on those invoices up to `last_day`, with
  `recovered_by` ("customer" or "agency") and `discount_brl` (what an accepted discount
  forgave on that invoice, 0 otherwise). Payments before `day0` are the book's history:
  they settle invoices but are not counted (null or missing `recovered_by` reads
  "customer", null or missing `discount_brl` 0). Every payment must name a listed invoice.
- `contacts`: the contacts carried out (canonical contacts: customer_id, at, channel, ...)
  with `purpose` and `cost_brl` (what the attempt cost, the bureau's listing fee on a
  bureau row); rows outside the run are ignored.
- `events`: customer_id, day, kind (one of `EVENT_KINDS`), amount (BRL charged off on a
  charge_off row, else ignored).
- `agency_fees`: customer_id, day, fee_brl: what the agency kept of what it recovered.
- `daily_open`: day, bucket, customers, open_amount: the open book at the end of each
  day by the days past due of each customer's oldest open invoice, buckets "current",
  "1-30", "31-60", "61-90", "90+" (`reports.portfolio.BUCKETS`), as the loop computes it
  with regua's ledger.
- `day0`, `last_day`: the first and last day of the run, both included.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache

import polars as pl

from regua.config.ledger import load_ledger
from regua.contract import CHANNELS

PAST_DUE_BUCKETS: tuple[str, ...] = ("1-30", "31-60", "61-90", "90+")
"""Buckets of days past due, by the oldest open invoice (`reports.portfolio.BUCKETS`)."""
OPEN_BOOK_BUCKETS: tuple[str, ...] = ("current", *PAST_DUE_BUCKETS)
OPEN_COLUMNS: dict[str, str] = {
    "1-30": "open_brl_1_30",
    "31-60": "open_brl_31_60",
    "61-90": "open_brl_61_90",
    "90+": "open_brl_90_plus",
}
"""`twin_daily`'s column of the open past-due amount of each bucket."""
COUNTED_CHANNELS: tuple[str, ...] = ("email", "sms", "whatsapp", "phone", "letter")
"""Channels whose rows are contacts with the customer (guardrails.yaml `cap_channels`): an
agency hand-off or a bureau request costs money but is not a contact."""
EVENT_KINDS: tuple[str, ...] = ("opt_out", "complaint", "dispute", "agency_handoff", "charge_off")
HORIZONS: tuple[int, ...] = (30, 60, 90)
"""Days past due within which recovered money is counted."""
ROLL_DAYS = 30
"""Days between the checkpoints of a roll rate: month-end-like, from day0."""
BASELINE = "fixed"
CONFIDENCE = 0.95
EPOCH = date(1970, 1, 1)

KPI_SCHEMA = pl.Schema(
    {"kpi": pl.String(), "value": pl.Float64(), "unit": pl.String(), "description": pl.String()}
)
_REQUIRED: dict[str, tuple[str, ...]] = {
    "invoices": ("invoice_id", "customer_id", "due_at", "amount"),
    "payments": ("invoice_id", "customer_id", "paid_at", "amount"),
    "contacts": ("customer_id", "at", "channel", "cost_brl"),
    "events": ("customer_id", "day", "kind", "amount"),
    "agency_fees": ("customer_id", "day", "fee_brl"),
    "daily_open": ("day", "bucket", "customers", "open_amount"),
    "kpis": ("policy", "seed", "kpi", "value"),
}


# --- checks and shared facts ----------------------------------------------------------------


def _check(frame: pl.DataFrame, name: str) -> None:
    """Stop on a frame without the columns its definition asks for."""
    missing = [c for c in _REQUIRED[name] if c not in frame.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")


def _check_values(frame: pl.DataFrame, name: str, column: str, allowed: Sequence[str]) -> None:
    """Stop on a value the definitions do not know (it would silently count as nothing)."""
    unknown = frame.filter(~pl.col(column).is_in(list(allowed)))[column].unique().sort()
    if unknown.len():
        raise ValueError(
            f"{name}: unknown {column} value(s) {', '.join(map(str, unknown.to_list()))} "
            f"(known: {', '.join(allowed)})"
        )


def _day(value: date) -> int:
    return (value - EPOCH).days


def _num(column: str) -> pl.Expr:
    """A Date column as a day number (days since 1970-01-01)."""
    return pl.col(column).cast(pl.Date).cast(pl.Int32)


def _num_at() -> pl.Expr:
    """The day number of a contact's local time `at`."""
    return pl.col("at").dt.date().cast(pl.Int32)


def _cents(amount: pl.Expr) -> pl.Expr:
    return (amount * 100).round().cast(pl.Int64)


def _in_run(day: pl.Expr, day0: date, last_day: date) -> pl.Expr:
    return day.is_between(_day(day0), _day(last_day))


def _payments(payments: pl.DataFrame, last_day: date) -> pl.DataFrame:
    """Payments up to `last_day` with their day number, who recovered them and what a
    discount forgave."""
    _check(payments, "payments")
    defaults = {"recovered_by": pl.lit(None, pl.String), "discount_brl": pl.lit(None, pl.Float64)}
    frame = (
        payments.with_columns(v.alias(k) for k, v in defaults.items() if k not in payments.columns)
        .with_columns(
            _num("paid_at").alias("day"),
            pl.col("recovered_by").fill_null("customer"),
            pl.col("discount_brl").cast(pl.Float64).fill_null(0.0),
        )
        .filter(pl.col("day") <= _day(last_day))
    )
    _check_values(frame, "payments", "recovered_by", ("customer", "agency"))
    return frame


def _invoice_facts(
    invoices: pl.DataFrame,
    payments: pl.DataFrame,
    last_day: date,
    charge_off_days: int | None,
    tolerance: float | None,
) -> pl.DataFrame:
    """Per invoice: due, settled (day or null), fell_past_due_brl and its past-due days.

    `start`..`end` are the days at whose end it was past due (`end` < `start`: never);
    `charged_off` says it left the open book by charge-off on or before `last_day`.
    """
    _check(invoices, "invoices")
    tol = round(100 * (load_ledger().settle_tolerance_brl if tolerance is None else tolerance))
    last = _day(last_day)
    inv = invoices.select(
        "invoice_id",
        "customer_id",
        _num("due_at").alias("due"),
        _cents(pl.col("amount")).alias("_owed"),
    )
    unknown = payments.join(inv, on="invoice_id", how="anti")
    if unknown.height:
        some = ", ".join(unknown["invoice_id"].unique().sort().head(5).cast(pl.String).to_list())
        raise ValueError(f"payments: {unknown.height} payment(s) of invoices not listed ({some})")
    credit = (
        payments.group_by("invoice_id", "day")
        .agg((_cents(pl.col("amount")) + _cents(pl.col("discount_brl"))).sum().alias("_c"))
        .sort("invoice_id", "day")
        .with_columns(pl.col("_c").cum_sum().over("invoice_id").alias("_cum"))
        .join(inv.select("invoice_id", "due", "_owed"), on="invoice_id")
    )
    settled = (
        credit.filter(pl.col("_cum") >= pl.col("_owed") - tol)
        .group_by("invoice_id")
        .agg(pl.col("day").min().alias("settled"))
    )
    by_due = (
        credit.filter(pl.col("day") <= pl.col("due"))
        .group_by("invoice_id")
        .agg(pl.col("_cum").max().alias("_paid_by_due"))
    )
    fell = pl.col("settled").is_null() | (pl.col("settled") > pl.col("due"))
    if charge_off_days is None:
        charged_off = pl.lit(False)
        charge_end = pl.lit(None, pl.Int32)
    else:
        charge_day = pl.col("due") + charge_off_days
        charged_off = (charge_day <= last) & (
            pl.col("settled").is_null() | (pl.col("settled") >= charge_day)
        )
        charge_end = pl.when(charged_off).then(charge_day - 1)
    return (
        inv.join(settled, on="invoice_id", how="left")
        .join(by_due, on="invoice_id", how="left")
        .with_columns(
            pl.when(fell)
            .then((pl.col("_owed") - pl.col("_paid_by_due").fill_null(0)).clip(0) / 100)
            .otherwise(0.0)
            .alias("fell_past_due_brl"),
            (pl.col("due") + 1).alias("start"),
            pl.min_horizontal(pl.col("settled") - 1, charge_end, pl.lit(last)).alias("end"),
            charged_off.alias("charged_off"),
        )
        .drop("_owed", "_paid_by_due")
    )


def _cases(facts: pl.DataFrame, day0: date, last_day: date) -> pl.DataFrame:
    """A customer's runs of consecutive past-due days that reach into the run, with outcome.

    outcome: "charged_off" when an invoice of the case was charged off, else "cured" when
    the case ended before `last_day`, else "open".
    """
    runs = (
        facts.filter(pl.col("end") >= pl.col("start"))
        .select("customer_id", "start", "end", "charged_off")
        .sort("customer_id", "start")
        .with_columns(pl.col("end").cum_max().shift(1).over("customer_id").alias("_reach"))
        .with_columns(
            (pl.col("_reach").is_null() | (pl.col("start") > pl.col("_reach") + 1))
            .cum_sum()
            .over("customer_id")
            .alias("case")
        )
        .group_by("customer_id", "case")
        .agg(pl.col("start").min(), pl.col("end").max(), pl.col("charged_off").any())
        .filter(pl.col("end") >= _day(day0))
    )
    return runs.with_columns(
        pl.when("charged_off")
        .then(pl.lit("charged_off"))
        .when(pl.col("end") < _day(last_day))
        .then(pl.lit("cured"))
        .otherwise(pl.lit("open"))
        .alias("outcome")
    ).sort("customer_id", "start")


def _bucket_index(dpd: pl.Expr) -> pl.Expr:
    """1 for 1-30 days past due, 2 for 31-60, 3 for 61-90, 4 beyond."""
    return pl.when(dpd <= 30).then(1).when(dpd <= 60).then(2).when(dpd <= 90).then(3).otherwise(4)


def checkpoints(day0: date, last_day: date) -> list[date]:
    """The roll-rate checkpoints: day0 + 30k for every k whose next checkpoint is in the run."""
    span = (last_day - day0).days
    return [day0 + timedelta(days=k) for k in range(0, span - ROLL_DAYS + 1, ROLL_DAYS)]


def _roll_rates(facts: pl.DataFrame, day0: date, last_day: date) -> list[float | None]:
    """Share of customers in 1-30, 31-60, 61-90 at a checkpoint in the next bucket 30 days on."""
    starts = [_day(t) for t in checkpoints(day0, last_day)]
    if not starts:
        return [None] * (len(PAST_DUE_BUCKETS) - 1)
    late = facts.filter(pl.col("end") >= pl.col("start"))
    days = sorted({*starts, *(t + ROLL_DAYS for t in starts)})
    position = pl.concat(
        [
            late.filter((pl.col("start") <= t) & (pl.col("end") >= t))
            .group_by("customer_id")
            .agg(_bucket_index(t - pl.col("due").min()).alias("bucket"))
            .with_columns(pl.lit(t, pl.Int32).alias("day"))
            for t in days
        ]
    )
    moves = (
        position.filter(pl.col("day").is_in(starts))
        .join(
            position.select(
                "customer_id",
                (pl.col("day") - ROLL_DAYS).alias("day"),
                pl.col("bucket").alias("next"),
            ),
            on=["customer_id", "day"],
            how="left",
        )
        .group_by("bucket")
        .agg(pl.len().alias("n"), (pl.col("next") == pl.col("bucket") + 1).sum().alias("rolled"))
    )
    rates = dict(zip(moves["bucket"], (moves["rolled"] / moves["n"]).to_list(), strict=True))
    return [rates.get(b) for b in range(1, len(PAST_DUE_BUCKETS))]


def _open_book(daily_open: pl.DataFrame) -> pl.DataFrame:
    """The open past-due amount per day, one column per bucket (`OPEN_COLUMNS`) and total."""
    _check(daily_open, "daily_open")
    _check_values(daily_open, "daily_open", "bucket", OPEN_BOOK_BUCKETS)
    return (
        daily_open.filter(pl.col("bucket").is_in(PAST_DUE_BUCKETS))
        .group_by(pl.col("day").cast(pl.Date))
        .agg(
            *(
                pl.col("open_amount").filter(pl.col("bucket") == b).sum().alias(column)
                for b, column in OPEN_COLUMNS.items()
            ),
            pl.col("open_amount").sum().alias("open_past_due_brl"),
        )
    )


def _ratio(numerator: float | None, denominator: float | None, scale: float = 1.0) -> float | None:
    if numerator is None or not denominator:
        return None
    return scale * numerator / denominator


# --- the figures ----------------------------------------------------------------------------


def twin_kpis(
    *,
    invoices: pl.DataFrame,
    payments: pl.DataFrame,
    contacts: pl.DataFrame,
    events: pl.DataFrame,
    agency_fees: pl.DataFrame,
    daily_open: pl.DataFrame,
    day0: date,
    last_day: date,
    charge_off_days: int | None = None,
    tolerance: float | None = None,
) -> pl.DataFrame:
    """One run's figures, one row each (kpi, value, unit, description); see the module doc.

    `charge_off_days` is the twin's charge-off age (config/twin.yaml; None: nothing is
    charged off); `tolerance` the settle tolerance in BRL (default config/ledger.yaml).
    A ratio whose denominator is 0 (no case, nothing recovered) is null.

        kpis = twin_kpis(invoices=..., payments=..., ..., day0=date(2027, 1, 1),
                         last_day=date(2027, 3, 31), charge_off_days=180)
    """
    for frame, name in ((contacts, "contacts"), (events, "events"), (agency_fees, "agency_fees")):
        _check(frame, name)
    _check_values(events, "events", "kind", EVENT_KINDS)
    first, last = _day(day0), _day(last_day)
    pays = _payments(payments, last_day)
    facts = _invoice_facts(invoices, pays, last_day, charge_off_days, tolerance)
    run_pays = pays.filter(_in_run(pl.col("day"), day0, last_day)).join(
        facts.select("invoice_id", "due"), on="invoice_id"
    )
    late = run_pays.filter(pl.col("day") > pl.col("due"))
    recovered = float(late["amount"].sum())
    by_whom = {who: float(late.filter(pl.col("recovered_by") == who)["amount"].sum())
               for who in ("customer", "agency")}  # fmt: skip

    cohort = facts.filter(
        pl.col("due").is_between(first, last - 1) & (pl.col("fell_past_due_brl") > 0)
    )
    fell = float(cohort["fell_past_due_brl"].sum())
    cohort_late = late.join(cohort.select("invoice_id"), on="invoice_id").with_columns(
        (pl.col("day") - pl.col("due")).alias("dpd")
    )

    cases = _cases(facts, day0, last_day)
    n_cases = cases.height
    cured = cases.filter(pl.col("outcome") == "cured").height
    rolls = _roll_rates(facts, day0, last_day)

    run_contacts = contacts.filter(_in_run(_num_at(), day0, last_day))
    n_contacts = run_contacts.filter(pl.col("channel").is_in(COUNTED_CHANNELS)).height
    contact_cost = float(run_contacts["cost_brl"].sum())
    fees = float(agency_fees.filter(_in_run(_num("day"), day0, last_day))["fee_brl"].sum())
    run_events = events.filter(_in_run(_num("day"), day0, last_day))
    counts = {k: run_events.filter(pl.col("kind") == k).height for k in EVENT_KINDS}
    charged_brl = float(run_events.filter(pl.col("kind") == "charge_off")["amount"].sum())
    collected = float(run_pays["amount"].sum())
    at_end = _open_book(daily_open).filter(pl.col("day") == last_day)["open_past_due_brl"]

    rows: list[tuple[str, float | None, str, str]] = [
        ("recovered_brl", recovered, "BRL",
         "Paid after the due date during the run, by customers and the agency, any invoice"),
        ("recovered_customer_brl", by_whom["customer"], "BRL", "Of which paid by the customer"),
        ("recovered_agency_brl", by_whom["agency"], "BRL", "Of which recovered by the agency"),
        ("collected_brl", collected, "BRL",
         "Every payment during the run, on time or late (what a reminder before the due "
         "date brings in shows here, not in recovered_brl)"),
        ("fell_past_due_brl", fell, "BRL",
         "Unpaid at the end of the due date, invoices due from day0 to the day before last_day"),
    ]  # fmt: skip
    for k in HORIZONS:
        in_time = cohort_late.filter(pl.col("dpd") <= k)
        ripe = pl.col("due") + k <= last
        matured_fell = float(cohort.filter(ripe)["fell_past_due_brl"].sum())
        matured_within = float(in_time.filter(ripe)["amount"].sum())
        within = float(in_time["amount"].sum())
        rows += [
            (f"recovered_{k}d_brl", within, "BRL",
             f"Of fell_past_due_brl, recovered within {k} days past due (or by last_day, "
             f"for invoices due in the last {k} days of the run)"),
            (f"recovered_{k}d_share", _ratio(within, fell), "share",
             f"recovered_{k}d_brl / fell_past_due_brl"),
            (f"recovered_{k}d_share_matured", _ratio(matured_within, matured_fell), "share",
             f"Share recovered within {k} days past due of invoices whose {k} days ended by "
             f"last_day (null when none did)"),
        ]  # fmt: skip
    rows += [
        ("cases", float(n_cases), "count",
         "Runs of consecutive days a customer ended with something past due, reaching into "
         "the run (those open at day0 included)"),
        ("cure_rate", _ratio(cured, n_cases), "share",
         "Share of cases that ended with nothing past due before last_day, nothing charged off"),
        ("roll_1_30_to_31_60", rolls[0], "share",
         f"Customers at 1-30 days past due on a checkpoint (day0 + {ROLL_DAYS}k) who are at "
         f"31-60 {ROLL_DAYS} days later, pooled over checkpoints"),
        ("roll_31_60_to_61_90", rolls[1], "share", "The same, from 31-60 to 61-90"),
        ("roll_61_90_to_90_plus", rolls[2], "share", "The same, from 61-90 to more than 90"),
        ("contacts", float(n_contacts), "count",
         f"Contacts with customers during the run ({', '.join(COUNTED_CHANNELS)}; agency "
         "hand-offs and bureau requests are costs, not contacts)"),
        ("contacts_per_case", _ratio(n_contacts, n_cases), "per case", "contacts / cases"),
        ("contacts_per_1000_brl_recovered", _ratio(n_contacts, recovered, 1000.0),
         "per BRL 1,000", "contacts per BRL 1,000 of recovered_brl"),
        ("contact_cost_brl", contact_cost, "BRL",
         "What every contact, hand-off and bureau request of the run cost"),
        ("agency_fees_brl", fees, "BRL", "What the agency kept of what it recovered"),
        ("discounts_brl", float(run_pays["discount_brl"].sum()), "BRL",
         "Forgiven by accepted discounts"),
        ("net_recovery_brl", recovered - contact_cost - fees, "BRL",
         "recovered_brl - contact_cost_brl - agency_fees_brl"),
        ("net_collected_brl", collected - contact_cost - fees, "BRL",
         "collected_brl - contact_cost_brl - agency_fees_brl"),
        ("opt_outs_per_1000_cases", _ratio(counts["opt_out"], n_cases, 1000.0),
         "per 1,000 cases", "Opt-outs of a channel per 1,000 cases"),
        ("complaints_per_1000_cases", _ratio(counts["complaint"], n_cases, 1000.0),
         "per 1,000 cases", "Complaints per 1,000 cases"),
        ("disputes_per_1000_cases", _ratio(counts["dispute"], n_cases, 1000.0),
         "per 1,000 cases", "Disputes per 1,000 cases"),
        ("agency_handoffs", float(counts["agency_handoff"]), "count",
         "Cases handed to the agency"),
        ("charge_offs", float(counts["charge_off"]), "count", "Charge-off events"),
        ("charge_off_brl", charged_brl, "BRL", "Charged off"),
        ("open_past_due_end_brl", float(at_end.sum()) if at_end.len() else None, "BRL",
         "Open past-due amount at the end of last_day (daily_open)"),
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=KPI_SCHEMA, orient="row")


def twin_daily(
    *,
    invoices: pl.DataFrame,
    payments: pl.DataFrame,
    contacts: pl.DataFrame,
    agency_fees: pl.DataFrame,
    daily_open: pl.DataFrame,
    day0: date,
    last_day: date,
    tolerance: float | None = None,
) -> pl.DataFrame:
    """One row per day of the run: recovered, cost, contacts by channel and the open book.

    Wide, one column per fact: recovered_customer_brl, recovered_agency_brl, recovered_brl
    and discounts_brl (as in `twin_kpis`); contact_cost_brl, agency_fees_brl, cost_brl (their
    sum); contacts (with customers, `COUNTED_CHANNELS`) and contacts_<channel> for every
    channel of `contract.CHANNELS` (rows of the day, agency and bureau included); running
    totals cum_recovered_brl, cum_cost_brl, cum_net_recovery_brl; and the open past-due
    amount at the end of the day per bucket (`OPEN_COLUMNS`) and in total
    (open_past_due_brl), null on a day `daily_open` does not cover.
    """
    _check(contacts, "contacts")
    _check(agency_fees, "agency_fees")
    pays = _payments(payments, last_day)
    due = _invoice_facts(invoices, pays, last_day, None, tolerance).select("invoice_id", "due")
    run_pays = pays.filter(_in_run(pl.col("day"), day0, last_day)).join(due, on="invoice_id")
    late = pl.col("day") > pl.col("due")
    money = run_pays.group_by(pl.col("day").cast(pl.Date)).agg(
        pl.col("amount").filter(late & (pl.col("recovered_by") == "customer")).sum()
        .alias("recovered_customer_brl"),
        pl.col("amount").filter(late & (pl.col("recovered_by") == "agency")).sum()
        .alias("recovered_agency_brl"),
        pl.col("discount_brl").sum().alias("discounts_brl"),
    )  # fmt: skip
    touches = (
        contacts.with_columns(_num_at().alias("_day"))
        .filter(_in_run(pl.col("_day"), day0, last_day))
        .group_by(pl.col("_day").cast(pl.Date).alias("day"))
        .agg(
            pl.col("cost_brl").sum().alias("contact_cost_brl"),
            pl.col("channel").is_in(COUNTED_CHANNELS).sum().cast(pl.Int64).alias("contacts"),
            *(
                (pl.col("channel") == c).sum().cast(pl.Int64).alias(f"contacts_{c}")
                for c in CHANNELS
            ),
        )
    )
    fees = (
        agency_fees.filter(_in_run(_num("day"), day0, last_day))
        .group_by(pl.col("day").cast(pl.Date))
        .agg(pl.col("fee_brl").sum().alias("agency_fees_brl"))
    )
    flows = [
        "recovered_customer_brl", "recovered_agency_brl", "discounts_brl", "contact_cost_brl",
        "agency_fees_brl", "contacts", *(f"contacts_{c}" for c in CHANNELS),
    ]  # fmt: skip
    days = pl.DataFrame({"day": pl.date_range(day0, last_day, "1d", eager=True)})
    frame = (
        days.join(money, on="day", how="left")
        .join(touches, on="day", how="left")
        .join(fees, on="day", how="left")
        .with_columns(pl.col(flows).fill_null(0))
        .with_columns(
            (pl.col("recovered_customer_brl") + pl.col("recovered_agency_brl")).alias(
                "recovered_brl"
            ),
            (pl.col("contact_cost_brl") + pl.col("agency_fees_brl")).alias("cost_brl"),
        )
        .with_columns(
            pl.col("recovered_brl").cum_sum().alias("cum_recovered_brl"),
            pl.col("cost_brl").cum_sum().alias("cum_cost_brl"),
        )
        .with_columns(
            (pl.col("cum_recovered_brl") - pl.col("cum_cost_brl")).alias("cum_net_recovery_brl")
        )
        .join(_open_book(daily_open), on="day", how="left")
    )
    return frame.select(
        "day",
        "recovered_customer_brl",
        "recovered_agency_brl",
        "recovered_brl",
        "discounts_brl",
        "contact_cost_brl",
        "agency_fees_brl",
        "cost_brl",
        "contacts",
        *(f"contacts_{c}" for c in CHANNELS),
        "cum_recovered_brl",
        "cum_cost_brl",
        "cum_net_recovery_brl",
        *OPEN_COLUMNS.values(),
        "open_past_due_brl",
    ).sort("day")


# --- over seeds -----------------------------------------------------------------------------


def _two_sided_mass(theta: float, df: int) -> float:
    """P(|T| <= sqrt(df) tan(theta)) for Student's t with integer `df` degrees of freedom.

    The closed forms of Abramowitz & Stegun 26.7.3 (odd df) and 26.7.4 (even df).
    """
    s, c = math.sin(theta), math.cos(theta)
    c2 = c * c
    if df % 2:
        total, term = 0.0, c
        if df > 1:
            total = c
            for k in range(3, df - 1, 2):
                term *= c2 * (k - 1) / k
                total += term
        return 2 / math.pi * (theta + s * total)
    total, term = 1.0, 1.0
    for k in range(2, df - 1, 2):
        term *= c2 * (k - 1) / k
        total += term
    return s * total


@lru_cache(maxsize=256)
def t_quantile(p: float, df: int) -> float:
    """The p-quantile of Student's t with `df` (>= 1, integer) degrees of freedom.

    Found by bisection on the exact distribution function (no scipy in the core).
    """
    if not 0 < p < 1:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if df < 1 or int(df) != df:
        raise ValueError(f"df must be a positive integer, got {df}")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    target = 2 * p - 1
    low, high = 0.0, math.pi / 2
    for _ in range(200):
        mid = (low + high) / 2
        if _two_sided_mass(mid, df) < target:
            low = mid
        else:
            high = mid
    return math.sqrt(df) * math.tan((low + high) / 2)


def _interval(values: pl.DataFrame, keys: list[str], prefix: str) -> pl.DataFrame:
    """Mean, and the t-interval of the mean, of `value` per `keys` (null with one value)."""
    stats = values.group_by(keys, maintain_order=True).agg(
        pl.col("value").count().alias("_n"),
        pl.col("value").mean().alias("_mean"),
        pl.col("value").std(ddof=1).alias("_sd"),
    )
    sizes = [n for n in stats["_n"].unique().to_list() if n >= 2]
    quantile = {n: t_quantile((1 + CONFIDENCE) / 2, n - 1) for n in sizes}
    half = (
        pl.col("_n").replace_strict(quantile, default=None, return_dtype=pl.Float64)
        * pl.col("_sd")
        / pl.col("_n").cast(pl.Float64).sqrt()
    )
    return stats.select(
        *keys,
        pl.col("_n").cast(pl.Int64).alias(f"{prefix}seeds"),
        pl.col("_mean").alias(f"{prefix}mean"),
        (pl.col("_mean") - half).alias(f"{prefix}ci_low"),
        (pl.col("_mean") + half).alias(f"{prefix}ci_high"),
    )


def summarise_runs(kpis: pl.DataFrame, baseline: str = BASELINE) -> pl.DataFrame:
    """Per policy and KPI: the mean over seeds with a 95% interval, and the paired difference
    to the `baseline` policy (`fixed`) with its own.

    `kpis` holds policy, seed, kpi, value (`twin_kpis` rows with the run's policy and seed;
    a `unit` column is carried over). Intervals are Student-t intervals over seeds,
    mean ± t(0.975, n - 1) × sd / √n, with n the seeds whose value is not null; with one
    seed they are null. The difference is taken seed by seed (same seed, same book and
    draws) over the seeds both policies have, then summarised the same way: columns
    diff_mean, diff_ci_low, diff_ci_high, diff_seeds (null without the baseline; 0 for
    the baseline itself). Rows keep the order of first appearance.
    """
    _check(kpis, "kpis")
    keys = ["policy", "seed", "kpi"]
    if kpis.select(pl.struct(keys).is_duplicated().any()).item():
        raise ValueError("kpis: more than one value for a (policy, seed, kpi)")
    values = kpis.select(*keys, pl.col("value").cast(pl.Float64).fill_nan(None)).drop_nulls("value")
    summary = (
        kpis.select("policy", "kpi").unique(maintain_order=True)
        .join(_interval(values, ["policy", "kpi"], ""), on=["policy", "kpi"], how="left")
    )  # fmt: skip
    base = values.filter(pl.col("policy") == baseline).select(
        "seed", "kpi", pl.col("value").alias("_base")
    )
    paired = values.join(base, on=["seed", "kpi"]).select(
        "policy", "kpi", (pl.col("value") - pl.col("_base")).alias("value")
    )
    summary = summary.join(
        _interval(paired, ["policy", "kpi"], "diff_"), on=["policy", "kpi"], how="left"
    ).with_columns(pl.col("seeds", "diff_seeds").fill_null(0))
    if "unit" in kpis.columns:
        units = kpis.group_by("policy", "kpi").agg(pl.col("unit").first())
        summary = summary.join(units, on=["policy", "kpi"], how="left")
    else:
        summary = summary.with_columns(pl.lit(None, pl.String).alias("unit"))
    return summary.select(
        "policy", "kpi", "unit", "seeds", "mean", "ci_low", "ci_high",
        "diff_mean", "diff_ci_low", "diff_ci_high", "diff_seeds",
    )  # fmt: skip
