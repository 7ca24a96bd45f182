"""`regua web` serves the workbench as a user starts it: a process on loopback, with one and
with two workers (sessions signed by the shared secret file work across them)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.workbench.conftest import PASSWORDS, _database


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_regua_web_serves_the_pages_behind_login(book, tmp_path: Path, workers: int) -> None:
    shutil.copyfile(_database(book), tmp_path / "workbench.db")
    env = {**os.environ, "REGUA_DATA_DIR": str(tmp_path),
           "REGUA_WORKBENCH_SECRET_FILE": str(tmp_path / "secret")}  # fmt: skip
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "regua", "web", "--port", str(port), "--workers", str(workers),
         "--outputs", str(book / "out"), "--store", str(book / "store")],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    login = client.get("/login")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and server.poll() is None
                    time.sleep(0.2)
            assert client.get("/").status_code == 303  # not logged in
            assert (
                client.get("/static/workbench.css").headers["content-type"].startswith("text/css")
            )
            token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
            client.post("/login", data={"name": "ana", "password": PASSWORDS["ana"],
                                        "csrf_token": token})  # fmt: skip
            for _ in range(4):  # with two workers the requests reach both
                page = client.get("/clientes/C1")
                assert page.status_code == 200 and 'id="customer-id">C1' in page.text
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert f"workbench on http://127.0.0.1:{port}/" in out
    assert "C1" not in out + err  # no access log, no customer in the server's output
