"""Ingest a day's exports into the canonical store: read, coerce, validate, upsert, swap.

Every row read ends either in the store or in `rejects/<table>.parquet` with the rules
it broke and its source file and line; every entry of the raw folder is read or named as
ignored. A batch-level failure raises `IngestError` before anything is written, so the
store stays exactly as it was; so does a document key other than the one the store's
documents were hashed with (its fingerprint is in every version's manifest).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from regua import __version__
from regua.config.ingest import load_ingest
from regua.config.profile import DEFAULT_PROFILE, MappingProfile, load_profile
from regua.contract import TABLES, Table, table
from regua.documents import key_fingerprint
from regua.ingest.checks import add_reference_checks
from regua.ingest.coerce import RECORD, TYPE_ERRORS, coerce_export, reject_records
from regua.ingest.errors import IngestError
from regua.ingest.profile import (
    PROFILE_RULES,
    apply_profile,
    profile_dialect,
    with_profile_messages,
)
from regua.ingest.read import (
    SOURCE_LINE,
    Dialect,
    ExportFile,
    IgnoredEntry,
    discover_exports,
    read_export,
)
from regua.ingest.suites import Validator, rule_messages
from regua.progress import stage_bar
from regua.settings import Settings, get_settings
from regua.store import REJECTS_SCHEMA, Store

log = logging.getLogger(__name__)

_ORDER = "_order"


@dataclass
class FileReport:
    """What happened to the rows of one export file."""

    table: str
    path: str
    sha256: str
    dialect: str
    rows_read: int
    rows_stored: int
    rows_rejected: int
    new: int
    replaced: int
    unchanged: int
    ignored_columns: list[str]
    rejects_by_rule: dict[str, int]


@dataclass
class IngestReport:
    """The outcome of one ingest run; also written as the version's manifest."""

    run_id: str
    raw_dir: str
    store_dir: str
    started_at: str
    files: list[FileReport] = field(default_factory=list)
    ignored: list[IgnoredEntry] = field(default_factory=list)
    document_key_fingerprint: str | None = None
    store_rows: dict[str, int] = field(default_factory=dict)
    store_version: str | None = None
    changed: bool = False
    data_docs: str | None = None
    profile: str | None = None
    seconds: float = 0.0

    def totals(self) -> dict[str, dict[str, int]]:
        """Rows read, stored and rejected per table (read = stored + rejected)."""
        out: dict[str, dict[str, int]] = {}
        for f in self.files:
            t = out.setdefault(f.table, {"read": 0, "stored": 0, "rejected": 0})
            t["read"] += f.rows_read
            t["stored"] += f.rows_stored
            t["rejected"] += f.rows_rejected
        return out

    def to_manifest(self) -> dict[str, Any]:
        """JSON-ready manifest."""
        return {
            "kind": "ingest",
            "regua_version": __version__,
            **{k: v for k, v in asdict(self).items() if k != "files"},
            "tables": self.totals(),
            "files": [asdict(f) for f in self.files],
        }

    def to_text(self) -> str:
        """Human summary for the command line."""
        width = max([10, *(len(name) for name in self.totals())])
        lines = [
            f"{'table':<{width}} {'read':>10} {'stored':>10} {'rejected':>10} {'in store':>10}"
        ]
        for name, t in self.totals().items():
            lines.append(
                f"{name:<{width}} {t['read']:>10,} {t['stored']:>10,} {t['rejected']:>10,} "
                f"{self.store_rows.get(name, 0):>10,}"
            )
        for f in self.files:
            lines.append(f"read {Path(f.path).name} as {f.table}: {f.rows_read:,} rows")
            if f.rows_rejected:
                rules = ", ".join(f"{r}: {n:,}" for r, n in sorted(f.rejects_by_rule.items()))
                lines.append(f"  rejected in {Path(f.path).name}: {rules}")
        lines.extend(f"ignored {entry.name}: {entry.reason}" for entry in self.ignored)
        state = f"version {self.store_version}" if self.changed else "unchanged (nothing new)"
        lines.append(f"store {self.store_dir}: {state}; {self.seconds:.1f}s")
        if self.data_docs:
            lines.append(f"data docs: {self.data_docs}")
        return "\n".join(lines)


