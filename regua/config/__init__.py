"""Configuration files under config/, loaded into typed, validated objects in one place.

Each loader reads one YAML file and returns a frozen pydantic model; a bad file raises
`ConfigError` naming the file and the key, so nothing runs on a half-valid setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from regua.settings import get_settings

Model = TypeVar("Model", bound=BaseModel)


class ConfigError(ValueError):
    """A configuration file that does not validate: names the file and the key."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DelinquencyLabel(_Frozen):
    """Bad: an invoice reaches `min_days_past_due` within `horizon_days` after as_of."""

    min_days_past_due: int = Field(60, ge=1, le=365)
    horizon_days: int = Field(180, ge=1, le=730)
    exclude_already_delinquent: bool = True
    out_of_population_pd: float = Field(1.0, ge=0, le=1)


class PropensityLabel(_Frozen):
    """Good: pays at least `min_share_paid` of the overdue amount within `horizon_days`."""

    min_share_paid: float = Field(0.9, gt=0, le=1)
    horizon_days: int = Field(30, ge=1, le=365)


class LabelsConfig(_Frozen):
    """Definitions of the two training labels."""

    delinquency: DelinquencyLabel = DelinquencyLabel()
    propensity_to_pay: PropensityLabel = PropensityLabel()
    min_bad_outcomes: int = Field(100, ge=1)


def load_yaml_model(path: Path, model: type[Model]) -> Model:
    """Read `path` and validate it as `model`; errors name the file and the key."""
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read YAML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {key}: {first['msg']}") from exc


def load_labels(path: Path | None = None) -> LabelsConfig:
    """The label definitions (config/labels.yaml unless another file is given)."""
    return load_yaml_model(path or get_settings().config_dir / "labels.yaml", LabelsConfig)
