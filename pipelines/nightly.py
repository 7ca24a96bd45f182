"""The nightly flow: the day's exports in, the collection tools' files out.

ingest (optional) → features at as_of, written as partitions of customers (cached on the
store version) → champions loaded → each partition scored and decided (on a Dask cluster
when one is given) → decisions merged in one canonical order → drift measured → outputs
written atomically (and to SQL) → a summary artifact published.

Tasks wire the pure functions of features/, models/ and dunning/ and do the I/O; the
same functions serve `pipelines.score.score_day` and the notebooks. Nothing is written
to out/<as_of>/ until every partition has succeeded, and that folder is swapped in whole,
so a failed or killed run leaves the previous outputs as they were.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.deployments.runner import RunnerDeployment
from prefect.futures import as_completed
from prefect.runtime import flow_run
from prefect.schedules import Cron

import features
from dunning.actions import Decisions, DunningConfig, merge_decisions
from features.build import build_with_open_invoices
from features.catalog import FEATURE_NAMES
from models.drift import DriftReport, drift_report
from models.scoring import Champion, load_champion
from models.tracking import load_reference, log_drift
from pipelines.ingest import ingest_markdown, ingest_task
from pipelines.retry import io_task
from pipelines.score import (
    MAX_STALE_DAYS,
    DayOutputs,
    check_as_of,
    load_dunning_config,
    provenance,
    require_customers,
    score_and_decide,
    write_database,
    write_outputs,
)
from regua.config.drift import DriftConfig, load_drift
from regua.contract import TABLES
from regua.ingest.ingest import IngestReport
from regua.progress import stage_bar
from regua.settings import get_settings
from regua.store import Store, write_parquet_atomic, write_text_atomic

log = logging.getLogger(__name__)

NIGHTLY_TIMEZONE = "America/Sao_Paulo"
CUSTOMER_TABLES = ("customers", "invoices", "payments", "contacts")
"""Tables a partition reads only its own customers' rows of (macro is shared)."""
FEATURE_CACHE = Path("cache") / "features"
"""Under the store root: features/<version>/<as_of>/<partitions>/part-NNNNN.parquet."""
COMPLETE = "parts.txt"
"""Written last into a partition folder: the names of its parts."""
PARTITION_LAYOUT = "open-invoices"
"""Part of the cache key: what a partition holds besides features (changing it rebuilds)."""


class PartitionError(RuntimeError):
    """One partition of customers could not be scored or decided: the night stops."""


class DriftBreachError(RuntimeError):
    """PSI crossed the breach threshold and config/drift.yaml says to fail."""


@dataclass(frozen=True)
class Partition:
    """A contiguous range of customers (by id) and the files of their features and open
    invoices at as_of."""

    index: int
    path: Path
    open_invoices_path: Path
    first_customer: str
    last_customer: str
    rows: int


@dataclass
class NightlySummary:
    """What one night did: the figures of its artifact."""

    as_of: date
    outputs: DayOutputs
    drift: DriftReport | None
    ingest: IngestReport | None = None
    seconds_by_stage: dict[str, float] = field(default_factory=dict)
    features_cached: bool = False


def default_as_of() -> date:
    """The day a 02:00 run decides for: yesterday in São Paulo."""
    return datetime.now(ZoneInfo(NIGHTLY_TIMEZONE)).date() - timedelta(days=1)


def _run_name() -> str:
    as_of = flow_run.parameters.get("as_of") or default_as_of()
    return f"nightly-{as_of}"


def _partition_folder(store_root: Path, version: str, as_of: date, partitions: int) -> Path:
    return store_root / FEATURE_CACHE / version / as_of.isoformat() / str(partitions)


def _features_cache_key(_context: object, parameters: dict) -> str:
    """The inputs that decide the feature partitions (the store version pins the data)."""
    root = Path(parameters["store_root"]).resolve()
    identity = f"{root}|{parameters['version']}|{parameters['as_of']}|{parameters['partitions']}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return f"regua-features-{digest}-{features.CATALOG_VERSION}-{PARTITION_LAYOUT}"


def cached_partitions_present(store_root: Path, version: str, as_of: date, partitions: int) -> bool:
    """Whether the partition files a cached result points to are all still on disk."""
    folder = _partition_folder(store_root, version, as_of, partitions)
    listing = folder / COMPLETE
    return listing.exists() and all((folder / n).exists() for n in listing.read_text().split())


