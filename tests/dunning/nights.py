"""Multi-night harness: regua's nightly decisions run night after night on a simulated book.

The collection tools are played by `dunning.outcomes.carry_out`: each night's scheduled
actions for the next day come back as contacts, which the following nights read. The
customers answer deterministically (a hash of the run's seed and the row's key picks who):
some phone and WhatsApp contacts end in a promise, half of those promises are paid, some
listed invoices are paid in full or settled by an agreement a few days after the listing,
and on some days a customer's contacts never come back (the tool did not carry them out).
Everything else (invoices, the simulator's own payments) comes from the simulated book.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from regua.dunning.actions import DunningConfig, decide, load_dunning_config
from regua.dunning.day import day_inputs
from regua.dunning.outcomes import CONTACT_SCHEMA, carry_out
from regua.ingest.ingest import ingest_exports
from regua.settings import Settings
from regua.simulate import SimulationConfig, simulate_portfolio
from regua.store import Store
from tests.conftest import TEST_DOCUMENT_KEY

TABLE_NAMES = ("customers", "invoices", "payments", "contacts", "macro")
PROMISE_CHANNELS = ("phone", "whatsapp")
PROMISE_SHARE = 0.35
"""Share of phone and WhatsApp contacts that end in a promise to pay."""
PROMISE_DAYS = 5
"""A promise is for the contact's day plus these days."""
KEPT_SHARE = 0.5
"""Share of promises the customer pays (in full, with the charges) the day before its date."""
LISTED_PAID_SHARE = 0.35
"""Share of listed invoices paid in full (pix) `SETTLE_AFTER_DAYS` after their listing."""
LISTED_AGREED_SHARE = 0.35
"""Further share of listed invoices settled by an agreement (its first, partial payment)."""
AGREEMENT_PART = 0.3
"""The agreement's first payment, as a share of what is still open on the invoice."""
SETTLE_AFTER_DAYS = 3
DROP_SHARE = 0.03
"""Share of (customer, day) pairs whose contacts the tools never carry out."""

PAYMENT_SCHEMA = pl.Schema(
    {
        "payment_id": pl.String(),
        "invoice_id": pl.String(),
        "customer_id": pl.String(),
        "paid_at": pl.Date(),
        "amount": pl.Float64(),
        "method": pl.String(),
    }
)


@dataclass(frozen=True)
class NightsRun:
    """Everything a multi-night run produced, for the tests to check.

    `actions` holds every night's actions frame (its `as_of` says the night); `contacts`
    the contacts regua's executed actions produced (contract columns plus `purpose`);
    `history` the simulator's contacts before day 0; `tables` the book at the end of the
    run (payments include the injected ones, contacts are history plus executed);
    `dropped` the scheduled rows of the (customer, day) pairs the tools left undone.
    """

    day0: date
    end: date
    actions: pl.DataFrame
    contacts: pl.DataFrame
    history: pl.DataFrame
    injected_payments: pl.DataFrame
    dropped: pl.DataFrame
    tables: dict[str, pl.DataFrame]
    config: DunningConfig
    seconds_per_night: float

    @property
    def nights(self) -> list[date]:
        """The as_of of every night, in order."""
        return self.actions["as_of"].unique().sort().to_list()

    def night(self, as_of: date) -> pl.DataFrame:
        """The actions frame of one night."""
        return self.actions.filter(pl.col("as_of") == as_of)


def draw(key: pl.Expr, salt: str, seed: int) -> pl.Expr:
    """A uniform number in [0, 1) fixed by `key`, `salt` and `seed` (deterministic per run)."""
    return (pl.concat_str(key, pl.lit(salt)).hash(seed) % 1_000_003).cast(pl.Float64) / 1_000_003


def simulated_book(
    folder: Path, customers: int, seed: int, end: date, months: int
) -> dict[str, pl.DataFrame]:
    """The simulator's book through `end`, through the real ingest, as typed tables."""
    simulate_portfolio(
        SimulationConfig(customers=customers, months=months, seed=seed, end=end), folder / "raw"
    )
    ingest_exports(
        folder / "raw",
        folder / "store",
        settings=Settings(document_key=TEST_DOCUMENT_KEY),
        build_docs=False,
    )
    store = Store(folder / "store")
    return {name: store.scan(name).collect() for name in TABLE_NAMES}


