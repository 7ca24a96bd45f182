"""The day's decisions from scores and the store: segments, ladder actions, credit limits.

`decide` is a pure function of frames and configuration: the nightly flow and
`regua score` call it after loading the store and the champion models, and a notebook can
call it with any scores. Every open invoice of a scored customer yields one action row,
scheduled or not (a paused, exhausted or blocked step is kept with its reason), so
nothing silently disappears.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

import polars as pl

from regua.config.dunning import LaddersConfig, SegmentsConfig, load_ladders, load_segments
from regua.config.guardrails import GuardrailsConfig, load_guardrails
from regua.config.limits import LimitsConfig, load_limits
from regua.dunning.guardrails import apply_guardrails
from regua.dunning.limits import recommend_limits
from regua.dunning.outputs import ACTIONS, LIMITS, SEGMENTS
from regua.dunning.schedule import (
    delistings,
    invoice_status,
    listed_invoices,
    open_invoice_status,
    plan_steps,
)
from regua.dunning.segments import assign_segments
from regua.features.build import open_invoice_plan
from regua.models.explain import explain
from regua.models.gbm import MonotoneGBMClassifier
from regua.settings import get_settings

FIRST_SLOT = time(8, 0)
"""Proposed local time of a step on its day; the guardrails move it into a window."""
SCHEDULABLE = ("due", "upcoming", "held")


@dataclass(frozen=True)
class DunningConfig:
    """Every configuration the day's decisions read."""

    segments: SegmentsConfig
    ladders: LaddersConfig
    guardrails: GuardrailsConfig
    limits: LimitsConfig


def load_dunning_config(config_dir: Path | None = None) -> DunningConfig:
    """Every dunning configuration file of `config_dir` (default: the settings'), validated."""
    folder = config_dir or get_settings().config_dir
    ladders = load_ladders(folder / "ladders.yaml")
    return DunningConfig(
        segments=load_segments(folder / "segments.yaml", ladders),
        ladders=ladders,
        guardrails=load_guardrails(folder / "guardrails.yaml"),
        limits=load_limits(folder / "limits.yaml"),
    )


