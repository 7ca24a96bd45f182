"""The collection twin: regua's night, day after day, against simulated customers (issue 17).

For each policy and seed, starting from the same simulated book at day 0, each night D:
the tables as the store would hold them at D (the book's past, the invoices issued since,
the payments current customers made on time, and everything the twin's customers did);
the night's features and open invoices (`dunning.day.day_inputs`, as the nightly flow);
the policy's actions (`decide` with the policy's strategy, or none); the actions the tools
carry out on D+1 (`dunning.outcomes.due_actions`); and the customers' responses to them
(`regua.simulate.responses.respond`, whose parameters are config/twin.yaml's), which come
back as D+1's contacts and payments. All in one process, no Prefect server per night.

The twin's measurements (`regua.simulate.twin_kpis`) and the independent audit of every
executed contact (`dunning.audit.audit_contacts`) are computed from what it recorded.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from regua.config.twin import CONTACT_CHANNELS, TwinParameters
from regua.dunning.actions import DunningConfig, decide, ladder_steps, load_dunning_config
from regua.dunning.audit import audit_contacts
from regua.dunning.day import day_inputs
from regua.dunning.outcomes import due_actions
from regua.dunning.strategies import load_strategy
from regua.settings import get_settings
from regua.simulate.responses import CONTACT_SCHEMA, PAYMENT_SCHEMA, initial_state, respond
from regua.simulate.twin_book import TwinBook

NONE, FIXED, REGUA, ORACLE = "none", "fixed", "regua", "oracle"
BUCKETS = ((1, 30, "1-30"), (31, 60, "31-60"), (61, 90, "61-90"), (91, 10**6, "90+"))

Scorer = Callable[[pl.DataFrame, date], pl.DataFrame]
"""Adds `pd` and `propensity` to a night's feature table."""


def hashed_scores(seed: int) -> Scorer:
    """Scores drawn from a hash of the customer id: segments vary, no model is needed."""

    def score(features: pl.DataFrame, as_of: date) -> pl.DataFrame:
        return features.with_columns(
            (pl.col("customer_id").hash(seed) % 1000 / 1000).alias("pd"),
            (pl.col("customer_id").hash(seed + 1) % 1000 / 1000).alias("propensity"),
        )

    return score


def policy_config(policy: str, config_dir: Path | None = None) -> DunningConfig | None:
    """The strategy a policy runs: none (no contact), fixed, regua, or a strategy folder."""
    folder = config_dir or get_settings().config_dir
    if policy == NONE:
        return None
    if policy == REGUA:
        return load_dunning_config(folder)
    if policy == FIXED:
        return load_strategy(folder / "strategies" / "fixed", folder)
    return load_strategy(Path(policy), folder)


@dataclass
class TwinRecord:
    """What one policy's run recorded, day by day."""

    contacts: list[pl.DataFrame] = field(default_factory=list)
    payments: list[pl.DataFrame] = field(default_factory=list)
    events: list[pl.DataFrame] = field(default_factory=list)
    expected: list[pl.DataFrame] = field(default_factory=list)
    open_book: list[pl.DataFrame] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))


@dataclass(frozen=True)
class TwinRun:
    """One policy, one seed: what the customers did and what collection did to them."""

    policy: str
    seed: int
    contacts: pl.DataFrame
    payments: pl.DataFrame
    events: pl.DataFrame
    expected: pl.DataFrame
    open_book: pl.DataFrame
    violations: pl.DataFrame
    seconds_by_stage: dict[str, float]


def open_book(open_invoices: pl.DataFrame, night: date) -> pl.DataFrame:
    """The past-due book at the end of a night, by bucket of the customer's oldest invoice."""
    past_due = open_invoices.filter(pl.col("due_at") < night).with_columns(
        (pl.lit(night) - pl.col("due_at")).dt.total_days().alias("dpd")
    )
    per_customer = past_due.group_by("customer_id").agg(
        pl.col("dpd").max(), pl.col("amount").sub(pl.col("paid")).clip(0).sum().alias("open")
    )
    bucket = pl.lit("90+")
    for low, high, label in reversed(BUCKETS[:-1]):
        bucket = pl.when(pl.col("dpd").is_between(low, high)).then(pl.lit(label)).otherwise(bucket)
    return (
        per_customer.with_columns(bucket.alias("bucket"))
        .group_by("bucket")
        .agg(pl.len().alias("customers"), pl.col("open").sum().round(2).alias("open_amount"))
        .with_columns(pl.lit(night).alias("day"))
        .select("day", "bucket", "customers", "open_amount")
        .sort("bucket")
    )


def _recent_contacts(contacts: list[pl.DataFrame], day: date) -> pl.DataFrame:
    """Counted contacts per customer in the 6 days before `day` (fatigue)."""
    window = [c for c in contacts[-7:] if not c.is_empty()]
    if not window:
        return pl.DataFrame(schema={"customer_id": pl.String, "n": pl.Int64})
    return (
        pl.concat(window)
        .filter(
            (pl.col("at").dt.date() >= day - timedelta(days=6))
            & (pl.col("at").dt.date() < day)
            & pl.col("channel").is_in(CONTACT_CHANNELS)
        )
        .group_by("customer_id")
        .agg(pl.len().cast(pl.Int64).alias("n"))
    )