def fixed_scores(customers: pl.DataFrame, seed: int) -> pl.DataFrame:
    """pd and propensity per customer from a hash of its id: every risk and propensity band."""
    return customers.select(
        "customer_id",
        (draw(pl.col("customer_id"), "pd", seed) * 0.6).alias("pd"),
        draw(pl.col("customer_id"), "propensity", seed).alias("propensity"),
    )


def tables_at(
    book: dict[str, pl.DataFrame], payments: pl.DataFrame, contacts: pl.DataFrame, day: date
) -> dict[str, pl.DataFrame]:
    """The tables as the store holds them after `day`: nothing issued, paid or done later."""
    return {
        "customers": book["customers"],
        "invoices": book["invoices"].filter(pl.col("issued_at") <= day),
        "payments": payments.filter(pl.col("paid_at") <= day),
        "contacts": contacts.filter(pl.col("at").dt.date() <= day),
        "macro": book["macro"],
    }


def _answered(contacts: pl.DataFrame, actions: pl.DataFrame, day: date, seed: int) -> pl.DataFrame:
    """The day's contacts with the customers' promises (outcome, date, amount) and purpose."""
    rows = actions.select("action_id", "purpose", "amount_due").unique("action_id")
    promise = pl.col("channel").is_in(PROMISE_CHANNELS) & (
        draw(pl.col("action_id"), "promise", seed) < PROMISE_SHARE
    )
    return (
        contacts.join(rows, on="action_id", how="left")
        .with_columns(
            pl.when(promise).then(pl.lit("promise")).otherwise("outcome").alias("outcome"),
            pl.when(promise).then(pl.lit(day + timedelta(days=PROMISE_DAYS))).alias("promise_date"),
            pl.when(promise).then(pl.col("amount_due")).alias("promise_amount"),
        )
        .select(*CONTACT_SCHEMA.names(), "purpose")
    )


