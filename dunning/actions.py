"""The day's decisions from scores and the store: segments, case actions, credit limits.

`decide` is a pure function of frames and configuration: the nightly flow and
`regua score` call it after loading the store and the champion models, and a notebook can
call it with any scores. Every collection case, every open invoice not yet due, every
listed invoice to clear and every agency recall yields one action row, scheduled,
skipped (with the rule and its values) or waiting (with what comes next), so nothing
silently disappears. See `dunning.cases` and `dunning.schedule` for the rules of a case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path

import polars as pl

from regua.config import ConfigError, LabelsConfig, load_labels
from regua.config.cases import CasesConfig, load_cases
from regua.config.charges import ChargesConfig, load_charges
from regua.config.dunning import (
    LaddersConfig,
    SegmentsConfig,
    check_other_templates,
    load_ladders,
    load_segments,
)
from regua.config.experiments import NO_EXPERIMENTS, ExperimentsConfig, load_experiments
from regua.config.guardrails import GuardrailsConfig, load_guardrails
from regua.config.limits import LimitsConfig, load_limits
from regua.contract import UFS
from regua.dunning.calendar import holiday_table
from regua.dunning.cases import history, open_cases
from regua.dunning.charges import late_charges
from regua.dunning.experiments import EXPERIMENT_COLUMNS, assign_cells
from regua.dunning.guardrails import apply_guardrails
from regua.dunning.limits import recommend_limits
from regua.dunning.outputs import ACTIONS, LIMITS, SEGMENTS
from regua.dunning.overrides import hold_decisions
from regua.dunning.schedule import (
    WAITING_STATES,
    open_invoice_status,
    plan_actions,
)
from regua.dunning.segments import assign_segments
from regua.features.build import open_invoice_plan
from regua.models.explain import explain
from regua.models.gbm import MonotoneGBMClassifier
from regua.models.scoring import out_of_population_text
from regua.settings import get_settings

TreatmentPolicy = Callable[[pl.DataFrame, pl.DataFrame, pl.DataFrame], pl.DataFrame]
"""(segments, scored, customers) -> segments with the policy's ladders (`decide`'s hook)."""

FIRST_SLOT = time(8, 0)
"""Proposed local time of an action on its day; the guardrails move it into a window."""


DEFAULT_LABELS = LabelsConfig()
"""The shipped label definitions (their out-of-population rule), when no file is read."""


@dataclass(frozen=True)
class DunningConfig:
    """Every configuration the day's decisions read."""

    segments: SegmentsConfig
    ladders: LaddersConfig
    guardrails: GuardrailsConfig
    limits: LimitsConfig
    cases: CasesConfig
    charges: ChargesConfig
    experiments: ExperimentsConfig = NO_EXPERIMENTS
    labels: LabelsConfig = DEFAULT_LABELS


def check_listing_notices(ladders: LaddersConfig, guardrails: GuardrailsConfig, path: Path) -> None:
    """A ladder's listing notice must go by a channel the guardrails count as the written
    notice, or its listings could never happen (`ConfigError` naming `path` and the key)."""
    counted = guardrails.written_notice_channels
    for ladder_id, i, step in ladders.steps():
        if step.purpose == "negative_listing_notice" and step.channel not in counted:
            raise ConfigError(
                f"{path}: ladders.{ladder_id}.steps.{i}.channel: a listing notice by "
                f"{step.channel} does not count as the written notice "
                f"(guardrails.yaml written_notice_channels: {', '.join(counted)})"
            )


def load_dunning_config(config_dir: Path | None = None) -> DunningConfig:
    """Every dunning configuration file of `config_dir` (default: the settings'), validated.

    Beyond each file's own rules, a ladder's listing notice must go by a channel the
    guardrails count as the written notice, or its listings could never happen.
    """
    folder = config_dir or get_settings().config_dir
    ladders = load_ladders(folder / "ladders.yaml")
    guardrails = load_guardrails(folder / "guardrails.yaml")
    check_listing_notices(ladders, guardrails, folder / "ladders.yaml")
    check_other_templates(ladders.creditor, get_settings().templates_dir)
    segments = load_segments(folder / "segments.yaml", ladders)
    return DunningConfig(
        segments=segments,
        ladders=ladders,
        guardrails=guardrails,
        limits=load_limits(folder / "limits.yaml"),
        cases=load_cases(folder / "cases.yaml"),
        charges=load_charges(folder / "charges.yaml"),
        experiments=load_experiments(folder / "strategies.yaml", ladders, segments),
        labels=load_labels(folder / "labels.yaml"),
    )


