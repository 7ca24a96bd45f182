"""Partitions of a day's customers: contiguous ranges of customer ids decided apart.

A customer's decisions depend on that customer's rows only (and on shared tables such as
macro), so the day can be cut into ranges of customer ids, each scored and decided on
its own, possibly on another machine, and merged back (`actions.merge_decisions`) into
the same bytes. The ranges, the tables a range reads, and the cache key of the day's
partitioned inputs live here; writing and reading the files is the flow's job.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from regua.features.catalog import CATALOG_VERSION

CUSTOMER_TABLES = ("customers", "invoices", "payments", "contacts", "customer_attributes")
"""Tables a partition reads only its own customers' rows of (macro is shared)."""
LAYOUT = "open-invoices+case-clocks"
"""What a cached partition holds besides features; part of the cache key (changing it rebuilds)."""


@dataclass(frozen=True)
class CustomerRange:
    """The `index`-th range of customers, first to last id (both included), and its size."""

    index: int
    first_customer: str
    last_customer: str
    rows: int

    def contains(self, column: str = "customer_id") -> pl.Expr:
        """True for the rows of this range's customers."""
        return pl.col(column).is_between(pl.lit(self.first_customer), pl.lit(self.last_customer))


def plan_ranges(customer_ids: pl.Series, partitions: int) -> list[CustomerRange]:
    """At most `partitions` ranges of near-equal size over sorted, unique customer ids."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, got {partitions}")
    if customer_ids.is_empty():
        return []
    count = min(partitions, customer_ids.len())
    bounds = [round(i * customer_ids.len() / count) for i in range(count + 1)]
    return [
        CustomerRange(index, customer_ids[start], customer_ids[end - 1], end - start)
        for index, (start, end) in enumerate(itertools.pairwise(bounds))
    ]


def range_tables(
    tables: Mapping[str, pl.LazyFrame], customers: CustomerRange
) -> dict[str, pl.LazyFrame]:
    """The tables as one range of customers reads them: its own rows, and every shared one."""
    return {
        name: frame.filter(customers.contains()) if name in CUSTOMER_TABLES else frame
        for name, frame in tables.items()
    }


def cache_key(store: str, version: str, as_of: date, partitions: int) -> str:
    """What decides a day's partitioned inputs: the store and its version, as_of, the
    number of partitions, the feature catalog and the partition layout."""
    identity = f"{store}|{version}|{as_of.isoformat()}|{partitions}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
    return f"regua-features-{digest}-{CATALOG_VERSION}-{LAYOUT}"


def cache_folder(cache_root: Path, version: str, as_of: date, partitions: int) -> Path:
    """The folder of a day's partitions under a cache root: <version>/<as_of>/<partitions>."""
    return cache_root / version / as_of.isoformat() / str(partitions)
