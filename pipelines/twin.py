"""The collection twin: regua's night, day after day, against simulated customers (issue 17).

For each seed a simulated book up to day 0 (`regua.simulate.twin_book`), and for each
policy, starting from that same book, each night D: the tables as the store would hold
them at D (the book's past, the invoices issued since, the payments current customers
made on time, and everything the twin's customers did); the night's features and open
invoices (`dunning.day.day_inputs`, as the nightly flow); scores from champions trained on
the book at day 0 and retrained every `retrain_days` nights on what the twin holds then;
the policy's actions (`decide` with the policy's strategy; none for `none`); for
`oracle`, `oracle_run` takes per customer the best of complete runs of several arms (no
contact, fixed, each ladder alone, and the one-day lookahead of `regua.simulate.oracle`
through the same guardrails); the actions the tools carry out on D+1
(`dunning.outcomes.due_actions`);
and the customers' responses to them (`regua.simulate.responses.respond`, whose
parameters are config/twin.yaml's), which come back as D+1's contacts and payments. All
in one process, no Prefect server per night.

The figures (`regua.simulate.twin_kpis`) and the independent audit of every executed
contact (`dunning.audit.audit_contacts`) are computed from what the run recorded;
`run_twin` writes them to a folder (kpis.parquet, summary.parquet, daily.parquet,
violations.parquet, manifest.json) and `log_twin` to MLflow (experiment `regua-twin`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import polars as pl

from regua.config.policy import PolicyConfig, load_policy_config
from regua.config.twin import CONTACT_CHANNELS, TwinParameters, load_twin_parameters
from regua.dunning.actions import (
    FIRST_SLOT,
    DunningConfig,
    TreatmentPolicy,
    decide,
    ladder_steps,
    load_dunning_config,
)
from regua.dunning.audit import audit_contacts
from regua.dunning.day import day_inputs
from regua.dunning.guardrails import apply_guardrails
from regua.dunning.outcomes import due_actions
from regua.dunning.policy import CHOICE_SCHEMA, phone_worklist
from regua.dunning.strategies import load_strategy
from regua.features.build import open_invoice_plan
from regua.models.gbm import MonotoneGBMClassifier
from regua.models.scoring import load_champion, score
from regua.models.train import TrainingSpec, snapshot_features, train
from regua.pipelines.policy import (
    CellRecorder,
    FittedPolicy,
    LearnedPolicy,
    fit_policy,
    history_frame,
    policy_strategy,
    policy_treatments,
    randomized_strategy,
)
from regua.pipelines.twin_exports import TwinStore
from regua.settings import get_settings
from regua.simulate.oracle import oracle_options
from regua.simulate.responses import (
    ACTION_SCHEMA,
    CONTACT_SCHEMA,
    PAYMENT_SCHEMA,
    initial_state,
    respond,
)
from regua.simulate.twin_book import TwinBook, build_twin_book, open_twin_book
from regua.simulate.twin_kpis import KPI_SCHEMA, summarise_runs, twin_daily, twin_kpis
from regua.store import write_parquet_atomic, write_text_atomic

NONE, FIXED, REGUA, ORACLE, LEARNED = "none", "fixed", "regua", "oracle", "learned"
POLICIES = (NONE, FIXED, REGUA, ORACLE, LEARNED)
BUCKETS = ((1, 30, "1-30"), (31, 60, "31-60"), (61, 90, "61-90"), (91, 10**6, "90+"))
KINDS = ("delinquency", "propensity_to_pay")
ORACLE_TRIES = 3
"""Treatments the oracle tries per case and night when the guardrails refuse the best."""
EXPERIMENT = "regua-twin"

Scorer = Callable[[pl.DataFrame, Mapping[str, pl.LazyFrame], date], pl.DataFrame]
"""Adds `pd` and `propensity` to a night's feature table, given the night's tables."""


def hashed_scores(seed: int) -> Scorer:
    """Scores drawn from a hash of the customer id: segments vary, no model is needed."""

    def scorer(features: pl.DataFrame, tables: Mapping[str, pl.LazyFrame], night: date):
        return features.with_columns(
            (pl.col("customer_id").hash(seed) % 1000 / 1000).alias("pd"),
            (pl.col("customer_id").hash(seed + 1) % 1000 / 1000).alias("propensity"),
        )

    return scorer


@dataclass(frozen=True)
class Champions:
    """The twin's delinquency and propensity models and the night they were trained on."""

    delinquency: MonotoneGBMClassifier
    propensity: MonotoneGBMClassifier
    trained_on: date
    auc: dict[str, float] = field(default_factory=dict)


