"""The notebooks: stripped in git, and each runs top to bottom on the session's small store."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from mlflow import MlflowClient
from nbclient import NotebookClient

from regua.models.registry import CHAMPION
from regua.models.tracking import EXPERIMENT
from tests.pipelines.test_report import AS_OF

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = ("01-portfolio", "02-train-and-compare", "03-segments-and-limits")


@pytest.fixture(autouse=True)
def _kernel_of_this_environment(monkeypatch):
    """The python3 kernel spec of the environment running the tests wins over a user-wide one
    (JUPYTER_PATH comes first in Jupyter's search path)."""
    monkeypatch.setenv("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))


def test_every_notebook_is_stripped_of_outputs():
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert [p.stem for p in paths] == list(EXPECTED)
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert code, path.name
        for cell in code:
            assert cell.outputs == [], f"{path.name}: a cell keeps its outputs"
            assert cell.execution_count is None, f"{path.name}: a cell keeps its count"
            assert "execution" not in cell.metadata, f"{path.name}: a cell keeps its timing"


def execute(name: str, workdir: Path, env: dict[str, str]) -> nbformat.NotebookNode:
    """Run notebooks/<name>.ipynb in a fresh python3 kernel started in `workdir`.

    The notebook finds its data through the regua settings only: `env` names the locations
    it reads, and every other location falls under `workdir` (REGUA_DATA_DIR).
    """
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith(("REGUA_", "MLFLOW_TRACKING_URI"))
        or key.upper() in ("REGUA_DOCUMENT_KEY", "REGUA_MLFLOW_ARTIFACT_DIR")
    }
    client.execute(env={**inherited, "REGUA_DATA_DIR": str(workdir), **env})
    return notebook


def outputs(notebook: nbformat.NotebookNode, kind: str) -> int:
    """How many cells produced an output with the MIME type `kind`."""
    return sum(
        any(kind in output.get("data", {}) for output in cell.outputs)
        for cell in notebook.cells
        if cell.cell_type == "code"
    )


def test_portfolio_notebook_runs(store, tmp_path):
    env = {"REGUA_STORE_DIR": str(store / "store"), "REGUA_AS_OF": AS_OF.isoformat()}
    notebook = execute("01-portfolio", tmp_path, env)
    assert outputs(notebook, "image/png") == 4  # aging, roll rates, vintages, payment mix
    assert outputs(notebook, "text/html") == 4
    first = notebook.cells[1].outputs[-1]["data"]["text/plain"]
    assert str(store / "store") in first and "2026, 10, 30" in first


def test_segments_and_limits_notebook_runs(scored, tmp_path):
    env = {"REGUA_OUT_DIR": str(scored), "REGUA_AS_OF": AS_OF.isoformat()}
    notebook = execute("03-segments-and-limits", tmp_path, env)
    assert outputs(notebook, "image/png") == 4  # segments, PD, workload, limits
    assert outputs(notebook, "text/html") >= 7


def delinquency_runs(client: MlflowClient) -> dict[str, object]:
    """Every delinquency run in the regua experiment, by id."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs(
        [experiment.experiment_id], filter_string="tags.model_kind = 'delinquency'"
    )
    return {run.info.run_id: run for run in runs}


def test_train_and_compare_notebook_logs_a_run_that_stays_a_challenger(
    store, trained, tracking, tmp_path
):
    copy = tmp_path / "mlflow.db"  # the notebook writes: never into the session's registry
    shutil.copy(tracking.removeprefix("sqlite:///"), copy)
    uri = f"sqlite:///{copy}"
    client = MlflowClient(tracking_uri=uri)
    before = delinquency_runs(client)
    champion = client.get_model_version_by_alias("delinquency", CHAMPION).version
    env = {"REGUA_STORE_DIR": str(store / "store"), "MLFLOW_TRACKING_URI": uri}
    notebook = execute("02-train-and-compare", tmp_path, env)
    text = "\n".join(
        output.get("data", {}).get("text/plain", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "promoted=False" in text and f"champion v{champion}" in text
    new = [run for run_id, run in delinquency_runs(client).items() if run_id not in before]
    # gated against the champion on the same rows, but never promoted without a record
    assert len(new) == 1
    assert new[0].data.tags["promotion"] in ("rejected", "awaiting approval")
    assert '"min_days_past_due": 30' in new[0].data.params["labels"]
    assert client.get_model_version_by_alias("delinquency", CHAMPION).version == champion
