"""The nightly flow on a real Prefect server: outputs, caching, artifact, drift, Dask,
a killed run, a failed partition and the inputs that must stop it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import mlflow
import polars as pl
import pytest
import sqlalchemy as sa
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from typer.testing import CliRunner

from regua.cli import app
from regua.config.policy import load_policy_config
from regua.models.scoring import NoChampionError
from regua.pipelines.nightly import (
    DriftBreachError,
    PartitionError,
    nightly_deployment,
    nightly_flow,
    run_nightly,
)

AS_OF = date(2026, 10, 30)
FILES = ("actions.parquet", "actions.csv", "segments.parquet", "limits.parquet", "worklist.parquet")


def checksums(out: Path) -> dict[str, str]:
    manifest = json.loads((out / AS_OF.isoformat() / "manifest.json").read_text())
    return {name: manifest["sha256"][name] for name in FILES}


@pytest.fixture
def own_store(store, tmp_path) -> Path:
    """A copy of the session store without its feature cache."""
    return Path(
        shutil.copytree(store / "store", tmp_path / "store", ignore=shutil.ignore_patterns("cache"))
    )


def summary_tables() -> list[list[dict]]:
    """The rows of every `nightly-summary` table artifact on the session's server."""
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["nightly-summary"]))
        )
    return [json.loads(a.data) for a in artifacts if a.type == "table"]


def outputs_row(detail: str) -> dict:
    """The summary row saying where a night's outputs went."""
    return {"section": "decisions", "item": "outputs", "value": None, "detail": detail}


@pytest.fixture(scope="module")
def night(store, trained, tracking, prefect_api, tmp_path_factory):
    out = tmp_path_factory.mktemp("nightly")
    summary = nightly_flow(
        as_of=AS_OF, store=store / "store", out=out, tracking_uri=tracking, partitions=1
    )
    return out, summary


def test_the_night_writes_every_output_and_names_its_run(night, prefect_api):
    out, summary = night
    folder = out / AS_OF.isoformat()
    assert summary.outputs.folder == folder
    assert {p.name for p in folder.iterdir()} == {*FILES, "manifest.json"}
    segments = pl.read_parquet(folder / "segments.parquet")
    assert segments["customer_id"].is_unique().all()
    assert set(summary.seconds_by_stage) == {
        "ingest", "champions", "features", "score + decide", "drift", "write"
    }  # fmt: skip
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
    assert f"nightly-{AS_OF}" in {run.name for run in runs}


def test_the_phone_worklist_holds_the_next_days_calls_up_to_capacity(night):
    out, _ = night
    folder = out / AS_OF.isoformat()
    calls = pl.read_parquet(folder / "worklist.parquet")
    actions = pl.read_parquet(folder / "actions.parquet")
    tomorrow = actions.filter(
        (pl.col("status") == "scheduled")
        & (pl.col("channel") == "phone")
        & (pl.col("scheduled_for").dt.date() == AS_OF + timedelta(days=1))
    )
    capacity = load_policy_config().phone_calls_per_day
    assert calls.height == min(capacity, tomorrow.height)
    assert set(calls["action_id"]) <= set(tomorrow["action_id"])
    assert calls["rank"].to_list() == list(range(1, calls.height + 1))
    # no learned policy in the nightly yet: the oldest debt first, said in Portuguese
    overdue = calls.join(
        tomorrow.select("action_id", "days_overdue"), on="action_id", maintain_order="left"
    )
    assert overdue["days_overdue"].to_list() == sorted(overdue["days_overdue"], reverse=True)
    assert calls["reason_pt"].str.contains("fora da política aprendida").all()


def test_the_summary_artifact_is_a_table_of_the_days_figures(night, prefect_api):
    out, summary = night
    folder = out / AS_OF.isoformat()
    (rows,) = [t for t in summary_tables() if outputs_row(str(folder)) in t]
    assert rows == summary.table.to_dicts()  # the flow's summary is what was published
    figures = {(r["section"], r["item"]): r for r in rows}
    segments = pl.read_parquet(folder / "segments.parquet")
    assert figures["decisions", "customers scored"]["value"] == segments.height
    for segment, count in segments.group_by("segment").len().iter_rows():
        assert figures["segment", segment]["value"] == count
    actions = pl.read_parquet(folder / "actions.parquet")
    tomorrow = AS_OF + timedelta(days=1)  # a Saturday: the night schedules from the next day
    first_day = actions.filter(
        pl.col("status") == "scheduled", pl.col("scheduled_for").dt.date() == tomorrow
    )
    assert figures["workload", f"{tomorrow} sáb"]["value"] == first_day.height
    limits = pl.read_parquet(folder / "limits.parquet")
    for decision, count in limits.group_by("decision").len().iter_rows():
        assert figures["limits", decision]["value"] == count
    manifest = summary.outputs.manifest
    for kind, model in manifest["models"].items():
        assert (
            figures["model", kind]["detail"] == f"version {model['version']}, run {model['run_id']}"
        )
    assert figures["drift", "pd"]["detail"].startswith("score, ")


