"""The ledger's one setting (config/ledger.yaml): the shortfall an invoice is settled within."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from regua.config import _Frozen, load_yaml_model
from regua.settings import get_settings


class LedgerConfig(_Frozen):
    """When an invoice counts as settled: payments reach its amount less the tolerance (BRL)."""

    settle_tolerance_brl: float = Field(1.0, ge=0, le=10)
    """At most R$10: a tolerance is centavos of rounding and fees, not a discount."""

    @field_validator("settle_tolerance_brl")
    @classmethod
    def _whole_cents(cls, value: float) -> float:
        if abs(value * 100 - round(value * 100)) > 1e-6:
            raise ValueError(f"must be a whole number of centavos, got {value}")
        return value

    @property
    def settle_tolerance_cents(self) -> int:
        """The tolerance in whole centavos, the unit the ledger sums payments in."""
        return round(self.settle_tolerance_brl * 100)


def load_ledger(path: Path | None = None) -> LedgerConfig:
    """The ledger setting (config/ledger.yaml unless another file is given)."""
    return load_yaml_model(path or get_settings().config_dir / "ledger.yaml", LedgerConfig)
