"""The same migrations on PostgreSQL, where a server can be started here (initdb on PATH or
in Debian's /usr/lib/postgresql/<version>/bin): schema, append-only audit log, decisions."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from regua.config.workbench import load_workbench
from regua.decisions.db import current_revision, make_engine, session_factory, upgrade
from regua.decisions.limits import Seen, decisions_in_force, read_in_force, record_decision
from regua.decisions.users import add_user, authenticate

pytest.importorskip("psycopg")


def _binary(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) or not found else found[-1]


@pytest.fixture(scope="module")
def postgres_url():
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    root = os.geteuid() == 0
    if root and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: PostgreSQL refuses to run as root")
    folder = Path(tempfile.mkdtemp(prefix="regua-pg-"))
    as_owner = ["runuser", "-u", "postgres", "--"] if root else []
    if root:
        shutil.chown(folder, "postgres")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = folder / "data"
    subprocess.run([*as_owner, initdb, "-D", str(data), "-A", "trust", "-U", "postgres",
                    "--no-sync"], check=True, capture_output=True)  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=''"
    subprocess.run([*as_owner, pg_ctl, "-D", str(data), "-o", options, "-w", "-l",
                    str(folder / "log"), "start"], check=True, capture_output=True)  # fmt: skip
    yield f"postgresql+psycopg://postgres@/postgres?host={folder}&port={port}"
    subprocess.run([*as_owner, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                   check=False, capture_output=True)  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow  # initdb and a server start: about 30 s
def test_the_migrations_and_decisions_on_postgresql(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    assert read_in_force(postgres_url, date(2026, 10, 30)).height == 0  # not migrated yet
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == "0001"
    config = load_workbench()
    with session_factory(engine).begin() as session:
        ana = add_user(session, "ana", "analyst", "senha-forte-1")
        record_decision(session, config, ana, Seen("C1", date(2026, 10, 30), 1000, 1200, "2"),
                        "accept", "aceite_recomendacao")  # fmt: skip
    with session_factory(engine)() as session:
        assert authenticate(session, "ana", "senha-forte-1") is not None
    frame = decisions_in_force(engine, date(2026, 10, 31))
    assert frame.select("customer_id", "decided_limit").rows() == [("C1", 1200.0)]
    assert read_in_force(postgres_url, date(2026, 10, 31)).height == 1
    for statement in ("UPDATE audit_log SET comment = 'x'", "DELETE FROM audit_log",
                      "TRUNCATE audit_log"):  # fmt: skip
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_log")).scalar() == 2
    engine.dispose()
