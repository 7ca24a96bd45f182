"""Every user error of every command: one line naming the thing and the rule, exit code 2.

Each case runs `python -m regua` in a subprocess, as a user would, against a tiny store,
an empty MLflow registry and folders made by the test; none of them may start a Prefect
server or print a traceback.
"""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from regua.ingest import ingest_exports
from regua.settings import Settings
from regua.store import Store
from tests.conftest import TEST_DOCUMENT_KEY, portfolio, write_exports
from tests.mounts import fill, remount_read_only, tmpfs

FIRST_DAY, LAST_DAY = "2026-08-01", "2026-09-20"
"""The history of the tiny portfolio: first invoice issued, last payment received."""


@dataclass(frozen=True)
class World:
    """Folders and stores the cases point at (all under one temporary folder)."""

    root: Path
    store: Path
    raw: Path
    registry: str


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    """A tiny ingested store, its exports, an empty MLflow registry and odd folders."""
    root = tmp_path_factory.mktemp("cli-errors")
    raw = write_exports(root / "raw", portfolio())
    ingest_exports(
        raw, root / "store", settings=Settings(document_key=TEST_DOCUMENT_KEY), build_docs=False
    )
    (root / "empty-raw").mkdir()
    (write_exports(root / "raw-with-notes", portfolio()) / "notes.txt").write_text("x")
    (root / "open-key").write_text("a-key-of-at-least-32-bytes-but-open-to-all")
    (root / "open-key").chmod(0o644)
    (root / "empty-store").mkdir()
    (root / "a-file").write_text("not a folder")
    pl.DataFrame({"customer_id": ["C1"], "as_of": ["2026-08-31"]}).write_parquet(
        root / "labels-without-label.parquet"
    )
    pl.DataFrame(
        {"customer_id": ["C1", "C2"], "as_of": ["2026-08-31", "2026-08-31"], "label": [0, 2]}
    ).write_csv(root / "labels-not-binary.csv")
    registry = f"sqlite:///{root / 'empty-mlflow.db'}"
    from mlflow import MlflowClient

    MlflowClient(tracking_uri=registry).search_experiments()  # creates the empty store
    (root / "data").mkdir()
    with sqlite3.connect(root / "stale-decisions.db") as stale:  # a migration of another regua
        stale.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        stale.execute("INSERT INTO alembic_version VALUES ('0000')")
    return World(root, root / "store", raw, registry)


@dataclass(frozen=True)
class Case:
    """A command line (with {placeholders} for World paths), its environment and its line."""

    args: tuple[str, ...]
    line: str
    environ: dict[str, str] = field(default_factory=dict)
    toml: str | None = None
    unset: tuple[str, ...] = ()

    def argv(self, world: World) -> list[str]:
        names = {
            "store": str(world.store), "raw": str(world.raw), "root": str(world.root),
        }  # fmt: skip
        return [arg.format(**names) for arg in self.args]


