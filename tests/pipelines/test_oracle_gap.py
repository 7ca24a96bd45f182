"""The oracle is a ceiling: on the demo's book and on two other seeds, no model beats it.

Slow (a 50,000-customer demo book and two of 20,000): `make test-slow`. The default
suite keeps the small version (tests/pipelines/test_train.py, 1,500 customers).
"""

from __future__ import annotations

import polars as pl
import pytest

from regua.contract import TABLES
from regua.ingest.ingest import ingest_exports
from regua.models.train import TrainingSpec, snapshot_features, train
from regua.settings import Settings
from regua.simulate import SimulationConfig, simulate_portfolio
from regua.store import Store
from tests.conftest import TEST_DOCUMENT_KEY

pytestmark = pytest.mark.slow

BOOKS = {
    # the demo's book (Makefile: 50,000 customers, seed 7, export defects at 0.001)
    "demo": SimulationConfig(customers=50_000, months=24, seed=7, error_rate=0.001),
    "seed 1": SimulationConfig(customers=20_000, months=24, seed=1),
    "seed 11": SimulationConfig(customers=20_000, months=24, seed=11),
}


@pytest.mark.parametrize("book", list(BOOKS))
def test_no_model_beats_the_point_in_time_oracle(book, tmp_path):
    simulate_portfolio(BOOKS[book], tmp_path / "raw")
    ingest_exports(
        tmp_path / "raw",
        tmp_path / "store",
        settings=Settings(document_key=TEST_DOCUMENT_KEY),
        build_docs=False,
    )
    store = Store(tmp_path / "store")
    tables = {name: store.scan(name) for name in TABLES}
    truth = pl.read_parquet(tmp_path / "raw" / "truth" / "truth.parquet")
    specs = [TrainingSpec(kind=kind) for kind in ("delinquency", "propensity_to_pay")]
    table = snapshot_features(tables, specs)
    for spec in specs:
        result = train(tables, spec, truth=truth, feature_table=table)
        assert result.oracle_auc is not None, f"{book} {spec.kind}: the oracle was not measured"
        assert result.oracle_gap >= 0, (
            f"{book} {spec.kind}: model AUC {result.oracle_model_auc:.4f} above the oracle's "
            f"{result.oracle_auc:.4f} on the same {result.oracle_rows:,} rows"
        )
