"""Credit-limit policy (config/limits.yaml): risk bands, capacity, utilisation and bounds.

The policy is data: PD bands with how far a limit may move in each, the debt-service
ratio a limit may imply, when usage calls for an increase or leaves room for a cut, and
the floor, cap, per-review change and rounding step every recommendation obeys.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from regua.config import _Frozen, load_yaml_model
from regua.settings import get_settings

_TOLERANCE = 1e-9


def _is_multiple(value: float, step: float) -> bool:
    ratio = value / step
    return math.isclose(ratio, round(ratio), abs_tol=_TOLERANCE)


class RiskBand(_Frozen):
    """PDs in [pd_from, pd_to) (the last band also holds 1) and how far a limit may move."""

    name: str = Field(min_length=1)
    pd_from: float = Field(ge=0, le=1)
    pd_to: float = Field(ge=0, le=1)
    max_increase: float = Field(ge=0, le=5)
    max_decrease: float = Field(ge=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> RiskBand:
        if self.pd_to <= self.pd_from:
            raise ValueError(f"pd_to ({self.pd_to}) must be above pd_from ({self.pd_from})")
        return self


class IncreaseRule(_Frozen):
    """When usage and payment history call for more limit, and how much limit they need."""

    min_utilisation: float = Field(0.7, gt=0, le=1)
    target_utilisation: float = Field(0.5, gt=0, le=1)
    clean_window_days: Literal[30, 90, 180, 365] = 180
    min_bureau_score: int | None = Field(300, ge=0, le=1000)

    @model_validator(mode="after")
    def _target_below_trigger(self) -> IncreaseRule:
        if self.target_utilisation >= self.min_utilisation:
            raise ValueError(
                f"target_utilisation ({self.target_utilisation}) must be below "
                f"min_utilisation ({self.min_utilisation})"
            )
        return self


class DecreaseRule(_Frozen):
    """When an unused limit of a high-risk customer is cut, and what headroom stays."""

    max_utilisation: float = Field(0.5, ge=0, lt=1)
    target_utilisation: float = Field(0.8, gt=0, le=1)

    @model_validator(mode="after")
    def _target_above_trigger(self) -> DecreaseRule:
        if self.target_utilisation <= self.max_utilisation:
            raise ValueError(
                f"target_utilisation ({self.target_utilisation}) must be above "
                f"max_utilisation ({self.max_utilisation})"
            )
        return self


class DebtServiceLimits(_Frozen):
    """Largest share of monthly income (PF) or revenue (PJ) all instalments may take."""

    PF: float = Field(0.30, gt=0, le=1)
    PJ: float = Field(0.20, gt=0, le=1)


class CapacityRule(_Frozen):
    """The instalment a fully used limit implies must fit the debt-service ratio."""

    max_debt_service_to_income: DebtServiceLimits = DebtServiceLimits()
    monthly_payment_share: float = Field(0.10, gt=0, le=1)


class Bounds(_Frozen):
    """Absolute floor and cap in BRL and the rounding step; both bounds sit on the step."""

    floor: float = Field(200.0, ge=0)
    cap: float = Field(50_000.0, gt=0)
    step: float = Field(50.0, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Bounds:
        if self.floor > self.cap:
            raise ValueError(f"floor ({self.floor:g}) is above cap ({self.cap:g})")
        for name in ("floor", "cap"):
            if not _is_multiple(getattr(self, name), self.step):
                raise ValueError(f"{name} ({getattr(self, name):g}) is not a multiple of step")
        return self


class MaxChange(_Frozen):
    """Largest relative move of a limit in one review, whatever the band allows."""

    increase: float = Field(0.5, ge=0, le=5)
    decrease: float = Field(0.5, ge=0, lt=1)


class LimitsConfig(_Frozen):
    """The whole credit-limit policy."""

    bands: tuple[RiskBand, ...] = Field(min_length=1)
    increase: IncreaseRule = IncreaseRule()
    decrease: DecreaseRule = DecreaseRule()
    capacity: CapacityRule = CapacityRule()
    bounds: Bounds = Bounds()
    max_change: MaxChange = MaxChange()

    @field_validator("bands")
    @classmethod
    def _cover_zero_to_one(cls, bands: tuple[RiskBand, ...]) -> tuple[RiskBand, ...]:
        names = [b.name for b in bands]
        if len(set(names)) != len(names):
            raise ValueError(f"band names must be unique: {names}")
        ordered = sorted(enumerate(bands), key=lambda item: item[1].pd_from)
        first_index, first = ordered[0]
        if first.pd_from != 0:
            raise ValueError(f"band {first_index} ({first.name!r}) starts at {first.pd_from}: gap")
        for (i, lower), (j, upper) in itertools.pairwise(ordered):
            if lower.pd_to > upper.pd_from:
                raise ValueError(
                    f"band {i} ({lower.name!r}) [{lower.pd_from}, {lower.pd_to}) overlaps "
                    f"band {j} ({upper.name!r}) [{upper.pd_from}, {upper.pd_to})"
                )
            if lower.pd_to < upper.pd_from:
                raise ValueError(
                    f"gap between band {i} ({lower.name!r}) ending at {lower.pd_to} and "
                    f"band {j} ({upper.name!r}) starting at {upper.pd_from}"
                )
        last_index, last = ordered[-1]
        if last.pd_to != 1:
            raise ValueError(f"band {last_index} ({last.name!r}) ends at {last.pd_to}: gap to 1")
        return tuple(band for _, band in ordered)


def load_limits(path: Path | None = None) -> LimitsConfig:
    """The credit-limit policy (config/limits.yaml unless another file is given)."""
    return load_yaml_model(path or get_settings().config_dir / "limits.yaml", LimitsConfig)
