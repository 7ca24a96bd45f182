"""Late charges on overdue invoices: the late fine once, simple interest per day of arrears.

For each invoice row (`open_amount` in BRL, `due_at`) at `as_of`: an invoice is overdue
from the day after its due date. The fine ("multa de mora", `late_fine_pct` of the open
amount) applies once; interest on arrears ("juros de mora") is simple, `monthly_interest_pct`
a 30-day month, counted per day from the day after `due_at` to `as_of`, on the open amount
only (never on the fine). An invoice not yet overdue, or with nothing open, carries 0; a
row without `open_amount` or `due_at` carries null. Both are rounded to centavos, half away
from zero. The caps (2% and 1% a month) are checked when config/charges.yaml loads.
"""

from __future__ import annotations

from datetime import date
from typing import TypeVar

import polars as pl

from regua.config.charges import ChargesConfig

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)

DAYS_PER_MONTH = 30
"""Interest pro rata die over a commercial month of 30 days."""


def round_cents(amount: pl.Expr) -> pl.Expr:
    """A BRL amount rounded to centavos, half away from zero, float noise dropped first."""
    return (amount * 100).round(6).round(0, mode="half_away_from_zero") / 100


def days_in_arrears(due_at: pl.Expr, as_of: date) -> pl.Expr:
    """Days from the day after `due_at` to `as_of`, both included; 0 when not overdue."""
    return (pl.lit(as_of) - due_at).dt.total_days().clip(lower_bound=0)


def late_charges(invoices: Frame, as_of: date, config: ChargesConfig) -> Frame:
    """The invoices with `late_fee` and `interest` (BRL) owed on their open amount at `as_of`."""
    days = days_in_arrears(pl.col("due_at"), as_of)
    owed = pl.col("open_amount").clip(lower_bound=0)
    known = pl.col("open_amount").is_not_null() & pl.col("due_at").is_not_null()
    fine = round_cents(owed * (config.late_fine_pct / 100))
    interest = round_cents(owed * days * (config.monthly_interest_pct / 100 / DAYS_PER_MONTH))
    overdue = days > 0
    return invoices.with_columns(
        late_fee=pl.when(~known).then(None).when(overdue).then(fine).otherwise(0.0),
        interest=pl.when(~known).then(None).when(overdue).then(interest).otherwise(0.0),
    )
