"""Every route of the workbench over HTTP: login, CSRF, authority, escaping, search, audit."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import func, select, text

from regua.decisions.models import AuditEntry, Decision, ReviewRequest, User
from regua.workbench.app import create_app
from regua.workbench.security import LoginLimiter
from tests.conftest import VALID_CPF
from tests.workbench.conftest import PASSWORDS, csrf_of, log_in, make_context

GET_ROUTES = ["/", "/fila", "/aprovacoes", "/revisoes", "/auditoria", "/clientes/C1", "/relatorio"]
POST_ROUTES = {
    "/busca": {"q": "C1"},
    "/decisoes": {"customer_id": "C2", "action": "accept", "reason_code": "aceite_recomendacao"},
    "/aprovacoes/1": {"verdict": "aprovar"},
    "/revisoes": {"customer_id": "C1", "subject": "limite", "request_text": "revisar"},
    "/revisoes/1/resposta": {"answer": "ok"},
}


def _count(context, model) -> int:
    with context.sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("path", GET_ROUTES)
def test_every_page_redirects_to_login_without_a_session(client, path: str) -> None:
    response = client.get(path)
    assert (response.status_code, response.headers["location"]) == (303, "/login")


@pytest.mark.parametrize("path", list(POST_ROUTES))
def test_every_form_redirects_to_login_without_a_session(client, context, path: str) -> None:
    before = _count(context, AuditEntry)
    response = client.post(path, data={**POST_ROUTES[path], "csrf_token": "x"})
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert _count(context, AuditEntry) == before


@pytest.mark.parametrize("path", [*POST_ROUTES, "/login", "/logout"])
@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_a_form_without_the_sessions_csrf_token_is_refused(client, context, path, token) -> None:
    log_in(client, "sofia")
    before = (_count(context, AuditEntry), _count(context, Decision))
    data = dict(POST_ROUTES.get(path, {"name": "ana", "password": PASSWORDS["ana"]}))
    if token:
        data["csrf_token"] = token
    response = client.post(path, data=data)
    assert response.status_code == 403
    assert "Formulário expirado ou inválido" in response.text
    assert (_count(context, AuditEntry), _count(context, Decision)) == before


def test_login_logout_and_the_session_cookie(client) -> None:
    token = csrf_of(client.get("/login").text)
    wrong = client.post("/login", data={"name": "ana", "password": "errada", "csrf_token": token})
    assert wrong.status_code == 401 and "Usuário ou senha inválidos" in wrong.text
    good = client.post(
        "/login", data={"name": "ana", "password": PASSWORDS["ana"], "csrf_token": token}
    )
    cookie = good.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    home = client.get("/")
    assert home.status_code == 200 and "ana (analista)" in home.text
    assert home.headers["content-security-policy"].startswith("default-src 'self'")
    client.post("/logout", data={"csrf_token": csrf_of(home.text)})
    assert client.get("/").status_code == 303


def test_cookies_are_secure_when_configured(book, tmp_path) -> None:
    from fastapi.testclient import TestClient

    context = make_context(book, tmp_path, secure=True)
    with TestClient(create_app(context), base_url="https://testserver") as client:
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login",
            data={"name": "ana", "password": PASSWORDS["ana"], "csrf_token": token},
            follow_redirects=False,
        )
    assert "secure" in response.headers["set-cookie"].lower()
    context.engine.dispose()
    rules = context.config.session
    assert rules.https_only(loopback=False) and not rules.https_only(loopback=True)


def test_failed_logins_are_rate_limited(client) -> None:
    token = csrf_of(client.get("/login").text)
    for _ in range(5):  # config/workbench.yaml: max_failures 5
        client.post("/login", data={"name": "ana", "password": "errada", "csrf_token": token})
    right = {"name": "ana", "password": PASSWORDS["ana"], "csrf_token": token}
    response = client.post("/login", data=right)
    assert response.status_code == 429 and "Muitas tentativas" in response.text
    # another name from the same address may still log in, until the address's own limit
    other = {"name": "sofia", "password": PASSWORDS["sofia"], "csrf_token": token}
    assert client.post("/login", data=other).status_code == 303


def test_the_login_limiter_counts_names_and_addresses_within_its_window() -> None:
    limiter = LoginLimiter(max_failures=2, window_seconds=0.2)
    limiter.failed("ana", "10.0.0.1")
    assert not limiter.blocked("ana", "10.0.0.1")
    limiter.failed("ANA", "10.0.0.2")  # names are counted whatever their case
    assert limiter.blocked("ana", "10.0.0.3")
    assert not limiter.blocked("bia", "10.0.0.1")
    for i in range(7):  # the address: CLIENT_FACTOR (4) x 2 failures, 8 with ana's
        limiter.failed(f"x{i}", "10.0.0.1")
    assert limiter.blocked("bia", "10.0.0.1") and not limiter.blocked("bia", "10.0.0.9")
    time.sleep(0.25)
    assert not limiter.blocked("ana", "10.0.0.1")
    limiter.failed("bia", "10.0.0.5")
    limiter.succeeded("bia")
    limiter.failed("bia", "10.0.0.5")
    assert not limiter.blocked("bia", "10.0.0.5")


def test_the_portfolio_shows_the_nights_figures(client) -> None:
    log_in(client, "ana")
    page = client.get("/").text
    assert "Carteira em 30/09/2026" in page
    assert "intensive" in page and "high_risk_band" in page and "sms" in page
    assert "desconhecido" in page  # no drift run in this MLflow store


def test_the_customer_page_shows_scores_reasons_ledger_case_and_evidence(client) -> None:
    log_in(client, "ana")
    page = client.get("/clientes/C1").text
    assert 'id="pd">2,1%' in page and 'id="propensity">80,0%' in page
    assert "Caráter: atrasos recentes pesam no risco" in page
    assert "uso do limite de 92%" in page
    assert 'id="current-limit">R$ 3.000,00' in page
    assert "I2" in page and "R$ 49,90" in page  # 99.90 billed, 50 paid: 49.90 open
    assert "CASE-C1" in page and "contacts_7d" in page
    assert '<svg id="payment-history"' in page
    assert client.get("/clientes/NOPE").status_code == 404


def test_search_by_id_and_by_cpf_without_keeping_the_document(client, context, caplog) -> None:
    token = log_in(client, "ana")
    caplog.set_level(logging.DEBUG)
    by_id = client.post("/busca", data={"q": "C3", "csrf_token": token})
    assert by_id.headers["location"] == "/clientes/C3"
    by_cpf = client.post("/busca", data={"q": VALID_CPF, "csrf_token": token})
    assert by_cpf.headers["location"] == "/clientes/C1"
    digits = VALID_CPF.replace(".", "").replace("-", "")
    assert VALID_CPF not in caplog.text and digits not in caplog.text
    with context.engine.connect() as connection:
        dump = "\n".join(connection.connection.driver_connection.iterdump())
    assert digits not in dump and VALID_CPF not in dump


@pytest.mark.parametrize(
    "attack",
    ["' OR '1'='1", "C1' OR 1=1 --", "'; DROP TABLE users; --", "%' OR customer_id LIKE '%"],
)
def test_sql_injection_in_search_finds_nothing_and_breaks_nothing(client, context, attack) -> None:
    token = log_in(client, "ana")
    response = client.post("/busca", data={"q": attack, "csrf_token": token})
    assert response.status_code == 200 and "Nenhum cliente encontrado" in response.text
    assert client.get(f"/auditoria?cliente={attack}").status_code == 200
    assert client.get(f"/fila?motivo={attack}").status_code == 200
    assert _count(context, User) == 2
    assert client.get("/clientes/C1").status_code == 200


def test_an_xss_payload_in_a_comment_is_rendered_inert(client) -> None:
    token = log_in(client, "ana")
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post(
        "/decisoes",
        data={"customer_id": "C2", "action": "override", "new_limit": "1.300,00",
              "reason_code": "outro", "comment": payload, "csrf_token": token},
    )  # fmt: skip
    for path in ("/clientes/C2", "/auditoria"):
        page = client.get(path).text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
        assert "<script>" not in page and "<img src=x" not in page


def test_a_decision_within_authority_holds_and_a_larger_one_waits(client, context) -> None:
    token = log_in(client, "ana")
    small = client.post(
        "/decisoes",
        data={"customer_id": "C2", "action": "accept", "reason_code": "aceite_recomendacao",
              "csrf_token": token},
    )  # fmt: skip
    assert small.headers["location"] == "/clientes/C2"
    assert "Decisão registrada e em vigor" in client.get("/clientes/C2").text
    large = client.post(
        "/decisoes",
        data={"customer_id": "C1", "action": "accept", "reason_code": "aceite_recomendacao",
              "comment": "uso alto", "csrf_token": token},
    )  # fmt: skip
    assert "aguardando aprovação" in client.get(large.headers["location"]).text
    with context.sessions() as session:
        rows = session.scalars(select(Decision).order_by(Decision.id)).all()
    assert [(d.customer_id, d.new_limit, d.status, d.model_version) for d in rows] == [
        ("C2", 1500.0, "approved", "3"),
        ("C1", 4000.0, "pending", "3"),
    ]


def test_an_analyst_cannot_approve_and_a_supervisor_can(client, context) -> None:
    token = log_in(client, "ana")
    client.post(
        "/decisoes",
        data={"customer_id": "C3", "action": "override", "new_limit": "20000",
              "reason_code": "risco_setorial", "csrf_token": token},
    )  # fmt: skip
    assert 'value="aprovar"' not in client.get("/aprovacoes").text
    refused = client.post("/aprovacoes/1", data={"verdict": "aprovar", "csrf_token": token})
    assert refused.status_code == 403 and "Apenas supervisores" in refused.text
    with context.sessions() as session:
        assert session.get(Decision, 1).status == "pending"
    client.post("/logout", data={"csrf_token": token})
    token = log_in(client, "sofia")
    assert 'value="aprovar"' in client.get("/aprovacoes").text
    client.post("/aprovacoes/1", data={"verdict": "aprovar", "comment": "ok", "csrf_token": token})
    with context.sessions() as session:
        assert session.get(Decision, 1).status == "approved"
    audit = client.get("/auditoria?cliente=C3").text
    assert "decision.approved" in audit and "sofia" in audit and "decision.override" in audit


def test_bad_decisions_are_refused_with_a_message(client, context) -> None:
    token = log_in(client, "ana")
    for data in (
        {"action": "override", "new_limit": "abc", "reason_code": "outro"},
        {"action": "override", "new_limit": "100", "reason_code": "inventado"},
        {"action": "accept", "reason_code": "outro", "review_on": "2026-09-01"},
    ):
        response = client.post("/decisoes", data={"customer_id": "C2", "csrf_token": token, **data})
        assert "Decisão não registrada" in client.get(response.headers["location"]).text
    assert _count(context, Decision) == 0


def test_review_requests_keep_the_explanation_shown_and_the_answer(client, context) -> None:
    token = log_in(client, "ana")
    client.post(
        "/revisoes",
        data={"customer_id": "C3", "subject": "limite", "request_text": "Por que reduziram?",
              "csrf_token": token},
    )  # fmt: skip
    page = client.get("/revisoes").text
    assert "Por que reduziram?" in page and "Capacidade: parcelas altas para a renda" in page
    client.post("/revisoes/1/resposta", data={"answer": "Revisado", "csrf_token": token})
    with context.sessions() as session:
        review = session.get(ReviewRequest, 1)
    assert review.status == "answered" and "PD 31,0%" in review.explanation


def test_the_review_queue_filters_by_band_reason_and_size(client) -> None:
    log_in(client, "ana")
    assert "3 recomendações" in client.get("/fila").text
    assert "1 recomendações" in client.get("/fila?faixa=muito+alto").text
    assert "2 recomendações" in client.get("/fila?motivo=high_utilisation_good_payer").text
    assert "2 recomendações" in client.get("/fila?variacao_minima=500").text


def test_the_audit_log_offers_no_way_to_change_it(client, context) -> None:
    token = log_in(client, "ana")
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)("/auditoria").status_code == 405
    assert client.post("/auditoria", data={"csrf_token": token}).status_code == 405
    with pytest.raises(Exception, match="append-only"), context.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log"))
    assert "login" in client.get("/auditoria").text


def test_the_report_link_serves_the_nights_portfolio_report(client, context) -> None:
    log_in(client, "ana")
    assert client.get("/relatorio").status_code == 404
    assert "Relatório completo ainda não gerado" in client.get("/").text
    context.reports_dir.mkdir(parents=True)
    (context.reports_dir / "portfolio-2026-09-30.html").write_text("<h1>Carteira</h1>")
    assert 'href="/relatorio"' in client.get("/").text
    report = client.get("/relatorio")
    assert report.status_code == 200 and report.text == "<h1>Carteira</h1>"
    assert "script-src 'none'" in report.headers["content-security-policy"]


def test_accepting_from_the_queue_records_the_decision_and_leaves_the_queue(client, context):
    token = log_in(client, "ana")
    page = client.get("/fila").text
    assert "3 recomendações" in page and 'value="accept">Aceitar' in page
    response = client.post(
        "/decisoes",
        data={"customer_id": "C2", "action": "accept", "reason_code": "aceite_recomendacao",
              "back": "fila", "csrf_token": token},
    )  # fmt: skip
    assert response.headers["location"] == "/fila"
    page = client.get("/fila").text
    assert "Decisão registrada e em vigor" in page and "2 recomendações" in page
    assert 'href="/clientes/C2"' not in page
    with context.sessions() as session:
        decision = session.scalars(select(Decision)).one()
    assert (decision.customer_id, decision.action, decision.new_limit) == ("C2", "accept", 1500)