def train_champions(
    tables: Mapping[str, pl.LazyFrame], night: date, snapshots: int, seed: int = 42
) -> Champions:
    """Both models trained on the tables as they stand at `night`, features built once."""
    specs = [TrainingSpec(kind=k, snapshots=snapshots, random_state=seed) for k in KINDS]
    table = snapshot_features(tables, specs)
    results = [train(tables, spec, feature_table=table) for spec in specs]
    return Champions(
        delinquency=results[0].model,
        propensity=results[1].model,
        trained_on=night,
        auc={k: float(r.evaluation.auc) for k, r in zip(KINDS, results, strict=True)},
    )


class RetrainingScorer:
    """Champion scores, the champions retrained every `every_days` nights (0: never) on the
    tables the twin holds that night, as a monthly retraining would."""

    def __init__(self, champions: Champions, every_days: int = 30, snapshots: int = 12) -> None:
        self.champions = champions
        self.every_days = every_days
        self.snapshots = snapshots
        self.retrained: list[Champions] = []

    def __call__(
        self, features: pl.DataFrame, tables: Mapping[str, pl.LazyFrame], night: date
    ) -> pl.DataFrame:
        age = (night - self.champions.trained_on).days
        if self.every_days and age >= self.every_days:
            self.champions = train_champions(tables, night, self.snapshots)
            self.retrained.append(self.champions)
        scores = score(features, self.champions.delinquency, self.champions.propensity)
        return features.join(scores.drop("as_of"), on="customer_id", how="left")


def policy_label(policy: str) -> str:
    """The name a policy goes by in the figures: itself, or a strategy folder's name."""
    return policy if policy in POLICIES else Path(policy).name


def policy_config(policy: str, config_dir: Path | None = None) -> DunningConfig | None:
    """The strategy a policy runs: none (no contact), fixed, regua, or a strategy folder.
    The oracle runs the base configuration's guardrails and offers, not its ladders."""
    folder = config_dir or get_settings().config_dir
    if policy == NONE:
        return None
    if policy in (REGUA, ORACLE):
        return load_dunning_config(folder)
    if policy == FIXED:
        return load_strategy(folder / "strategies" / "fixed", folder)
    if policy == LEARNED:
        return policy_strategy(load_dunning_config(folder), folder)
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
    dropped: pl.DataFrame
    """customer_id, dropped_on: relationships the agency ended during the run."""
    last_day: date
    retrained_on: list[date] = field(default_factory=list)


