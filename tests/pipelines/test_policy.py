"""The learned ladder policy end to end: trained on the twin's own randomized history, run
in a small twin within the law and the phone capacity; fitted, gated and registered in
MLflow with the champion/challenger discipline."""

from __future__ import annotations

import json
from datetime import date, timedelta

import mlflow
import numpy as np
import polars as pl
import pytest
from mlflow import MlflowClient

from regua.config.policy import PolicyConfig, PolicyGate
from regua.config.twin import load_twin_parameters
from regua.models.policy import LadderPolicy
from regua.pipelines.policy import MODEL_NAME, fit_policy, load_policy_champion, log_policy
from regua.pipelines.twin import TwinSpec, book_for, hashed_scores, learned_run
from regua.settings import get_settings

pytestmark = pytest.mark.xdist_group("twin")

POLICY_YAML = """
history_nights: 45
horizon_days: 10
n_estimators: 40
min_child_samples: 10
phone_calls_per_day: 2
exploration_share: 0.2
gate: {held_out_share: 0.3}
"""


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("policy-twin")
    (folder / "policy.yaml").write_text(POLICY_YAML)
    spec = TwinSpec(
        customers=400,
        days=6,
        policies=("learned",),
        seeds=(1,),
        params_path=get_settings().config_dir / "twin.yaml",
        out=folder / "out",
        books=folder / "books",
        months=14,
        models="hashed",
        ingest=False,
        policy_path=folder / "policy.yaml",
    )
    book = book_for(spec, 1)
    params = load_twin_parameters(spec.params_path)
    run, facts = learned_run(spec, book, 1, params, hashed_scores(1))
    return spec, run, facts


def test_the_learned_policy_runs_in_the_twin_within_the_law(learned):
    _, run, facts = learned
    assert run.policy == "learned"
    assert run.violations.height == 0  # the twin's own audit of every executed contact
    assert facts["train_cases"] >= 30 and facts["held_out_cases"] >= 10
    assert facts["cases_chosen"] > 0
    assert set(facts["treatments"]) <= {"digital", "fixed", "gentle", "intensive", "recovery",
                                        "standard"}  # fmt: skip
    assert facts["gate_reason"].startswith("dr value on ")
    # contacts carry the chosen ladders' steps, and the day's calls never pass the capacity
    assert run.contacts.height > 0
    calls = run.contacts.filter(pl.col("channel") == "phone").group_by(pl.col("at").dt.date())
    per_day = calls.len()["len"]
    assert per_day.max() == 2  # demand reached the capacity, which held


def test_the_history_is_other_customers_in_the_nights_before_the_measured_period(learned):
    spec, _, _ = learned
    marker = json.loads((spec.books / "seed-1001" / "book.json").read_text())
    assert marker["seed"] == 1001 and marker["days"] == 45
    assert date.fromisoformat(marker["day0"]) == spec.day0 - timedelta(days=45)


def _history(n: int, seed: int, signal: bool = True) -> pl.DataFrame:
    """Randomized cases: intensive earns 80 more for x0 > 0.5, gentle 40 more below."""
    rng = np.random.default_rng(seed)
    x0, x1 = rng.random(n), rng.random(n)
    arms = np.asarray(["fixed", "gentle", "intensive"])
    drawn = arms[rng.integers(0, 3, n)]
    lift = np.where(drawn == "intensive", np.where(x0 > 0.5, 80.0, -40.0), 0.0)
    lift += np.where(drawn == "gentle", np.where(x0 <= 0.5, 40.0, -20.0), 0.0)
    net = 100 + 30 * x1 + (lift if signal else 0.0) + rng.normal(0, 25, n)
    if not signal:
        net = rng.permutation(100 + 30 * x1 + lift + rng.normal(0, 25, n))
    return pl.DataFrame(
        {"case_id": [f"{seed}-{i}" for i in range(n)], "x0": x0, "x1": x1, "treatment": drawn,
         "propensity": np.full(n, 1 / 3), "net": net}
    )  # fmt: skip


@pytest.fixture
def tracking(tmp_path):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(None)


def test_a_policy_is_registered_as_challenger_and_gated_against_the_champion(tracking):
    config = PolicyConfig(n_estimators=60, min_child_samples=20,
                          gate=PolicyGate(require_approval=False))  # fmt: skip
    client = MlflowClient(tracking)
    assert load_policy_champion(tracking) is None
    # no champion yet: the bar is the fixed ladder for everyone, which a good policy beats
    first = fit_policy(_history(3000, seed=1), config)
    assert first.passed, first.reason
    assert "fixed for everyone" in first.reason
    _, version = log_policy(first, config, tracking)
    tags = client.get_model_version(MODEL_NAME, version).tags
    assert tags["gate"] == "passed" and tags["approval"] == "auto"
    champion = load_policy_champion(tracking)
    assert isinstance(champion, LadderPolicy)
    assert champion.treatments_ == ("fixed", "gentle", "intensive")
    # a policy learned from outcomes shuffled across cases is worth less than the champion
    # on the same held-out cases: refused, registered as challenger, the champion stays
    noise = fit_policy(_history(3000, seed=2, signal=False), config, champion=champion)
    assert not noise.passed, noise.reason
    assert "the champion policy" in noise.reason
    _, second = log_policy(noise, config, tracking)
    assert client.get_model_version(MODEL_NAME, second).tags["gate"] == "failed"
    assert str(client.get_model_version_by_alias(MODEL_NAME, "champion").version) == version
    assert str(client.get_model_version_by_alias(MODEL_NAME, "challenger").version) == second


def test_a_passing_policy_waits_for_approval_when_required(tracking):
    config = PolicyConfig(n_estimators=60, min_child_samples=20)
    fitted = fit_policy(_history(3000, seed=3), config)
    assert fitted.passed
    _, version = log_policy(fitted, config, tracking)
    client = MlflowClient(tracking)
    assert "approval" not in client.get_model_version(MODEL_NAME, version).tags
    assert load_policy_champion(tracking) is None
