"""The readout of a strategy experiment: what each cell recovered, at what cost.

Each night's segments output logs the cell of every case in an experiment
(`case_id`, `experiment_id`, `cell`); a case's *assignment* is the first night it
appears there. Its outcomes are read from the store, counted from the day after that
night (the first day an action could reach the customer):

- `overdue_brl`: what the case held at assignment: the customer's invoices due on or
  before that night, less what was paid on them by then;
- `recovered_30d`, `recovered_60d`: payments on those invoices within 30 and 60 days,
  each invoice capped at what it held (fees and interest are not recovery of the debt);
- `cured_60d`: the case closed (no night carries it any more) within 60 days;
- `contacts_60d`, `cost_60d`: attempts reported by the collection tools for the case
  (by `case_id`, else by customer) within 60 days, priced by channel with the unit
  costs of config/strategies.yaml, plus the agency's fee on what was paid after a
  hand-off;
- `net_60d` = recovered_60d - cost_60d: the experiment's primary measure.

A measure over d days is read only on cases whose d days have passed (`matured_30`,
`matured_60`); younger cases count in `cases` but in no mean.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

from regua.config.experiments import ContactCosts, Experiment
from regua.dunning.inference import (
    ALPHA,
    NO_INTERVAL,
    Interval,
    confidence_sequence,
    contrast_terms,
    difference_interval,
    mean_interval,
    probability_beats,
)

WINDOWS = (30, 60)
PRIMARY = "net_60d"
MEASURES: dict[str, int] = {
    "recovered_30d": 30,
    "recovered_60d": 60,
    "cured_60d": 60,
    "contacts_60d": 60,
    "cost_60d": 60,
    "net_60d": 60,
}
"""Each per-case measure and the days a case must have had for it to count."""

ASSIGNMENT_COLUMNS = ("case_id", "customer_id", "experiment_id", "cell", "assigned_on")


def assignments(segments: pl.LazyFrame, experiment_id: str | None = None) -> pl.DataFrame:
    """One row per case in an experiment: its cell and the night it was first assigned,
    with `last_seen`, the last night that carried the case."""
    frame = segments.filter(pl.col("experiment_id").is_not_null())
    if experiment_id is not None:
        frame = frame.filter(pl.col("experiment_id") == experiment_id)
    cases = frame.select("as_of", "customer_id", "case_id", "experiment_id", "cell")
    first = (
        cases.sort("as_of")
        .group_by("case_id", maintain_order=True)
        .agg(
            pl.col("customer_id").first(),
            pl.col("experiment_id").first(),
            pl.col("cell").first(),
            pl.col("as_of").first().alias("assigned_on"),
        )
    )
    seen = (
        segments.filter(pl.col("case_id").is_not_null())
        .group_by("case_id")
        .agg(pl.col("as_of").max().alias("last_seen"))
    )
    return (
        first.join(seen, on="case_id", how="left")
        .select(*ASSIGNMENT_COLUMNS, "last_seen")
        .sort("assigned_on", "case_id")
        .collect()
    )


def _case_invoices(
    assigned: pl.LazyFrame, invoices: pl.LazyFrame, payments: pl.LazyFrame
) -> pl.LazyFrame:
    """(case_id, invoice_id, held): each invoice the case held at assignment and how much."""
    due = invoices.select("invoice_id", "customer_id", "due_at", "amount").join(
        assigned.select("case_id", "customer_id", "assigned_on"), on="customer_id"
    )
    due = due.filter(pl.col("due_at") <= pl.col("assigned_on"))
    paid_before = (
        due.select("case_id", "invoice_id", "assigned_on")
        .join(payments.select("invoice_id", "paid_at", "amount"), on="invoice_id")
        .filter(pl.col("paid_at") <= pl.col("assigned_on"))
        .group_by("case_id", "invoice_id")
        .agg(pl.col("amount").sum().alias("_paid"))
    )
    return (
        due.join(paid_before, on=["case_id", "invoice_id"], how="left")
        .with_columns(
            (pl.col("amount") - pl.col("_paid").fill_null(0)).clip(0).round(2).alias("held")
        )
        .filter(pl.col("held") > 0)
        .select("case_id", "invoice_id", "assigned_on", "held")
    )


def _recovered(held: pl.LazyFrame, payments: pl.LazyFrame, days: int) -> pl.LazyFrame:
    """(case_id, invoice_id, paid_<days>d): payments within `days` after assignment, capped."""
    window = pl.col("paid_at") > pl.col("assigned_on")
    window &= pl.col("paid_at") <= pl.col("assigned_on") + timedelta(days=days)
    return (
        held.join(payments.select("invoice_id", "paid_at", "amount"), on="invoice_id")
        .filter(window)
        .group_by("case_id", "invoice_id")
        .agg(pl.col("amount").sum().alias("_paid"), pl.col("held").first())
        .select("case_id", "invoice_id", pl.min_horizontal("_paid", "held").alias(f"paid_{days}d"))
    )


def _contacts(
    assigned: pl.LazyFrame, contacts: pl.LazyFrame, costs: ContactCosts, days: int
) -> pl.LazyFrame:
    """(case_id, contacts, contact_cost, handoff_on): attempts within `days` and their cost."""
    names = contacts.collect_schema().names()
    frame = contacts.select(
        "customer_id",
        pl.col("case_id") if "case_id" in names else pl.lit(None, pl.String).alias("case_id"),
        pl.col("at").cast(pl.Date).alias("day"),
        "channel",
    )
    unit = pl.DataFrame(
        {"channel": list(costs.per_channel()), "_unit": list(costs.per_channel().values())}
    ).lazy()
    joined = frame.rename({"case_id": "_reported_case"}).join(
        assigned.select("case_id", "customer_id", "assigned_on"), on="customer_id"
    )
    mine = pl.col("_reported_case").is_null() | (pl.col("_reported_case") == pl.col("case_id"))
    window = (pl.col("day") > pl.col("assigned_on")) & (
        pl.col("day") <= pl.col("assigned_on") + timedelta(days=days)
    )
    return (
        joined.filter(mine & window)
        .join(unit, on="channel", how="left")
        .group_by("case_id")
        .agg(
            pl.len().alias("contacts"),
            pl.col("_unit").fill_null(0).sum().alias("contact_cost"),
            pl.col("day").filter(pl.col("channel") == "agency").min().alias("handoff_on"),
        )
    )


def case_outcomes(
    assigned: pl.DataFrame,
    invoices: pl.LazyFrame,
    payments: pl.LazyFrame,
    contacts: pl.LazyFrame,
    costs: ContactCosts,
    as_of: date,
) -> pl.DataFrame:
    """Per assigned case, what it held, recovered, cost and whether it cured (see module)."""
    lazy = assigned.lazy()
    held = _case_invoices(lazy, invoices, payments).cache()
    contacted = _contacts(lazy, contacts, costs, 60).cache()
    recovered = held.select("case_id", "invoice_id")
    for days in WINDOWS:
        recovered = recovered.join(
            _recovered(held, payments, days), on=["case_id", "invoice_id"], how="left"
        )
    fee_base = (
        held.join(payments.select("invoice_id", "paid_at", "amount"), on="invoice_id")
        .join(contacted.select("case_id", "handoff_on"), on="case_id")
        .filter(
            (pl.col("paid_at") > pl.col("handoff_on"))
            & (pl.col("paid_at") <= pl.col("assigned_on") + timedelta(days=60))
        )
        .group_by("case_id", "invoice_id")
        .agg(pl.col("amount").sum().alias("_after"), pl.col("held").first())
        .group_by("case_id")
        .agg(pl.min_horizontal("_after", "held").sum().alias("_agency_recovered"))
    )
    per_case = recovered.group_by("case_id").agg(
        pl.col("paid_30d").fill_null(0).sum().round(2).alias("recovered_30d"),
        pl.col("paid_60d").fill_null(0).sum().round(2).alias("recovered_60d"),
    )
    held_total = held.group_by("case_id").agg(pl.col("held").sum().round(2).alias("overdue_brl"))
    matured = {days: pl.col("assigned_on") + timedelta(days=days) <= as_of for days in WINDOWS}
    out = (
        lazy.join(held_total, on="case_id", how="left")
        .join(per_case, on="case_id", how="left")
        .join(contacted, on="case_id", how="left")
        .join(fee_base, on="case_id", how="left")
        .with_columns(
            pl.col("overdue_brl", "recovered_30d", "recovered_60d").fill_null(0.0),
            pl.col("contacts").fill_null(0).cast(pl.Int64).alias("contacts_60d"),
            (
                pl.col("contact_cost").fill_null(0)
                + costs.agency_fee_share * pl.col("_agency_recovered").fill_null(0)
            )
            .round(2)
            .alias("cost_60d"),
            matured[30].alias("matured_30"),
            matured[60].alias("matured_60"),
            (pl.col("last_seen") < pl.col("assigned_on") + timedelta(days=60)).alias("_closed"),
        )
        .with_columns(
            (pl.col("recovered_60d") - pl.col("cost_60d")).round(2).alias("net_60d"),
            (pl.col("_closed") & pl.col("matured_60")).cast(pl.Float64).alias("cured_60d"),
        )
        .select(
            *ASSIGNMENT_COLUMNS,
            "overdue_brl",
            *MEASURES,
            "matured_30",
            "matured_60",
        )
        .sort("assigned_on", "case_id")
    )
    return out.collect()


def _values(outcomes: pl.DataFrame, cell: str, measure: str) -> np.ndarray:
    """The measure over the cell's cases old enough for it."""
    matured = f"matured_{MEASURES[measure]}"
    rows = outcomes.filter((pl.col("cell") == cell) & pl.col(matured))
    return rows[measure].to_numpy().astype(float)