def open_book(open_invoices: pl.DataFrame, night: date, charge_off_days: int) -> pl.DataFrame:
    """The past-due book at the end of a night, by bucket of the customer's oldest invoice;
    invoices past `charge_off_days` are charged off and off the book."""
    past_due = (
        open_invoices.filter(pl.col("due_at") < night)
        .with_columns((pl.lit(night) - pl.col("due_at")).dt.total_days().alias("dpd"))
        .filter(pl.col("dpd") < charge_off_days)
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


def oracle_actions(
    night: date,
    owed: pl.DataFrame,
    book: TwinBook,
    state: pl.DataFrame,
    recent: pl.DataFrame,
    tables: Mapping[str, pl.LazyFrame],
    config: DunningConfig,
    params: TwinParameters,
    seed: int,
) -> pl.DataFrame:
    """The oracle's actions for the day after `night`: per case, the best treatment the
    guardrails allow on that day (the next best when they move or skip one)."""
    tomorrow = night + timedelta(days=1)
    steps = ladder_steps(config.ladders)
    discounts = steps.filter(pl.col("purpose") == "negotiation_offer")["discount_pct"]
    options = oracle_options(
        tomorrow, owed, book.traits, state, recent, params, seed, discounts.drop_nulls().to_list()
    )
    if options.is_empty():
        return pl.DataFrame(schema=ACTION_SCHEMA)
    customers = tables["customers"].collect()
    history = tables["contacts"].collect()
    day = tomorrow.strftime("%Y%m%d")
    offer_days = config.cases.actions.offer_valid_days
    placed: list[pl.DataFrame] = []
    for rank in range(1, ORACLE_TRIES + 1):
        batch = options.filter(pl.col("rank") == rank)
        if placed:
            batch = batch.join(
                pl.concat(placed).select("customer_id"), on="customer_id", how="anti"
            )
        if batch.is_empty():
            continue
        offer = pl.col("discount_pct") > 0
        proposed = batch.select(
            pl.format("{}/oracle-{}/{}", "customer_id", "channel", pl.lit(day)).alias("action_id"),
            "customer_id",
            pl.format("{}-oracle", "customer_id").alias("case_id"),
            pl.lit(None, pl.String).alias("invoice_id"),
            "invoice_ids",
            "channel",
            pl.format("oracle-{}", "channel").alias("step_id"),
            pl.when(offer).then(pl.lit("negotiation_offer")).otherwise(pl.lit("reminder"))
            .alias("purpose"),
            pl.lit("friendly").alias("tone"),
            pl.when(offer).then("discount_pct").alias("discount_pct"),
            pl.when(offer).then(pl.lit(1, pl.Int32)).alias("max_installments"),
            pl.when(offer).then(pl.lit(tomorrow + timedelta(days=offer_days - 1)))
            .alias("offer_valid_until"),
            pl.lit(tomorrow).dt.combine(FIRST_SLOT).alias("scheduled_for"),
        )  # fmt: skip
        guarded = apply_guardrails(proposed, customers, history, config.guardrails, night)
        allowed = guarded.filter(
            (pl.col("status") == "scheduled") & (pl.col("scheduled_for").dt.date() == tomorrow)
        )
        placed.append(allowed.select(ACTION_SCHEMA.names()))
    return pl.concat(placed).cast(dict(ACTION_SCHEMA)).sort("action_id")


def run_policy(
    book: TwinBook,
    policy: str,
    seed: int,
    params: TwinParameters,
    scorer: Scorer,
    config_dir: Path | None = None,
    days: int | None = None,
    progress: Callable[[int], None] | None = None,
    ingest: bool = False,
    config: DunningConfig | None = None,
    treatment_policy: TreatmentPolicy | None = None,
    phone_capacity: int | None = None,
) -> TwinRun:
    """Run one policy on the book for `days` nights (default: the book's), with one seed.

    `config` replaces the policy's strategy (the best-arm oracle's single-ladder arms).
    `policy` "oracle" here is the one-day lookahead (`oracle_actions`), one of the arms
    `oracle_run` takes the best of.

    With `ingest`, every day's rows are written as that day's exports and go through the
    real ingest into the run's own store, which the night reads (`pipelines.twin_exports`);
    without, the night reads the same rows assembled in memory (faster, for tests and
    trying strategies; the ingest's checks are not run).

    `treatment_policy` is `decide`'s hook (the learned policy, or a recorder of a
    randomized history); with `phone_capacity`, the day's calls are the night's work list
    (`dunning.policy.phone_worklist`, chosen cases' expected values from the hook): the
    calls past the capacity are not made that day.
    """
    days = days or book.days
    config = config or policy_config(policy, config_dir)
    steps = ladder_steps(config.ladders) if config is not None else None
    tones = steps.select("ladder_id", "step_id", "tone") if steps is not None else None
    # A strategy with one ladder treats every score alike: no model need be asked.
    one_ladder = (
        hashed_scores(seed) if config is not None and len(config.ladders.ladders) == 1 else None
    )
    record = TwinRecord()
    # Every customer of the book, those who open during the run too: a customer who opens
    # having opted out of a channel is opted out from their first night.
    everyone = pl.concat([book.past["customers"], book.future_customers], how="diagonal_relaxed")
    state = initial_state(everyone)
    done = pl.Series("action_id", [], pl.String)
    disputed = pl.Series("invoice_id", [], pl.String)
    new_disputes = disputed
    store = None
    if ingest:
        folder = book.store.parent / "runs" / f"{policy_label(policy)}-{seed}"
        store = TwinStore(book, folder)
    for i in range(days):
        night = book.day0 + timedelta(days=i)
        tomorrow = night + timedelta(days=1)
        started = time.perf_counter()
        if store is None:
            tables = _tables(book, record, state, disputed, night)
        else:
            if i:
                today = store.exports(
                    night,
                    record.contacts[-1],
                    record.payments[-1],
                    state,
                    new_disputes,
                    _dropped(state),
                )
                store.ingest(night, today)
            tables = store.tables()
        record.seconds["ingest" if ingest else "tables"] += time.perf_counter() - started
        started = time.perf_counter()
        # the twin's exports are complete every night, quiet days included
        features, open_invoices = day_inputs(tables, night, max_stale_days=days + 31)
        record.open_book.append(open_book(open_invoices, night, params.charge_off_days))
        owed = open_invoices.select(
            "invoice_id",
            "customer_id",
            "due_at",
            (pl.col("amount") - pl.col("paid")).clip(0).round(2).alias("open_amount"),
        )
        recent = _recent_contacts(record.contacts, tomorrow)
        record.seconds["features"] += time.perf_counter() - started
        started = time.perf_counter()
        if config is None:
            todo = pl.DataFrame()
        elif policy == ORACLE:
            todo = oracle_actions(night, owed, book, state, recent, tables, config, params, seed)
        else:
            # Only customers with something open can be given an action: scoring the others
            # (a third to a half of the book on a night) would change nothing.
            owing = open_invoices["customer_id"].unique().implode()
            in_play = features.filter(pl.col("customer_id").is_in(owing))
            scored = (scorer if one_ladder is None else one_ladder)(in_play, tables, night)
            record.seconds["score"] += time.perf_counter() - started
            started = time.perf_counter()
            actions = decide(
                scored, tables, night, config, None, open_invoices, policy=treatment_policy
            ).actions
            todo = due_actions(actions, tomorrow, done)
            if phone_capacity is not None:
                chosen = getattr(treatment_policy, "chosen", None)
                choices = chosen() if chosen is not None else pl.DataFrame(schema=CHOICE_SCHEMA)
                calls = phone_worklist(todo, choices, steps, phone_capacity)
                todo = todo.filter(
                    (pl.col("channel") != "phone")
                    | pl.col("action_id").is_in(calls["action_id"].implode())
                )
            todo = todo.join(tones, on=["ladder_id", "step_id"], how="left")
        record.seconds["decide"] += time.perf_counter() - started
        started = time.perf_counter()
        day = respond(tomorrow, todo, owed, book.traits, state, recent, params, seed)
        state = day.state
        record.contacts.append(day.contacts)
        record.payments.append(day.payments)
        record.events.append(day.events)
        record.expected.append(day.expected)
        if not day.contacts.is_empty():
            done = pl.concat([done, day.contacts["action_id"]])
        new_disputes = day.disputed.rename("invoice_id")
        if not day.disputed.is_empty():
            disputed = pl.concat([disputed, new_disputes]).unique().sort()
        record.seconds["responses"] += time.perf_counter() - started
        if progress is not None:
            progress(i + 1)
    if store is not None:
        store.close()
    run = _finish(book, policy, seed, record, config, state, days, params)
    retrained = getattr(scorer, "retrained", [])
    return TwinRun(**{**run.__dict__, "retrained_on": [c.trained_on for c in retrained]})


def _dropped(state: pl.DataFrame) -> pl.DataFrame:
    """Customers the agency holds, from the day it took them (their relationship ended)."""
    return state.filter(pl.col("agency_since").is_not_null()).select(
        "customer_id", pl.col("agency_since").alias("dropped_on")
    )


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
    tables = book.tables_at(night, contacts, payments, _dropped(state))
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
    book: TwinBook,
    policy: str,
    seed: int,
    record: TwinRecord,
    config: DunningConfig | None,
    state: pl.DataFrame,
    days: int,
    params: TwinParameters,
) -> TwinRun:
    contacts = _concat(record.contacts, CONTACT_SCHEMA)
    payments = _concat(record.payments, PAYMENT_SCHEMA)
    events = pl.concat(record.events, how="vertical_relaxed") if record.events else pl.DataFrame()
    last = book.day0 + timedelta(days=days)
    dropped = _dropped(state)
    started = time.perf_counter()
    tables = {name: frame.collect() for name, frame in book.tables_at(
        last, contacts, payments, dropped).items()}  # fmt: skip
    # the open book at the end of the last day, after its responses
    still_open = open_invoice_plan(tables, last).collect()
    record.open_book.append(open_book(still_open, last, params.charge_off_days))
    guardrails = (config or load_dunning_config()).guardrails
    violations = audit_contacts(
        contacts, tables["customers"], tables["invoices"], tables["payments"], guardrails, last
    )
    record.seconds["audit"] += time.perf_counter() - started
    return TwinRun(
        policy=policy_label(policy),
        seed=seed,
        contacts=contacts,
        payments=payments,
        events=events,
        expected=pl.concat(record.expected, how="vertical_relaxed"),
        open_book=pl.concat(record.open_book),
        violations=violations,
        seconds_by_stage=dict(record.seconds),
        dropped=dropped,
        last_day=last,
    )


