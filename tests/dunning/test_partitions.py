"""Ranges of customers decided apart: every customer in exactly one, near-equal sizes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.dunning.partitions import (
    CustomerRange,
    cache_folder,
    cache_key,
    plan_ranges,
    range_tables,
)
from regua.features.catalog import CATALOG_VERSION

IDS = pl.Series("customer_id", [f"C{i:02d}" for i in range(1, 11)])


def test_ten_customers_in_three_ranges():
    assert plan_ranges(IDS, 3) == [
        CustomerRange(0, "C01", "C03", 3),
        CustomerRange(1, "C04", "C07", 4),
        CustomerRange(2, "C08", "C10", 3),
    ]


def test_more_partitions_than_customers_gives_one_customer_each():
    ranges = plan_ranges(IDS[:2], 4)
    assert [(r.first_customer, r.last_customer, r.rows) for r in ranges] == [
        ("C01", "C01", 1),
        ("C02", "C02", 1),
    ]
    assert plan_ranges(IDS[:0], 4) == []
    with pytest.raises(ValueError, match="at least 1"):
        plan_ranges(IDS, 0)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.integers(1, 40))
def test_every_customer_falls_in_exactly_one_range(customers, partitions):
    ids = pl.Series("customer_id", [f"C{i:05d}" for i in range(customers)])
    ranges = plan_ranges(ids, partitions)
    assert len(ranges) == min(customers, partitions)
    frame = ids.to_frame()
    counts = frame.select(
        pl.sum_horizontal(r.contains().cast(pl.Int32) for r in ranges).alias("n")
    )["n"]
    assert (counts == 1).all()
    sizes = [r.rows for r in ranges]
    assert sum(sizes) == customers and max(sizes) - min(sizes) <= 1
    assert [r.index for r in ranges] == list(range(len(ranges)))


def test_a_range_reads_its_own_customers_rows_and_the_shared_tables():
    tables = {
        "customers": pl.LazyFrame({"customer_id": ["C01", "C05", "C09"]}),
        "invoices": pl.LazyFrame({"customer_id": ["C01", "C04", "C05", "C07", "C08"]}),
        "macro": pl.LazyFrame({"indicator": ["selic", "ipca"]}),
    }
    own = range_tables(tables, CustomerRange(1, "C04", "C07", 4))
    assert own["customers"].collect()["customer_id"].to_list() == ["C05"]
    assert own["invoices"].collect()["customer_id"].to_list() == ["C04", "C05", "C07"]
    assert own["macro"].collect()["indicator"].to_list() == ["selic", "ipca"]


def test_the_cache_key_changes_with_each_input_and_names_the_catalog():
    as_of = date(2026, 10, 30)
    key = cache_key("/data/store", "v1", as_of, 2)
    assert key == cache_key("/data/store", "v1", as_of, 2)
    assert CATALOG_VERSION in key
    others = {
        cache_key("/other/store", "v1", as_of, 2),
        cache_key("/data/store", "v2", as_of, 2),
        cache_key("/data/store", "v1", date(2026, 10, 29), 2),
        cache_key("/data/store", "v1", as_of, 3),
    }
    assert key not in others and len(others) == 4
    folder = cache_folder(Path("/c"), "v1", as_of, 2)
    assert folder == Path("/c/v1/2026-10-30/2")
