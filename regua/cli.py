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


@app.command()
def ingest(
    raw: Annotated[Path, typer.Option(help="Folder with the day's exports.")] = Path("data/raw"),
    store: Annotated[Path, typer.Option(help="Canonical store folder.")] = Path("data/store"),
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
    store: Annotated[Path, typer.Option(help="Canonical store folder.")] = Path("data/store"),
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
    import polars as pl

    from pipelines.train import read_labels, train_models

    kinds = ("delinquency", "propensity_to_pay") if kind == "both" else (kind,)
    trained = train_models(
        store,
        kinds,  # type: ignore[arg-type]
        last_as_of=date.fromisoformat(as_of) if as_of else None,
        snapshots=snapshots,
        out_of_time=out_of_time,
        labels=read_labels(labels) if labels else None,
        truth=pl.read_parquet(truth) if truth else None,
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


@app.command()
def score(
    as_of: Annotated[str, typer.Option(help="Day to decide for (YYYY-MM-DD).")],
    store: Annotated[Path, typer.Option(help="Canonical store folder.")] = Path("data/store"),
    out: Annotated[Path, typer.Option(help="Outputs folder; writes OUT/<as_of>/.")] = Path(
        "data/out"
    ),
    db_url: Annotated[
        str | None, typer.Option(help="Also write to SQL (SQLAlchemy URL), replacing as_of.")
    ] = None,
) -> None:
    """Score with the champion models, assign segments, ladder steps and limits at AS_OF."""
    from models.scoring import NoChampionError
    from pipelines.score import score_day
    from regua.config import ConfigError

    try:
        day = date.fromisoformat(as_of)
    except ValueError as exc:
        raise typer.BadParameter(f"--as-of must be YYYY-MM-DD: {exc}") from exc
    try:
        outputs = score_day(store, day, out, db_url=db_url)
    except (NoChampionError, ConfigError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    manifest = outputs.manifest
    typer.echo(
        f"{day}: {manifest['rows']['segments.parquet']:,} customers segmented, "
        f"{manifest['rows']['actions.parquet']:,} actions {manifest['actions_by_status']}, "
        f"limits for {manifest['rows']['limits.parquet']:,} -> {outputs.folder}"
    )


@app.command()
def features(
    as_of: Annotated[
        list[str],
        typer.Option("--as-of", help="As-of date (YYYY-MM-DD); repeat it for several snapshots."),
    ],
    out: Annotated[Path, typer.Option(help="Output file: .parquet or .csv.")],
    store: Annotated[Path, typer.Option(help="Canonical store folder.")] = Path("data/store"),
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


def main() -> None:
    """Entry point for `python -m regua`."""
    app()
