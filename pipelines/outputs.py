"""The day's outputs on disk and in SQL: out/<as_of>/ written atomically, with its manifest.

The whole folder is written aside and swapped in, so a re-run replaces it and a crash
leaves the previous one intact. With a database URL the same tables go to SQL, replacing
that as_of's rows in one transaction. What the columns mean is declared once, in
`regua.dunning.outputs`; the manifest carries that dictionary under `columns`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from regua import features
from regua.dunning.actions import Decisions
from regua.dunning.outputs import data_dictionary
from regua.models.scoring import Champion
from regua.store import Store, write_frame_atomic, write_text_atomic


@dataclass(frozen=True)
class DayOutputs:
    """Where the day's outputs went and what the manifest says."""

    folder: Path
    manifest: dict


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_outputs(decisions: Decisions, out: Path, as_of: date, provenance: dict) -> DayOutputs:
    """Write out/<as_of>/ (actions.parquet/.csv, segments, limits, manifest) atomically."""
    out.mkdir(parents=True, exist_ok=True)
    final = out / as_of.isoformat()
    for abandoned in out.glob(f".{as_of.isoformat()}.*"):  # left by a run that was killed
        shutil.rmtree(abandoned, ignore_errors=True)
    staging = out / f".{as_of.isoformat()}.{uuid.uuid4().hex}.tmp"
    staging.mkdir()
    try:
        csv_actions = decisions.actions.with_columns(
            pl.col("top_reasons").list.join(" | "),
            pl.col("scheduled_for").dt.strftime("%Y-%m-%dT%H:%M"),
        )
        files = {
            "actions.parquet": decisions.actions,
            "actions.csv": csv_actions,
            "segments.parquet": decisions.segments,
            "limits.parquet": decisions.limits,
        }
        for name, frame in files.items():
            write_frame_atomic(frame, staging / name)
        manifest = {
            "as_of": as_of.isoformat(),
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "rows": {name: frame.height for name, frame in files.items()},
            "sha256": {name: _sha256(staging / name) for name in files},
            "actions_by_status": dict(
                decisions.actions.group_by("status").len().sort("status").iter_rows()
            ),
            **provenance,
            "columns": data_dictionary(),
        }
        write_text_atomic(json.dumps(manifest, indent=2, sort_keys=True), staging / "manifest.json")
        previous = out / f".{as_of.isoformat()}.{uuid.uuid4().hex}.old"
        if final.exists():
            os.replace(final, previous)
        os.replace(staging, final)
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return DayOutputs(final, manifest)


def write_database(decisions: Decisions, db_url: str, as_of: date) -> None:
    """Replace the as_of rows of tables regua_actions/segments/limits in one transaction."""
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    tables = {
        "regua_actions": decisions.actions.with_columns(pl.col("top_reasons").list.join(" | ")),
        "regua_segments": decisions.segments,
        "regua_limits": decisions.limits.with_columns(
            pl.col("limit_reasons").list.join(" | "),
            pl.col("reason_codes").list.join(","),
            pl.col("top_reasons").list.join(" | "),
        ),
    }
    with engine.begin() as connection:
        for name, frame in tables.items():
            if sa.inspect(connection).has_table(name):
                # A lightweight table clause: duckdb-engine cannot reflect under SQLAlchemy 2.1.
                table = sa.table(name, sa.column("as_of", sa.Date()))
                connection.execute(table.delete().where(table.c.as_of == as_of))
            frame.to_pandas().to_sql(
                name, connection, if_exists="append", index=False, dtype={"as_of": sa.Date()}
            )
    engine.dispose()


def provenance(store: Store, champions: tuple[Champion, Champion], config_dir: Path) -> dict:
    """What the day's outputs came from: store version, model versions, config hashes."""
    return {
        "store_version": store.version,
        "models": {
            champion.kind: {"version": champion.version, "run_id": champion.run_id}
            for champion in champions
        },
        "config_sha256": {path.name: _sha256(path) for path in sorted(config_dir.glob("*.yaml"))},
        "feature_catalog_version": features.CATALOG_VERSION,
    }
