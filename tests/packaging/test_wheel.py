"""The built wheel, installed in a fresh virtualenv and used from another folder, runs a
whole cycle: simulate -> ingest -> features -> train -> nightly. Only `regua` is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[2]
NOT_SOURCES = (".git", ".venv", "build", "dist", "data", "*.egg-info", "__pycache__", ".*_cache")
STAGES = ("features", "models", "dunning", "pipelines", "reports", "workbench")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """regua's wheel, built by `pip wheel` from a copy of the sources (no stale build/)."""
    folder = tmp_path_factory.mktemp("wheel")
    sources = folder / "sources"
    shutil.copytree(REPO, sources, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(folder),
         str(sources)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return next(folder.glob("regua-*.whl"))


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    """A new virtualenv with the wheel installed; third-party packages come from this one's
    site-packages (as a plain path, so its editable regua finder is not loaded)."""
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--quiet", str(wheel)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return root


def test_the_wheel_holds_only_the_regua_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    dist, version = wheel.name.split("-")[:2]
    assert {name.split("/")[0] for name in names} == {"regua", f"{dist}-{version}.dist-info"}
    assert {
        "regua/resources/config/ladders.yaml",
        "regua/resources/templates/negative_listing_notice_letter.txt",
        "regua/resources/profiles/erp_br.yaml",
        "regua/features/catalog.py",
        "regua/pipelines/nightly.py",
        "regua/resources/config/workbench.yaml",
        "regua/decisions/migrations/env.py",
        "regua/decisions/migrations/versions/0001_initial.py",
        "regua/workbench/templates/customer.html",
        "regua/workbench/static/workbench.css",
    } <= set(names)


def run(venv: Path, cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGUA_", "PYTHON"))}
    env |= {
        "REGUA_DOCUMENT_KEY": "wheel-test-key-not-a-secret-0123456789",
        "MLFLOW_TRACKING_URI": f"sqlite:///{cwd}/mlflow.db",
        "REGUA_MLFLOW_ARTIFACT_DIR": str(cwd / "mlartifacts"),
        "PREFECT_HOME": str(cwd / "prefect"),
    }
    if (cwd / "config").is_dir():
        env["REGUA_CONFIG_DIR"] = str(cwd / "config")
    done = subprocess.run(
        [venv / "bin" / "regua", *args], check=False, cwd=cwd, env=env, capture_output=True,
        text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_only_regua_is_importable(venv, tmp_path):
    probe = f"import importlib.util as u; print([u.find_spec(n) is None for n in {STAGES!r}])"
    done = subprocess.run(
        [venv / "bin" / "python", "-c", probe + "; import regua.features, regua.pipelines"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == str([True] * len(STAGES))


def test_the_decisions_migrations_run_from_the_installed_wheel(venv, tmp_path):
    url = f"sqlite:///{tmp_path / 'workbench.db'}"
    assert run(venv, tmp_path, "db", "upgrade", "--db", url).strip().endswith(" at 0001")


@pytest.mark.slow
def test_a_whole_cycle_runs_from_another_folder(venv, tmp_path):
    # 1,200 customers are too few to hold the propensity model's calibration error to the
    # shipped 0.03; the installation's own config folder loosens the gate, as a user would.
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config, ignore=shutil.ignore_patterns("*.py"))
    (config / "gate.yaml").write_text("auc_margin: 0.05\nbaseline_margin: -0.1\nmax_ece: 0.2\n")
    run(venv, tmp_path, "simulate", "--customers", "1200", "--months", "24", "--seed", "5",
        "--out", "raw")  # fmt: skip
    assert "stored" in run(venv, tmp_path, "ingest", "--raw", "raw", "--store", "store")
    run(venv, tmp_path, "features", "--store", "store", "--as-of", "2026-09-30",
        "--out", "features.parquet")  # fmt: skip
    assert pl.read_parquet(tmp_path / "features.parquet").height > 1000
    trained = run(
        venv, tmp_path, "train", "--store", "store", "--snapshots", "12", "--auto-promote"
    )
    assert trained.count(" champion: ") == 2, trained
    run(venv, tmp_path, "nightly", "--raw", "raw", "--store", "store",
        "--as-of", "2026-10-30", "--out", "out")  # fmt: skip
    day = tmp_path / "out" / "2026-10-30"
    assert pl.read_parquet(day / "segments.parquet").height > 1000
    assert (day / "manifest.json").exists() and (day / "actions.csv").exists()
