"""The day's outputs on disk and in SQL: out/<as_of>/ and its SQL rows, both replaced or neither.

The folder is written aside (a hidden `.<as_of>.<id>.tmp`), then swapped in by two renames:
the previous folder aside as `.<as_of>.<id>.old`, the new one into place. With a database
URL, the same tables replace that as_of's rows in one transaction that is opened before the
swap and committed after it; if the SQL write or its commit fails, the transaction is rolled
back and the previous folder put back, so files and database never disagree.

A crash between the two renames leaves `<as_of>` missing and the previous outputs in the
`.old` folder: `recover_outputs` (run by the next write, and by the portfolio report) puts
them back, so a crash at any point leaves either the previous outputs or the new ones.
What the columns mean is declared once, in `regua.dunning.outputs`; the manifest carries
that dictionary under `columns`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from regua import features
from regua.dunning.actions import Decisions
from regua.dunning.outputs import FEEDBACK_LOOP, data_dictionary, flat_actions
from regua.models.scoring import Champion
from regua.store import Store, disk_errors, write_frame_atomic, write_text_atomic

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger(__name__)


class OutputsNotWrittenError(RuntimeError):
    """The database could not take the day's rows; the message says what each side holds."""


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


def recover_outputs(out: Path, as_of: date) -> Path:
    """out/<as_of>, put back from its hidden `.old` folder if a crash stopped the swap midway."""
    final = out / as_of.isoformat()
    hidden = sorted(out.glob(f".{as_of.isoformat()}.*.old"), key=lambda p: p.stat().st_mtime)
    if not final.exists() and hidden:
        os.replace(hidden[-1], final)
        log.warning("outputs %s recovered from %s, left by a run that stopped", final, hidden[-1])
    return final


def swap_steps(final: Path, staging: Path, previous: Path) -> list[Callable[[], None]]:
    """The renames that put `staging` in place of `final` (kept as `previous`), in order.

    Each step is one rename; a crash between any two leaves a state `recover_outputs` turns
    back into a complete out/<as_of>.
    """
    return [
        lambda: os.replace(final, previous) if final.exists() else None,
        lambda: os.replace(staging, final),
    ]


def swap_back_steps(final: Path, previous: Path, discarded: Path) -> list[Callable[[], None]]:
    """The renames that undo `swap_steps`: the new folder aside as `discarded`, `previous` back."""
    return [
        lambda: os.replace(final, discarded),
        lambda: os.replace(previous, final) if previous.exists() else None,
    ]


def write_outputs(
    decisions: Decisions,
    out: Path,
    as_of: date,
    provenance: dict,
    db_url: str | None = None,
    worklist: pl.DataFrame | None = None,
) -> DayOutputs:
    """Write out/<as_of>/ (actions.parquet/.csv, segments, limits, with `worklist` the
    phone work list worklist.parquet, and the manifest) and, with `db_url`, replace
    as_of's rows in SQL: both are replaced, or neither.

    Raises `OSError` (naming the file) when the folder cannot be written, and
    `OutputsNotWrittenError` when the database cannot; the previous outputs stand in both.
    """
    with disk_errors(out):
        out.mkdir(parents=True, exist_ok=True)
    final = recover_outputs(out, as_of)
    for abandoned in out.glob(f".{as_of.isoformat()}.*"):  # left by a run that was killed
        shutil.rmtree(abandoned, ignore_errors=True)
    staging = out / f".{as_of.isoformat()}.{uuid.uuid4().hex}.tmp"
    previous = out / f".{as_of.isoformat()}.{uuid.uuid4().hex}.old"
    try:
        manifest = _stage(decisions, staging, as_of, provenance, worklist)
        if db_url is None:
            _run(swap_steps(final, staging, previous))
        else:
            _publish_with_database(decisions, db_url, as_of, final, staging, previous)
        shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        recover_outputs(out, as_of)  # a rename that failed midway leaves <as_of> missing
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return DayOutputs(final, manifest)


def _run(steps: list[Callable[[], None]]) -> None:
    for step in steps:
        step()


