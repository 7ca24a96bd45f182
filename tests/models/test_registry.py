"""The champion gate and the recorded promotion, on a real MLflow store in a temporary folder."""

from __future__ import annotations

import json

import mlflow
import mlflow.sklearn
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from regua.config import ConfigError
from regua.config.gate import load_gate
from regua.models.metrics import auc_difference
from regua.models.registry import (
    AUTO_PROMOTE,
    CHALLENGER,
    CHAMPION,
    PromotionError,
    PromotionGate,
    approval_of,
    decide,
    gate_challenger,
    gate_figures,
    promote,
)
from regua.models.scoring import UnapprovedChampionError, load_champion

GATE = PromotionGate(auc_margin=0.01, max_ece=0.05, baseline_margin=0.0, samples=300)


def book(n: int = 4000, seed: int = 0) -> pl.DataFrame:
    """Outcomes drawn from a known probability; scores that know it well, less, or not at all."""
    rng = np.random.default_rng(seed)
    p = rng.beta(1, 9, n)
    y = (rng.random(n) < p).astype(int)
    blurred = p + rng.normal(0, 0.1, n)
    return pl.DataFrame(
        {"label": y, "good": p, "blurred": blurred, "noise": np.full(n, p.mean())}
    ).with_columns(  # weak: the mean true PD within deciles of a blurred view (calibrated)
        pl.col("good").mean().over(pl.col("blurred").qcut(10, labels=None)).alias("weak"),
        pl.col("noise") + pl.Series(rng.normal(0, 1e-4, n)),
    )


def scores(frame: pl.DataFrame, challenger: str, baseline: str, champion: str | None = None):
    out = frame.select(
        "label", pl.col(challenger).alias("score"), pl.col(baseline).alias("baseline_score")
    )
    if champion is not None:
        out = out.with_columns(frame[champion].alias("champion_score"))
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.integers(0, 6), st.integers(0, 6)), min_size=4, max_size=60
    )
)
def test_the_bootstrap_auc_difference_starts_from_the_plain_aucs(rows):
    y, a, b = (np.array(column, dtype=float) for column in zip(*rows, strict=True))
    if y.min() == y.max():
        return
    diff = auc_difference(y, a, b, samples=60, seed=3)
    assert diff.auc_a == pytest.approx(roc_auc_score(y, a))  # ties count a half
    assert diff.auc_b == pytest.approx(roc_auc_score(y, b))
    assert diff.low <= diff.high
    assert auc_difference(y, a, b, samples=60, seed=3) == diff  # seeded


def test_the_interval_is_of_the_paired_difference():
    frame = book()
    y = frame["label"].to_numpy()
    same = auc_difference(y, frame["good"].to_numpy(), frame["good"].to_numpy(), samples=200)
    assert (same.low, same.high) == (0.0, 0.0)  # the same scores on the same rows never differ
    better = auc_difference(y, frame["good"].to_numpy(), frame["noise"].to_numpy(), samples=200)
    assert better.low > 0.15  # a score that knows p against one that knows nothing
    assert better.low < better.difference < better.high


def test_gate_rules_on_the_same_rows():
    frame = book()
    first = gate_figures(scores(frame, "good", "weak"), GATE)
    assert decide(first, GATE)[0] is True  # beats its scorecard, no champion yet
    assert "no champion yet" in decide(first, GATE)[1]

    refresh = gate_figures(scores(frame, "good", "weak", champion="good"), GATE, "3")
    passed, reason = decide(refresh, GATE)
    assert passed and "v3" in reason and "4,000 rows" in reason

    worse = gate_figures(scores(frame, "weak", "noise", champion="good"), GATE, "3")
    passed, reason = decide(worse, GATE)
    assert not passed and "champion v3" in reason and worse.champion.high < 0

    no_better_than_scorecard = gate_figures(scores(frame, "weak", "good"), GATE)
    passed, reason = decide(no_better_than_scorecard, GATE)
    assert not passed and "scorecard" in reason

    miscalibrated = frame.with_columns(pl.col("good") * 3)  # same order, three times the PD
    figures = gate_figures(scores(miscalibrated, "good", "weak"), GATE)
    assert figures.challenger_auc == first.challenger_auc
    passed, reason = decide(figures, GATE)
    assert not passed and "calibration" in reason

    unscored = gate_figures(scores(frame, "good", "weak"), GATE, "3", "KeyError: 'new_feature'")
    passed, reason = decide(unscored, GATE)
    assert not passed and "--over-gate" in reason


