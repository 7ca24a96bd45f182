"""The collection twin at scale: wall time, seconds per night by stage, memory, figures.

Runs `pipelines.twin.run_twin` exactly as `regua twin` does (each day's exports through
the real ingest, champions trained at day 0 and retrained every 30 nights, the config/
twin.yaml parameters) and prints Markdown: the wall time of every part, the seconds per
night of each stage per policy, the peak RSS, and the headline figures. The books are
kept under /tmp/regua-bench/twin/books (found again by a later run with the same size);
`--fresh` builds them again.

    python benchmarks/bench_twin.py --customers 20000 --days 90 --policy none fixed regua
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import BENCH_ROOT, machine
from regua.pipelines.twin import TwinSpec, run_twin
from regua.settings import get_settings

HEADLINE = (
    "net_recovery_brl",
    "recovered_brl",
    "recovered_30d_share",
    "cure_rate",
    "contact_cost_brl",
    "contacts_per_case",
    "expected_recovered_brl",
    "guardrail_violations",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--policy", nargs="+", default=["none", "fixed", "regua"])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--params", type=Path, default=get_settings().config_dir / "twin.yaml")
    parser.add_argument("--models", choices=["train", "hashed"], default="train")
    parser.add_argument("--no-ingest", action="store_true")
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    folder = BENCH_ROOT / "twin"
    books = folder / "books" / f"{args.customers}x{args.days}"
    if args.fresh:
        shutil.rmtree(books, ignore_errors=True)
    spec = TwinSpec(
        customers=args.customers,
        days=args.days,
        policies=tuple(args.policy),
        seeds=tuple(range(1, args.seeds + 1)),
        params_path=args.params,
        out=folder / "out",
        books=books,
        models=args.models,
        ingest=not args.no_ingest,
    )
    nights: dict[str, float] = {}
    last = [time.perf_counter()]

    def progress(label: str, night: int, total: int) -> None:
        now = time.perf_counter()
        nights[label] = nights.get(label, 0.0) + now - last[0]
        last[0] = now
        print(f"{label}: night {night}/{total}", file=sys.stderr, end="\r")

    started = time.perf_counter()
    result = run_twin(spec, progress=progress)
    wall = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\n{machine()}; polars {pl.__version__}")
    print(
        f"\n{args.customers:,} customers x {args.days} nights x {len(args.policy)} policies x "
        f"{args.seeds} seed(s), models {args.models}, ingest {'off' if args.no_ingest else 'on'}: "
        f"**{wall:.0f} s** ({wall / 60:.1f} min), peak RSS {rss:.1f} GiB\n"
    )
    seconds = result.manifest["seconds_by_stage"]
    stages = sorted({s for run in seconds.values() for s in run})
    print("| run | nights (s) | " + " | ".join(f"{s} (s/night)" for s in stages) + " |")
    print("| --- | ---: | " + " | ".join("---:" for _ in stages) + " |")
    for run, parts in seconds.items():
        label = run.replace("/", " seed ")
        per_night = [
            f"{parts[s] / args.days:.2f}" if s in parts and not run.startswith("train") else
            (f"{parts[s]:.0f} (once)" if s in parts else "—")
            for s in stages
        ]  # fmt: skip
        print(f"| {run} | {nights.get(label, 0):.0f} | " + " | ".join(per_night) + " |")
    print("\nretrained on:", json.dumps(result.manifest["retrained_on"]))
    print("champion AUC at day 0:", json.dumps(result.manifest["champion_auc"]))
    headline = result.summary.filter(pl.col("kpi").is_in(HEADLINE))
    table = headline.pivot("policy", index="kpi", values="mean")
    print("\n| kpi | " + " | ".join(table.columns[1:]) + " |")
    print("| --- | " + " | ".join("---:" for _ in table.columns[1:]) + " |")
    for row in table.iter_rows():
        cells = [f"{v:,.4f}" if abs(v) < 10 else f"{v:,.0f}" for v in row[1:]]
        print(f"| {row[0]} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
