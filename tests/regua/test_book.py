"""Aging, roll and cure rates of a book, on invoices whose buckets are known by construction."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regua.features.ledger import ledger_from_frames, open_positions
from regua.simulate.book import (
    CHARGED_OFF,
    aging_distribution,
    book_positions,
    bucket_labels,
    cure_rates,
    forward_roll_rates,
    roll_matrix,
    roll_rates,
)
from tests.features.frames import invoice, payment, random_portfolio, tables

D = date
JAN, FEB, MAR = D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31)
MONTHS = [JAN, FEB, MAR]
BUCKETS = bucket_labels()


def book() -> dict[str, pl.DataFrame]:
    """Eight customers whose days past due at each month end are written beside them.

    A  100 due 01-20, never paid:            JAN 11 (1-30)   FEB 39 (31-60)  MAR 70 (61-90)
    B  200 due 01-10, paid 02-15:            JAN 21 (1-30)   FEB cured       MAR nothing open
    C   50 due 02-10, 49.50 paid 03-05 (0.50 short: settled within the R$ 1.00 tolerance):
                                             JAN -10 (current) FEB 18 (1-30) MAR cured
    D  300 due 2025-09-30 and 100 due 01-25, never paid:
                                             JAN 123 (91-180) FEB 151 (91-180) MAR 182 (180+)
    E   80 due 2025-06-30, never paid:       JAN 215 (180+)  FEB 243         MAR 274
    F   60 due 01-10 paid 01-09; 70 issued 02-20 due 03-10, never paid:
                                             JAN nothing open FEB current    MAR 21 (1-30)
    G  100 due 01-15, 50 paid 01-20 (R$ 50 short: open):
                                             JAN 16 (1-30)   FEB 44 (31-60)  MAR 75 (61-90)
    H  100 due 01-05 paid 02-10; 100 issued 01-20 due 02-05, never paid: pays the oldest
       but the next falls due unpaid:        JAN 26 (1-30)   FEB 23 (1-30)   MAR 54 (31-60)

    Billed in the 31 days to each month end (in the book with nothing open): JAN A, C, D,
    F, G, H; FEB F; MAR nobody. So F is current at JAN, and B has left the book at FEB.
    """
    invoices = [
        invoice("IA", "A", D(2026, 1, 1), D(2026, 1, 20), 100.0),
        invoice("IB", "B", D(2025, 12, 20), D(2026, 1, 10), 200.0),
        invoice("IC", "C", D(2026, 1, 25), D(2026, 2, 10), 50.0),
        invoice("ID1", "D", D(2025, 9, 1), D(2025, 9, 30), 300.0),
        invoice("ID2", "D", D(2026, 1, 5), D(2026, 1, 25), 100.0),
        invoice("IE", "E", D(2025, 6, 1), D(2025, 6, 30), 80.0),
        invoice("IF1", "F", D(2026, 1, 1), D(2026, 1, 10), 60.0),
        invoice("IF2", "F", D(2026, 2, 20), D(2026, 3, 10), 70.0),
        invoice("IG", "G", D(2026, 1, 1), D(2026, 1, 15), 100.0),
        invoice("IH1", "H", D(2025, 12, 20), D(2026, 1, 5), 100.0),
        invoice("IH2", "H", D(2026, 1, 20), D(2026, 2, 5), 100.0),
    ]
    payments = [
        payment("PB", "IB", "B", D(2026, 2, 15), 200.0),
        payment("PC", "IC", "C", D(2026, 3, 5), 49.50),
        payment("PF", "IF1", "F", D(2026, 1, 9), 60.0),
        payment("PG", "IG", "G", D(2026, 1, 20), 50.0),
        payment("PH", "IH1", "H", D(2026, 2, 10), 100.0),
    ]
    return tables(invoices=invoices, payments=payments)


def column(frame: pl.DataFrame, name: str) -> dict[str, object]:
    """A column of a per-bucket frame keyed by bucket name."""
    return {str(b): v for b, v in frame.select(frame.columns[0], name).iter_rows()}


def cell(rates: pl.DataFrame, start: str, end: str, name: str = "customers") -> object:
    """One value of a pooled roll-rate frame."""
    row = rates.filter(
        (pl.col("from_bucket").cast(pl.String) == start)
        & (pl.col("to_bucket").cast(pl.String) == end)
    )
    assert row.height == 1, (start, end)
    return row[name].item()


def test_buckets_are_current_then_thirty_day_bands_then_over_180():
    assert BUCKETS == ("current", "1-30", "31-60", "61-90", "91-180", "180+")
    assert bucket_labels((15, 45)) == ("current", "1-15", "16-45", "45+")
    with pytest.raises(ValueError, match="increasing"):
        bucket_labels((60, 30))


def test_a_customer_sits_in_the_bucket_of_their_oldest_past_due_invoice():
    frames = book()
    aging = aging_distribution(frames["invoices"], frames["payments"], JAN)
    assert aging["bucket"].cast(pl.String).to_list() == list(BUCKETS)
    # current C and F (billed, paid); 1-30 A, B, G, H; 91-180 D (its invoice at 1-30 does
    # not count); 180+ E
    assert column(aging, "customers") == {
        "current": 2, "1-30": 4, "31-60": 0, "61-90": 0, "91-180": 1, "180+": 1,
    }  # fmt: skip
    assert column(aging, "customer_share") == pytest.approx(
        {"current": 2 / 8, "1-30": 4 / 8, "31-60": 0, "61-90": 0, "91-180": 1 / 8, "180+": 1 / 8}
    )
    # a customer's whole open balance goes to their bucket: H's 100 not yet due counts at
    # 1-30 and D's 100 at 1-30 counts at 91-180; G owes the 50 left
    assert column(aging, "amount") == {
        "current": 50.0, "1-30": 550.0, "31-60": 0.0, "61-90": 0.0, "91-180": 400.0,
        "180+": 80.0,
    }  # fmt: skip
    assert column(aging, "amount_share")["91-180"] == pytest.approx(400 / 1080)
    # each invoice in its own bucket: C 50 and H's 100 current; A, B, G, D's second and H's
    # first at 1-30
    assert column(aging, "invoice_amount") == {
        "current": 150.0, "1-30": 550.0, "31-60": 0.0, "61-90": 0.0, "91-180": 300.0,
        "180+": 80.0,
    }  # fmt: skip
    assert column(aging, "invoice_amount_share")["180+"] == pytest.approx(80 / 1080)


def test_the_book_holds_customers_with_something_open_or_billed_in_the_last_31_days():
    frames = book()
    invoices, payments = frames["invoices"], frames["payments"]
    owing_only = aging_distribution(invoices, payments, JAN, active_days=None)
    assert column(owing_only, "customers")["current"] == 1  # C; F owes nothing
    assert owing_only["customers"].sum() == 7
    # at FEB B owes nothing and was last billed on 12-20: out of the book, unless the
    # window reaches back that far
    assert aging_distribution(invoices, payments, FEB)["customers"].sum() == 7
    longer = aging_distribution(invoices, payments, FEB, active_days=75)
    assert column(longer, "customers")["current"] == 2  # F (not yet due) and B
    assert longer["amount"].sum() == aging_distribution(invoices, payments, FEB)["amount"].sum()


def test_bucket_edges_fall_on_whole_days_past_due():
    as_of = D(2026, 6, 30)
    ages = {"due_today": 0, "d1": 1, "d30": 30, "d31": 31, "d90": 90, "d91": 91, "d180": 180,
            "d181": 181}  # fmt: skip
    frames = tables(
        invoices=[
            invoice(
                f"I{name}",
                name,
                as_of - timedelta(days=age + 20),
                as_of - timedelta(days=age),
                10.0,
            )
            for name, age in ages.items()
        ],
        payments=[],
    )
    aging = aging_distribution(frames["invoices"], frames["payments"], as_of)
    assert column(aging, "customers") == {
        "current": 1, "1-30": 2, "31-60": 1, "61-90": 1, "91-180": 2, "180+": 1,
    }  # fmt: skip


def test_a_payment_within_the_settle_tolerance_closes_the_invoice_and_one_beyond_does_not():
    frames = book()
    march = aging_distribution(frames["invoices"], frames["payments"], MAR)
    # C paid 49.50 of 50: settled with the default R$ 1.00 tolerance; H alone is at 31-60
    assert column(march, "customers")["31-60"] == 1
    exact = aging_distribution(frames["invoices"], frames["payments"], MAR, tolerance=0.0)
    assert column(exact, "customers")["31-60"] == 2  # H, and C owing 0.50 49 days late
    assert column(exact, "amount")["31-60"] == 100.5


def test_written_off_invoices_leave_the_open_book():
    frames = book()
    aging = aging_distribution(frames["invoices"], frames["payments"], JAN, charge_off_days=180)
    # E's 80 at 215 days is gone; D at 123 days stays
    assert column(aging, "customers") == {
        "current": 2, "1-30": 4, "31-60": 0, "61-90": 0, "91-180": 1, "180+": 0,
    }  # fmt: skip
    assert aging["amount"].sum() == 1000.0
    march = aging_distribution(frames["invoices"], frames["payments"], MAR, charge_off_days=180)
    # D's 300 passed 180 days: D is left with the 100 due 01-25, 65 days past due
    assert column(march, "customers")["61-90"] == 3  # A, G and D
    assert column(march, "amount")["61-90"] == 250.0  # A 100, G 50, D 100


def test_roll_rates_follow_each_customer_from_one_month_end_to_the_next():
    frames = book()
    rates = roll_rates(frames["invoices"], frames["payments"], MONTHS)
    assert rates.height == 6 * 6
    # JAN -> FEB: C current->1-30, F current->current, A 1-30->31-60, B 1-30->current
    # (paid, out of the book), G 1-30->31-60, H 1-30->1-30, D 91-180->91-180, E 180+->180+
    # FEB -> MAR: F current->1-30, C 1-30->current, H 1-30->31-60, A and G 31-60->61-90,
    # D 91-180->180+, E 180+->180+
    expected = {
        ("current", "current"): 1,
        ("current", "1-30"): 2,
        ("1-30", "current"): 2,
        ("1-30", "1-30"): 1,
        ("1-30", "31-60"): 3,
        ("31-60", "61-90"): 2,
        ("91-180", "91-180"): 1,
        ("91-180", "180+"): 1,
        ("180+", "180+"): 2,
    }
    counted = {
        (str(a), str(b)): n
        for a, b, n in rates.select("from_bucket", "to_bucket", "customers").iter_rows()
        if n
    }
    assert counted == expected
    assert cell(rates, "1-30", "31-60", "share") == pytest.approx(3 / 6)
    assert cell(rates, "1-30", "current", "share") == pytest.approx(2 / 6)
    assert cell(rates, "61-90", "180+", "share") is None  # nobody started at 61-90
    # balances at the first date: B 200 and C 50 cured out of A 100 + B 200 + G 50 + H 200
    # (JAN) and C 50 + H 100 (FEB)
    assert cell(rates, "1-30", "current", "amount") == 250.0
    assert cell(rates, "1-30", "current", "amount_share") == pytest.approx(250 / 700)


def test_roll_rates_by_month_keep_each_pair_of_month_ends_apart():
    frames = book()
    rates = roll_rates(frames["invoices"], frames["payments"], MONTHS, by_month=True)
    assert rates.select("from_month", "to_month").unique().sort("from_month").rows() == [
        (JAN, FEB),
        (FEB, MAR),
    ]
    feb = rates.filter(pl.col("from_month") == FEB)
    assert cell(feb, "1-30", "current") == 1  # C
    assert cell(feb, "1-30", "31-60") == 1  # H
    assert cell(feb, "1-30", "current", "share") == pytest.approx(0.5)


def test_the_classic_roll_rates_count_every_move_to_a_later_bucket():
    frames = book()
    rolls = forward_roll_rates(roll_rates(frames["invoices"], frames["payments"], MONTHS))
    assert rolls["rolled_to"].to_list() == [
        "1-30 or worse", "31-60 or worse", "61-90 or worse", "91-180 or worse", "180+ or worse",
    ]  # fmt: skip
    assert column(rolls, "customers") == {
        "current": 3, "1-30": 6, "31-60": 2, "61-90": 0, "91-180": 2,
    }  # fmt: skip
    assert column(rolls, "rolled") == {"current": 2, "1-30": 3, "31-60": 2, "61-90": 0, "91-180": 1}
    assert column(rolls, "roll_rate") == {
        "current": pytest.approx(2 / 3), "1-30": 0.5, "31-60": 1.0, "61-90": None, "91-180": 0.5,
    }  # fmt: skip


def test_a_cure_is_nothing_past_due_a_month_later():
    frames = book()
    cures = cure_rates(frames["invoices"], frames["payments"], MONTHS)
    assert cures["bucket"].cast(pl.String).to_list() == list(BUCKETS[1:])
    assert column(cures, "customers") == {
        "1-30": 6, "31-60": 2, "61-90": 0, "91-180": 2, "180+": 2,
    }  # fmt: skip
    assert column(cures, "cured") == {"1-30": 2, "31-60": 0, "61-90": 0, "91-180": 0, "180+": 0}
    assert column(cures, "cure_rate") == {
        "1-30": pytest.approx(1 / 3), "31-60": 0.0, "61-90": None, "91-180": 0.0, "180+": 0.0,
    }  # fmt: skip
    assert column(cures, "cured_amount")["1-30"] == 250.0


def test_a_write_off_between_month_ends_is_a_roll_to_charged_off_not_a_cure():
    frames = book()
    rates = roll_rates(frames["invoices"], frames["payments"], MONTHS, charge_off_days=180)
    assert CHARGED_OFF in rates["to_bucket"].cast(pl.String).to_list()
    # D: 91-180 at JAN and FEB, written off in March although its 100 due 01-25 is still
    # open (at 61-90); E was written off before JAN and is in neither month's book
    assert cell(rates, "91-180", "91-180") == 1
    assert cell(rates, "91-180", CHARGED_OFF) == 1
    assert rates.filter(pl.col("from_bucket") == "180+")["customers"].sum() == 0
    cures = cure_rates(frames["invoices"], frames["payments"], MONTHS, charge_off_days=180)
    assert column(cures, "cured")["91-180"] == 0
    rolls = forward_roll_rates(rates)
    assert column(rolls, "roll_rate")["91-180"] == 0.5


def test_the_matrix_has_a_row_per_starting_bucket_and_a_column_per_destination():
    frames = book()
    matrix = roll_matrix(roll_rates(frames["invoices"], frames["payments"], MONTHS))
    assert matrix.columns == ["from_bucket", "customers", *BUCKETS]
    assert matrix.filter(pl.col("from_bucket") == "1-30").row(0) == (
        "1-30", 6, pytest.approx(2 / 6), pytest.approx(1 / 6), 0.5, 0.0, 0.0, 0.0,
    )  # fmt: skip


def test_month_ends_must_be_increasing_and_at_least_two():
    frames = book()
    with pytest.raises(ValueError, match="increasing"):
        roll_rates(frames["invoices"], frames["payments"], [FEB, JAN])
    with pytest.raises(ValueError, match="at least two"):
        cure_rates(frames["invoices"], frames["payments"], [JAN])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), day=st.integers(0, 27))
def test_open_positions_agree_with_the_ledger(seed: int, day: int):
    frames = random_portfolio(seed, customers=40, months=6)
    as_of = [D(2026, 7, 1) + timedelta(days=day), D(2026, 9, 30)]
    ours = (
        book_positions(frames["invoices"], frames["payments"], as_of)
        .select(
            "invoice_id",
            "as_of_day",
            (pl.col("outstanding_cents") / 100).round(2).alias("outstanding"),
            "days_past_due",
        )
        .sort("as_of_day", "invoice_id")
        .collect()
    )
    ledger = ledger_from_frames(frames["customers"], frames["invoices"], frames["payments"])
    theirs = (
        open_positions(ledger, [(d - D(1970, 1, 1)).days for d in as_of])
        .select("invoice_id", "as_of_day", "outstanding", "days_past_due")
        .sort("as_of_day", "invoice_id")
        .collect()
    )
    assert ours.height > 0
    assert ours.rows() == theirs.rows()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), charge_off=st.sampled_from([None, 60, 180]))
def test_every_customer_in_the_book_is_counted_once_and_goes_somewhere(
    seed: int, charge_off: int | None
):
    frames = random_portfolio(seed, customers=40, months=6)
    months = [D(2026, 7, 31), D(2026, 8, 31), D(2026, 9, 30)]
    rates = roll_rates(
        frames["invoices"], frames["payments"], months, charge_off_days=charge_off, by_month=True
    )
    for month in months[:-1]:
        aging = aging_distribution(
            frames["invoices"], frames["payments"], month, charge_off_days=charge_off
        )
        started = rates.filter(pl.col("from_month") == month)
        by_bucket = started.group_by("from_bucket").agg(pl.col("customers").sum())
        assert column(by_bucket.sort("from_bucket"), "customers") == column(aging, "customers")
        shares = started.drop_nulls("share").group_by("from_bucket").agg(pl.col("share").sum())
        assert shares["share"].to_list() == pytest.approx([1.0] * shares.height)
        assert aging["amount"].sum() == pytest.approx(aging["invoice_amount"].sum())
