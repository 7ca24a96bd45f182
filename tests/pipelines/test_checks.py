"""Pre-flight checks: each situation gets its own message ("does not exist" is not "is empty")."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from regua.pipelines.checks import (
    CheckError,
    parse_day,
    require_database_url,
    require_raw_folder,
    require_schedule,
    require_store,
    require_store_target,
    require_table_file,
    require_tracking_folder,
    require_writable_file,
    require_writable_folder,
)
from regua.store import Store


def message(check, *args, **kwargs) -> str:
    """The one-line message `check` stops with."""
    with pytest.raises(CheckError) as caught:
        check(*args, **kwargs)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_a_raw_folder_missing_empty_or_without_files_is_each_named(tmp_path):
    raw = tmp_path / "raw"
    assert message(require_raw_folder, raw) == (
        f"raw folder {raw} does not exist: it is where the day's exports land"
    )
    raw.mkdir()
    (raw / ".partial").write_text("hidden files are not exports")
    assert message(require_raw_folder, raw).startswith(f"raw folder {raw} is empty: it must hold")
    (raw / "truth").mkdir()
    assert message(require_raw_folder, raw).startswith(f"raw folder {raw} holds only folders: ")
    require_raw_folder(raw, may_be_empty=True)
    (raw / "customers.csv").write_text("customer_id\nC1\n")
    require_raw_folder(raw)
    assert message(require_raw_folder, raw / "customers.csv").startswith(
        f"raw folder {raw / 'customers.csv'} is a file"
    )


def test_a_store_missing_empty_foreign_or_broken_is_each_named(tmp_path):
    store = tmp_path / "store"
    assert message(require_store, store) == (
        f"store {store} does not exist: run `regua ingest --store {store}` first"
    )
    (store / "versions").mkdir(parents=True)
    (store / ".lock").write_text("")
    assert message(require_store, store).startswith(
        f"store {store} is empty (no version committed)"
    )
    (tmp_path / "notes.txt").write_text("not a store")
    assert message(require_store, tmp_path).startswith(f"store {tmp_path} is not a regua store")
    (store / "CURRENT").write_text("v-gone")
    assert message(require_store, store) == (
        f"store {store}: CURRENT names version v-gone, which is missing"
    )
    assert message(require_store, tmp_path / "notes.txt").startswith("store ")


def test_a_committed_store_passes_and_is_returned(tmp_path):
    Store(tmp_path / "store").commit({}, {}, {"source": "test"})
    assert require_store(tmp_path / "store").version is not None


def test_ingest_goes_to_a_store_a_new_or_an_empty_folder_only(tmp_path):
    require_store_target(tmp_path / "new" / "store")
    (tmp_path / "empty").mkdir()
    require_store_target(tmp_path / "empty")
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "customers.csv").write_text("customer_id\nC1\n")
    assert message(require_store_target, tmp_path / "raw").startswith(
        f"store {tmp_path / 'raw'} is not a regua store and not empty"
    )


def test_a_folder_under_a_file_cannot_be_created(tmp_path):
    (tmp_path / "a-file").write_text("")
    assert message(require_writable_folder, tmp_path / "a-file" / "out", "outputs folder") == (
        f"outputs folder {tmp_path / 'a-file' / 'out'} cannot be created: "
        f"{tmp_path / 'a-file'} is a file"
    )
    require_writable_folder(tmp_path / "new" / "deeper", "outputs folder")
    assert message(require_writable_file, tmp_path / "f.json", "--out", (".parquet", ".csv")) == (
        f"--out {tmp_path / 'f.json'} must end in .parquet or .csv"
    )


def test_a_day_must_be_written_iso():
    assert parse_day("2026-10-30") == date(2026, 10, 30)
    assert message(parse_day, "30/10/2026") == (
        "--as-of '30/10/2026' is not a date: write it as YYYY-MM-DD"
    )
    assert message(parse_day, "2026-02-30", "--end").startswith("--end '2026-02-30' is not a date")


def test_a_table_file_that_is_not_parquet_inside_is_named(tmp_path):
    fake = tmp_path / "labels.parquet"
    fake.write_text("customer_id,as_of,label\n")
    assert message(require_table_file, fake, "labels file").startswith(
        f"labels file {fake} cannot be read as Parquet: "
    )
    real = tmp_path / "truth.parquet"
    pl.DataFrame({"customer_id": ["C1"]}).write_parquet(real)
    require_table_file(real, "truth file", suffixes=(".parquet",))


def test_schedules_database_urls_and_tracking_folders(tmp_path):
    require_schedule("0 2 * * *", "America/Sao_Paulo")
    assert message(require_schedule, "0 2 * * *", "America/Sao_Polo").startswith(
        "--timezone 'America/Sao_Polo' is not a known time zone"
    )
    assert message(require_schedule, "0 2 * *", "UTC").startswith("--cron '0 2 * *' is not a cron")
    require_database_url(f"sqlite:///{tmp_path}/regua.db")
    assert message(require_database_url, "nosuchdb://x").startswith(
        "--db-url 'nosuchdb://x' is not a usable SQLAlchemy URL"
    )
    require_tracking_folder(f"sqlite:///{tmp_path}/mlflow.db")
    require_tracking_folder("http://mlflow:5000")
    assert message(require_tracking_folder, f"sqlite:///{tmp_path}/gone/mlflow.db").startswith(
        f"MLflow store sqlite:///{tmp_path}/gone/mlflow.db: folder {tmp_path / 'gone'} does "
        "not exist"
    )