@dataclass(frozen=True)
class Decisions:
    """The day's outputs: case and reminder actions, a segment and a limit per customer.

    Their columns are declared, with what each means, in `regua.dunning.outputs`.
    """

    actions: pl.DataFrame
    segments: pl.DataFrame
    limits: pl.DataFrame


def ladder_steps(ladders: LaddersConfig) -> pl.DataFrame:
    """The ladders as a frame: one row per step, in ladder order."""
    rows = [
        {
            "ladder_id": ladder_id,
            "step_id": step.id,
            "step_order": order,
            "offset_days": step.offset_days,
            "channel": step.channel,
            "template_id": step.template,
            "purpose": step.purpose,
            "tone": step.tone,
            "discount_pct": step.discount_pct,
            "max_installments": step.max_installments,
        }
        for ladder_id, order, step in ladders.steps()
    ]
    return pl.DataFrame(
        rows,
        schema_overrides={
            "step_order": pl.Int32,
            "offset_days": pl.Int32,
            "discount_pct": pl.Float64,
            "max_installments": pl.Int32,
        },
    )


def broken_promise_steps(ladders: LaddersConfig) -> pl.DataFrame:
    """(ladder_id, broken_step): the step each ladder escalates to on a broken promise."""
    return pl.DataFrame(
        [
            {"ladder_id": ladder_id, "broken_step": ladder.on_broken_promise}
            for ladder_id, ladder in ladders.ladders.items()
        ],
        schema={"ladder_id": pl.String, "broken_step": pl.String},
    )


def national_holidays(as_of: date) -> list[date]:
    """National holidays (every UF's) from the year before as_of to the year after."""
    table = holiday_table((as_of.year - 1, as_of.year, as_of.year + 1))
    counts = table.group_by("date").agg(pl.col("uf").n_unique().alias("n"))
    return counts.filter(pl.col("n") == len(UFS))["date"].sort().to_list()