def upsert(current: pl.DataFrame, incoming: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Rows of `incoming` replace rows of `current` with the same key; result sorted by key."""
    kept = current.join(incoming.select(key), on=key, how="anti", nulls_equal=True)
    return pl.concat([kept, incoming.select(current.columns)], how="vertical").sort(key)


def _change_counts(
    current: pl.DataFrame, incoming: pl.DataFrame, key: list[str]
) -> tuple[int, int, int]:
    """(new, replaced, unchanged) rows of `incoming` relative to `current`."""
    existing = incoming.join(current.select(key), on=key, how="semi", nulls_equal=True).height
    unchanged = incoming.join(current, on=current.columns, how="semi", nulls_equal=True).height
    return incoming.height - existing, existing - unchanged, unchanged


def _reasons(
    typed: pl.DataFrame, failures: pl.DataFrame, rule_order: dict[str, int]
) -> pl.DataFrame:
    """One row per rejected source line with its first rule and every reason."""
    type_failures = (
        typed.select(SOURCE_LINE, pl.col(TYPE_ERRORS).alias("column"))
        .explode("column")
        .drop_nulls("column")
        .with_columns(pl.lit("type").alias("rule"))
        .select(SOURCE_LINE, "rule", "column")
    )
    every = pl.concat([type_failures, failures], how="vertical").unique(maintain_order=True)
    return (
        every.with_columns(
            pl.col("rule").replace_strict(rule_order, default=len(rule_order)).alias(_ORDER)
        )
        .sort(SOURCE_LINE, _ORDER)
        .group_by(SOURCE_LINE, maintain_order=True)
        .agg(
            pl.col("rule").first(),
            pl.col("column").first(),
            (pl.col("rule") + ":" + pl.col("column")).alias("reasons"),
        )
    )


RULE_ORDER = {
    rule: i
    for i, rule in enumerate(
        (
            *PROFILE_RULES,
            "type",
            "ambiguous_number",
            "not_null",
            "unique_key",
            "allowed_values",
            "range",
            "date_range",
            "document_check_digits",
            "reference",
            "reference_consistency",
            "date_order",
            "overpayment",
        )
    )
}


class _Run:
    """State of one ingest run: the tables as they will be once the batch is applied."""

    def __init__(self, store: Store, settings: Settings, validator: Validator, key: bytes) -> None:
        self.store = store
        self.settings = settings
        self.overpayment_tolerance = load_ingest(
            settings.config_dir / "ingest.yaml"
        ).overpayment_tolerance_share
        self.validator = validator
        self.current: dict[str, pl.DataFrame] = {}
        self.tables: dict[str, pl.DataFrame] = {}
        self.rejects: dict[str, list[pl.DataFrame]] = {}
        self.key = key
        self.started = datetime.now(UTC)
        self.read_version = store.version
        self.profile: MappingProfile = DEFAULT_PROFILE

    def table_now(self, name: str) -> pl.DataFrame:
        """The table as it stands in this run (store plus what this run already applied)."""
        if name not in self.current:
            self.current[name] = self.store.read(name)
        return self.tables.get(name, self.current[name])

    def apply(self, export: ExportFile, dialect: Dialect | None) -> FileReport:
        """Read, coerce, validate and upsert one file; collect its rejects."""
        contract = table(export.table)
        started = time.perf_counter()
        raw, used = read_export(export, dialect)
        raw, problems = apply_profile(raw, contract, self.profile, file=str(export.path))
        sha = export.sha256()
        expected = {c.name for c in contract.columns} | {"document", SOURCE_LINE}
        ignored = sorted(set(raw.columns) - expected)
        typed, source = coerce_export(
            raw, contract, file=str(export.path), dialect=used, document_key=self.key
        )
        del raw
        known = {ref.table: self.table_now(ref.table) for ref in contract.references}
        known.update({o.via: self.table_now(o.via) for o in contract.date_orders if o.via})
        known[contract.name] = self.table_now(contract.name)  # payments: the overpayment check
        checked = add_reference_checks(
            typed, contract, known, overpayment_tolerance_share=self.overpayment_tolerance
        )
        failures = pl.concat([self.validator.failures(checked, contract), problems.drop("message")])
        reasons = _reasons(typed, failures, RULE_ORDER)
        rejected = reasons.join(rule_messages(contract), on=["rule", "column"], how="left").join(
            reject_records(source, reasons), on=SOURCE_LINE, how="left"
        )
        rejected = with_profile_messages(rejected, problems)
        del source
        accepted = typed.join(reasons.select(SOURCE_LINE), on=SOURCE_LINE, how="anti").select(
            contract.names
        )
        base = self.table_now(contract.name)
        new, replaced, unchanged = _change_counts(base, accepted, list(contract.key))
        self.tables[contract.name] = upsert(base, accepted, list(contract.key))
        self.rejects.setdefault(contract.name, []).append(self._reject_rows(rejected, export, sha))
        by_rule = rejected.group_by("rule").len().sort("rule")
        report = FileReport(
            table=contract.name,
            path=str(export.path),
            sha256=sha,
            dialect=used.describe() if used else "parquet",
            rows_read=typed.height,
            rows_stored=accepted.height,
            rows_rejected=rejected.height,
            new=new,
            replaced=replaced,
            unchanged=unchanged,
            ignored_columns=ignored,
            rejects_by_rule=dict(zip(by_rule["rule"], by_rule["len"], strict=True)),
        )
        log.info(
            "%s: %d read, %d stored (%d new, %d replaced, %d unchanged), %d rejected in %.1fs",
            export.path.name,
            report.rows_read,
            report.rows_stored,
            new,
            replaced,
            unchanged,
            report.rows_rejected,
            time.perf_counter() - started,
        )
        self._check_share(contract, export, report, rejected)
        return report

    def _reject_rows(self, rejected: pl.DataFrame, export: ExportFile, sha: str) -> pl.DataFrame:
        return rejected.select(
            pl.lit(export.path.name).alias("source_file"),
            pl.lit(sha).alias("source_sha256"),
            pl.col(SOURCE_LINE).alias("source_line"),
            "rule",
            "column",
            "message",
            "reasons",
            pl.col(RECORD).alias("record"),
            pl.lit(self.started).cast(REJECTS_SCHEMA["rejected_at"]).alias("rejected_at"),
        ).sort("source_line")

    def _check_share(
        self, contract: Table, export: ExportFile, report: FileReport, rejected: pl.DataFrame
    ) -> None:
        limit = self.settings.max_reject_share
        if report.rows_read == 0 or report.rows_rejected / report.rows_read <= limit:
            return
        top = (
            rejected.group_by("rule", "column", "message")
            .agg(pl.len().alias("n"), pl.col(SOURCE_LINE).sort().head(3).alias("lines"))
            .sort("n", "rule", descending=[True, False])
            .row(0, named=True)
        )
        share = report.rows_rejected / report.rows_read
        raise IngestError(
            f"{report.rows_rejected:,} of {report.rows_read:,} rows of {contract.name} "
            f"({share:.1%}) would be rejected, above the limit of {limit:.1%}; most often "
            f"{top['rule']} on {top['column']} ({top['message']}) "
            f"({top['n']:,} rows, e.g. lines {', '.join(map(str, top['lines']))})",
            file=export.path,
            column=top["column"],
            rule="max_reject_share",
        )

    def merged_rejects(self, name: str) -> pl.DataFrame:
        """Rejects so far plus this run's, a re-sent file's rows counted once."""
        frames = [self.store.rejects(name), *self.rejects.get(name, [])]
        return (
            pl.concat(frames, how="vertical")
            .unique(subset=["source_sha256", "source_line"], keep="first", maintain_order=True)
            .sort("source_file", "source_line", "source_sha256")
        )


def check_document_key(store: Store, key: bytes, origin: str) -> str:
    """The fingerprint of `key`, after checking it is the key of the store's documents.

    A store without a fingerprint (new, or from before fingerprints) takes this key's.
    Raises `IngestError` (rule `document_key`) on another key: ingesting would hash the
    same customers differently, so they would no longer match.
    """
    fingerprint = key_fingerprint(key)
    recorded = store.key_fingerprint
    if recorded is not None and recorded != fingerprint:
        raise IngestError(
            f"store {store.root}: {origin} is not the key its documents were hashed with "
            f"(fingerprint {fingerprint[:12]}, the store's {recorded[:12]}); "
            "use the store's key, or re-hash the store: `regua rotate-key --raw RAW "
            f"--store {store.root} --new-key-file FILE` (README, Settings)",
            rule="document_key",
        )
    return fingerprint


def ingest_exports(
    raw_dir: Path | str,
    store: Store | Path | str,
    *,
    settings: Settings | None = None,
    dialect: Dialect | None = None,
    build_docs: bool = True,
    ignore: Sequence[str] = (),
    profile: MappingProfile | None = None,
) -> IngestReport:
    """Ingest every export in `raw_dir` into `store`; raise `IngestError` on a bad batch.

    Entries matching `ignore` (glob patterns, added to the `ignore_files` setting) are
    left unread and named in the report; any other entry matching no table stops the batch.
    `profile` (default: the `profile` setting, else none) maps the company's column names,
    words and dialect to the contract's; a given `dialect` still wins over its dialect.

    >>> import regua
    >>> report = regua.ingest_exports("data/raw/2026-09-30", "data/store")
    >>> report.totals()["invoices"]  # rows read, stored and rejected (with a reason)
    """
    settings = settings or get_settings()
    store = store if isinstance(store, Store) else Store(store)
    raw_dir = Path(raw_dir)
    started = time.perf_counter()
    if profile is None:
        profile = load_profile(settings.profile) if settings.profile else DEFAULT_PROFILE
    dialect = dialect or profile_dialect(profile)
    found = discover_exports(raw_dir, [*settings.ignore_files, *ignore])
    exports = found.exports
    if not exports:
        raise IngestError(
            f"no export files ({', '.join(TABLES)} as .csv or .parquet)",
            file=raw_dir,
            rule="empty_day",
        )
    key = settings.document_key_bytes()
    fingerprint = check_document_key(store, key, settings.document_key_origin())
    docs_dir = Path(tempfile.mkdtemp(prefix="regua-docs-")) / "data_docs"
    validator = Validator(
        docs_dir=docs_dir if build_docs else None, batch_rows=settings.validation_batch_rows
    )
    run = _Run(store, settings, validator, key)
    run.profile = profile
    report = IngestReport(
        run_id=uuid.uuid4().hex,
        raw_dir=str(raw_dir),
        store_dir=str(store.root),
        started_at=run.started.isoformat(),
        ignored=found.ignored,
        document_key_fingerprint=fingerprint,
        profile=profile.source if profile is not DEFAULT_PROFILE else None,
    )
    try:
        with stage_bar(len(exports), "ingest") as advance:
            for export in exports:
                report.files.append(run.apply(export, dialect))
                advance()
        changed_tables = {
            name: frame for name, frame in run.tables.items() if not frame.equals(run.current[name])
        }
        rejects = {name: run.merged_rejects(name) for name in run.rejects}
        changed_rejects = {
            name: frame
            for name, frame in rejects.items()
            if frame.height != store.rejects(name).height
        }
        unrecorded_key = store.version is not None and store.key_fingerprint is None
        report.changed = bool(changed_tables or changed_rejects or unrecorded_key)
        report.store_rows = {
            name: run.tables[name].height
            if name in run.tables
            else store.scan(name).select(pl.len()).collect().item()
            for name in TABLES
            if name in run.tables or store.has(name)
        }
        if report.changed:
            docs = validator.build_docs()
            report.seconds = round(time.perf_counter() - started, 2)
            version = store.commit(
                changed_tables,
                changed_rejects,
                report.to_manifest(),
                extra={"data_docs": docs_dir} if docs else None,
                expected_version=run.read_version,
                check_version=True,
            )
            report.store_version = version
            report.data_docs = (
                str(store.root / "versions" / version / "data_docs" / "index.html")
                if docs
                else None
            )
        else:
            report.store_version = store.version
    finally:
        shutil.rmtree(docs_dir.parent, ignore_errors=True)
    report.seconds = round(time.perf_counter() - started, 2)
    return report
