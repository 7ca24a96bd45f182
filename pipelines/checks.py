"""Pre-flight checks: what a command or flow needs before it starts anything.

Each check is a plain function that returns quietly or raises `CheckError` with one line
naming the file, folder, date or model and the rule it breaks ("does not exist" is not
"is empty"). The CLI runs them before any Prefect server starts, so a user error costs
no server start and prints no traceback; the flows may call them too. Heavy libraries
(polars scans aside) are imported only by the checks that need them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl

from regua.contract import TABLES
from regua.store import Store

STORE_ENTRIES = frozenset({"CURRENT", "versions", "cache"})
"""What a store folder holds (besides hidden files such as its lock)."""


class CheckError(ValueError):
    """A user error found by a check: one line naming the thing and the rule."""


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _visible(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".")]


def parse_day(text: str, what: str = "--as-of") -> date:
    """`text` as a date; it must be written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CheckError(f"{what} {text!r} is not a date: write it as YYYY-MM-DD") from None


def require_store(path: Path) -> Store:
    """The store at `path`, which must exist and hold a committed version."""
    hint = f"run `regua ingest --store {path}` first"
    if not path.exists():
        raise CheckError(f"store {path} does not exist: {hint}")
    if not path.is_dir():
        raise CheckError(f"store {path} is a file: a store is a folder made by `regua ingest`")
    store = Store(path)
    version = store.version
    if version is None:
        if {p.name for p in _visible(path)} <= STORE_ENTRIES:
            raise CheckError(f"store {path} is empty (no version committed): {hint}")
        raise CheckError(
            f"store {path} is not a regua store (no CURRENT file): point --store at the "
            "folder `regua ingest` wrote"
        )
    if not (path / "versions" / version).is_dir():
        raise CheckError(f"store {path}: CURRENT names version {version}, which is missing")
    return store


def require_store_target(path: Path) -> None:
    """`path` can receive an ingest: a store, an empty folder, or a folder yet to be made."""
    if not path.exists():
        require_writable_folder(path, "store")
        return
    if not path.is_dir():
        raise CheckError(f"store {path} is a file: a store is a folder")
    if Store(path).version is None and not {p.name for p in _visible(path)} <= STORE_ENTRIES:
        raise CheckError(
            f"store {path} is not a regua store and not empty: ingest into a store, an empty "
            "folder or a new one"
        )
    require_writable_folder(path, "store")


def require_raw_folder(path: Path, *, may_be_empty: bool = False) -> None:
    """The folder of the day's exports exists (and, unless `may_be_empty`, holds files)."""
    if not path.exists():
        raise CheckError(f"raw folder {path} does not exist: it is where the day's exports land")
    if not path.is_dir():
        raise CheckError(f"raw folder {path} is a file: give the folder that holds the exports")
    if may_be_empty:
        return
    entries = _visible(path)
    if not any(p.is_file() for p in entries):
        state = "holds only folders" if entries else "is empty"
        raise CheckError(
            f"raw folder {path} {state}: it must hold the day's exports "
            f"({', '.join(TABLES)} as .csv or .parquet)"
        )


def require_writable_folder(path: Path, what: str) -> None:
    """`path` is a folder this process may write in, or one it may create."""
    if path.exists():
        if not path.is_dir():
            raise CheckError(f"{what} {path} is a file, not a folder")
        if not os.access(path, os.W_OK | os.X_OK):
            raise CheckError(f"{what} {path} is not writable")
        return
    ancestor = next(p for p in path.absolute().parents if p.exists())
    if not ancestor.is_dir():
        raise CheckError(f"{what} {path} cannot be created: {ancestor} is a file")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise CheckError(f"{what} {path} cannot be created: {ancestor} is not writable")


def require_writable_file(path: Path, what: str, suffixes: Sequence[str]) -> None:
    """`path` names a file of one of `suffixes` that can be written (its folder is made)."""
    if path.suffix not in suffixes:
        raise CheckError(f"{what} {path} must end in {' or '.join(suffixes)}")
    if path.is_dir():
        raise CheckError(f"{what} {path} is a folder, not a file")
    require_writable_folder(path.parent, f"folder of {what}")


def require_table_file(
    path: Path, what: str, suffixes: Sequence[str] = (".parquet", ".csv")
) -> None:
    """A Parquet (or CSV) file that exists and can be read."""
    if not path.exists():
        raise CheckError(f"{what} {path} does not exist")
    if not path.is_file():
        raise CheckError(f"{what} {path} is a folder, not a file")
    if path.suffix not in suffixes:
        raise CheckError(f"{what} {path} must be a {' or '.join(suffixes)} file")
    kind = "Parquet" if path.suffix == ".parquet" else "CSV"
    try:
        if kind == "Parquet":
            pl.read_parquet_schema(path)
        else:
            pl.scan_csv(path).collect_schema()
    except Exception as exc:  # polars raises several types for an unreadable file
        raise CheckError(f"{what} {path} cannot be read as {kind}: {_first_line(exc)}") from exc


