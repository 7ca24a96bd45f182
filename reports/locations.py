"""Where a notebook finds its data: the store, outputs and MLflow store of the regua settings.

A notebook calls `notebook_locations()` once. The locations are the settings' (`regua.toml`
or `REGUA_CONFIG`, `REGUA_DATA_DIR`, `REGUA_STORE_DIR`, `REGUA_OUT_DIR`,
`MLFLOW_TRACKING_URI`, ...), nothing else; the date is `REGUA_AS_OF`, else the latest day
with scoring outputs, else the last day the store covers. Jupyter starts a kernel in the
notebook's folder and relative paths count from there, so give absolute ones: after
`make demo`, start Jupyter with `REGUA_DATA_DIR=$PWD/data/demo`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from regua.contract import TABLES
from regua.features.ledger import observed_until
from regua.reports.report import DayFrames, read_outputs
from regua.settings import Settings, get_settings
from regua.store import Store

AS_OF_VARIABLE = "REGUA_AS_OF"


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


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def latest_day(store_dir: Path, outputs_dir: Path) -> date:
    """The latest as_of with scoring outputs, else the last day the store covers."""
    scored = [
        day
        for manifest in outputs_dir.glob("*/manifest.json")
        if (day := _iso_day(manifest.parent.name)) is not None
    ]
    if scored:
        return max(scored)
    store = Store(store_dir)
    if store.version is not None:
        return observed_until({name: store.scan(name) for name in TABLES})
    raise ValueError(
        f"no date to look at: {outputs_dir} holds no scoring outputs and {store_dir} no "
        f"store; set {AS_OF_VARIABLE}=YYYY-MM-DD, or point the settings at your data "
        "(e.g. REGUA_DATA_DIR)"
    )


def notebook_locations(
    settings: Settings | None = None, environ: Mapping[str, str] | None = None
) -> Locations:
    """The locations of the settings and the date a notebook looks at."""
    settings = settings or get_settings()
    environ = os.environ if environ is None else environ
    store_dir, outputs_dir = settings.store_dir.absolute(), settings.out_dir.absolute()
    text = environ.get(AS_OF_VARIABLE)
    if text:
        as_of = _iso_day(text)
        if as_of is None:
            raise ValueError(f"{AS_OF_VARIABLE}={text!r} is not a date: write it as YYYY-MM-DD")
    else:
        as_of = latest_day(store_dir, outputs_dir)
    return Locations(store_dir, outputs_dir, settings.mlflow_tracking_uri, as_of)
