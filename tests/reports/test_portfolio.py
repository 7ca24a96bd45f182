"""Aging, roll rates, vintages and payment mix on tiny portfolios whose answers are known."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from regua.reports.portfolio import (
    BUCKET,
    BUCKETS,
    aging_table,
    bucket_of,
    customer_buckets,
    invoice_positions,
    observation_dates,
    payment_method_mix,
    payment_mix_table,
    portfolio_headline,
    roll_rate_matrix,
    roll_rates,
    vintage_curves,
    vintage_table,
)

D = date


def tables(
    customers: list[tuple[str, date]],
    invoices: list[tuple[str, str, date, date, float]],
    payments: list[tuple[str, date, float]] = (),  # type: ignore[assignment]
    method: str = "pix",
) -> dict[str, pl.DataFrame]:
    """Canonical frames with only the columns the report reads."""
    return {
        "customers": pl.DataFrame(
            customers, schema={"customer_id": pl.String, "opened_at": pl.Date}, orient="row"
        ),
        "invoices": pl.DataFrame(
            [(*row, "credit_card", "credit_card") for row in invoices],
            schema={
                "invoice_id": pl.String,
                "customer_id": pl.String,
                "issued_at": pl.Date,
                "due_at": pl.Date,
                "amount": pl.Float64,
                "product": pl.String,
                "product_family": pl.String,
            },
            orient="row",
        ),
        "payments": pl.DataFrame(
            [(f"P{i}", *row, method) for i, row in enumerate(payments)],
            schema={
                "payment_id": pl.String,
                "invoice_id": pl.String,
                "paid_at": pl.Date,
                "amount": pl.Float64,
                "method": pl.String,
            },
            orient="row",
        ),
    }


def test_bucket_boundaries_follow_days_past_due():
    days = pl.DataFrame({"dpd": [-5, 0, 1, 30, 31, 60, 61, 90, 91, 400, None]})
    got = days.select(bucket_of(pl.col("dpd")).cast(pl.String))["dpd"].to_list()
    assert got == [
        "current",
        "current",
        "1-30",
        "1-30",
        "31-60",
        "31-60",
        "61-90",
        "61-90",
        "90+",
        "90+",
        None,
    ]


def test_observation_dates_are_month_ends_then_as_of():
    assert observation_dates(D(2026, 10, 30), 3) == [
        D(2026, 8, 31),
        D(2026, 9, 30),
        D(2026, 10, 30),
    ]
    assert observation_dates(D(2026, 10, 31), 2) == [D(2026, 9, 30), D(2026, 10, 31)]
    assert observation_dates(D(2026, 3, 15), 1) == [D(2026, 3, 15)]
    with pytest.raises(ValueError):
        observation_dates(D(2026, 3, 15), 0)


AS_OF = D(2026, 10, 31)


@pytest.fixture
def book() -> dict[str, pl.DataFrame]:
    """One invoice per aging bucket and the edge cases: partial, settled, future, tolerance."""
    return tables(
        [
            ("C1", D(2025, 1, 1)),
            ("C2", D(2025, 1, 1)),
            ("C3", D(2025, 1, 1)),
            ("C4", D(2025, 1, 1)),
            ("C5", D(2025, 1, 1)),
        ],
        [
            ("I1", "C1", D(2026, 10, 20), D(2026, 11, 5), 100.0),  # not yet due: current
            ("I2", "C1", D(2026, 10, 1), D(2026, 10, 31), 50.0),  # due today: current
            ("I3", "C2", D(2026, 10, 1), D(2026, 10, 20), 200.0),  # 11 days, 50 paid
            ("I4", "C3", D(2026, 9, 1), D(2026, 9, 15), 300.0),  # 46 days
            ("I5", "C3", D(2026, 8, 1), D(2026, 8, 2), 400.0),  # 90 days: still 61-90
            ("I6", "C4", D(2026, 6, 20), D(2026, 7, 1), 500.0),  # 122 days
            ("I7", "C5", D(2026, 8, 20), D(2026, 9, 1), 80.0),  # paid in full
            ("I8", "C5", D(2026, 11, 2), D(2026, 11, 20), 70.0),  # issued after as_of
            ("I9", "C5", D(2026, 9, 20), D(2026, 10, 1), 60.0),  # 30 days, paid after as_of
            ("I10", "C2", D(2026, 9, 25), D(2026, 10, 10), 100.0),  # 0.50 left: settled
        ],
        [
            ("I3", D(2026, 10, 25), 50.0),
            ("I7", D(2026, 9, 10), 80.0),
            ("I9", D(2026, 11, 5), 60.0),
            ("I10", D(2026, 10, 12), 99.5),
        ],
    )


def test_open_invoices_with_what_is_still_owed_at_as_of(book):
    positions = invoice_positions(book, [AS_OF])
    got = {
        r["invoice_id"]: (r["outstanding"], r["days_past_due"], r["bucket"])
        for r in positions.iter_rows(named=True)
    }
    assert got == {
        "I1": (100.0, -5, "current"),
        "I2": (50.0, 0, "current"),
        "I3": (150.0, 11, "1-30"),
        "I4": (300.0, 46, "31-60"),
        "I5": (400.0, 90, "61-90"),
        "I6": (500.0, 122, "90+"),
        "I9": (60.0, 30, "1-30"),
    }


def test_aging_table_counts_invoices_customers_and_amounts_per_bucket(book):
    aging = aging_table(book, AS_OF)
    expected = pl.DataFrame(
        {
            "bucket": pl.Series(BUCKETS, dtype=BUCKET),
            "invoices": [2, 2, 1, 1, 1],
            # each customer once, in the bucket of their worst invoice (C3: 61-90)
            "customers": [1, 2, 0, 1, 1],
            "amount": [150.0, 210.0, 300.0, 400.0, 500.0],
            "amount_share": [150 / 1560, 210 / 1560, 300 / 1560, 400 / 1560, 500 / 1560],
        }
    )
    assert_frame_equal(aging, expected)
    headline = portfolio_headline(aging)
    assert headline["outstanding"] == 1560.0
    assert headline["overdue"] == 1410.0
    assert headline["overdue_customers"] == 4.0
    assert headline["severe_share"] == pytest.approx(500 / 1560)


def test_aging_of_an_empty_book_is_all_zeros():
    aging = aging_table(tables([("C1", D(2025, 1, 1))], []), AS_OF)
    assert aging["bucket"].to_list() == list(BUCKETS)
    assert aging["invoices"].sum() == 0 and aging["amount_share"].sum() == 0.0


@pytest.fixture
def rolling() -> dict[str, pl.DataFrame]:
    """A worsens every month, B cures, C never borrows, D arrives in September."""
    return tables(
        [("A", D(2025, 1, 1)), ("B", D(2025, 1, 1)), ("C", D(2025, 1, 1)), ("D", D(2026, 9, 15))],
        [
            ("IA", "A", D(2026, 8, 1), D(2026, 8, 15), 100.0),
            ("IB", "B", D(2026, 8, 1), D(2026, 8, 20), 100.0),
        ],
        [("IB", D(2026, 9, 10), 100.0)],
    )


DATES = [D(2026, 8, 31), D(2026, 9, 30), D(2026, 10, 31)]


def test_customer_buckets_take_the_worst_open_invoice(rolling):
    buckets = customer_buckets(rolling, DATES)
    by_customer = {
        c: buckets.filter(pl.col("customer_id") == c)["bucket"].cast(pl.String).to_list()
        for c in "ABCD"
    }
    assert by_customer == {
        "A": ["1-30", "31-60", "61-90"],  # 16, 46 and 77 days past due
        "B": ["1-30", "current", "current"],
        "C": ["current", "current", "current"],
        "D": ["current", "current"],  # not a customer yet on 31 August
    }
    assert buckets.filter(pl.col("customer_id") == "A")["outstanding"].to_list() == [100.0] * 3


def test_roll_rates_pool_the_moves_between_consecutive_dates(rolling):
    rates = roll_rates(customer_buckets(rolling, DATES))
    assert rates.height == len(BUCKETS) ** 2
    moved = {
        (r["from_bucket"], r["to_bucket"]): (r["customers"], r["rate"])
        for r in rates.filter(pl.col("customers") > 0).iter_rows(named=True)
    }
    assert moved == {
        ("current", "current"): (4, 1.0),  # B once, C twice, D once
        ("1-30", "current"): (1, 0.5),
        ("1-30", "31-60"): (1, 0.5),
        ("31-60", "61-90"): (1, 1.0),
    }
    # nobody started in 61-90 or 90+: no rate rather than a made-up zero
    assert rates.filter(pl.col("from_bucket") == "90+")["rate"].null_count() == len(BUCKETS)
    matrix = roll_rate_matrix(rates)
    assert matrix.columns == ["from_bucket", "customers", *BUCKETS]
    assert matrix["customers"].to_list() == [4, 2, 1, 0, 0]
    assert matrix.row(1, named=True)["31-60"] == 0.5


@pytest.fixture
def cohorts() -> dict[str, pl.DataFrame]:
    """January: V1 goes 60 days late in April, V2 pays on day 60 exactly. February: V3
    goes late in May. August: V5 is due to go late only after as_of. V4 predates `since`."""
    return tables(
        [
            ("V1", D(2026, 1, 10)),
            ("V2", D(2026, 1, 20)),
            ("V3", D(2026, 2, 5)),
            ("V4", D(2025, 6, 1)),
            ("V5", D(2026, 8, 1)),
        ],
        [
            ("J1", "V1", D(2026, 2, 1), D(2026, 2, 10), 100.0),
            ("J2", "V2", D(2026, 2, 1), D(2026, 2, 20), 100.0),
            ("J3", "V3", D(2026, 3, 1), D(2026, 3, 5), 100.0),
            ("J4", "V4", D(2025, 6, 5), D(2025, 6, 20), 100.0),
            ("J5", "V5", D(2026, 9, 1), D(2026, 9, 15), 100.0),
        ],
        [("J2", D(2026, 4, 21), 100.0), ("J3", D(2026, 6, 1), 100.0)],
    )


def test_monthly_vintage_curves_accumulate_60_day_lateness(cohorts):
    curves = vintage_curves(cohorts, AS_OF, period="month", since=D(2026, 1, 1))
    january = curves.filter(pl.col("cohort") == D(2026, 1, 1))
    assert january["months_on_book"].to_list() == list(range(10))  # Jan..Oct
    assert january["customers"].unique().to_list() == [2]
    assert january["rate"].to_list() == [0.0, 0.0, 0.0] + [0.5] * 7  # V1 from April
    february = curves.filter(pl.col("cohort") == D(2026, 2, 1))
    assert february["rate"].to_list() == [0.0, 0.0, 0.0] + [1.0] * 6  # V3 from May
    august = curves.filter(pl.col("cohort") == D(2026, 8, 1))
    assert august["rate"].to_list() == [0.0, 0.0, 0.0]  # late on 14 November: not yet
    assert D(2025, 6, 1) not in curves["cohort"].to_list()


def test_quarterly_cohorts_stop_where_their_last_customer_stops(cohorts):
    curves = vintage_curves(cohorts, D(2026, 10, 30), since=D(2026, 1, 1))
    first_quarter = curves.filter(pl.col("cohort") == D(2026, 1, 1))
    # as_of is not a month-end: October does not count; V3 (February) has 7 full months
    assert first_quarter["months_on_book"].to_list() == list(range(8))
    assert first_quarter["customers"].unique().to_list() == [3]
    assert first_quarter["rate"][3] == pytest.approx(2 / 3)
    assert first_quarter["rate"].is_sorted()
    table = vintage_table(curves, months=(3, 6, 12))
    assert table.columns == ["cohort", "customers", "mob_3", "mob_6", "mob_12"]
    row = table.filter(pl.col("cohort") == D(2026, 1, 1)).row(0, named=True)
    assert row["customers"] == 3 and row["mob_12"] is None
    assert row["mob_6"] == pytest.approx(2 / 3)


def test_default_cohorts_start_with_the_history(cohorts):
    # the history starts with V4's invoice on 5 June 2025; V4 itself opened before that,
    # so its first months are unseen and it stays out
    assert vintage_curves(cohorts, AS_OF, period="month")["cohort"].min() == D(2026, 1, 1)
    moved = {
        **cohorts,
        "customers": cohorts["customers"].with_columns(
            pl.when(pl.col("customer_id") == "V4")
            .then(D(2025, 6, 5))
            .otherwise(pl.col("opened_at"))
            .alias("opened_at")
        ),
    }
    assert vintage_curves(moved, AS_OF, period="month")["cohort"].min() == D(2025, 6, 1)


def test_payment_mix_shares_per_month_up_to_as_of():
    book = tables(
        [("C1", D(2025, 1, 1))],
        [("I1", "C1", D(2026, 8, 1), D(2026, 8, 10), 1000.0)],
        [
            ("I1", D(2026, 9, 5), 100.0),
            ("I1", D(2026, 9, 6), 300.0),
            ("I1", D(2026, 10, 2), 50.0),
            ("I1", D(2026, 10, 20), 10.0),
        ],
    )
    methods = ["pix", "boleto", "card", "pix"]
    book["payments"] = book["payments"].with_columns(
        pl.Series("method", methods + ["pix"] * (book["payments"].height - len(methods)))
    )
    mix = payment_method_mix(book, D(2026, 10, 15), months=3)
    assert mix["month"].unique().sort().to_list() == [D(2026, 8, 1), D(2026, 9, 1), D(2026, 10, 1)]
    shares = {
        (r["month"], r["method"]): r["amount_share"]
        for r in mix.filter(pl.col("payments") > 0).iter_rows(named=True)
    }
    # the payment of 20 October is after as_of
    assert shares == {
        (D(2026, 9, 1), "pix"): 0.25,
        (D(2026, 9, 1), "boleto"): 0.75,
        (D(2026, 10, 1), "card"): 1.0,
    }
    assert mix.filter(pl.col("month") == D(2026, 8, 1))["amount_share"].null_count() == 5
    table = payment_mix_table(mix)
    assert table.columns[:3] == ["month", "payments", "amount"]
    assert table["amount"].to_list() == [0.0, 400.0, 50.0]
