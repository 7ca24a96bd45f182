"""Scoring wiring: features at as_of, champion scores, the day's decisions, outputs.

`score_day` is what `regua score` runs (and the nightly flow of issue 7 will wrap): it
reads the store, loads the champions, calls the pure functions of features/, models/ and
dunning/, and writes `out/<as_of>/` atomically: the whole folder is written aside and
swapped in, so a re-run replaces it and a crash leaves the previous one intact. With a
database URL the same tables go to SQL, replacing that as_of's rows in one transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

import features
from dunning.actions import Decisions, DunningConfig, decide
from features.build import build_with_open_invoices
from models.scoring import Champion, load_champion, score
from models.train import observed_until
from regua.config.dunning import load_ladders, load_segments
from regua.config.guardrails import load_guardrails
from regua.config.limits import load_limits
from regua.contract import TABLES
from regua.settings import get_settings
from regua.store import Store, write_frame_atomic, write_text_atomic

log = logging.getLogger(__name__)

CONFIG_FILES = ("segments.yaml", "ladders.yaml", "guardrails.yaml", "limits.yaml")


MAX_STALE_DAYS = 3
"""How far as_of may lie beyond the last day the store covers (a weekend of no exports)."""


class NoDataError(ValueError):
    """The store holds nothing to decide on at as_of."""


def check_as_of(
    tables: Mapping[str, pl.LazyFrame], as_of: date, store: Store, max_stale_days: int
) -> None:
    """Stop when as_of lies outside the history the store holds (before it, or past it)."""
    try:
        last = observed_until(tables)
    except ValueError as exc:
        raise NoDataError(f"store {store.root}: {exc}") from exc
    first = tables["invoices"].select(pl.col("issued_at").min()).collect().item()
    if first is not None and as_of < first:
        raise NoDataError(
            f"store {store.root} holds history from {first}; as_of {as_of} is before it: "
            "nothing to decide on"
        )
    if (as_of - last).days > max_stale_days:
        raise NoDataError(
            f"store {store.root} covers up to {last}; as_of {as_of} is {(as_of - last).days} "
            f"days later: ingest the missing days' exports first, or choose an earlier as_of"
        )


def require_customers(feature_table: pl.DataFrame, as_of: date, store: Store) -> None:
    """Stop when nobody is a customer yet at as_of."""
    if feature_table.height == 0:
        raise NoDataError(f"no customer is known at {as_of} in store {store.root}")


@dataclass(frozen=True)
class DayOutputs:
    """Where the day's outputs went and what the manifest says."""

    folder: Path
    manifest: dict


def load_dunning_config(config_dir: Path | None = None) -> DunningConfig:
    """Every dunning configuration file, validated."""
    folder = config_dir or get_settings().config_dir
    ladders = load_ladders(folder / "ladders.yaml")
    return DunningConfig(
        segments=load_segments(folder / "segments.yaml", ladders),
        ladders=ladders,
        guardrails=load_guardrails(folder / "guardrails.yaml"),
        limits=load_limits(folder / "limits.yaml"),
    )


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
        "config_sha256": {name: _sha256(config_dir / name) for name in CONFIG_FILES},
        "feature_catalog_version": features.CATALOG_VERSION,
    }


def score_and_decide(
    feature_table: pl.DataFrame,
    tables: Mapping[str, pl.LazyFrame | pl.DataFrame],
    champions: tuple[Champion, Champion],
    config: DunningConfig,
    as_of: date,
    open_invoices: pl.DataFrame | None = None,
) -> Decisions:
    """Champion scores for the feature table's customers, then their decisions at as_of."""
    delinquency, propensity = champions
    scores = score(feature_table, delinquency.model, propensity.model)
    scored = feature_table.join(scores.drop("as_of"), on="customer_id")
    return decide(scored, tables, config, as_of, delinquency.model, open_invoices)


def score_day(
    store: Store | Path | str,
    as_of: date,
    out: Path,
    *,
    tracking_uri: str | None = None,
    db_url: str | None = None,
    config_dir: Path | None = None,
    max_stale_days: int = MAX_STALE_DAYS,
) -> DayOutputs:
    """Features, champion scores and decisions at as_of, written to out/<as_of>/."""
    store = store if isinstance(store, Store) else Store(store)
    if store.version is None:
        raise ValueError(f"store {store.root} is empty: run `regua ingest` first")
    folder = config_dir or get_settings().config_dir
    config = load_dunning_config(folder)
    uri = tracking_uri or get_settings().mlflow_tracking_uri
    delinquency = load_champion("delinquency", uri)
    propensity = load_champion("propensity_to_pay", uri)
    tables = {name: store.scan(name) for name in TABLES}
    check_as_of(tables, as_of, store, max_stale_days)
    table, open_invoices = build_with_open_invoices(tables, as_of)
    require_customers(table, as_of, store)
    decisions = score_and_decide(
        table, tables, (delinquency, propensity), config, as_of, open_invoices
    )
    outputs = write_outputs(
        decisions, out, as_of, provenance(store, (delinquency, propensity), folder)
    )
    if db_url:
        write_database(decisions, db_url, as_of)
    log.info("%s: %s", as_of, outputs.manifest["rows"])
    return outputs
