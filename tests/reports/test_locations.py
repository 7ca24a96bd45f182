"""Where notebooks look: explicit settings win, otherwise the demo; paths from the project."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from regua.settings import Settings
from reports.locations import DEMO_AS_OF, DEMO_DIR, PROJECT_DIR, notebook_locations


@pytest.fixture(autouse=True)
def _no_settings_from_the_environment(monkeypatch, tmp_path):
    for name in ("REGUA_STORE_DIR", "REGUA_OUT_DIR", "REGUA_MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REGUA_CONFIG", str(tmp_path / "absent.toml"))


def test_without_settings_the_demo_is_used():
    where = notebook_locations(Settings(), environ={})
    assert where.store_dir == DEMO_DIR / "store"
    assert where.outputs_dir == DEMO_DIR / "out"
    assert where.tracking_uri == f"sqlite:///{DEMO_DIR / 'mlflow.db'}"
    assert where.as_of == DEMO_AS_OF


def test_explicit_settings_and_environment_win(tmp_path):
    settings = Settings(store_dir=tmp_path / "store", out_dir=Path("data/out"))
    environ = {"MLFLOW_TRACKING_URI": "sqlite:///data/mlflow.db", "REGUA_AS_OF": "2026-09-30"}
    where = notebook_locations(settings, environ=environ)
    assert where.store_dir == tmp_path / "store"
    assert where.outputs_dir == PROJECT_DIR / "data" / "out"  # relative: from the project
    assert where.tracking_uri == f"sqlite:///{PROJECT_DIR / 'data' / 'mlflow.db'}"
    assert where.as_of == date(2026, 9, 30)
    server = notebook_locations(settings, environ={"MLFLOW_TRACKING_URI": "http://mlflow:5000"})
    assert server.tracking_uri == "http://mlflow:5000"


def test_a_tracking_uri_from_settings_is_used(monkeypatch):
    monkeypatch.setenv("REGUA_MLFLOW_TRACKING_URI", "sqlite:////srv/mlflow.db")
    assert notebook_locations(Settings(), environ={}).tracking_uri == "sqlite:////srv/mlflow.db"