def cell_table(
    outcomes: pl.DataFrame, experiment: Experiment, alpha: float = ALPHA
) -> pl.DataFrame:
    """Per cell: cases, matured cases, and each measure's mean per case with its interval,
    and the totals in BRL."""
    rows = []
    for cell in experiment.cells:
        mine = outcomes.filter(pl.col("cell") == cell.id)
        row: dict[str, object] = {
            "cell": cell.id,
            "role": cell.role,
            "share": cell.share,
            "ladder": cell.ladder or "(segment's own)",
            "cases": mine.height,
            "matured_30": int(mine["matured_30"].sum()),
            "matured_60": int(mine["matured_60"].sum()),
            "overdue_brl": round(float(mine["overdue_brl"].sum()), 2),
        }
        for measure in MEASURES:
            values = _values(outcomes, cell.id, measure)
            interval = mean_interval(values, alpha)
            row[measure] = interval.estimate
            row[f"{measure}_low"] = interval.low
            row[f"{measure}_high"] = interval.high
            if measure != "cured_60d":
                row[f"{measure}_total"] = round(float(values.sum()), 2)
        rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def _verdict(sequence: Interval) -> str:
    """The always-valid sequence's reading of a difference (challenger minus champion)."""
    if sequence.low is None or sequence.high is None:
        return "too few cases"
    if sequence.low > 0:
        return "challenger higher"
    if sequence.high < 0:
        return "champion higher"
    return "no decision yet"


