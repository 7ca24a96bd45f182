"""Credit-limit recommendation speed: recommend_limits over random scored customers.

    python benchmarks/bench_limits.py [--customers 1000000] [--repeat 3] [--seed 1]

The customers are drawn at random (numpy, seeded) with the columns recommend_limits
reads, a share of them null where the data contract allows it, and the default policy
(config/limits.yaml). Prints one Markdown table row per run: best and median seconds.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import timed_runs
from regua.config.limits import load_limits
from regua.dunning.limits import recommend_limits


def random_customers(n: int, seed: int) -> pl.DataFrame:
    """n scored customers with plausible, partly null inputs."""
    rng = np.random.default_rng(seed)
    limit = rng.choice([0, 500, 1000, 2000, 5000, 10000, 30000, 80000], n).astype(float)
    use = rng.beta(2, 2, n) * 1.1
    balance = limit * use
    overdue = np.where(rng.random(n) < 0.15, balance * rng.random(n), 0.0)
    income = np.where(rng.random(n) < 0.1, np.nan, rng.lognormal(8.3, 0.6, n))
    billed = rng.random(n) * 0.3
    return pl.DataFrame(
        {
            "customer_id": [f"c{i:07d}" for i in range(n)],
            "pd": rng.beta(1, 12, n),
            "kind": pl.Series(rng.choice(["PF", "PJ"], n, p=[0.8, 0.2])).cast(
                pl.Enum(["PF", "PJ"])
            ),
            "credit_limit": limit,
            "limit_utilisation": np.where(limit > 0, use, np.nan),
            "open_balance": balance,
            "overdue_balance": overdue,
            "dpd_now": np.where(overdue > 0, rng.integers(1, 120, n), 0).astype(np.int32),
            "dpd_worst_180": np.where(rng.random(n) < 0.3, rng.integers(1, 120, n), 0).astype(
                np.int32
            ),
            "declared_income": income,
            "installment_to_income": billed,
            "debt_to_income": np.where(rng.random(n) < 0.2, np.nan, billed + rng.random(n) * 0.3),
            "bureau_score": pl.Series(rng.integers(0, 1000, n), dtype=pl.Int32),
        },
        nan_to_null=True,
    ).with_columns(
        pl.when(pl.int_range(pl.len()) % 7 == 0)
        .then(None)
        .otherwise("bureau_score")
        .alias("bureau_score")
    )


def main() -> None:
    """Time recommend_limits and print the result as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    config = load_limits()
    scored = random_customers(args.customers, args.seed)
    out, seconds = timed_runs(lambda: recommend_limits(scored, config), args.repeat)
    decisions = dict(out["decision"].value_counts().sort("decision").iter_rows())
    print(f"{platform.processor() or platform.machine()}, polars {pl.__version__}\n")
    print("| customers | best (s) | median (s) | increase | decrease | keep |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {args.customers:,} | {min(seconds):.2f} | {statistics.median(seconds):.2f} "
        f"| {decisions.get('increase', 0):,} | {decisions.get('decrease', 0):,} "
        f"| {decisions.get('keep', 0):,} |"
    )


if __name__ == "__main__":
    main()
