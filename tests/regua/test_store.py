"""The store swaps versions atomically and links what did not change."""

from __future__ import annotations

import errno
import os

import polars as pl
import pytest

from regua.store import (
    KEEP_VERSIONS,
    StaleVersionError,
    Store,
    write_frame_atomic,
    write_parquet_atomic,
)
from tests.mounts import fill, remount_read_only, tmpfs


def customers(limit: float) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": ["C1"], "credit_limit": [limit]})


def test_empty_store_scans_typed_empty_tables(tmp_path):
    store = Store(tmp_path / "store")
    assert store.version is None
    frame = store.read("invoices")
    assert frame.height == 0 and frame.schema["amount"] == pl.Float64


def test_commit_swaps_and_links_unchanged_tables(tmp_path):
    store = Store(tmp_path)
    first = store.commit({"customers": customers(1.0), "invoices": customers(2.0)}, {}, {"n": 1})
    second = store.commit({"customers": customers(3.0)}, {}, {"n": 2})
    assert store.version == second != first
    assert store.read("customers")["credit_limit"].item() == 3.0
    old = tmp_path / "versions" / first / "tables" / "invoices.parquet"
    new = tmp_path / "versions" / second / "tables" / "invoices.parquet"
    assert os.path.samefile(old, new)
    assert store.manifest()["previous_version"] == first


def test_a_failed_commit_leaves_the_current_version(tmp_path):
    store = Store(tmp_path)
    store.commit({"customers": customers(1.0)}, {}, {})
    before = store.version

    class Boom:
        def write_parquet(self, *args, **kwargs):
            raise OSError("disk full")

    with pytest.raises(OSError):
        store.commit({"customers": Boom()}, {}, {})  # type: ignore[dict-item]
    assert store.version == before
    assert store.read("customers")["credit_limit"].item() == 1.0
    assert not list((tmp_path / "versions").glob(".staging-*"))


def test_old_versions_are_pruned(tmp_path):
    store = Store(tmp_path)
    for i in range(KEEP_VERSIONS + 2):
        store.commit({"customers": customers(float(i))}, {}, {})
    assert len(list((tmp_path / "versions").iterdir())) == KEEP_VERSIONS
    assert store.read("customers")["credit_limit"].item() == KEEP_VERSIONS + 1


def test_a_commit_on_a_version_that_moved_is_refused(tmp_path):
    store = Store(tmp_path)
    first = store.commit({"customers": customers(1.0)}, {}, {})
    store.commit({"customers": customers(2.0)}, {}, {}, expected_version=first, check_version=True)
    with pytest.raises(StaleVersionError):
        store.commit(
            {"customers": customers(3.0)}, {}, {}, expected_version=first, check_version=True
        )
    assert store.read("customers")["credit_limit"].item() == 2.0


def test_a_commit_on_a_full_disk_names_the_file_and_keeps_the_store(tmp_path):
    with tmpfs(tmp_path / "disk", size="1m") as disk:
        store = Store(disk / "store")
        first = store.commit({"customers": customers(1.0)}, {}, {})
        fill(disk)
        bigger = pl.DataFrame({"customer_id": [f"C{i}" for i in range(50_000)]})
        with pytest.raises(OSError) as raised:
            store.commit({"customers": bigger}, {}, {})
        assert raised.value.errno == errno.ENOSPC
        assert raised.value.filename.startswith(f"{disk}/store/versions/.staging-")
        assert raised.value.filename.endswith("/tables/customers.parquet")
        assert store.version == first
        assert store.read("customers")["credit_limit"].to_list() == [1.0]
        assert [p.name for p in (disk / "store" / "versions").iterdir()] == [first]


def test_an_atomic_write_on_a_full_disk_names_the_file_and_leaves_no_temporary(tmp_path):
    with tmpfs(tmp_path / "disk", size="256k") as disk:
        write_parquet_atomic(customers(1.0), disk / "old.parquet")
        fill(disk)
        frame = pl.DataFrame({"customer_id": [f"C{i}" for i in range(50_000)]})
        for path in (disk / "new.parquet", disk / "new.csv"):
            with pytest.raises(OSError) as raised:
                write_frame_atomic(frame, path)
            assert (raised.value.errno, raised.value.filename) == (errno.ENOSPC, str(path))
        assert sorted(p.name for p in disk.iterdir()) == [".filler", "old.parquet"]
        assert pl.read_parquet(disk / "old.parquet")["credit_limit"].to_list() == [1.0]


def test_a_read_only_store_refuses_a_commit_and_stays_readable(tmp_path):
    with tmpfs(tmp_path / "disk") as disk:
        store = Store(disk / "store")
        first = store.commit({"customers": customers(1.0)}, {}, {})
        remount_read_only(disk)
        with pytest.raises(OSError) as raised:
            store.commit({"customers": customers(2.0)}, {}, {})
        assert raised.value.errno == errno.EROFS
        assert store.version == first
        assert store.read("customers")["credit_limit"].to_list() == [1.0]
