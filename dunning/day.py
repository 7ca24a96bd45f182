"""One day's decisions from the store's tables: its inputs at as_of, then scores and decisions.

Two steps, pure over frames, which the nightly flow runs as its tasks (the features once,
then `score_and_decide` per partition of customers) and a notebook can call in a row:

    feature_table, open_invoices = day_inputs(tables, as_of)
    decisions = score_and_decide(feature_table, tables, champions, config, as_of, open_invoices)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import polars as pl

from regua.dunning.actions import Decisions, DunningConfig, decide
from regua.features.build import build_with_open_invoices
from regua.features.ledger import MAX_STALE_DAYS, NoDataError, check_as_of
from regua.models.scoring import Champion, score

Frame = pl.LazyFrame | pl.DataFrame


def day_inputs(
    tables: Mapping[str, Frame],
    as_of: date,
    max_stale_days: int = MAX_STALE_DAYS,
    source: str = "the store",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Features of every customer known at as_of and their open invoices, by customer_id.

    Stops with `NoDataError` when as_of lies outside the tables' history or nobody is a
    customer yet. Both frames are sorted (customer_id, then invoice_id), so ranges of
    customers can be cut from them.
    """
    check_as_of(tables, as_of, max_stale_days, source)
    feature_table, open_invoices = build_with_open_invoices(tables, as_of)
    if feature_table.height == 0:
        raise NoDataError(f"no customer is known at {as_of} in {source}")
    return feature_table.sort("customer_id"), open_invoices.sort("customer_id", "invoice_id")


def score_and_decide(
    feature_table: pl.DataFrame,
    tables: Mapping[str, Frame],
    champions: tuple[Champion, Champion],
    config: DunningConfig,
    as_of: date,
    open_invoices: pl.DataFrame | None = None,
    held: pl.DataFrame | None = None,
) -> Decisions:
    """Champion scores (delinquency, propensity) for the feature table's customers, then
    their decisions at as_of (limits holding to the analysts' decisions in force, `held`)."""
    delinquency, propensity = champions
    scores = score(feature_table, delinquency.model, propensity.model, config.labels)
    scored = feature_table.join(scores.drop("as_of"), on="customer_id")
    return decide(
        scored,
        tables,
        as_of,
        config,
        delinquency.model,
        open_invoices,
        propensity_model=propensity.model,
        held=held,
    )
