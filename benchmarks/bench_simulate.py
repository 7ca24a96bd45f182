"""Wall time, peak memory and rows of `regua simulate` at benchmark sizes (Parquet output).

Each size runs in a fresh Python process so its peak RSS is its own. Data goes under
/tmp and is removed afterwards unless --keep is given.

    python benchmarks/bench_simulate.py                      # 100k and 1M customers x 24 months
    python benchmarks/bench_simulate.py --sizes 20000x12     # a quick look
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

log = logging.getLogger("bench_simulate")
TABLES = ("invoices", "payments", "contacts", "macro", "customer_attributes", "truth")
"""Rows written, besides customers (customer_attributes: 0 before issue 19)."""


def run_one(customers: int, months: int, seed: int, out: Path) -> dict[str, object]:
    """Simulate one size in this process; its rows, wall seconds and peak RSS."""
    from regua.simulate import SimulationConfig, simulate_portfolio

    summary = simulate_portfolio(
        SimulationConfig(customers=customers, months=months, seed=seed), out
    )
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    size = sum(f.stat().st_size for f in out.rglob("*.parquet"))
    return {
        "customers": customers,
        "months": months,
        "rows": summary.rows,
        "seconds": round(summary.seconds, 1),
        "peak_rss_mib": round(peak_kib / 1024),
        "parquet_mib": round(size / 2**20),
    }


def run_in_child(customers: int, months: int, seed: int, root: Path, keep: bool) -> dict:
    """Run one size in a fresh interpreter and read back its JSON result."""
    out = root / f"sim_{customers}x{months}"
    size = f"{customers}x{months}"
    command = [sys.executable, __file__, "--child", size, "--seed", str(seed), "--out", str(out)]
    try:
        done = subprocess.run(command, check=True, capture_output=True, text=True)
    finally:
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(results: list[dict]) -> str:
    """The results as a Markdown table."""
    head = ["customers", "months", *TABLES, "wall s", "peak RSS MiB", "Parquet MiB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [f"{r['customers']:,}", str(r["months"])]
        cells += [f"{r['rows'].get(t, 0):,}" for t in TABLES]
        cells += [str(r["seconds"]), f"{r['peak_rss_mib']:,}", f"{r['parquet_mib']:,}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _size(text: str) -> tuple[int, int]:
    customers, months = text.lower().split("x")
    return int(customers), int(months)


def main() -> None:
    """Parse arguments and run the requested sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", default=["100000x24", "1000000x24"], help="CUSTOMERSxMONTHS"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=None, help="Folder for the data (/tmp).")
    parser.add_argument("--keep", action="store_true", help="Keep the simulated data.")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        customers, months = _size(args.child)
        print(json.dumps(run_one(customers, months, args.seed, args.out)))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    root = args.out or Path(tempfile.mkdtemp(prefix="regua-bench-", dir="/tmp"))
    results = []
    for text in args.sizes:
        customers, months = _size(text)
        log.info("simulating %s customers x %s months under %s", f"{customers:,}", months, root)
        results.append(run_in_child(customers, months, args.seed, root, args.keep))
        log.info("done in %.1f s", results[-1]["seconds"])
    if not args.keep and args.out is None:
        shutil.rmtree(root, ignore_errors=True)
    print(table(results))


if __name__ == "__main__":
    main()
