"""A champion logged when the stages were top-level packages (`models.gbm`) still loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from regua.models import gbm
from regua.models.legacy import legacy_module_paths
from regua.models.registry import CHAMPION

OLD_TYPES = [
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "models.gbm.MonotoneGBMClassifier",
    "sklearn.calibration._CalibratedClassifier",
]
"""The trusted types regua 0.1 recorded with every model."""


def small_model() -> tuple[gbm.MonotoneGBMClassifier, pd.DataFrame]:
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"days_past_due": rng.exponential(10, 400), "noise": rng.normal(size=400)})
    y = (rng.random(400) < 1 / (1 + np.exp(2 - 0.1 * X["days_past_due"]))).astype(int)
    model = gbm.MonotoneGBMClassifier(
        monotone={"days_past_due": 1}, n_estimators=20, random_state=0
    ).fit(X, y, time=np.repeat(np.arange(4), 100))
    return model, X


@pytest.fixture
def old_champion(tmp_path, monkeypatch):
    """A champion whose skops file names `models.gbm.MonotoneGBMClassifier`, as 0.1 wrote it."""
    model, X = small_model()
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    mlflow.create_experiment("legacy", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment("legacy")
    with monkeypatch.context() as old_layout:
        old_layout.setattr(gbm.MonotoneGBMClassifier, "__module__", "models.gbm")
        old_layout.setitem(sys.modules, "models.gbm", gbm)
        with mlflow.start_run():
            info = mlflow.sklearn.log_model(
                model, name="model", registered_model_name="delinquency",
                skops_trusted_types=OLD_TYPES,
            )  # fmt: skip
    MlflowClient().set_registered_model_alias(
        "delinquency", CHAMPION, info.registered_model_version
    )
    yield uri, model, X
    mlflow.set_tracking_uri(None)


LOAD = """
import sys
import mlflow.sklearn
import numpy as np
import pandas as pd
from regua.models.scoring import load_champion

uri, mode = sys.argv[1], sys.argv[2]
X = pd.read_parquet(sys.argv[3])
if mode == "plain":
    mlflow.set_tracking_uri(uri)
    try:
        mlflow.sklearn.load_model("models:/delinquency@champion")
    except ModuleNotFoundError as exc:
        print("not found:", exc.name)
else:
    champion = load_champion("delinquency", tracking_uri=uri)
    print(type(champion.model).__module__, "models" in sys.modules)
    np.save(sys.argv[4], champion.model.predict_proba(X))
"""


def load_elsewhere(tmp_path, uri: str, mode: str, X: pd.DataFrame) -> tuple[str, Path]:
    """Load the champion in a fresh process started outside the repository (no `models`)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    X.to_parquet(elsewhere / "x.parquet")
    done = subprocess.run(
        [sys.executable, "-c", LOAD, uri, mode, "x.parquet", "p.npy"],
        cwd=elsewhere, capture_output=True, text=True, timeout=300, check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1], elsewhere / "p.npy"


def test_the_stored_model_names_the_old_module_path(old_champion, tmp_path):
    uri, _, X = old_champion
    line, _ = load_elsewhere(tmp_path, uri, "plain", X)
    assert line == "not found: models"


def test_an_old_champion_loads_and_scores_the_same(old_champion, tmp_path):
    uri, model, X = old_champion
    line, probabilities = load_elsewhere(tmp_path, uri, "champion", X)
    assert line == "regua.models.gbm False"
    np.testing.assert_array_equal(np.load(probabilities), model.predict_proba(X))


def test_the_aliases_leave_a_users_own_models_module_in_place(monkeypatch):
    own = type(sys)("models")
    monkeypatch.setitem(sys.modules, "models", own)
    with legacy_module_paths():
        assert sys.modules["models"].__name__ == "regua.models"
    assert sys.modules["models"] is own