def test_drift_is_measured_against_the_training_sample_and_logged(night, tracking):
    _, summary = night
    drift = summary.drift
    assert drift is not None
    assert drift.table.filter(pl.col("kind") == "score")["column"].to_list() == [
        "pd",
        "propensity",
    ]
    assert drift.table.filter(pl.col("kind") == "feature").height > 50
    assert set(drift.table["level"]) <= {"ok", "warn", "breach"}
    mlflow.set_tracking_uri(tracking)
    runs = mlflow.search_runs(experiment_names=["regua-nightly"])
    logged = runs[runs["tags.mlflow.runName"] == f"nightly-{AS_OF}"]
    assert len(logged) >= 1
    psi_pd = drift.table.filter(pl.col("column") == "pd")["psi"][0]
    assert logged["metrics.psi_pd"].iloc[0] == pytest.approx(psi_pd)


def test_features_are_cached_on_the_store_version_and_as_of(own_store, trained, tracking, tmp_path):
    first = nightly_flow(as_of=AS_OF, store=own_store, out=tmp_path / "a", tracking_uri=tracking)
    parts = sorted(own_store.glob("cache/features/*/*/1/part-*.parquet"))
    assert len(parts) == 1
    assert not first.features_cached
    written = parts[0].stat().st_mtime_ns
    second = nightly_flow(as_of=AS_OF, store=own_store, out=tmp_path / "b", tracking_uri=tracking)
    assert second.features_cached
    assert parts[0].stat().st_mtime_ns == written  # the cached partitions were reused
    assert checksums(tmp_path / "a") == checksums(tmp_path / "b")
    assert first.outputs.manifest["store_version"] == second.outputs.manifest["store_version"]
    parts[0].unlink()  # a cache whose files are gone is rebuilt, not trusted
    third = nightly_flow(as_of=AS_OF, store=own_store, out=tmp_path / "c", tracking_uri=tracking)
    assert not third.features_cached
    assert parts[0].exists()
    assert checksums(tmp_path / "c") == checksums(tmp_path / "a")


def test_partitions_on_a_dask_cluster_give_byte_identical_outputs(night, store, tracking, tmp_path):
    from distributed import LocalCluster

    single, _ = night
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        summary = run_nightly(
            dask_address=cluster.scheduler_address,
            as_of=AS_OF,
            store=store / "store",
            out=tmp_path,
            partitions=4,
            tracking_uri=tracking,
        )
    assert len(list((store / "store").glob("cache/features/*/*/4/part-*.parquet"))) == 4
    assert (
        summary.outputs.manifest["rows"]
        == json.loads((single / AS_OF.isoformat() / "manifest.json").read_text())["rows"]
    )
    assert checksums(tmp_path) == checksums(single)


def test_a_failed_partition_fails_the_night_and_writes_nothing(
    night, own_store, trained, tracking, tmp_path
):
    out = tmp_path / "out"
    nightly_flow(as_of=AS_OF, store=own_store, out=tmp_path / "warm", tracking_uri=tracking,
                 partitions=3)  # fmt: skip
    damaged = sorted(own_store.glob("cache/features/*/*/3/part-00001.parquet"))[0]
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    with pytest.raises(PartitionError, match=r"partition 1 .*--refresh-features"):
        nightly_flow(as_of=AS_OF, store=own_store, out=out, tracking_uri=tracking, partitions=3)
    assert not out.exists() or list(out.iterdir()) == []
    nightly_flow(as_of=AS_OF, store=own_store, out=out, tracking_uri=tracking, partitions=3,
                 refresh_features=True)  # fmt: skip
    assert checksums(out) == checksums(night[0])


def _cli(*args: str, tracking: str) -> tuple[list[str], dict[str, str]]:
    return [sys.executable, "-m", "regua", *args], {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }


