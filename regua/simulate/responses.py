"""How simulated customers respond, day by day, to the collection actions carried out on them.

This is the collection twin's ground truth (issue 17): the model is written out, with its
reasoning, in config/twin.yaml, and its parameters come from there (`TwinParameters`). One
call of `respond` is one day of the world: the actions the collection tools carried out
that day reach customers or not, are read or answered or not, and move the customer's
daily chance of paying what is past due; promises, instalment agreements, the agency and
charge-off run their course. What comes out is what the tools and the bank would report:
contacts with their outcomes, payments, and the events the twin counts (opt-outs,
complaints, disputes, agency fees, discounts given, charge-offs).

Every draw is a uniform keyed by (seed, day, stage, customer, channel): a hash, not a
generator's stream, so a customer's luck on a day is the same whatever policy ran and
whoever else was in a case (common random numbers: policies differ by what they did, not
by the dice), and the oracle can read the outcome every treatment would have had. Polars
frames throughout, one row per customer or per action; no loop over customers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from regua.config.twin import CONTACT_CHANNELS, TwinParameters
from regua.contract import CONTACTS, PAYMENTS

STATE_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "lift": pl.Float64(),
        "lift_until": pl.Date(),
        "offer_pct": pl.Float64(),
        "offer_until": pl.Date(),
        "promise_day": pl.Date(),
        "promise_amount": pl.Float64(),
        "promise_keep": pl.Boolean(),
        "promise_keep_p": pl.Float64(),
        "agreement_left": pl.Int32(),
        "agreement_breaks_at": pl.Int32(),
        "agreement_next": pl.Date(),
        "agreement_amount": pl.Float64(),
        "agency_since": pl.Date(),
        **{f"opt_out_{c}": pl.Boolean() for c in ("email", "sms", "whatsapp", "phone")},
    }
)
"""What the twin remembers about a customer between days."""
EVENT_SCHEMA = pl.Schema(
    {"customer_id": pl.String(), "day": pl.Date(), "kind": pl.String(), "amount": pl.Float64()}
)
PAYMENT_SCHEMA = pl.Schema(
    {**{c.name: c.dtype for c in PAYMENTS.columns}, "recovered_by": pl.String(),
     "discount_brl": pl.Float64()}
)  # fmt: skip
CONTACT_SCHEMA = pl.Schema(
    {**{c.name: c.dtype for c in CONTACTS.columns}, "purpose": pl.String(),
     "cost_brl": pl.Float64()}
)  # fmt: skip
ACTION_SCHEMA = pl.Schema(
    {
        "action_id": pl.String(),
        "customer_id": pl.String(),
        "case_id": pl.String(),
        "invoice_id": pl.String(),
        "invoice_ids": pl.List(pl.String()),
        "channel": pl.String(),
        "step_id": pl.String(),
        "purpose": pl.String(),
        "tone": pl.String(),
        "discount_pct": pl.Float64(),
        "max_installments": pl.Int32(),
        "offer_valid_until": pl.Date(),
        "scheduled_for": pl.Datetime("us"),
    }
)
"""The columns of an action row the responses read (the actions output has them all)."""
STAGES = {"contacts": 1, "promises": 2, "offers": 3, "cure": 4, "agency": 5}


@dataclass(frozen=True)
class DayResult:
    """One day of the world: what the tools and the bank report, and what the twin counts."""

    contacts: pl.DataFrame
    payments: pl.DataFrame
    events: pl.DataFrame
    disputed: pl.Series
    state: pl.DataFrame
    expected: pl.DataFrame
    """customer_id, day, route, hazard, expected_brl: per customer in a case and way of
    paying (route cure, promise, agreement, agency), the day's chance of paying by it as the
    day began and what that pays in expectation (partial payments and discounts included).
    Summed over a run it estimates what the run recovers without the noise of the draws
    that decide who pays (a promise's keeping counts as its probability, an agreement's
    instalment as paid)."""


def initial_state(customers: pl.DataFrame) -> pl.DataFrame:
    """Nobody lifted, promised, in an agreement or with the agency; opt-outs as exported."""
    flags = {
        f"opt_out_{c}": pl.col(f"opt_out_{c}").fill_null(False)
        if f"opt_out_{c}" in customers.columns
        else pl.lit(False)
        for c in ("email", "sms", "whatsapp", "phone")
    }
    return (
        customers.select("customer_id", **flags)
        .with_columns(
            pl.lit(None, dtype).alias(name)
            for name, dtype in STATE_SCHEMA.items()
            if name != "customer_id" and not name.startswith("opt_out_")
        )
        .select(STATE_SCHEMA.names())
        .cast(dict(STATE_SCHEMA))
        .sort("customer_id")
    )


def _stream(seed: int, day: date, stage: str, slot: int) -> int:
    """A 64-bit hash seed for one draw of one stage on one day of a run."""
    parts = repr((seed, day.toordinal(), STAGES[stage], slot)).encode()
    return int.from_bytes(hashlib.blake2b(parts, digest_size=8).digest(), "little")


def uniform(seed: int, day: date, stage: str, slot: int, *keys: str) -> pl.Expr:
    """A uniform draw in [0, 1) per row, keyed by the row's `keys` columns (53 bits)."""
    key = pl.concat_str([pl.col(k).fill_null("") for k in keys], separator="|")
    return (key.hash(_stream(seed, day, stage, slot)) // 2048).cast(pl.Float64) / 2.0**53


def contact_draws(seed: int, day: date) -> list[pl.Expr]:
    """A contact's draws (reach, read, opt-out, complaint, dispute), keyed by its customer
    and channel: the same contact on the same day meets the same luck under any policy."""
    names = ("_u_reach", "_u_read", "_u_opt", "_u_complaint", "_u_dispute")
    return [
        uniform(seed, day, "contacts", slot, "customer_id", "channel").alias(name)
        for slot, name in enumerate(names)
    ]


def cure_draws(seed: int, day: date) -> list[pl.Expr]:
    """A customer's cure draws of the day: whether they pay, partly or not, and how much."""
    names = ("_u", "_u_partial", "_u_share")
    return [
        uniform(seed, day, "cure", slot, "customer_id").alias(name)
        for slot, name in enumerate(names)
    ]


def channel_trait(prefix: str, default: float) -> pl.Expr:
    """The customer's `<prefix>_<channel>` trait for the row's channel (`default` for a
    channel that is not a contact with the person: bureau, agency)."""
    return pl.coalesce(
        *(pl.when(pl.col("channel") == c).then(pl.col(f"{prefix}_{c}")) for c in CONTACT_CHANNELS),
        pl.lit(default),
    )


def contact_lift(params: TwinParameters) -> pl.Expr:
    """What a read contact multiplies the cure hazard by: channel x tone x early x fatigue
    (columns channel, tone, dpd and `_recent`, the customer's counted contacts of the week)."""
    channel = {c: params.channels[c].lift for c in CONTACT_CHANNELS}
    tone = {t: v.lift for t, v in params.tones.items()}
    return (
        pl.col("channel").replace_strict(channel, default=1.0)
        * pl.col("tone").replace_strict(tone, default=1.0)
        * pl.when(pl.col("dpd").fill_null(0) <= params.early_days)
        .then(params.early_bonus)
        .otherwise(1.0)
        * pl.lit(params.fatigue.lift_factor).pow(pl.col("_recent"))
    )


def cure_hazard(params: TwinParameters, day: date, lift: pl.Expr | None = None) -> pl.Expr:
    """The day's chance of paying what is past due: the bucket's self-cure x character x the
    lift that holds (or `lift`, when given) x an offer that holds (columns dpd, character,
    stressed, lift, lift_until, offer_pct, offer_until)."""
    offers = params.offers
    pct = (
        pl.when(pl.col("offer_until") >= day).then(pl.col("offer_pct").fill_null(0)).otherwise(0.0)
    )
    elasticity = (
        pl.when(pl.col("stressed").fill_null(False))
        .then(offers.elasticity_stressed)
        .otherwise(offers.elasticity_unstressed)
    )
    holding = pl.when(pl.col("lift_until") >= day).then(pl.col("lift")).otherwise(1.0)
    return (
        _bucket_hazard(params)
        * (params.self_cure.character_weight * pl.col("character").fill_null(0)).exp()
        * (holding.fill_null(1.0) if lift is None else lift)
        * (1 + elasticity * pct)
    ).clip(0, 0.95)


def _bucket_hazard(params: TwinParameters) -> pl.Expr:
    """The self-cure hazard of the case's bucket (days past due of its oldest invoice)."""
    cure, dpd = params.self_cure, pl.col("dpd")
    return (
        pl.when(dpd <= 30)
        .then(cure.dpd_1_30)
        .when(dpd <= 60)
        .then(cure.dpd_31_60)
        .when(dpd <= 90)
        .then(cure.dpd_61_90)
        .otherwise(cure.dpd_91_180)
    )


def past_due_cases(
    open_invoices: pl.DataFrame, day: date, charge_off_days: int | None
) -> pl.DataFrame:
    """Per customer with something past due on `day`: what is owed, how old, which invoices.

    `open_invoices` (invoice_id, customer_id, due_at, open_amount) is what was open at the
    end of the day before. Invoices past `charge_off_days` are charged off and left out
    (None keeps them: what the agency still works on).
    """
    past_due = open_invoices.filter(
        (pl.col("due_at") < day) & (pl.col("open_amount") > 0)
    ).with_columns((pl.lit(day) - pl.col("due_at")).dt.total_days().alias("_dpd"))
    if charge_off_days is not None:
        past_due = past_due.filter(pl.col("_dpd") < charge_off_days)
    return (
        past_due.sort("customer_id", "due_at", "invoice_id")
        .group_by("customer_id", maintain_order=True)
        .agg(
            pl.col("open_amount").sum().alias("past_due"),
            pl.col("_dpd").max().alias("dpd"),
            pl.col("invoice_id").alias("_invoices"),
            pl.col("open_amount").alias("_amounts"),
        )
    )


def charged_off(open_invoices: pl.DataFrame, day: date, charge_off_days: int) -> pl.DataFrame:
    """Invoices that reach `charge_off_days` past due on `day` (events of kind charge_off)."""
    return (
        open_invoices.filter(
            ((pl.lit(day) - pl.col("due_at")).dt.total_days() == charge_off_days)
            & (pl.col("open_amount") > 0)
        )
        .group_by("customer_id")
        .agg(pl.col("open_amount").sum().alias("amount"))
        .select(
            "customer_id", pl.lit(day).alias("day"), pl.lit("charge_off").alias("kind"), "amount"
        )
        .sort("customer_id")
    )


def _pay(
    owed: pl.DataFrame, share: pl.Expr, day: date, method: str, who: str, tag: str
) -> pl.DataFrame:
    """Payments of `share` (0-1, per customer) of each listed invoice, oldest first in full.

    `owed` has customer_id, _invoices, _amounts (lists, oldest first) and `_discount` (the
    fraction forgiven, 0 when no offer holds). A partial share pays the oldest invoices in
    full and the next one in part, as customers pay the oldest bill first.
    """
    if owed.is_empty():
        return pl.DataFrame(schema=PAYMENT_SCHEMA)
    rows = (
        owed.with_columns(share.alias("_share"))
        .explode("_invoices", "_amounts")
        .with_columns(
            (pl.col("_amounts").sum().over("customer_id") * pl.col("_share")).alias("_budget"),
            (pl.col("_amounts").cum_sum().over("customer_id") - pl.col("_amounts")).alias(
                "_before"
            ),
        )
        .with_columns(
            pl.min_horizontal("_amounts", (pl.col("_budget") - pl.col("_before")).clip(0))
            .round(2)
            .alias("_full")
        )
        .filter(pl.col("_full") > 0)
        .with_columns(
            (pl.col("_full") * (1 - pl.col("_discount"))).round(2).alias("amount"),
            (pl.col("_full") * pl.col("_discount")).round(2).alias("discount_brl"),
        )
    )
    return rows.select(
        pl.format(
            "TW{}-{}-{}", pl.lit(day.strftime("%Y%m%d")), pl.lit(tag), pl.int_range(pl.len())
        ).alias("payment_id"),
        pl.col("_invoices").alias("invoice_id"),
        "customer_id",
        pl.lit(day).alias("paid_at"),
        "amount",
        pl.lit(method).alias("method"),
        pl.lit(who).alias("recovered_by"),
        "discount_brl",
    ).cast(dict(PAYMENT_SCHEMA))


def respond(
    day: date,
    actions: pl.DataFrame,
    open_invoices: pl.DataFrame,
    traits: pl.DataFrame,
    state: pl.DataFrame,
    recent_contacts: pl.DataFrame,
    params: TwinParameters,
    seed: int,
) -> DayResult:
    """One day of the world after the night before: responses to `actions` and payments.

    `actions` are the action rows carried out on `day` (status scheduled, local day of
    scheduled_for == day, as the tools de-duplicated them); `open_invoices` is the night's
    open invoices (invoice_id, customer_id, due_at, open_amount); `traits` one row per
    customer (customer_id, character, capacity, stressed, reach_<channel>,
    responsiveness_<channel>); `state` the previous day's `DayResult.state`;
    `recent_contacts` (customer_id, n) the counted contacts of each customer in the 6 days
    before `day` (for fatigue).
    """
    if actions.is_empty():
        actions = pl.DataFrame(schema=ACTION_SCHEMA)
    state = state.sort("customer_id")
    cases = past_due_cases(open_invoices, day, params.charge_off_days)
    contacts, state, events, disputed = _contacts(
        day, actions, cases, traits, state, recent_contacts, params, seed
    )
    # One way of paying per customer and day, each seeing what the one before left: a
    # promise falling due, else an agreement's instalment, else a cure, else the agency.
    promised, promise_expected, state = _promises_due(day, cases, state)
    contacts, state = make_promises(day, contacts, cases, traits, state, params, seed)
    unpaid = cases.join(promised.select("customer_id").unique(), on="customer_id", how="anti")
    agreements, state = _agreements(day, actions, contacts, unpaid, traits, state, params, seed)
    contacts = contacts.drop("_read").cast(dict(CONTACT_SCHEMA)).sort("contact_id")
    paying = pl.concat([promised, agreements]).select("customer_id").unique()
    cured, cure_expected = _cures(day, cases, traits, state, params, seed, paying)
    paying = pl.concat([paying, cured.select("customer_id")]).unique()
    held = past_due_cases(open_invoices, day, charge_off_days=None).join(
        paying, on="customer_id", how="anti"
    )
    agency, fees, agency_expected = _agency(day, held, traits, state, params, seed)
    payments = pl.concat([agreements, promised, cured, agency], how="vertical_relaxed")
    instalments = agreements.group_by("customer_id").agg(pl.col("amount").sum().alias("_paid"))
    expected = pl.concat(
        [
            cure_expected,
            promise_expected,
            instalments.select(
                "customer_id",
                pl.lit(day).alias("day"),
                pl.lit("agreement").alias("route"),
                pl.lit(1.0).alias("hazard"),
                pl.col("_paid").alias("expected_brl"),
            ),
            agency_expected,
        ],
        how="vertical_relaxed",
    ).sort("customer_id", "route")
    events = pl.concat(
        [events, fees, charged_off(open_invoices, day, params.charge_off_days)],
        how="vertical_relaxed",
    )
    # a customer who paid what was past due leaves no promise or offer behind
    paid_up = payments.group_by("customer_id").agg(pl.col("amount").sum().alias("_paid"))
    state = _settle(state, cases, paid_up)
    return DayResult(
        contacts=contacts,
        payments=payments.cast(dict(PAYMENT_SCHEMA)).sort("payment_id"),
        events=events.cast(dict(EVENT_SCHEMA)).sort("customer_id", "kind"),
        disputed=disputed,
        state=state.select(STATE_SCHEMA.names()).sort("customer_id"),
        expected=expected,
    )


def _contacts(
    day: date,
    actions: pl.DataFrame,
    cases: pl.DataFrame,
    traits: pl.DataFrame,
    state: pl.DataFrame,
    recent: pl.DataFrame,
    params: TwinParameters,
    seed: int,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.Series]:
    """Deliveries, reads and answers; their lifts, opt-outs, complaints, disputes, costs."""
    if actions.is_empty():
        empty_events = pl.DataFrame(schema=EVENT_SCHEMA)
        return (
            pl.DataFrame(schema={**CONTACT_SCHEMA, "_read": pl.Boolean()}),
            state,
            empty_events,
            pl.Series([], dtype=pl.String),
        )
    if "tone" not in actions.columns:
        actions = actions.with_columns(pl.lit("neutral").alias("tone"))
    rows = (
        actions.join(traits, on="customer_id", how="left")
        .join(recent.rename({"n": "_recent"}), on="customer_id", how="left")
        .join(cases.select("customer_id", "dpd"), on="customer_id", how="left")
        .with_columns(pl.col("_recent").fill_null(0))
        .sort("action_id")
    )
    to_person = pl.col("channel").is_in(CONTACT_CHANNELS)
    reach = channel_trait("reach", 1.0)
    responsive = channel_trait("responsiveness", 0.0)
    rows = rows.with_columns(contact_draws(seed, day)).with_columns(
        (~to_person | (pl.col("_u_reach") < reach.fill_null(0.5))).alias("_delivered"),
    )
    rows = rows.with_columns(
        (pl.col("_delivered") & to_person & (pl.col("_u_read") < responsive.fill_null(0.2))).alias(
            "_read"
        )
    )
    channel = {c: params.channels[c] for c in CONTACT_CHANNELS}
    tone = params.tones
    fatigue = params.fatigue
    lift = contact_lift(params)
    notice = pl.col("purpose") == "negative_listing_notice"
    listing = pl.col("purpose") == "negative_listing"
    rows = rows.with_columns(
        pl.when(pl.col("_read") & notice)
        .then(pl.max_horizontal(lift, pl.lit(params.listing.notice_lift)))
        .when(listing)
        .then(pl.lit(params.listing.listing_lift))
        .when(pl.col("_read"))
        .then(lift)
        .alias("_lift"),
        pl.when(pl.col("_read") & notice)
        .then(pl.lit(day + timedelta(days=params.listing.notice_days - 1)))
        .when(listing)
        .then(pl.lit(day + timedelta(days=params.listing.listing_days - 1)))
        .when(pl.col("_read"))
        .then(pl.lit(day + timedelta(days=params.lift_days - 1)))
        .alias("_lift_until"),
    )
    opt_rate = pl.col("channel").replace_strict(
        {c: v.opt_out for c, v in channel.items()}, default=0.0
    ) * pl.lit(fatigue.opt_out_factor).pow(pl.col("_recent"))
    complaint_rate = (
        fatigue.complaint_base
        * pl.col("tone").replace_strict({t: v.complaint for t, v in tone.items()}, default=1.0)
        * pl.lit(fatigue.complaint_factor).pow(pl.col("_recent"))
    )
    rows = rows.with_columns(
        (pl.col("_delivered") & to_person & (pl.col("_u_opt") < opt_rate)).alias("_opt_out"),
        (pl.col("_delivered") & to_person & (pl.col("_u_complaint") < complaint_rate)).alias(
            "_complaint"
        ),
        (pl.col("_delivered") & to_person & (pl.col("_u_dispute") < params.dispute)).alias(
            "_dispute"
        ),
    )
    outcome = (
        pl.when(~to_person)
        .then(pl.lit("delivered"))
        .when(pl.col("channel") == "phone")
        .then(
            pl.when(pl.col("_read"))
            .then(pl.lit("answered"))
            .when(pl.col("_delivered"))
            .then(pl.lit("no_answer"))
            .otherwise(pl.lit("wrong_number"))
        )
        .when(pl.col("_read"))
        .then(pl.lit("read"))
        .when(pl.col("_delivered"))
        .then(pl.lit("delivered"))
        .otherwise(pl.lit("undelivered"))
    )
    costs = {c: v.cost_brl for c, v in channel.items()} | {"bureau": 0.0, "agency": 0.0}
    cost = pl.col("channel").replace_strict(costs, default=0.0) + pl.when(listing).then(
        params.listing.listing_cost_brl
    ).otherwise(0.0)
    contacts = rows.select(
        pl.concat_str("action_id", pl.lit(day.isoformat()), separator="@").alias("contact_id"),
        "customer_id",
        "invoice_id",
        "scheduled_for",
        "channel",
        "step_id",
        outcome.alias("outcome"),
        pl.lit(None, pl.Date).alias("promise_date"),
        pl.lit(None, pl.Float64).alias("promise_amount"),
        "case_id",
        "action_id",
        "purpose",
        cost.alias("cost_brl"),
        "_read",
    ).rename({"scheduled_for": "at"})
    # lifts: the strongest of what holds and what today brought
    today_lift = (
        rows.filter(pl.col("_lift").is_not_null())
        .group_by("customer_id")
        .agg(
            pl.col("_lift").max().alias("_new_lift"),
            pl.col("_lift_until").max().alias("_new_until"),
        )
    )
    holding = (pl.col("lift_until") >= day).fill_null(False)
    replaces = pl.col("_new_lift").is_not_null() & (
        ~holding | (pl.col("_new_lift") >= pl.col("lift"))
    )
    state = (
        state.join(today_lift, on="customer_id", how="left")
        .with_columns(
            pl.when(replaces).then(pl.col("_new_lift")).otherwise(pl.col("lift")).alias("lift"),
            pl.when(replaces)
            .then(pl.col("_new_until"))
            .otherwise(pl.col("lift_until"))
            .alias("lift_until"),
        )
        .drop("_new_lift", "_new_until")
    )
    # offers read: the discount holds until the offer's end
    offers = (
        rows.filter(pl.col("_read") & (pl.col("purpose") == "negotiation_offer"))
        .group_by("customer_id")
        .agg(
            pl.col("discount_pct").max().alias("_pct"),
            pl.col("offer_valid_until").max().alias("_until"),
        )
    )
    state = (
        state.join(offers, on="customer_id", how="left")
        .with_columns(
            pl.coalesce("_pct", "offer_pct").alias("offer_pct"),
            pl.coalesce("_until", "offer_until").alias("offer_until"),
        )
        .drop("_pct", "_until")
    )
    # agency hand-off and recall
    handed = rows.filter(pl.col("purpose") == "agency_handoff").select("customer_id").unique()
    recalled = rows.filter(pl.col("purpose") == "agency_recall").select("customer_id").unique()
    state = state.with_columns(
        pl.when(pl.col("customer_id").is_in(handed["customer_id"].implode()))
        .then(pl.coalesce("agency_since", pl.lit(day)))
        .when(pl.col("customer_id").is_in(recalled["customer_id"].implode()))
        .then(pl.lit(None, pl.Date))
        .otherwise("agency_since")
        .alias("agency_since")
    )
    # opt-outs stay; complaints, disputes and opt-outs are events
    opted = rows.filter("_opt_out").select("customer_id", "channel")
    for c in ("email", "sms", "whatsapp", "phone"):
        who = opted.filter(pl.col("channel") == c)["customer_id"].implode()
        state = state.with_columns(
            (pl.col(f"opt_out_{c}") | pl.col("customer_id").is_in(who)).alias(f"opt_out_{c}")
        )
    events = pl.concat(
        [
            rows.filter(pl.col(flag)).select(
                "customer_id",
                pl.lit(day).alias("day"),
                pl.lit(kind).alias("kind"),
                pl.lit(0.0).alias("amount"),
            )
            for flag, kind in (
                ("_opt_out", "opt_out"),
                ("_complaint", "complaint"),
                ("_dispute", "dispute"),
            )
        ]
        + [
            handed.select(
                "customer_id",
                pl.lit(day).alias("day"),
                pl.lit("agency_handoff").alias("kind"),
                pl.lit(0.0).alias("amount"),
            )
        ]
    )
    disputed = rows.filter("_dispute")["invoice_ids"].explode().drop_nulls().unique().sort()
    return contacts, state, events, disputed


def _agreements(
    day: date,
    actions: pl.DataFrame,
    contacts: pl.DataFrame,
    cases: pl.DataFrame,
    traits: pl.DataFrame,
    state: pl.DataFrame,
    params: TwinParameters,
    seed: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """New agreements taken on a read offer, and the instalments falling due today."""
    offers = params.offers
    read = contacts.filter(pl.col("_read") & (pl.col("purpose") == "negotiation_offer"))
    new = (
        read.select("customer_id", "action_id")
        .join(actions.select("action_id", "discount_pct", "max_installments"), on="action_id")
        .group_by("customer_id")
        .agg(pl.col("discount_pct").max(), pl.col("max_installments").max())
        .join(traits.select("customer_id", "stressed"), on="customer_id", how="left")
        .join(cases, on="customer_id", how="inner")
        .join(
            state.filter(pl.col("agreement_left").is_null()).select("customer_id"),
            on="customer_id",
            how="semi",
        )
        .sort("customer_id")
    )
    take = (
        pl.when(pl.col("stressed").fill_null(False))
        .then(offers.agreement_stressed)
        .otherwise(offers.agreement_unstressed)
    )
    n = pl.col("max_installments").fill_null(6).clip(1, 48)
    taken = (
        new.with_columns(
            uniform(seed, day, "offers", 0, "customer_id").alias("_u"),
            uniform(seed, day, "offers", 1, "customer_id").alias("_u_break"),
        )
        .filter(pl.col("_u") < take)
        .with_columns(
            # the discount is for paying in one go; instalments pay what is past due
            n.alias("_n"),
            (pl.col("past_due") / n).round(2).alias("_instalment"),
        )
        .with_columns(
            pl.when(pl.col("_u_break") < offers.agreement_completion)
            .then(pl.col("_n") + 1)
            .otherwise((2 + (pl.col("_u_break") * (pl.col("_n") - 1)).floor()).cast(pl.Int32))
            .alias("_breaks_at")
        )
    )
    state = (
        state.join(
            taken.select("customer_id", "_n", "_breaks_at", "_instalment"),
            on="customer_id",
            how="left",
        )
        .with_columns(
            pl.coalesce(pl.col("_n").cast(pl.Int32), "agreement_left").alias("agreement_left"),
            pl.coalesce(pl.col("_breaks_at").cast(pl.Int32), "agreement_breaks_at").alias(
                "agreement_breaks_at"
            ),
            pl.when(pl.col("_n").is_not_null())
            .then(pl.lit(day))
            .otherwise("agreement_next")
            .alias("agreement_next"),
            pl.coalesce("_instalment", "agreement_amount").alias("agreement_amount"),
        )
        .drop("_n", "_breaks_at", "_instalment")
    )
    # instalments due today: paid unless this is the one the agreement breaks at
    paying = (
        state.filter((pl.col("agreement_next") == day) & (pl.col("agreement_breaks_at") > 1))
        .join(cases, on="customer_id", how="inner")
        .sort("customer_id")
    )
    owed = paying.with_columns(pl.lit(0.0).alias("_discount"))
    share = (pl.col("agreement_amount") / pl.col("past_due")).clip(0, 1)
    payments = _pay(owed, share, day, "agreement", "customer", "A")
    after = state.with_columns(
        pl.when(pl.col("agreement_next") == day)
        .then(
            pl.when((pl.col("agreement_breaks_at") <= 1) | (pl.col("agreement_left") <= 1))
            .then(None)
            .otherwise(pl.col("agreement_left") - 1)
        )
        .otherwise("agreement_left")
        .alias("agreement_left"),
        pl.when(pl.col("agreement_next") == day)
        .then(pl.col("agreement_breaks_at") - 1)
        .otherwise("agreement_breaks_at")
        .alias("agreement_breaks_at"),
    ).with_columns(
        pl.when(pl.col("agreement_left").is_null())
        .then(None)
        .when(pl.col("agreement_next") == day)
        .then(pl.col("agreement_next") + timedelta(days=30))
        .otherwise("agreement_next")
        .alias("agreement_next"),
        pl.when(pl.col("agreement_left").is_null())
        .then(None)
        .otherwise("agreement_breaks_at")
        .alias("agreement_breaks_at"),
    )
    return payments, after


def _promises_due(
    day: date, cases: pl.DataFrame, state: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Promises falling due today: kept ones paid in full (at the offer's price if it holds)."""
    kept = (
        state.filter((pl.col("promise_day") == day) & pl.col("promise_keep"))
        .join(cases, on="customer_id", how="inner")
        .with_columns(_discount(day).alias("_discount"))
    )
    payments = _pay(kept, pl.lit(1.0), day, "pix", "customer", "P")
    expected = (
        state.filter(pl.col("promise_day") == day)
        .join(cases, on="customer_id", how="inner")
        .select(
            "customer_id",
            pl.lit(day).alias("day"),
            pl.lit("promise").alias("route"),
            pl.col("promise_keep_p").alias("hazard"),
            (pl.col("promise_keep_p") * pl.col("past_due") * (1 - _discount(day)))
            .round(4)
            .alias("expected_brl"),
        )
    )
    state = state.with_columns(
        pl.when(pl.col("promise_day") <= day).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("promise_amount", "promise_keep", "promise_keep_p", "promise_day")
    )
    return payments, expected, state


def _discount(day: date) -> pl.Expr:
    """The fraction forgiven by an offer that still holds on `day` (0 without one)."""
    return (
        pl.when(pl.col("offer_until") >= day)
        .then(pl.col("offer_pct").fill_null(0) / 100)
        .otherwise(0.0)
    )


def make_promises(
    day: date,
    contacts: pl.DataFrame,
    cases: pl.DataFrame,
    traits: pl.DataFrame,
    state: pl.DataFrame,
    params: TwinParameters,
    seed: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Promises made on answered calls and read WhatsApp messages: contacts get the promise,
    the state remembers its day, amount and whether it will be kept."""
    rules = params.promises
    talk = (pl.col("outcome") == "answered") | (
        (pl.col("channel") == "whatsapp") & (pl.col("outcome") == "read")
    )
    candidates = (
        contacts.filter(talk)
        .join(cases.select("customer_id", "past_due"), on="customer_id", how="inner")
        .join(traits.select("customer_id", "character"), on="customer_id", how="left")
        .join(
            state.filter(pl.col("promise_day").is_null()).select("customer_id"),
            on="customer_id",
            how="semi",
        )
        .sort("contact_id")
        .unique("customer_id", keep="first", maintain_order=True)
    )
    span = rules.days_max - rules.days_min + 1
    keep = 1 / (
        1
        + (
            -(rules.keep_intercept + rules.keep_character_weight * pl.col("character").fill_null(0))
        ).exp()
    )
    made = (
        candidates.with_columns(
            uniform(seed, day, "promises", 0, "customer_id").alias("_u"),
            uniform(seed, day, "promises", 1, "customer_id").alias("_u_day"),
            uniform(seed, day, "promises", 2, "customer_id").alias("_u_keep"),
        )
        .filter(pl.col("_u") < rules.make)
        .with_columns(
            (
                pl.lit(day)
                + pl.duration(
                    days=(rules.days_min + (pl.col("_u_day") * span).floor()).cast(pl.Int64)
                )
            ).alias("_promise_day"),
            pl.col("past_due").round(2).alias("_promise_amount"),
            (pl.col("_u_keep") < keep).alias("_keep"),
            keep.alias("_keep_p"),
        )
    )
    contacts = (
        contacts.join(
            made.select("contact_id", "_promise_day", "_promise_amount"),
            on="contact_id",
            how="left",
        )
        .with_columns(
            pl.when(pl.col("_promise_day").is_not_null())
            .then(pl.lit("promise"))
            .otherwise("outcome")
            .alias("outcome"),
            pl.coalesce("_promise_day", "promise_date").alias("promise_date"),
            pl.coalesce("_promise_amount", "promise_amount").alias("promise_amount"),
        )
        .drop("_promise_day", "_promise_amount")
    )
    state = (
        state.join(
            made.select("customer_id", "_promise_day", "_promise_amount", "_keep", "_keep_p"),
            on="customer_id",
            how="left",
        )
        .with_columns(
            pl.coalesce("_promise_day", "promise_day").alias("promise_day"),
            pl.coalesce("_promise_amount", "promise_amount").alias("promise_amount"),
            pl.coalesce("_keep", "promise_keep").alias("promise_keep"),
            pl.coalesce("_keep_p", "promise_keep_p").alias("promise_keep_p"),
        )
        .drop("_promise_day", "_promise_amount", "_keep", "_keep_p")
    )
    return contacts, state


def _cures(
    day: date,
    cases: pl.DataFrame,
    traits: pl.DataFrame,
    state: pl.DataFrame,
    params: TwinParameters,
    seed: int,
    already: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Customers who pay today of their own accord or moved by a contact or an offer."""
    rows = (
        cases.join(already.select("customer_id").unique(), on="customer_id", how="anti")
        .join(traits.select("customer_id", "character", "stressed"), on="customer_id", how="left")
        .join(state, on="customer_id", how="left")
        .filter(pl.col("agency_since").is_null() & pl.col("agreement_left").is_null())
        .sort("customer_id")
    )
    hazard = cure_hazard(params, day)
    rows = rows.with_columns(
        hazard.alias("_hazard"), _discount(day).alias("_discount"), *cure_draws(seed, day)
    )
    # a partial payment pays 30-70% (half on average) of what is past due
    mean_share = 1 - params.partial_payment * 0.5
    expected = rows.select(
        "customer_id",
        pl.lit(day).alias("day"),
        pl.lit("cure").alias("route"),
        "_hazard",
        (pl.col("_hazard") * pl.col("past_due") * mean_share * (1 - pl.col("_discount")))
        .round(4)
        .alias("expected_brl"),
    ).rename({"_hazard": "hazard"})
    share = (
        pl.when(pl.col("_u_partial") < params.partial_payment)
        .then(0.3 + 0.4 * pl.col("_u_share"))
        .otherwise(1.0)
    )
    cured = rows.filter(pl.col("_u") < pl.col("_hazard"))
    return _pay(cured, share, day, "pix", "customer", "C"), expected


def _agency(
    day: date,
    cases: pl.DataFrame,
    traits: pl.DataFrame,
    state: pl.DataFrame,
    params: TwinParameters,
    seed: int,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """What the agency recovers today from the cases it holds, its fee, and what it was
    expected to recover."""
    held = (
        state.filter(pl.col("agency_since") < day)
        .select("customer_id")
        .join(cases, on="customer_id", how="inner")
        .join(traits.select("customer_id", "capacity"), on="customer_id", how="left")
        .sort("customer_id")
    )
    rate = params.agency.daily_recovery * (0.3 * pl.col("capacity").fill_null(0)).exp()
    recovered = (
        held.with_columns(uniform(seed, day, "agency", 0, "customer_id").alias("_u"))
        .filter(pl.col("_u") < rate)
        .with_columns(pl.lit(0.0).alias("_discount"))
    )
    payments = _pay(recovered, pl.lit(1.0), day, "boleto", "agency", "G")
    fees = (
        payments.group_by("customer_id")
        .agg((pl.col("amount").sum() * params.agency.fee_share).round(2).alias("amount"))
        .select(
            "customer_id", pl.lit(day).alias("day"), pl.lit("agency_fee").alias("kind"), "amount"
        )
    )
    expected = held.select(
        "customer_id",
        pl.lit(day).alias("day"),
        pl.lit("agency").alias("route"),
        rate.alias("hazard"),
        (rate * pl.col("past_due")).round(4).alias("expected_brl"),
    )
    return payments, fees, expected


def _settle(state: pl.DataFrame, cases: pl.DataFrame, paid: pl.DataFrame) -> pl.DataFrame:
    """Forget the lift, offer and promise of a customer who paid all that was past due."""
    cleared = (
        cases.join(paid, on="customer_id")
        .filter(pl.col("_paid") >= pl.col("past_due") - 0.01)
        .select("customer_id")
    )["customer_id"].implode()
    done = pl.col("customer_id").is_in(cleared)
    return state.with_columns(
        pl.when(done).then(None).otherwise(pl.col(c)).alias(c)
        for c in (
            "lift",
            "lift_until",
            "offer_pct",
            "offer_until",
            "promise_day",
            "promise_amount",
            "promise_keep",
            "promise_keep_p",
        )
    )
