"""Portuguese templates: respectful (CDC art. 42), naming the creditor (art. 42-A), one per case."""

from __future__ import annotations

from pathlib import Path

import pytest

from regua.config.dunning import (
    OTHER_TEMPLATES,
    TEMPLATE_FIELDS,
    check_other_templates,
    load_ladders,
    template_fields,
    template_file,
)
from tests.dunning.config_files import CONFIG

TEMPLATES = sorted((CONFIG.parent / "templates").glob("*.txt"))
LADDERS = load_ladders()
STEPS = {step.template: step for _, _, step in LADDERS.steps()}
CHANNEL = {
    **{name: channel for name, (channel, _, _) in OTHER_TEMPLATES.items()},
    **{name: step.channel for name, step in STEPS.items()},
}
PURPOSE = {
    **{name: purpose for name, (_, purpose, _) in OTHER_TEMPLATES.items()},
    **{name: step.purpose for name, step in STEPS.items()},
}
PRE_DUE = sorted({s.template for _, _, s in LADDERS.steps() if s.offset_days <= 0})
CASE = sorted(
    {s.template for _, _, s in LADDERS.steps() if s.offset_days > 0 and s.channel != "bureau"}
    | {name for name, (_, _, scope) in OTHER_TEMPLATES.items() if scope == "case"}
)
SMS = sorted(name for name, channel in CHANNEL.items() if channel == "sms")

FORBIDDEN = (
    "prisão",
    "preso",
    "cadeia",
    "polícia",
    "delegacia",
    "crime",
    "processo",
    "justiça",
    "penhora",
    "caloteiro",
    "vergonha",
    "humilh",
    "ameaç",
    "último aviso",
    "vizinho",
    "empregador",
    "família",
    "parentes",
    "imediatamente",
)
"""Words that threaten, shame or expose the debtor, or pressure beyond information (art. 42)."""

