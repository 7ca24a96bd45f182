"""The nightly flow: the day's exports in, the collection tools' files out.

ingest (optional) → champions loaded → the day's inputs at as_of (`dunning.day.day_inputs`)
written as partitions of customers (`dunning.partitions`, cached on the store version) →
each partition scored and decided (`dunning.day.score_and_decide`, on a Dask cluster when
one is given) → decisions merged in one canonical order → drift measured and its policy
applied (`models.drift`) → outputs written atomically, and to SQL with both replaced or
neither (`pipelines.outputs`) → the night's summary
(`dunning.summary.night_summary`) published as a table artifact.

This is the one wiring of a day: `regua nightly` and `regua score` run it, and so do the
tests. The tasks here only read, write and call the packages' functions. Nothing is
written to out/<as_of>/ until every partition has succeeded, and that folder is swapped
in whole, so a failed or killed run leaves the previous outputs as they were.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.deployments.runner import RunnerDeployment
from prefect.futures import as_completed
from prefect.runtime import flow_run
from prefect.schedules import Cron

from regua.config.drift import DriftConfig, load_drift
from regua.config.gate import load_gate
from regua.config.policy import load_policy_config
from regua.contract import TABLES
from regua.decisions.limits import read_in_force
from regua.dunning.actions import (
    Decisions,
    DunningConfig,
    ladder_steps,
    load_dunning_config,
    merge_decisions,
)
from regua.dunning.day import MAX_STALE_DAYS, day_inputs, score_and_decide
from regua.dunning.partitions import (
    CustomerRange,
    cache_folder,
    cache_key,
    plan_ranges,
    range_tables,
)
from regua.dunning.policy import CHOICE_SCHEMA, phone_worklist
from regua.dunning.summary import night_summary
from regua.features.catalog import FEATURE_NAMES
from regua.ingest.ingest import IngestReport
from regua.models.drift import DriftBreachError, DriftReport, drift_report, enforce_drift_policy
from regua.models.scoring import Champion, load_champion
from regua.models.tracking import load_reference, log_drift
from regua.pipelines.checks import require_store
from regua.pipelines.ingest import ingest_task
from regua.pipelines.outputs import DayOutputs, provenance, write_outputs
from regua.pipelines.retry import io_task
from regua.progress import stage_bar
from regua.settings import get_settings
from regua.store import Store, write_parquet_atomic, write_text_atomic

log = logging.getLogger(__name__)

NIGHTLY_TIMEZONE = "America/Sao_Paulo"
SUMMARY_KEY = "nightly-summary"
"""The key of the night's table artifact (one per run; the latest shows first)."""
FEATURE_CACHE = Path("cache") / "features"
"""Under the store root: <version>/<as_of>/<partitions>/part-NNNNN.parquet and its
open-invoices-NNNNN.parquet."""
COMPLETE = "parts.txt"
"""Written last into a partition folder: the names of its files."""


class PartitionError(RuntimeError):
    """One partition of customers could not be scored or decided: the night stops."""


@dataclass(frozen=True)
class Partition:
    """A range of customers and the files of their features and open invoices at as_of."""

    customers: CustomerRange
    path: Path
    open_invoices_path: Path

    @property
    def index(self) -> int:
        """The partition's number, from 0."""
        return self.customers.index


@dataclass
class NightlySummary:
    """What one night did: its outputs, its drift, and the table of its artifact."""

    as_of: date
    outputs: DayOutputs
    drift: DriftReport | None
    table: pl.DataFrame
    ingest: IngestReport | None = None
    seconds_by_stage: dict[str, float] = field(default_factory=dict)
    features_cached: bool = False


def default_as_of() -> date:
    """The day a 02:00 run decides for: yesterday in São Paulo."""
    return datetime.now(ZoneInfo(NIGHTLY_TIMEZONE)).date() - timedelta(days=1)


def _run_name() -> str:
    as_of = flow_run.parameters.get("as_of") or default_as_of()
    return f"nightly-{as_of}"


def _features_cache_key(_context: object, parameters: dict) -> str:
    return cache_key(
        str(Path(parameters["store_root"]).resolve()),
        parameters["version"],
        parameters["as_of"],
        parameters["partitions"],
    )


