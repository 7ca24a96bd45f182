"""Analysts' decisions hold at night: a customer with a decision in force is not recommended
over until the decision's review date.

`hold_decisions` takes the policy's recommendations (`dunning.limits.recommend_limits`) and
the decisions in force (`regua.decisions.limits.in_force`'s frame) and returns the limits
the night writes: the policy's recommendation stays in `model_recommended_limit`, and for a
held customer `recommended_limit` is the analyst's limit, `decision` is `held_by_analyst`
and the first reason says whose decision holds and until when.
"""

from __future__ import annotations

import polars as pl

from regua.decisions.limits import IN_FORCE_SCHEMA
from regua.dunning.limits import MAX_REASONS, brl_text

HELD = "held_by_analyst"
HOLD_COLUMNS = IN_FORCE_SCHEMA
"""The decisions in force, one row per customer (as `regua.decisions.limits.in_force` gives)."""


def no_decisions() -> pl.DataFrame:
    """An empty frame of decisions in force (a night without the workbench)."""
    return pl.DataFrame(schema=HOLD_COLUMNS)


def hold_decisions(limits: pl.DataFrame, held: pl.DataFrame | None) -> pl.DataFrame:
    """The night's limits with the analysts' decisions in force holding over the policy.

    Adds model_recommended_limit (the policy's), held_by_analyst, analyst_decision_id,
    analyst_limit and held_until; for held customers recommended_limit, change, change_pct
    and decision follow the analyst's limit and a reason `held_by_analyst` comes first.
    """
    held = no_decisions() if held is None else held.select(list(HOLD_COLUMNS))
    c = pl.col
    joined = limits.join(held, on="customer_id", how="left").with_columns(
        c("decision_id").is_not_null().alias(HELD)
    )
    date_text = c("review_on").dt.strftime("%d/%m/%Y")
    reason = (
        pl.lit("decisão do analista em vigor até ")
        + date_text
        + pl.lit(": limite ")
        + c("decided_limit").map_elements(brl_text, return_dtype=pl.String)
        + pl.lit(" (motivo: ")
        + c("decision_reason_code")
        + pl.lit(")")
    )
    recommended = pl.when(c(HELD)).then(c("decided_limit")).otherwise(c("recommended_limit"))
    change = recommended - c("current_limit")
    return joined.with_columns(
        c("recommended_limit").alias("model_recommended_limit"),
        recommended.alias("recommended_limit"),
        pl.when(c(HELD)).then(change).otherwise(c("change")).alias("change"),
        pl.when(c(HELD))
        .then(pl.when(c("current_limit") > 0).then((change / c("current_limit") * 100).round(2)))
        .otherwise(c("change_pct"))
        .alias("change_pct"),
        pl.when(c(HELD)).then(pl.lit(HELD)).otherwise(c("decision")).alias("decision"),
        pl.when(c(HELD))
        .then(pl.concat_list(reason, c("limit_reasons")).list.head(MAX_REASONS))
        .otherwise(c("limit_reasons"))
        .alias("limit_reasons"),
        pl.when(c(HELD))
        .then(pl.concat_list(pl.lit(HELD), c("reason_codes")).list.head(MAX_REASONS))
        .otherwise(c("reason_codes"))
        .alias("reason_codes"),
        c("decision_id").alias("analyst_decision_id"),
        c("decided_limit").alias("analyst_limit"),
        c("review_on").alias("held_until"),
    ).drop("decision_id", "decided_limit", "decision_action", "decision_reason_code", "review_on")