def single_ladder_config(base: DunningConfig, ladder_id: str) -> DunningConfig:
    """The base strategy with every segment on one ladder (and only that ladder)."""
    ladders = base.ladders.model_copy(
        update={"ladders": {ladder_id: base.ladders.ladders[ladder_id]}}
    )
    segments = base.segments.model_copy(
        update={
            "segments": {
                name: segment.model_copy(update={"ladder": ladder_id})
                for name, segment in base.segments.segments.items()
            }
        }
    )
    return replace(base, ladders=ladders, segments=segments)


def customer_net(book: TwinBook, run: TwinRun) -> pl.DataFrame:
    """customer_id, net: what each customer paid after a due date within the run, less the
    cost of the contacts made to them and the agency's fee on them (net recovery, per
    customer, as `twin_kpis` sums it)."""
    tables = book.tables_at(run.last_day, run.contacts, run.payments, run.dropped)
    due = tables["invoices"].select("invoice_id", "due_at")
    first = book.day0 + timedelta(days=1)
    recovered = (
        tables["payments"]
        .join(due, on="invoice_id")
        .filter((pl.col("paid_at") > pl.col("due_at")) & (pl.col("paid_at") >= first))
        .group_by("customer_id")
        .agg(pl.col("amount").sum().alias("recovered"))
        .collect()
    )
    cost = run.contacts.group_by("customer_id").agg(pl.col("cost_brl").sum().alias("cost"))
    fees = (
        run.events.filter(pl.col("kind") == "agency_fee")
        .group_by("customer_id")
        .agg(pl.col("amount").sum().alias("fee"))
    )
    customers = pl.concat([f.select("customer_id") for f in (recovered, cost, fees)]).unique()
    return (
        customers.join(recovered, on="customer_id", how="left")
        .join(cost, on="customer_id", how="left")
        .join(fees, on="customer_id", how="left")
        .select(
            "customer_id",
            (
                pl.col("recovered").fill_null(0) - pl.col("cost").fill_null(0)
                - pl.col("fee").fill_null(0)
            ).alias("net"),
        )
    )  # fmt: skip