@dataclass(frozen=True)
class Decisions:
    """The day's outputs: one action per open invoice, a segment and a limit per customer.

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


def _history(contacts: pl.DataFrame, steps: pl.DataFrame) -> pl.DataFrame:
    """Past contacts with the purpose of their step, as the guardrails read them."""
    return contacts.join(steps.select("step_id", "purpose"), on="step_id", how="left")


def decide(
    scored: pl.DataFrame,
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame],
    as_of: date,
    config: DunningConfig | None = None,
    delinquency_model: MonotoneGBMClassifier | None = None,
    open_invoices: pl.DataFrame | None = None,
) -> Decisions:
    """Segments, ladder actions after the guardrails, and limits for the scored customers.

    `scored` is the feature table at as_of with `pd` and `propensity` columns. Reasons
    (TreeSHAP, costly) are computed only for customers with an action scheduled for
    as_of or a limit change, when `delinquency_model` is given. `open_invoices` is
    `features.build.open_invoice_plan`'s frame when the caller already has it (the
    nightly run computes it with the features); otherwise it is computed here. `config`
    defaults to the installation's (segments, ladders, guardrails and limits YAML).

    >>> import regua
    >>> scored = table.join(scores.drop("as_of"), on="customer_id")  # regua.score's
    >>> day = regua.decide(scored, tables, date(2026, 9, 30))
    >>> day.actions.filter(pl.col("status") == "scheduled")
    """
    config = config or load_dunning_config()
    lazy = {name: frame.lazy() for name, frame in tables.items()}
    customers = lazy["customers"].collect()
    contacts = lazy["contacts"].collect()
    steps = ladder_steps(config.ladders)
    segments = assign_segments(scored, config.segments)
    if open_invoices is None:
        open_invoices = open_invoice_plan(tables, as_of).collect()
    # What is still open, and the listed invoices a de-listing may be due for.
    listed = listed_invoices(contacts.lazy(), steps.lazy(), as_of).collect()["invoice_id"]
    status = open_invoice_status(open_invoices.lazy(), as_of)
    if not listed.is_empty():
        is_listed = pl.col("invoice_id").is_in(listed.implode())
        settled_listed = invoice_status(
            lazy["invoices"].filter(is_listed), lazy["payments"].filter(is_listed), as_of
        ).filter(pl.col("settled_at").is_not_null())
        status = pl.concat([status, settled_listed])
    status = status.collect().lazy()
    plan = plan_steps(status, segments.lazy(), steps.lazy(), contacts.lazy(), as_of).rename(
        {"reason": "ladder_reason"}
    )
    schedulable = plan.filter(pl.col("state").is_in(SCHEDULABLE)).with_columns(
        pl.col("proposed_on").dt.combine(FIRST_SLOT).alias("scheduled_for")
    )
    guarded = apply_guardrails(
        schedulable, customers, _history(contacts, steps), config.guardrails, as_of
    )
    held_back = plan.filter(~pl.col("state").is_in(SCHEDULABLE)).with_columns(
        pl.lit("skipped").alias("status"),
        pl.lit(None, pl.Datetime("us")).alias("scheduled_for"),
        pl.lit(None, pl.String).alias("scheduled_tz"),
        pl.lit(None, pl.String).alias("reason_pt"),
    )
    limits = recommend_limits(scored, config.limits)
    delisted = delistings(
        status, contacts.lazy(), steps.lazy(), as_of, listed=listed.to_frame().lazy()
    )
    delisted = delisted.join(
        segments.select("customer_id", "segment", "ladder_id"), on="customer_id", how="left"
    ).with_columns(
        pl.lit("due").alias("state"),
        pl.lit("scheduled").alias("status"),
        pl.col("deadline").dt.combine(FIRST_SLOT).alias("scheduled_for"),
        pl.lit(0.0).alias("open_amount"),
    )
    actions = (
        pl.concat([guarded.select(held_back.columns), held_back], how="vertical_relaxed")
        .rename({"ladder_reason": "reason", "reason_pt": "guardrail"})
        .pipe(lambda frame: pl.concat([frame, delisted], how="diagonal_relaxed"))
        .join(scored.select("customer_id", "pd", "propensity"), on="customer_id", how="left")
    )
    read_today = pl.concat(
        [
            actions.filter(
                (pl.col("status") == "scheduled") & (pl.col("scheduled_for").dt.date() == as_of)
            )["customer_id"],
            limits.filter(pl.col("decision") != "keep")["customer_id"],
        ]
    ).unique()
    reasons = _reasons(scored, read_today, delinquency_model)
    offers = steps.select("ladder_id", "step_id", "discount_pct", "max_installments")
    actions = (
        actions.join(reasons, on="customer_id", how="left")
        .join(offers, on=["ladder_id", "step_id"], how="left")
        .with_columns(pl.lit(as_of).alias("as_of"))
    )
    limits = limits.join(reasons, on="customer_id", how="left").with_columns(
        pl.lit(as_of).alias("as_of")
    )
    segments = segments.with_columns(pl.lit(as_of).alias("as_of")).join(
        scored.select("customer_id", "pd", "propensity"), on="customer_id", how="left"
    )
    decisions = Decisions(
        actions=ACTIONS.conform(actions),
        segments=SEGMENTS.conform(segments),
        limits=LIMITS.conform(limits),
    )
    return merge_decisions([decisions])


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


def _reasons(
    scored: pl.DataFrame, customers: pl.Series, model: MonotoneGBMClassifier | None
) -> pl.DataFrame:
    """Top reasons (Portuguese) of the delinquency score for the customers someone reads."""
    empty = pl.DataFrame(schema={"customer_id": pl.String, "top_reasons": pl.List(pl.String)})
    if model is None or customers.is_empty():
        return empty
    rows = scored.filter(pl.col("customer_id").is_in(customers.implode()))
    return explain(model, rows).select("customer_id", pl.col("reasons").alias("top_reasons"))