def _stage(
    decisions: Decisions,
    staging: Path,
    as_of: date,
    provenance: dict,
    worklist: pl.DataFrame | None = None,
) -> dict:
    """Write every file of the day, and last its manifest, into `staging`."""
    with disk_errors(staging):
        staging.mkdir()
    csv_actions = flat_actions(decisions.actions).with_columns(
        pl.col("scheduled_for").dt.strftime("%Y-%m-%dT%H:%M"),
    )
    files = {
        "actions.parquet": decisions.actions,
        "actions.csv": csv_actions,
        "segments.parquet": decisions.segments,
        "limits.parquet": decisions.limits,
    }
    if worklist is not None:
        files["worklist.parquet"] = worklist
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
        "feedback_loop": FEEDBACK_LOOP,
        "columns": data_dictionary(),
    }
    write_text_atomic(json.dumps(manifest, indent=2, sort_keys=True), staging / "manifest.json")
    return manifest


def _publish_with_database(
    decisions: Decisions, db_url: str, as_of: date, final: Path, staging: Path, previous: Path
) -> None:
    """SQL rows written in an open transaction, the folder swapped in, then the commit.

    A failure before the commit rolls the transaction back (closing the connection does) and
    leaves or puts back the previous folder.
    """
    import sqlalchemy as sa
    from sqlalchemy.exc import SQLAlchemyError

    engine = sa.create_engine(db_url)
    database = f"database {engine.url.render_as_string(hide_password=True)}"
    failed = "could not take"
    try:
        with engine.connect() as connection:
            transaction = connection.begin()
            _replace_rows(connection, decisions, as_of)
            _run(swap_steps(final, staging, previous))
            failed = "could not commit"
            try:
                transaction.commit()
            except SQLAlchemyError as exc:
                _swap_back(final, previous, database, exc)
                raise
    except SQLAlchemyError as exc:
        raise OutputsNotWrittenError(
            f"{database} {failed} the rows of {as_of} ({_reason(exc)}): nothing was "
            f"replaced, {final} and the database keep the previous outputs"
        ) from exc
    finally:
        engine.dispose()


def _swap_back(final: Path, previous: Path, database: str, error: Exception) -> None:
    """Put the previous folder back after the database refused its commit."""
    discarded = final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")
    try:
        _run(swap_back_steps(final, previous, discarded))
    except OSError as exc:
        raise OutputsNotWrittenError(
            f"{database} could not commit the rows of {final.name} ({_reason(error)}) and the "
            f"previous files could not be put back ({exc}): {final} holds the new outputs, the "
            "database the previous ones; run again"
        ) from exc
    shutil.rmtree(discarded, ignore_errors=True)


def _reason(error: Exception) -> str:
    """The driver's own words (e.g. 'database is locked'), without SQLAlchemy's statement."""
    return str(getattr(error, "orig", None) or error).splitlines()[0]


def _replace_rows(connection: Connection, decisions: Decisions, as_of: date) -> None:
    """Replace the as_of rows of tables regua_actions/segments/limits, uncommitted."""
    import sqlalchemy as sa

    tables = {
        "regua_actions": flat_actions(decisions.actions),
        "regua_segments": decisions.segments,
        "regua_limits": decisions.limits.with_columns(
            pl.col("limit_reasons").list.join(" | "),
            pl.col("reason_codes").list.join(","),
            pl.col("top_reasons").list.join(" | "),
        ),
    }
    for name, frame in tables.items():
        if sa.inspect(connection).has_table(name):
            # A lightweight table clause: duckdb-engine cannot reflect under SQLAlchemy 2.1.
            table = sa.table(name, sa.column("as_of", sa.Date()))
            connection.execute(table.delete().where(table.c.as_of == as_of))
        frame.to_pandas().to_sql(
            name, connection, if_exists="append", index=False, dtype={"as_of": sa.Date()}
        )


NIGHT_CONFIG_FILES = (
    "cases.yaml", "charges.yaml", "drift.yaml", "gate.yaml", "guardrails.yaml", "ingest.yaml",
    "labels.yaml", "ladders.yaml", "ledger.yaml", "limits.yaml", "segments.yaml",
)  # fmt: skip
"""The configuration a night's outputs depend on, hashed into the manifest (the twin's
parameters, say, are not)."""


def provenance(store: Store, champions: tuple[Champion, Champion], config_dir: Path) -> dict:
    """What the day's outputs came from: store version, model versions, config hashes."""
    return {
        "store_version": store.version,
        "models": {
            champion.kind: {"version": champion.version, "run_id": champion.run_id}
            for champion in champions
        },
        "config_sha256": {
            name: _sha256(config_dir / name)
            for name in NIGHT_CONFIG_FILES
            if (config_dir / name).exists()
        },
        "feature_catalog_version": features.CATALOG_VERSION,
    }
