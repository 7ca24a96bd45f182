"""The populations the models are built for, as expressions over a feature table.

Training (`models.labels`), scoring (`models.scoring`) and the drift reference
(`models.train.reference_rows`) draw the same customers with these.
"""

from __future__ import annotations

import polars as pl

from regua.config import DelinquencyLabel


def something_overdue() -> pl.Expr:
    """Over a feature table: the customer has an invoice past due and unsettled at as_of.

    The propensity model's population, when it is trained (`models.labels.
    propensity_labels` draws the same customers from the ledger with
    `features.ledger.overdue_on`), scored and monitored.
    """
    return (pl.col("overdue_balance") > 0).fill_null(False)


def out_of_population(rule: DelinquencyLabel | None = None) -> pl.Expr:
    """Over a feature table: customers the delinquency model was not built for.

    Training leaves out customers already `min_days_past_due` late at as_of
    (`models.labels.delinquency_labels`, when `exclude_already_delinquent`); `dpd_now`
    counts the days past due of the oldest unsettled invoice, the same ledger rule.
    """
    rule = rule or DelinquencyLabel()
    if not rule.exclude_already_delinquent:
        return pl.lit(False)
    return (pl.col("dpd_now") >= rule.min_days_past_due).fill_null(False)