def require_labels_file(path: Path) -> None:
    """A data scientist's own labels: a readable file that passes `check_label_table`."""
    require_table_file(path, "labels file")
    from regua.models.labels import check_label_table
    from regua.pipelines.train import read_labels

    try:
        check_label_table(read_labels(path), source=f"labels file {path}")
    except (ValueError, pl.exceptions.PolarsError) as exc:
        raise CheckError(_first_line(exc)) from exc


def require_as_of_in_history(store: Store, as_of: date) -> None:
    """as_of lies within the store's history: the rule of `regua.dunning.day.check_as_of`."""
    from regua.features.ledger import NoDataError, check_as_of

    tables = {name: store.scan(name) for name in TABLES}
    try:
        check_as_of(tables, as_of, source=f"store {store.root}")
    except NoDataError as exc:
        raise CheckError(str(exc)) from exc


def _local_path(uri: str) -> Path | None:
    """The file or folder behind a local tracking URI (sqlite or file store), else None."""
    if uri.startswith("sqlite:///"):
        return Path(uri.removeprefix("sqlite:///"))
    if uri.startswith("file://"):
        return Path(uri.removeprefix("file://"))
    return Path(uri) if "://" not in uri else None


def require_tracking_folder(uri: str) -> None:
    """A local SQLite MLflow store can be created: its folder exists (MLflow makes no folder)."""
    if not uri.startswith("sqlite:///"):
        return
    folder = Path(uri.removeprefix("sqlite:///")).parent
    if not folder.is_dir():
        raise CheckError(
            f"MLflow store {uri}: folder {folder} does not exist; create it, or set "
            "MLFLOW_TRACKING_URI or REGUA_DATA_DIR"
        )


def require_champions(
    tracking_uri: str, kinds: Sequence[str] | None = None, *, require_approval: bool = False
) -> None:
    """Each model kind (default: every kind) has a champion in the MLflow registry, and,
    with `require_approval`, one whose promotion is recorded (who, when, why)."""
    if kinds is None:
        from regua.models.train import MODEL_KINDS

        kinds = MODEL_KINDS
    path = _local_path(tracking_uri)
    if path is not None and not path.exists():
        raise CheckError(
            f"no champion for model {kinds[0]!r}: MLflow store {tracking_uri} does not exist; "
            "run `regua train` first (or set MLFLOW_TRACKING_URI)"
        )
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from regua.models.registry import CHAMPION, approval_of
    from regua.models.scoring import unapproved_text

    client = MlflowClient(tracking_uri=tracking_uri)
    for kind in kinds:
        try:
            version = str(client.get_model_version_by_alias(kind, CHAMPION).version)
        except MlflowException as exc:
            raise CheckError(
                f"no champion for model {kind!r} in {tracking_uri}: run `regua train` first"
            ) from exc
        if require_approval and approval_of(client, kind, version) is None:
            raise CheckError(unapproved_text(kind, version))


def require_config(config_dir: Path) -> None:
    """Every configuration file validates (a bad one names its file and key)."""
    from regua.config import ConfigError, load_labels
    from regua.config.drift import load_drift
    from regua.config.dunning import load_ladders, load_segments
    from regua.config.gate import load_gate
    from regua.config.guardrails import load_guardrails
    from regua.config.ledger import load_ledger
    from regua.config.limits import load_limits

    try:
        load_labels(config_dir / "labels.yaml")
        load_ledger(config_dir / "ledger.yaml")
        ladders = load_ladders(config_dir / "ladders.yaml")
        load_segments(config_dir / "segments.yaml", ladders)
        load_guardrails(config_dir / "guardrails.yaml")
        load_limits(config_dir / "limits.yaml")
        load_drift(config_dir / "drift.yaml")
        load_gate(config_dir / "gate.yaml")
    except ConfigError as exc:
        raise CheckError(str(exc)) from exc


def require_database_url(url: str) -> None:
    """A SQLAlchemy URL that parses and whose driver is installed."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise CheckError(f"--db-url {url!r} is not a usable SQLAlchemy URL: {exc}") from exc


def require_schedule(cron: str, timezone: str) -> None:
    """A valid cron string and a known IANA time zone."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CheckError(
            f"--timezone {timezone!r} is not a known time zone (e.g. America/Sao_Paulo)"
        ) from None
    from prefect.schedules import Cron

    try:
        Cron(cron, timezone=timezone)
    except ValueError:
        raise CheckError(
            f"--cron {cron!r} is not a cron string (five fields: minute hour day month "
            "weekday, e.g. '0 2 * * *')"
        ) from None


def require_decisions_current(url: str | None = None) -> None:
    """The workbench's decisions database, when there is one, is at this regua's migrations
    (the night holds to its decisions); none at all is fine (no workbench)."""
    from regua.decisions.db import (
        DatabaseError,
        current_revision,
        database_url,
        make_engine,
        require_current,
        sqlite_file,
    )

    url = database_url(url)
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return
    engine = make_engine(url)
    try:
        if current_revision(engine) is not None:
            require_current(engine)
    except DatabaseError as exc:
        raise CheckError(str(exc)) from exc
    except Exception as exc:
        where = engine.url.render_as_string(hide_password=True)
        raise CheckError(f"decisions database {where}: cannot read it: {exc}") from exc
    finally:
        engine.dispose()