def run(world: World, case: Case) -> subprocess.CompletedProcess[str]:
    """`python -m regua ...` in the world's folder with a clean regua environment."""
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.upper().startswith(("REGUA_", "MLFLOW_", "PREFECT_API"))
    }
    environ |= {
        "REGUA_DOCUMENT_KEY": TEST_DOCUMENT_KEY,
        "REGUA_DATA_DIR": str(world.root / "data"),
        "MLFLOW_TRACKING_URI": world.registry,
        "PREFECT_HOME": str(world.root / "prefect"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    environ |= {k: v.format(root=world.root) for k, v in case.environ.items()}
    for name in case.unset:
        environ.pop(name)
    folder = world.root / "cwd"
    folder.mkdir(exist_ok=True)
    (folder / "regua.toml").unlink(missing_ok=True)
    if case.toml is not None:
        (folder / "regua.toml").write_text(case.toml)
    return subprocess.run(
        [sys.executable, "-m", "regua", *case.argv(world)],
        cwd=folder,
        env=environ,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


MISSING = "{root}/missing"
STORE_MISSING = (
    r"error: store .*/missing does not exist: run `regua ingest --store .*/missing` first"
)
NO_CHAMPION = (
    r"error: no champion for model 'delinquency' in sqlite:///.*/empty-mlflow\.db: "
    r"run `regua train` first"
)
BAD_DATE = r"error: --as-of '30/10/2026' is not a date: write it as YYYY-MM-DD"

CASES = {
    # a store that is not there, or holds nothing
    "train: missing store": Case(("train", "--store", MISSING), STORE_MISSING),
    "features: missing store": Case(
        ("features", "--store", MISSING, "--as-of", LAST_DAY, "--out", "{root}/f.parquet"),
        STORE_MISSING,
    ),
    "score: missing store": Case(("score", "--store", MISSING, "--as-of", LAST_DAY), STORE_MISSING),
    "nightly: missing store": Case(
        ("nightly", "--raw", "{raw}", "--store", MISSING, "--as-of", LAST_DAY), STORE_MISSING
    ),
    "report: missing store": Case(
        ("report", "--store", MISSING, "--as-of", LAST_DAY), STORE_MISSING
    ),
    "serve: missing store": Case(("serve", "--raw", "{raw}", "--store", MISSING), STORE_MISSING),
    "features: empty store": Case(
        (
            "features",
            "--store",
            "{root}/empty-store",
            "--as-of",
            LAST_DAY,
            "--out",
            "{root}/f.parquet",
        ),
        r"error: store .*/empty-store is empty \(no version committed\): run `regua ingest "
        r"--store .*/empty-store` first",
    ),
    "train: a file as store": Case(
        ("train", "--store", "{root}/a-file"),
        r"error: store .*/a-file is a file: a store is a folder made by `regua ingest`",
    ),
    "ingest: a non-store folder as store": Case(
        ("ingest", "--raw", "{raw}", "--store", "{raw}"),
        r"error: store .*/raw is not a regua store and not empty: ingest into a store, an "
        r"empty folder or a new one",
    ),
    # the day's exports
    "ingest: missing raw folder": Case(
        ("ingest", "--raw", MISSING, "--store", "{root}/new-store"),
        r"error: raw folder .*/missing does not exist: it is where the day's exports land",
    ),
    "nightly: missing raw folder": Case(
        ("nightly", "--raw", MISSING, "--store", "{store}", "--as-of", LAST_DAY),
        r"error: raw folder .*/missing does not exist",
    ),
    "serve: missing raw folder": Case(
        ("serve", "--raw", MISSING, "--store", "{store}"),
        r"error: raw folder .*/missing does not exist",
    ),
    "ingest: empty raw folder": Case(
        ("ingest", "--raw", "{root}/empty-raw", "--store", "{root}/new-store"),
        r"error: raw folder .*/empty-raw is empty: it must hold the day's exports \(customers, "
        r"invoices, payments, contacts, macro, customer_attributes as \.csv or \.parquet\)",
    ),
    "nightly: empty raw folder": Case(
        ("nightly", "--raw", "{root}/empty-raw", "--store", "{store}", "--as-of", LAST_DAY),
        r"error: raw folder .*/empty-raw is empty",
    ),
    # the registry
    "score: missing champion": Case(
        ("score", "--store", "{store}", "--as-of", LAST_DAY), NO_CHAMPION
    ),
    "nightly: missing champion": Case(
        ("nightly", "--raw", "{raw}", "--store", "{store}", "--as-of", LAST_DAY), NO_CHAMPION
    ),
    "report: missing champion": Case(
        ("report", "--store", "{store}", "--as-of", LAST_DAY), NO_CHAMPION
    ),
    "serve: missing champion": Case(("serve", "--raw", "{raw}", "--store", "{store}"), NO_CHAMPION),
    "score: registry that does not exist": Case(
        ("score", "--store", "{store}", "--as-of", LAST_DAY),
        r"error: no champion for model 'delinquency': MLflow store sqlite:///.*/none\.db does "
        r"not exist; run `regua train` first",
        environ={"MLFLOW_TRACKING_URI": "sqlite:///{root}/none.db"},
    ),
    "score: decisions database behind its migrations": Case(
        ("score", "--store", "{store}", "--as-of", LAST_DAY),
        r"error: decisions database sqlite:///.*/stale-decisions\.db is at migration 0000, "
        r"this regua needs 0001: run `regua db upgrade`",
        environ={"REGUA_DECISIONS_DB_URL": "sqlite:///{root}/stale-decisions.db"},
    ),
    # dates
    "features: bad as_of": Case(
        ("features", "--store", "{store}", "--as-of", "30/10/2026", "--out", "{root}/f.parquet"),
        BAD_DATE,
    ),
    "train: bad as_of": Case(("train", "--store", "{store}", "--as-of", "30/10/2026"), BAD_DATE),
    "score: bad as_of": Case(("score", "--store", "{store}", "--as-of", "30/10/2026"), BAD_DATE),
    "nightly: bad as_of": Case(
        ("nightly", "--raw", "{raw}", "--store", "{store}", "--as-of", "30/10/2026"), BAD_DATE
    ),
    "report: bad as_of": Case(("report", "--store", "{store}", "--as-of", "30/10/2026"), BAD_DATE),
    "simulate: bad end": Case(
        ("simulate", "--end", "2026-02-30", "--out", "{root}/sim"),
        r"error: --end '2026-02-30' is not a date: write it as YYYY-MM-DD",
    ),
    "score: as_of after the history": Case(
        ("score", "--store", "{store}", "--as-of", "2026-10-30"),
        rf"error: store .*/store covers up to {LAST_DAY}; as_of 2026-10-30 is 40 days later: "
        r"ingest the missing days' exports first, or choose an earlier as_of",
    ),
    "features: as_of before the history": Case(
        ("features", "--store", "{store}", "--as-of", "2025-12-31", "--out", "{root}/f.parquet"),
        rf"error: store .*/store holds history from {FIRST_DAY}; as_of 2025-12-31 is before it",
    ),
    "train: as_of before the history": Case(
        ("train", "--store", "{store}", "--as-of", "2025-12-31"),
        rf"error: store .*/store holds history from {FIRST_DAY}; as_of 2025-12-31 is before it",
    ),
    "score: as_of not given": Case(
        ("score", "--store", "{store}"),
        r"error: Missing option '--as-of'\. \(see `.* score --help`\)",
    ),
    # the registry's recorded promotion
    "models promote: a version the registry lacks": Case(
        ("models", "promote", "delinquency", "7", "--by", "ana.risco", "--why", "validated"),
        r"error: model 'delinquency' has no version 7$",
    ),
    "models promote: nobody approves": Case(
        ("models", "promote", "delinquency", "1", "--by", " ", "--why", "validated"),
        r"error: a promotion needs who approves it \(--by\) and why \(--why\)$",
    ),
    # settings
    "ingest: unknown key in regua.toml": Case(
        ("ingest", "--raw", "{raw}", "--store", "{root}/new-store"),
        r"error: regua\.toml: unknown key 'max_reject_shar' \(known keys: data_dir, .*\)",
        toml="max_reject_shar = 0.1\n",
    ),
    "train: unknown key in regua.toml": Case(
        ("train", "--store", "{store}"),
        r"error: regua\.toml: unknown key 'max_reject_shar'",
        toml="max_reject_shar = 0.1\n",
    ),
    "ingest: bad REGUA_MAX_REJECT_SHARE": Case(
        ("ingest", "--raw", "{raw}", "--store", "{root}/new-store"),
        r"error: environment variable REGUA_MAX_REJECT_SHARE='abc': Input should be a valid "
        r"number, unable to parse string as a number",
        environ={"REGUA_MAX_REJECT_SHARE": "abc"},
    ),
    "nightly: REGUA_MAX_REJECT_SHARE out of range": Case(
        ("nightly", "--raw", "{raw}", "--store", "{store}"),
        r"error: environment variable REGUA_MAX_REJECT_SHARE='1\.5': Input should be less than "
        r"or equal to 1",
        environ={"REGUA_MAX_REJECT_SHARE": "1.5"},
    ),
    "simulate: bad value in regua.toml": Case(
        ("simulate", "--out", "{root}/sim"),
        r"error: regua\.toml: key 'validation_batch_rows'='many': Input should be a valid "
        r"integer, unable to parse string as an integer",
        toml='validation_batch_rows = "many"\n',
    ),
    # files and folders the command reads or writes
    "train: missing labels file": Case(
        ("train", "--store", "{store}", "--labels", "{root}/labels.parquet"),
        r"error: labels file .*/labels\.parquet does not exist",
    ),
    "train: labels file without its label column": Case(
        ("train", "--store", "{store}", "--labels", "{root}/labels-without-label.parquet"),
        r"error: labels file .*/labels-without-label\.parquet: missing column\(s\) \['label'\]; "
        r"need \['customer_id', 'as_of', 'label'\]",
    ),
    "train: labels file with a label other than 0/1": Case(
        ("train", "--store", "{store}", "--labels", "{root}/labels-not-binary.csv"),
        r"error: labels file .*/labels-not-binary\.csv: column 'label' must hold only 0 and 1$",
    ),
    "train: truth file that is not Parquet": Case(
        ("train", "--store", "{store}", "--truth", "{root}/a-file"),
        r"error: truth file .*/a-file must be a \.parquet file",
    ),
    "simulate: output folder is a file": Case(
        ("simulate", "--out", "{root}/a-file"),
        r"error: output folder .*/a-file is a file, not a folder",
    ),
    "features: output of another kind": Case(
        ("features", "--store", "{store}", "--as-of", LAST_DAY, "--out", "{root}/f.xlsx"),
        r"error: --out .*/f\.xlsx must end in \.parquet or \.csv",
    ),
    "score: outputs folder inside a file": Case(
        ("score", "--store", "{store}", "--as-of", LAST_DAY, "--out", "{root}/a-file/out"),
        r"error: outputs folder .*/a-file/out cannot be created: .*/a-file is a file",
    ),
    "report: report folder is a file": Case(
        ("report", "--store", "{store}", "--as-of", LAST_DAY, "--out", "{root}/a-file"),
        r"error: report folder .*/a-file is a file, not a folder",
    ),
    "nightly: database URL that does not parse": Case(
        ("nightly", "--raw", "{raw}", "--store", "{store}", "--db-url", "not a url"),
        r"error: --db-url 'not a url' is not a usable SQLAlchemy URL",
    ),
    "serve: bad cron": Case(
        ("serve", "--raw", "{raw}", "--store", "{store}", "--cron", "0 25 * * *"),
        r"error: --cron '0 25 \* \* \*' is not a cron string",
    ),
    "serve: unknown time zone": Case(
        ("serve", "--raw", "{raw}", "--store", "{store}", "--timezone", "America/Sao_Polo"),
        r"error: --timezone 'America/Sao_Polo' is not a known time zone",
    ),
    # files of the raw folder and document keys
    "ingest: a file that matches no table": Case(
        ("ingest", "--raw", "{root}/raw-with-notes", "--store", "{root}/new-store"),
        r"ingest failed, store unchanged: file .*/raw-with-notes/notes\.txt: matches no table "
        r"\(customers, .*\); rename or remove it, or ignore it with `--ignore 'notes\.txt'` or "
        r"the ignore_files setting \[rule: unknown_file\]$",
    ),
    "ingest: a short document key": Case(
        ("ingest", "--raw", "{raw}", "--store", "{root}/new-store"),
        r"error: environment variable REGUA_DOCUMENT_KEY: a document key needs at least 32 "
        r"bytes; make one with `python -c .*`$",
        environ={"REGUA_DOCUMENT_KEY": "short"},
    ),
    "ingest: a key file open to others": Case(
        ("ingest", "--raw", "{raw}", "--store", "{root}/new-store"),
        r"error: key file .*/open-key is open to group or others \(mode 644\); a document key "
        r"file must be private: run `chmod 600 .*/open-key`$",
        environ={"REGUA_SECRET_FILE": "{root}/open-key"},
        unset=("REGUA_DOCUMENT_KEY",),
    ),
    "ingest: another document key than the store's": Case(
        ("ingest", "--raw", "{raw}", "--store", "{store}"),
        r"ingest failed, store unchanged: store .*/store: the document_key setting "
        r"\(REGUA_DOCUMENT_KEY\) is not the key its documents were hashed with \(fingerprint "
        r"\w{12}, the store's \w{12}\); use the store's key, or re-hash the store: `regua "
        r"rotate-key --raw RAW --store .*/store --new-key-file FILE` \(README, Settings\) "
        r"\[document_key\]$",
        environ={"REGUA_DOCUMENT_KEY": "another-key-of-at-least-32-bytes-0123"},
    ),
    "rotate-key: missing new key file": Case(
        ("rotate-key", "--raw", "{raw}", "--store", "{store}", "--new-key-file", "{root}/no-key"),
        r"error: key file .*/no-key: cannot read it: No such file or directory$",
    ),
    "rotate-key: new key file open to others": Case(
        ("rotate-key", "--raw", "{raw}", "--store", "{store}", "--new-key-file", "{root}/open-key"),
        r"error: key file .*/open-key is open to group or others \(mode 644\)",
    ),
    "ingest: half a CSV dialect": Case(
        ("ingest", "--raw", "{raw}", "--store", "{root}/new-store", "--separator", ";"),
        r"error: give --encoding, --separator and --decimal together, or none",
    ),
}


WRITTEN_ONLY_ON_SUCCESS = ("f.parquet", "new-store", "sim", "missing", "none.db", "data/out")
"""What the cases would create if they went ahead: none of it may appear."""


@pytest.mark.parametrize("name", list(CASES))
def test_a_user_error_is_one_line_and_exit_code_2(world, name):
    case = CASES[name]
    done = run(world, case)
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 2, lines
    assert len(lines) <= 2, lines  # no Prefect log, no traceback
    assert re.match(case.line, lines[-1]), lines[-1]
    assert [p for p in WRITTEN_ONLY_ON_SUCCESS if (world.root / p).exists()] == []


def test_an_unknown_regua_variable_is_a_warning_not_a_failure(world):
    case = Case(
        ("features", "--store", MISSING, "--as-of", LAST_DAY, "--out", "{root}/f.parquet"),
        STORE_MISSING,
        environ={"REGUA_MAX_REJECT_SHAR": "0.3"},
    )
    done = run(world, case)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2
    assert lines[0] == "warning: REGUA_MAX_REJECT_SHAR is not a regua setting; ignored"
    assert re.match(case.line, lines[-1])


# --- concurrency, full disks, read-only stores: one line, exit 2, the store intact


def _lock_waiters(lock: Path) -> int:
    """How many processes wait for the flock on `lock` (from the kernel's /proc/locks)."""
    inode = f":{lock.stat().st_ino} "
    lines = Path("/proc/locks").read_text().splitlines()
    return sum(1 for line in lines if "-> FLOCK" in line and inode in line)


def test_two_ingests_racing_on_one_store_leave_one_winner_and_one_line(world):
    store = world.root / "raced-store"
    store.mkdir()
    lock = store / ".lock"
    ingest = Case(("ingest", "--raw", "{raw}", "--store", str(store), "--no-docs"), "")
    done: list[subprocess.CompletedProcess[str]] = []
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # both read the empty store, then wait to commit
        racers = [threading.Thread(target=lambda: done.append(run(world, ingest))) for _ in "ab"]
        for racer in racers:
            racer.start()
        deadline = time.monotonic() + 180
        while _lock_waiters(lock) < 2:
            assert time.monotonic() < deadline, [d.stderr for d in done]
            time.sleep(0.1)
        fcntl.flock(held, fcntl.LOCK_UN)
    for racer in racers:
        racer.join(timeout=240)
    assert sorted(d.returncode for d in done) == [0, 2], [d.stderr for d in done]
    loser = next(d for d in done if d.returncode == 2)
    lines = loser.stderr.strip().splitlines()  # the files' log lines, then the error
    assert "Traceback" not in loser.stderr, lines
    assert re.fullmatch(
        r"error: store .*/raced-store moved from version None to \S+ while this run was "
        r"preparing \(another run committed first\); this run wrote nothing: run it again",
        lines[-1],
    ), lines[-1]
    versions = [p.name for p in (store / "versions").iterdir()]
    assert versions == [(store / "CURRENT").read_text().strip()]
    assert Store(store).row_counts()["customers"] == 3


def _customers_day(world: World, limit: str) -> Path:
    """A day's export of the tiny portfolio's customers with C1's credit limit changed."""
    customers = portfolio()["customers"].with_columns(
        pl.when(pl.col("customer_id") == "C1").then(pl.lit(limit)).otherwise("credit_limit")
        .alias("credit_limit")
    )  # fmt: skip
    return write_exports(world.root / f"raw-limit-{limit}", {"customers": customers})


def test_an_ingest_onto_a_full_disk_is_one_line_and_the_store_is_unchanged(world, tmp_path):
    with tmpfs(tmp_path / "full-disk", size="2m") as disk:
        store = disk / "store"
        first = run(
            world, Case(("ingest", "--raw", "{raw}", "--store", str(store), "--no-docs"), "")
        )
        assert first.returncode == 0, first.stderr
        version, before = Store(store).version, Store(store).read("customers")
        fill(disk)
        raw = _customers_day(world, "3100")
        done = run(world, Case(("ingest", "--raw", str(raw), "--store", str(store)), ""))
        lines = done.stderr.strip().splitlines()  # the file's log line, then the error
        assert done.returncode == 2, lines
        assert "Traceback" not in done.stderr, lines
        assert re.fullmatch(
            r"error: cannot write to store .*/full-disk/store \(No space left on device: "
            r"versions/\.staging-\S+/tables/customers\.parquet\); the store is unchanged",
            lines[-1],
        ), lines[-1]
        assert Store(store).version == version
        assert_frame_equal(Store(store).read("customers"), before)
        assert not list((store / "versions").glob(".staging-*"))


def test_an_ingest_into_a_read_only_store_is_one_line_and_the_store_is_unchanged(world, tmp_path):
    with tmpfs(tmp_path / "read-only", size="2m") as disk:
        store = disk / "store"
        first = run(
            world, Case(("ingest", "--raw", "{raw}", "--store", str(store), "--no-docs"), "")
        )
        assert first.returncode == 0, first.stderr
        version = Store(store).version
        remount_read_only(disk)
        raw = _customers_day(world, "3200")
        done = run(world, Case(("ingest", "--raw", str(raw), "--store", str(store)), ""))
        lines = (done.stdout + done.stderr).strip().splitlines()
        assert done.returncode == 2, lines
        assert lines == [f"error: store {store} is not writable"]
        assert Store(store).version == version
        assert Store(store).read("customers").height == 3
