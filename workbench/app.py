"""The workbench's web app: FastAPI routes over `views`, `data` and `regua.decisions`.

Every page is behind login (a redirect to /login otherwise); every form carries the
session's CSRF token; decisions beyond an analyst's authority wait for a supervisor; the
audit log is shown, never edited. Nothing the analysts type (a CPF, a comment) is logged:
the access log is off and the app logs only event kinds.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from regua.decisions.audit import append, entries
from regua.decisions.limits import (
    DecisionError,
    Seen,
    customer_decisions,
    decided_on,
    pending_decisions,
    record_decision,
    settle,
)
from regua.decisions.models import Decision, User
from regua.decisions.reviews import SUBJECTS, ReviewError, answer_request, open_request, requests
from regua.decisions.users import authenticate
from regua.workbench import data, views
from regua.workbench.context import WorkbenchContext
from regua.workbench.security import (
    CsrfError,
    LoginLimiter,
    check_csrf,
    csrf_token,
    start_session,
)

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
Field = Annotated[str, Form()]
OptionalField = Annotated[str, Form()]


class LoginRequiredError(Exception):
    """The request has no logged-in user."""


class ForbiddenError(Exception):
    """The user's role may not do this."""


def parse_amount(text: str) -> float | None:
    """An amount typed the Brazilian way (12.500,00) or plainly (12500.00); None if not one."""
    cleaned = text.strip().removeprefix("R$").strip()
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        return float(cleaned)
    except ValueError:
        return None


LOOPBACK_VARIABLE = "REGUA_WEB_LOOPBACK"
"""Set by `regua web --workers N` for its worker processes: served on a loopback host."""


def app_from_settings() -> FastAPI:
    """The workbench on the settings' database and folders (one per worker process)."""
    from regua.workbench.context import load_context

    return create_app(load_context(loopback=os.environ.get(LOOPBACK_VARIABLE) == "1"))


