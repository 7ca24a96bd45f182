"""The day's outputs under failure: files and SQL are both replaced or neither, a crash at
any rename leaves outputs the next run recovers, and a full disk or an unwritable database
ends `regua score` with one line while the previous outputs stand."""

from __future__ import annotations

import errno
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from regua.dunning.actions import Decisions
from regua.pipelines.outputs import (
    OutputsNotWrittenError,
    recover_outputs,
    swap_back_steps,
    swap_steps,
    write_outputs,
)
from tests.mounts import fill, tmpfs

AS_OF = date(2026, 10, 30)
DAY = AS_OF.isoformat()


def decisions(step: str, customers: int = 2) -> Decisions:
    """A hand-made day: one scheduled action of `step` per customer, a segment and a limit."""
    ids = [f"C{i}" for i in range(customers)]
    return Decisions(
        actions=pl.DataFrame(
            {
                "as_of": [AS_OF] * customers,
                "customer_id": ids,
                "invoice_id": [f"I{i}" for i in range(customers)],
                "invoice_ids": [[f"I{i}"] for i in range(customers)],
                "invoice_amounts": [[100.0]] * customers,
                "invoice_due_dates": [[date(2026, 10, 1)]] * customers,
                "step_id": [step] * customers,
                "status": ["scheduled"] * customers,
                "scheduled_for": [datetime(2026, 10, 31, 9)] * customers,
                "top_reasons": [["atraso recente"]] * customers,
                "payment_reasons": [["promessas quebradas"]] * customers,
            }
        ),
        segments=pl.DataFrame(
            {"as_of": [AS_OF] * customers, "customer_id": ids, "segment": [step] * customers}
        ),
        limits=pl.DataFrame(
            {
                "as_of": [AS_OF] * customers,
                "customer_id": ids,
                "limit_reasons": [["renda"]] * customers,
                "reason_codes": [["R1"]] * customers,
                "top_reasons": [["renda"]] * customers,
            }
        ),
    )


def steps_in_folder(out: Path) -> set[str]:
    """The steps of the actions file in out/<as_of> (which day's decisions it holds)."""
    return set(pl.read_parquet(out / DAY / "actions.parquet")["step_id"])


def steps_in_database(db: str) -> list[str]:
    """The steps of as_of's rows in SQL, sorted."""
    engine = sa.create_engine(db)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT step_id FROM regua_actions")).scalars()
        steps = sorted(rows)
    engine.dispose()
    return steps


def hidden(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith("."))


def test_a_rerun_replaces_the_folder_and_the_rows_together(tmp_path):
    out, db = tmp_path / "out", f"sqlite:///{tmp_path}/regua.db"
    write_outputs(decisions("email"), out, AS_OF, {}, db)
    written = write_outputs(decisions("sms"), out, AS_OF, {}, db)
    assert written.folder == out / DAY
    assert steps_in_folder(out) == {"sms"}
    assert steps_in_database(db) == ["sms", "sms"]
    assert hidden(out) == []


def test_a_database_in_a_missing_folder_replaces_neither(tmp_path):
    out = tmp_path / "out"
    write_outputs(decisions("email"), out, AS_OF, {})
    db = f"sqlite:///{tmp_path}/missing/regua.db"
    with pytest.raises(OutputsNotWrittenError) as raised:
        write_outputs(decisions("sms"), out, AS_OF, {}, db)
    assert str(raised.value) == (
        f"database {db} could not take the rows of {DAY} (unable to open database file): "
        f"nothing was replaced, {out / DAY} and the database keep the previous outputs"
    )
    assert steps_in_folder(out) == {"email"}
    assert hidden(out) == []
    assert not (tmp_path / "missing").exists()


def test_a_database_locked_by_another_writer_replaces_neither(tmp_path):
    out, path = tmp_path / "out", tmp_path / "regua.db"
    db = f"sqlite:///{path}?timeout=0.2"
    write_outputs(decisions("email"), out, AS_OF, {}, db)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        with pytest.raises(OutputsNotWrittenError, match=r"\(database is locked\): nothing was"):
            write_outputs(decisions("sms"), out, AS_OF, {}, db)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert steps_in_folder(out) == {"email"}
    assert steps_in_database(db) == ["email", "email"]
    assert hidden(out) == []


def test_a_commit_refused_after_the_swap_puts_the_previous_folder_back(tmp_path):
    out, path = tmp_path / "out", tmp_path / "regua.db"
    db = f"sqlite:///{path}?timeout=0.2"
    write_outputs(decisions("email"), out, AS_OF, {}, db)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM regua_actions").fetchone()  # holds a shared lock
    try:
        with pytest.raises(OutputsNotWrittenError) as raised:
            write_outputs(decisions("sms"), out, AS_OF, {}, db)
    finally:
        reader.execute("ROLLBACK")
        reader.close()
    assert str(raised.value).startswith(f"database sqlite:///{path}?timeout=0.2 could not commit")
    assert str(raised.value).endswith(
        f"(database is locked): nothing was replaced, {out / DAY} and the database keep the "
        "previous outputs"
    )
    assert steps_in_folder(out) == {"email"}
    assert steps_in_database(db) == ["email", "email"]
    assert hidden(out) == []