@io_task(
    "build-features",
    backoff_factor=5,
    cache_key_fn=_features_cache_key,
    cache_expiration=timedelta(days=7),
)
def build_feature_partitions(
    store_root: Path, version: str, as_of: date, partitions: int, max_stale_days: int
) -> list[Partition]:
    """Point-in-time features and open invoices at as_of, split by customer id into
    `partitions` pairs of files."""
    store = Store(store_root, version=version)
    tables = {name: store.scan(name) for name in TABLES}
    check_as_of(tables, as_of, store, max_stale_days)
    table, open_invoices = build_with_open_invoices(tables, as_of)
    table = table.sort("customer_id")
    open_invoices = open_invoices.sort("customer_id", "invoice_id")
    require_customers(table, as_of, store)
    _prune_feature_cache(store_root, keep=version)
    folder = _partition_folder(store_root, version, as_of, partitions)
    count = min(partitions, table.height)
    bounds = [round(i * table.height / count) for i in range(count + 1)]
    out = []
    for index, (start, end) in enumerate(itertools.pairwise(bounds)):
        rows = table.slice(start, end - start)
        first, last = rows["customer_id"][0], rows["customer_id"][-1]
        path = folder / f"part-{index:05d}.parquet"
        open_path = folder / f"open-invoices-{index:05d}.parquet"
        write_parquet_atomic(rows, path)
        write_parquet_atomic(
            open_invoices.filter(pl.col("customer_id").is_between(pl.lit(first), pl.lit(last))),
            open_path,
        )
        out.append(Partition(index, path, open_path, first, last, rows.height))
    names = [p.name for part in out for p in (part.path, part.open_invoices_path)]
    write_text_atomic("\n".join(names), folder / COMPLETE)
    return out


def _prune_feature_cache(store_root: Path, keep: str) -> None:
    """Drop cached features of store versions that no longer exist."""
    cache = store_root / FEATURE_CACHE
    versions = {p.name for p in (store_root / "versions").iterdir()} | {keep}
    for folder in cache.glob("*") if cache.exists() else []:
        if folder.name not in versions:
            shutil.rmtree(folder, ignore_errors=True)


@io_task("load-champions", retries=3)
def load_champions(tracking_uri: str) -> tuple[Champion, Champion]:
    """Both champion models from the MLflow registry."""
    return (
        load_champion("delinquency", tracking_uri),
        load_champion("propensity_to_pay", tracking_uri),
    )


@task(name="decide-partition", cache_policy=NO_CACHE, task_run_name="decide-{partition.index}")
def decide_partition(
    partition: Partition,
    store_root: Path,
    version: str,
    champions: tuple[Champion, Champion],
    config: DunningConfig,
    as_of: date,
) -> Decisions:
    """Scores and decisions for one partition's customers."""
    try:
        feature_table = pl.read_parquet(partition.path)
        store = Store(store_root, version=version)
        in_range = pl.col("customer_id").is_between(
            pl.lit(partition.first_customer), pl.lit(partition.last_customer)
        )
        tables = {
            name: store.scan(name).filter(in_range) if name in CUSTOMER_TABLES else store.scan(name)
            for name in TABLES
        }
        open_invoices = pl.read_parquet(partition.open_invoices_path)
        return score_and_decide(feature_table, tables, champions, config, as_of, open_invoices)
    except Exception as exc:
        raise PartitionError(
            f"partition {partition.index} (customers {partition.first_customer}.."
            f"{partition.last_customer}, features {partition.path}) failed: {exc}. Nothing "
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
) -> DriftReport | None:
    """PSI of scores and features against the champions' training samples, logged to MLflow."""
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
        segments.select("customer_id", "pd", "propensity"), on="customer_id"
    )
    report = drift_report(
        current,
        references,
        FEATURE_NAMES,
        warn_above=config.warn_above,
        breach_above=config.breach_above,
        bins=config.bins,
        sample_rows=config.sample_rows,
    )
    log_drift(report, as_of.isoformat(), {c.kind: c.version for c in champions}, tracking_uri)
    if report.breached:
        get_run_logger().warning("drift at %s: %s", as_of, report.breach_text())
    return report


@io_task("write-outputs")
def write_outputs_task(decisions: Decisions, out: Path, as_of: date, about: dict) -> DayOutputs:
    """out/<as_of>/ written aside and swapped in."""
    return write_outputs(decisions, out, as_of, about)


@io_task("write-database", retries=3)
def write_database_task(decisions: Decisions, db_url: str, as_of: date) -> None:
    """The same tables in SQL, replacing as_of's rows in one transaction."""
    write_database(decisions, db_url, as_of)


