"""Ingestion's tunable rule (config/ingest.yaml): how far a payment may exceed its invoice."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from regua.config import _Frozen, load_yaml_model
from regua.settings import get_settings


class IngestConfig(_Frozen):
    """Payments of an invoice beyond amount x (1 + tolerance) are rejected as `overpayment`."""

    overpayment_tolerance_share: float = Field(0.10, ge=0, le=1)
    """Interest and the late fine are paid on top of a bill; more than double is never that."""


def load_ingest(path: Path | None = None) -> IngestConfig:
    """The ingestion settings (config/ingest.yaml unless another file is given)."""
    return load_yaml_model(path or get_settings().config_dir / "ingest.yaml", IngestConfig)
