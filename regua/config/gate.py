"""The champion gate's thresholds (config/gate.yaml), validated on load."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from regua.config import _Frozen, load_yaml_model
from regua.settings import get_settings


class GateConfig(_Frozen):
    """How much AUC a challenger may give up against the champion, and the largest ECE."""

    auc_tolerance: float = Field(ge=0, le=0.1)
    max_ece: float = Field(gt=0, le=0.5)


def load_gate(path: Path | None = None) -> GateConfig:
    """The gate thresholds (config/gate.yaml unless another file is given)."""
    return load_yaml_model(path or get_settings().config_dir / "gate.yaml", GateConfig)
