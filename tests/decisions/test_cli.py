"""`regua users add`, `regua db upgrade` and `regua web`'s refusal of a stale database, run
as a user runs them (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from regua.decisions.db import make_engine


def _regua(*args: str, tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "REGUA_DATA_DIR": str(tmp_path / "data"),
           "REGUA_WORKBENCH_SECRET_FILE": str(tmp_path / "secret")}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "regua", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip


def test_users_add_reads_the_password_from_stdin_and_hashes_it(tmp_path: Path) -> None:
    added = _regua("users", "add", "ana", "--role", "analyst", "--password-stdin",
                   tmp_path=tmp_path, stdin="uma-senha-longa\n")  # fmt: skip
    assert added.returncode == 0 and "user ana (analyst) added" in added.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'workbench.db'}")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT name, role, password_hash FROM users")).one()
    engine.dispose()
    assert stored[:2] == ("ana", "analyst") and stored[2].startswith("$argon2id$")
    again = _regua("users", "add", "ana", "--role", "analyst", "--password-stdin",
                   tmp_path=tmp_path, stdin="uma-senha-longa\n")  # fmt: skip
    assert again.returncode == 2
    assert again.stderr.strip() == "error: user 'ana' already exists"
    short = _regua("users", "add", "bia", "--role", "supervisor", "--password-stdin",
                   tmp_path=tmp_path, stdin="curta\n")  # fmt: skip
    assert (short.returncode, short.stderr.strip()) == (
        2,
        "error: password: at least 10 characters",
    )


def test_the_password_is_never_an_argument(tmp_path: Path) -> None:
    result = _regua("users", "add", "ana", "--role", "analyst", "--password", "x" * 12,
                    tmp_path=tmp_path)  # fmt: skip
    assert result.returncode == 2 and "No such option" in result.stderr


def test_web_refuses_a_database_behind_its_migrations(tmp_path: Path) -> None:
    result = _regua("web", "--db", f"sqlite:///{tmp_path / 'empty.db'}", tmp_path=tmp_path)
    assert result.returncode == 2
    assert "is at migration none, this regua needs 0001: run `regua db upgrade`" in result.stderr
    assert "Traceback" not in result.stderr
    upgraded = _regua("db", "upgrade", "--db", f"sqlite:///{tmp_path / 'empty.db'}",
                      tmp_path=tmp_path)  # fmt: skip
    assert upgraded.returncode == 0 and upgraded.stdout.strip().endswith("at 0001")
