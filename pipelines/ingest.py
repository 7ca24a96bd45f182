"""The ingest flow: the day's exports validated into a new store version.

All logic is `regua.ingest.ingest_exports`; the task retries only when the files or the
disk fail (an `OSError`), never on a bad batch, which stops with its one clear error.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from pipelines.retry import io_task
from regua.ingest.ingest import IngestReport, ingest_exports


@io_task("ingest-exports", backoff_factor=5)
def ingest_task(raw: Path, store: Path) -> IngestReport:
    """Every export in `raw` validated and committed to `store` (a new version if changed)."""
    report = ingest_exports(raw, store)
    get_run_logger().info("ingest: %s", report.to_text().splitlines()[-1])
    return report


def ingest_markdown(report: IngestReport) -> str:
    """Rows read, rejected and stored per table, as the run's artifact."""
    lines = [
        "| table | read | rejected | stored | in store |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, t in report.totals().items():
        lines.append(
            f"| {name} | {t['read']:,} | {t['rejected']:,} | {t['stored']:,} "
            f"| {report.store_rows.get(name, 0):,} |"
        )
    state = f"version {report.store_version}" if report.changed else "unchanged"
    return "\n".join([f"# Ingest into {report.store_dir}: {state}", "", *lines]) + "\n"


@flow(name="ingest", flow_run_name="ingest-{raw.name}")
def ingest_flow(raw: Path, store: Path) -> IngestReport:
    """Ingest the exports in `raw` into `store` and publish what happened to the rows."""
    report = ingest_task(raw, store)
    create_markdown_artifact(ingest_markdown(report), key="ingest-summary")
    return report