def decide(
    scored: pl.DataFrame,
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: date,
    config: DunningConfig | None = None,
    delinquency_model: MonotoneGBMClassifier | None = None,
    open_invoices: pl.DataFrame | None = None,
    propensity_model: MonotoneGBMClassifier | None = None,
    held: pl.DataFrame | None = None,
    policy: TreatmentPolicy | None = None,
) -> Decisions:
    """Segments, case and reminder actions after the guardrails, and limits.

        `scored` is the feature table at as_of with `pd` and `propensity` columns. Actions are
        proposed for as_of + 1 at the earliest. Reasons (TreeSHAP, costly) are computed only
        for customers with an action scheduled or a limit change, when `delinquency_model` is
        given. `open_invoices` is `features.build.open_invoice_plan`'s frame (open invoices with
        the case clocks) when the caller already has it; otherwise it is computed here.
        `config` defaults to the installation's YAML files. `held`: the analysts' decisions in
        force tonight (`dunning.overrides.HOLD_COLUMNS`), which the limits hold to. `policy`:
    a learned treatment policy, given the night's segments (with case_id and the experiments'
    cells), the scores and the customers, returns the segments with its cases' ladders
    (`dunning.policy.apply_choices`).

        >>> import regua
        >>> scored = table.join(scores.drop("as_of"), on="customer_id")  # regua.score's
        >>> day = regua.decide(scored, tables, date(2026, 9, 30))
        >>> day.actions.filter(pl.col("status") == "scheduled")
    """
    config = config or load_dunning_config()
    lazy = {name: frame.lazy() for name, frame in tables.items()}
    customers = lazy["customers"].collect()
    steps = ladder_steps(config.ladders)
    segments = assign_segments(scored, config.segments)
    if open_invoices is None:
        share = config.cases.reaging.min_share_of_past_due
        open_invoices = open_invoice_plan(tables, as_of, reaging_share=share).collect()
    agreement_days = config.cases.agreements.active_days
    status = open_invoice_status(open_invoices.lazy(), as_of, agreement_days).collect().lazy()
    past = history(lazy["contacts"], steps.lazy(), as_of).collect()
    cases = open_cases(status, as_of).select("customer_id", "case_id", "case_opened_on")
    segments = assign_cells(segments, scored, cases.collect(), config.experiments, as_of)
    if policy is not None:
        segments = policy(segments, scored, customers)
    plan_steps = steps.lazy().select(
        "ladder_id", "step_id", "step_order", "offset_days", "channel", "template_id", "purpose"
    )
    ladders_tonight = segments.drop("case_id", *EXPERIMENT_COLUMNS).lazy()
    plan = plan_actions(
        status, ladders_tonight, plan_steps, past.lazy(), lazy["invoices"], lazy["payments"],
        as_of, config.cases, config.guardrails.written_notice_channels,
        broken_promise_steps(config.ladders).lazy(), national_holidays(as_of),
    )  # fmt: skip
    actions = _guarded(plan, customers, past, config, as_of)
    actions = _with_charges(actions, status, as_of, config)
    actions = _with_offers_and_notices(actions, steps, config, as_of)
    limits = hold_decisions(recommend_limits(scored, config.limits), held)
    read_today = pl.concat(
        [
            actions.filter(pl.col("status") == "scheduled")["customer_id"],
            limits.filter(pl.col("decision") != "keep")["customer_id"],
        ]
    ).unique()
    reasons = _reasons(scored, read_today, delinquency_model, config.labels)
    scheduled = actions.filter(pl.col("status") == "scheduled")["customer_id"].unique()
    payment_reasons = _payment_reasons(scored, scheduled, propensity_model)
    if "in_population" not in scored.columns:  # scores from elsewhere (a notebook, the twin)
        scored = scored.with_columns(pl.lit(None, pl.Boolean).alias("in_population"))
    scores = scored.select("customer_id", "pd", "in_population", "propensity")
    cells = segments.select("customer_id", *EXPERIMENT_COLUMNS)
    actions = (
        actions.join(scores, on="customer_id", how="left")
        .join(reasons, on="customer_id", how="left")
        .join(payment_reasons, on="customer_id", how="left")
        .join(cells, on="customer_id", how="left")
        .with_columns(pl.lit(as_of).alias("as_of"))
    )
    limits = limits.join(reasons, on="customer_id", how="left").with_columns(
        pl.lit(as_of).alias("as_of")
    )
    segments = segments.with_columns(pl.lit(as_of).alias("as_of")).join(
        scores, on="customer_id", how="left"
    )
    decisions = Decisions(
        actions=ACTIONS.conform(actions),
        segments=SEGMENTS.conform(segments),
        limits=LIMITS.conform(limits),
    )
    return merge_decisions([decisions])


