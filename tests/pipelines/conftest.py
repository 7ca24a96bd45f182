"""A small simulated store and an MLflow store shared by the pipeline tests of a session."""

from __future__ import annotations

import mlflow
import polars as pl
import pytest

from models.registry import PromotionGate
from pipelines.train import train_models
from regua.ingest import ingest_exports
from regua.settings import Settings
from regua.simulate import SimulationConfig, simulate_portfolio

LENIENT = PromotionGate(auc_tolerance=0.05, max_ece=0.2)


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    simulate_portfolio(SimulationConfig(customers=1500, months=24, seed=5), root / "raw")
    ingest_exports(
        root / "raw", root / "store", settings=Settings(document_key="k"), build_docs=False
    )
    return root


@pytest.fixture(scope="session")
def tracking(tmp_path_factory):
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db"
    yield uri
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="session")
def trained(store, tracking):
    """Both models trained once on the store and gated into `tracking` (the champions)."""
    truth = pl.read_parquet(store / "raw" / "truth" / "truth.parquet")
    return train_models(
        store / "store", snapshots=14, truth=truth, tracking_uri=tracking, gate=LENIENT
    )
