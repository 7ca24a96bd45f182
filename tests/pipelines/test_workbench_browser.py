"""The workbench as an analyst and a supervisor use it, in Debian's chromium via Playwright:
log in, find a customer by id and by CPF, read the reasons, override a limit with a reason,
see it in the audit log, run the night and see the override held, approve a large change.

Runs on the session's simulated store, champions and night (tests/pipelines/conftest.py).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from regua.documents import format_cpf
from regua.pipelines.nightly import nightly_flow
from regua.workbench.app import create_app
from tests.workbench.conftest import PASSWORDS, make_context

CHROMIUM = Path("/usr/bin/chromium")
AS_OF = date(2026, 10, 30)
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="no /usr/bin/chromium here (apt-get install chromium; .ci/run installs it)",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(store, scored, tracking, tmp_path):
    """The workbench on a copy of the night's outputs, served by uvicorn on loopback."""
    import uvicorn

    book = tmp_path / "book"
    shutil.copytree(scored, book / "out")
    (book / "store").symlink_to(store / "store")
    context = make_context(book, tmp_path)
    context.tracking_uri = tracking
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(context), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", context, book
    server.should_exit = True
    thread.join(timeout=10)
    context.engine.dispose()


@pytest.fixture
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Workbench:
    """One helper per page, in the words of the person using it."""

    def __init__(self, browser, base: str) -> None:
        self.page = browser.new_page()
        self.base = base

    def log_in(self, name: str) -> None:
        self.page.goto(f"{self.base}/login")
        self.page.get_by_label("Usuário").fill(name)
        self.page.get_by_label("Senha").fill(PASSWORDS[name])
        self.page.get_by_role("button", name="Entrar").click()
        self.page.wait_for_url(f"{self.base}/")

    def log_out(self) -> None:
        self.page.get_by_role("button", name="Sair").click()
        self.page.wait_for_url(f"{self.base}/login")

    def search(self, text: str) -> None:
        self.page.get_by_label("Buscar cliente").fill(text)
        self.page.get_by_role("button", name="Buscar").click()
        self.page.wait_for_load_state()

    def shown_customer(self) -> str:
        return self.page.locator("#customer-id").inner_text()

    def decide(self, action: str, reason: str, amount: str = "", comment: str = "") -> str:
        self.page.locator("select[name=action]").select_option(action)
        if amount:
            self.page.get_by_label("Novo limite (R$)").fill(amount)
        self.page.locator("select[name=reason_code]").select_option(reason)
        self.page.locator("form.decide textarea[name=comment]").fill(comment)
        self.page.get_by_role("button", name="Registrar decisão").click()
        self.page.wait_for_load_state()
        return self.page.locator(".flash").inner_text()

    def audit_rows(self, customer_id: str) -> list[str]:
        self.page.goto(f"{self.base}/auditoria?cliente={customer_id}")
        return self.page.locator("#audit tbody tr").all_inner_texts()

    def open_customer(self, customer_id: str) -> None:
        self.page.goto(f"{self.base}/clientes/{customer_id}")

    def approve_first(self) -> str:
        self.page.goto(f"{self.base}/aprovacoes")
        self.page.get_by_role("button", name="Aprovar").first.click()
        self.page.wait_for_load_state()
        return self.page.locator(".flash").inner_text()


def _customers(book: Path, store: Path) -> tuple[dict, dict, str]:
    """A customer whose limit changes tonight, another one, and the first one's CPF."""
    limits = pl.read_parquet(book / "out" / AS_OF.isoformat() / "limits.parquet")
    raw = pl.read_parquet(store / "raw" / "customers.parquet").select("customer_id", "kind",
                                                                     "document")  # fmt: skip
    candidates = (
        limits.filter((pl.col("decision") != "keep") & (pl.col("current_limit") >= 1000))
        .join(raw.filter(pl.col("kind") == "PF"), on="customer_id")
        .sort("customer_id")
    )
    first, second = candidates.row(0, named=True), candidates.row(1, named=True)
    return first, second, format_cpf(first["document"])


def _unexplained(book: Path) -> str:
    """A customer with something overdue whom the night gave no reasons."""
    day = book / "out" / AS_OF.isoformat()
    limits = pl.read_parquet(day / "limits.parquet")
    segments = pl.read_parquet(day / "segments.parquet")
    actions = pl.read_parquet(day / "actions.parquet")
    explained = actions.filter(pl.col("top_reasons").is_not_null())["customer_id"]
    return (
        limits.filter(pl.col("top_reasons").is_null() & ~pl.col("customer_id").is_in(explained))
        .join(segments.filter(pl.col("propensity").is_not_null()), on="customer_id")
        .sort("customer_id")["customer_id"][0]
    )


def test_an_analyst_overrides_a_limit_that_holds_and_a_supervisor_approves_a_large_one(
    served, browser, store, tracking, prefect_api
):
    base, context, book = served
    first, second, cpf = _customers(book, store)
    analyst = Workbench(browser, base)
    analyst.log_in("ana")
    assert "Carteira em 30/10/2026" in analyst.page.content()

    analyst.search(second["customer_id"])
    assert analyst.shown_customer() == second["customer_id"]
    analyst.search(cpf)
    assert analyst.shown_customer() == first["customer_id"]
    reasons = analyst.page.locator("#limit-reasons li").all_inner_texts()
    assert reasons == first["limit_reasons"]

    quiet = _unexplained(book)  # no reasons in the night's outputs: computed on demand
    analyst.open_customer(quiet)
    assert analyst.page.locator("#risk-reasons li").count() >= 1
    assert analyst.page.locator("#propensity-reasons li").count() >= 1
    analyst.open_customer(first["customer_id"])

    small = round(first["current_limit"] * 1.1 / 50) * 50  # within the analyst's authority
    flash = analyst.decide("override", "renda_comprovada", f"{small:.2f}".replace(".", ","),
                           "holerite conferido")  # fmt: skip
    assert flash == "Decisão registrada e em vigor."
    rows = analyst.audit_rows(first["customer_id"])
    assert any("decision.override" in r and "renda_comprovada" in r and "ana" in r for r in rows)

    night = AS_OF + timedelta(days=1)
    nightly_flow(as_of=night, store=store / "store", out=book / "out", tracking_uri=tracking,
                 decisions_db_url=str(context.engine.url))  # fmt: skip
    analyst.open_customer(first["customer_id"])
    assert "Noite de 31/10/2026" in analyst.page.content()
    assert (
        "mantido pelo analista"
        in analyst.page.locator("#recommended-limit").locator("..").inner_text()
    )
    held = analyst.page.locator("#recommended-limit").inner_text()
    assert held == "R$ " + f"{small:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    assert "decisão do analista em vigor" in analyst.page.locator("#limit-reasons").inner_text()

    analyst.open_customer(second["customer_id"])
    large = second["current_limit"] * 3
    flash = analyst.decide("override", "garantia_adicional", f"{large:.2f}")
    assert "aguardando aprovação do supervisor" in flash
    analyst.log_out()

    supervisor = Workbench(browser, base)
    supervisor.log_in("sofia")
    assert supervisor.approve_first().endswith("aprovada.")
    rows = supervisor.audit_rows(second["customer_id"])
    assert any("decision.approved" in r and "sofia" in r for r in rows)
