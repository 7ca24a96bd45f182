"""The `regua` command line: thin wrappers over the same functions notebooks and flows call.

Every default comes from `regua.settings` (validated at start-up, before any command).
A user error, whether found by the pre-flight checks (`regua.pipelines.checks`) before any
Prefect server starts or raised inside a flow, ends the command with one line on stderr
and exit code 2; a bug keeps its traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer

if TYPE_CHECKING:
    from regua.settings import Settings

app = typer.Typer(
    name="regua",
    help="Default-risk scoring, segments and dunning ladders for collections.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RUN_FAILURE = (
    "Encountered exception during execution",
    "Finished in state Failed",
    "Finished in state Crashed",
    "Task run failed with",
)
"""How Prefect starts its log of a failed run or task (the CLI replaces it with one line; a
bug still ends with its traceback, raised out of the command)."""


class _PrefectOnTheTerminal(logging.Filter):
    """Keeps Prefect's messages below `level`, and its report of a failed run with the
    traceback, off the terminal; its own API handler still sends them to the Prefect UI."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "prefect" and not record.name.startswith("prefect."):
            return True
        if record.name.startswith(("prefect.flow_runs", "prefect.task_runs")) and str(
            record.msg
        ).startswith(RUN_FAILURE):
            return False
        return record.levelno >= self.level


