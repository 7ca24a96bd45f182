"""Feature engine speed and memory: polars (features.build) against pandas and DuckDB references.

    python benchmarks/bench_features.py --customers 1000000 [--months 24] [--as-of 2026-09-30]
    python benchmarks/bench_features.py --store /tmp/some/store   # reuse an ingested store

Without --store, a portfolio is simulated (seed 1) and ingested once under
/tmp/regua-bench/features (never the repo) and reused by later runs. Each measurement
runs in its own process, so the peak RSS is that run's own; a watchdog stops a run whose
RSS passes --max-rss-gib (pandas at 1M customers can outgrow the machine) and reports it.
Prints a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import BENCH_ROOT, machine, prepare_store
from regua.models.train import month_ends

ROOT = BENCH_ROOT / "features"
IMPLEMENTATIONS = ("polars", "pandas", "duckdb", "polars-12-in-one-call", "polars-12-single-calls")


def run(implementation: str, store: Path, as_of: date) -> dict[str, float]:
    """Build the features once with `implementation` (in this process); wall and peak RSS."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from regua.store import Store

    tables = Store(store).version_dir / "tables"
    started = time.perf_counter()
    if implementation == "polars":
        from regua.features import build

        rows = build(store, as_of).height
    elif implementation == "polars-12-in-one-call":
        from regua.features import build

        rows = build(store, month_ends(as_of, 12)).height
    elif implementation == "polars-12-single-calls":
        from regua.features import build

        rows = sum(build(store, day).height for day in month_ends(as_of, 12))
    elif implementation == "pandas":
        from benchmarks.features_pandas import build_features, load_tables

        rows = len(build_features(load_tables(tables), as_of))
    elif implementation == "duckdb":
        from benchmarks.features_duckdb import build_features, store_sources

        rows = build_features(store_sources(tables), as_of, threads=os.cpu_count()).num_rows
    else:
        raise ValueError(f"unknown implementation {implementation!r}")
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {"seconds": seconds, "peak_gib": peak, "rows": rows}


def measure(implementation: str, store: Path, as_of: date, max_rss_gib: float) -> dict[str, float]:
    """Run one implementation in a child process under an RSS watchdog."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", implementation, "--store", str(store),
         "--as-of", as_of.isoformat()],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    watched = psutil.Process(child.pid)
    highest, started = 0.0, time.perf_counter()
    while child.poll() is None:
        try:
            highest = max(highest, watched.memory_info().rss / 2**30)
        except psutil.NoSuchProcess:
            break
        if highest > max_rss_gib:
            child.kill()
            child.wait()
            return {"killed_at_gib": highest, "seconds": time.perf_counter() - started}
        time.sleep(0.2)
    output = child.stdout.read() if child.stdout else ""
    if child.returncode != 0:
        raise RuntimeError(f"{implementation} failed with exit code {child.returncode}")
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--store", type=Path, help="Reuse this store instead of simulating one.")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 9, 30))
    parser.add_argument("--only", nargs="+", choices=IMPLEMENTATIONS, default=list(IMPLEMENTATIONS))
    parser.add_argument("--max-rss-gib", type=float, default=18.0)
    parser.add_argument("--child", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.child, args.store, args.as_of)))
        return
    os.environ.setdefault("REGUA_DOCUMENT_KEY", "benchmark-key-not-a-secret-0123456789")
    store = (
        args.store
        or prepare_store(ROOT / f"{args.customers}x{args.months}", args.customers, args.months)[0]
    )
    import polars as pl

    from regua.store import Store

    customers = Store(store).scan("customers").select(pl.len()).collect().item()
    print(f"{date.today()} — {machine()}\n")
    print("| implementation | customers | as-of dates | wall (s) | peak RSS (GiB) | rows |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for implementation in args.only:
        dates = 12 if "12" in implementation else 1
        result = measure(implementation, store, args.as_of, args.max_rss_gib)
        if "killed_at_gib" in result:
            cells = f"> {result['seconds']:.0f} (stopped) | > {result['killed_at_gib']:.1f} | —"
        else:
            cells = f"{result['seconds']:.1f} | {result['peak_gib']:.2f} | {result['rows']:,}"
        print(f"| {implementation} | {customers:,} | {dates} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
