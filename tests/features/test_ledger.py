"""One ledger for everyone: features, labels, ladders and reports agree on what is settled,
open and how many days past due, at the edge of the settle tolerance (config/ledger.yaml)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.config import ConfigError, LabelsConfig
from regua.config.ledger import LedgerConfig, load_ledger
from regua.dunning.schedule import invoice_status, open_invoice_status
from regua.features import build_from_frames
from regua.features.build import open_invoice_plan
from regua.features.ledger import settlement_dates
from regua.models.labels import delinquency_labels, propensity_labels
from regua.models.scoring import scoring_population
from regua.reports.portfolio import customer_buckets, invoice_positions
from tests.features.frames import customer, invoice, payment, random_portfolio, tables

D = date
AS_OF = D(2026, 6, 30)
DUE = D(2026, 6, 10)  # 20 days past due at as_of


def edge_book() -> dict[str, pl.DataFrame]:
    """One customer per invoice of R$ 100.10, paid around the R$ 1.00 tolerance.

    A pays 0.99 short, B exactly 1.00 short, C 1.01 short (one day each); D reaches 0.99
    short over two days (on 06-20), E stays 1.01 short over two days; F, due on as_of, has
    paid nothing.
    """
    names = "ABCDEF"
    return tables(
        customers=[customer(c, D(2025, 1, 1)) for c in names],
        invoices=[invoice(f"I{c}", c, D(2026, 6, 1), DUE, 100.10) for c in "ABCDE"]
        + [invoice("IF", "F", D(2026, 6, 1), AS_OF, 100.10)],
        payments=[
            payment("PA", "IA", "A", D(2026, 6, 5), 99.11),
            payment("PB", "IB", "B", D(2026, 6, 5), 99.10),
            payment("PC", "IC", "C", D(2026, 6, 5), 99.09),
            payment("PD1", "ID", "D", D(2026, 6, 5), 50.00),
            payment("PD2", "ID", "D", D(2026, 6, 20), 49.11),
            payment("PE1", "IE", "E", D(2026, 6, 5), 50.00),
            payment("PE2", "IE", "E", D(2026, 6, 20), 49.09),
        ],
    )


SETTLED = {
    "IA": D(2026, 6, 5),
    "IB": D(2026, 6, 5),
    "IC": None,
    "ID": D(2026, 6, 20),
    "IE": None,
    "IF": None,
}
OPEN = {"IC": 1.01, "IE": 1.01, "IF": 100.10}  # what is still owed at as_of
DAYS_PAST_DUE = {"A": 0, "B": 0, "C": 20, "D": 0, "E": 20, "F": 0}
OVERDUE = {"C", "E"}  # F is due on as_of: open but not past due


def test_the_ledger_settles_within_the_configured_tolerance_and_not_beyond():
    book = edge_book()
    settled = settlement_dates(book["invoices"], book["payments"]).collect()
    assert dict(settled.select("invoice_id", "settled_at").iter_rows()) == SETTLED
    exact = settlement_dates(book["invoices"], book["payments"], tolerance=0.0).collect()
    assert exact["settled_at"].null_count() == 6  # nobody paid the whole R$ 100.10
    lenient = settlement_dates(book["invoices"], book["payments"], tolerance=2.0).collect()
    assert lenient.filter(pl.col("settled_at").is_null())["invoice_id"].to_list() == ["IF"]


def test_features_see_the_ledger_open_invoices_days_past_due_and_overdue_balance():
    book = edge_book()
    open_invoices = open_invoice_plan(book, AS_OF).collect()
    assert dict(open_invoices.select("invoice_id", "amount").iter_rows()).keys() == OPEN.keys()
    owed = open_invoices.select("invoice_id", (pl.col("amount") - pl.col("paid")).round(2))
    assert dict(owed.iter_rows()) == OPEN
    features = build_from_frames(book, AS_OF)
    assert dict(features.select("customer_id", "dpd_now").iter_rows()) == DAYS_PAST_DUE
    overdue = features.filter(pl.col("overdue_balance") > 0)
    assert set(overdue["customer_id"]) == OVERDUE
    assert set(scoring_population(features, "propensity_to_pay")["customer_id"]) == OVERDUE


def test_labels_use_the_same_settling_days_and_the_same_overdue_population():
    book = edge_book()
    # propensity: the population is who has something overdue at as_of
    labels = propensity_labels(book, [AS_OF], D(2026, 8, 31), LabelsConfig())
    assert set(labels["customer_id"]) == OVERDUE
    # delinquency: 15 days past due on 06-25 unless settled by then (D settled on 06-20)
    rule = LabelsConfig(delinquency={"min_days_past_due": 15, "horizon_days": 180})
    labels = delinquency_labels(book, [D(2026, 6, 1)], D(2026, 12, 31), rule)
    bad = set(labels.filter(pl.col("label") == 1)["customer_id"])
    assert bad == {"C", "E", "F"}


def test_ladders_see_the_same_settling_days_and_open_amounts():
    book = edge_book()
    status = invoice_status(book["invoices"].lazy(), book["payments"].lazy(), AS_OF).collect()
    assert dict(status.select("invoice_id", "settled_at").iter_rows()) == SETTLED
    still_open = status.filter(pl.col("settled_at").is_null())
    assert dict(still_open.select("invoice_id", "open_amount").iter_rows()) == OPEN
    from_ledger = open_invoice_status(open_invoice_plan(book, AS_OF), AS_OF).collect()
    assert dict(from_ledger.select("invoice_id", "open_amount").iter_rows()) == OPEN


def test_reports_see_the_same_open_invoices_and_days_past_due():
    book = edge_book()
    positions = invoice_positions(book, [AS_OF])
    assert {r[0]: (r[1], r[2]) for r in positions.select(
        "invoice_id", "outstanding", "days_past_due"
    ).iter_rows()} == {"IC": (1.01, 20), "IE": (1.01, 20), "IF": (100.10, 0)}  # fmt: skip
    buckets = customer_buckets(book, [AS_OF])
    assert dict(buckets.select("customer_id", "days_past_due").iter_rows()) == DAYS_PAST_DUE


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), as_of=st.dates(D(2024, 6, 1), D(2026, 12, 31)))
def test_every_consumer_finds_the_same_open_invoices_on_any_portfolio(seed: int, as_of: date):
    book = random_portfolio(seed=seed, customers=20)
    known = pl.col("customer_id").is_in(book["customers"]["customer_id"].implode())
    issued = book["invoices"].filter(known, pl.col("issued_at") <= as_of)

    by_features = set(open_invoice_plan(book, as_of).collect()["invoice_id"])
    by_ladders = set(
        invoice_status(issued.lazy(), book["payments"].lazy(), as_of)
        .filter(pl.col("settled_at").is_null())
        .collect()["invoice_id"]
    )
    by_reports = set(invoice_positions(book, [as_of])["invoice_id"])
    by_labels = set(
        settlement_dates(issued, book["payments"])
        .filter(pl.col("settled_at").is_null() | (pl.col("settled_at") > as_of))
        .collect()["invoice_id"]
    )
    assert by_features == by_ladders == by_reports == by_labels


def test_the_tolerance_is_one_setting_in_whole_centavos(tmp_path):
    assert load_ledger().settle_tolerance_brl == 1.0
    assert LedgerConfig(settle_tolerance_brl=0.5).settle_tolerance_cents == 50
    bad = tmp_path / "ledger.yaml"
    bad.write_text("settle_tolerance_brl: 0.005\n")
    with pytest.raises(ConfigError, match=r"ledger.yaml: settle_tolerance_brl: .*centavos"):
        load_ledger(bad)
    bad.write_text("settle_tolerance: 1.0\n")
    with pytest.raises(ConfigError, match=r"ledger.yaml: settle_tolerance"):
        load_ledger(bad)