def summary_markdown(summary: NightlySummary, decisions: Decisions) -> str:
    """The run's artifact: what was read, scored, decided and written, and the drift."""
    lines = [f"# Nightly {summary.as_of}", ""]
    if summary.ingest is not None:
        lines += ["## Exports", "", *ingest_markdown(summary.ingest).splitlines()[2:], ""]
    manifest = summary.outputs.manifest
    lines += [
        "## Decisions",
        "",
        f"Customers scored: **{decisions.segments.height:,}**; actions: "
        f"{decisions.actions.height:,} {manifest['actions_by_status']}; outputs in "
        f"`{summary.outputs.folder}`.",
        "",
        "| segment | customers |",
        "| --- | ---: |",
    ]
    by_segment = decisions.segments.group_by("segment").len().sort("segment")
    lines += [f"| {segment} | {n:,} |" for segment, n in by_segment.iter_rows()]
    workload = (
        decisions.actions.filter(pl.col("status") == "scheduled")
        .with_columns(pl.col("scheduled_for").dt.date().alias("day"))
        .pivot(on="channel", index="day", values="customer_id", aggregate_function="len")
        .sort("day")
        .fill_null(0)
    )
    channels = [c for c in workload.columns if c != "day"]
    lines += ["", "Scheduled actions per channel and day:", ""]
    lines += ["| day | " + " | ".join(channels) + " |", "| --- |" + " ---: |" * len(channels)]
    lines += [
        f"| {row[0]} | " + " | ".join(f"{v:,}" for v in row[1:]) + " |"
        for row in workload.iter_rows()
    ]
    lines += ["", "## Models", "", "| model | version | run |", "| --- | --- | --- |"]
    for kind, model in sorted(manifest["models"].items()):
        lines.append(f"| {kind} | {model['version']} | {model['run_id']} |")
    lines += ["", "## Drift (PSI against the training sample)", ""]
    if summary.drift is None:
        lines.append("Not measured: the champions carry no training sample (retrain them).")
    else:
        lines.append(summary.drift.markdown())
    if summary.seconds_by_stage:
        cached = "reused from the cache" if summary.features_cached else "built"
        lines += ["", f"## Time (features {cached})", "", "| stage | seconds |", "| --- | ---: |"]
        lines += [f"| {k} | {v:.1f} |" for k, v in summary.seconds_by_stage.items()]
    return "\n".join(lines) + "\n"


@flow(name="nightly", flow_run_name=_run_name, log_prints=False)
def nightly_flow(
    as_of: date | None = None,
    store: Path = Path("data/store"),
    out: Path = Path("data/out"),
    raw: Path | None = None,
    db_url: str | None = None,
    partitions: int = 1,
    tracking_uri: str | None = None,
    config_dir: Path | None = None,
    max_stale_days: int = MAX_STALE_DAYS,
    refresh_features: bool = False,
) -> NightlySummary:
    """Ingest (when `raw` is given), score and decide at as_of, write out/<as_of>/.

    Features are cached per store version, as_of and partitioning; `refresh_features`
    rebuilds them (e.g. after a damaged file stopped a partition).
    """
    as_of = as_of or default_as_of()
    settings = get_settings()
    uri = tracking_uri or settings.mlflow_tracking_uri
    folder = config_dir or settings.config_dir
    config = load_dunning_config(folder)
    drift_config = load_drift(folder / "drift.yaml")
    clock = _Clock()
    with stage_bar(partitions + 4, f"nightly {as_of}") as advance:
        report = None
        if raw is not None:
            report = ingest_task(raw, store)
        advance()
        clock.lap("ingest")
        version = Store(store).version
        if version is None:
            raise ValueError(f"store {store} is empty: run `regua ingest` first")
        champions = load_champions(uri)
        clock.lap("champions")
        present = cached_partitions_present(store, version, as_of, partitions)
        build = build_feature_partitions.with_options(refresh_cache=refresh_features or not present)
        built = build(store, version, as_of, partitions, max_stale_days, return_state=True)
        parts = built.result()
        features_cached = built.is_completed() and built.name == "Cached"
        advance()
        clock.lap("features")
        futures = {
            decide_partition.submit(part, store, version, champions, config, as_of): part.index
            for part in parts
        }
        decided: dict[int, Decisions] = {}
        for future in as_completed(list(futures)):
            decided[futures[future]] = future.result()
            advance()
        decisions = merge_decisions([decided[i] for i in sorted(decided)])
        clock.lap("score + decide")
        drift = drift_task(parts, decisions.segments, champions, drift_config, uri, as_of)
        advance()
        clock.lap("drift")
        if drift is not None and drift.breached and drift_config.on_breach == "fail":
            create_markdown_artifact(
                f"# Nightly {as_of}: stopped by drift\n\n{drift.markdown()}\n",
                key="nightly-summary",
                description=f"regua nightly {as_of}: stopped",
            )
            raise DriftBreachError(
                f"drift at {as_of}: {drift.breach_text()} (config/drift.yaml on_breach: fail); "
                "outputs not written"
            )
        about = provenance(Store(store, version=version), champions, folder)
        outputs = write_outputs_task(decisions, out, as_of, about)
        if db_url:
            write_database_task(decisions, db_url, as_of)
        advance()
        clock.lap("write")
    summary = NightlySummary(as_of, outputs, drift, report, clock.laps, features_cached)
    create_markdown_artifact(
        summary_markdown(summary, decisions),
        key="nightly-summary",
        description=f"regua nightly {as_of}",
    )
    return summary


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
