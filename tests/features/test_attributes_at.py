"""Dated customer attributes (issue 19): at each as_of the latest row valid by then, nulls
before a customer's first row, the customers snapshot without a history, and no row dated
after as_of ever changing a feature."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from regua.contract import ATTRIBUTE_COLUMNS
from regua.features import build_from_frames
from tests.features.frames import customer, invoice, tables

AS_OF = date(2026, 6, 30)


def attributes(customer_id: str, valid_from: date, **values: Any) -> dict[str, Any]:
    """A row of the attribute history."""
    return {"customer_id": customer_id, "valid_from": valid_from, **values}


def test_each_as_of_reads_the_latest_row_valid_by_then() -> None:
    rows = tables(
        customers=[
            customer("A", date(2025, 1, 1), bureau_score=500, credit_limit=1000.0),
            customer("B", date(2025, 1, 1), bureau_score=600, credit_limit=2000.0),
            customer("C", date(2025, 1, 1), bureau_score=700, credit_limit=3000.0,
                     employment_tenure_months=30),
        ],
        invoices=[invoice("I1", "A", date(2025, 12, 1), date(2025, 12, 10), 100.0)],
        customer_attributes=[
            attributes("A", date(2026, 1, 15), bureau_score=800, credit_limit=100.0,
                       employment_type="clt", employment_tenure_months=5,
                       declared_income=3000.0),
            attributes("A", date(2026, 3, 10), bureau_score=300, credit_limit=None,
                       employment_type="unemployed", employment_tenure_months=None,
                       declared_income=900.0),
            attributes("B", date(2026, 6, 1), bureau_score=900, credit_limit=50.0),
        ],
    )  # fmt: skip
    dates = [date(2026, 1, 14), date(2026, 1, 15), date(2026, 2, 28), date(2026, 3, 31)]
    out = build_from_frames(rows, dates).select(
        "customer_id", "as_of", "bureau_score", "credit_limit", "employment_type",
        "employment_tenure_months", "declared_income",
    )  # fmt: skip
    got = {(r["customer_id"], r["as_of"]): r for r in out.iter_rows(named=True)}
    # before A's first row: unknown; on its valid_from: the row (tenure + 0 months)
    assert got["A", date(2026, 1, 14)]["bureau_score"] is None
    assert got["A", date(2026, 1, 14)]["credit_limit"] is None
    assert got["A", date(2026, 1, 15)]["bureau_score"] == 800
    assert got["A", date(2026, 1, 15)]["employment_tenure_months"] == 5
    # between rows: the first row, tenure 5 + 1 whole month (44 days)
    assert got["A", date(2026, 2, 28)]["credit_limit"] == 100.0
    assert got["A", date(2026, 2, 28)]["employment_tenure_months"] == 6
    assert got["A", date(2026, 2, 28)]["declared_income"] == 3000.0
    # after the second row: its values, its nulls included
    assert got["A", date(2026, 3, 31)]["bureau_score"] == 300
    assert got["A", date(2026, 3, 31)]["credit_limit"] is None
    assert got["A", date(2026, 3, 31)]["employment_type"] == "unemployed"
    assert got["A", date(2026, 3, 31)]["employment_tenure_months"] is None
    # B's only row starts later: unknown at every date here
    assert {got["B", d]["bureau_score"] for d in dates} == {None}
    # C has no history: the customers table, as before
    assert {got["C", d]["bureau_score"] for d in dates} == {700}
    assert {got["C", d]["credit_limit"] for d in dates} == {3000.0}
    assert {got["C", d]["employment_tenure_months"] for d in dates} == {30}


def test_without_the_history_table_features_are_as_before() -> None:
    base = {
        "customers": [customer("A", date(2025, 1, 1)), customer("B", date(2025, 3, 1))],
        "invoices": [invoice("I1", "A", date(2026, 5, 1), date(2026, 5, 10), 80.0)],
    }
    empty = tables(**base, customer_attributes=[])
    assert_frame_equal(build_from_frames(tables(**base), AS_OF), build_from_frames(empty, AS_OF))


values = st.fixed_dictionaries(
    {
        "bureau_score": st.one_of(st.none(), st.integers(0, 1000)),
        "credit_limit": st.one_of(st.none(), st.sampled_from([0.0, 500.0, 2500.0])),
        "declared_income": st.sampled_from([900.0, 3000.0]),
        "employment_type": st.sampled_from([None, "clt", "unemployed"]),
        "employment_tenure_months": st.one_of(st.none(), st.integers(0, 200)),
        "monthly_debt_obligations": st.sampled_from([0.0, 350.0]),
    }
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Histories of a few customers: rows up to as_of, and rows dated after it."""
    known, later = [], []
    for c in ("A", "B", "C"):
        days = draw(st.lists(st.integers(-500, 200), min_size=1, max_size=5, unique=True))
        for offset in days:
            row = attributes(c, AS_OF + timedelta(days=offset), **draw(values))
            (later if offset > 0 else known).append(row)
    return known, later


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), keep=st.randoms(use_true_random=False))
def test_rows_valid_after_as_of_change_no_feature(history, keep) -> None:
    """Adding rows with a later valid_from to the history of customers who have one leaves
    every feature at as_of as it was. (A customer with no history at all switches from the
    customers snapshot to "unknown before the first row" when a first row is added: the
    snapshot was the leak.)"""
    known, later = history
    base = {
        "customers": [customer(c, date(2024, 1, 1)) for c in ("A", "B", "C")],
        "invoices": [invoice("I1", "A", date(2026, 5, 1), date(2026, 5, 10), 80.0)],
    }
    dates = [AS_OF - timedelta(days=90), AS_OF]
    seed_rows = [attributes(c, date(2023, 1, 1), **{n: None for n in ATTRIBUTE_COLUMNS})
                 for c in ("A", "B", "C")]  # fmt: skip
    past = build_from_frames(tables(**base, customer_attributes=seed_rows + known), dates)
    some = [r for r in later if keep.random() < 0.5]
    for added in (later, some):
        full = tables(**base, customer_attributes=seed_rows + known + added)
        assert_frame_equal(build_from_frames(full, dates), past)


def test_attribute_rows_in_any_order_give_the_same_features() -> None:
    rows = [
        attributes("A", date(2026, 1, 1), bureau_score=100),
        attributes("B", date(2025, 1, 1), bureau_score=200),
        attributes("A", date(2025, 6, 1), bureau_score=300),
    ]
    base = {"customers": [customer("A", date(2024, 1, 1)), customer("B", date(2024, 1, 1))]}
    dates = [date(2025, 12, 31), date(2026, 1, 1)]
    forward = build_from_frames(tables(**base, customer_attributes=rows), dates)
    backward = build_from_frames(tables(**base, customer_attributes=rows[::-1]), dates)
    assert_frame_equal(forward, backward)
    assert forward["bureau_score"].to_list() == [300, 200, 100, 200]
    assert isinstance(forward, pl.DataFrame)
