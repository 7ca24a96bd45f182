"""The shape of the default simulated book: aging, roll rates and cure rates, as Markdown.

Simulates the default demo book once (`SimulationConfig(customers=20000, months=24,
seed=1)`, charged off by the simulator at 180 days past due, Parquet) under
/tmp/regua-bench/book, reads its raw invoices and payments with the contract's types and
prints, for the last month end and the 12 month-to-month moves before it: the aging
distribution, the pooled roll-rate matrix, the classic roll rates and the cure rates per
bucket. Each table is shown as simulated (measured with the simulator's own charge-off
age, so written-off invoices have left the open book) and as if held to each
`--hold-days` (360: about when a bank under CMN Resolution 2.682 wrote a loan off; the
written-off invoices stay in the exports, so the measurement can keep them), then a
summary of the delinquent shares of the book under each view: at the last month end, on
average over the 12 month ends, and the share of the book rolling past 90 days a month.

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
    wanted = {
        "customers": config.customers,
        "months": config.months,
        "seed": config.seed,
        "charge_off_days": config.charge_off_days,
    }
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


def pct(value: float | None, decimals: int = 1) -> str:
    """A share as a percentage with one decimal (or `decimals`); an em dash when undefined."""
    return "—" if value is None else f"{100 * value:.{decimals}f}%"


def markdown(
    frame: pl.DataFrame,
    shares: set[str],
    money: set[str] = frozenset(),
    precise: set[str] = frozenset(),
) -> str:
    """A frame as a Markdown table: shares as percentages (`precise` ones with two
    decimals), money and counts with separators."""
    head = "| " + " | ".join(frame.columns) + " |"
    align = "| " + " | ".join("---" if i == 0 else "---:" for i in range(frame.width)) + " |"
    rows = []
    for row in frame.iter_rows(named=True):
        cells = []
        for name, value in row.items():
            if name in shares:
                cells.append(pct(value, 2 if name in precise else 1))
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
    parser.add_argument(
        "--charge-off-days", type=int, default=180, help="the simulator's charge-off age"
    )
    parser.add_argument(
        "--hold-days", type=int, nargs="*", default=[360], help="measure as if held this long"
    )
    parser.add_argument("--moves", type=int, default=12, help="month-to-month moves pooled")
    args = parser.parse_args()

    config = SimulationConfig(
        customers=args.customers,
        months=args.months,
        seed=args.seed,
        charge_off_days=args.charge_off_days,
    )
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
    views: list[tuple[str, int | None]] = [
        (f"as simulated (charged off at {config.charge_off_days} days)", config.charge_off_days)
    ]
    views += [(f"held to {days} days past due", days) for days in args.hold_days]
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
        shares = [
            aging_distribution(invoices, payments, day, charge_off_days=charge_off).select(
                pl.col("customer_share").filter(late).sum().alias("early"),
                pl.col("customer_share").filter(severe).sum().alias("severe"),
            )
            for day in months[1:]
        ]
        means = pl.concat(shares).mean()
        before_90 = (
            pl.col("from_bucket").cast(pl.String).is_in(["current", "1-30", "31-60", "61-90"])
        )
        past_90 = ~pl.col("to_bucket").cast(pl.String).is_in(["current", "1-30", "31-60", "61-90"])
        inflow = rates.filter(before_90 & past_90)["customers"].sum() / rates["customers"].sum()
        summary.append(
            aging.select(
                pl.lit(title).alias("view"),
                pl.col("customers").sum().alias("customers in the book"),
                pl.col("customer_share").filter(late).sum().alias("1-90 (customers)"),
                pl.col("customer_share").filter(severe).sum().alias("90+ (customers)"),
                pl.col("amount_share").filter(severe).sum().alias("90+ (open amount)"),
                pl.lit(means["early"].item()).alias(f"1-90, mean of {args.moves} month ends"),
                pl.lit(means["severe"].item()).alias(f"90+, mean of {args.moves} month ends"),
                pl.lit(inflow).alias("rolling past 90 a month"),
            )
        )
    table_ = pl.concat(summary)
    print(f"### Delinquent shares of the book at {as_of}\n")
    print(markdown(table_, set(table_.columns[2:]), precise={"rolling past 90 a month"}))
    print(f"\nmeasured in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
