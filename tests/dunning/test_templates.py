"""Portuguese templates: respectful (CDC art. 42), naming the creditor and its CNPJ (art. 42-A)."""

from __future__ import annotations

from pathlib import Path

import pytest

from regua.config.dunning import TEMPLATE_FIELDS, load_ladders, template_fields, template_file
from tests.dunning.config_files import CONFIG

TEMPLATES = sorted((CONFIG.parent / "templates").glob("*.txt"))
LADDERS = load_ladders()
PURPOSES = {step.template: step.purpose for _, _, step in LADDERS.steps()}

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

SAMPLE = {
    "customer_name": "Maria da Silva",
    "creditor_name": LADDERS.creditor.name,
    "creditor_cnpj": LADDERS.creditor.cnpj_formatted,
    "creditor_contact": LADDERS.creditor.contact,
    "invoice_id": "F-2026-0001",
    "amount": "R$ 1.234,56",
    "due_date": "10/09/2026",
    "days_overdue": "12",
    "payment_link": "https://pagar.example.com.br/abc",
    "discount_pct": "10",
    "max_installments": "12",
    "offer_valid_until": "30/09/2026",
    "listing_date": "15/10/2026",
}


def test_every_template_file_is_used_and_every_step_has_one() -> None:
    assert {t.stem for t in TEMPLATES} == set(PURPOSES)
    assert all(template_file(t).exists() for t in PURPOSES)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_template_names_the_creditor_and_cnpj(path: Path) -> None:
    fields = template_fields(path.read_text(encoding="utf-8"))
    assert {"creditor_name", "creditor_cnpj"} <= fields
    assert fields <= TEMPLATE_FIELDS
    if PURPOSES[path.stem] == "negotiation_offer":
        assert {"discount_pct", "max_installments"} <= fields


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_template_is_respectful_and_renders(path: Path) -> None:
    text = path.read_text(encoding="utf-8").format(**SAMPLE)
    lowered = text.lower()
    assert [word for word in FORBIDDEN if word in lowered] == []
    assert "{" not in text and "}" not in text
    assert "11.222.333/0001-81" in text
    for line in text.splitlines():  # no shouting: no long all-capitals line
        letters = [c for c in line if c.isalpha()]
        assert len(letters) <= 10 or not all(c.isupper() for c in letters), line


@pytest.mark.parametrize(
    "path", [p for p in TEMPLATES if PURPOSES[p.stem] == "negative_listing_notice"], ids=str
)
def test_listing_notice_states_the_right_to_pay_or_dispute_first(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "{listing_date}" in text
    assert "pagar" in text and "contestar" in text
    assert "art. 43" in text
