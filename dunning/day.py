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
from regua.models.scoring import Champion, score
from regua.models.train import observed_until

Frame = pl.LazyFrame | pl.DataFrame

MAX_STALE_DAYS = 3
"""How far as_of may lie beyond the last day the store covers (a weekend of no exports)."""


class NoDataError(ValueError):
    """The store holds nothing to decide on at as_of."""


def check_as_of(
    tables: Mapping[str, Frame],
    as_of: date,
    max_stale_days: int = MAX_STALE_DAYS,
    source: str = "the store",
) -> None:
    """Stop when as_of lies outside the history the tables hold (before it, or past it).

    `source` names the tables in the message (e.g. `store data/store`).
    """
    try:
        last = observed_until(tables)
    except ValueError as exc:
        raise NoDataError(f"{source}: {exc}") from exc
    first = tables["invoices"].lazy().select(pl.col("issued_at").min()).collect().item()
    if first is not None and as_of < first:
        raise NoDataError(
            f"{source} holds history from {first}; as_of {as_of} is before it: nothing to decide on"
        )
    if (as_of - last).days > max_stale_days:
        raise NoDataError(
            f"{source} covers up to {last}; as_of {as_of} is {(as_of - last).days} days "
            "later: ingest the missing days' exports first, or choose an earlier as_of"
        )


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
) -> Decisions:
    """Champion scores (delinquency, propensity) for the feature table's customers, then
    their decisions at as_of."""
    delinquency, propensity = champions
    scores = score(feature_table, delinquency.model, propensity.model)
    scored = feature_table.join(scores.drop("as_of"), on="customer_id")
    return decide(scored, tables, as_of, config, delinquency.model, open_invoices)
