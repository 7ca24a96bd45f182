"""The ingest task: the day's exports validated into a new store version.

All logic is `regua.ingest.ingest_exports`; the task retries only when the files or the
disk fail (an `OSError`), never on a bad batch, which stops with its one clear error. The
nightly flow runs it first when it is given a folder of exports; `regua ingest` calls
`ingest_exports` directly.
"""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger

from regua.ingest.ingest import IngestReport, ingest_exports
from regua.pipelines.retry import io_task


@io_task("ingest-exports", backoff_factor=5)
def ingest_task(raw: Path, store: Path, ignore: tuple[str, ...] = ()) -> IngestReport:
    """Every export in `raw` validated and committed to `store` (a new version if changed);
    entries matching `ignore` (beside the ignore_files setting) are left unread."""
    report = ingest_exports(raw, store, ignore=ignore)
    get_run_logger().info("ingest: %s", report.to_text().splitlines()[-1])
    return report
