"""Training labels at as_of dates: delinquency (bad) and propensity to pay (good).

Labels look only at what happens after as_of, and a snapshot gets a label only when its
whole horizon lies within the observed history (`observed_until`), so a recent snapshot
is never labelled "good" just because its future has not happened yet. Definitions
come from config/labels.yaml (`regua.config.LabelsConfig`); when an invoice is settled,
and so late or overdue, is the ledger's rule (`features.ledger.settlement_dates`).

Labels are wanted either for every customer at some dates or for (customer_id, as_of)
pairs (`Snapshots`): training spreads its snapshots over the days of each month, each
customer on one day (`models.train.snapshot_rows`).

A data scientist's own labels (customer_id, as_of, label) go through `check_label_table`
and are used the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import polars as pl

from regua.config import LabelsConfig
from regua.features.ledger import overdue_on, settlement_dates, unsettled_on

LABEL_SCHEMA = pl.Schema({"customer_id": pl.String(), "as_of": pl.Date(), "label": pl.Int8()})

Frame = pl.LazyFrame | pl.DataFrame
Snapshots = Sequence[date] | pl.DataFrame
"""Where labels are wanted: every customer at each date, or (customer_id, as_of) pairs."""


def _lazy(frame: Frame) -> pl.LazyFrame:
    return frame.lazy() if isinstance(frame, pl.DataFrame) else frame


def _snapshots(customers: Frame, as_of: Snapshots, observed_until: date, horizon: int):
    """The (customer_id, as_of) pairs labelled: opened by as_of, horizon inside the history."""
    matured = pl.col("as_of") + pl.duration(days=horizon) <= observed_until
    opened = _lazy(customers).select("customer_id", "opened_at")
    if isinstance(as_of, pl.DataFrame):
        pairs = as_of.lazy().select("customer_id", pl.col("as_of").cast(pl.Date)).unique()
        known = pairs.filter(matured).join(opened, on="customer_id")
    else:
        dates = pl.LazyFrame({"as_of": sorted(set(as_of))}, schema={"as_of": pl.Date})
        known = opened.join(dates.filter(matured), how="cross")
    return known.filter(pl.col("opened_at") <= pl.col("as_of")).select("customer_id", "as_of")


def delinquency_labels(
    tables: Mapping[str, Frame],
    as_of: Snapshots,
    observed_until: date,
    config: LabelsConfig,
) -> pl.DataFrame:
    """1 if some invoice reaches the configured days past due within the horizon, else 0.

    An invoice is `min_days_past_due` late on day due_at + min_days_past_due if it is not
    settled by then; customers already that late at as_of are left out when configured.
    """
    rule = config.delinquency
    invoices = settlement_dates(tables["invoices"], tables["payments"])
    late_from = pl.col("due_at") + pl.duration(days=rule.min_days_past_due)
    events = invoices.filter(unsettled_on(late_from)).select(
        "customer_id", late_from.alias("late_on")
    )
    snapshots = _snapshots(tables["customers"], as_of, observed_until, rule.horizon_days)
    per_snapshot = (
        snapshots.join(events, on="customer_id", how="left")
        .group_by("customer_id", "as_of")
        .agg(
            (
                (pl.col("late_on") > pl.col("as_of"))
                & (pl.col("late_on") <= pl.col("as_of") + pl.duration(days=rule.horizon_days))
            )
            .any()
            .alias("bad"),
        )
    )
    still_late = (
        snapshots.join(invoices, on="customer_id")
        .filter((late_from <= pl.col("as_of")) & unsettled_on(pl.col("as_of")))
        .select("customer_id", "as_of")
        .unique()
        .with_columns(pl.lit(True).alias("already_late"))
    )
    labelled = per_snapshot.join(still_late, on=["customer_id", "as_of"], how="left")
    if rule.exclude_already_delinquent:
        labelled = labelled.filter(pl.col("already_late").is_null())
    return (
        labelled.select(
            "customer_id", "as_of", pl.col("bad").fill_null(False).cast(pl.Int8).alias("label")
        )
        .sort("as_of", "customer_id")
        .collect()
    )


def propensity_labels(
    tables: Mapping[str, Frame],
    as_of: Snapshots,
    observed_until: date,
    config: LabelsConfig,
) -> pl.DataFrame:
    """Among customers overdue at as_of: 1 if they pay the configured share of it in time.

    The population is the propensity model's (`models.population.something_overdue`):
    customers with an invoice past due and unsettled at as_of (`features.ledger.overdue_on`).
    """
    rule = config.propensity_to_pay
    invoices = settlement_dates(tables["invoices"], tables["payments"])
    snapshots = _snapshots(tables["customers"], as_of, observed_until, rule.horizon_days)
    overdue = snapshots.join(invoices, on="customer_id").filter(overdue_on(pl.col("as_of")))
    paid = (
        overdue.select("customer_id", "as_of", "invoice_id")
        .join(_lazy(tables["payments"]).select("invoice_id", "paid_at", "amount"), on="invoice_id")
        .group_by("customer_id", "as_of", "invoice_id")
        .agg(
            pl.col("amount")
            .filter(pl.col("paid_at") <= pl.col("as_of"))
            .sum()
            .alias("paid_before"),
            pl.col("amount")
            .filter(
                (pl.col("paid_at") > pl.col("as_of"))
                & (pl.col("paid_at") <= pl.col("as_of") + pl.duration(days=rule.horizon_days))
            )
            .sum()
            .alias("paid_after"),
        )
    )
    per_invoice = overdue.join(paid, on=["customer_id", "as_of", "invoice_id"], how="left").select(
        "customer_id",
        "as_of",
        (pl.col("amount") - pl.col("paid_before").fill_null(0)).alias("owed"),
        pl.col("paid_after").fill_null(0),
    )
    return (
        per_invoice.group_by("customer_id", "as_of")
        .agg(pl.col("owed").sum(), pl.col("paid_after").sum())
        .select(
            "customer_id",
            "as_of",
            (pl.col("paid_after") >= rule.min_share_paid * pl.col("owed") - 1e-9)
            .cast(pl.Int8)
            .alias("label"),
        )
        .sort("as_of", "customer_id")
        .collect()
    )


def check_label_table(labels: pl.DataFrame, *, source: str = "labels") -> pl.DataFrame:
    """A data scientist's own label table, checked: the columns, 0/1 labels, unique keys."""
    missing = set(LABEL_SCHEMA) - set(labels.columns)
    if missing:
        raise ValueError(
            f"{source}: missing column(s) {sorted(missing)}; need {list(LABEL_SCHEMA)}"
        )
    out = labels.select(
        pl.col("customer_id").cast(pl.String),
        pl.col("as_of").cast(pl.Date),
        pl.col("label").cast(pl.Int8),
    )
    if out["label"].null_count() or not out["label"].is_in([0, 1]).all():
        raise ValueError(f"{source}: column 'label' must hold only 0 and 1")
    if out.select(pl.struct("customer_id", "as_of").is_duplicated().any()).item():
        raise ValueError(f"{source}: (customer_id, as_of) must be unique")
    return out.sort("as_of", "customer_id")
