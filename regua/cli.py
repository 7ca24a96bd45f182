"""The `regua` command line: thin wrappers over the same functions notebooks and flows call."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import typer

app = typer.Typer(
    name="regua",
    help="Default-risk scoring, segments and dunning ladders for collections.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("great_expectations", "prefect", "mlflow", "alembic", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def simulate(
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 10_000,
    months: Annotated[int, typer.Option(min=1, max=120, help="Months of history.")] = 24,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 42,
    out: Annotated[Path, typer.Option(help="Folder for the exports.")] = Path("data/raw"),
    fmt: Annotated[
        Literal["parquet", "csv"], typer.Option("--format", help="File format.")
    ] = "parquet",
    locale: Annotated[
        Literal["en", "pt_BR"],
        typer.Option(help="CSV dialect: en (comma, ISO dates, UTF-8) or pt_BR (ERP style)."),
    ] = "en",
    end: Annotated[
        str, typer.Option(help="Last day of the simulated history (YYYY-MM-DD).")
    ] = "2026-10-31",
    error_rate: Annotated[
        float,
        typer.Option(min=0.0, max=0.2, help="Share of rows with injected defects."),
    ] = 0.0,
) -> None:
    """Write a realistic simulated Brazilian portfolio (and its ground truth) to OUT."""
    from regua.simulate import SimulationConfig, simulate_portfolio

    config = SimulationConfig(
        customers=customers,
        months=months,
        seed=seed,
        end=date.fromisoformat(end),
        error_rate=error_rate,
    )
    summary = simulate_portfolio(config, out, fmt=fmt, locale=locale)
    typer.echo(summary.to_text())


StoreDir = Annotated[Path, typer.Option(help="Canonical store folder.")]
OutDir = Annotated[Path, typer.Option(help="Outputs folder; writes OUT/<as_of>/.")]


@app.command()
def ingest(
    raw: Annotated[Path, typer.Option(help="Folder with the day's exports.")] = Path("data/raw"),
    store: StoreDir = Path("data/store"),
    encoding: Annotated[
        Literal["auto", "utf-8", "latin-1"], typer.Option(help="CSV encoding.")
    ] = "auto",
    separator: Annotated[str, typer.Option(help="CSV separator, or 'auto'.")] = "auto",
    decimal: Annotated[str, typer.Option(help="Decimal mark in CSV, or 'auto'.")] = "auto",
    max_reject_share: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Stop when a file rejects more than this share."),
    ] = None,
    docs: Annotated[bool, typer.Option(help="Build Great Expectations Data Docs.")] = True,
) -> None:
    """Validate the exports in RAW and add them to the store; rejects keep their reasons."""
    from regua.ingest import Dialect, IngestError, ingest_exports
    from regua.settings import get_settings

    settings = get_settings()
    if max_reject_share is not None:
        settings = settings.model_copy(update={"max_reject_share": max_reject_share})
    dialect = None
    if "auto" not in (encoding, separator, decimal):
        dialect = Dialect(encoding=encoding, separator=separator, decimal=decimal)  # type: ignore[arg-type]
    elif {encoding, separator, decimal} != {"auto"}:
        raise typer.BadParameter("give --encoding, --separator and --decimal together, or none")
    try:
        report = ingest_exports(raw, store, settings=settings, dialect=dialect, build_docs=docs)
    except IngestError as exc:
        typer.echo(f"ingest failed, store unchanged: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(report.to_text())


@app.command()
def contract() -> None:
    """Print the data contract as Markdown (the source of data/README.md)."""
    from regua.contract import contract_markdown

    typer.echo(contract_markdown(), nl=False)


@app.command()
def train(
    store: StoreDir = Path("data/store"),
    kind: Annotated[
        Literal["delinquency", "propensity_to_pay", "both"], typer.Option(help="Model(s).")
    ] = "both",
    as_of: Annotated[
        str | None, typer.Option(help="Last snapshot (YYYY-MM-DD); default: latest labelled.")
    ] = None,
    snapshots: Annotated[int, typer.Option(min=3, help="Month-end snapshots.")] = 18,
    out_of_time: Annotated[int, typer.Option(min=1, help="Latest snapshots held out.")] = 2,
    labels: Annotated[
        Path | None, typer.Option(help="Own labels (customer_id, as_of, label), Parquet/CSV.")
    ] = None,
    truth: Annotated[
        Path | None, typer.Option(help="Simulator truth file, for the oracle AUC.")
    ] = None,
) -> None:
    """Train the models on the store, log them to MLflow and apply the champion gate."""
    from pipelines.train import train_flow

    kinds = ("delinquency", "propensity_to_pay") if kind == "both" else (kind,)
    trained = train_flow(
        store,
        kinds,  # type: ignore[arg-type]
        last_as_of=_as_of(as_of),
        snapshots=snapshots,
        out_of_time=out_of_time,
        labels=labels,
        truth=truth,
    )
    for item in trained:
        figures = item.result.evaluation
        baseline = item.result.baseline_evaluation
        oracle = item.result.oracle_auc
        typer.echo(
            f"{item.result.spec.kind}: out-of-time AUC {figures.auc:.4f} (scorecard "
            f"{baseline.auc:.4f}{f', oracle {oracle:.4f}' if oracle else ''}), KS "
            f"{figures.ks:.3f}, ECE {figures.ece:.4f}; run {item.run_id}; "
            f"v{item.decision.version} {'champion' if item.decision.promoted else 'challenger'}: "
            f"{item.decision.reason}"
        )


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of must be YYYY-MM-DD: {exc}") from exc


def _run_nightly(**parameters: object) -> None:
    """Run the nightly flow; a missing model, bad config or missing data exits 2."""
    from mlflow.exceptions import MlflowException

    from models.scoring import NoChampionError
    from pipelines.nightly import DriftBreachError, PartitionError, run_nightly
    from regua.config import ConfigError
    from regua.ingest.errors import IngestError

    try:
        summary = run_nightly(**parameters)
    except (
        NoChampionError, ConfigError, IngestError, DriftBreachError, MlflowException, ValueError
    ) as exc:  # fmt: skip
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except PartitionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    manifest = summary.outputs.manifest
    typer.echo(
        f"{summary.as_of}: {manifest['rows']['segments.parquet']:,} customers segmented, "
        f"{manifest['rows']['actions.parquet']:,} actions {manifest['actions_by_status']}, "
        f"limits for {manifest['rows']['limits.parquet']:,} -> {summary.outputs.folder}"
    )
    if summary.drift is not None:
        levels = dict(summary.drift.table.group_by("level").len().iter_rows())
        typer.echo(
            f"drift (PSI): {levels}"
            + (f"; {summary.drift.breach_text()}" if summary.drift.breached else "")
        )
    typer.echo(
        "time by stage (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in summary.seconds_by_stage.items())
    )


DaskAddress = Annotated[
    str | None,
    typer.Option(
        envvar="REGUA_DASK_ADDRESS",
        help="Run the scoring partitions on this Dask scheduler (tcp://host:8786).",
    ),
]
Partitions = Annotated[
    int, typer.Option(min=1, help="Partitions of customers scored as separate tasks.")
]
RefreshFeatures = Annotated[
    bool, typer.Option(help="Rebuild the cached features of this store version and as_of.")
]
DbUrl = Annotated[
    str | None, typer.Option(help="Also write to SQL (SQLAlchemy URL), replacing as_of.")
]


@app.command()
def nightly(
    raw: Annotated[Path, typer.Option(help="Folder of the day's exports.")] = Path("data/raw"),
    store: StoreDir = Path("data/store"),
    as_of: Annotated[
        str | None, typer.Option(help="Day to decide for (YYYY-MM-DD); default: yesterday.")
    ] = None,
    out: OutDir = Path("data/out"),
    db_url: DbUrl = None,
    partitions: Partitions = 1,
    dask_address: DaskAddress = None,
    refresh_features: RefreshFeatures = False,
) -> None:
    """Run the nightly flow once: ingest RAW, score, decide and write OUT/<as_of>/."""
    _run_nightly(
        as_of=_as_of(as_of), raw=raw, store=store, out=out, db_url=db_url,
        partitions=partitions, dask_address=dask_address, refresh_features=refresh_features,
    )  # fmt: skip


@app.command()
def score(
    as_of: Annotated[str, typer.Option(help="Day to decide for (YYYY-MM-DD).")],
    store: StoreDir = Path("data/store"),
    out: OutDir = Path("data/out"),
    db_url: DbUrl = None,
    partitions: Partitions = 1,
    dask_address: DaskAddress = None,
    refresh_features: RefreshFeatures = False,
) -> None:
    """The nightly flow from the features on, on what the store already holds."""
    _run_nightly(
        as_of=_as_of(as_of), store=store, out=out, db_url=db_url, partitions=partitions,
        dask_address=dask_address, refresh_features=refresh_features,
    )  # fmt: skip


@app.command()
def serve(
    raw: Annotated[Path, typer.Option(help="Folder of the day's exports.")] = Path("data/raw"),
    store: StoreDir = Path("data/store"),
    out: Annotated[Path, typer.Option(help="Outputs folder.")] = Path("data/out"),
    cron: Annotated[str, typer.Option(help="When to run (cron).")] = "0 2 * * *",
    timezone: Annotated[str, typer.Option(help="Time zone of the cron.")] = "America/Sao_Paulo",
    db_url: DbUrl = None,
    partitions: Partitions = 1,
    dask_address: DaskAddress = None,
) -> None:
    """Serve the nightly flow on a schedule (Prefect); each run decides for yesterday."""
    from prefect import serve as prefect_serve

    from pipelines.nightly import nightly_deployment

    deployment = nightly_deployment(
        cron=cron, timezone=timezone, raw=raw, store=store, out=out, db_url=db_url,
        partitions=partitions, dask_address=dask_address,
    )  # fmt: skip
    typer.echo(f"serving {deployment.name}: {cron} ({timezone}); Ctrl+C stops")
    prefect_serve(deployment)


@app.command()
def features(
    as_of: Annotated[
        list[str],
        typer.Option("--as-of", help="As-of date (YYYY-MM-DD); repeat it for several snapshots."),
    ],
    out: Annotated[Path, typer.Option(help="Output file: .parquet or .csv.")],
    store: StoreDir = Path("data/store"),
) -> None:
    """Build the point-in-time feature table at each AS_OF from the store and write it to OUT."""
    import time

    from features import build
    from regua.store import write_frame_atomic

    try:
        dates = [date.fromisoformat(d) for d in as_of]
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of must be YYYY-MM-DD: {exc}") from exc
    if out.suffix not in (".parquet", ".csv"):
        raise typer.BadParameter("--out must end in .parquet or .csv")
    started = time.perf_counter()
    table = build(store, dates)
    write_frame_atomic(table, out)
    typer.echo(
        f"{table.height:,} rows x {table.width - 2} features at {len(dates)} as-of date(s) "
        f"-> {out} in {time.perf_counter() - started:.1f} s"
    )


@app.command("features-doc")
def features_doc() -> None:
    """Print the feature catalog as Markdown (the source of docs/features.md)."""
    from features import catalog_markdown

    typer.echo(catalog_markdown(), nl=False)


@app.command()
def report(
    as_of: Annotated[str, typer.Option(help="Day to report on (YYYY-MM-DD).")],
    store: Annotated[
        Path | None, typer.Option(help="Canonical store folder; default: settings' store_dir.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the report; default: <settings' data_dir>/reports."),
    ] = None,
    outputs: Annotated[
        Path | None,
        typer.Option(help="Scoring outputs holding <as_of>/; default: settings' out_dir."),
    ] = None,
) -> None:
    """Write the portfolio report at AS_OF as one HTML file: aging, roll rates, vintages,
    scores, segments, ladder workload, limit changes and model health."""
    from mlflow.exceptions import MlflowException

    from models.scoring import NoChampionError
    from regua.config import ConfigError
    from regua.settings import get_settings
    from reports.html import write_report
    from reports.report import OutputsMissingError, build_report

    try:
        day = date.fromisoformat(as_of)
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of must be YYYY-MM-DD: {exc}") from exc
    settings = get_settings()
    folder = out or settings.data_dir / "reports"
    try:
        portfolio = build_report(store or settings.store_dir, outputs or settings.out_dir, day)
    except (NoChampionError, OutputsMissingError, ConfigError, MlflowException, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    path = write_report(portfolio, folder / f"portfolio-{day.isoformat()}.html")
    typer.echo(
        f"{day}: portfolio report ({len(portfolio.tables)} tables, {len(portfolio.charts)} "
        f"charts) -> {path}"
    )


def main() -> None:
    """Entry point for `python -m regua`."""
    app()
