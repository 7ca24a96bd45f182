"""The learned ladder policy's settings (config/policy.yaml), validated on load.

The policy (issue 18) gives each new collection case the treatment (a configured ladder, or
the `fixed` strategy's ladder) with the highest expected 30-day net recovery among those the
guardrails allow, keeps `exploration_share` of cases randomized so learning continues, and
cuts the night's phone calls at `phone_calls_per_day`. A newly fitted policy is a
challenger; its gate is an off-policy estimate of its value on held-out randomized cases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from regua.config import _Frozen, load_yaml_model
from regua.settings import get_settings


class PolicyGate(_Frozen):
    """The challenger policy must beat the champion's (or the fixed ladder's) value."""

    estimator: Literal["ips", "dr"] = "dr"
    margin_brl: float = Field(0.0, ge=0)
    """BRL per case the challenger's estimated value must exceed the reference's by."""
    held_out_share: float = Field(0.3, gt=0, lt=1)
    """Share of the randomized cases (by a salted hash of the case id) kept out of fitting."""
    require_approval: bool = True


class PolicyConfig(_Frozen):
    """Treatments, exploration, phone capacity, the learner and the gate."""

    treatments: tuple[str, ...] | None = None
    """Ladders the policy chooses among; all of ladders.yaml's plus `fixed` when left out."""
    reference: str = "fixed"
    """The arm effects are learned against, and the policy the gate compares with when no
    champion exists."""
    exploration_share: float = Field(0.1, ge=0, le=1)
    salt: str = Field("learned-policy", min_length=1, max_length=64)
    phone_calls_per_day: int = Field(300, ge=0)
    horizon_days: int = Field(30, ge=7, le=120)
    learner: Literal["t", "x"] = "x"
    n_estimators: int = Field(200, ge=10)
    min_child_samples: int = Field(40, ge=5)
    gate: PolicyGate = PolicyGate()
    history_nights: int = Field(90, ge=31)
    """The twin's randomized history: nights run before the measured period."""
    history_seed_offset: int = 1000
    """The history book's seed is the measured book's plus this (other customers)."""


def load_policy_config(path: Path | None = None) -> PolicyConfig:
    """The policy settings (config/policy.yaml unless another file is given; defaults when
    the file is missing)."""
    path = path or get_settings().config_dir / "policy.yaml"
    return load_yaml_model(path, PolicyConfig) if path.is_file() else PolicyConfig()