def oracle_run(
    book: TwinBook,
    seed: int,
    params: TwinParameters,
    config_dir: Path | None = None,
    days: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> TwinRun:
    """The ceiling: for each customer, the best of several complete runs on the same draws.

    The arms are no contact, the fixed ladder, every ladder of the base configuration given
    to everyone, and the one-day lookahead (`oracle_actions`). Draws are keyed by customer
    (common random numbers) and customers do not interact, so a customer's outcome under
    an arm is what it would be under any policy that treats them that way: taking each
    customer's best arm (highest `customer_net`, ties to the earlier arm) is a policy whose
    net recovery is at least that of every arm and of any policy choosing among them per
    customer, segment rules included. The run records the chosen arms' rows.
    """
    days = days or book.days
    base = load_dunning_config(config_dir)
    arms: dict[str, TwinRun] = {}
    scorer = hashed_scores(seed)  # no arm asks a model: one ladder each, or none
    for name in (NONE, FIXED, ORACLE, *base.ladders.ladders):
        config = single_ladder_config(base, name) if name in base.ladders.ladders else None
        policy = REGUA if config is not None else name
        arms[name] = run_policy(book, policy, seed, params, scorer, config_dir, days,
                                config=config)  # fmt: skip
    order = {name: i for i, name in enumerate(arms)}
    nets = pl.concat(
        [customer_net(book, run).with_columns(pl.lit(order[name]).alias("arm"))
         for name, run in arms.items()]
    )  # fmt: skip
    everyone = pl.concat(
        [book.past["customers"]["customer_id"], book.future_customers["customer_id"]]
    ).unique()
    best = (
        pl.DataFrame({"customer_id": everyone})
        .join(pl.DataFrame({"arm": list(order.values())}), how="cross")
        .join(nets, on=["customer_id", "arm"], how="left")
        .with_columns(pl.col("net").fill_null(0.0))
        .sort(["customer_id", "net", "arm"], descending=[False, True, False])
        .group_by("customer_id", maintain_order=True)
        .first()
        .select("customer_id", "arm")
    )
    names = list(arms)
    parts: dict[str, list[pl.DataFrame]] = defaultdict(list)
    for i, name in enumerate(names):
        mine = best.filter(pl.col("arm") == i).select("customer_id")
        run = arms[name]
        for key in ("contacts", "payments", "events", "expected", "dropped"):
            parts[key].append(getattr(run, key).join(mine, on="customer_id", how="semi"))
    contacts, payments = (
        pl.concat(parts[k], how="diagonal_relaxed") for k in ("contacts", "payments")
    )
    dropped = pl.concat(parts["dropped"], how="diagonal_relaxed")
    last = book.day0 + timedelta(days=days)
    books = []
    for i in range(days + 1):
        night = book.day0 + timedelta(days=i)
        tables = {
            n: f.collect() for n, f in book.tables_at(night, contacts, payments, dropped).items()
        }
        books.append(
            open_book(open_invoice_plan(tables, night).collect(), night, params.charge_off_days)
        )
    final = {n: f.collect() for n, f in book.tables_at(last, contacts, payments, dropped).items()}
    guardrails = base.guardrails
    violations = audit_contacts(
        contacts, final["customers"], final["invoices"], final["payments"], guardrails, last
    )
    seconds: dict[str, float] = defaultdict(float)
    for run in arms.values():
        for stage, value in run.seconds_by_stage.items():
            seconds[stage] += value
    if progress is not None:
        progress(days)
    return TwinRun(
        policy=ORACLE,
        seed=seed,
        contacts=contacts.sort("at", "customer_id"),
        payments=payments,
        events=pl.concat(parts["events"], how="diagonal_relaxed"),
        expected=pl.concat(parts["expected"], how="diagonal_relaxed"),
        open_book=pl.concat(books),
        violations=violations,
        seconds_by_stage=dict(seconds),
        dropped=dropped,
        last_day=last,
    )


def run_figures(
    book: TwinBook, run: TwinRun, params: TwinParameters
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One run's KPIs (policy, seed, kpi, value, unit, description) and its daily curves.

    The run's days are day0 + 1 (the first responses) to `run.last_day`. Besides the
    figures of `twin_kpis`: `guardrail_violations`, the executed contacts the independent
    audit found breaking a rule, and `expected_recovered_brl`, what the customers' daily
    chances of paying were worth (no noise of the draws).
    """
    tables = book.tables_at(run.last_day, run.contacts, run.payments, run.dropped)
    invoices = tables["invoices"].collect()
    extra = run.payments.select("payment_id", "recovered_by", "discount_brl")
    payments = tables["payments"].collect().join(extra, on="payment_id", how="left")
    fees = run.events.filter(pl.col("kind") == "agency_fee").select(
        "customer_id", "day", pl.col("amount").alias("fee_brl")
    )
    events = run.events.filter(pl.col("kind") != "agency_fee")
    first = book.day0 + timedelta(days=1)
    common = {
        "invoices": invoices,
        "payments": payments,
        "contacts": run.contacts,
        "agency_fees": fees,
        "daily_open": run.open_book,
        "day0": first,
        "last_day": run.last_day,
    }
    kpis = twin_kpis(**common, events=events, charge_off_days=params.charge_off_days)
    audited = run.violations.height
    extra_rows = pl.DataFrame(
        [
            ("guardrail_violations", float(audited), "count",
             "Executed contacts the twin's independent audit found breaking a rule (windows, "
             "holidays, caps, opt-outs, notice lead, de-listing deadline)"),
            ("expected_recovered_brl", float(run.expected["expected_brl"].sum()), "BRL",
             "What the daily chances of paying of the customers in a case were worth "
             "(self-cure and collection's lift, promises and the agency aside): the "
             "noise-free twin of recovered_customer_brl's cures"),
        ],
        schema=KPI_SCHEMA,
        orient="row",
    )  # fmt: skip
    keys = [pl.lit(run.policy).alias("policy"), pl.lit(run.seed).alias("seed")]
    kpis = pl.concat([kpis, extra_rows]).select(*keys, pl.all())
    daily = twin_daily(**common).select(*keys, pl.all())
    return kpis, daily


Models = Literal["train", "registry", "hashed"]
"""train: champions trained on each book at day 0; registry: the MLflow registry's
champions (`models.scoring.load_champion`) at day 0; both retrained every `retrain_days`.
hashed: stand-in scores, no model (quick trials of ladders)."""


@dataclass(frozen=True)
class TwinSpec:
    """What `run_twin` runs: the book, the policies, the seeds, the models and where to."""

    customers: int
    days: int
    policies: tuple[str, ...]
    seeds: tuple[int, ...]
    params_path: Path
    out: Path
    books: Path | None = None
    config_dir: Path | None = None
    day0: date = date(2026, 10, 31)
    months: int = 24
    models: Models = "train"
    retrain_days: int = 30
    snapshots: int = 12
    ingest: bool = True
    policy_path: Path | None = None
    """The learned policy's settings (config/policy.yaml when left out)."""

    def book_folder(self, seed: int) -> Path:
        """Where the book of `seed` is simulated (and found again by a later run)."""
        return (self.books or self.out / "books") / f"seed-{seed}"


@dataclass(frozen=True)
class TwinResult:
    """Everything a twin run wrote, as frames."""

    kpis: pl.DataFrame
    summary: pl.DataFrame
    daily: pl.DataFrame
    violations: pl.DataFrame
    manifest: dict


def book_for(spec: TwinSpec, seed: int) -> TwinBook:
    """The simulated book of `seed`: built once, found again when its settings match."""
    folder = spec.book_folder(seed)
    wanted = {
        "customers": spec.customers,
        "days": spec.days,
        "months": spec.months,
        "seed": seed,
        "day0": spec.day0.isoformat(),
    }
    marker = folder / "book.json"
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return open_twin_book(folder, spec.day0, spec.days)
    if folder.exists() and any(folder.iterdir()):
        raise FileExistsError(
            f"{folder}: holds another twin book ({marker.name} differs); remove it or choose "
            "another --books folder"
        )
    book = build_twin_book(folder, spec.customers, spec.days, seed, spec.day0, spec.months)
    write_text_atomic(json.dumps(wanted, indent=2, sort_keys=True) + "\n", marker)
    return book


def _ticker(
    progress: Callable[[str, int, int], None], label: str, nights: int
) -> Callable[[int], None]:
    """`progress` for one run: told the run's label and the nights done of `nights`."""

    def tick(night: int) -> None:
        progress(label, night, nights)

    return tick


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _champions(spec: TwinSpec, book: TwinBook, seed: int) -> Champions | None:
    """The champions a run on `book` starts from (None: hashed scores)."""
    if spec.models == "train":
        tables = {n: f.lazy() for n, f in book.past.items()}
        return train_champions(tables, book.day0, spec.snapshots, seed)
    if spec.models == "registry":
        return Champions(
            delinquency=load_champion("delinquency").model,
            propensity=load_champion("propensity_to_pay").model,
            trained_on=book.day0,
        )
    return None


def _scorer(spec: TwinSpec, champions: Champions | None, seed: int) -> Scorer:
    if champions is None:
        return hashed_scores(seed)
    return RetrainingScorer(champions, spec.retrain_days, spec.snapshots)


def train_twin_policy(
    spec: TwinSpec, seed: int, params: TwinParameters, config: PolicyConfig
) -> tuple[FittedPolicy, DunningConfig]:
    """A ladder policy learned from the twin's own randomized history: a book of other
    customers (seed + `history_seed_offset`) whose `history_nights` end on the measured
    book's day 0, every new case randomized over the treatments; fitted and gated on it.
    Returns the fit and the strategy (treatments) it chooses in."""
    folder = spec.config_dir or get_settings().config_dir
    strategy = policy_strategy(load_dunning_config(folder), folder)
    treatments = policy_treatments(strategy, config)
    nights = config.history_nights
    history_spec = replace(spec, days=nights, day0=spec.day0 - timedelta(days=nights))
    history_seed = seed + config.history_seed_offset
    book = book_for(history_spec, history_seed)
    randomized = randomized_strategy(strategy, treatments, book.day0, config.reference)
    shares = {c.id: c.share for c in randomized.experiments.experiments[0].cells}
    recorder = CellRecorder(shares)
    scorer = _scorer(spec, _champions(spec, book, history_seed), history_seed)
    run = run_policy(
        book, REGUA, history_seed, params, scorer, spec.config_dir, nights,
        config=randomized, treatment_policy=recorder,
    )  # fmt: skip
    tables = book.tables_at(run.last_day, run.contacts, run.payments, run.dropped)
    history = history_frame(recorder.cases(), tables, strategy, run.last_day, config.horizon_days)
    return fit_policy(history, config, random_state=seed), strategy


def learned_run(
    spec: TwinSpec,
    book: TwinBook,
    seed: int,
    params: TwinParameters,
    scorer: Scorer,
    progress: Callable[[int], None] | None = None,
) -> tuple[TwinRun, dict]:
    """`regua twin --policy learned`: the policy trained on the twin's randomized history
    (`train_twin_policy`), then run on the measured book with its exploration share and
    the phone capacity. Returns the run and what the fit and the choices were."""
    config = load_policy_config(spec.policy_path)
    fitted, strategy = train_twin_policy(spec, seed, params, config)
    hook = LearnedPolicy(fitted.model, strategy, config)
    run = run_policy(
        book, LEARNED, seed, params, scorer, spec.config_dir, spec.days, progress, spec.ingest,
        config=strategy, treatment_policy=hook, phone_capacity=config.phone_calls_per_day,
    )  # fmt: skip
    chosen = hook.chosen()
    e = fitted.estimate
    facts = {
        "estimator": e.estimator,
        "policy_value": e.policy.value,
        "reference_value": e.reference.value,
        "reference": e.reference_name,
        "gate_passed": fitted.passed,
        "gate_reason": fitted.reason,
        "train_cases": fitted.train_cases,
        "held_out_cases": fitted.held_out_cases,
        "cases_chosen": chosen.height,
        "explored_share": float(chosen["explored"].mean()) if chosen.height else None,
        "treatments": dict(chosen["treatment"].value_counts().iter_rows()),
    }
    return run, facts


def run_twin(
    spec: TwinSpec,
    progress: Callable[[str, int, int], None] | None = None,
) -> TwinResult:
    """Every policy on every seed's book; figures written to `spec.out` (see module doc).

    `progress(label, night, nights)` is told after every night of every run.
    """
    params = load_twin_parameters(spec.params_path)
    kpis, daily, violations = [], [], []
    seconds: dict[str, dict[str, float]] = {}
    retrained: dict[str, list[str]] = {}
    aucs: dict[str, dict[str, float]] = {}
    learned: dict[str, dict] = {}
    for seed in spec.seeds:
        book = book_for(spec, seed)
        started = time.perf_counter()
        champions = _champions(spec, book, seed)
        if spec.models == "train" and champions is not None:
            seconds[f"train/{seed}"] = {"train": time.perf_counter() - started}
            aucs[str(seed)] = champions.auc
        for policy in spec.policies:
            label = policy_label(policy)
            scorer = _scorer(spec, champions, seed)
            tick = (
                None if progress is None else _ticker(progress, f"{label} seed {seed}", spec.days)
            )
            if policy == ORACLE:
                run = oracle_run(book, seed, params, spec.config_dir, spec.days, tick)
            elif policy == LEARNED:
                run, learned[str(seed)] = learned_run(spec, book, seed, params, scorer, tick)
            else:
                run = run_policy(
                    book, policy, seed, params, scorer, spec.config_dir, spec.days, tick,
                    spec.ingest,
                )  # fmt: skip
            started = time.perf_counter()
            run_kpis, run_daily = run_figures(book, run, params)
            run.seconds_by_stage["figures"] = time.perf_counter() - started
            kpis.append(run_kpis)
            daily.append(run_daily)
            violations.append(
                run.violations.select(
                    pl.lit(label).alias("policy"), pl.lit(seed).alias("seed"), pl.all()
                )
            )
            seconds[f"{label}/{seed}"] = run.seconds_by_stage
            retrained[f"{label}/{seed}"] = [d.isoformat() for d in run.retrained_on]
    all_kpis = pl.concat(kpis)
    result = TwinResult(
        kpis=all_kpis,
        summary=summarise_runs(all_kpis),
        daily=pl.concat(daily),
        violations=pl.concat(violations, how="diagonal_relaxed"),
        manifest={
            "params": {
                "name": params.name,
                "path": str(spec.params_path),
                "sha256": _sha256(spec.params_path),
                "values": params.model_dump(mode="json"),
            },
            "customers": spec.customers,
            "days": spec.days,
            "day0": spec.day0.isoformat(),
            "months": spec.months,
            "seeds": list(spec.seeds),
            "policies": [policy_label(p) for p in spec.policies],
            "strategies": {policy_label(p): str(p) for p in spec.policies if p not in POLICIES},
            "models": spec.models,
            "ingest": spec.ingest,
            "retrain_days": spec.retrain_days,
            "retrained_on": retrained,
            "champion_auc": aucs,
            "learned_policy": learned,
            "seconds_by_stage": seconds,
        },
    )
    write_twin(result, spec.out)
    return result


def write_twin(result: TwinResult, out: Path) -> None:
    """The run's files in `out`, each replaced atomically (a re-run rewrites them whole)."""
    out.mkdir(parents=True, exist_ok=True)
    write_parquet_atomic(result.kpis, out / "kpis.parquet")
    write_parquet_atomic(result.summary, out / "summary.parquet")
    write_parquet_atomic(result.daily, out / "daily.parquet")
    write_parquet_atomic(result.violations, out / "violations.parquet")
    text = json.dumps(result.manifest, indent=2, sort_keys=True, default=str)
    write_text_atomic(text + "\n", out / "manifest.json")


def log_twin(out: Path, tracking_uri: str | None = None) -> str:
    """Log a twin run's folder to MLflow (experiment `regua-twin`): one run with the
    parameters, every policy's mean KPIs as metrics and the files as artifacts."""
    import mlflow

    from regua.models.tracking import use_experiment

    mlflow.set_tracking_uri(tracking_uri or get_settings().mlflow_tracking_uri)
    use_experiment(EXPERIMENT)
    manifest = json.loads((out / "manifest.json").read_text())
    summary = pl.read_parquet(out / "summary.parquet")
    with mlflow.start_run(run_name=f"twin-{manifest['params']['name']}") as run:
        mlflow.log_params(
            {
                "params_name": manifest["params"]["name"],
                "params_sha256": manifest["params"]["sha256"],
                "customers": manifest["customers"],
                "days": manifest["days"],
                "day0": manifest["day0"],
                "seeds": ",".join(str(s) for s in manifest["seeds"]),
                "policies": ",".join(manifest["policies"]),
                "models": manifest["models"],
                "retrain_days": manifest["retrain_days"],
            }
        )
        metrics = {
            f"{row['policy']}.{row['kpi']}": row["mean"]
            for row in summary.iter_rows(named=True)
            if row["mean"] is not None
        }
        mlflow.log_metrics(metrics)
        for name in ("kpis.parquet", "summary.parquet", "daily.parquet", "violations.parquet",
                     "manifest.json", "report.html"):  # fmt: skip
            if (out / name).exists():
                mlflow.log_artifact(str(out / name))
        return run.info.run_id
