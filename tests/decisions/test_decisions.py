"""The decisions database: migrations, users, the authority matrix, decisions in force,
the append-only audit log and review requests, on a real SQLite file (and PostgreSQL when a
server can be started here)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError as SQLDatabaseError
from sqlalchemy.exc import IntegrityError

from regua.config import ConfigError
from regua.config.workbench import WorkbenchConfig, load_workbench
from regua.decisions.audit import entries
from regua.decisions.db import (
    DatabaseError,
    current_revision,
    head_revision,
    make_engine,
    require_current,
    session_factory,
    upgrade,
)
from regua.decisions.limits import (
    DecisionError,
    Seen,
    decisions_in_force,
    needs_approval,
    record_decision,
    settle,
)
from regua.decisions.reviews import answer_request, open_request
from regua.decisions.users import UserError, add_user, authenticate

AS_OF = date(2026, 10, 30)


@pytest.fixture
def engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'workbench.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def config() -> WorkbenchConfig:
    return load_workbench()


def _users(engine):
    with session_factory(engine).begin() as session:
        ana = add_user(session, "ana", "analyst", "senha-forte-1")
        sup = add_user(session, "sofia", "supervisor", "senha-forte-2")
    return ana, sup


def test_migrations_create_the_schema_and_require_current_stops_behind(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert current_revision(engine) is None
    with pytest.raises(DatabaseError, match="run `regua db upgrade`"):
        require_current(engine)
    assert upgrade(engine) == head_revision() == "0001"
    require_current(engine)
    assert upgrade(engine) == "0001"  # idempotent
    with engine.connect() as connection:
        tables = {r[0] for r in connection.execute(text("SELECT name FROM sqlite_master"))}
    assert {"users", "decisions", "audit_log", "review_requests"} <= tables


def test_passwords_are_argon2_hashes_and_wrong_ones_fail(engine) -> None:
    _users(engine)
    with session_factory(engine)() as session:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT password_hash FROM users")).scalars().all()
        assert all(h.startswith("$argon2id$") for h in stored)
        assert not any("senha-forte" in h for h in stored)
        assert authenticate(session, "ana", "senha-forte-1").role == "analyst"
        assert authenticate(session, "ana", "senha-forte-2") is None
        assert authenticate(session, "nobody", "senha-forte-1") is None


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("ana", "analyst", "senha-forte-9", "already exists"),
        ("x y", "analyst", "senha-forte-9", "user name"),
        ("bob", "admin", "senha-forte-9", "role"),
        ("bob", "analyst", "curta", "at least"),
    ],
)
def test_bad_users_are_refused(engine, name: str, role: str, password: str, message: str) -> None:
    _users(engine)
    with pytest.raises(UserError, match=message), session_factory(engine).begin() as session:
        add_user(session, name, role, password)


def test_authority_matrix_from_config(config: WorkbenchConfig) -> None:
    # config/workbench.yaml: R$ 5.000 and 30% of the current limit
    assert not needs_approval(config, "analyst", 10_000, 12_000)  # R$ 2.000, 20%
    assert needs_approval(config, "analyst", 10_000, 16_000)  # R$ 6.000
    assert needs_approval(config, "analyst", 1_000, 1_400)  # 40%
    assert needs_approval(config, "analyst", 0, 100)  # no current limit: no share
    assert not needs_approval(config, "analyst", 0, 0)
    assert not needs_approval(config, "supervisor", 1_000, 40_000)


@settings(max_examples=100, deadline=None)
@given(
    old=st.floats(min_value=1, max_value=1e6),
    new=st.floats(min_value=0, max_value=1e6),
)
def test_an_analyst_needs_approval_exactly_above_both_caps(old: float, new: float) -> None:
    config = load_workbench()
    move = abs(new - old)
    within = move <= 5000 and move / old <= 0.30
    assert needs_approval(config, "analyst", old, new) is (not within)


def test_overrides_within_authority_hold_and_large_ones_wait(engine, config) -> None:
    ana, sup = _users(engine)
    factory = session_factory(engine)
    with factory.begin() as session:
        small = record_decision(
            session, config, ana, Seen("C1", AS_OF, 10_000, 12_500, "3"), "override",
            "renda_comprovada", "holerite", new_limit=11_000,
        )  # fmt: skip
        large = record_decision(
            session, config, ana, Seen("C2", AS_OF, 10_000, 10_000, "3"), "override",
            "garantia_adicional", new_limit=20_000,
        )  # fmt: skip
        rejected = record_decision(
            session, config, ana, Seen("C3", AS_OF, 5_000, 2_500, "3"), "reject", "relacionamento"
        )
    assert (small.status, large.status, rejected.status) == ("approved", "pending", "approved")
    assert rejected.new_limit == 5_000
    frame = decisions_in_force(engine, AS_OF)
    assert frame.sort("customer_id")["customer_id"].to_list() == ["C1", "C3"]
    assert frame.filter(pl.col("customer_id") == "C1")["decided_limit"].item() == 11_000
    with factory.begin() as session, pytest.raises(DecisionError, match="only a supervisor"):
        settle(session, session.get(type(ana), ana.id), large.id, approve=True)
    with factory.begin() as session:
        settle(session, session.get(type(sup), sup.id), large.id, approve=True, comment="ok")
    assert decisions_in_force(engine, AS_OF)["customer_id"].to_list() == ["C1", "C2", "C3"]
    # held from the night it was taken on until the day before its review date (90 days)
    assert decisions_in_force(engine, AS_OF - timedelta(days=1)).height == 0
    assert decisions_in_force(engine, AS_OF + timedelta(days=89)).height == 3
    assert decisions_in_force(engine, AS_OF + timedelta(days=90)).height == 0
    with factory() as session:
        events = [e.event for e in reversed(entries(session))]
    assert events == [
        "user.add", "user.add", "decision.override", "decision.override",
        "decision.pending_approval", "decision.reject", "decision.approved",
    ]  # fmt: skip


def test_the_latest_approved_decision_wins(engine, config) -> None:
    ana, _ = _users(engine)
    with session_factory(engine).begin() as session:
        for limit in (9_000, 9_500):
            record_decision(session, config, ana, Seen("C1", AS_OF, 10_000, None, None),
                            "override", "outro", new_limit=limit)  # fmt: skip
    assert decisions_in_force(engine, AS_OF)["decided_limit"].to_list() == [9_500]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "override", "reason_code": "nao_existe", "new_limit": 1}, "reason code"),
        ({"action": "override", "reason_code": "outro", "new_limit": -1}, "at least 0"),
        ({"action": "override", "reason_code": "outro", "new_limit": None}, "at least 0"),
        ({"action": "delete", "reason_code": "outro"}, "action"),
        ({"action": "accept", "reason_code": "outro", "review_on": AS_OF}, "review date"),
    ],
)
def test_bad_decisions_are_refused(engine, config, kwargs: dict, message: str) -> None:
    ana, _ = _users(engine)
    with pytest.raises(DecisionError, match=message), session_factory(engine).begin() as s:
        record_decision(s, config, ana, Seen("C1", AS_OF, 10_000, 11_000, "3"), **kwargs)


def test_the_audit_log_refuses_update_and_delete(engine) -> None:
    _users(engine)
    for statement in ("UPDATE audit_log SET comment = 'x'", "DELETE FROM audit_log"):
        refused = pytest.raises((IntegrityError, SQLDatabaseError), match="append-only")
        with refused, engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar() == 2


def test_review_requests_keep_the_explanation_and_the_answer(engine) -> None:
    ana, _ = _users(engine)
    factory = session_factory(engine)
    with factory.begin() as session:
        review = open_request(session, ana, "C1", "limite", "Cliente pede revisão",
                              "uso do limite de 95%", AS_OF, AS_OF)  # fmt: skip
    with factory.begin() as session:
        answered = answer_request(session, ana, review.id, "Limite revisto por analista")
    assert (answered.status, answered.explanation) == ("answered", "uso do limite de 95%")
    with factory.begin() as session, pytest.raises(ValueError, match="not open"):
        answer_request(session, ana, review.id, "de novo")


def test_a_bad_workbench_config_names_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "workbench.yaml"
    path.write_text(
        "authority: {analyst_max_change_brl: 100, analyst_max_change_share: 0.1}\n"
        "reason_codes: {'Com Espaço': texto}\n"
    )
    with pytest.raises(ConfigError, match=r"workbench.yaml: reason_codes: .*lower-case"):
        load_workbench(path)
