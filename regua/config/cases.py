"""Collection cases (config/cases.yaml): re-aging, promises to pay, action validity, agreements."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from regua.config import _Frozen, load_yaml_model
from regua.settings import get_settings


class Reaging(_Frozen):
    """A payment re-anchors the case's clock only when it is this share of what is past due."""

    min_share_of_past_due: float = Field(0.5, gt=0, le=1)


class Promises(_Frozen):
    """How a promise to pay holds the ladder, and how many a case may make."""

    grace_days: int = Field(2, ge=0, le=15)
    max_per_case: int = Field(2, ge=1, le=10)
    window_days: int = Field(90, ge=7, le=365)


class Actions(_Frozen):
    """How long an action, and a negotiation offer it carries, stay valid."""

    valid_days: int = Field(7, ge=1, le=30)
    offer_valid_days: int = Field(10, ge=1, le=60)


class Agreements(_Frozen):
    """A settlement agreement pauses the case while its payments keep coming."""

    active_days: int = Field(90, ge=1, le=365)


class Delisting(_Frozen):
    """De-listing after payment or settlement: within this many business days."""

    business_days: int = Field(5, ge=1, le=5)


class CasesConfig(_Frozen):
    """Every setting of collection cases; see config/cases.yaml for the reasons."""

    reaging: Reaging = Reaging()
    promises: Promises = Promises()
    actions: Actions = Actions()
    agreements: Agreements = Agreements()
    delisting: Delisting = Delisting()


def load_cases(path: Path | None = None) -> CasesConfig:
    """The case settings (config/cases.yaml unless another file is given)."""
    return load_yaml_model(path or get_settings().config_dir / "cases.yaml", CasesConfig)
