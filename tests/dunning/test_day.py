"""The day's inputs: an as_of outside the history, or before any customer, stops clearly."""

from __future__ import annotations

from datetime import date

import pytest

from regua.dunning.day import NoDataError, check_as_of, day_inputs
from tests.features.frames import customer, invoice, payment, tables


def portfolio(opened: date = date(2026, 1, 5)):
    return tables(
        customers=[customer("C2", opened), customer("C1", opened)],
        invoices=[
            invoice("I1", "C1", date(2026, 1, 10), date(2026, 1, 20), 100.0),
            invoice("I3", "C2", date(2026, 9, 10), date(2026, 10, 10), 50.0),
            invoice("I2", "C2", date(2026, 10, 20), date(2026, 11, 20), 80.0),
        ],
        payments=[payment("P1", "I1", "C1", date(2026, 10, 25), 100.0)],
        contacts=[],
        macro=[],
    )


@pytest.mark.parametrize("as_of", [date(2026, 1, 10), date(2026, 10, 25), date(2026, 10, 28)])
def test_an_as_of_within_the_history_or_three_days_past_it_passes(as_of):
    check_as_of(portfolio(), as_of, max_stale_days=3)


def test_an_as_of_past_the_history_names_the_last_day_covered():
    with pytest.raises(
        NoDataError, match=r"^store x covers up to 2026-10-25; as_of 2026-10-29 is 4 days later"
    ):
        check_as_of(portfolio(), date(2026, 10, 29), max_stale_days=3, source="store x")


def test_an_as_of_before_the_history_says_there_is_nothing_to_decide_on():
    with pytest.raises(NoDataError, match="holds history from 2026-01-10; as_of 2026-01-09 is"):
        check_as_of(portfolio(), date(2026, 1, 9))


def test_no_invoices_or_payments_at_all_is_no_data():
    empty = tables(invoices=[], payments=[])
    with pytest.raises(NoDataError, match="the store: the store has no invoices or payments"):
        check_as_of(empty, date(2026, 1, 9))


def test_the_inputs_are_every_known_customer_and_their_open_invoices_in_id_order():
    feature_table, open_invoices = day_inputs(portfolio(), date(2026, 10, 28))
    assert feature_table["customer_id"].to_list() == ["C1", "C2"]
    assert open_invoices["invoice_id"].to_list() == ["I2", "I3"]  # I1 is paid


def test_nobody_a_customer_yet_is_no_data():
    with pytest.raises(NoDataError, match="no customer is known at 2026-10-28 in store y"):
        day_inputs(portfolio(opened=date(2026, 10, 29)), date(2026, 10, 28), source="store y")
