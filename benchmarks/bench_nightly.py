"""The nightly flow at scale: wall time by stage and peak memory, models already trained.

    python benchmarks/bench_nightly.py --tracking-uri sqlite:////tmp/regua-bench/train/mlflow/mlflow.db
        [--customers 1000000] [--months 24] [--as-of 2026-10-30] [--partitions 1]

A portfolio (seed 1) is simulated and ingested once under /tmp/regua-bench/nightly (never
the repo). The champions come from the tracking store given (`bench_train.py` leaves one
at /tmp/regua-bench/train/mlflow). The flow runs twice in this process: first with the
features built (a night after an ingest), then with them reused from the cache (a re-run
of the same night). As in production, where `regua serve` works against a Prefect server
that is already up, a local server is started first (a separate, small process, not in
the peak RSS); its start is timed and printed apart from the night. Peak RSS is this
process's (the flow and its tasks). Target (issue 7), 1,000,000 customers: under 3
minutes and under 12 GiB. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import BENCH_ROOT, machine, night_arguments, prepare_store

ROOT = BENCH_ROOT / "nightly"


def main() -> None:
    """Run the nightly flow twice on a large store and print the stages as Markdown."""
    parser = night_arguments(__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("REGUA_DOCUMENT_KEY", "benchmark-key-not-a-secret-0123456789")
    store, _ = prepare_store(ROOT / f"{args.customers}x{args.months}", args.customers, args.months)
    shutil.rmtree(store / "cache", ignore_errors=True)
    out = ROOT / "out"
    shutil.rmtree(out, ignore_errors=True)

    from prefect.logging.handlers import APILogWorker
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from regua.pipelines.nightly import nightly_flow

    started = time.perf_counter()
    server = SubprocessASGIServer()
    server.start(timeout=120)
    server_start = time.perf_counter() - started
    try:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            rows = run_twice(nightly_flow, args, store, out)
            APILogWorker.drain_all(timeout=10)  # ship the last run logs while the server is up
    finally:
        server.stop()

    manifest = rows[0][3].outputs.manifest
    stages = list(rows[0][3].seconds_by_stage)
    print(f"{date.today()} — {machine()}; store {store}\n")
    print(
        f"{manifest['rows']['segments.parquet']:,} customers, "
        f"{manifest['rows']['actions.parquet']:,} actions {manifest['actions_by_status']}, "
        f"{args.partitions} partition(s), as_of {args.as_of}; Prefect server started "
        f"beforehand in {server_start:.1f} s.\n"
    )
    print("| run | " + " | ".join(f"{s} (s)" for s in stages) + " | flow (s) | peak RSS (GiB) |")
    print("| --- |" + " ---: |" * (len(stages) + 2))
    for label, total, peak, summary in rows:
        cells = " | ".join(f"{summary.seconds_by_stage[s]:.1f}" for s in stages)
        print(f"| {label} | {cells} | {total:.1f} | {peak:.1f} |", flush=True)


def run_twice(nightly_flow, args: argparse.Namespace, store: Path, out: Path) -> list[tuple]:
    """The night with the features built, then again with them cached: timings and summaries."""
    rows = []
    for label in ("features built", "features cached"):
        started = time.perf_counter()
        summary = nightly_flow(
            as_of=args.as_of,
            store=store,
            out=out,
            partitions=args.partitions,
            tracking_uri=args.tracking_uri,
        )
        total = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        rows.append((label, total, peak, summary))
    return rows


if __name__ == "__main__":
    main()
