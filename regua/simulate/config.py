"""Settings and summary of a portfolio simulation, and the seeding that makes it reproducible.

Every random draw comes from a generator seeded by (config seed, stage, block), so a
stage's draws never shift when another stage changes, and a block of customers gets
the same draws whatever the other blocks hold. The block size is a constant, so the
output depends on the config alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from pathlib import Path

import numpy as np
import polars as pl

BLOCK_CUSTOMERS = 50_000
"""Customers simulated together: bounds memory; fixed so output depends on the config only."""

RAW_TABLES = ("customers", "invoices", "payments", "contacts", "macro", "customer_attributes")
TRUTH_TABLE = "truth"
MAX_MONTHS = 120
MIN_CHARGE_OFF_DAYS = 90
"""The chain's default state begins at about 90 days past due: an earlier write-off would
fall inside the windows in which dpd30 and dpd60 customers cure."""


class Stage(IntEnum):
    """Independent random streams, one per simulation stage."""

    MACRO = 0
    KINDS = 1
    DOCUMENTS = 2
    CUSTOMERS = 3
    STATES = 4
    INVOICES = 5
    PAYMENTS = 6
    LADDER = 7
    DEFECTS = 8
    CONTACTS = 9
    ATTRIBUTES = 10


def rng_for(seed: int, stage: Stage, block: int = 0) -> np.random.Generator:
    """The generator of one stage of one block, derived from the config seed."""
    sequence = np.random.SeedSequence(entropy=seed % 2**64, spawn_key=(int(stage), block))
    return np.random.default_rng(sequence)


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate: how many customers, how many months back from `end`, and the seed.

    `charge_off_days`: an invoice still unpaid `charge_off_days` days after its due date
    is written off on the next day; the customer's account is closed (no bill is issued
    after that day), the written-off invoices stay in the exports unpaid, and an agency
    may recover some of them later (regua.simulate.risk). 180 by default: CMN Resolution
    2.682 art. 4 rates an operation more than 180 days late at H (fully provisioned), US
    card issuers charge off open-end credit at 180 days (the FFIEC's retail credit
    policy), and it is the collection twin's default (issue 17). Past 180 days nothing
    the lender's own collection does is left to measure; a bank that keeps a loan on the
    books longer (2.682 art. 7, about 360 days, our reading) is the measurement's
    `charge_off_days`, not the simulator's.
    """

    customers: int
    months: int
    seed: int
    end: date = date(2026, 10, 31)
    error_rate: float = 0.0
    charge_off_days: int = 180

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError(f"customers must be at least 1, got {self.customers}")
        if not 1 <= self.months <= MAX_MONTHS:
            raise ValueError(f"months must be between 1 and {MAX_MONTHS}, got {self.months}")
        if not 0.0 <= self.error_rate <= 0.5:
            raise ValueError(f"error_rate must be between 0 and 0.5, got {self.error_rate}")
        if self.charge_off_days < MIN_CHARGE_OFF_DAYS:
            raise ValueError(
                f"charge_off_days must be at least {MIN_CHARGE_OFF_DAYS}, "
                f"got {self.charge_off_days}"
            )


@dataclass
class SimulationSummary:
    """Rows written per table, the files written and the wall time of a simulation."""

    rows: dict[str, int]
    files: list[Path]
    seconds: float

    def to_text(self) -> str:
        """A short human-readable table of rows per table, the files and the time taken."""
        width = max(len(name) for name in self.rows) if self.rows else 5
        lines = [f"{'table':<{width}}  {'rows':>12}"]
        lines += [f"{name:<{width}}  {count:>12,}" for name, count in self.rows.items()]
        lines.append("files:")
        lines += [f"  {path}" for path in self.files]
        lines.append(f"time: {self.seconds:.1f} s")
        return "\n".join(lines)


def sequential_ids(prefix: str, first: int, n: int, name: str, width: int = 10) -> pl.Series:
    """`prefix` + zero-padded numbers first+1 .. first+n (e.g. I0000000001), unique per run."""
    numbers = pl.Series(np.arange(first + 1, first + n + 1, dtype=np.int64))
    return (prefix + numbers.cast(pl.String).str.zfill(width)).alias(name)
