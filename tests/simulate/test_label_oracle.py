"""The label oracle: calibrated against the very labels it predicts, and blind after as_of."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from regua.config import LabelsConfig
from regua.models.labels import delinquency_labels, propensity_labels
from regua.models.train import month_ends
from regua.simulate import SimulationConfig, simulate_portfolio
from regua.simulate.behaviour import simulate_behaviour
from regua.simulate.calendar import build_calendar
from regua.simulate.config import Stage, rng_for
from regua.simulate.customers import draw_customers, draw_documents, draw_kinds
from regua.simulate.invoices import billing_cycles, build_invoices
from regua.simulate.label_oracle import label_oracle
from regua.simulate.ladder import contact_lifts
from regua.simulate.macro import simulate_macro
from regua.simulate.risk import (
    CURRENT,
    DEFAULT,
    LATE_30,
    LATE_60,
    charge_off_clock,
    previous_states,
    simulate_states,
)
from regua.simulate.truth import risk_index

END = date(2026, 10, 31)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    """Both labels of a 3,000-customer book at 12 matured month-ends, joined to its truth."""
    out: Path = tmp_path_factory.mktemp("oracle")
    simulate_portfolio(SimulationConfig(customers=3000, months=24, seed=21), out)
    tables = {
        name: pl.read_parquet(out / f"{name}.parquet")
        for name in ("customers", "invoices", "payments")
    }
    truth = pl.read_parquet(out / "truth" / "truth.parquet").rename({"month_end": "as_of"})
    dates = month_ends(date(2026, 4, 30), 12)
    return {
        kind: make(tables, dates, END, LabelsConfig()).join(truth, on=["customer_id", "as_of"])
        for kind, make in (("delinquency", delinquency_labels), ("propensity", propensity_labels))
    }


@pytest.mark.parametrize(
    ("kind", "column"),
    [("delinquency", "oracle_pd_60_180d"), ("propensity", "oracle_pay_30d")],
)
def test_the_oracle_is_calibrated_on_the_labels_it_predicts(labelled, kind, column):
    """Per fifth of the oracle's probability, its mean matches the realised label rate.

    The bound is four standard errors counted over customers, not rows (a customer's
    months are not independent).
    """
    rows = labelled[kind].with_columns(
        bin=(pl.col(column).rank("ordinal") * 5 / pl.len()).floor().clip(0, 4)
    )
    per_bin = rows.group_by("bin").agg(
        pl.col(column).mean().alias("p"),
        pl.col("label").mean().alias("rate"),
        pl.col("customer_id").n_unique().alias("customers"),
    )
    assert per_bin.height == 5
    for p, rate, customers in per_bin.select("p", "rate", "customers").iter_rows():
        bound = 4 * np.sqrt(max(p * (1 - p), 1e-4) / customers) + 0.002
        assert abs(p - rate) <= bound, (kind, p, rate, customers)


def test_the_oracle_knows_more_than_the_previous_month_end_and_less_than_the_month(labelled):
    """It ranks better than the truth at the previous month-end and no better than the
    lookahead, which knows the month's payment decision."""
    rows = labelled["delinquency"]
    auc = {
        c: roc_auc_score(rows["label"], rows[c])
        for c in ("oracle_pd_60_180d", "pd_60_180d_pit", "pd_60_180d")
    }
    assert auc["pd_60_180d_pit"] + 0.005 < auc["oracle_pd_60_180d"] <= auc["pd_60_180d"]
    pay = labelled["propensity"]
    assert roc_auc_score(pay["label"], pay["oracle_pay_30d"]) > roc_auc_score(
        pay["label"], pay["propensity_to_pay"]
    )


