"""Segment assignment speed: assign_segments over 1,000,000 random scored customers.

    python benchmarks/bench_segments.py [--customers 1000000] [--repeat 3] [--seed 1]

The customers are drawn at random (numpy, seeded) with the columns assign_segments
reads: PD, propensity (null for the ~70% with nothing overdue, as in scoring), open
balance and the recurrence features. The default config/segments.yaml and ladders.yaml
are used. Target (issue 6): 1,000,000 customers in under 30 s. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import machine, timed_runs
from regua.config.dunning import load_segments
from regua.dunning.segments import assign_segments


def random_customers(n: int, seed: int) -> pl.DataFrame:
    """n scored customers with plausible inputs, propensity null where nothing is overdue."""
    rng = np.random.default_rng(seed)
    overdue = rng.random(n) < 0.3
    chronic = overdue & (rng.random(n) < 0.3)
    return pl.DataFrame(
        {
            "customer_id": [f"c{i:07d}" for i in range(n)],
            "pd": rng.beta(1, 10, n),
            "propensity": np.where(overdue, rng.beta(2, 2, n), np.nan),
            "open_balance": rng.lognormal(6.5, 1.5, n),
            "late_chronic": chronic.astype(np.int8),
            "dpd_now": np.where(overdue, rng.integers(1, 120, n), 0).astype(np.int32),
            "paid_late_count_365": (rng.poisson(0.6, n) + 3 * chronic).astype(np.int32),
        },
        nan_to_null=True,
    )


def main() -> None:
    """Time assign_segments and print the result as a Markdown table row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    config = load_segments()
    scored = random_customers(args.customers, args.seed)
    out, seconds = timed_runs(lambda: assign_segments(scored, config), args.repeat)
    assert out.height == scored.height and out["segment"].null_count() == 0
    shares = out["segment"].value_counts(normalize=True).sort("segment")
    mix = ", ".join(f"{s} {p:.0%}" for s, p in shares.iter_rows())
    print(f"{date.today()}, polars {pl.__version__}\n")
    print("| machine | customers | best wall s | median wall s | segments |")
    print("| --- | ---: | ---: | ---: | --- |")
    print(
        f"| {machine()} | {args.customers:,} | {min(seconds):.2f} "
        f"| {statistics.median(seconds):.2f} | {mix} |"
    )


if __name__ == "__main__":
    main()
