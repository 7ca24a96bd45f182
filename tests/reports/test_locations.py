"""Where notebooks look: the settings' locations, and the date from REGUA_AS_OF or the data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from regua.contract import empty_frame, table
from regua.reports.locations import notebook_locations
from regua.settings import Settings
from regua.store import Store


@pytest.fixture(autouse=True)
def _settings_only_from_the_test(monkeypatch, tmp_path):
    """No regua.toml and no location variables of the session reach these settings."""
    for name in ("REGUA_DATA_DIR", "REGUA_STORE_DIR", "REGUA_OUT_DIR", "REGUA_CONFIG",
                 "REGUA_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def typed(name: str, rows: dict[str, list]) -> pl.DataFrame:
    """Rows of a canonical table, the columns not given left empty."""
    empty = empty_frame(table(name))
    given = pl.DataFrame(rows).cast({column: empty.schema[column] for column in rows})
    return pl.concat([empty, given], how="diagonal")


def test_the_locations_are_the_settings(tmp_path):
    settings = Settings(
        store_dir=tmp_path / "store", out_dir=tmp_path / "out", mlflow_tracking_uri="http://m:5000"
    )
    where = notebook_locations(settings, environ={"REGUA_AS_OF": "2026-09-30"})
    assert where.store_dir == tmp_path / "store"
    assert where.outputs_dir == tmp_path / "out"
    assert where.tracking_uri == "http://m:5000"
    assert where.as_of == date(2026, 9, 30)


def test_the_data_dir_moves_every_location(tmp_path):
    where = notebook_locations(Settings(data_dir=tmp_path), environ={"REGUA_AS_OF": "2026-09-30"})
    assert where.store_dir == tmp_path / "store"
    assert where.outputs_dir == tmp_path / "out"
    assert where.tracking_uri == f"sqlite:///{tmp_path}/mlflow.db"


def test_relative_paths_are_shown_from_the_working_directory(tmp_path):
    settings = Settings(data_dir=Path("data"))
    where = notebook_locations(settings, environ={"REGUA_AS_OF": "2026-09-30"})
    assert where.store_dir == tmp_path / "data" / "store"


def test_without_regua_as_of_the_latest_scored_day_is_used(tmp_path):
    for day in ("2026-09-30", "2026-10-30", "not-a-day"):
        (tmp_path / "out" / day).mkdir(parents=True)
        (tmp_path / "out" / day / "manifest.json").write_text("{}")
    (tmp_path / "out" / "2026-11-30").mkdir()  # no manifest: an unfinished folder
    assert notebook_locations(Settings(data_dir=tmp_path), environ={}).as_of == date(2026, 10, 30)


def test_without_outputs_the_last_day_of_the_store_is_used(tmp_path):
    invoices = typed(
        "invoices",
        {
            "invoice_id": ["I1", "I2"],
            "customer_id": ["C1", "C1"],
            "issued_at": [date(2026, 8, 1), date(2026, 9, 5)],
            "due_at": [date(2026, 8, 10), date(2026, 9, 15)],
            "amount": [100.0, 80.0],
        },
    )
    payments = typed(
        "payments",
        {
            "payment_id": ["P1"],
            "invoice_id": ["I1"],
            "customer_id": ["C1"],
            "paid_at": [date(2026, 9, 20)],
            "amount": [100.0],
        },
    )
    Store(tmp_path / "store").commit({"invoices": invoices, "payments": payments}, {}, {})
    assert notebook_locations(Settings(data_dir=tmp_path), environ={}).as_of == date(2026, 9, 20)


def test_without_a_date_or_data_the_message_says_what_to_set(tmp_path):
    with pytest.raises(ValueError, match=r"no date to look at: .* set REGUA_AS_OF=YYYY-MM-DD"):
        notebook_locations(Settings(data_dir=tmp_path), environ={})


def test_a_bad_regua_as_of_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"REGUA_AS_OF='30/09/2026' is not a date: .*YYYY-MM-DD"):
        notebook_locations(Settings(data_dir=tmp_path), environ={"REGUA_AS_OF": "30/09/2026"})