def _block(months: int = 24, customers: int = 2000, seed: int = 4) -> dict[str, object]:
    """The simulator's inner objects for one block, as regua.simulate.portfolio makes them."""
    config = SimulationConfig(customers=customers, months=months, seed=seed)
    calendar = build_calendar(config.end, months)
    path = simulate_macro(months, rng_for(seed, Stage.MACRO))
    is_pj = draw_kinds(customers, rng_for(seed, Stage.KINDS))
    documents = draw_documents(is_pj, rng_for(seed, Stage.DOCUMENTS))
    people = draw_customers(
        0, is_pj, documents, customers, calendar, rng_for(seed, Stage.CUSTOMERS, 0)
    )
    lifts = contact_lifts(people.reach, people.responsiveness, people.allowed)
    x = risk_index(people, path, months)
    clock = charge_off_clock(calendar.start(np.arange(months + 1)), people.due_day, 180)
    states = simulate_states(
        x, lifts, people.open_month, people.initial, months, rng_for(seed, Stage.STATES), clock
    )
    prev = previous_states(states, people.initial)
    cycles = billing_cycles(people, prev, calendar)
    invoices = build_invoices(people, prev, cycles, rng_for(seed, Stage.INVOICES))
    behaviour = simulate_behaviour(
        people,
        states,
        prev,
        x,
        cycles,
        invoices,
        calendar,
        rng_for(seed, Stage.PAYMENTS),
        rng_for(seed, Stage.LADDER),
        clock,
    )
    return {
        "customers": people,
        "states": states,
        "prev": prev,
        "x": x,
        "lifts": lifts,
        "cycles": cycles,
        "invoices": invoices,
        "behaviour": behaviour,
        "calendar": calendar,
        "clock": clock,
    }


def _later(values: np.ndarray, after: int, rng: np.random.Generator) -> np.ndarray:
    """Days after `after` moved to other days after it (1-60 days later); others kept."""
    return np.where(values > after, values + rng.integers(1, 61, size=values.shape), values)


def test_the_oracle_at_a_month_end_reads_nothing_after_it():
    """Redrawing every step after month T and every day after its end (payments, cures,
    prompts, later states) leaves the oracle at month T unchanged; changing what had
    happened by then changes it."""
    block = _block()
    month = 12
    end = int(block["calendar"].month_end(month))
    base = label_oracle(**block)
    rng = np.random.default_rng(0)

    states = block["states"].copy()
    later = states[:, month + 1 :]
    states[:, month + 1 :] = rng.choice([CURRENT, LATE_30, LATE_60, DEFAULT], size=later.shape)
    behaviour = block["behaviour"]
    events = behaviour.events
    kind = events.kind.copy()
    kind[:, month + 1 :] = rng.integers(0, 8, size=kind[:, month + 1 :].shape)
    ladders = replace(
        behaviour.ladders, prompted_day=_later(behaviour.ladders.prompted_day, end, rng)
    )
    future = replace(
        behaviour,
        events=replace(events, kind=kind, day=_later(events.day, end, rng)),
        cycle_day=_later(behaviour.cycle_day, end, rng),
        ladders=ladders,
    )
    prev = previous_states(states, block["customers"].initial)
    redrawn = label_oracle(**{**block, "states": states, "prev": prev, "behaviour": future})
    for name, values in base.items():
        np.testing.assert_array_equal(redrawn[name][:, month], values[:, month], err_msg=name)
        assert not np.array_equal(redrawn[name][:, month + 1], values[:, month + 1]), name

    # the month's bills paid by its end, made unpaid: the oracle moves
    cycles = block["cycles"]
    this_month = cycles.month == month
    paid = this_month & (behaviour.cycle_day <= end)
    unpaid = replace(behaviour, cycle_day=np.where(paid, end + 5, behaviour.cycle_day))
    changed = label_oracle(**{**block, "behaviour": unpaid})
    who = cycles.customer[paid]
    who = who[block["prev"][who, month] <= 1]  # current or recovering before the month
    assert (
        changed["oracle_pd_60_180d"][who, month] > base["oracle_pd_60_180d"][who, month]
    ).mean() > 0.9
