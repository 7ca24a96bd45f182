"""Message fields in pt-BR from action rows, and every template rendered from them."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.config.dunning import OTHER_TEMPLATES, load_ladders, template_file
from regua.dunning.messages import (
    DEFAULT_CUSTOMER_NAME,
    DEFAULT_PAYMENT_LINK,
    message_fields,
    money,
    render_message,
)
from tests.dunning.config_files import CONFIG

LADDERS = load_ladders()
CREDITOR = LADDERS.creditor
TEMPLATES = sorted((CONFIG.parent / "templates").glob("*.txt"))
PRE_DUE = {s.template for _, _, s in LADDERS.steps() if s.offset_days <= 0}
BUREAU = {s.template for _, _, s in LADDERS.steps() if s.channel == "bureau"} | {
    name for name, (channel, _, _) in OTHER_TEMPLATES.items() if channel == "bureau"
}
DOCUMENT_CHANNELS = {"email", "letter", "bureau", "agency"}
CHANNEL = {
    **{name: channel for name, (channel, _, _) in OTHER_TEMPLATES.items()},
    **{s.template: s.channel for _, _, s in LADDERS.steps()},
}

ROW = {
    "as_of": date(2026, 11, 3),
    "action_id": "A-1",
    "case_id": "C-77",
    "customer_id": "CU-9",
    "invoice_id": "F-101",
    "invoice_ids": ["F-101", "F-102", "F-103"],
    "segment": "standard",
    "ladder_id": "standard",
    "step_id": "std_email_d12",
    "channel": "email",
    "template_id": "notice_overdue_email",
    "purpose": "notice",
    "scheduled_for": datetime(2026, 11, 4, 9, 0),
    "valid_until": date(2026, 11, 10),
    "open_amount": 1234.56,
    "due_at": date(2026, 7, 10),
    "total_due": 14914.68,
    "invoice_count": 3,
    "invoice_amounts": [1234.56, 12345.67, 1334.45],
    "invoice_due_dates": [date(2026, 7, 10), date(2026, 8, 10), date(2026, 9, 10)],
    "oldest_due_at": date(2026, 7, 10),
    "days_overdue": 116,
    "late_fee": 298.29,
    "interest": 411.07,
    "amount_due": 15624.04,
    "discount_pct": 12.5,
    "max_installments": 12,
    "offer_valid_until": date(2026, 11, 30),
    "notice_date": date(2026, 10, 1),
    "listing_date": date(2026, 10, 26),
    "settled_at": date(2026, 11, 2),
}
"""A case action: three overdue invoices, every field set."""

PRE_DUE_ROW = {
    **ROW,
    "action_id": "A-2",
    "case_id": None,
    "invoice_id": "F-104",
    "invoice_ids": ["F-104"],
    "invoice_amounts": [99.9],
    "invoice_due_dates": [date(2026, 11, 6)],
    "purpose": "reminder",
    "open_amount": 99.9,
    "due_at": date(2026, 11, 6),
}
"""A reminder before the due date: one invoice, no case."""

LISTING_ROW = {**ROW, "action_id": "A-3", "invoice_id": "F-102", "purpose": "negative_listing"}
"""A bureau listing: one row per listed invoice, the second of the case here."""


def actions(*rows: dict[str, object]) -> pl.DataFrame:
    return pl.DataFrame(list(rows))


def test_case_fields_read_the_brazilian_way() -> None:
    fields = message_fields(actions(ROW), CREDITOR).row(0, named=True)
    assert fields == {
        "action_id": "A-1",
        "amount": "R$ 15.624,04",
        "amount_due": "R$ 15.624,04",
        "case_id": "C-77",
        "creditor_address": CREDITOR.address,
        "creditor_cnpj": "11.222.333/0001-81",
        "creditor_contact": CREDITOR.contact,
        "creditor_name": CREDITOR.name,
        "days_overdue": "116",
        "discount_pct": "12,5",
        "due_date": "10/07/2026",
        "interest": "R$ 411,07",
        "invoice_count": "3",
        "invoice_id": "F-101",
        "invoices": "- Fatura F-101: R$ 1.234,56, vencida em 10/07/2026\n"
        "- Fatura F-102: R$ 12.345,67, vencida em 10/08/2026\n"
        "- Fatura F-103: R$ 1.334,45, vencida em 10/09/2026",
        "late_fee": "R$ 298,29",
        "listing_date": "26/10/2026",
        "max_installments": "12",
        "notice_date": "01/10/2026",
        "offer_valid_until": "30/11/2026",
        "oldest_due_date": "10/07/2026",
        "settled_date": "02/11/2026",
        "total_due": "R$ 14.914,68",
    }


def test_amount_is_the_invoice_for_per_invoice_actions_and_the_case_otherwise() -> None:
    fields = message_fields(actions(ROW, PRE_DUE_ROW, LISTING_ROW), CREDITOR)
    assert fields.select("action_id", "amount", "due_date").rows() == [
        ("A-1", "R$ 15.624,04", "10/07/2026"),
        ("A-2", "R$ 99,90", "06/11/2026"),
        ("A-3", "R$ 1.234,56", "10/07/2026"),
    ]


def test_a_reminder_without_a_case_has_no_case_fields() -> None:
    row = {**PRE_DUE_ROW, "invoice_ids": None, "invoice_amounts": None, "invoice_due_dates": None}
    row |= {"total_due": None, "invoice_count": None, "amount_due": None, "case_id": None}
    fields = message_fields(actions(row), CREDITOR).row(0, named=True)
    assert (fields["amount"], fields["invoices"], fields["amount_due"]) == ("R$ 99,90", None, None)


def test_invoices_without_due_dates_list_amounts_only() -> None:
    frame = actions(ROW).drop("invoice_due_dates", "settled_at")
    fields = message_fields(frame, CREDITOR).row(0, named=True)
    assert fields["invoices"].splitlines() == [
        "- Fatura F-101: R$ 1.234,56",
        "- Fatura F-102: R$ 12.345,67",
        "- Fatura F-103: R$ 1.334,45",
    ]
    assert fields["settled_date"] is None


@given(st.integers(min_value=0, max_value=10**13))
@settings(max_examples=200, deadline=None)
def test_money_has_dots_for_thousands_and_a_comma_for_centavos(cents: int) -> None:
    text = pl.select(money(pl.lit(cents / 100))).item()
    assert text == "R$ " + f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"


def test_money_rounds_half_centavos_up() -> None:
    values = pl.Series([0.005, 2.675, 1_000_000.0, None])
    assert pl.select(money(pl.lit(values))).to_series().to_list() == [
        "R$ 0,01",
        "R$ 2,68",
        "R$ 1.000.000,00",
        None,
    ]


def row_for(template: str) -> dict[str, object]:
    if template in PRE_DUE:
        return message_fields(actions(PRE_DUE_ROW), CREDITOR).row(0, named=True)
    if template in BUREAU:
        return message_fields(actions(LISTING_ROW), CREDITOR).row(0, named=True)
    return message_fields(actions(ROW), CREDITOR).row(0, named=True)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_template_renders_from_an_action_row_naming_the_creditor(path: Path) -> None:
    text = render_message(
        path.read_text(encoding="utf-8"),
        row_for(path.stem),
        customer_name="Maria da Silva",
        payment_link="https://pg.regua.com.br/a1B2c3",
        customer_document="123.456.789-09",
    )
    assert "{" not in text and "}" not in text
    assert "11.222.333/0001-81" in text and CREDITOR.name in text
    if CHANNEL[path.stem] in DOCUMENT_CHANNELS:
        assert CREDITOR.address in text
    if path.stem in PRE_DUE:
        assert "R$ 99,90" in text and "06/11/2026" in text
    if "{invoices}" in path.read_text(encoding="utf-8"):
        assert all(invoice in text for invoice in ("F-101", "F-102", "F-103"))
    assert text == text.strip()


def test_render_greets_neutrally_without_the_tools_data() -> None:
    text = render_message(
        template_file("reminder_after_due_whatsapp").read_text(encoding="utf-8"), row_for("x")
    )
    assert text.startswith(f"Olá, {DEFAULT_CUSTOMER_NAME}!")
    assert f"está em {DEFAULT_PAYMENT_LINK}." in text
    assert "Total atualizado: R$ 15.624,04" in text


def test_render_refuses_a_field_the_action_has_no_value_for() -> None:
    fields = message_fields(actions(ROW).drop("settled_at"), CREDITOR).row(0, named=True)
    recall = template_file("agency_recall").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match=r"\{customer_document\}, \{settled_date\}"):
        render_message(recall, fields)