def create_app(context: WorkbenchContext) -> FastAPI:
    """The workbench on `context` (database, rules, folders, keys)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    rules = context.config
    app.add_middleware(
        SessionMiddleware,
        secret_key=context.session_secret.decode(),
        session_cookie="regua_session",
        max_age=rules.session.lifetime_minutes * 60,
        same_site="strict",
        https_only=rules.session.https_only(context.loopback),
    )
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["brl"] = views.brl
    templates.env.filters["pct"] = views.pct
    limiter = LoginLimiter(rules.login.max_failures, rules.login.window_minutes * 60)

    def warm() -> None:
        data.warm(context.out_dir, context.store_dir)
        night = latest_or_none()
        if night is not None:  # every customer's reasons, so no page waits for TreeSHAP
            from regua.workbench.explain import prepare

            as_of, day = night
            prepare(context.store_dir, context.tracking_uri, day.manifest, as_of)

    def latest_or_none() -> tuple[date, Any] | None:
        try:
            return latest()
        except (OSError, ValueError):
            return None

    @app.on_event("startup")
    def _warm() -> None:
        threading.Thread(target=warm, daemon=True).start()

    @app.middleware("http")
    async def _headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(LoginRequiredError)
    async def _to_login(_request: Request, _exc: LoginRequiredError) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, _exc: CsrfError) -> Response:
        return page(request, "error.html", {"message": "Formulário expirado ou inválido: "
                    "recarregue a página e tente de novo."}, status=403)  # fmt: skip

    @app.exception_handler(ForbiddenError)
    async def _forbidden(request: Request, exc: ForbiddenError) -> Response:
        return page(request, "error.html", {"message": str(exc)}, status=403)

    def user_of(request: Request) -> User:
        user_id = request.session.get("user_id")
        if user_id is None:
            raise LoginRequiredError
        with context.sessions() as session:
            user = session.get(User, user_id)
        if user is None or not user.active:
            request.session.clear()
            raise LoginRequiredError
        return user

    def page(
        request: Request, name: str, values: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        user_id = request.session.get("user_id")
        user = None
        if user_id is not None:
            with context.sessions() as session:
                user = session.get(User, user_id)
        flash = request.session.pop("flash", None)
        values = {"user": user, "csrf": csrf_token(request), "flash": flash, **values}
        return templates.TemplateResponse(request, name, values, status_code=status)

    def redirect(path: str, flash: str | None = None, request: Request | None = None) -> Response:
        if flash and request is not None:
            request.session["flash"] = flash
        return RedirectResponse(path, status_code=303)

    def latest() -> tuple[date, Any] | None:
        try:
            as_of = data.latest_as_of(context.out_dir)
        except data.NoNightError:
            return None
        return as_of, data.night(context.out_dir, as_of)

    # -- login ----------------------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request) -> Response:
        return page(request, "login.html", {})

    @app.post("/login")
    def login(request: Request, name: Field, password: Field, csrf_token: Field = "") -> Response:
        check_csrf(request, csrf_token)
        client = request.client.host if request.client else "?"
        if limiter.blocked(name, client):
            message = "Muitas tentativas de acesso. Aguarde alguns minutos."
            return page(request, "login.html", {"error": message}, status=429)
        with context.sessions.begin() as session:
            user = authenticate(session, name, password)
            if user is None:
                limiter.failed(name, client)
                log.info("login refused")
                return page(
                    request, "login.html", {"error": "Usuário ou senha inválidos."}, status=401
                )
            append(session, user.name, "login")
        limiter.succeeded(name)
        start_session(request, user.id)
        return redirect("/")

    @app.post("/logout")
    def logout(request: Request, csrf_token: Field = "") -> Response:
        check_csrf(request, csrf_token)
        request.session.clear()
        return redirect("/login")

    # -- pages ------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        user_of(request)
        night = latest()
        if night is None:
            return page(request, "portfolio.html", {"night": None})
        as_of, day = night
        values = views.portfolio(day, as_of)
        values["drift"] = data.drift_status(context.tracking_uri, as_of)
        values["report"] = data.report_path(context.reports_dir, as_of) is not None
        values["pending"] = len(_pending())
        return page(request, "portfolio.html", {"night": values})

    def _pending() -> list[Decision]:
        with context.sessions() as session:
            return pending_decisions(session)

    @app.get("/relatorio")
    def report(request: Request) -> Response:
        user_of(request)
        night = latest()
        path = None if night is None else data.report_path(context.reports_dir, night[0])
        if path is None:
            return page(request, "error.html", {"message": "Relatório ainda não gerado: "
                        "rode `regua report`."}, status=404)  # fmt: skip
        response = FileResponse(path, media_type="text/html")
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'"
        )
        return response

    @app.post("/busca")
    def search(request: Request, q: Field, csrf_token: Field = "") -> Response:
        user_of(request)
        check_csrf(request, csrf_token)
        text = q.strip()
        night = latest()
        if (
            night is not None
            and text
            and (
                data.customer_rows(night[1].segments, text).height
                or data.customer_rows(night[1].limits, text).height
            )
        ):
            return redirect(f"/clientes/{text}")
        digits = "".join(ch for ch in text if ch.isalnum())
        found = []
        if len(digits) in (11, 14):
            found = data.find_by_document(context.store_dir, text, context.document_key)
        if len(found) == 1:
            return redirect(f"/clientes/{found[0]}")
        return page(request, "search.html", {"found": found}, status=200)

    def reasons(manifest: dict[str, Any], as_of: date, customer_id: str) -> dict[str, list[str]]:
        from regua.workbench.explain import reasons_on_demand

        return reasons_on_demand(
            context.store_dir, context.tracking_uri, manifest, as_of, customer_id
        )

    @app.get("/clientes/{customer_id}", response_class=HTMLResponse)
    def customer(request: Request, customer_id: str) -> Response:
        user_of(request)
        night = latest()
        view = None
        if night is not None:
            as_of, day = night
            ledger = data.customer_ledger(context.store_dir, customer_id, as_of)
            view = views.customer(day, customer_id, ledger)
            if view is not None:
                view = views.with_reasons(view, reasons(day.manifest, as_of, customer_id))
        if view is None:
            return page(request, "search.html", {"found": [], "missing": True}, status=404)
        with context.sessions() as session:
            past = customer_decisions(session, customer_id)
            history = entries(session, customer_id=customer_id, limit=50)
        return page(
            request,
            "customer.html",
            {
                "c": view,
                "as_of": night[0],
                "decisions": past,
                "audit": history,
                "reason_codes": rules.reason_codes,
                "subjects": SUBJECTS,
                "labels": views.DECISION_LABELS,
            },
        )

    @app.get("/fila", response_class=HTMLResponse)
    def review_queue(
        request: Request,
        faixa: str = "",
        motivo: str = "",
        variacao_minima: str = "",
        pagina: int = 0,
    ) -> Response:
        user_of(request)
        night = latest()
        if night is None:
            return page(request, "queue.html", {"q": None})
        minimum = parse_amount(variacao_minima) if variacao_minima else None
        with context.sessions() as session:
            decided = frozenset(decided_on(session, night[0]))
        q = views.queue(night[1], faixa or None, motivo or None, minimum, max(pagina, 0), decided)
        filters = {"faixa": faixa, "motivo": motivo, "variacao_minima": variacao_minima}
        values = {"q": q, "as_of": night[0], "filters": filters,
                  "labels": views.DECISION_LABELS, "reason_codes": rules.reason_codes}  # fmt: skip
        return page(request, "queue.html", values)

    @app.post("/decisoes")
    def decide(
        request: Request,
        customer_id: Field,
        action: Field,
        reason_code: Field,
        comment: OptionalField = "",
        new_limit: OptionalField = "",
        review_on: OptionalField = "",
        back: OptionalField = "",
        csrf_token: Field = "",
    ) -> Response:
        user = user_of(request)
        check_csrf(request, csrf_token)
        night = latest()
        back = "/fila" if back == "fila" else f"/clientes/{customer_id}"
        if night is None:
            return redirect("/", "Nenhuma noite processada ainda.", request)
        as_of, day = night
        limit = data.customer_rows(day.limits, customer_id)
        if limit.height == 0:
            return redirect("/fila", "Cliente sem recomendação de limite nesta noite.", request)
        row = limit.row(0, named=True)
        seen = Seen(customer_id, as_of, row["current_limit"], row["model_recommended_limit"],
                    data.model_version(day))  # fmt: skip
        amount = parse_amount(new_limit) if new_limit else None
        try:
            review = date.fromisoformat(review_on) if review_on else None
            with context.sessions.begin() as session:
                decision = record_decision(
                    session, rules, user, seen, action, reason_code, comment[:2000],
                    new_limit=amount, review_on=review,
                )  # fmt: skip
        except (DecisionError, ValueError) as exc:
            return redirect(back, f"Decisão não registrada: {exc}", request)
        message = (
            "Decisão registrada e em vigor."
            if decision.status == "approved"
            else "Decisão acima da sua alçada: aguardando aprovação do supervisor."
        )
        return redirect(back, message, request)

    @app.get("/aprovacoes", response_class=HTMLResponse)
    def approvals(request: Request) -> Response:
        user_of(request)
        with context.sessions() as session:
            pending = pending_decisions(session)
            names = {u.id: u.name for u in session.query(User).all()}
        return page(request, "approvals.html", {"pending": pending, "names": names})

    @app.post("/aprovacoes/{decision_id}")
    def approve(
        request: Request,
        decision_id: int,
        verdict: Field,
        comment: OptionalField = "",
        csrf_token: Field = "",
    ) -> Response:
        user = user_of(request)
        check_csrf(request, csrf_token)
        if user.role != "supervisor":
            raise ForbiddenError("Apenas supervisores aprovam decisões acima da alçada.")
        try:
            with context.sessions.begin() as session:
                settle(session, session.get(User, user.id), decision_id, verdict == "aprovar",
                       comment[:2000])  # fmt: skip
        except DecisionError as exc:
            return redirect("/aprovacoes", f"Nada feito: {exc}", request)
        done = "aprovada" if verdict == "aprovar" else "rejeitada"
        return redirect("/aprovacoes", f"Decisão {decision_id} {done}.", request)

    @app.get("/revisoes", response_class=HTMLResponse)
    def reviews(request: Request) -> Response:
        user_of(request)
        with context.sessions() as session:
            listed = requests(session)
        return page(request, "reviews.html", {"reviews": listed, "subjects": SUBJECTS})

    @app.post("/revisoes")
    def open_review(
        request: Request,
        customer_id: Field,
        subject: Field,
        request_text: Field,
        received_on: OptionalField = "",
        csrf_token: Field = "",
    ) -> Response:
        user = user_of(request)
        check_csrf(request, csrf_token)
        night = latest()
        view = None if night is None else views.customer(night[1], customer_id, None)
        if view is not None:
            view = views.with_reasons(view, reasons(night[1].manifest, night[0], customer_id))
        if view is None:
            return redirect("/revisoes", "Cliente não encontrado na última noite.", request)
        try:
            received = date.fromisoformat(received_on) if received_on else date.today()
            with context.sessions.begin() as session:
                open_request(session, user, customer_id, subject, request_text[:4000],
                             views.explanation(view), night[0], received)  # fmt: skip
        except (ReviewError, ValueError) as exc:
            return redirect("/revisoes", f"Pedido não registrado: {exc}", request)
        return redirect("/revisoes", "Pedido de revisão registrado.", request)

    @app.post("/revisoes/{review_id}/resposta")
    def answer_review(
        request: Request, review_id: int, answer: Field, csrf_token: Field = ""
    ) -> Response:
        user = user_of(request)
        check_csrf(request, csrf_token)
        try:
            with context.sessions.begin() as session:
                answer_request(session, user, review_id, answer[:4000])
        except ReviewError as exc:
            return redirect("/revisoes", f"Resposta não registrada: {exc}", request)
        return redirect("/revisoes", "Resposta registrada.", request)

    @app.get("/auditoria", response_class=HTMLResponse)
    def audit(request: Request, cliente: str = "") -> Response:
        user_of(request)
        with context.sessions() as session:
            lines = entries(session, customer_id=cliente or None, limit=500)
        return page(request, "audit.html", {"lines": lines, "cliente": cliente})

    @app.get("/static/workbench.css")
    def css() -> Response:
        return FileResponse(HERE / "static" / "workbench.css", media_type="text/css")

    return app
