"""Ingestion speed and memory: simulate a portfolio once, ingest it into a fresh store.

    python benchmarks/bench_ingest.py --customers 100000 1000000 [--format parquet csv]

Data goes under /tmp/regua-bench (never the repo). Each ingest runs in its own process
so its peak RSS is measured alone. Prints a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import BENCH_ROOT, REGUA, machine

ROOT = BENCH_ROOT


def simulate(customers: int, months: int, fmt: str, locale: str) -> Path:
    """Simulated exports for the size, made once and reused."""
    raw = ROOT / f"{customers}x{months}-{fmt}-{locale}" / "raw"
    if not (raw / f"payments.{fmt}").exists():
        shutil.rmtree(raw, ignore_errors=True)
        subprocess.run(
            [*REGUA, "simulate", "--customers", str(customers), "--months", str(months),
             "--seed", "1", "--out", str(raw), "--format", fmt, "--locale", locale,
             "--error-rate", "0.001"],
            check=True,
        )  # fmt: skip
    return raw


def rows(raw: Path) -> int:
    """Rows in the exports (Parquet metadata or CSV line count)."""
    total = 0
    for path in raw.iterdir():
        if path.suffix == ".parquet":
            total += pl.scan_parquet(path).select(pl.len()).collect().item()
        elif path.suffix == ".csv":
            with path.open("rb") as handle:
                total += (
                    sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b"")) - 1
                )
    return total


def ingest(raw: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (GiB) of `regua ingest` into a fresh store."""
    store = raw.parent / "store"
    shutil.rmtree(store, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([*REGUA, "ingest", "--raw", str(raw), "--store", str(store)], check=True)
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kib <= before:
        print(
            "warning: peak RSS not above an earlier child's; run sizes separately", file=sys.stderr
        )
    return seconds, peak_kib / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--format", nargs="+", default=["parquet"], choices=["parquet", "csv"])
    args = parser.parse_args()
    os.environ.setdefault("REGUA_DOCUMENT_KEY", "benchmark-key-not-a-secret-0123456789")
    print(f"{date.today()} — {machine()}\n")
    print("| customers | months | format | rows | ingest wall (s) | peak RSS (GiB) | rows/s |")
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: |")
    for fmt in args.format:
        locale = "pt_BR" if fmt == "csv" else "en"
        for customers in args.customers:
            raw = simulate(customers, args.months, fmt, locale)
            n = rows(raw)
            seconds, peak = ingest(raw)
            label = f"{fmt} ({locale})" if fmt == "csv" else fmt
            print(
                f"| {customers:,} | {args.months} | {label} | {n:,} | {seconds:.1f} | {peak:.1f} "
                f"| {n / seconds:,.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