def test_a_killed_night_reruns_to_the_same_outputs_without_duplicates(
    night, own_store, trained, tracking, tmp_path
):
    out, db = tmp_path / "out", f"sqlite:///{tmp_path}/regua.db"
    args = ("score", "--store", str(own_store), "--as-of", AS_OF.isoformat(), "--out", str(out),
            "--db-url", db)  # fmt: skip
    command, env = _cli(*args, tracking=tracking)
    process = subprocess.Popen(command, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 180
    while not list(own_store.glob("cache/features/*/*/1/parts.txt")):
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # midway: features written, nothing decided yet
    process.wait()
    assert not (out / AS_OF.isoformat()).exists()
    done = subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    again = subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert checksums(out) == checksums(night[0])
    assert sorted(p.name for p in out.iterdir()) == [AS_OF.isoformat()]  # no staging left
    engine = sa.create_engine(db)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT COUNT(*) FROM regua_actions")).scalar()
    engine.dispose()
    manifest = json.loads((out / AS_OF.isoformat() / "manifest.json").read_text())
    assert rows == manifest["rows"]["actions.parquet"]


@pytest.mark.parametrize(
    ("as_of", "message"),
    [("2027-03-31", "covers up to 2026-10-"), ("2023-01-31", "is before it")],
)
def test_an_as_of_without_data_stops_with_a_clear_message(
    store, trained, tracking, tmp_path, monkeypatch, as_of, message
):
    from regua.settings import get_settings

    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, ["score", "--store", str(store / "store"), "--as-of", as_of,
                  "--out", str(tmp_path / "out")],
        )  # fmt: skip
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "out" / as_of).exists()


def test_an_empty_day_of_exports_stops_the_night(own_store, trained, tracking, tmp_path):
    empty = tmp_path / "raw"
    empty.mkdir()
    from regua.ingest.errors import IngestError

    with pytest.raises(IngestError, match="no export files"):
        nightly_flow(as_of=AS_OF, raw=empty, store=own_store, out=tmp_path / "out",
                     tracking_uri=tracking)  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_without_champions_the_night_stops_before_any_output(store, prefect_api, tmp_path):
    with pytest.raises(NoChampionError, match="regua train"):
        nightly_flow(as_of=AS_OF, store=store / "store", out=tmp_path / "out",
                     tracking_uri=f"sqlite:///{tmp_path}/none.db")  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_the_served_deployment_runs_nightly_at_two_in_sao_paulo():
    deployment = nightly_deployment(store=Path("data/store"), out=Path("data/out"), partitions=2)
    (schedule,) = deployment.schedules
    assert schedule.schedule.cron == "0 2 * * *"
    assert schedule.schedule.timezone == "America/Sao_Paulo"
    assert deployment.parameters == {"store": "data/store", "out": "data/out", "partitions": 2}
    assert "as_of" not in deployment.parameters  # each run decides for its own yesterday


def test_a_drift_breach_set_to_fail_stops_before_the_outputs(store, trained, tracking, tmp_path):
    config = Path(shutil.copytree(Path(__file__).resolve().parents[2] / "config", tmp_path / "c"))
    (config / "drift.yaml").write_text(
        "warn_above: 0.0001\nbreach_above: 0.0001\non_breach: fail\n"
    )
    before = summary_tables()
    with pytest.raises(DriftBreachError, match=r"PSI above 0.0001: pd .*outputs not written"):
        nightly_flow(as_of=AS_OF, store=store / "store", out=tmp_path / "out",
                     tracking_uri=tracking, config_dir=config)  # fmt: skip
    assert not (tmp_path / "out").exists()
    # the stopped night still says why (other workers' nights may publish meanwhile)
    new = [t for t in summary_tables() if t not in before]
    stopped = [t for t in new if outputs_row("not written") in t]
    assert any(
        any(r["section"] == "drift" and r["detail"].endswith("breach") for r in table)
        for table in stopped
    )
    (config / "drift.yaml").write_text("breach_above: 0.05\nwarn_above: 0.2\n")
    from regua.config import ConfigError

    with pytest.raises(ConfigError, match=r"drift.yaml.*breach_above must not be below"):
        nightly_flow(as_of=AS_OF, store=store / "store", out=tmp_path / "out",
                     tracking_uri=tracking, config_dir=config)  # fmt: skip
