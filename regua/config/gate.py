"""The champion gate's thresholds and the approval rule (config/gate.yaml), validated on load."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from regua.config import _Frozen, load_yaml_model
from regua.settings import get_settings


class BootstrapConfig(_Frozen):
    """The paired bootstrap behind the gate's AUC intervals: replicates, confidence, seed."""

    samples: int = Field(500, ge=50, le=10_000)
    confidence: float = Field(0.95, gt=0.5, lt=1)
    seed: int = 42


class GateConfig(_Frozen):
    """Margins against the champion and the scorecard, the largest ECE, and approval."""

    auc_margin: float = Field(ge=0, le=0.1)
    baseline_margin: float = Field(0.0, ge=-0.1, le=0.1)
    max_ece: float = Field(gt=0, le=0.5)
    bootstrap: BootstrapConfig = BootstrapConfig()
    require_approval: bool = True
    recalibration_method: Literal["sigmoid", "isotonic"] = "sigmoid"


def load_gate(path: Path | None = None) -> GateConfig:
    """The gate thresholds (config/gate.yaml unless another file is given)."""
    return load_yaml_model(path or get_settings().config_dir / "gate.yaml", GateConfig)
