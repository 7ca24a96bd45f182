"""Drift thresholds (config/drift.yaml): when a population shift warns, when it stops a night."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from regua.config import _Frozen, load_yaml_model
from regua.settings import get_settings


class DriftConfig(_Frozen):
    """PSI bands for scores and features against the champion's training sample.

    The thresholds have no default here: their values live in config/drift.yaml only.
    `regua.models.drift.psi_levels` is the one rule that reads them.
    """

    warn_above: float = Field(gt=0)
    breach_above: float = Field(gt=0)
    on_breach: Literal["warn", "fail"] = "warn"
    bins: int = Field(10, ge=2, le=100)
    sample_rows: int = Field(200_000, ge=1_000)
    same_part_of_month_days: int = Field(2, ge=0, le=15)
    min_reference_rows: int = Field(500, ge=1)
    macro_warn_z: float = Field(2.0, gt=0)
    macro_breach_z: float = Field(3.0, gt=0)
    macro_history_months: int = Field(24, ge=6)

    @model_validator(mode="after")
    def _ordered(self) -> DriftConfig:
        if self.breach_above < self.warn_above:
            raise ValueError("breach_above must not be below warn_above")
        if self.macro_breach_z < self.macro_warn_z:
            raise ValueError("macro_breach_z must not be below macro_warn_z")
        return self


def load_drift(path: Path | None = None) -> DriftConfig:
    """The drift thresholds (config/drift.yaml unless another file is given)."""
    return load_yaml_model(path or get_settings().config_dir / "drift.yaml", DriftConfig)
