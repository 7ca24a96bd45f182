"""The twin's oracle: the best treatment per case for tomorrow, read from the world itself.

The twin's draws are keyed by customer, channel, day and stage (`responses.uniform`), so
the twin knows, before the day happens, what each treatment would do: whether a message on
a channel would be delivered and read, whether the customer would pay, how much, and
whether they would opt out or complain. The oracle reads that and, per customer in a case,
ranks the treatments that would bring a payment tomorrow by what they net (paid, less the
discount given, less the contact's cost), leaving alone those who pay anyway and those
no treatment moves. Its treatments are ordinary collection contacts, and the caller puts
them through the same guardrails and capacity as every policy (`pipelines.twin`), trying
the next-ranked treatment when one is not allowed tomorrow: the oracle is a ceiling on
what choosing the contact could achieve, not a policy anyone could run.

It looks one day ahead: contact only when it turns tomorrow into a payment day. It avoids
the harm it foresees (a treatment that would end in an opt-out, a complaint, a dispute or
an instalment agreement instead of a payment is not offered), and it never lists, hands off
or promises: those are slower routes to the same payment.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from regua.config.twin import CONTACT_CHANNELS, TwinParameters
from regua.simulate.responses import (
    channel_trait,
    contact_draws,
    contact_lift,
    cure_draws,
    cure_hazard,
    past_due_cases,
    uniform,
)

OPTION_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "rank": pl.Int32(),
        "channel": pl.String(),
        "discount_pct": pl.Float64(),
        "net_brl": pl.Float64(),
        "invoice_ids": pl.List(pl.String()),
    }
)
TONE = "friendly"
"""The oracle speaks as the source articles say works: friendly."""


def treatments(discounts: list[float]) -> pl.DataFrame:
    """Every treatment the oracle may choose: a friendly contact on each channel, without an
    offer or with one of `discounts` (percent, for paying in one go)."""
    offers = sorted({0.0, *(float(d) for d in discounts)})
    return pl.DataFrame(
        [(c, d) for c in CONTACT_CHANNELS for d in offers],
        schema={"channel": pl.String, "discount_pct": pl.Float64},
        orient="row",
    )


def oracle_options(
    day: date,
    open_invoices: pl.DataFrame,
    traits: pl.DataFrame,
    state: pl.DataFrame,
    recent_contacts: pl.DataFrame,
    params: TwinParameters,
    seed: int,
    discounts: list[float],
) -> pl.DataFrame:
    """Per customer in a case on `day`, the treatments that would make them pay that day,
    best first (`rank` 1), with what each nets; customers who pay anyway get none.

    The arguments are those `responses.respond` gets for the same day (the actions aside),
    so the oracle reads the same state and the same draws the day will use.
    """
    cases = past_due_cases(open_invoices, day, params.charge_off_days)
    if cases.is_empty():
        return pl.DataFrame(schema=OPTION_SCHEMA)
    busy = (
        pl.col("agency_since").is_not_null()
        | pl.col("agreement_left").is_not_null()
        | (pl.col("promise_day") == day).fill_null(False)
    )
    rows = (
        cases.join(traits, on="customer_id", how="left")
        .join(state, on="customer_id", how="left")
        .join(recent_contacts.rename({"n": "_recent"}), on="customer_id", how="left")
        .with_columns(pl.col("_recent").fill_null(0))
        .filter(~busy)
        .with_columns(*cure_draws(seed, day))
        # those who pay tomorrow untouched need nothing
        .filter(pl.col("_u") >= cure_hazard(params, day))
    )
    if rows.is_empty():
        return pl.DataFrame(schema=OPTION_SCHEMA)
    opted = pl.coalesce(
        *(
            pl.when(pl.col("channel") == c).then(pl.col(f"opt_out_{c}").fill_null(False))
            for c in ("email", "sms", "whatsapp", "phone")
        ),
        pl.lit(False),
    )
    options = rows.join(treatments(discounts), how="cross").with_columns(
        pl.lit(TONE).alias("tone"), *contact_draws(seed, day)
    )
    options = options.filter(~opted)
    costs = {c: params.channels[c].cost_brl for c in CONTACT_CHANNELS}
    opt_rate = pl.col("channel").replace_strict(
        {c: params.channels[c].opt_out for c in CONTACT_CHANNELS}, default=0.0
    ) * pl.lit(params.fatigue.opt_out_factor).pow(pl.col("_recent"))
    complaint_rate = (
        params.fatigue.complaint_base
        * params.tones[TONE].complaint
        * pl.lit(params.fatigue.complaint_factor).pow(pl.col("_recent"))
    )
    delivered = pl.col("_u_reach") < channel_trait("reach", 1.0).fill_null(0.5)
    read = delivered & (pl.col("_u_read") < channel_trait("responsiveness", 0.0).fill_null(0.2))
    holding = pl.when(pl.col("lift_until") >= day).then(pl.col("lift")).otherwise(1.0)
    harm = delivered & (
        (pl.col("_u_opt") < opt_rate)
        | (pl.col("_u_complaint") < complaint_rate)
        | (pl.col("_u_dispute") < params.dispute)
    )
    offer = pl.col("discount_pct") > 0
    take = (
        pl.when(pl.col("stressed").fill_null(False))
        .then(params.offers.agreement_stressed)
        .otherwise(params.offers.agreement_unstressed)
    )
    agreement = read & offer & (uniform(seed, day, "offers", 0, "customer_id") < take)
    options = (
        options.with_columns(read.alias("_read"), harm.alias("_harm"), agreement.alias("_agr"))
        .filter(pl.col("_read") & ~pl.col("_harm") & ~pl.col("_agr"))
        .with_columns(
            pl.when(offer).then(pl.col("discount_pct")).otherwise("offer_pct").alias("offer_pct"),
            pl.when(offer).then(pl.lit(day)).otherwise("offer_until").alias("offer_until"),
            pl.max_horizontal(holding.fill_null(1.0), contact_lift(params)).alias("_lift"),
        )
        .with_columns(cure_hazard(params, day, pl.col("_lift")).alias("_hazard"))
        .filter(pl.col("_u") < pl.col("_hazard"))
    )
    share = (
        pl.when(pl.col("_u_partial") < params.partial_payment)
        .then(0.3 + 0.4 * pl.col("_u_share"))
        .otherwise(1.0)
    )
    forgiven = (
        pl.when(pl.col("offer_until") >= day)
        .then(pl.col("offer_pct").fill_null(0) / 100)
        .otherwise(0.0)
    )
    net = pl.col("past_due") * share * (1 - forgiven) - pl.col("channel").replace_strict(
        costs, default=0.0
    )
    return (
        options.with_columns(net.round(2).alias("net_brl"))
        .filter(pl.col("net_brl") > 0)
        .sort(
            ["customer_id", "net_brl", "channel", "discount_pct"],
            descending=[False, True, False, False],
        )
        .with_columns(
            pl.int_range(1, pl.len() + 1).over("customer_id").cast(pl.Int32).alias("rank")
        )
        .select(
            "customer_id",
            "rank",
            "channel",
            "discount_pct",
            "net_brl",
            pl.col("_invoices").alias("invoice_ids"),
        )
    )
