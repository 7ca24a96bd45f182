"""`regua features` and `regua features-doc` end to end on a store written by the test."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from regua.cli import app
from regua.features import build, build_from_frames, catalog_markdown
from regua.store import Store
from tests.features.frames import random_portfolio


def test_features_command_writes_the_table(tmp_path: Path) -> None:
    frames = random_portfolio(seed=2, customers=25, months=8)
    store = tmp_path / "store"
    Store(store).commit(frames, {}, {"source": "test"})
    out = tmp_path / "out" / "features.parquet"
    result = CliRunner().invoke(
        app,
        ["features", "--store", str(store), "--as-of", "2026-09-30", "--as-of", "2026-10-31",
         "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = pl.read_parquet(out)
    expected = build_from_frames(frames, [date(2026, 9, 30), date(2026, 10, 31)])
    assert_frame_equal(written, expected)
    assert_frame_equal(build(store, [date(2026, 9, 30), date(2026, 10, 31)]), expected)


def test_features_command_rejects_a_bad_date(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["features", "--store", str(tmp_path), "--as-of", "30/09/2026", "--out", "x.parquet"]
    )
    assert result.exit_code != 0


def test_features_doc_prints_the_catalog() -> None:
    result = CliRunner().invoke(app, ["features-doc"])
    assert result.exit_code == 0
    assert result.output == catalog_markdown()
