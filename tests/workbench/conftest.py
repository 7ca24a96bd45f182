"""A workbench on real files: a tiny ingested store, one night's outputs, a SQLite database
with an analyst and a supervisor, served through FastAPI's TestClient."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from regua.config.workbench import load_workbench
from regua.decisions.db import make_engine, session_factory, upgrade
from regua.decisions.users import add_user
from regua.dunning.outputs import ACTIONS, LIMITS, SEGMENTS
from regua.ingest import ingest_exports
from regua.settings import Settings
from regua.workbench.app import create_app
from regua.workbench.context import WorkbenchContext
from tests.conftest import TEST_DOCUMENT_KEY, portfolio, write_exports

AS_OF = date(2026, 9, 30)
PASSWORDS = {"ana": "senha-da-ana-1", "sofia": "senha-da-sofia-1"}


def _conform(table, rows: dict[str, list]) -> pl.DataFrame:
    n = len(next(iter(rows.values())))
    frame = pl.DataFrame({name: [None] * n for name in table.names})
    return table.conform(frame.with_columns(**{k: pl.Series(v) for k, v in rows.items()}))


def write_night(out: Path, as_of: date = AS_OF) -> Path:
    """out/<as_of>/ for C1 (increase above the analyst's share), C2 (small increase) and C3
    (a large decrease), as the nightly flow lays it out."""
    folder = out / as_of.isoformat()
    folder.mkdir(parents=True)
    ids = ["C1", "C2", "C3"]
    segments = _conform(
        SEGMENTS,
        {
            "as_of": [as_of] * 3,
            "customer_id": ids,
            "segment": ["early", "self_cure", "intensive"],
            "ladder_id": ["gentle", "gentle", "hard"],
            "risk_band": ["low", "low", "high"],
            "pd": [0.021, 0.034, 0.31],
            "propensity": [0.8, None, 0.2],
            "case_id": ["CASE-C1", None, "CASE-C3"],
        },
    )
    limits = _conform(
        LIMITS,
        {
            "as_of": [as_of] * 3,
            "customer_id": ids,
            "current_limit": [3000.0, 1200.0, 40000.0],
            "recommended_limit": [4000.0, 1500.0, 30000.0],
            "model_recommended_limit": [4000.0, 1500.0, 30000.0],
            "change": [1000.0, 300.0, -10000.0],
            "change_pct": [33.33, 25.0, -25.0],
            "decision": ["increase", "increase", "decrease"],
            "held_by_analyst": [False] * 3,
            "risk_band": ["baixo", "baixo", "muito alto"],
            "limit_reasons": [
                ["uso do limite de 92% e sem atrasos em 180 dias: aumento recomendado"],
                ["uso do limite de 75% e sem atrasos em 180 dias: aumento recomendado"],
                ["risco muito alto (PD 31,0%) e uso do limite de 30%: limite ocioso reduzido"],
            ],
            "reason_codes": [
                ["high_utilisation_good_payer"],
                ["high_utilisation_good_payer"],
                ["high_risk_band"],
            ],
            "top_reasons": [
                ["Caráter: atrasos recentes pesam no risco"],
                None,
                ["Capacidade: parcelas altas para a renda"],
            ],
        },
    )
    actions = _conform(
        ACTIONS,
        {
            "as_of": [as_of],
            "customer_id": ["C1"],
            "action_id": ["A1"],
            "case_id": ["CASE-C1"],
            "step_id": ["sms_d1"],
            "channel": ["sms"],
            "status": ["scheduled"],
            "scheduled_for": [datetime(2026, 10, 1, 9, 0)],
            "evidence": ['{"window": "08:00-20:00", "contacts_7d": 1}'],
        },
    )
    for name, frame in (("segments", segments), ("limits", limits), ("actions", actions)):
        frame.write_parquet(folder / f"{name}.parquet")
    manifest = {"as_of": as_of.isoformat(), "models": {"delinquency": {"version": "3"}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture(scope="session")
def book(tmp_path_factory) -> Path:
    """The tiny valid portfolio ingested into a store, and one night's outputs."""
    root = tmp_path_factory.mktemp("workbench-book")
    write_exports(root / "raw", portfolio())
    settings = Settings(document_key=TEST_DOCUMENT_KEY)
    ingest_exports(root / "raw", root / "store", settings=settings, build_docs=False)
    write_night(root / "out")
    return root


def _database(book: Path) -> Path:
    """A migrated database with ana (analyst) and sofia (supervisor), made once per book."""
    path = book / "template.db"
    if not path.exists():
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        with session_factory(engine).begin() as session:
            add_user(session, "ana", "analyst", PASSWORDS["ana"])
            add_user(session, "sofia", "supervisor", PASSWORDS["sofia"])
        engine.dispose()
    return path


def make_context(book: Path, tmp_path: Path, secure: bool = False) -> WorkbenchContext:
    """A context on a fresh copy of the database with ana and sofia."""
    path = tmp_path / "workbench.db"
    shutil.copyfile(_database(book), path)
    engine = make_engine(f"sqlite:///{path}")
    config = load_workbench()
    session_rules = config.session.model_copy(update={"secure_cookies": secure})
    return WorkbenchContext(
        engine=engine,
        sessions=session_factory(engine),
        config=config.model_copy(update={"session": session_rules}),
        out_dir=book / "out",
        store_dir=book / "store",
        reports_dir=tmp_path / "reports",
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        document_key=TEST_DOCUMENT_KEY.encode(),
        session_secret=b"test-session-secret-0123456789abcdef",
    )


@pytest.fixture
def context(book, tmp_path) -> WorkbenchContext:
    context = make_context(book, tmp_path)
    yield context
    context.engine.dispose()


@pytest.fixture
def client(context) -> TestClient:
    with TestClient(create_app(context), follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def log_in(client: TestClient, name: str) -> str:
    """Log `name` in; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login", data={"name": name, "password": PASSWORDS[name], "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/auditoria").text)