def _configure_logging(verbose: bool, prefect_level: int) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_PrefectOnTheTerminal(prefect_level))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    for noisy in ("great_expectations", "mlflow", "alembic", "httpx", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _fail(error: BaseException, code: int = 2, prefix: str = "error") -> NoReturn:
    """Print `error` as one line on stderr and leave with `code`."""
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    typer.echo(f"{prefix}: {text or type(error).__name__}", err=True)
    raise typer.Exit(code) from error


@contextmanager
def _one_line(*kinds: type[BaseException]) -> Iterator[None]:
    """A `CheckError`, or an error of one of `kinds`, ends the command with one line, exit 2."""
    from regua.pipelines.checks import CheckError

    try:
        yield
    except (CheckError, *kinds) as exc:
        _fail(exc)


@contextmanager
def _disk_errors(**folders: tuple[Path, str]) -> Iterator[None]:
    """A full disk, a read-only mount or a refused write ends the command with one line:
    the folder (`what=(folder, what stays unchanged when it fails)`) and the system's reason."""
    from regua.store import DISK_ERRORS

    try:
        yield
    except OSError as exc:
        if exc.errno not in DISK_ERRORS:
            raise
        written = Path(exc.filename).absolute() if exc.filename else None
        where, unchanged = next(
            (
                (
                    f"{what.replace('_', ' ')} {folder} ({exc.strerror}: "
                    f"{written.relative_to(folder.absolute())})",
                    unchanged,
                )
                for what, (folder, unchanged) in folders.items()
                if written is not None and written.is_relative_to(folder.absolute())
            ),
            (f"{written or 'a file'} ({exc.strerror})", "nothing was replaced"),
        )
        _fail(RuntimeError(f"cannot write to {where}; {unchanged}"))


@app.callback()
def _main(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Configure logging and validate the settings before any command runs."""
    serving = ctx.invoked_subcommand == "serve"
    _configure_logging(verbose, logging.INFO if verbose or serving else logging.WARNING)
    from regua.settings import SettingsError, get_settings, unknown_variables

    for name in unknown_variables():
        typer.echo(f"warning: {name} is not a regua setting; ignored", err=True)
    try:
        get_settings()
    except SettingsError as exc:
        _fail(exc)


def _settings() -> Settings:
    """The settings the callback validated (cached)."""
    from regua.settings import get_settings

    return get_settings()


@app.command()
def simulate(
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 10_000,
    months: Annotated[int, typer.Option(min=1, max=120, help="Months of history.")] = 24,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 42,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the exports; default: the raw_dir setting.")
    ] = None,
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
    from regua.pipelines.checks import parse_day, require_writable_folder

    folder = out or _settings().raw_dir
    with _one_line():
        last_day = parse_day(end, "--end")
        require_writable_folder(folder, "output folder")
    from regua.simulate import SimulationConfig, simulate_portfolio

    config = SimulationConfig(
        customers=customers, months=months, seed=seed, end=last_day, error_rate=error_rate
    )
    summary = simulate_portfolio(config, folder, fmt=fmt, locale=locale)
    typer.echo(summary.to_text())


StoreDir = Annotated[
    Path | None, typer.Option(help="Canonical store folder; default: the store_dir setting.")
]
OutDir = Annotated[
    Path | None,
    typer.Option(help="Outputs folder, written as OUT/<as_of>/; default: the out_dir setting."),
]
RawDir = Annotated[
    Path | None,
    typer.Option(help="Folder of the day's exports; default: the raw_dir setting."),
]
IgnorePatterns = Annotated[
    list[str] | None,
    typer.Option(
        "--ignore",
        help="Glob pattern of raw-folder entries to leave unread (repeat it; added to the "
        "ignore_files setting). Any other entry that matches no table stops the ingest.",
    ),
]


def _check_document_key(settings: Settings) -> None:
    """The document key is long enough and its file private (one line, exit 2, if not)."""
    from regua.settings import SettingsError

    with _one_line(SettingsError):
        settings.document_key_bytes()


ProfileOption = Annotated[
    Path | None,
    typer.Option(
        help="Mapping profile of the company's export (profiles/<name>.yaml, or a shipped "
        "name such as erp_br); default: the profile setting."
    ),
]


@app.command()
def ingest(
    raw: RawDir = None,
    store: StoreDir = None,
    encoding: Annotated[
        Literal["auto", "utf-8", "latin-1"], typer.Option(help="CSV encoding.")
    ] = "auto",
    separator: Annotated[str, typer.Option(help="CSV separator, or 'auto'.")] = "auto",
    decimal: Annotated[str, typer.Option(help="Decimal mark in CSV, or 'auto'.")] = "auto",
    max_reject_share: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Stop when a file rejects more than this share; default: the "
            "max_reject_share setting.",
        ),
    ] = None,
    docs: Annotated[bool, typer.Option(help="Build Great Expectations Data Docs.")] = True,
    ignore: IgnorePatterns = None,
    profile: ProfileOption = None,
) -> None:
    """Validate the exports in RAW and add them to the store; rejects keep their reasons."""
    from regua.pipelines.checks import CheckError, require_raw_folder, require_store_target

    settings = _settings()
    raw, store = raw or settings.raw_dir, store or settings.store_dir
    with _one_line():
        if {encoding, separator, decimal} != {"auto"} and "auto" in (encoding, separator, decimal):
            raise CheckError("give --encoding, --separator and --decimal together, or none")
        require_raw_folder(raw)
        require_store_target(store)
    _check_document_key(settings)
    from regua.config.profile import ConfigError, load_profile
    from regua.ingest import Dialect, IngestError, ingest_exports

    with _one_line(ConfigError):
        mapping = load_profile(profile or settings.profile) if profile or settings.profile else None

    if max_reject_share is not None:
        settings = settings.model_copy(update={"max_reject_share": max_reject_share})
    dialect = None
    if "auto" not in (encoding, separator, decimal):
        dialect = Dialect(encoding=encoding, separator=separator, decimal=decimal)  # type: ignore[arg-type]
    from regua.store import StaleVersionError

    try:
        with (
            _disk_errors(store=(store, "the store is unchanged")),
            _one_line(StaleVersionError, ConfigError),
        ):
            report = ingest_exports(
                raw, store, settings=settings, dialect=dialect, build_docs=docs,
                ignore=ignore or (), profile=mapping,
            )  # fmt: skip
    except IngestError as exc:
        _fail(exc, prefix="ingest failed, store unchanged")
    typer.echo(report.to_text())


@app.command("rotate-key")
def rotate_key(
    new_key_file: Annotated[
        Path,
        typer.Option(help="File holding the new key: at least 32 bytes, private (mode 600)."),
    ],
    raw: Annotated[
        Path | None,
        typer.Option(
            help="Folder with the customers export(s) holding every stored customer's "
            "document; default: the raw_dir setting."
        ),
    ] = None,
    store: StoreDir = None,
    ignore: IgnorePatterns = None,
    profile: ProfileOption = None,
) -> None:
    """Re-hash the store's CPF/CNPJ with a new key, from the documents in RAW's customers
    export(s); the current key must be the store's. Writes one new store version."""
    from regua.config.profile import ConfigError, load_profile
    from regua.pipelines.checks import require_raw_folder, require_store
    from regua.settings import SettingsError, read_key_file

    settings = _settings()
    raw, store = raw or settings.raw_dir, store or settings.store_dir
    with _one_line(SettingsError, ConfigError):
        chosen = profile or settings.profile
        mapping = load_profile(chosen) if chosen else None
        require_raw_folder(raw)
        require_store(store)
        old_key = settings.document_key_bytes()
        new_key = read_key_file(new_key_file)
    from regua.ingest import IngestError
    from regua.ingest.rotate import rotate_document_key

    try:
        rotation = rotate_document_key(
            raw, store, old_key=old_key, new_key=new_key,
            old_key_origin=settings.document_key_origin(), ignore=ignore or (),
            **({"profile": mapping} if mapping else {}),
        )  # fmt: skip
    except IngestError as exc:
        _fail(exc, prefix="rotation failed, store unchanged")
    typer.echo(rotation.to_text())
    typer.echo(
        f"next: move {new_key_file} to {settings.secret_file} (or set REGUA_DOCUMENT_KEY to "
        "its content) before the next ingest, and keep the old key no longer"
    )


@app.command()
def contract() -> None:
    """Print the data contract as Markdown (the source of data/README.md)."""
    from regua.contract import contract_markdown

    typer.echo(contract_markdown(), nl=False)


@app.command()
def train(
    store: StoreDir = None,
    kind: Annotated[
        Literal["delinquency", "propensity_to_pay", "both"], typer.Option(help="Model(s).")
    ] = "both",
    as_of: Annotated[
        str | None, typer.Option(help="Last snapshot (YYYY-MM-DD); default: latest labelled.")
    ] = None,
    snapshots: Annotated[int, typer.Option(min=3, help="Monthly snapshots.")] = 18,
    out_of_time: Annotated[
        int, typer.Option(min=1, help="Latest months held out (at their month-ends).")
    ] = 2,
    days_per_month: Annotated[
        int,
        typer.Option(
            min=1,
            max=14,
            help="Days each training month is seen on, each customer on one (1: month-ends).",
        ),
    ] = 10,
    labels: Annotated[
        Path | None, typer.Option(help="Own labels (customer_id, as_of, label), Parquet/CSV.")
    ] = None,
    truth: Annotated[
        Path | None, typer.Option(help="Simulator truth file, for the oracle AUC.")
    ] = None,
    auto_promote: Annotated[
        bool,
        typer.Option(
            "--auto-promote",
            help="Make a version that passes the gate champion now (recorded as approved by "
            "auto-promote); without it, promote with `regua models promote`.",
        ),
    ] = False,
) -> None:
    """Train the models on the store, log them to MLflow and apply the champion gate."""
    from regua.pipelines import checks

    settings = _settings()
    store = store or settings.store_dir
    with _one_line():
        last_as_of = checks.parse_day(as_of) if as_of else None
        opened = checks.require_store(store)
        if labels is not None:
            checks.require_labels_file(labels)
        if truth is not None:
            checks.require_table_file(truth, "truth file", suffixes=(".parquet",))
        checks.require_tracking_folder(settings.mlflow_tracking_uri)
        checks.require_config(settings.config_dir)
        checks.require_writable_folder(settings.reports_dir, "report folder")
        if last_as_of is not None:
            checks.require_as_of_in_history(opened, last_as_of)
    from mlflow.exceptions import MlflowException

    from regua.pipelines.train import train_flow

    kinds = ("delinquency", "propensity_to_pay") if kind == "both" else (kind,)
    with _one_line(ValueError, MlflowException):
        trained = train_flow(
            store,
            kinds,  # type: ignore[arg-type]
            last_as_of=last_as_of,
            snapshots=snapshots,
            out_of_time=out_of_time,
            labels=labels,
            truth=truth,
            tracking_uri=settings.mlflow_tracking_uri,
            auto_promote=auto_promote,
            days_per_month=days_per_month,
        )
    from regua.pipelines.train import decision_word

    for item in trained:
        figures = item.result.evaluation
        baseline = item.result.baseline_evaluation
        oracle = item.result.oracle_auc
        typer.echo(
            f"{item.result.spec.kind}: out-of-time AUC {figures.auc:.4f} (scorecard "
            f"{baseline.auc:.4f}{f', oracle {oracle:.4f}' if oracle else ''}), KS "
            f"{figures.ks:.3f}, ECE {figures.ece:.4f}; run {item.run_id}; "
            f"v{item.decision.version} {decision_word(item.decision)}: {item.decision.reason}"
        )
        if item.decision.passed and not item.decision.promoted:
            typer.echo(
                f"  to make it champion: regua models promote {item.decision.model_name} "
                f"{item.decision.version} --by WHO --why TEXT"
            )
    _validation_packs(trained, settings)


def _validation_packs(trained: list, settings: Settings) -> None:
    """Write each model's validation pack to the reports folder and log it to its run."""
    from mlflow import MlflowClient

    from regua.models.validation import validation_pack
    from regua.pipelines.train import decision_word
    from regua.reports.validation import render_validation_pack, write_validation_pack

    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    for item in trained:
        result, decision = item.result, item.decision
        html = render_validation_pack(
            validation_pack(result),
            version=decision.version,
            run_id=item.run_id,
            gate=f"{decision_word(decision)}: {decision.reason}",
            dates={
                "train_dates": result.train_dates,
                "test_dates": result.test_dates,
                "train_rows": result.train_rows,
                "test_rows": result.test_rows,
            },
        )
        name = f"validation-{decision.model_name}-v{decision.version}.html"
        path = write_validation_pack(html, settings.reports_dir / name)
        client.log_artifact(item.run_id, str(path))
        typer.echo(f"  validation pack: {path} (also in run {item.run_id})")


models_app = typer.Typer(
    help="The model registry: promote a version to champion with a recorded approval.",
    no_args_is_help=True,
)
app.add_typer(models_app, name="models")


@models_app.command("promote")
def models_promote(
    name: Annotated[
        Literal["delinquency", "propensity_to_pay"], typer.Argument(help="Registered model.")
    ],
    version: Annotated[str, typer.Argument(help="Version to make champion.")],
    by: Annotated[str, typer.Option("--by", help="Who approves (recorded).")],
    why: Annotated[str, typer.Option("--why", help="Why (recorded).")],
    over_gate: Annotated[
        bool,
        typer.Option("--over-gate", help="Promote a version the gate failed (recorded)."),
    ] = False,
) -> None:
    """Make VERSION of NAME the champion and record who approved it, when and why."""
    from regua.pipelines import checks

    settings = _settings()
    with _one_line():
        checks.require_tracking_folder(settings.mlflow_tracking_uri)
    from mlflow import MlflowClient

    from regua.models.registry import PromotionError, champion_version, promote

    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    with _one_line(PromotionError):
        before = champion_version(client, name)
        approval = promote(client, name, version, by=by, why=why, over_gate=over_gate)
    typer.echo(
        f"{name} v{version} is champion (was {f'v{before}' if before else 'none'}); approved by "
        f"{approval.approved_by} at {approval.approved_at}: {approval.approval_reason}"
    )


@models_app.command("recalibrate")
def models_recalibrate(
    name: Annotated[
        Literal["delinquency", "propensity_to_pay"], typer.Argument(help="Registered model.")
    ],
    store: StoreDir = None,
    auto_promote: Annotated[
        bool,
        typer.Option("--auto-promote", help="Make the recalibrated version champion if it passes."),
    ] = False,
) -> None:
    """Monthly calibration policy: refit the champion's calibrator (config/gate.yaml
    recalibration_method) on the latest matured month-end, as a new gated version."""
    from regua.pipelines import checks

    settings = _settings()
    store = store or settings.store_dir
    with _one_line():
        checks.require_store(store)
        checks.require_config(settings.config_dir)
        checks.require_champions(settings.mlflow_tracking_uri, (name,))
    from mlflow.exceptions import MlflowException

    from regua.pipelines.train import decision_word, recalibrate_champion

    with _one_line(ValueError, MlflowException):
        _, run_id, decision = recalibrate_champion(
            store, name, tracking_uri=settings.mlflow_tracking_uri, auto_promote=auto_promote
        )
    typer.echo(
        f"{name} v{decision.version} (recalibrated, run {run_id}) {decision_word(decision)}: "
        f"{decision.reason}"
    )


def _check_scoring(
    *,
    store: Path,
    out: Path,
    as_of: str | None,
    raw: Path | None = None,
    db_url: str | None = None,
    raw_may_be_empty: bool = False,
) -> None:
    """Pre-flight of the commands that score: data, date, output folder, config, champions."""
    from regua.pipelines import checks

    settings = _settings()
    with _one_line():
        day = checks.parse_day(as_of) if as_of is not None else None
        if raw is not None:
            checks.require_raw_folder(raw, may_be_empty=raw_may_be_empty)
            _check_document_key(settings)
        opened = checks.require_store(store)
        checks.require_writable_folder(out, "outputs folder")
        if db_url:
            checks.require_database_url(db_url)
        checks.require_config(settings.config_dir)
        if day is not None and raw is None:  # the night's exports may extend the history
            checks.require_as_of_in_history(opened, day)
        from regua.config.gate import load_gate

        checks.require_decisions_current()
        checks.require_champions(
            settings.mlflow_tracking_uri,
            require_approval=load_gate(settings.config_dir / "gate.yaml").require_approval,
        )


def _run_nightly(as_of: str | None, **parameters: object) -> None:
    """Run the nightly flow; a user error inside it ends with one line and exit 2."""
    from mlflow.exceptions import MlflowException

    from regua.config import ConfigError
    from regua.ingest.errors import IngestError
    from regua.models.drift import DriftBreachError
    from regua.models.scoring import NoChampionError
    from regua.pipelines.checks import parse_day
    from regua.pipelines.nightly import PartitionError, run_nightly
    from regua.pipelines.outputs import OutputsNotWrittenError
    from regua.store import StaleVersionError

    store, out = parameters["store"], parameters["out"]
    outputs = f"the outputs in {out}/{as_of or '<as_of>'}" + (
        " and the database" if parameters.get("db_url") else ""
    )
    kinds = (NoChampionError, ConfigError, IngestError, DriftBreachError, MlflowException)
    try:
        with (
            _disk_errors(
                store=(store, f"the store's tables and {outputs} are unchanged"),
                outputs_folder=(out, f"{outputs} are unchanged"),
            ),
            _one_line(*kinds, StaleVersionError, OutputsNotWrittenError, ValueError),
        ):
            summary = run_nightly(
                as_of=parse_day(as_of) if as_of else None,
                tracking_uri=_settings().mlflow_tracking_uri,
                **parameters,
            )
    except PartitionError as exc:
        _fail(exc, code=1)
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
        help="Run the scoring partitions on this Dask scheduler (tcp://host:8786); default: "
        "the dask_address setting."
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
    raw: RawDir = None,
    store: StoreDir = None,
    as_of: Annotated[
        str | None, typer.Option(help="Day to decide for (YYYY-MM-DD); default: yesterday.")
    ] = None,
    out: OutDir = None,
    db_url: DbUrl = None,
    partitions: Partitions = 1,
    dask_address: DaskAddress = None,
    refresh_features: RefreshFeatures = False,
    ignore: IgnorePatterns = None,
) -> None:
    """Run the nightly flow once: ingest RAW, score, decide and write OUT/<as_of>/."""
    settings = _settings()
    raw, store, out = raw or settings.raw_dir, store or settings.store_dir, out or settings.out_dir
    _check_scoring(store=store, out=out, as_of=as_of, raw=raw, db_url=db_url)
    _run_nightly(
        as_of, raw=raw, store=store, out=out, db_url=db_url, partitions=partitions,
        dask_address=dask_address or settings.dask_address, refresh_features=refresh_features,
        ignore=tuple(ignore or ()),
    )  # fmt: skip


@app.command()
def score(
    as_of: Annotated[str, typer.Option(help="Day to decide for (YYYY-MM-DD).")],
    store: StoreDir = None,
    out: OutDir = None,
    db_url: DbUrl = None,
    partitions: Partitions = 1,
    dask_address: DaskAddress = None,
    refresh_features: RefreshFeatures = False,
) -> None:
    """The nightly flow from the features on, on what the store already holds."""
    settings = _settings()
    store, out = store or settings.store_dir, out or settings.out_dir
    _check_scoring(store=store, out=out, as_of=as_of, db_url=db_url)
    _run_nightly(
        as_of, store=store, out=out, db_url=db_url, partitions=partitions,
        dask_address=dask_address or settings.dask_address, refresh_features=refresh_features,
    )  # fmt: skip


@app.command()
def serve(
    raw: RawDir = None,
    store: StoreDir = None,
    out: OutDir = None,
    cron: Annotated[str, typer.Option(help="When to run (cron).")] = "0 2 * * *",
    timezone: Annotated[str, typer.Option(help="Time zone of the cron.")] = "America/Sao_Paulo",
    db_url: DbUrl = None,
    partitions: Partitions = 1,
    dask_address: DaskAddress = None,
) -> None:
    """Serve the nightly flow on a schedule (Prefect); each run decides for yesterday."""
    from regua.pipelines.checks import require_schedule

    settings = _settings()
    raw, store, out = raw or settings.raw_dir, store or settings.store_dir, out or settings.out_dir
    with _one_line():
        require_schedule(cron, timezone)
    _check_scoring(store=store, out=out, as_of=None, raw=raw, db_url=db_url, raw_may_be_empty=True)
    from prefect import serve as prefect_serve

    from regua.pipelines.nightly import nightly_deployment

    deployment = nightly_deployment(
        cron=cron, timezone=timezone, raw=raw, store=store, out=out, db_url=db_url,
        partitions=partitions, dask_address=dask_address or settings.dask_address,
    )  # fmt: skip
    typer.echo(f"serving {deployment.name}: {cron} ({timezone}); Ctrl+C stops")
    prefect_serve(deployment)


@app.command()
def evidence(
    customer: Annotated[str, typer.Option(help="Customer id, as in the customers export.")],
    store: StoreDir = None,
    out: OutDir = None,
) -> None:
    """Print a customer's collection history: every decision with the rules it passed, and
    the contacts reported (no document in clear)."""
    from regua.pipelines import checks

    settings = _settings()
    store, out = store or settings.store_dir, out or settings.out_dir
    with _one_line():
        opened = checks.require_store(store)
        nights = sorted(out.glob("*/actions.parquet")) if out.is_dir() else []
        if not nights:
            raise checks.CheckError(f"{out}: no night's actions.parquet to read (run nightly)")
    import polars as pl

    from regua.dunning.evidence import customer_contacts, customer_decisions, evidence_text

    actions = pl.scan_parquet(nights, missing_columns="insert", extra_columns="ignore")
    with _one_line(pl.exceptions.PolarsError):
        decisions = customer_decisions(actions, customer)
        contacts = customer_contacts(opened.scan("contacts"), customer)
        if decisions.is_empty() and contacts.is_empty():
            raise checks.CheckError(
                f"customer {customer}: no decision in {out} and no contact in {store}"
            )
    typer.echo(evidence_text(customer, decisions, contacts), nl=False)


@app.command("explain")
def explain_customer(
    customer: Annotated[str, typer.Option(help="Customer id, as in the customers export.")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Day of the scores (YYYY-MM-DD); default: the store's last."),
    ] = None,
    store: StoreDir = None,
) -> None:
    """Print a customer's scores and the reasons of both champion models, in Portuguese
    (LGPD art. 20: anyone may ask why an automated decision was made about them)."""
    from regua.pipelines import checks

    settings = _settings()
    store = store or settings.store_dir
    with _one_line():
        opened = checks.require_store(store)
        day = checks.parse_day(as_of) if as_of else None
        if day is not None:
            checks.require_as_of_in_history(opened, day)
        checks.require_config(settings.config_dir)
        checks.require_champions(settings.mlflow_tracking_uri)
    import polars as pl

    from regua.config import load_labels
    from regua.contract import TABLES
    from regua.features import build_from_frames
    from regua.features.ledger import observed_until
    from regua.models.explain import customer_explanation
    from regua.models.scoring import load_champion

    tables = {name: opened.scan(name) for name in TABLES}
    day = day or observed_until(tables)
    known = tables["customers"].filter(pl.col("customer_id") == customer)
    with _one_line():
        if known.select(pl.len()).collect().item() == 0:
            raise checks.CheckError(f"customer {customer}: not in the store {store}")
    from regua.dunning.partitions import CUSTOMER_TABLES

    own = {  # the customer's own rows and every shared table, as a partition reads them
        name: frame.filter(pl.col("customer_id") == customer) if name in CUSTOMER_TABLES else frame
        for name, frame in tables.items()
    }
    row = build_from_frames(own, [day])
    with _one_line():
        if row.height == 0:
            raise checks.CheckError(f"customer {customer}: not yet a customer at {day}")
    delinquency = load_champion("delinquency", settings.mlflow_tracking_uri)
    propensity = load_champion("propensity_to_pay", settings.mlflow_tracking_uri)
    text = customer_explanation(
        row, delinquency.model, propensity.model, load_labels(settings.config_dir / "labels.yaml")
    )
    typer.echo(
        f"modelos: delinquency v{delinquency.version}, propensity_to_pay v{propensity.version}"
    )
    typer.echo(text, nl=False)


@app.command()
def twin(
    customers: Annotated[int, typer.Option(min=50, help="Simulated customers.")] = 20_000,
    days: Annotated[int, typer.Option(min=1, max=365, help="Nights to run.")] = 90,
    policy: Annotated[
        list[str] | None,
        typer.Option(
            help="none, fixed, regua, oracle or learned (trained on the twin's own randomized "
            "history first, config/policy.yaml); repeat for several (default: all but learned)."
        ),
    ] = None,
    strategy: Annotated[
        list[Path] | None, typer.Option(help="Another strategy folder to run; repeatable.")
    ] = None,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds (books and draws) 1..N.")] = 3,
    params: Annotated[
        Path | None, typer.Option(help="Response parameters (default config/twin.yaml).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the figures and the report.")] = Path(
        "twin"
    ),
    books: Annotated[
        Path | None,
        typer.Option(help="Where the simulated books are kept and found again (OUT/books)."),
    ] = None,
    models: Annotated[
        Literal["train", "registry", "hashed"],
        typer.Option(
            help="train: champions trained on each book at day 0; registry: the MLflow "
            "registry's champions; both retrained in the loop. hashed: stand-in scores from "
            "a hash (fast, for trying ladders)."
        ),
    ] = "train",
    retrain_days: Annotated[
        int, typer.Option(min=0, help="Retrain the champions every N nights (0: never).")
    ] = 30,
    day0: Annotated[str, typer.Option(help="Last day of the simulated past.")] = "2026-10-31",
    months: Annotated[int, typer.Option(min=6, help="Months of simulated past.")] = 24,
    ingest: Annotated[
        bool,
        typer.Option(
            "--ingest/--no-ingest",
            help="Each day's exports through the real ingest (default), or kept in memory.",
        ),
    ] = True,
    mlflow_log: Annotated[
        bool, typer.Option("--mlflow/--no-mlflow", help="Log to MLflow (experiment regua-twin).")
    ] = True,
) -> None:
    """Run policies night after night against simulated customers and measure the money
    each recovers, what it costs and whether it kept the law (the collection twin)."""
    from regua.pipelines import checks

    settings = _settings()
    params = params or settings.config_dir / "twin.yaml"
    chosen = list(policy or ([] if strategy else ["none", "fixed", "regua", "oracle"]))
    with _one_line():
        start = checks.parse_day(day0)
        unknown = [p for p in chosen if p not in ("none", "fixed", "regua", "oracle", "learned")]
        if unknown:
            raise checks.CheckError(
                f"--policy {unknown[0]}: not a policy (none, fixed, regua, oracle, learned; "
                "another strategy folder goes with --strategy)"
            )
        checks.require_config(settings.config_dir)
        if not params.is_file():
            raise checks.CheckError(f"{params}: no such parameter file")
        if mlflow_log or models == "registry":
            checks.require_tracking_folder(settings.mlflow_tracking_uri)
    from regua.config import ConfigError
    from regua.config.twin import load_twin_parameters
    from regua.dunning.strategies import load_strategy
    from regua.pipelines.twin import TwinSpec, log_twin, run_twin

    with _one_line(ConfigError):
        load_twin_parameters(params)
        for folder in strategy or []:
            load_strategy(folder, settings.config_dir)
    spec = TwinSpec(
        customers=customers,
        days=days,
        policies=tuple(dict.fromkeys([*chosen, *(str(s) for s in strategy or [])])),
        seeds=tuple(range(1, seeds + 1)),
        params_path=params,
        out=out,
        books=books,
        config_dir=settings.config_dir,
        day0=start,
        months=months,
        models=models,
        ingest=ingest,
        retrain_days=retrain_days,
    )
    from regua.models.scoring import NoChampionError
    from regua.models.train import TooFewOutcomesError
    from regua.pipelines.policy import TooLittleHistoryError
    from regua.progress import run_bars
    from regua.reports.twin import render_twin_report

    refusals = (
        FileExistsError,
        ConfigError,
        NoChampionError,
        TooFewOutcomesError,
        TooLittleHistoryError,
    )
    with _one_line(*refusals), _disk_errors(out=(out, "nothing was replaced")):
        with run_bars() as report:
            result = run_twin(spec, progress=report)
        page = render_twin_report(out)
    run_id = log_twin(out, settings.mlflow_tracking_uri) if mlflow_log else None
    import polars as pl

    headline = ["net_recovery_brl", "contact_cost_brl", "guardrail_violations"]
    summary = result.summary.filter(pl.col("kpi").is_in(headline))
    for row in summary.iter_rows(named=True):
        low, high = row["ci_low"], row["ci_high"]
        interval = f" [{low:,.2f}, {high:,.2f}]" if low is not None else ""
        typer.echo(f"{row['policy']:>10} {row['kpi']:<22} {row['mean']:>14,.2f}{interval}")
    for seed, facts in result.manifest.get("learned_policy", {}).items():
        verdict = "passed" if facts["gate_passed"] else "failed"
        typer.echo(f"learned policy, seed {seed}: gate {verdict}: {facts['gate_reason']}")
    typer.echo(f"report {page}" + (f"; MLflow run {run_id}" if run_id else ""))


experiments_app = typer.Typer(
    help="Strategy experiments: readouts, planning, promotion.", no_args_is_help=True
)
app.add_typer(experiments_app, name="experiments")


@experiments_app.command("report")
def experiments_report(
    experiment: Annotated[
        str | None, typer.Option(help="Experiment id (default: every one in strategies.yaml).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only cases assigned on or after this day (YYYY-MM-DD).")
    ] = None,
    store: StoreDir = None,
    outputs: Annotated[
        Path | None, typer.Option(help="Nightly outputs (one folder per night); default out_dir.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the reports; default: the reports_dir setting.")
    ] = None,
    mlflow_log: Annotated[
        bool,
        typer.Option("--mlflow/--no-mlflow", help="Log to MLflow (experiment regua-experiments)."),
    ] = True,
) -> None:
    """Per cell of an experiment: cases, money recovered within 30 and 60 days, cure, contacts,
    cost and net recovery, each challenger against the champion with an always-valid
    interval; one HTML report per experiment."""
    from regua.pipelines import checks

    settings = _settings()
    store, folder = store or settings.store_dir, out or settings.reports_dir
    outputs = outputs or settings.out_dir
    with _one_line():
        start = checks.parse_day(since) if since else None
        checks.require_store(store)
        checks.require_config(settings.config_dir)
        checks.require_writable_folder(folder, "report folder")
        if mlflow_log:
            checks.require_tracking_folder(settings.mlflow_tracking_uri)
    import polars as pl

    from regua.config import ConfigError
    from regua.dunning.actions import load_dunning_config
    from regua.pipelines.experiments import NoReadoutError, log_readout, read_out
    from regua.reports.experiments import write_experiment_report
    from regua.store import Store

    with _one_line(ConfigError):
        config = load_dunning_config(settings.config_dir).experiments
    try:
        chosen = [config.get(experiment)] if experiment else list(config.experiments)
    except KeyError as error:
        _fail(ValueError(error.args[0]))
    if not chosen:
        _fail(ValueError(f"{settings.config_dir / 'strategies.yaml'}: no experiment configured"))
    with _one_line(NoReadoutError), _disk_errors(report_folder=(folder, "nothing was replaced")):
        for one in chosen:
            readout = read_out(one, config, Store(store), outputs, start)
            path = write_experiment_report(
                readout, folder / f"experiment-{one.id}-{readout.as_of.isoformat()}.html"
            )
            run_id = (
                log_readout(readout, path, settings.mlflow_tracking_uri) if mlflow_log else None
            )
            primary = readout.comparisons.filter(pl.col("measure") == "net_60d")
            typer.echo(f"{one.id} at {readout.as_of}: {readout.outcomes.height} cases")
            for row in readout.cells.iter_rows(named=True):
                net = row["net_60d"]
                shown = "—" if net is None else f"{net:,.2f}"
                typer.echo(
                    f"  {row['cell']:>12} {row['role']:<10} cases {row['cases']:>7} "
                    f"net/case 60d {shown}"
                )
            for row in primary.iter_rows(named=True):
                typer.echo(f"  {row['cell']} vs champion (net 60d): {row['verdict']}")
            typer.echo(f"  report {path}" + (f"; MLflow run {run_id}" if run_id else ""))


@experiments_app.command("plan")
def experiments_plan(
    sd: Annotated[float, typer.Option(min=0.01, help="SD of net recovery per case (BRL).")],
    effect: Annotated[float, typer.Option(min=0.01, help="Difference to detect (BRL per case).")],
    challenger_share: Annotated[
        float, typer.Option(min=0.01, max=0.99, help="The challenger cell's share.")
    ] = 0.5,
    champion_share: Annotated[
        float | None, typer.Option(help="The champion's share (default: the rest).")
    ] = None,
    alpha: Annotated[float, typer.Option(min=0.001, max=0.5)] = 0.05,
    power: Annotated[float, typer.Option(min=0.5, max=0.999)] = 0.8,
) -> None:
    """Cases an experiment needs to detect EFFECT: fixed-horizon and with the readout's
    always-valid sequence (set planned_cases in strategies.yaml to the fixed figure)."""
    from regua.dunning.inference import plan_experiment

    champion = champion_share if champion_share is not None else 1 - challenger_share
    if champion <= 0 or champion + challenger_share > 1 + 1e-9:
        _fail(
            ValueError(
                "--champion-share and --challenger-share must be positive and sum to 1 at most"
            )
        )
    plan = plan_experiment(sd, effect, champion, challenger_share, alpha, power)
    typer.echo(f"fixed horizon: {plan.cases:,} cases (planned_cases: {plan.cases})")
    typer.echo(f"always-valid sequence tuned there: {plan.sequential_cases:,} cases")


@experiments_app.command("promote")
def experiments_promote(
    experiment: Annotated[str, typer.Argument(help="Experiment id.")],
    cell: Annotated[str, typer.Argument(help="The challenger cell to promote.")],
    by: Annotated[str, typer.Option(help="Who promotes (recorded in strategies.yaml).")],
    why: Annotated[str, typer.Option(help="Why (recorded).")] = "",
    on: Annotated[str | None, typer.Option(help="Day of the promotion (default today).")] = None,
) -> None:
    """Make a challenger's ladder the population's: ends the experiment, records who, when
    and why in strategies.yaml, and writes the ladder into segments.yaml (or a rollout)."""
    from datetime import date

    from regua.config import ConfigError
    from regua.pipelines import checks
    from regua.pipelines.experiments import promote

    settings = _settings()
    with _one_line():
        day = checks.parse_day(on) if on else date.today()
    with _one_line(ConfigError), _disk_errors(config=(settings.config_dir, "nothing was replaced")):
        written = promote(settings.config_dir, experiment, cell, by, why, day)
    typer.echo(
        f"{experiment}: {cell} promoted by {by} on {day}; wrote {', '.join(map(str, written))}"
    )


@app.command()
def features(
    as_of: Annotated[
        list[str],
        typer.Option("--as-of", help="As-of date (YYYY-MM-DD); repeat it for several snapshots."),
    ],
    out: Annotated[Path, typer.Option(help="Output file: .parquet or .csv.")],
    store: StoreDir = None,
) -> None:
    """Build the point-in-time feature table at each AS_OF from the store and write it to OUT."""
    import time

    from regua.pipelines import checks

    store = store or _settings().store_dir
    with _one_line():
        dates = [checks.parse_day(day) for day in as_of]
        checks.require_writable_file(out, "--out", (".parquet", ".csv"))
        opened = checks.require_store(store)
        for day in dates:
            checks.require_as_of_in_history(opened, day)
    from regua.features import build
    from regua.store import write_frame_atomic

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
    from regua.features import catalog_markdown

    typer.echo(catalog_markdown(), nl=False)


@app.command()
def report(
    as_of: Annotated[str, typer.Option(help="Day to report on (YYYY-MM-DD).")],
    store: StoreDir = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the report; default: the reports_dir setting."),
    ] = None,
    outputs: Annotated[
        Path | None,
        typer.Option(help="Scoring outputs holding <as_of>/; default: the out_dir setting."),
    ] = None,
) -> None:
    """Write the portfolio report at AS_OF as one HTML file: aging, roll rates, vintages,
    scores, segments, ladder workload, limit changes and model health."""
    from regua.pipelines import checks

    settings = _settings()
    store, folder = store or settings.store_dir, out or settings.reports_dir
    with _one_line():
        day = checks.parse_day(as_of)
        checks.require_store(store)
        checks.require_writable_folder(folder, "report folder")
        checks.require_config(settings.config_dir)
        checks.require_champions(settings.mlflow_tracking_uri)
    from mlflow.exceptions import MlflowException

    from regua.config import ConfigError
    from regua.models.scoring import NoChampionError
    from regua.pipelines.outputs import recover_outputs
    from regua.reports.html import write_report
    from regua.reports.report import OutputsMissingError, build_report

    outputs = outputs or settings.out_dir
    with _disk_errors(
        report_folder=(folder, "any earlier report there is unchanged"),
        outputs_folder=(outputs, "the outputs there are unchanged"),
    ):
        if outputs.is_dir():
            recover_outputs(outputs, day)  # the day's outputs, if a crash left them hidden
        with _one_line(
            NoChampionError, OutputsMissingError, ConfigError, MlflowException, ValueError
        ):
            portfolio = build_report(store, outputs, day, tracking_uri=settings.mlflow_tracking_uri)
        path = write_report(portfolio, folder / f"portfolio-{day.isoformat()}.html")
    typer.echo(
        f"{day}: portfolio report ({len(portfolio.tables)} tables, {len(portfolio.charts)} "
        f"charts) -> {path}"
    )