LONG = {
    "customer_name": "Maria Aparecida de Souza Figueiredo Lima",  # 40 characters
    "customer_document": "123.456.789-09",
    "payment_link": "https://pg.regua.com.br/a1B2c3",  # 30 characters
    "creditor_name": "Régua Crédito S.A.",
    "creditor_cnpj": "11.222.333/0001-81",
    "creditor_contact": "0800 000 0000 ou atendimento@reguacredito.com.br",
    "creditor_address": "Av. Paulista, 1000, 10º andar, Bela Vista, São Paulo - SP, 01310-100",
    "case_id": "C-2026-000001234",
    "invoice_id": "F-2026-0001234",
    "amount": "R$ 12.345,67",
    "due_date": "10/09/2026",
    "total_due": "R$ 37.037,01",
    "invoice_count": "3",
    "oldest_due_date": "10/07/2026",
    "invoices": "- Fatura F-2026-0001234: R$ 12.345,67, vencida em 10/07/2026\n"
    "- Fatura F-2026-0001235: R$ 12.345,67, vencida em 10/08/2026\n"
    "- Fatura F-2026-0001236: R$ 12.345,67, vencida em 10/09/2026",
    "late_fee": "R$ 740,74",
    "interest": "R$ 12.345,67",
    "amount_due": "R$ 50.123,42",
    "days_overdue": "120",
    "discount_pct": "12,5",
    "max_installments": "24",
    "offer_valid_until": "30/11/2026",
    "notice_date": "15/10/2026",
    "listing_date": "09/11/2026",
    "settled_date": "20/11/2026",
}
"""Long, realistic values, written here by hand."""

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""3GPP TS 23.038 default alphabet, typed from the table (extension characters left out)."""


def text(name: str) -> str:
    return template_file(name).read_text(encoding="utf-8")


def test_every_template_file_is_used_by_a_step_or_sent_outside_the_ladders() -> None:
    assert {t.stem for t in TEMPLATES} == set(STEPS) | set(OTHER_TEMPLATES)
    assert {"delisting_request", "agency_recall"} <= set(OTHER_TEMPLATES)
    assert all(template_file(t).exists() for t in CHANNEL)


def test_templates_outside_the_ladders_pass_the_same_checks() -> None:
    check_other_templates(LADDERS.creditor)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_template_names_the_creditor_and_cnpj_and_documents_the_address(path: Path) -> None:
    fields = template_fields(path.read_text(encoding="utf-8"))
    assert {"creditor_name", "creditor_cnpj"} <= fields
    assert fields <= TEMPLATE_FIELDS
    if CHANNEL[path.stem] in ("email", "letter", "bureau", "agency"):
        assert "creditor_address" in fields
    if PURPOSE[path.stem] == "negotiation_offer":
        assert {"discount_pct", "max_installments", "offer_valid_until"} <= fields


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_template_is_respectful_and_renders(path: Path) -> None:
    rendered = path.read_text(encoding="utf-8").format(**LONG)
    lowered = rendered.lower()
    assert [word for word in FORBIDDEN if word in lowered] == []
    assert "{" not in rendered and "}" not in rendered
    assert "11.222.333/0001-81" in rendered
    for line in rendered.splitlines():  # no shouting: no long all-capitals line
        letters = [c for c in line if c.isalpha()]
        assert len(letters) <= 10 or not all(c.isupper() for c in letters), line


@pytest.mark.parametrize("name", CASE)
def test_a_case_message_covers_every_open_invoice_with_its_charges(name: str) -> None:
    fields = template_fields(text(name))
    assert {"invoice_count", "oldest_due_date", "amount_due"} <= fields
    assert not fields & {"invoice_id", "due_date"}
    if CHANNEL[name] == "sms":
        assert "encargos" in text(name)
    else:
        assert {"invoices", "total_due", "late_fee", "interest"} <= fields


@pytest.mark.parametrize("name", PRE_DUE)
def test_a_pre_due_reminder_speaks_of_its_own_invoice(name: str) -> None:
    fields = template_fields(text(name))
    assert {"amount", "due_date"} <= fields
    assert not fields & {"invoices", "invoice_count", "amount_due", "late_fee", "interest"}


@pytest.mark.parametrize(
    "name", [n for n in CHANNEL if PURPOSE[n] == "negative_listing_notice"], ids=str
)
def test_listing_notice_states_the_listing_date_and_the_right_to_pay_or_dispute_first(
    name: str,
) -> None:
    body = text(name)
    assert "{listing_date}" in body
    assert "pagar" in body and "contestar" in body
    assert "art. 43" in body


def test_the_listing_request_names_creditor_debtor_debt_and_the_notice_it_waited_for() -> None:
    fields = template_fields(text("negative_listing_request"))
    assert {"creditor_name", "creditor_cnpj", "creditor_address"} <= fields
    assert {"customer_name", "customer_document"} <= fields
    assert {"invoice_id", "amount", "due_date", "notice_date", "listing_date"} <= fields


def test_the_delisting_request_names_the_invoice_and_when_it_was_settled() -> None:
    body = text("delisting_request")
    assert {"invoice_id", "due_date", "settled_date", "customer_document"} <= template_fields(body)
    assert "exclusão" in body and "Súmula 548" in body


def test_the_agency_recall_tells_the_agency_to_stop_on_the_case() -> None:
    body = text("agency_recall")
    assert {"case_id", "settled_date", "customer_name"} <= template_fields(body)
    assert "encerrada" in body


@pytest.mark.parametrize("name", SMS)
def test_an_sms_is_gsm7_and_fits_one_message_with_long_values(name: str) -> None:
    rendered = text(name).format(**LONG).strip()
    assert set(rendered) <= GSM7, set(rendered) - GSM7
    assert len(rendered) <= 160, (len(rendered), rendered)
    assert not set("áâãêíóôõúçÁÂÃÊÍÓÔÕÚªº") & set(text(name))