def comparisons(
    outcomes: pl.DataFrame, experiment: Experiment, alpha: float = ALPHA
) -> pl.DataFrame:
    """Each non-champion cell against the champion on every measure: the difference of
    means with its fixed-horizon interval, P(challenger higher), the always-valid
    sequence and its verdict (module `dunning.inference`)."""
    champion = experiment.champion
    rows = []
    for cell in experiment.cells:
        if cell.role == "champion":
            continue
        for measure, days in MEASURES.items():
            base = _values(outcomes, champion.id, measure)
            other = _values(outcomes, cell.id, measure)
            fixed = difference_interval(base, other, alpha)
            matured = outcomes.filter(pl.col(f"matured_{days}"))
            terms = contrast_terms(
                matured[measure].to_numpy().astype(float),
                (matured["cell"] == cell.id).to_numpy().astype(float),
                (matured["cell"] == champion.id).to_numpy().astype(float),
                cell.share,
                champion.share,
            )
            enough = min(len(base), len(other)) >= 2
            sequence = (
                confidence_sequence(terms, experiment.planned_cases, alpha)
                if enough
                else NO_INTERVAL
            )
            rows.append(
                {
                    "cell": cell.id,
                    "role": cell.role,
                    "measure": measure,
                    "champion_cases": len(base),
                    "cell_cases": len(other),
                    "difference": fixed.estimate,
                    "fixed_low": fixed.low,
                    "fixed_high": fixed.high,
                    "probability_higher": probability_beats(base, other),
                    "sequence_estimate": sequence.estimate,
                    "sequence_low": sequence.low,
                    "sequence_high": sequence.high,
                    "verdict": _verdict(sequence),
                }
            )
    return pl.DataFrame(rows, infer_schema_length=None)


def case_net(
    assigned: pl.DataFrame,
    invoices: pl.LazyFrame,
    payments: pl.LazyFrame,
    contacts: pl.LazyFrame,
    costs: ContactCosts,
    days: int,
) -> pl.DataFrame:
    """case_id, recovered, cost, net over the `days` after each case's assignment: what the
    learned policy maximises (`case_outcomes`' measures, over another window).

    `assigned` holds case_id, customer_id, assigned_on."""
    lazy = assigned.select("case_id", "customer_id", "assigned_on").lazy()
    held = _case_invoices(lazy, invoices, payments).cache()
    contacted = _contacts(lazy, contacts, costs, days).cache()
    recovered = (
        _recovered(held, payments, days)
        .group_by("case_id")
        .agg(pl.col(f"paid_{days}d").sum().alias("recovered"))
    )
    fee_base = (
        held.join(payments.select("invoice_id", "paid_at", "amount"), on="invoice_id")
        .join(contacted.select("case_id", "handoff_on"), on="case_id")
        .filter(
            (pl.col("paid_at") > pl.col("handoff_on"))
            & (pl.col("paid_at") <= pl.col("assigned_on") + timedelta(days=days))
        )
        .group_by("case_id", "invoice_id")
        .agg(pl.col("amount").sum().alias("_after"), pl.col("held").first())
        .group_by("case_id")
        .agg(pl.min_horizontal("_after", "held").sum().alias("_agency"))
    )
    return (
        lazy.join(recovered, on="case_id", how="left")
        .join(contacted, on="case_id", how="left")
        .join(fee_base, on="case_id", how="left")
        .select(
            "case_id",
            pl.col("recovered").fill_null(0.0).round(2),
            (
                pl.col("contact_cost").fill_null(0)
                + costs.agency_fee_share * pl.col("_agency").fill_null(0)
            )
            .round(2)
            .alias("cost"),
        )
        .with_columns((pl.col("recovered") - pl.col("cost")).round(2).alias("net"))
        .sort("case_id")
        .collect()
    )
