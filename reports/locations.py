"""Where a notebook finds its data: the installation's settings, else the demo of `make demo`.

A notebook calls `notebook_locations()` once. The store, outputs folder and MLflow
tracking URI come from the usual settings (`REGUA_STORE_DIR`, `REGUA_OUT_DIR`,
`MLFLOW_TRACKING_URI`, or `regua.toml`) when they are set there, and otherwise from the
demo (`data/demo/...`); the date from `REGUA_AS_OF` (default: the demo's 2026-10-30).
Relative paths (and a relative SQLite path in the tracking URI) count from the project
folder, not from wherever the kernel started (Jupyter starts it in `notebooks/`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from regua.contract import TABLES
from regua.settings import Settings, get_settings
from regua.store import Store
from reports.report import DayFrames, read_outputs

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEMO_DIR = PROJECT_DIR / "data" / "demo"
DEMO_AS_OF = date(2026, 10, 30)


@dataclass(frozen=True)
class Locations:
    """The store, the outputs folder, the MLflow tracking URI and the date a notebook reads."""

    store_dir: Path
    outputs_dir: Path
    tracking_uri: str
    as_of: date

    def store(self) -> Store:
        """The canonical store."""
        return Store(self.store_dir)

    def tables(self) -> dict[str, pl.LazyFrame]:
        """Every canonical table of the store's current version as a lazy scan."""
        store = self.store()
        return {name: store.scan(name) for name in TABLES}

    def day(self) -> DayFrames:
        """The scoring outputs for as_of (out/<as_of>/)."""
        return read_outputs(self.outputs_dir, self.as_of)


def _anchored(path: Path) -> Path:
    return path if path.is_absolute() else PROJECT_DIR / path


def _anchored_uri(uri: str) -> str:
    """A SQLite tracking URI with a relative path made absolute from the project folder."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri[len(prefix) :].startswith("/"):
        return prefix + str(PROJECT_DIR / uri[len(prefix) :])
    return uri


def notebook_locations(
    settings: Settings | None = None, environ: Mapping[str, str] | None = None
) -> Locations:
    """The locations a notebook uses: settings that were set explicitly, else the demo's."""
    settings = settings or get_settings()
    environ = os.environ if environ is None else environ
    chosen = settings.model_fields_set
    store_dir = settings.store_dir if "store_dir" in chosen else DEMO_DIR / "store"
    outputs_dir = settings.out_dir if "out_dir" in chosen else DEMO_DIR / "out"
    if environ.get("MLFLOW_TRACKING_URI") or "mlflow_tracking_uri" in chosen:
        tracking_uri = environ.get("MLFLOW_TRACKING_URI") or settings.mlflow_tracking_uri
    else:
        tracking_uri = f"sqlite:///{DEMO_DIR / 'mlflow.db'}"
    as_of = environ.get("REGUA_AS_OF")
    return Locations(
        store_dir=_anchored(Path(store_dir)),
        outputs_dir=_anchored(Path(outputs_dir)),
        tracking_uri=_anchored_uri(tracking_uri),
        as_of=date.fromisoformat(as_of) if as_of else DEMO_AS_OF,
    )
