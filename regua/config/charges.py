"""Late charges (config/charges.yaml): the late fine and the interest on arrears, capped by law.

A consumer's overdue invoice may carry a one-off late fine ("multa de mora", at most 2% by
CDC art. 52 §1) and simple interest on arrears ("juros de mora", at most 1% a month).
`dunning.charges.late_charges` applies them; a file asking for more is refused on load.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from regua.config import _Frozen, load_yaml_model
from regua.settings import get_settings

MAX_LATE_FINE_PCT = 2.0
"""CDC art. 52 §1: the late fine is at most 2% of the instalment."""
MAX_MONTHLY_INTEREST_PCT = 1.0
"""Interest on arrears: 1% a month (Lei de Usura; STJ Súmula 379 for bank contracts)."""


class ChargesConfig(_Frozen):
    """The late fine (percent of the open amount, once) and monthly interest on arrears."""

    late_fine_pct: float = Field(ge=0)
    monthly_interest_pct: float = Field(ge=0)

    @field_validator("late_fine_pct")
    @classmethod
    def _fine_cap(cls, value: float) -> float:
        if value > MAX_LATE_FINE_PCT:
            raise PydanticCustomError(
                "config",
                f"at most {MAX_LATE_FINE_PCT:g}: CDC art. 52 §1 caps the late fine (multa de "
                f"mora) at 2% of the instalment",
            )
        return value

    @field_validator("monthly_interest_pct")
    @classmethod
    def _interest_cap(cls, value: float) -> float:
        if value > MAX_MONTHLY_INTEREST_PCT:
            raise PydanticCustomError(
                "config",
                f"at most {MAX_MONTHLY_INTEREST_PCT:g}: interest on arrears (juros de mora) is "
                f"capped at 1% a month (Lei de Usura, Decreto 22.626/1933; STJ Súmula 379)",
            )
        return value


def load_charges(path: Path | None = None) -> ChargesConfig:
    """The late charges (config/charges.yaml unless another file is given)."""
    return load_yaml_model(path or get_settings().config_dir / "charges.yaml", ChargesConfig)