def _partition_folder(store_root: Path, version: str, as_of: date, partitions: int) -> Path:
    return cache_folder(store_root / FEATURE_CACHE, version, as_of, partitions)


def _partitions_on_disk(store_root: Path, version: str, as_of: date, partitions: int) -> bool:
    """Whether the partition files a cached result points to are all still there."""
    folder = _partition_folder(store_root, version, as_of, partitions)
    listing = folder / COMPLETE
    return listing.exists() and all((folder / n).exists() for n in listing.read_text().split())


def _prune_feature_cache(store_root: Path, keep: str) -> None:
    """Drop the cached partitions of store versions that no longer exist."""
    cache = store_root / FEATURE_CACHE
    versions = {p.name for p in (store_root / "versions").iterdir()} | {keep}
    for folder in cache.glob("*") if cache.exists() else []:
        if folder.name not in versions:
            shutil.rmtree(folder, ignore_errors=True)


@io_task(
    "build-features",
    backoff_factor=5,
    cache_key_fn=_features_cache_key,
    cache_expiration=timedelta(days=7),
)
def build_feature_partitions(
    store_root: Path, version: str, as_of: date, partitions: int, max_stale_days: int
) -> list[Partition]:
    """The day's inputs at as_of, written as `partitions` ranges of customers."""
    store = Store(store_root, version=version)
    tables = {name: store.scan(name) for name in TABLES}
    feature_table, open_invoices = day_inputs(
        tables, as_of, max_stale_days, source=f"store {store_root}"
    )
    _prune_feature_cache(store_root, keep=version)
    folder = _partition_folder(store_root, version, as_of, partitions)
    written = []
    for customers in plan_ranges(feature_table["customer_id"], partitions):
        part = Partition(
            customers,
            folder / f"part-{customers.index:05d}.parquet",
            folder / f"open-invoices-{customers.index:05d}.parquet",
        )
        write_parquet_atomic(feature_table.filter(customers.contains()), part.path)
        write_parquet_atomic(open_invoices.filter(customers.contains()), part.open_invoices_path)
        written.append(part)
    names = [p.name for part in written for p in (part.path, part.open_invoices_path)]
    write_text_atomic("\n".join(names), folder / COMPLETE)
    return written


@io_task("read-analyst-decisions", retries=3)
def read_decisions_task(decisions_db_url: str | None, as_of: date) -> pl.DataFrame:
    """The analysts' decisions in force at as_of (the workbench's database), which the
    night's limits hold to."""
    return read_in_force(decisions_db_url, as_of)


@io_task("load-champions", retries=3)
def load_champions(tracking_uri: str, require_approval: bool = False) -> tuple[Champion, Champion]:
    """Both champion models from the MLflow registry (approved ones, if required)."""
    return (
        load_champion("delinquency", tracking_uri, require_approval=require_approval),
        load_champion("propensity_to_pay", tracking_uri, require_approval=require_approval),
    )


@task(name="decide-partition", cache_policy=NO_CACHE, task_run_name="decide-{partition.index}")
def decide_partition(
    partition: Partition,
    store_root: Path,
    version: str,
    champions: tuple[Champion, Champion],
    config: DunningConfig,
    as_of: date,
    held: pl.DataFrame | None = None,
) -> Decisions:
    """Scores and decisions for one partition's customers (limits holding to `held`)."""
    try:
        store = Store(store_root, version=version)
        tables = range_tables({name: store.scan(name) for name in TABLES}, partition.customers)
        return score_and_decide(
            pl.read_parquet(partition.path),
            tables,
            champions,
            config,
            as_of,
            pl.read_parquet(partition.open_invoices_path),
            held,
        )
    except Exception as exc:
        customers = partition.customers
        raise PartitionError(
            f"partition {partition.index} (customers {customers.first_customer}.."
            f"{customers.last_customer}, features {partition.path}) failed: {exc}. Nothing "
            "was written; if the features file is damaged, re-run with --refresh-features"
        ) from exc


