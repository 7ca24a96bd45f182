"""The 5 C's: registration ratios, categories, macro conditions point in time, missing tables."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
from polars.testing import assert_frame_equal

from regua.features import build_from_frames
from regua.features.catalog import CATALOG, features_in
from tests.features.frames import contact, customer, invoice, macro, payment, tables

AS_OF = date(2026, 6, 30)


def portfolio(**extra: list) -> dict[str, pl.DataFrame]:
    """Two customers, SP (with regional macro series) and BA (national only)."""
    return tables(
        customers=[
            customer(
                "C1",
                date(2020, 3, 1),
                birth_or_founding=date(1986, 7, 1),
                declared_income=4000.0,
                monthly_debt_obligations=500.0,
                savings=2000.0,
                assets=30000.0,
                credit_limit=2000.0,
                collateral_value=5000.0,
                collateral_type="vehicle",
                bureau_score=710,
            ),
            customer(
                "C2",
                date(2026, 1, 1),
                kind="PJ",
                state="BA",
                declared_income=0.0,
                equity=-1500.0,
                credit_limit=0.0,
                bureau_score=None,
                employment_type=None,
                birth_or_founding=None,
            ),
        ],
        invoices=[
            invoice("I1", "C1", date(2026, 4, 1), date(2026, 4, 10), 300.0, "personal_loan"),
            invoice("I2", "C1", date(2026, 5, 1), date(2026, 5, 10), 300.0, "personal_loan"),
            invoice("I3", "C1", date(2026, 6, 1), date(2026, 6, 10), 300.0, "personal_loan"),
            invoice("I4", "C1", date(2026, 6, 1), date(2026, 6, 10), 500.0, "credit_card"),
            invoice("I5", "C1", date(2025, 1, 1), date(2025, 1, 10), 5000.0, "services"),
        ],
        payments=[
            payment("P1", "I1", "C1", date(2026, 4, 10), 300.0),
            payment("P2", "I2", "C1", date(2026, 5, 10), 300.0),
            payment("P3", "I3", "C1", date(2026, 6, 10), 300.0),
            payment("P5", "I5", "C1", date(2025, 1, 10), 5000.0),
        ],
        **extra,
    )


MACRO = [
    macro(date(2026, 1, 1), "unemployment", 7.0),
    macro(date(2026, 2, 1), "unemployment", 7.2),
    macro(date(2026, 5, 1), "unemployment", 8.0),
    macro(date(2026, 6, 1), "unemployment", 9.9),  # not yet published on 2026-06-30
    macro(date(2026, 2, 1), "unemployment", 6.0, "SP"),
    macro(date(2026, 5, 1), "unemployment", 6.5, "SP"),
    macro(date(2026, 4, 1), "selic", 10.5),
    macro(date(2026, 5, 1), "default_rate", 4.0),
    macro(date(2026, 5, 1), "default_rate", 3.0, "SP"),
]


def test_registration_features() -> None:
    out = build_from_frames(portfolio(), AS_OF)
    # matured in the last 90 days: I1, I2, I3, I4 = 1400 over 3 months; open: I4 (500)
    monthly = 1400.0 / 3
    expected = pl.DataFrame(
        {
            "tenure_months": [75, 5],
            "age_years": [39, None],
            "bureau_score": [710, None],
            "installment_to_income": [monthly / 4000, None],
            "debt_to_income": [(500 + monthly) / 4000, None],
            "open_balance_to_income": [500 / 4000, None],
            "savings_to_income": [0.5, None],
            "assets_to_limit": [15.0, None],
            "equity": [None, -1500.0],
            "collateral_to_limit": [2.5, None],
            "collateral_to_open_balance": [10.0, None],
        }
    )
    got = out.select(expected.columns)
    assert_frame_equal(got, expected.cast(got.schema))


def test_categories_are_enums() -> None:
    out = build_from_frames(portfolio(), AS_OF)
    got = out.select("kind", "state", "main_product", "collateral_type", "employment_type")
    assert all(isinstance(dtype, pl.Enum) for dtype in got.dtypes)
    # personal_loan billed 900 in 365 days, credit_card 500, services issued too long ago
    assert got.cast(pl.String).rows() == [
        ("PF", "SP", "personal_loan", "vehicle", "clt"),
        ("PJ", "BA", None, "none", None),
    ]


def test_macro_uses_the_last_published_month_and_the_state_first() -> None:
    out = build_from_frames(portfolio(macro=MACRO), AS_OF)
    expected = pl.DataFrame(
        {
            "unemployment": [6.5, 8.0],
            "unemployment_change_3m": [0.5, 0.8],
            "selic": [10.5, 10.5],
            "ipca": [None, None],
            "default_rate": [3.0, 4.0],
            "income_growth": [None, None],
        },
        schema={
            name: pl.Float64
            for name in (
                "unemployment",
                "unemployment_change_3m",
                "selic",
                "ipca",
                "default_rate",
                "income_growth",
            )
        },
    )
    assert_frame_equal(out.select(expected.columns), expected)


def test_macro_on_the_first_day_of_a_month_sees_the_previous_month() -> None:
    out = build_from_frames(portfolio(macro=MACRO), date(2026, 7, 1))
    assert out["unemployment"].to_list() == [6.5, 9.9]


def test_missing_optional_tables_give_null_features() -> None:
    out = build_from_frames(portfolio(), AS_OF)
    from_contacts = [f.name for f in CATALOG if f.name.startswith(("contacts_", "promise"))]
    from_macro = [f.name for f in features_in("conditions") if f.dtype == pl.Float64]
    assert out.select(from_contacts + from_macro).null_count().row(0) == (2,) * (
        len(from_contacts) + len(from_macro)
    )
    empty = portfolio(contacts=[], macro=[])
    assert_frame_equal(build_from_frames(empty, AS_OF), out)


def test_contact_counts_are_zero_for_customers_without_contacts() -> None:
    frames = portfolio(contacts=[contact("C1", datetime(2026, 6, 12, 9), "read", "I3")])
    out = build_from_frames(frames, AS_OF)
    assert out.select(
        "contacts_received_30", "promises_made_90", "promise_kept_share_90"
    ).rows() == [
        (1, 0, None),
        (0, 0, None),
    ]
    # a contacts table whose rows all come after as_of is no contact data yet
    later = portfolio(contacts=[contact("C1", datetime(2026, 7, 2, 9), "read", "I3")])
    assert build_from_frames(later, AS_OF)["contacts_received_30"].to_list() == [None, None]


def test_a_store_with_only_customers_still_builds() -> None:
    out = build_from_frames({"customers": portfolio()["customers"]}, AS_OF)
    assert out.height == 2
    assert out.select("dpd_now", "invoices_365", "open_balance").rows() == [
        (0, 0, 0.0),
        (0, 0, 0.0),
    ]