users_app = typer.Typer(help="Workbench users (argon2-hashed passwords).", no_args_is_help=True)
db_app = typer.Typer(help="The decisions database (the workbench's).", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
DecisionsDb = Annotated[
    str | None,
    typer.Option("--db", help="Decisions database URL; default: the decisions_db_url setting."),
]


def _read_password(stdin: bool) -> str:
    """A new password from standard input (first line) or twice from a hidden prompt."""
    import sys

    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Literal["analyst", "supervisor"], typer.Option(help="What the user may do.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    db: DecisionsDb = None,
) -> None:
    """Add a workbench user; the password comes from a prompt or standard input, never an
    argument (it would stay in the shell history). Creates or upgrades the database first."""
    from sqlalchemy.exc import SQLAlchemyError

    from regua.decisions.db import make_engine, session_factory, upgrade
    from regua.decisions.users import UserError, add_user

    password = _read_password(password_stdin)
    with _one_line(UserError, SQLAlchemyError):
        engine = make_engine(db)
        upgrade(engine)
        with session_factory(engine).begin() as session:
            add_user(session, name, role, password)
    typer.echo(f"user {name} ({role}) added")


@db_app.command("upgrade")
def db_upgrade(db: DecisionsDb = None) -> None:
    """Create the decisions database or bring it to this regua's migrations (Alembic)."""
    from sqlalchemy.exc import SQLAlchemyError

    from regua.decisions.db import make_engine, upgrade

    with _one_line(SQLAlchemyError):
        engine = make_engine(db)
        head = upgrade(engine)
    typer.echo(f"decisions database {engine.url.render_as_string(hide_password=True)} at {head}")


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@app.command()
def web(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    db: DecisionsDb = None,
    outputs: Annotated[
        Path | None, typer.Option(help="Nightly outputs; default: the out_dir setting.")
    ] = None,
    store: StoreDir = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (each keeps the book in memory).")
    ] = 1,
) -> None:
    """Serve the analysts' workbench (login, portfolio, customers, review and approval
    queues, LGPD review requests, audit log) on HOST:PORT."""
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from regua.config import ConfigError
    from regua.decisions.db import DatabaseError
    from regua.settings import SettingsError
    from regua.workbench.app import create_app
    from regua.workbench.context import load_context

    with _one_line(DatabaseError, ConfigError, SettingsError, SQLAlchemyError):
        loopback = host in LOOPBACK_HOSTS
        context = load_context(db_url=db, out_dir=outputs, store_dir=store, loopback=loopback)
    typer.echo(f"workbench on http://{host}:{port}/ (outputs {context.out_dir})")
    if context.config.session.https_only(loopback):
        typer.echo(
            "note: session cookies are Secure (config/workbench.yaml): browsers send them "
            "only over https, so serve the workbench behind a TLS proxy",
            err=True,
        )
    if workers == 1:
        uvicorn.run(create_app(context), host=host, port=port, access_log=False)
        return
    import os

    from regua.workbench.app import LOOPBACK_VARIABLE

    context.engine.dispose()
    # each worker process builds its context from the settings: hand the options over
    for variable, value in (("REGUA_DECISIONS_DB_URL", db), ("REGUA_OUT_DIR", outputs),
                            ("REGUA_STORE_DIR", store)):  # fmt: skip
        if value is not None:
            os.environ[variable] = str(value)
    os.environ[LOOPBACK_VARIABLE] = "1" if loopback else "0"
    uvicorn.run(
        "regua.workbench.app:app_from_settings", factory=True, workers=workers, host=host,
        port=port, access_log=False,
    )  # fmt: skip


def main() -> None:
    """Entry point of `regua` and `python -m regua`: a usage error is one line too."""
    command = typer.main.get_command(app)
    try:
        code = command.main(standalone_mode=False)
    except typer.Abort:
        typer.echo("aborted", err=True)
        raise SystemExit(1) from None
    except typer.TyperException as exc:
        context = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":  # as typer does, without its import
            typer.echo(exc.format_message(), err=True)
        else:
            hint = f" (see `{context.command_path} --help`)" if context is not None else ""
            message = exc.format_message().replace("Value error, ", "")
            typer.echo(f"error: {message}{hint}", err=True)
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    raise SystemExit(code if isinstance(code, int) else 0)