@io_task("measure-drift")
def drift_task(
    partitions: list[Partition],
    segments: pl.DataFrame,
    champions: tuple[Champion, Champion],
    config: DriftConfig,
    tracking_uri: str,
    as_of: date,
    macro: pl.DataFrame | None = None,
) -> DriftReport | None:
    """PSI of scores and features against the champions' reference samples at the night's
    point of the month, and the macro indicators' monthly moves, logged to MLflow."""
    references = {
        champion.kind: sample
        for champion in champions
        if (sample := load_reference(champion.run_id, tracking_uri)) is not None
    }
    if "delinquency" not in references:
        get_run_logger().warning(
            "drift not measured: delinquency champion v%s has no training sample; retrain it",
            champions[0].version,
        )
        return None
    current = pl.concat([pl.read_parquet(p.path) for p in partitions]).join(
        segments.select("customer_id", "pd", "propensity", "in_population"), on="customer_id"
    )
    report = drift_report(current, references, FEATURE_NAMES, config, as_of=as_of, macro=macro)
    log_drift(report, as_of.isoformat(), {c.kind: c.version for c in champions}, tracking_uri)
    if report.breached:
        get_run_logger().warning("drift at %s: %s", as_of, report.breach_text())
    return report


@io_task("write-outputs")
def write_outputs_task(
    decisions: Decisions,
    out: Path,
    as_of: date,
    about: dict,
    db_url: str | None,
    worklist: pl.DataFrame | None = None,
) -> DayOutputs:
    """out/<as_of>/ written aside and swapped in, and as_of's SQL rows: both or neither."""
    return write_outputs(decisions, out, as_of, about, db_url, worklist)


def night_worklist(
    decisions: Decisions, config: DunningConfig, as_of: date, capacity: int
) -> pl.DataFrame:
    """The calls of the day after as_of, cut at the phone team's capacity (worklist.parquet).
    The nightly does not run the learned policy yet: without its expected values the calls
    are ordered by the oldest debt (`dunning.policy.phone_worklist`)."""
    tomorrow = decisions.actions.filter(
        pl.col("scheduled_for").dt.date() == as_of + timedelta(days=1)
    )
    return phone_worklist(
        tomorrow, pl.DataFrame(schema=CHOICE_SCHEMA), ladder_steps(config.ladders), capacity
    )


def publish_summary(table: pl.DataFrame, as_of: date, *, stopped: bool = False) -> None:
    """The night's summary as the run's table artifact `nightly-summary`."""
    state = "stopped before its outputs" if stopped else "done"
    create_table_artifact(
        table.to_dicts(), key=SUMMARY_KEY, description=f"regua nightly {as_of}: {state}"
    )


def _feature_partitions(
    store: Path, version: str, as_of: date, partitions: int, max_stale_days: int, refresh: bool
) -> tuple[list[Partition], bool]:
    """The day's partitions (from the cache when its files are still there), and whether
    they came from the cache."""
    present = _partitions_on_disk(store, version, as_of, partitions)
    build = build_feature_partitions.with_options(refresh_cache=refresh or not present)
    built = build(store, version, as_of, partitions, max_stale_days, return_state=True)
    return built.result(), built.is_completed() and built.name == "Cached"


def _decide_partitions(
    parts: list[Partition],
    store: Path,
    version: str,
    champions: tuple[Champion, Champion],
    config: DunningConfig,
    as_of: date,
    advance: Callable[[], None],
    held: pl.DataFrame | None = None,
) -> Decisions:
    """Every partition decided as its own task (in parallel on Dask), merged in one order."""
    futures = {
        decide_partition.submit(part, store, version, champions, config, as_of, held): part.index
        for part in parts
    }
    decided: dict[int, Decisions] = {}
    for future in as_completed(list(futures)):
        decided[futures[future]] = future.result()
        advance()
    return merge_decisions([decided[i] for i in sorted(decided)])


