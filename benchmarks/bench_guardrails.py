"""Guardrails speed: apply_guardrails on synthetic proposed actions over the 27 UFs.

    python benchmarks/bench_guardrails.py [--actions 1000000] [--customers 300000] [--seed 1]

Actions are random (seeded): proposed times over 14 days from as_of at any hour, all six
channels, ordinary reminders plus a few listing notices, listings and suspensions; a
history of about one past contact per customer. Prints rows, seconds and the status counts.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime

import numpy as np
import polars as pl

from regua.config.guardrails import load_guardrails
from regua.contract import CHANNELS, UFS
from regua.dunning.guardrails import apply_guardrails

PURPOSES = ("reminder",) * 90 + ("negative_listing_notice",) * 4 + ("negative_listing",) * 3
PURPOSES += ("suspension",) * 3


def synthetic(n: int, customers: int, as_of: date, seed: int) -> tuple[pl.DataFrame, ...]:
    """Proposed actions, customers and contact history, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    start = datetime.combine(as_of, datetime.min.time())
    cust = rng.integers(0, customers, n)
    actions = pl.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in cust],
            "invoice_id": [
                f"I{i:07d}-{j}" for i, j in zip(cust, rng.integers(0, 3, n), strict=True)
            ],
            "step_id": [f"s{k}" for k in rng.integers(0, 12, n)],
            "channel": rng.choice(CHANNELS, n),
            "purpose": rng.choice(PURPOSES, n),
            "scheduled_for": pl.Series(
                start.timestamp() * 1e6 + rng.integers(0, 14 * 86_400, n) * 1e6
            )
            .cast(pl.Int64)
            .cast(pl.Datetime("us")),
        }
    ).with_columns(pl.col("scheduled_for").dt.replace_time_zone("UTC").dt.replace_time_zone(None))
    people = pl.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in range(customers)],
            "state": rng.choice(UFS, customers),
            "do_not_contact": rng.random(customers) < 0.01,
            "opt_out_sms": rng.random(customers) < 0.05,
        }
    )
    past_n = customers
    past_cust = rng.integers(0, customers, past_n)
    history = pl.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in past_cust],
            "invoice_id": [f"I{i:07d}-0" for i in past_cust],
            "at": pl.Series(start.timestamp() * 1e6 - rng.integers(1, 10 * 86_400, past_n) * 1e6)
            .cast(pl.Int64)
            .cast(pl.Datetime("us")),
            "channel": rng.choice(CHANNELS[:4], past_n),
            "step_id": [f"s{k}" for k in rng.integers(0, 12, past_n)],
            "outcome": "delivered",
        }
    )
    return actions, people, history


def main() -> None:
    """Build the inputs, then time one apply_guardrails call."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actions", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    as_of = date(2026, 11, 9)
    actions, people, history = synthetic(args.actions, args.customers, as_of, args.seed)
    config = load_guardrails()
    started = time.perf_counter()
    out = apply_guardrails(actions, people, history, config, as_of)
    seconds = time.perf_counter() - started
    assert out.height == actions.height
    print(f"actions {actions.height:,}  customers {args.customers:,}  seconds {seconds:.2f}")
    print(out.group_by("status").len().sort("status"))
    print(
        out.with_columns(pl.col("reason").str.split("; "))
        .explode("reason")
        .group_by("reason")
        .len()
        .sort("len", descending=True)
    )


if __name__ == "__main__":
    main()
