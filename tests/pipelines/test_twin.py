"""The collection twin end to end on a small book: policies run night after night against
the simulated customers, deterministic by seed, within the law, never over-collecting."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from regua.config.twin import load_twin_parameters
from regua.settings import Settings
from regua.simulate.twin_book import build_twin_book
from tests.conftest import TEST_DOCUMENT_KEY

# one worker builds the module's run; the other runs the rest of the suite meanwhile
pytestmark = pytest.mark.xdist_group("twin")

NIGHTS = 8


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("twin")
    settings = Settings(document_key=TEST_DOCUMENT_KEY)
    return build_twin_book(folder, customers=150, days=NIGHTS, seed=5, months=14, settings=settings)


@pytest.fixture(scope="module")
def runs(book):
    from regua.pipelines.twin import hashed_scores, run_policy

    params = load_twin_parameters()
    return {
        (policy, seed): run_policy(book, policy, seed, params, hashed_scores(7))
        for policy, seed in (("none", 1), ("fixed", 1), ("regua", 1), ("regua", 1 + 0))
    }


def test_the_same_seed_gives_the_same_world(book):
    from regua.pipelines.twin import hashed_scores, run_policy

    params = load_twin_parameters()
    first = run_policy(book, "regua", 3, params, hashed_scores(7), days=4)
    again = run_policy(book, "regua", 3, params, hashed_scores(7), days=4)
    other = run_policy(book, "regua", 4, params, hashed_scores(7), days=4)
    for name in ("contacts", "payments", "events", "open_book"):
        assert getattr(first, name).equals(getattr(again, name)), name
    assert not first.payments.equals(other.payments)


def test_no_policy_contacts_anyone_when_it_is_none_and_the_others_do(runs):
    assert runs["none", 1].contacts.height == 0
    assert runs["fixed", 1].contacts.height > 0 and runs["regua", 1].contacts.height > 0


def test_every_executed_contact_passes_the_independent_audit(runs):
    for (policy, seed), run in runs.items():
        counts = run.violations.group_by("rule").len().to_dicts()
        assert run.violations.height == 0, f"{policy}/{seed}: {counts}"


def test_nobody_pays_more_than_was_billed(book, runs):
    invoices = book.tables_at(book.day0 + timedelta(days=NIGHTS))["invoices"].collect()
    earlier = (
        book.past["payments"].group_by("invoice_id").agg(pl.col("amount").sum().alias("before"))
    )
    for (policy, _), run in runs.items():
        paid = (
            run.payments.group_by("invoice_id")
            .agg((pl.col("amount") + pl.col("discount_brl")).sum().alias("twin"))
            .join(invoices.select("invoice_id", "amount"), on="invoice_id", how="left")
            .join(earlier, on="invoice_id", how="left")
        )
        assert paid["amount"].null_count() == 0, policy  # only invoices that exist are paid
        over = paid.filter(pl.col("twin") + pl.col("before").fill_null(0) > pl.col("amount") + 0.01)
        assert over.height == 0, f"{policy}: {over.head(3).to_dicts()}"


def test_actions_reach_customers_only_from_the_day_after_each_night(book, runs):
    run = runs["regua", 1]
    assert run.contacts["at"].dt.date().min() > book.day0
    assert run.open_book["day"].n_unique() == NIGHTS