@flow(name="nightly", flow_run_name=_run_name, log_prints=False)
def nightly_flow(
    as_of: date | None = None,
    store: Path | None = None,
    out: Path | None = None,
    raw: Path | None = None,
    db_url: str | None = None,
    partitions: int = 1,
    tracking_uri: str | None = None,
    config_dir: Path | None = None,
    max_stale_days: int = MAX_STALE_DAYS,
    refresh_features: bool = False,
    ignore: tuple[str, ...] = (),
    decisions_db_url: str | None = None,
) -> NightlySummary:
    """Ingest (when `raw` is given), score and decide at as_of, write out/<as_of>/.

    Features are cached per store version, as_of and partitioning; `refresh_features`
    rebuilds them (e.g. after a damaged file stopped a partition). `ignore`: glob patterns
    of raw-folder entries the ingest leaves unread, beside the ignore_files setting.
    `decisions_db_url`: the workbench's database (default: the decisions_db_url setting),
    whose decisions in force the limits hold to.
    """
    as_of = as_of or default_as_of()
    settings = get_settings()
    store = store or settings.store_dir
    out = out or settings.out_dir
    uri = tracking_uri or settings.mlflow_tracking_uri
    folder = config_dir or settings.config_dir
    config = load_dunning_config(folder)
    drift_config = load_drift(folder / "drift.yaml")
    clock = _Clock()
    with stage_bar(partitions + 4, f"nightly {as_of}") as advance:
        report = ingest_task(raw, store, ignore) if raw is not None else None
        advance()
        clock.lap("ingest")
        opened = require_store(store)
        version = opened.version
        champions = load_champions(uri, load_gate(folder / "gate.yaml").require_approval)
        held = read_decisions_task(decisions_db_url, as_of)
        clock.lap("champions")
        parts, cached = _feature_partitions(
            store, version, as_of, partitions, max_stale_days, refresh_features
        )
        advance()
        clock.lap("features")
        decisions = _decide_partitions(
            parts, store, version, champions, config, as_of, advance, held
        )
        clock.lap("score + decide")
        macro = opened.read("macro")
        drift = drift_task(parts, decisions.segments, champions, drift_config, uri, as_of, macro)
        advance()
        clock.lap("drift")
        summarise = functools.partial(
            night_summary, decisions, as_of, champions, drift=drift, ingest=report,
            features_cached=cached,
        )  # fmt: skip
        try:
            enforce_drift_policy(drift, as_of)
        except DriftBreachError:
            publish_summary(summarise(seconds_by_stage=clock.laps), as_of, stopped=True)
            raise
        about = provenance(Store(store, version=version), champions, folder)
        capacity = load_policy_config(folder / "policy.yaml").phone_calls_per_day
        worklist = night_worklist(decisions, config, as_of, capacity)
        outputs = write_outputs_task(decisions, out, as_of, about, db_url or None, worklist)
        advance()
        clock.lap("write")
    table = summarise(outputs=str(outputs.folder), seconds_by_stage=clock.laps)
    publish_summary(table, as_of)
    return NightlySummary(as_of, outputs, drift, table, report, clock.laps, cached)


class _Clock:
    """Seconds per stage of the flow, for the artifact and the benchmark."""

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = round(now - self._last, 2)
        self._last = now


def run_nightly(dask_address: str | None = None, **parameters: object) -> NightlySummary:
    """The nightly flow in this process, or with its partitions on a Dask cluster."""
    if not dask_address:
        return nightly_flow(**parameters)
    from prefect_dask import DaskTaskRunner

    if not os.environ.get("PREFECT_API_URL"):
        log.warning(
            "no PREFECT_API_URL: each Dask worker will start its own temporary Prefect "
            "server; point the flow and the workers at one server (see README)"
        )
    return nightly_flow.with_options(task_runner=DaskTaskRunner(address=dask_address))(**parameters)


def nightly_deployment(
    *,
    cron: str = "0 2 * * *",
    timezone: str = NIGHTLY_TIMEZONE,
    dask_address: str | None = None,
    name: str = "regua-nightly",
    **parameters: object,
) -> RunnerDeployment:
    """The nightly flow as a deployment on a cron schedule; as_of is left to each run."""
    target = nightly_flow
    if dask_address:
        from prefect_dask import DaskTaskRunner

        target = nightly_flow.with_options(task_runner=DaskTaskRunner(address=dask_address))
    return target.to_deployment(
        name=name,
        schedule=Cron(cron, timezone=timezone),
        parameters={k: str(v) if isinstance(v, Path) else v for k, v in parameters.items()},
    )
