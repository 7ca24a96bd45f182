"""The champion/challenger gate on a real MLflow store in a temporary folder."""

from __future__ import annotations

import json

import mlflow
import mlflow.sklearn
import numpy as np
import pytest
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from regua.config import ConfigError
from regua.config.gate import load_gate
from regua.models.registry import CHALLENGER, CHAMPION, PromotionGate, decide, promote

GATE = PromotionGate(auc_tolerance=0.01, max_ece=0.05)


def test_gate_rules():
    assert decide(0.70, 0.02, None, GATE) == (True, "no champion yet")
    assert decide(0.795, 0.02, 0.80, GATE)[0] is True  # within tolerance
    assert decide(0.78, 0.02, 0.80, GATE)[0] is False
    promoted, reason = decide(0.90, 0.08, 0.80, GATE)
    assert not promoted and "calibration" in reason


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow")
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    # artifacts beside the database, not in ./mlruns of the working directory
    mlflow.create_experiment("registry-test", artifact_location=(root / "artifacts").as_uri())
    mlflow.set_experiment("registry-test")
    yield MlflowClient()
    mlflow.set_tracking_uri(None)


def log_version(auc: float, ece: float) -> str:
    x = np.arange(20, dtype=float).reshape(-1, 1)
    model = LogisticRegression().fit(x, (x[:, 0] > 9).astype(int))
    with mlflow.start_run():
        mlflow.log_metrics({"oot_auc": auc, "oot_ece": ece})
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name="delinquency")
    return str(info.registered_model_version)


def test_versions_become_champion_only_through_the_gate(client):
    first = log_version(0.80, 0.02)
    assert promote(client, "delinquency", first, GATE).promoted
    worse = log_version(0.75, 0.02)
    decision = promote(client, "delinquency", worse, GATE)
    assert not decision.promoted and decision.champion_version == first
    assert str(client.get_model_version_by_alias("delinquency", CHAMPION).version) == first
    assert str(client.get_model_version_by_alias("delinquency", CHALLENGER).version) == worse
    logged = client.download_artifacts(
        client.get_model_version("delinquency", worse).run_id, "promotion_decision.json"
    )
    with open(logged) as handle:
        assert json.load(handle)["champion_auc"] == pytest.approx(0.80)
    better = log_version(0.81, 0.01)
    assert promote(client, "delinquency", better, GATE).promoted
    assert str(client.get_model_version_by_alias("delinquency", CHAMPION).version) == better


def test_the_gate_comes_from_config_gate_yaml(tmp_path):
    assert PromotionGate.from_config() == PromotionGate(auc_tolerance=0.005, max_ece=0.03)
    lenient = tmp_path / "gate.yaml"
    lenient.write_text("auc_tolerance: 0.05\nmax_ece: 0.2\n")
    assert PromotionGate.from_config(load_gate(lenient)) == PromotionGate(0.05, 0.2)


@pytest.mark.parametrize(
    ("text", "key"),
    [("auc_tolerance: 0.005\nmax_ece: -1\n", "max_ece"),
     ("auc_tolerance: 0.005\nmax_ece: 0.03\nmax_eec: 0.1\n", "max_eec")],
)  # fmt: skip
def test_a_bad_gate_file_names_the_file_and_the_key(tmp_path, text, key):
    path = tmp_path / "gate.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"gate\.yaml.*{key}"):
        load_gate(path)
