"""The twin's figures on a small hand-made run whose every figure is worked out by hand."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import polars as pl
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from regua.contract import CHANNELS
from regua.simulate.twin_kpis import (
    OPEN_COLUMNS,
    checkpoints,
    summarise_runs,
    t_quantile,
    twin_daily,
    twin_kpis,
)

DAY0 = date(2027, 1, 4)
LAST = DAY0 + timedelta(days=69)


def d(n: int) -> date:
    return DAY0 + timedelta(days=n)


# The run, customer by customer (dN is day0 + N; the run is d0..d69; charge-off at 180 days):
# A  A1 100 due d4, paid d10 (case d5-d9, cured); A2 100 due d40, paid d45 (case d41-d44, cured)
# B  B1 200 due d9: 50 paid d20, 150 by the agency d50 (case d10-d49, cured); handed over d40
# C  C1 300 due d-20, 100 paid d-25 (history), never more: one open case from d-19
# D  D1 400 due d-175: charged off d5 (case d-174..d4, charged off); the agency recovers 100 d30
# E  E1 80 due d14, paid on time d12: no case, not past due
# F  F1 500 due d29: 450 paid d35 with 50 forgiven by a discount (case d30-d34, cured)
# G  G1 60 due d50, unpaid (case d51-d69, open)
# H  H1 100 due d0 paid d15, H2 100 due d10 paid d25: one case d1-d24 (cured)
# I  I1 70 due d20, paid d21: fell past due, recovered, but no night saw it late (no case)
# J  J1 100 due d5, 99.50 paid d3: settled within the R$1 tolerance, never past due
# K  K1 150 due d-70, unpaid: 61-90 at d0, 90+ at d30 (case open)
# L  L1 90 due d-65, paid d10 (case d-64..d9, cured): 61-90 at d0, nothing at d30
INVOICES = [
    ("A1", "A", -30, 4, 100.0),
    ("A2", "A", 10, 40, 100.0),
    ("B1", "B", -20, 9, 200.0),
    ("C1", "C", -50, -20, 300.0),
    ("D1", "D", -200, -175, 400.0),
    ("E1", "E", -10, 14, 80.0),
    ("F1", "F", 0, 29, 500.0),
    ("G1", "G", 20, 50, 60.0),
    ("H1", "H", -30, 0, 100.0),
    ("H2", "H", -20, 10, 100.0),
    ("I1", "I", -10, 20, 70.0),
    ("J1", "J", -25, 5, 100.0),
    ("K1", "K", -100, -70, 150.0),
    ("L1", "L", -95, -65, 90.0),
]
PAYMENTS = [
    # invoice, paid day, amount, recovered_by, discount_brl, method
    ("A1", 10, 100.0, "customer", 0.0, "pix"),
    ("A2", 45, 100.0, "customer", 0.0, "pix"),
    ("B1", 20, 50.0, "customer", 0.0, "pix"),
    ("B1", 50, 150.0, "agency", 0.0, "boleto"),
    ("C1", -25, 100.0, None, None, "boleto"),
    ("D1", 30, 100.0, "agency", 0.0, "boleto"),
    ("E1", 12, 80.0, "customer", 0.0, "pix"),
    ("F1", 35, 450.0, "customer", 50.0, "pix"),
    ("H1", 15, 100.0, "customer", 0.0, "pix"),
    ("H2", 25, 100.0, "customer", 0.0, "agreement"),
    ("I1", 21, 70.0, "customer", 0.0, "pix"),
    ("J1", 3, 99.5, "customer", 0.0, "pix"),
    ("L1", 10, 90.0, "customer", 0.0, "pix"),
]
CONTACTS = [
    # customer, day, channel, cost_brl, purpose
    ("C", -5, "phone", 2.50, "reminder"),  # before the run: not counted
    ("A", 5, "sms", 0.08, "reminder"),
    ("A", 6, "phone", 2.50, "reminder"),
    ("B", 12, "whatsapp", 0.10, "reminder"),
    ("B", 15, "phone", 2.50, "reminder"),
    ("B", 40, "agency", 0.00, "agency_handoff"),
    ("C", 10, "letter", 3.50, "negative_listing_notice"),
    ("C", 25, "bureau", 3.00, "negative_listing"),
    ("E", 11, "email", 0.01, "reminder"),
    ("F", 31, "whatsapp", 0.10, "negotiation_offer"),
    ("G", 52, "sms", 0.08, "reminder"),
]
EVENTS = [
    ("A", -2, "opt_out", 0.0),  # before the run
    ("A", 6, "opt_out", 0.0),
    ("B", 15, "complaint", 0.0),
    ("G", 55, "dispute", 0.0),
    ("B", 40, "agency_handoff", 0.0),
    ("D", 5, "charge_off", 400.0),
]
FEES = [("D", -3, 5.0), ("D", 30, 20.0), ("B", 50, 30.0)]
OPEN = [
    # day, bucket, customers, open_amount: the book at d0 and at d69 (other days unknown)
    (0, "current", 6, 1000.0),
    (0, "1-30", 1, 200.0),
    (0, "61-90", 2, 240.0),
    (0, "90+", 1, 400.0),
    (69, "current", 3, 0.0),
    (69, "1-30", 1, 60.0),
    (69, "61-90", 1, 200.0),
    (69, "90+", 1, 150.0),
]


def invoices() -> pl.DataFrame:
    return pl.DataFrame(
        [(i, c, d(issued), d(due), amount, "CARTAO") for i, c, issued, due, amount in INVOICES],
        schema=["invoice_id", "customer_id", "issued_at", "due_at", "amount", "product"],
        orient="row",
    )


def payments() -> pl.DataFrame:
    customer = {i: c for i, c, *_ in INVOICES}
    return pl.DataFrame(
        [
            (f"P{n}", i, customer[i], d(day), amount, method, who, discount)
            for n, (i, day, amount, who, discount, method) in enumerate(PAYMENTS)
        ],
        schema={
            "payment_id": pl.String, "invoice_id": pl.String, "customer_id": pl.String,
            "paid_at": pl.Date, "amount": pl.Float64, "method": pl.String,
            "recovered_by": pl.String, "discount_brl": pl.Float64,
        },
        orient="row",
    )  # fmt: skip


def contacts() -> pl.DataFrame:
    return pl.DataFrame(
        [
            (f"K{n}", c, datetime.combine(d(day), datetime.min.time()) + timedelta(hours=10),
             channel, "delivered", purpose, cost)
            for n, (c, day, channel, cost, purpose) in enumerate(CONTACTS)
        ],
        schema={
            "contact_id": pl.String, "customer_id": pl.String, "at": pl.Datetime("us"),
            "channel": pl.String, "outcome": pl.String, "purpose": pl.String,
            "cost_brl": pl.Float64,
        },
        orient="row",
    )  # fmt: skip


def events() -> pl.DataFrame:
    return pl.DataFrame(
        [(c, d(day), kind, amount) for c, day, kind, amount in EVENTS],
        schema=["customer_id", "day", "kind", "amount"],
        orient="row",
    )


def fees() -> pl.DataFrame:
    return pl.DataFrame(
        [(c, d(day), fee) for c, day, fee in FEES],
        schema=["customer_id", "day", "fee_brl"],
        orient="row",
    )


def daily_open() -> pl.DataFrame:
    return pl.DataFrame(
        [(d(day), bucket, n, amount) for day, bucket, n, amount in OPEN],
        schema={"day": pl.Date, "bucket": pl.String, "customers": pl.Int64,
                "open_amount": pl.Float64},
        orient="row",
    )  # fmt: skip


def kpis(**changes: object) -> dict[str, float | None]:
    frames: dict[str, object] = {
        "invoices": invoices(), "payments": payments(), "contacts": contacts(),
        "events": events(), "agency_fees": fees(), "daily_open": daily_open(),
        "day0": DAY0, "last_day": LAST, "charge_off_days": 180, "tolerance": 1.0,
    } | changes  # fmt: skip
    frame = twin_kpis(**frames)  # type: ignore[arg-type]
    assert frame.columns == ["kpi", "value", "unit", "description"]
    assert frame["kpi"].is_unique().all()
    return dict(zip(frame["kpi"], frame["value"], strict=True))


# Worked out by hand from the run above.
RECOVERED = 100 + 100 + 50 + 150 + 100 + 450 + 100 + 100 + 70 + 90  # A1 A2 B1 B1 D1 F1 H1 H2 I1 L1
FELL = 100 + 100 + 200 + 500 + 60 + 100 + 100 + 70  # A1 A2 B1 F1 G1 H1 H2 I1 (due d0..d68)
CONTACT_COST = 0.08 + 2.50 + 0.10 + 2.50 + 0.00 + 3.50 + 3.00 + 0.01 + 0.10 + 0.08
EXPECTED: dict[str, float | None] = {
    "recovered_brl": 1310.0,
    "recovered_customer_brl": 1060.0,
    "recovered_agency_brl": 250.0,
    "collected_brl": 1310.0 + 80.0 + 99.5,
    "fell_past_due_brl": 1230.0,
    # within 30 days: all but B1's agency payment at 41 days
    "recovered_30d_brl": 970.0,
    "recovered_30d_share": 970 / 1230,
    # due by d39: A1 B1 F1 H1 H2 I1 fell 1070, of which 870 back within 30 days
    "recovered_30d_share_matured": 870 / 1070,
    "recovered_60d_brl": 1120.0,
    "recovered_60d_share": 1120 / 1230,
    # due by d9: A1 B1 H1, all 400 back within 60 days
    "recovered_60d_share_matured": 1.0,
    "recovered_90d_brl": 1120.0,
    "recovered_90d_share": 1120 / 1230,
    "recovered_90d_share_matured": None,
    # A twice, B, C, D, F, G, H, K, L; cured: A twice, B, F, H, L
    "cases": 10.0,
    "cure_rate": 0.6,
    # checkpoints d0 and d30: 1-30 holds C (d0), B and F (d30); only C rolls
    "roll_1_30_to_31_60": 1 / 3,
    "roll_31_60_to_61_90": 1.0,  # C at d30, 61-90 at d60
    "roll_61_90_to_90_plus": 0.5,  # K and L at d0; K rolls
    "contacts": 8.0,
    "contacts_per_case": 0.8,
    "contacts_per_1000_brl_recovered": 8 / 1.31,
    "contact_cost_brl": 11.87,
    "agency_fees_brl": 50.0,
    "discounts_brl": 50.0,
    "net_recovery_brl": 1310 - 11.87 - 50,
    "net_collected_brl": 1489.5 - 11.87 - 50,
    "opt_outs_per_1000_cases": 100.0,
    "complaints_per_1000_cases": 100.0,
    "disputes_per_1000_cases": 100.0,
    "agency_handoffs": 1.0,
    "charge_offs": 1.0,
    "charge_off_brl": 400.0,
    "open_past_due_end_brl": 410.0,
}


def test_every_figure_of_a_hand_made_run() -> None:
    assert RECOVERED == 1310 and FELL == 1230 and math.isclose(CONTACT_COST, 11.87)
    got = kpis()
    assert list(got) == list(EXPECTED)
    for name, value in EXPECTED.items():
        if value is None:
            assert got[name] is None, name
        else:
            assert got[name] == pytest.approx(value, abs=1e-9), name


def test_without_charge_off_a_debt_stays_past_due() -> None:
    got = kpis(charge_off_days=None)
    # D's case now runs to the end: open, not charged off; nothing else moves
    assert got["cases"] == 10 and got["cure_rate"] == 0.6
    assert got["charge_offs"] == 1  # the events are counted as reported


def test_a_tolerance_of_zero_leaves_a_short_payment_open() -> None:
    got = kpis(tolerance=0.0)
    # J1 is 0.50 short from d3: past due from d6 to the end, a new open case
    assert got["cases"] == 11
    assert got["fell_past_due_brl"] == pytest.approx(1230.5)
    assert got["cure_rate"] == pytest.approx(6 / 11)


def test_the_roll_checkpoints_are_every_30_days_while_the_next_one_fits() -> None:
    assert checkpoints(DAY0, LAST) == [d(0), d(30)]
    assert checkpoints(DAY0, d(89)) == [d(0), d(30)]
    assert checkpoints(DAY0, d(90)) == [d(0), d(30), d(60)]
    assert checkpoints(DAY0, d(29)) == []


def test_a_run_too_short_for_a_checkpoint_has_no_roll_rates() -> None:
    got = kpis(last_day=d(20))
    assert [got[k] for k in got if k.startswith("roll_")] == [None, None, None]


def test_unknown_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="events: unknown kind value"):
        kpis(events=events().with_columns(pl.lit("agency_fee").alias("kind")))
    with pytest.raises(ValueError, match=r"payments: 1 payment\(s\) of invoices not listed"):
        kpis(invoices=invoices().filter(pl.col("invoice_id") != "E1"))
    with pytest.raises(ValueError, match="daily_open: unknown bucket value"):
        kpis(daily_open=daily_open().with_columns(pl.lit("dpd_1_30").alias("bucket")))
    with pytest.raises(ValueError, match="contacts: missing column"):
        kpis(contacts=contacts().drop("cost_brl"))


def test_the_daily_table_adds_up_to_the_run() -> None:
    daily = twin_daily(
        invoices=invoices(), payments=payments(), contacts=contacts(), agency_fees=fees(),
        daily_open=daily_open(), day0=DAY0, last_day=LAST, tolerance=1.0,
    )  # fmt: skip
    assert daily.height == 70 and daily["day"].to_list() == [d(n) for n in range(70)]
    assert daily.columns == [
        "day", "recovered_customer_brl", "recovered_agency_brl", "recovered_brl",
        "discounts_brl", "contact_cost_brl", "agency_fees_brl", "cost_brl", "contacts",
        *(f"contacts_{c}" for c in CHANNELS), "cum_recovered_brl", "cum_cost_brl",
        "cum_net_recovery_brl", *OPEN_COLUMNS.values(), "open_past_due_brl",
    ]  # fmt: skip
    by_day = {row["day"]: row for row in daily.iter_rows(named=True)}
    # d10: A1 and L1 paid late (190), C's letter (3.50)
    assert by_day[d(10)]["recovered_customer_brl"] == 190.0
    assert by_day[d(10)]["contacts_letter"] == 1 and by_day[d(10)]["contacts"] == 1
    assert by_day[d(10)]["contact_cost_brl"] == 3.5
    # d25: H2 paid late, and the bureau request is a cost but not a contact
    assert by_day[d(25)]["recovered_brl"] == 100.0
    assert (by_day[d(25)]["contacts_bureau"], by_day[d(25)]["contacts"]) == (1, 0)
    # d30: the agency recovers 100 of D's charged-off debt and keeps 20
    assert (by_day[d(30)]["recovered_agency_brl"], by_day[d(30)]["agency_fees_brl"]) == (100, 20)
    assert by_day[d(30)]["cost_brl"] == 20.0
    # d35: F pays 450, 50 forgiven; d12: E pays on time, which is not recovered
    assert (by_day[d(35)]["recovered_customer_brl"], by_day[d(35)]["discounts_brl"]) == (450, 50)
    assert by_day[d(12)]["recovered_brl"] == 0.0
    end = by_day[LAST]
    assert end["cum_recovered_brl"] == pytest.approx(1310.0)
    assert end["cum_cost_brl"] == pytest.approx(61.87)
    assert end["cum_net_recovery_brl"] == pytest.approx(1248.13)
    assert sum(daily["contacts"]) == 8 and sum(daily["contacts_agency"]) == 1
    assert [by_day[d(0)][c] for c in (*OPEN_COLUMNS.values(), "open_past_due_brl")] == [
        200.0, 0.0, 240.0, 400.0, 840.0,
    ]  # fmt: skip
    assert [end[c] for c in (*OPEN_COLUMNS.values(), "open_past_due_brl")] == [
        60.0, 0.0, 200.0, 150.0, 410.0,
    ]  # fmt: skip
    assert by_day[d(1)]["open_past_due_brl"] is None


def runs(rows: list[tuple[str, int, str, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["policy", "seed", "kpi", "value"], orient="row")


def test_the_summary_gives_t_intervals_over_seeds_and_paired_differences() -> None:
    frame = runs([
        ("fixed", 1, "recovered_brl", 10.0), ("fixed", 2, "recovered_brl", 12.0),
        ("fixed", 3, "recovered_brl", 14.0),
        ("regua", 1, "recovered_brl", 13.0), ("regua", 2, "recovered_brl", 14.0),
        ("regua", 3, "recovered_brl", 18.0),
        ("oracle", 2, "recovered_brl", 20.0),
        ("fixed", 1, "cure_rate", None), ("fixed", 2, "cure_rate", 0.5),
    ])  # fmt: skip
    summary = summarise_runs(frame)
    assert summary.columns == [
        "policy", "kpi", "unit", "seeds", "mean", "ci_low", "ci_high",
        "diff_mean", "diff_ci_low", "diff_ci_high", "diff_seeds",
    ]  # fmt: skip
    rows = {(r["policy"], r["kpi"]): r for r in summary.iter_rows(named=True)}
    assert list(rows) == [
        ("fixed", "recovered_brl"), ("regua", "recovered_brl"), ("oracle", "recovered_brl"),
        ("fixed", "cure_rate"),
    ]  # fmt: skip
    # fixed: mean 12, sd 2 over 3 seeds; regua - fixed by seed: 3, 2, 4 (mean 3, sd 1)
    low, high = scipy.stats.t.interval(0.95, 2, loc=12.0, scale=2.0 / math.sqrt(3))
    fixed = rows[("fixed", "recovered_brl")]
    assert (fixed["seeds"], fixed["mean"]) == (3, 12.0)
    assert fixed["ci_low"] == pytest.approx(low, rel=1e-12)
    assert fixed["ci_high"] == pytest.approx(high, rel=1e-12)
    assert (fixed["diff_mean"], fixed["diff_ci_low"], fixed["diff_ci_high"]) == (0.0, 0.0, 0.0)
    regua = rows[("regua", "recovered_brl")]
    assert regua["mean"] == pytest.approx(15.0)
    low, high = scipy.stats.t.interval(0.95, 2, loc=3.0, scale=1.0 / math.sqrt(3))
    assert (regua["diff_mean"], regua["diff_seeds"]) == (pytest.approx(3.0), 3)
    assert regua["diff_ci_low"] == pytest.approx(low, rel=1e-12)
    assert regua["diff_ci_high"] == pytest.approx(high, rel=1e-12)
    # one seed: a mean, no interval; paired with fixed's seed 2 only
    oracle = rows[("oracle", "recovered_brl")]
    assert (oracle["seeds"], oracle["mean"], oracle["ci_low"], oracle["ci_high"]) == (
        1, 20.0, None, None,
    )  # fmt: skip
    assert (oracle["diff_mean"], oracle["diff_ci_low"], oracle["diff_seeds"]) == (8.0, None, 1)
    # a null value is a seed without the figure
    cure = rows[("fixed", "cure_rate")]
    assert (cure["seeds"], cure["mean"], cure["ci_low"]) == (1, 0.5, None)


def test_without_the_baseline_there_is_no_difference() -> None:
    summary = summarise_runs(runs([("regua", 1, "x", 1.0), ("regua", 2, "x", 3.0)]))
    assert summary.select("diff_mean", "diff_ci_low", "diff_seeds").row(0) == (None, None, 0)
    assert summary["mean"].item() == 2.0


def test_a_policy_seed_and_kpi_given_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="more than one value"):
        summarise_runs(runs([("fixed", 1, "x", 1.0), ("fixed", 1, "x", 2.0)]))


def test_the_units_are_carried_over() -> None:
    frame = runs([("fixed", 1, "x", 1.0)]).with_columns(pl.lit("BRL").alias("unit"))
    assert_frame_equal(
        summarise_runs(frame).select("policy", "kpi", "unit", "seeds", "mean"),
        pl.DataFrame({"policy": ["fixed"], "kpi": ["x"], "unit": ["BRL"], "seeds": [1],
                      "mean": [1.0]}),
    )  # fmt: skip


@pytest.mark.parametrize("df", [*range(1, 41), 57, 100, 250])
@pytest.mark.parametrize("p", [0.975, 0.95, 0.6, 0.025])
def test_the_t_quantile_is_scipys(df: int, p: float) -> None:
    assert t_quantile(p, df) == pytest.approx(scipy.stats.t.ppf(p, df), rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=12))
def test_the_interval_is_scipys_t_interval(values: list[float]) -> None:
    frame = runs([("fixed", seed, "x", v) for seed, v in enumerate(values)])
    row = summarise_runs(frame).row(0, named=True)
    mean = sum(values) / len(values)
    sem = scipy.stats.sem(values)
    assert row["mean"] == pytest.approx(mean, abs=1e-6)
    if sem > 0:
        low, high = scipy.stats.t.interval(0.95, len(values) - 1, loc=mean, scale=sem)
        assert row["ci_low"] == pytest.approx(low, rel=1e-9, abs=1e-6)
        assert row["ci_high"] == pytest.approx(high, rel=1e-9, abs=1e-6)


def test_a_run_without_contacts_events_or_fees_counts_zero() -> None:
    got = kpis(contacts=contacts().clear(), events=events().clear(), agency_fees=fees().clear())
    assert (got["contacts"], got["contacts_per_case"], got["contact_cost_brl"]) == (0, 0, 0)
    assert (got["agency_fees_brl"], got["charge_offs"], got["opt_outs_per_1000_cases"]) == (0, 0, 0)
    assert got["net_recovery_brl"] == got["recovered_brl"] == 1310.0


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-40, 60), st.integers(0, 90), st.booleans()), min_size=1, max_size=8
    )
)
def test_the_figures_agree_with_each_other(bills: list[tuple[int, int, bool]]) -> None:
    # each bill: due day, days from due to payment (past the end: unpaid), by the agency?
    inv = pl.DataFrame(
        {
            "invoice_id": [f"X{i}" for i in range(len(bills))],
            "customer_id": [f"C{i % 3}" for i in range(len(bills))],
            "issued_at": [d(due - 10) for due, _, _ in bills],
            "due_at": [d(due) for due, _, _ in bills],
            "amount": [100.0 + i for i in range(len(bills))],
        }
    )
    pay = payments().clear().vstack(
        pl.DataFrame(
            [
                (f"P{i}", f"X{i}", f"C{i % 3}", d(due + lag), 100.0 + i, "pix",
                 "agency" if agency else "customer", 0.0)
                for i, (due, lag, agency) in enumerate(bills)
                if d(due + lag) <= LAST
            ],
            schema=payments().schema,
            orient="row",
        )
    )  # fmt: skip
    got = kpis(invoices=inv, payments=pay, contacts=contacts().clear(), events=events().clear())
    assert got["recovered_30d_brl"] <= got["recovered_60d_brl"] <= got["recovered_90d_brl"]
    assert got["recovered_90d_brl"] <= got["recovered_brl"] <= got["collected_brl"]
    assert got["recovered_brl"] == pytest.approx(
        got["recovered_customer_brl"] + got["recovered_agency_brl"]
    )
    for k in (30, 60, 90):
        share = got[f"recovered_{k}d_share"]
        assert share is None or 0 <= share <= 1 + 1e-12
    assert got["cure_rate"] is None or 0 <= got["cure_rate"] <= 1
    daily = twin_daily(
        invoices=inv, payments=pay, contacts=contacts().clear(), agency_fees=fees(),
        daily_open=daily_open(), day0=DAY0, last_day=LAST, tolerance=1.0,
    )  # fmt: skip
    assert daily["recovered_brl"].sum() == pytest.approx(got["recovered_brl"])
    assert daily["cost_brl"].sum() == pytest.approx(got["agency_fees_brl"])
