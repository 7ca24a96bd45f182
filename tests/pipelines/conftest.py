"""A small simulated store, one Prefect server and an MLflow store shared by a session."""

from __future__ import annotations

import os
from datetime import date

import mlflow
import pytest

from regua.ingest import ingest_exports
from regua.models.registry import PromotionGate
from regua.settings import Settings
from regua.simulate import SimulationConfig, simulate_portfolio
from tests.conftest import TEST_DOCUMENT_KEY

LENIENT = PromotionGate(auc_margin=0.05, max_ece=0.2, baseline_margin=-0.1, samples=200)


@pytest.fixture(scope="session")
def prefect_api():
    """A temporary Prefect server; subprocesses and Dask workers find it in the environment."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = SubprocessASGIServer()
    server.start(timeout=120)
    os.environ["PREFECT_API_URL"] = server.api_url
    with temporary_settings({PREFECT_API_URL: server.api_url}):
        yield server.api_url
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=10)  # ship the last run logs while the server is up
    os.environ.pop("PREFECT_API_URL", None)
    server.stop()


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    simulate_portfolio(SimulationConfig(customers=1500, months=24, seed=5), root / "raw")
    ingest_exports(
        root / "raw",
        root / "store",
        settings=Settings(document_key=TEST_DOCUMENT_KEY),
        build_docs=False,
    )
    return root


@pytest.fixture(scope="session")
def tracking(tmp_path_factory):
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow')}/mlflow.db"
    yield uri
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="session")
def trained(store, tracking, prefect_api):
    """Both models trained once by the train flow and gated into `tracking` (the champions)."""
    from regua.pipelines.train import train_flow

    return train_flow(
        store / "store",
        snapshots=14,
        truth=store / "raw" / "truth" / "truth.parquet",
        tracking_uri=tracking,
        gate=LENIENT,
        auto_promote=True,
    )


@pytest.fixture(scope="session")
def scored(store, trained, tracking, tmp_path_factory):
    """The day's outputs at 2026-10-30 written once by the nightly flow and the champions."""
    from regua.pipelines.nightly import nightly_flow

    out = tmp_path_factory.mktemp("day-outputs")
    nightly_flow(as_of=date(2026, 10, 30), store=store / "store", out=out, tracking_uri=tracking)
    return out
