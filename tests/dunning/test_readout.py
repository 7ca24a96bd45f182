"""The experiment readout: per-case outcomes by hand, interval coverage, planning."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import polars as pl
import pytest

from regua.config.experiments import Cell, ContactCosts, Experiment
from regua.dunning.inference import (
    confidence_sequence,
    contrast_terms,
    difference_interval,
    minimum_detectable_effect,
    plan_experiment,
    probability_beats,
    running_sequence,
)
from regua.dunning.readout import assignments, case_outcomes, cell_table, comparisons

D = date.fromisoformat
EXPERIMENT = Experiment(
    id="agency-early",
    starts_on=D("2026-09-01"),
    cells=(
        Cell(id="champion", role="champion", share=0.5),
        Cell(id="early", role="challenger", share=0.5, ladder="intensive"),
    ),
)


def _segments() -> pl.LazyFrame:
    """Nights' segments rows: A's case seen 10-01..11-14, B's 10-01..12-31, C's from 12-15."""
    rows = []
    for day in pl.date_range(D("2026-09-30"), D("2026-12-31"), eager=True).to_list():
        if D("2026-10-01") <= day <= D("2026-11-14"):
            rows.append((day, "A", "A-20260925", "agency-early", "champion"))
        else:
            rows.append((day, "A", None, None, None))
        if day >= D("2026-10-01"):
            rows.append((day, "B", "B-20260930", "agency-early", "early"))
        if day >= D("2026-12-15"):
            rows.append((day, "C", "C-20261214", "agency-early", "early"))
        rows.append((day, "Z", "Z-20260901", "other", "x"))
    return pl.LazyFrame(
        rows, schema=["as_of", "customer_id", "case_id", "experiment_id", "cell"], orient="row"
    )


def _store() -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
    invoices = pl.LazyFrame(
        {
            "invoice_id": ["IA1", "IA2", "IA3", "IB1", "IC1"],
            "customer_id": ["A", "A", "A", "B", "C"],
            "due_at": [
                D("2026-09-20"),
                D("2026-09-25"),
                D("2026-10-10"),
                D("2026-09-30"),
                D("2026-12-14"),
            ],
            "amount": [100.0, 200.0, 50.0, 500.0, 80.0],
        }
    )
    payments = pl.LazyFrame(
        {
            "invoice_id": ["IA1", "IA1", "IA2", "IA3", "IB1"],
            "paid_at": [
                D("2026-09-22"),
                D("2026-10-05"),
                D("2026-11-15"),
                D("2026-10-10"),
                D("2026-10-25"),
            ],
            "amount": [30.0, 70.0, 250.0, 50.0, 400.0],
        }
    )
    contacts = pl.LazyFrame(
        {
            "customer_id": ["A", "A", "A", "A", "B"],
            "case_id": ["A-20260925", None, "A-20250101", "A-20260925", "B-20260930"],
            "at": [
                datetime(2026, 10, 2, 10),
                datetime(2026, 10, 3, 11),
                datetime(2026, 10, 4, 9),
                datetime(2026, 12, 15, 9),
                datetime(2026, 10, 20, 14),
            ],
            "channel": ["sms", "phone", "phone", "email", "agency"],
        }
    )
    return invoices, payments, contacts


def _outcomes() -> pl.DataFrame:
    assigned = assignments(_segments(), "agency-early")
    return case_outcomes(assigned, *_store(), ContactCosts(), D("2026-12-31"))


def test_assignment_is_the_first_night_of_each_case_in_the_experiment():
    assigned = assignments(_segments(), "agency-early")
    assert assigned.select("case_id", "cell", "assigned_on", "last_seen").rows() == [
        ("A-20260925", "champion", D("2026-10-01"), D("2026-11-14")),
        ("B-20260930", "early", D("2026-10-01"), D("2026-12-31")),
        ("C-20261214", "early", D("2026-12-15"), D("2026-12-31")),
    ]


def test_case_outcomes_match_the_hand_count():
    out = _outcomes().sort("case_id")
    a, b, c = out.rows(named=True)
    # A held 70 of IA1 (30 paid before) and 200 of IA2; IA3 fell due after assignment.
    assert a["overdue_brl"] == 270.0
    assert a["recovered_30d"] == 70.0
    assert a["recovered_60d"] == 270.0  # IA2's 250 capped at the 200 it held
    # sms 0.08 + phone 2.50; another case's call and a call after 60 days do not count.
    assert (a["contacts_60d"], a["cost_60d"]) == (2, 2.58)
    assert a["net_60d"] == pytest.approx(267.42)
    assert a["cured_60d"] == 1.0
    # B: the agency recovered 400 of 500 after the hand-off; its fee is 20%.
    assert (b["recovered_30d"], b["recovered_60d"], b["cost_60d"]) == (400.0, 400.0, 80.0)
    assert b["net_60d"] == 320.0
    assert b["cured_60d"] == 0.0
    # C is too young for any measure.
    assert (c["matured_30"], c["matured_60"]) == (False, False)


def test_cell_table_counts_only_matured_cases_in_means():
    table = cell_table(_outcomes(), EXPERIMENT).sort("cell")
    champion, early = table.rows(named=True)
    assert (champion["cases"], champion["matured_60"], champion["net_60d"]) == (1, 1, 267.42)
    assert (early["cases"], early["matured_60"], early["net_60d"]) == (2, 1, 320.0)
    assert early["net_60d_low"] is None  # one matured case: no interval
    rows = comparisons(_outcomes(), EXPERIMENT)
    assert set(rows["verdict"]) == {"too few cases"}


def test_welch_interval_and_probability_by_hand():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])
    interval = difference_interval(a, b)
    # diff 2; var(a)/3 = 1/3, var(b)/3 = 4/3, se = sqrt(5/3) = 1.29099; Welch df = 50/17;
    # t(0.975, 50/17) = 3.2188 (between t(3) = 3.182 and t(2) = 4.303).
    assert interval.estimate == pytest.approx(2.0)
    assert interval.high - interval.estimate == pytest.approx(3.2188 * 1.29099, abs=1e-3)
    assert probability_beats(a, b) == pytest.approx(0.9393, abs=1e-4)  # Phi(1.54919)


def test_fixed_intervals_cover_a_known_effect_at_the_nominal_rate():
    rng = np.random.default_rng(11)
    effect, reps, hits = 25.0, 400, 0
    for _ in range(reps):
        challenger = rng.random(300) < 0.3
        y = rng.gamma(0.6, 250.0, 300) + effect * challenger  # skewed, like money recovered
        interval = difference_interval(y[~challenger], y[challenger])
        hits += interval.low <= effect <= interval.high
    assert 0.92 <= hits / reps <= 0.98


def test_the_sequence_holds_at_every_look_where_daily_fixed_looks_do_not():
    rng = np.random.default_rng(5)
    reps, n, effect = 300, 600, 0.0
    sequence_misses = fixed_misses = 0
    for _ in range(reps):
        challenger = rng.random(n) < 0.5
        y = rng.gamma(0.6, 250.0, n) + effect * challenger
        terms = contrast_terms(y, challenger.astype(float), (~challenger).astype(float), 0.5, 0.5)
        _, _, low, high = running_sequence(terms, planned=n)
        looks = slice(30, None)
        sequence_misses += bool(np.any((low[looks] > effect) | (high[looks] < effect)))
        missed = False
        for k in range(30, n + 1, 15):  # a look every "day" with the fixed-horizon interval
            interval = difference_interval(y[:k][~challenger[:k]], y[:k][challenger[:k]])
            missed |= not (interval.low <= effect <= interval.high)
        fixed_misses += missed
    assert sequence_misses / reps <= 0.08
    assert fixed_misses / reps >= 0.15  # peeking at fixed intervals inflates false wins


def test_confidence_sequence_at_the_end_equals_the_running_one():
    rng = np.random.default_rng(3)
    terms = rng.normal(2.0, 5.0, 200)
    last = confidence_sequence(terms, planned=200)
    _, _, low, high = running_sequence(terms, planned=200)
    assert (last.low, last.high) == pytest.approx((low[-1], high[-1]))
    assert last.low < 2.0 < last.high


def test_plan_matches_the_textbook_formula():
    plan = plan_experiment(sd=100.0, effect=10.0, champion_share=0.5, challenger_share=0.5)
    # (z_.975 + z_.8)^2 * sd^2 / effect^2 * (1/.5 + 1/.5) = 2.801585^2 * 100 * 4 = 3139.55
    assert plan.cases == 3140
    assert plan.sequential_cases > plan.cases
    assert minimum_detectable_effect(3140, 100.0, 0.5, 0.5) == pytest.approx(10.0, abs=0.01)
    with pytest.raises(ValueError, match="positive"):
        plan_experiment(sd=0.0, effect=10.0, champion_share=0.5, challenger_share=0.5)
