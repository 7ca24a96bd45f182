"""Late charges: the fine once (at most 2%, CDC art. 52 §1), simple interest per day of arrears."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from regua.config import ConfigError
from regua.config.charges import ChargesConfig, load_charges
from regua.dunning.charges import late_charges

AS_OF = date(2026, 3, 31)
SHIPPED = ChargesConfig(late_fine_pct=2.0, monthly_interest_pct=1.0)


def test_the_shipped_charges_are_the_legal_ceilings() -> None:
    assert load_charges() == SHIPPED


def write_charges(tmp_path: Path, **values: object) -> Path:
    path = tmp_path / "charges.yaml"
    path.write_text(yaml.safe_dump({"late_fine_pct": 2.0, "monthly_interest_pct": 1.0, **values}))
    return path


@pytest.mark.parametrize(
    ("values", "key", "rule"),
    [
        ({"late_fine_pct": 2.5}, "late_fine_pct", "CDC art. 52 §1 caps the late fine"),
        ({"monthly_interest_pct": 1.5}, "monthly_interest_pct", "capped at 1% a month"),
        ({"late_fine_pct": -1}, "late_fine_pct", "greater than or equal to 0"),
        ({"grace_days": 3}, "grace_days", "Extra inputs are not permitted"),
    ],
)
def test_charges_beyond_the_law_are_refused_with_the_reason(
    values: dict[str, object], key: str, rule: str, tmp_path: Path
) -> None:
    path = write_charges(tmp_path, **values)
    with pytest.raises(ConfigError, match=re.escape(f"{path}: {key}: ")) as info:
        load_charges(path)
    assert rule in str(info.value)


def test_a_lower_fine_and_no_interest_are_allowed(tmp_path: Path) -> None:
    config = load_charges(write_charges(tmp_path, late_fine_pct=1.5, monthly_interest_pct=0))
    assert config == ChargesConfig(late_fine_pct=1.5, monthly_interest_pct=0)


def invoices(rows: list[tuple[float | None, date | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"open_amount": pl.Float64, "due_at": pl.Date}, orient="row"
    ).with_row_index("row")


def test_charges_by_hand() -> None:
    frame = invoices(
        [
            (1000.00, date(2026, 3, 10)),  # 21 days: 2% = 20,00; 1000 * 1% * 21/30 = 7,00
            (1234.56, date(2026, 3, 1)),  # 30 days: 24,6912 -> 24,69; 12,3456 -> 12,35
            (500.00, AS_OF),  # due today: not overdue yet
            (500.00, date(2026, 4, 5)),  # not yet due
            (0.25, date(2026, 3, 30)),  # 0,005 rounds half up to 0,01; 0,0000833 to 0
            (-10.00, date(2026, 1, 1)),  # a credit balance carries nothing
            (None, date(2026, 1, 1)),
            (100.00, None),
        ]
    )
    expected = frame.with_columns(
        late_fee=pl.Series([20.00, 24.69, 0.0, 0.0, 0.01, 0.0, None, None]),
        interest=pl.Series([7.00, 12.35, 0.0, 0.0, 0.0, 0.0, None, None]),
    )
    assert_frame_equal(late_charges(frame, AS_OF, SHIPPED), expected)


def test_a_lazy_frame_stays_lazy() -> None:
    frame = invoices([(1000.00, date(2026, 1, 31))])
    result = late_charges(frame.lazy(), AS_OF, SHIPPED)
    assert isinstance(result, pl.LazyFrame)
    # 59 days after 31/01: 1000 * 1% * 59 / 30 = 19,666... -> 19,67
    assert result.collect().select("late_fee", "interest").row(0) == (20.00, 19.67)


def cents(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@given(
    amount_cents=st.integers(min_value=1, max_value=10_000_000),
    days=st.integers(min_value=-60, max_value=720),
    fine=st.decimals(min_value=0, max_value=2, places=2),
    interest=st.decimals(min_value=0, max_value=1, places=2),
)
@settings(max_examples=200, deadline=None)
def test_the_fine_is_once_and_interest_is_simple_per_day(
    amount_cents: int, days: int, fine: Decimal, interest: Decimal
) -> None:
    amount = Decimal(amount_cents) / 100
    config = ChargesConfig(late_fine_pct=float(fine), monthly_interest_pct=float(interest))
    frame = invoices([(float(amount), AS_OF - timedelta(days=days))])
    late_fee, accrued = late_charges(frame, AS_OF, config).select("late_fee", "interest").row(0)
    overdue = days > 0
    assert late_fee == (cents(amount * fine / 100) if overdue else 0.0)
    assert accrued == (cents(amount * interest / 100 * days / 30) if overdue else 0.0)
    assert late_fee <= float(amount) * 0.02 + 0.005