def _kept_promises(contacts: pl.DataFrame, actions: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Payments of the promises the customers keep: each invoice's open amount, the charges on
    the first, the day before the promised date."""
    kept = contacts.filter(
        (pl.col("outcome") == "promise") & (draw(pl.col("action_id"), "kept", seed) < KEPT_SHARE)
    )
    if kept.is_empty():
        return pl.DataFrame(schema=PAYMENT_SCHEMA)
    rows = actions.select(
        "action_id", "invoice_ids", "invoice_amounts", "total_due", "amount_due"
    ).unique("action_id")
    return (
        kept.select("action_id", "customer_id", "promise_date")
        .join(rows, on="action_id")
        .explode("invoice_ids", "invoice_amounts")
        .with_columns(
            (
                pl.col("invoice_amounts")
                + pl.when(pl.int_range(pl.len()).over("action_id") == 0)
                .then(pl.col("amount_due") - pl.col("total_due"))
                .otherwise(0.0)
            )
            .round(2)
            .alias("amount")
        )
        .filter(pl.col("amount") > 0)
        .select(
            pl.concat_str(pl.lit("KEPT"), "action_id", "invoice_ids", separator="|").alias(
                "payment_id"
            ),
            pl.col("invoice_ids").alias("invoice_id"),
            "customer_id",
            (pl.col("promise_date") - timedelta(days=1)).alias("paid_at"),
            "amount",
            pl.lit("pix").alias("method"),
        )
        .cast(dict(PAYMENT_SCHEMA))
    )


def _settled_listings(
    contacts: pl.DataFrame,
    invoices: pl.DataFrame,
    payments: pl.DataFrame,
    day: date,
    seed: int,
) -> pl.DataFrame:
    """Payments of listed invoices some customers make after the listing: the rest in full
    (pix), or an agreement's first payment (a part of the rest)."""
    listed = contacts.filter(pl.col("purpose") == "negative_listing")
    if listed.is_empty():
        return pl.DataFrame(schema=PAYMENT_SCHEMA)
    paid_on = day + timedelta(days=SETTLE_AFTER_DAYS)
    u = draw(pl.col("invoice_id"), "settle", seed)
    paid = (
        payments.filter(pl.col("paid_at") <= paid_on)
        .group_by("invoice_id")
        .agg(pl.col("amount").sum().alias("paid"))
    )
    return (
        listed.select("invoice_id", "customer_id")
        .join(invoices.select("invoice_id", "amount"), on="invoice_id")
        .join(paid, on="invoice_id", how="left")
        .with_columns(
            (pl.col("amount") - pl.col("paid").fill_null(0.0)).round(2).alias("rest"),
            pl.when(u < LISTED_PAID_SHARE)
            .then(pl.lit("pix"))
            .when(u < LISTED_PAID_SHARE + LISTED_AGREED_SHARE)
            .then(pl.lit("agreement"))
            .alias("method"),
        )
        .filter(pl.col("method").is_not_null() & (pl.col("rest") > 1.0))
        .select(
            pl.concat_str(pl.lit("LISTED"), "invoice_id", "method", separator="|").alias(
                "payment_id"
            ),
            "invoice_id",
            "customer_id",
            pl.lit(paid_on).alias("paid_at"),
            pl.when(pl.col("method") == "pix")
            .then(pl.col("rest"))
            .otherwise((pl.col("rest") * AGREEMENT_PART).round(2))
            .alias("amount"),
            "method",
        )
        .cast(dict(PAYMENT_SCHEMA))
    )


def run_nights(
    folder: Path,
    customers: int = 300,
    nights: int = 60,
    seed: int = 16,
    end: date = date(2026, 10, 31),
    months: int = 14,
    config: DunningConfig | None = None,
) -> NightsRun:
    """Simulate the book through `end`, then run regua's night decisions for `nights` nights
    ending the night before `end`, feeding each night's executed actions back as contacts."""
    config = config or load_dunning_config()
    book = simulated_book(folder, customers, seed, end, months)
    day0 = end - timedelta(days=nights)
    history = book["contacts"].filter(pl.col("at").dt.date() < day0)
    scores = fixed_scores(book["customers"], seed)
    payments = book["payments"].select(PAYMENT_SCHEMA.names()).cast(dict(PAYMENT_SCHEMA))
    injected: list[pl.DataFrame] = []
    executed: list[pl.DataFrame] = []
    nightly: list[pl.DataFrame] = []
    dropped: list[pl.DataFrame] = []
    done = pl.Series("action_id", [], pl.String)
    contacts = history.select(CONTACT_SCHEMA.names())
    started = time.perf_counter()
    for i in range(nights):
        as_of = day0 + timedelta(days=i)
        tomorrow = as_of + timedelta(days=1)
        tables = tables_at(book, payments, contacts, as_of)
        features, open_invoices = day_inputs(tables, as_of)
        scored = features.join(scores, on="customer_id", how="left")
        actions = decide(scored, tables, as_of, config, None, open_invoices).actions
        nightly.append(actions)
        todo = carry_out(actions, tomorrow, done=done)
        lost = draw(pl.col("customer_id"), f"drop{tomorrow}", seed) < DROP_SHARE
        dropped.append(
            actions.filter(pl.col("action_id").is_in(todo.filter(lost)["action_id"].implode()))
        )
        day = _answered(todo.filter(~lost), actions, tomorrow, seed)
        new_payments = pl.concat(
            [
                _kept_promises(day, actions, seed),
                _settled_listings(day, book["invoices"], payments, tomorrow, seed),
            ]
        ).filter(pl.col("paid_at") <= end)
        injected.append(new_payments)
        payments = pl.concat([payments, new_payments])
        executed.append(day)
        done = pl.concat([done, day["action_id"]])
        contacts = pl.concat([contacts, day.select(CONTACT_SCHEMA.names())])
    seconds = (time.perf_counter() - started) / max(nights, 1)
    return NightsRun(
        day0=day0,
        end=end,
        actions=pl.concat(nightly, how="vertical_relaxed"),
        contacts=pl.concat(executed),
        history=history,
        injected_payments=pl.concat(injected),
        dropped=pl.concat(dropped, how="vertical_relaxed"),
        tables={**book, "payments": payments, "contacts": contacts},
        config=config,
        seconds_per_night=seconds,
    )
