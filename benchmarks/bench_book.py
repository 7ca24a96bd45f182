"""The shape of the default simulated book: aging, roll rates and cure rates, as Markdown.

Simulates the default demo book once (`SimulationConfig(customers=20000, months=24,
seed=1)`, Parquet) under /tmp/regua-bench/book, reads its raw invoices and payments with
the contract's types and prints, for the last month end and the 12 month-to-month moves
before it: the aging distribution, the pooled roll-rate matrix, the classic roll rates and
the cure rates per bucket. Each table is shown as simulated (nothing is ever written off)
and with invoices written off by the measurement itself at each `--charge-off-days` (180,
the twin's default, and 360, about when a bank under CMN Resolution 2.682 wrote a loan
off), then a summary of the delinquent shares of the book under each view.

    python benchmarks/bench_book.py
    python benchmarks/bench_book.py --customers 2000 --out /tmp/regua-bench/book-small
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import BENCH_ROOT, machine
from regua.contract import table
from regua.simulate import SimulationConfig, simulate_portfolio
from regua.simulate.book import (
    aging_distribution,
    cure_rates,
    forward_roll_rates,
    roll_matrix,
    roll_rates,
)


def month_ends(last: date, count: int) -> list[date]:
    """`count` month ends, oldest first, the last one `last` (itself a month end)."""
    ends, day = [], last
    for _ in range(count):
        ends.append(day)
        day = day.replace(day=1) - timedelta(days=1)
    return ends[::-1]


def simulated(folder: Path, config: SimulationConfig) -> float:
    """Simulate `config` into `folder` unless it already holds it; the seconds it took."""
    stamp = folder / "config.json"
    wanted = {"customers": config.customers, "months": config.months, "seed": config.seed}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return 0.0
    shutil.rmtree(folder, ignore_errors=True)
    started = time.perf_counter()
    simulate_portfolio(config, folder)
    stamp.write_text(json.dumps(wanted))
    return time.perf_counter() - started


def read_typed(folder: Path, name: str) -> pl.LazyFrame:
    """A raw Parquet export with each contract column cast to its contract type."""
    frame = pl.scan_parquet(folder / f"{name}.parquet")
    present = set(frame.collect_schema().names())
    return frame.select(
        pl.col(c.name).cast(c.dtype) for c in table(name).columns if c.name in present
    )


def pct(value: float | None) -> str:
    """A share as a percentage with one decimal; an em dash when undefined."""
    return "—" if value is None else f"{100 * value:.1f}%"


def markdown(frame: pl.DataFrame, shares: set[str], money: set[str] = frozenset()) -> str:
    """A frame as a Markdown table: shares as percentages, money and counts with separators."""
    head = "| " + " | ".join(frame.columns) + " |"
    align = "| " + " | ".join("---" if i == 0 else "---:" for i in range(frame.width)) + " |"
    rows = []
    for row in frame.iter_rows(named=True):
        cells = []
        for name, value in row.items():
            if name in shares:
                cells.append(pct(value))
            elif name in money:
                cells.append(f"{value:,.0f}")
            elif isinstance(value, int):
                cells.append(f"{value:,}")
            else:
                cells.append(str(value))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, align, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=BENCH_ROOT / "book")
    parser.add_argument("--charge-off-days", type=int, nargs="*", default=[180, 360])
    parser.add_argument("--moves", type=int, default=12, help="month-to-month moves pooled")
    args = parser.parse_args()

    config = SimulationConfig(customers=args.customers, months=args.months, seed=args.seed)
    seconds = simulated(args.out, config)
    invoices, payments = read_typed(args.out, "invoices"), read_typed(args.out, "payments")
    months = month_ends(config.end, args.moves + 1)
    as_of = months[-1]
    print(f"{machine()}, polars {pl.__version__}; {date.today()}")
    print(
        f"book: {args.customers:,} customers x {args.months} months, seed {args.seed} "
        f"(simulated in {seconds:.1f} s; 0 = reused), under {args.out}; "
        f"last month end {as_of}, moves {months[0]} .. {as_of}\n"
    )
    started = time.perf_counter()
    views: list[tuple[str, int | None]] = [("as simulated (nothing written off)", None)]
    views += [(f"written off at {days} days past due", days) for days in args.charge_off_days]
    summary = []
    for title, charge_off in views:
        aging = aging_distribution(invoices, payments, as_of, charge_off_days=charge_off)
        rates = roll_rates(invoices, payments, months, charge_off_days=charge_off)
        cures = cure_rates(invoices, payments, months, charge_off_days=charge_off)
        rolls = forward_roll_rates(rates)
        print(f"### Aging at {as_of}, {title}\n")
        print(
            markdown(
                aging,
                {"customer_share", "amount_share", "invoice_amount_share"},
                {"amount", "invoice_amount"},
            )
        )
        matrix = roll_matrix(rates)
        print(f"\n### Roll-rate matrix (customers), {args.moves} moves pooled, {title}\n")
        print(markdown(matrix, set(matrix.columns[2:])))
        print(f"\n### Classic roll rates, {title}\n")
        print(markdown(rolls, {"roll_rate"}))
        print(f"\n### Cure rates (nothing past due a month later), {title}\n")
        print(markdown(cures, {"cure_rate", "amount_cure_rate"}, {"amount", "cured_amount"}))
        print()
        late = pl.col("bucket").cast(pl.String).is_in(["1-30", "31-60", "61-90"])
        severe = pl.col("bucket").cast(pl.String).is_in(["91-180", "180+"])
        summary.append(
            aging.select(
                pl.lit(title).alias("view"),
                pl.col("customers").sum().alias("customers in the book"),
                pl.col("customer_share").filter(late).sum().alias("1-90 (customers)"),
                pl.col("customer_share").filter(severe).sum().alias("90+ (customers)"),
                pl.col("amount_share").filter(severe).sum().alias("90+ (open amount)"),
            )
        )
    table_ = pl.concat(summary)
    print(f"### Delinquent shares of the book at {as_of}\n")
    print(markdown(table_, set(table_.columns[2:])))
    print(f"\nmeasured in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
