"""`import regua`: the verbs a notebook types, each the very function the flows call.

The end-to-end test walks a small simulated portfolio from exports to reasons through
`regua.<verb>` alone; only the simulation, the spec, the MLflow logging that makes a
champion and the dunning configuration come from elsewhere.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from datetime import date

import polars as pl
import pytest

import regua
from regua.config import LabelsConfig
from regua.contract import TABLES
from regua.models.gbm import MonotoneGBMClassifier
from regua.models.registry import PromotionGate
from regua.models.tracking import log_training
from regua.models.train import TrainingSpec
from regua.settings import Settings
from regua.simulate import SimulationConfig, simulate_portfolio
from tests.conftest import TEST_DOCUMENT_KEY

VERBS = [
    "Store",
    "build_features",
    "decide",
    "explain",
    "ingest_exports",
    "load_champion",
    "score",
    "train",
]
HOMES = [
    ("Store", "regua.store", "Store"),
    ("ingest_exports", "regua.ingest.ingest", "ingest_exports"),
    ("build_features", "regua.features.build", "build"),
    ("train", "regua.models.train", "train"),
    ("load_champion", "regua.models.scoring", "load_champion"),
    ("score", "regua.models.scoring", "score"),
    ("decide", "regua.dunning.actions", "decide"),
    ("explain", "regua.models.explain", "explain"),
]
TELEMETRY = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
}


def test_the_package_offers_the_verbs_and_nothing_else():
    assert sorted(regua.__all__) == VERBS
    assert dir(regua) == sorted([*VERBS, "__version__"])
    with pytest.raises(AttributeError, match="has no attribute 'fit'"):
        regua.fit  # noqa: B018


@pytest.mark.parametrize(("verb", "module", "name"), HOMES)
def test_each_verb_is_the_function_the_flows_call_and_shows_an_example(verb, module, name):
    function = getattr(regua, verb)
    assert function is getattr(importlib.import_module(module), name)
    assert ">>> import regua\n" in function.__doc__
    assert f"regua.{verb}(" in function.__doc__


def test_import_regua_is_cheap_and_switches_telemetry_off_first():
    probe = (
        "import os, sys\n"
        "import regua\n"
        "heavy = ('polars', 'sklearn', 'lightgbm', 'mlflow', 'prefect', 'great_expectations')\n"
        "print(sorted(m for m in sys.modules if m.startswith('regua.') or m in heavy))\n"
        f"print([os.environ.get(k) for k in {sorted(TELEMETRY)!r}])\n"
        "regua.train\n"
        "print('regua.models.train' in sys.modules, 'train' in vars(regua))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in TELEMETRY}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == [
        "[]",
        str([TELEMETRY[k] for k in sorted(TELEMETRY)]),
        "True True",
    ]


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Two years of a small simulated portfolio, as the day's export files."""
    root = tmp_path_factory.mktemp("api")
    simulate_portfolio(SimulationConfig(customers=400, months=24, seed=7), root / "raw")
    return root


def test_a_notebook_goes_from_exports_to_reasons_with_the_verbs(exports, tmp_path):
    root, as_of = exports, date(2026, 10, 30)
    report = regua.ingest_exports(
        root / "raw",
        root / "store",
        settings=Settings(document_key=TEST_DOCUMENT_KEY),
        build_docs=False,
    )
    assert report.store_rows["customers"] == 400

    store = regua.Store(root / "store")
    assert store.version == report.store_version
    tables = {name: store.scan(name) for name in TABLES}

    estimator = MonotoneGBMClassifier(n_estimators=60, learning_rate=0.1)
    # 400 customers hold 85 bads: the tiny book lowers the minimum knowingly
    few = LabelsConfig(min_bad_outcomes=50)
    result = regua.train(tables, TrainingSpec(snapshots=10, estimator=estimator, labels=few))
    assert not hasattr(estimator, "booster_")  # the spec's estimator is cloned, not fitted
    assert result.model.get_params()["learning_rate"] == 0.1
    assert result.model.random_state == 42  # the spec seeds the run
    assert result.model.monotone["dpd_now"] == 1  # the catalog's direction for default
    assert result.evaluation.auc > 0.6

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    log_training(
        result,
        tracking_uri=uri,
        gate=PromotionGate(auc_margin=0.5, max_ece=1.0, baseline_margin=-1.0),
        auto_promote=True,
    )
    champion = regua.load_champion("delinquency", uri)
    assert champion.version == "1"

    table = regua.build_features(store, as_of)
    assert table.height == 400
    assert table["as_of"].unique().to_list() == [as_of]

    scores = regua.score(table, champion.model)
    assert scores["customer_id"].to_list() == table["customer_id"].to_list()
    assert scores["pd"].is_between(0, 1).all()
    assert scores["propensity"].null_count() == 400  # no propensity model given

    scored = table.join(scores.drop("as_of"), on="customer_id")
    day = regua.decide(scored, tables, as_of, delinquency_model=champion.model)
    assert sorted(day.segments["customer_id"]) == sorted(table["customer_id"])  # one each
    assert set(day.actions["customer_id"]) <= set(table["customer_id"])
    assert day.actions.height > 0

    looked_up = table.sort("dpd_now", descending=True).head(3)
    reasons = regua.explain(champion.model, looked_up)
    assert reasons["customer_id"].to_list() == looked_up["customer_id"].to_list()
    assert reasons.select(pl.col("reasons").list.len().is_between(1, 4).all()).item()
