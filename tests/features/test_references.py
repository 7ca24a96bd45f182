"""The polars engine and the two reference implementations (pandas, DuckDB) in benchmarks/
agree on every feature of a generated portfolio."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from benchmarks import features_duckdb, features_pandas
from regua.features import build_from_frames
from regua.features.catalog import output_schema
from tests.features.frames import random_portfolio


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """A reference's output cast to the engine's schema (categories via their labels)."""
    schema = output_schema()
    return frame.select(
        pl.col(name).cast(pl.String).cast(dtype)
        if isinstance(dtype, pl.Enum)
        else pl.col(name).cast(dtype)
        for name, dtype in schema.items()
    )


@pytest.fixture(scope="module")
def portfolio() -> dict[str, pl.DataFrame]:
    return random_portfolio(seed=11, customers=150)


@pytest.mark.parametrize("as_of", [date(2025, 3, 15), date(2026, 1, 1), date(2026, 10, 31)])
@pytest.mark.parametrize("optional", ["with", "without"])
def test_references_agree(portfolio: dict[str, pl.DataFrame], as_of: date, optional: str) -> None:
    frames = dict(portfolio)
    if optional == "without":
        del frames["contacts"], frames["macro"]
    expected = build_from_frames(frames, as_of)
    by_pandas = pl.from_pandas(
        features_pandas.build_features({k: v.to_pandas() for k, v in frames.items()}, as_of)
    )
    by_duckdb = pl.from_arrow(features_duckdb.build_features(frames, as_of))
    for reference in (by_pandas, by_duckdb):
        assert_frame_equal(conform(reference), expected, rel_tol=1e-9, abs_tol=1e-9)