def test_a_crash_between_the_renames_is_recovered_by_the_next_run(tmp_path):
    out = tmp_path / "out"
    write_outputs(decisions("email"), out, AS_OF, {})
    os.replace(out / DAY, out / f".{DAY}.abc.old")  # the state a crash leaves, by hand
    shutil.copytree(out / f".{DAY}.abc.old", out / f".{DAY}.def.tmp")
    db = f"sqlite:///{tmp_path}/missing/regua.db"
    with pytest.raises(OutputsNotWrittenError):
        write_outputs(decisions("sms"), out, AS_OF, {}, db)  # the next run fails, yet
    assert steps_in_folder(out) == {"email"}  # the previous outputs are back
    assert hidden(out) == []
    write_outputs(decisions("sms"), out, AS_OF, {})
    assert steps_in_folder(out) == {"sms"}


@pytest.mark.parametrize("undone", [False, True], ids=["swap", "swap-back"])
def test_a_crash_at_any_rename_leaves_outputs_the_next_run_recovers(tmp_path, undone):
    for crash_after in range(3):
        out = tmp_path / f"{'back' if undone else 'swap'}-{crash_after}"
        write_outputs(decisions("email"), out, AS_OF, {})
        write_outputs(decisions("sms"), tmp_path / "next", AS_OF, {})
        staging, previous = out / f".{DAY}.n.tmp", out / f".{DAY}.p.old"
        shutil.copytree(tmp_path / "next" / DAY, staging)
        steps = swap_steps(out / DAY, staging, previous)
        if undone:
            for step in steps:
                step()
            steps = swap_back_steps(out / DAY, previous, out / f".{DAY}.d.tmp")
        for step in steps[:crash_after]:
            step()  # then the process dies
        recover_outputs(out, AS_OF)
        # the new outputs once the swap is done and until the swap-back starts; else the old
        new = crash_after == 0 if undone else crash_after == 2
        assert steps_in_folder(out) == ({"sms"} if new else {"email"}), (undone, crash_after)
        assert pl.read_parquet(out / DAY / "segments.parquet").height == 2
        write_outputs(decisions("call"), out, AS_OF, {})
        assert steps_in_folder(out) == {"call"}
        assert hidden(out) == [], (undone, crash_after)


def test_a_full_outputs_disk_names_the_file_and_keeps_files_and_rows(tmp_path):
    db = f"sqlite:///{tmp_path}/regua.db"
    with tmpfs(tmp_path / "disk", size="512k") as disk:
        out = disk / "out"
        write_outputs(decisions("email"), out, AS_OF, {}, db)
        fill(disk)
        with pytest.raises(OSError) as raised:
            write_outputs(decisions("sms", customers=20_000), out, AS_OF, {}, db)
        assert raised.value.errno == errno.ENOSPC
        assert re.fullmatch(rf"{out}/\.{DAY}\.\w+\.tmp/actions\.parquet", raised.value.filename)
        assert steps_in_folder(out) == {"email"}
        assert hidden(out) == []
    assert steps_in_database(db) == ["email", "email"]


# --- through the CLI, with the champions the session trained


def _score(store: Path, out: Path, tracking: str, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "regua", "score", "--store", str(store), "--as-of", DAY,
               "--out", str(out), *extra]  # fmt: skip
    environ = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    return subprocess.run(
        command, env=environ, capture_output=True, text=True, timeout=600, check=False
    )


def _checksums(folder: Path) -> dict[str, int]:
    return {p.name: hash(p.read_bytes()) for p in sorted(folder.iterdir())}


def test_score_to_an_unwritable_database_is_one_line_and_replaces_nothing(
    store, trained, tracking, scored, prefect_api, tmp_path
):
    out = tmp_path / "out"
    shutil.copytree(scored / DAY, out / DAY)
    before = _checksums(out / DAY)
    db = f"sqlite:///{tmp_path}/missing/regua.db"
    done = _score(store / "store", out, tracking, "--db-url", db)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, lines
    assert lines[-1] == (
        f"error: database {db} could not take the rows of {DAY} (unable to open database "
        f"file): nothing was replaced, {out / DAY} and the database keep the previous outputs"
    )
    assert _checksums(out / DAY) == before
    assert hidden(out) == []


def test_score_onto_a_full_outputs_disk_is_one_line_and_keeps_the_outputs(
    store, trained, tracking, scored, prefect_api, tmp_path
):
    size = sum(p.stat().st_size for p in (scored / DAY).iterdir())
    with tmpfs(tmp_path / "disk", size=f"{size // 1024 + 64}k") as disk:
        out = disk / "out"
        shutil.copytree(scored / DAY, out / DAY)
        before = _checksums(out / DAY)
        done = _score(store / "store", out, tracking)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2, done.stderr[-3000:]
        assert "Traceback" not in done.stderr, lines
        assert re.fullmatch(
            rf"error: cannot write to outputs folder {out} \(No space left on device: "
            rf"\.{DAY}\.\w+\.tmp/\S+\); the outputs in {out}/{DAY} are unchanged",
            lines[-1],
        ), lines[-1]
        assert _checksums(out / DAY) == before
        assert hidden(out) == []