def run_policy(
    book: TwinBook,
    policy: str,
    seed: int,
    params: TwinParameters,
    scorer: Scorer,
    config_dir: Path | None = None,
    days: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> TwinRun:
    """Run one policy on the book for `days` nights (default: the book's), with one seed."""
    days = days or book.days
    config = policy_config(policy, config_dir)
    tones = (
        ladder_steps(config.ladders).select("ladder_id", "step_id", "tone")
        if config is not None
        else None
    )
    record = TwinRecord()
    state = initial_state(book.past["customers"])
    done = pl.Series("action_id", [], pl.String)
    disputed = pl.Series("invoice_id", [], pl.String)
    for i in range(days):
        night = book.day0 + timedelta(days=i)
        tomorrow = night + timedelta(days=1)
        started = time.perf_counter()
        tables = _tables(book, record, state, disputed, night)
        # the twin's exports are complete every night, quiet days included
        features, open_invoices = day_inputs(tables, night, max_stale_days=days + 31)
        record.open_book.append(open_book(open_invoices, night))
        record.seconds["features"] += time.perf_counter() - started
        started = time.perf_counter()
        if config is None:
            todo = pl.DataFrame()
        else:
            scored = scorer(features, night)
            actions = decide(scored, tables, night, config, None, open_invoices).actions
            todo = due_actions(actions, tomorrow, done).join(
                tones, on=["ladder_id", "step_id"], how="left"
            )
        record.seconds["decide"] += time.perf_counter() - started
        started = time.perf_counter()
        owed = open_invoices.select(
            "invoice_id",
            "customer_id",
            "due_at",
            (pl.col("amount") - pl.col("paid")).clip(0).round(2).alias("open_amount"),
        )
        day = respond(
            tomorrow,
            todo,
            owed,
            book.traits,
            state,
            _recent_contacts(record.contacts, tomorrow),
            params,
            seed,
        )
        state = day.state
        record.contacts.append(day.contacts)
        record.payments.append(day.payments)
        record.events.append(day.events)
        record.expected.append(day.expected)
        if not day.contacts.is_empty():
            done = pl.concat([done, day.contacts["action_id"]])
        if not day.disputed.is_empty():
            disputed = pl.concat([disputed, day.disputed.rename("invoice_id")]).unique()
        record.seconds["responses"] += time.perf_counter() - started
        if progress is not None:
            progress(i + 1)
    return _finish(book, policy, seed, record, config)


def _tables(
    book: TwinBook,
    record: TwinRecord,
    state: pl.DataFrame,
    disputed: pl.Series,
    night: date,
) -> dict[str, pl.LazyFrame]:
    """The canonical tables as the store would hold them at the end of `night`."""
    contacts = _concat(record.contacts, CONTACT_SCHEMA)
    payments = _concat(record.payments, PAYMENT_SCHEMA)
    dropped = state.filter(pl.col("agency_since").is_not_null()).select(
        "customer_id", pl.col("agency_since").alias("dropped_on")
    )
    tables = book.tables_at(night, contacts, payments, dropped)
    opt_outs = state.select("customer_id", *(c for c in state.columns if c.startswith("opt_out")))
    customers = (
        tables["customers"]
        .drop(*(c for c in opt_outs.columns if c != "customer_id"), strict=False)
        .join(opt_outs.lazy(), on="customer_id", how="left")
    )
    invoices = tables["invoices"]
    if not disputed.is_empty():
        invoices = invoices.with_columns(
            (
                pl.col("disputed").fill_null(False) | pl.col("invoice_id").is_in(disputed.implode())
            ).alias("disputed")
        )
    # Collected once: the ledger numbers invoices by their position in each evaluation of
    # the frame, so a lazy frame built from joins (whose row order may vary from one
    # evaluation to the next) must be materialised before the night reads it.
    frames = {**tables, "customers": customers, "invoices": invoices}
    return {name: frame.collect().lazy() for name, frame in frames.items()}


def _concat(frames: list[pl.DataFrame], schema: pl.Schema) -> pl.DataFrame:
    parts = [f for f in frames if not f.is_empty()]
    return pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame(schema=schema)


def _finish(
    book: TwinBook, policy: str, seed: int, record: TwinRecord, config: DunningConfig | None
) -> TwinRun:
    contacts = _concat(record.contacts, CONTACT_SCHEMA)
    payments = _concat(record.payments, PAYMENT_SCHEMA)
    events = pl.concat(record.events, how="vertical_relaxed") if record.events else pl.DataFrame()
    last = book.day0 + timedelta(days=len(record.open_book))
    started = time.perf_counter()
    tables = {name: frame.collect() for name, frame in book.tables_at(
        last, contacts, payments, None).items()}  # fmt: skip
    guardrails = (config or load_dunning_config()).guardrails
    violations = audit_contacts(
        contacts, tables["customers"], tables["invoices"], tables["payments"], guardrails, last
    )
    record.seconds["audit"] += time.perf_counter() - started
    return TwinRun(
        policy=policy,
        seed=seed,
        contacts=contacts,
        payments=payments,
        events=events,
        expected=pl.concat(record.expected, how="vertical_relaxed"),
        open_book=pl.concat(record.open_book),
        violations=violations,
        seconds_by_stage=dict(record.seconds),
    )
