"""Charge-off in the simulator: closed accounts take no new bills, written-off invoices stay
in the exports, agencies recover a little later, and every bucket up to 180 days cures."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.simulate import SimulationConfig, simulate_portfolio
from regua.simulate.book import aging_distribution, cure_rates, forward_roll_rates, roll_rates
from regua.simulate.risk import (
    CHARGED_OFF,
    CURRENT,
    LATE_30,
    NOT_BILLED,
    RECOVERING,
    SETTLED,
    Lifts,
    charge_off_clock,
    simulate_states,
)

END = date(2026, 10, 31)


def month_ends(count: int) -> list[date]:
    """The last `count` month ends up to END, oldest first."""
    ends, day = [], END
    for _ in range(count):
        ends.append(day)
        day = day.replace(day=1) - timedelta(days=1)
    return ends[::-1]


def simulate(folder: Path, customers: int, charge_off_days: int) -> dict[str, pl.DataFrame]:
    """Invoices, payments and truth of a 24-month simulation."""
    config = SimulationConfig(
        customers=customers, months=24, seed=5, charge_off_days=charge_off_days
    )
    simulate_portfolio(config, folder)
    frames = {
        name: pl.read_parquet(folder / f"{name}.parquet") for name in ("invoices", "payments")
    }
    frames["truth"] = pl.read_parquet(folder / "truth" / "truth.parquet")
    return frames


def written_off(frames: dict[str, pl.DataFrame], charge_off_days: int) -> pl.DataFrame:
    """Invoices not paid in full through due + charge_off_days, with the day after (the
    write-off day), from the exports alone."""
    paid = (
        frames["payments"]
        .sort("paid_at", "payment_id")
        .with_columns(running=pl.col("amount").cum_sum().over("invoice_id"))
        .join(frames["invoices"].select("invoice_id", "amount"), on="invoice_id", suffix="_due")
        .filter(pl.col("running") >= pl.col("amount_due") - 0.005)
        .group_by("invoice_id")
        .agg(full_paid=pl.col("paid_at").min())
    )
    off_day = pl.col("due_at") + pl.duration(days=charge_off_days + 1)
    return (
        frames["invoices"]
        .join(paid, on="invoice_id", how="left")
        .filter(off_day <= END)
        .filter(pl.col("full_paid").is_null() | (pl.col("full_paid") >= off_day))
        .select("invoice_id", "customer_id", off_day.alias("off_day"))
    )


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    """A 3,000-customer book charged off at the default 180 days."""
    return simulate(tmp_path_factory.mktemp("book"), 3000, 180)


@pytest.mark.parametrize("charge_off_days", [180, 120])
def test_no_bill_is_issued_after_an_invoice_passes_the_charge_off_age(
    tmp_path: Path, charge_off_days: int
) -> None:
    frames = simulate(tmp_path, 1500, charge_off_days)
    off = written_off(frames, charge_off_days)
    first_off = off.group_by("customer_id").agg(pl.col("off_day").min())
    assert first_off.height >= 20  # customers were charged off
    later = (
        frames["invoices"]
        .join(first_off, on="customer_id")
        .filter(pl.col("issued_at") >= pl.col("off_day"))
    )
    assert later.height == 0


def test_charged_off_invoices_stay_in_the_exports_and_a_few_are_recovered(
    book: dict[str, pl.DataFrame],
) -> None:
    off = written_off(book, 180)
    charged = book["truth"].filter(pl.col("state") == "charged_off")["customer_id"].unique()
    # every customer the truth calls charged off holds an export invoice unpaid past 180 days
    assert charged.len() >= 50
    assert charged.is_in(off["customer_id"].implode()).all()
    # payments on invoices after their write-off day are agency recoveries only
    late = (
        book["payments"].join(off, on="invoice_id").filter(pl.col("paid_at") >= pl.col("off_day"))
    )
    assert late.height > 0
    assert set(late["method"].unique()) <= {"boleto", "agreement"}
    # a small share: far fewer customers pay after the write-off than are written off
    assert late["customer_id"].n_unique() < 0.3 * off["customer_id"].n_unique()


def test_the_book_as_simulated_holds_nobody_past_the_charge_off_age(
    book: dict[str, pl.DataFrame],
) -> None:
    raw = aging_distribution(book["invoices"], book["payments"], END)
    as_simulated = aging_distribution(book["invoices"], book["payments"], END, charge_off_days=180)
    past = pl.col("bucket").cast(pl.String) == "180+"
    assert raw.filter(past)["customers"].item() > 0  # the written-off invoices are exported
    assert as_simulated.filter(past)["customers"].item() == 0


def test_customers_cure_at_61_90_and_91_180_days(tmp_path: Path) -> None:
    """Floors: before issue 17's change the default book cured 1.1% (61-90) and 1.8%
    (91-180) a month, 98.9% of 61-90 rolled to 91+; it now cures about 15% and 5%,
    and rolls about 85%. On 4,000 customers x 12 moves the 61-90 rate rests on about
    400 customer-months (standard error about 1.8 points) and the 91-180 one on about
    1,200 (0.7 points): floors of 8% and 3% and a roll ceiling of 93% sit more than
    three standard errors below (above) the expected values and well clear of the old
    ones."""
    frames = simulate(tmp_path, 4000, 180)
    months = month_ends(13)
    cures = cure_rates(frames["invoices"], frames["payments"], months, charge_off_days=180)
    rate = dict(zip(cures["bucket"].cast(pl.String), cures["cure_rate"], strict=True))
    counts = dict(zip(cures["bucket"].cast(pl.String), cures["customers"], strict=True))
    assert counts["61-90"] >= 200 and counts["91-180"] >= 600
    assert rate["61-90"] > 0.08
    assert rate["91-180"] > 0.03
    rolls = forward_roll_rates(
        roll_rates(frames["invoices"], frames["payments"], months, charge_off_days=180)
    )
    roll = dict(zip(rolls["from_bucket"].cast(pl.String), rolls["roll_rate"], strict=True))
    assert roll["61-90"] < 0.93


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    charge_off_days=st.integers(90, 400),
    shift=st.floats(-1.0, 3.0),
)
def test_a_closed_account_never_returns_to_billing(
    seed: int, charge_off_days: int, shift: float
) -> None:
    rng = np.random.default_rng(seed)
    n, months = 300, 30
    x = rng.normal(shift, 1.0, size=(n, months))
    lifts = Lifts(*(rng.uniform(0, 0.5, n) for _ in range(4)))
    starts = np.datetime64("2024-01", "M") + np.arange(months + 1)
    month_starts = starts.astype("datetime64[D]").astype(np.int64)
    clock = charge_off_clock(month_starts, rng.integers(8, 29, n), charge_off_days)
    open_month = rng.integers(-5, 5, n)
    states = simulate_states(x, lifts, open_month, np.full(n, CURRENT), months, rng, clock)
    closed = np.maximum.accumulate((states == CHARGED_OFF) | (states == SETTLED), axis=1)
    billable = np.isin(states, (CURRENT, RECOVERING, LATE_30, NOT_BILLED))
    assert not (closed & billable).any()
