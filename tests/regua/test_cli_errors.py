"""Every user error of every command: one line naming the thing and the rule, exit code 2.

Each case runs `python -m regua` in a subprocess, as a user would, against a tiny store,
an empty MLflow registry and folders made by the test; none of them may start a Prefect
server or print a traceback.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest

from regua.ingest import ingest_exports
from regua.settings import Settings
from tests.conftest import portfolio, write_exports

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
    ingest_exports(raw, root / "store", settings=Settings(document_key="k"), build_docs=False)
    (root / "empty-raw").mkdir()
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
    return World(root, root / "store", raw, registry)


@dataclass(frozen=True)
class Case:
    """A command line (with {placeholders} for World paths), its environment and its line."""

    args: tuple[str, ...]
    line: str
    environ: dict[str, str] = field(default_factory=dict)
    toml: str | None = None

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
        "REGUA_DOCUMENT_KEY": "k",
        "REGUA_DATA_DIR": str(world.root / "data"),
        "MLFLOW_TRACKING_URI": world.registry,
        "PREFECT_HOME": str(world.root / "prefect"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    environ |= {k: v.format(root=world.root) for k, v in case.environ.items()}
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
        r"invoices, payments, contacts, macro as \.csv or \.parquet\)",
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