def _guarded(
    plan: pl.DataFrame,
    customers: pl.DataFrame,
    past: pl.DataFrame,
    config: DunningConfig,
    as_of: date,
) -> pl.DataFrame:
    """Due rows through the legal guardrails; waiting rows kept with their next step."""
    due = (
        plan.filter(pl.col("state") == "due")
        .rename({"reason": "ladder_reason"})
        .with_columns(pl.col("proposed_on").dt.combine(FIRST_SLOT).alias("scheduled_for"))
    )
    guarded = apply_guardrails(due, customers, past, config.guardrails, as_of).rename(
        {"reason": "reason_code", "reason_pt": "guardrail", "ladder_reason": "reason"}
    )
    # An action the guardrails place after its attempt's valid_until (a letter on a Friday
    # night before a holiday Monday) belongs to the attempt of the day it is placed on: its
    # id and valid_until are that attempt's, which every later night placing it on the same
    # day gives again. A de-listing (one id per payment) keeps its legal deadline or its slot.
    valid = config.cases.actions.valid_days
    placed = pl.col("scheduled_for").dt.date()
    late = (pl.col("status") == "scheduled") & (placed > pl.col("valid_until"))
    delisting = pl.col("purpose") == "delisting"
    attempt = pl.col("step_day") + pl.duration(
        days=((placed - pl.col("step_day")).dt.total_days() // valid) * valid
    )
    guarded = guarded.with_columns(
        pl.when(late & ~delisting)
        .then(
            pl.concat_str(
                pl.col("action_id").str.replace(r"/[0-9]{8}$", ""),
                attempt.dt.strftime("%Y%m%d"),
                separator="/",
            )
        )
        .otherwise("action_id")
        .alias("action_id"),
        pl.when(late & delisting)
        .then(placed)
        .when(late)
        .then(attempt + timedelta(days=valid - 1))
        .otherwise("valid_until")
        .alias("valid_until"),
    )
    waiting = plan.filter(pl.col("state").is_in(WAITING_STATES)).with_columns(
        pl.lit("waiting").alias("status"),
        pl.lit(None, pl.Datetime("us")).alias("scheduled_for"),
        pl.lit(None, pl.String).alias("scheduled_tz"),
        pl.lit(None, pl.String).alias("guardrail"),
        pl.lit(None, pl.String).alias("action_id"),
        pl.lit(None, pl.Date).alias("valid_until"),
    )
    return pl.concat([guarded, waiting], how="diagonal_relaxed").with_row_index("_key")


def _with_charges(
    actions: pl.DataFrame, status: pl.LazyFrame, as_of: date, config: DunningConfig
) -> pl.DataFrame:
    """Late fine and interest of the row's invoices (CDC art. 52 §1 caps the fine at 2%)."""
    charges = (
        late_charges(status.select("invoice_id", "due_at", "open_amount"), as_of, config.charges)
        .select("invoice_id", "late_fee", "interest")
        .lazy()
        .collect()
    )
    per_row = (
        actions.select("_key", "invoice_ids")
        .explode("invoice_ids")
        .join(charges, left_on="invoice_ids", right_on="invoice_id", how="inner")
        .group_by("_key")
        .agg(pl.col("late_fee").sum().round(2), pl.col("interest").sum().round(2))
    )
    return (
        actions.join(per_row, on="_key", how="left")
        .with_columns(pl.col("late_fee").fill_null(0.0), pl.col("interest").fill_null(0.0))
        .with_columns(
            (pl.col("total_due") + pl.col("late_fee") + pl.col("interest"))
            .round(2)
            .alias("amount_due")
        )
    )


def _with_offers_and_notices(
    actions: pl.DataFrame, steps: pl.DataFrame, config: DunningConfig, as_of: date
) -> pl.DataFrame:
    """Offer terms and validity, a notice's listing date, a listing's notice, and the
    evidence of every rule checked, as JSON."""
    lead = {uf: config.guardrails.lead_days(uf) for uf in UFS}
    day = pl.coalesce(pl.col("scheduled_for").dt.date(), "proposed_on")
    offer_days = timedelta(days=config.cases.actions.offer_valid_days)
    offers = steps.select("ladder_id", "step_id", "discount_pct", "max_installments")
    lead_days = pl.col("uf").replace_strict(lead, default=config.guardrails.notice_lead_days)
    frame = actions.join(offers, on=["ladder_id", "step_id"], how="left").with_columns(
        pl.when(pl.col("purpose") == "negotiation_offer")
        .then(day + offer_days)
        .alias("offer_valid_until"),
        pl.when(pl.col("purpose") == "negative_listing_notice")
        .then(day + pl.duration(days=lead_days))
        .when(pl.col("purpose") == "negative_listing")
        .then(day)
        .alias("listing_date"),
        pl.when(pl.col("purpose") == "negative_listing")
        .then(pl.col("ev_notice_date"))
        .alias("notice_date"),
        (pl.lit(as_of) - pl.col("oldest_due_at")).dt.total_days().alias("days_overdue"),
    )
    evidence = pl.struct(
        pl.col("reason_code").alias("rules"),
        pl.col("scheduled_for").dt.strftime("%Y-%m-%dT%H:%M").alias("local_time"),
        pl.col("scheduled_tz").alias("time_zone"),
        pl.col("ev_window").alias("window"),
        pl.col("ev_contacts_7d").alias("contacts_7d"),
        pl.col("ev_contacts_day").alias("contacts_day"),
        pl.col("ev_notice_id").alias("notice_id"),
        pl.col("ev_notice_date").cast(pl.String).alias("notice_date"),
        pl.col("ev_listing_earliest").cast(pl.String).alias("listing_earliest"),
        pl.col("ev_debt_age_days").alias("debt_age_days"),
        pl.col("case_opened_on").cast(pl.String),
        pl.col("clock_anchor").cast(pl.String),
        pl.col("reaged_on").cast(pl.String),
        pl.col("step_day").cast(pl.String),
        pl.col("superseded"),
        pl.col("promise_state"),
        pl.col("promise_date").cast(pl.String),
        pl.col("promise_amount"),
        pl.col("promise_made_on").cast(pl.String),
        pl.col("promise_channel"),
        pl.col("deadline").cast(pl.String).alias("delisting_deadline"),
    )
    return frame.with_columns(evidence.struct.json_encode().alias("evidence"))


def merge_decisions(parts: Sequence[Decisions]) -> Decisions:
    """One day's decisions from disjoint groups of customers, in one canonical row order.

    Each output is sorted on its key, so the files do not depend on how the customers
    were partitioned (or on the join order inside `decide`).
    """
    return Decisions(
        actions=pl.concat([p.actions for p in parts], how="vertical_relaxed").sort(
            "customer_id", "invoice_id", "step_id", nulls_last=True, maintain_order=True
        ),
        segments=pl.concat([p.segments for p in parts], how="vertical_relaxed").sort(
            "customer_id", maintain_order=True
        ),
        limits=pl.concat([p.limits for p in parts], how="vertical_relaxed").sort(
            "customer_id", maintain_order=True
        ),
    )


def _payment_reasons(
    scored: pl.DataFrame, customers: pl.Series, model: MonotoneGBMClassifier | None
) -> pl.DataFrame:
    """What lowers the propensity to pay (Portuguese) for the customers with something
    overdue and an action scheduled tonight."""
    empty = pl.DataFrame(schema={"customer_id": pl.String, "payment_reasons": pl.List(pl.String)})
    if model is None or customers.is_empty():
        return empty
    rows = scored.filter(
        pl.col("customer_id").is_in(customers.implode()) & pl.col("propensity").is_not_null()
    )
    if rows.is_empty():
        return empty
    return explain(model, rows, "propensity_to_pay").select(
        "customer_id", pl.col("reasons").alias("payment_reasons")
    )


def _reasons(
    scored: pl.DataFrame,
    customers: pl.Series,
    model: MonotoneGBMClassifier | None,
    labels: LabelsConfig,
) -> pl.DataFrame:
    """Top reasons (Portuguese) of the delinquency score for the customers someone reads;
    a customer outside the model's population gets that as the one reason."""
    empty = pl.DataFrame(schema={"customer_id": pl.String, "top_reasons": pl.List(pl.String)})
    if model is None or customers.is_empty():
        return empty
    rows = scored.filter(pl.col("customer_id").is_in(customers.implode()))
    inside = pl.col("in_population") if "in_population" in rows.columns else pl.lit(True)
    outside = rows.filter(~inside).select(
        "customer_id",
        pl.lit([out_of_population_text(labels.delinquency)], pl.List(pl.String)).alias(
            "top_reasons"
        ),
    )
    inside_rows = rows.filter(inside)
    if inside_rows.is_empty():
        return outside
    explained = explain(model, inside_rows).select(
        "customer_id", pl.col("reasons").alias("top_reasons")
    )
    return pl.concat([explained, outside]) if outside.height else explained