@pytest.fixture
def client(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    # artifacts beside the database, not in ./mlruns of the working directory
    mlflow.create_experiment("registry-test", artifact_location=(tmp_path / "artifacts").as_uri())
    mlflow.set_experiment("registry-test")
    yield MlflowClient()
    mlflow.set_tracking_uri(None)


def log_version() -> str:
    x = np.arange(20, dtype=float).reshape(-1, 1)
    model = LogisticRegression().fit(x, (x[:, 0] > 9).astype(int))
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", registered_model_name="delinquency")
    return str(info.registered_model_version)


def test_passing_the_gate_waits_for_a_recorded_approval(client):
    frame = book()
    first = log_version()
    decision = gate_challenger(
        client, "delinquency", first, gate_figures(scores(frame, "good", "weak"), GATE), GATE
    )
    assert decision.passed and not decision.promoted
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.get_model_version_by_alias("delinquency", CHAMPION)
    assert str(client.get_model_version_by_alias("delinquency", CHALLENGER).version) == first

    approval = promote(client, "delinquency", first, by="ana.risco", why="first model, validated")
    assert str(client.get_model_version_by_alias("delinquency", CHAMPION).version) == first
    recorded = approval_of(client, "delinquency", first)
    assert recorded == approval
    assert (recorded.approved_by, recorded.approval) == ("ana.risco", "human")
    assert recorded.approved_at.endswith("+00:00")

    worse = log_version()
    figures = gate_figures(scores(frame, "weak", "noise", champion="good"), GATE, first)
    decision = gate_challenger(client, "delinquency", worse, figures, GATE, auto_promote=True)
    assert not decision.passed and not decision.promoted
    run_id = client.get_model_version("delinquency", worse).run_id
    with open(client.download_artifacts(run_id, "promotion_decision.json")) as handle:
        logged = json.load(handle)
    assert logged["passed"] is False
    assert logged["figures"]["champion"]["auc_b"] == pytest.approx(figures.champion.auc_b)
    with pytest.raises(PromotionError, match=r"failed the gate.*--over-gate"):
        promote(client, "delinquency", worse, by="ana.risco", why="looks fine")
    assert str(client.get_model_version_by_alias("delinquency", CHAMPION).version) == first

    refresh = log_version()
    figures = gate_figures(scores(frame, "good", "weak", champion="good"), GATE, first)
    decision = gate_challenger(client, "delinquency", refresh, figures, GATE, auto_promote=True)
    assert decision.passed and decision.promoted
    auto = approval_of(client, "delinquency", refresh)
    assert (auto.approved_by, auto.approval) == (AUTO_PROMOTE, "auto")
    assert auto.approval_reason == decision.reason

    forced = promote(client, "delinquency", worse, by="joao.credito", why="pilot", over_gate=True)
    assert "over the gate" in forced.approval_reason


def test_an_unrecorded_champion_is_refused_when_approval_is_required(client):
    version = log_version()
    client.set_registered_model_alias("delinquency", CHAMPION, version)  # as older trainings did
    assert load_champion("delinquency").version == version
    with pytest.raises(
        UnapprovedChampionError, match=f"regua models promote delinquency {version}"
    ):
        load_champion("delinquency", require_approval=True)
    with pytest.raises(PromotionError, match="--by"):
        promote(client, "delinquency", version, by=" ", why="x")
    with pytest.raises(PromotionError, match="no version 9"):
        promote(client, "delinquency", "9", by="ana", why="x")
    promote(client, "delinquency", version, by="ana.risco", why="reviewed the pack")
    assert load_champion("delinquency", require_approval=True).version == version


def test_the_gate_comes_from_config_gate_yaml(tmp_path):
    shipped = load_gate()
    assert shipped.require_approval is True
    assert PromotionGate.from_config() == PromotionGate(
        auc_margin=0.005,
        max_ece=0.03,
        baseline_margin=-0.002,
        samples=500,
        confidence=0.95,
        seed=42,
    )
    lenient = tmp_path / "gate.yaml"
    lenient.write_text("auc_margin: 0.05\nmax_ece: 0.2\nbootstrap:\n  samples: 100\n")
    assert PromotionGate.from_config(load_gate(lenient)) == PromotionGate(
        auc_margin=0.05, max_ece=0.2, samples=100
    )


@pytest.mark.parametrize(
    ("text", "key"),
    [("auc_margin: 0.005\nmax_ece: -1\n", "max_ece"),
     ("auc_margin: 0.005\nmax_ece: 0.03\nmax_eec: 0.1\n", "max_eec"),
     ("auc_margin: 0.005\nmax_ece: 0.03\nbootstrap:\n  samples: 5\n", "bootstrap.samples")],
)  # fmt: skip
def test_a_bad_gate_file_names_the_file_and_the_key(tmp_path, text, key):
    path = tmp_path / "gate.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"gate\.yaml.*{key}"):
        load_gate(path)
