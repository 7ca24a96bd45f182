"""config/ladders.yaml: the shipped defaults load, and each kind of bad file is refused by name."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.config import ConfigError
from regua.config.dunning import (
    MAX_SMS_SEGMENTS,
    MIN_LISTING_NOTICE_DAYS,
    NOTICE_CHANNELS,
    Creditor,
    check_other_templates,
    load_ladders,
    sms_problem,
)
from tests.dunning.config_files import CONFIG, shipped, write

TEMPLATES = CONFIG.parent / "templates"


def test_shipped_ladders_load_with_the_ladders_the_issue_asks_for() -> None:
    config = load_ladders()
    assert {"gentle", "standard", "intensive", "recovery", "digital"} <= set(config.ladders)
    ids = [step.id for _, _, step in config.steps()]
    assert len(ids) == len(set(ids))
    assert config.creditor.cnpj == "11222333000181"
    assert config.creditor.cnpj_formatted == "11.222.333/0001-81"

    gentle = config.ladders["gentle"].steps
    assert gentle[0].offset_days < 0
    assert {s.purpose for s in gentle} <= {"reminder", "notice"}

    intensive = config.ladders["intensive"].steps
    assert any(s.channel == "phone" and 0 <= s.offset_days <= 3 for s in intensive)
    assert any(s.purpose == "negotiation_offer" for s in intensive)

    recovery = {s.purpose: s for s in config.ladders["recovery"].steps}
    notice, listing = recovery["negative_listing_notice"], recovery["negative_listing"]
    assert notice.channel in NOTICE_CHANNELS
    assert listing.offset_days - notice.offset_days >= MIN_LISTING_NOTICE_DAYS
    assert recovery["suspension"].offset_days > listing.offset_days
    assert recovery["agency_handoff"].channel == "agency"


def step(data: dict[str, Any], ladder: str, index: int) -> dict[str, Any]:
    return data["ladders"][ladder]["steps"][index]


def _set(ladder: str, index: int, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        step(data, ladder, index).update(fields)

    return mutate


def _drop(ladder: str, index: int, field: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        del step(data, ladder, index)[field]

    return mutate


def _set_creditor(data: dict[str, Any]) -> None:
    data["creditor"]["cnpj"] = "11.222.333/0001-82"


def _set_creditor_name(name: str) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        data["creditor"]["name"] = name

    return mutate


def _empty_ladder(data: dict[str, Any]) -> None:
    data["ladders"]["gentle"]["steps"] = []


# standard: 0 email -3, 1 sms 0, 2 whatsapp 3, 3 phone 7, 4 email 12, 5 offer 20,
# 6 letter notice 30, 7 listing 55, 8 agency 90.
BAD: dict[str, tuple[Callable[[dict[str, Any]], None], str, str]] = {
    "unknown channel": (
        _set("gentle", 0, channel="fax"),
        "ladders.gentle.steps.0.channel",
        "email",
    ),
    "duplicate step id in another ladder": (
        _set("standard", 1, id="gentle_email_dm3"),
        "ladders.standard.steps.1.id",
        "duplicate step id (also at ladders.gentle.steps.0)",
    ),
    "duplicate step id in the same ladder": (
        _set("standard", 2, id="std_sms_d0"),
        "ladders.standard.steps.2.id",
        "duplicate step id",
    ),
    "offset before -30": (
        _set("gentle", 0, offset_days=-31),
        "ladders.gentle.steps.0.offset_days",
        "greater than or equal to -30",
    ),
    "offset after 180": (
        _set("standard", 8, offset_days=181),
        "ladders.standard.steps.8.offset_days",
        "less than or equal to 180",
    ),
    "steps out of order": (
        _set("standard", 4, offset_days=5),
        "ladders.standard.steps.4.offset_days",
        "ordered by offset_days",
    ),
    "unknown purpose": (
        _set("gentle", 1, purpose="threat"),
        "ladders.gentle.steps.1.purpose",
        "reminder",
    ),
    "unknown tone": (_set("gentle", 1, tone="angry"), "ladders.gentle.steps.1.tone", "friendly"),
    "offer without discount": (
        _drop("standard", 5, "discount_pct"),
        "ladders.standard.steps.5.discount_pct",
        "required for a negotiation_offer",
    ),
    "offer without instalments": (
        _drop("standard", 5, "max_installments"),
        "ladders.standard.steps.5.max_installments",
        "required for a negotiation_offer",
    ),
    "discount too large": (
        _set("standard", 5, discount_pct=95),
        "ladders.standard.steps.5.discount_pct",
        "less than or equal to 90",
    ),
    "too many instalments": (
        _set("standard", 5, max_installments=60),
        "ladders.standard.steps.5.max_installments",
        "less than or equal to 48",
    ),
    "discount on a reminder": (
        _set("gentle", 0, discount_pct=5),
        "ladders.gentle.steps.0.discount_pct",
        "only allowed on a negotiation_offer",
    ),
    "listing notice by sms": (
        _set("standard", 6, channel="sms"),
        "ladders.standard.steps.6.channel",
        "written",
    ),
    "listing too soon after the notice": (
        _set("standard", 7, offset_days=35),
        "ladders.standard.steps.7.offset_days",
        f"at least {MIN_LISTING_NOTICE_DAYS} days after",
    ),
    "listing without a notice": (
        _set("standard", 6, purpose="notice"),
        "ladders.standard.steps.7.purpose",
        "negative_listing_notice must come first",
    ),
    "agency hand-off by e-mail": (
        _set("standard", 8, channel="email"),
        "ladders.standard.steps.8.channel",
        "agency",
    ),
    "missing template": (
        _set("gentle", 2, template="nao_existe"),
        "ladders.gentle.steps.2.template",
        "no template file",
    ),
    "template id that is a path": (
        _set("gentle", 2, template="../segments"),
        "ladders.gentle.steps.2.template",
        "pattern",
    ),
    "SMS segments beyond the cap": (
        _set("gentle", 1, sms_segments=MAX_SMS_SEGMENTS + 1),
        "ladders.gentle.steps.1.sms_segments",
        f"less than or equal to {MAX_SMS_SEGMENTS}",
    ),
    "SMS segments on an e-mail step": (
        _set("gentle", 0, sms_segments=2),
        "ladders.gentle.steps.0.sms_segments",
        "only an sms step has segments",
    ),
    "a creditor name outside GSM-7, in an SMS": (
        _set_creditor_name("Crédito São Jorge S.A."),
        "ladders.gentle.steps.1.template",
        "'ã' in 'São'",
    ),
    "bad CNPJ": (_set_creditor, "creditor.cnpj", "not a valid CNPJ"),
    "ladder without steps": (_empty_ladder, "ladders.gentle.steps", "at least 1 item"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_ladders_are_rejected_naming_the_file_and_the_key(case: str, tmp_path: Path) -> None:
    mutate, key, rule = BAD[case]
    data = shipped("ladders")
    mutate(data)
    path = write(tmp_path, "ladders", data)
    with pytest.raises(ConfigError, match=re.escape(f"{path}: {key}: ")) as info:
        load_ladders(path)
    assert rule in str(info.value)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "Olá {customer_name}, {creditor_name} (CNPJ {creditor_cnpj}) {valor}",
            "unknown placeholder",
        ),
        ("Olá {customer_name}, aqui é {creditor_name}.", "must use {creditor_cnpj}"),
        ("{creditor_name} {creditor_cnpj} {amount", "cannot read template"),
    ],
)
def test_bad_templates_are_rejected_naming_the_step(text: str, rule: str, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    (templates / "reminder_before_due_email.txt").write_text(text, encoding="utf-8")
    path = write(tmp_path / "config", "ladders", shipped("ladders"))
    with pytest.raises(ConfigError, match=re.escape(f"{path}: ladders.gentle.steps.0.template: ")):
        load_ladders(path, templates_dir=templates)
    with pytest.raises(ConfigError, match=re.escape(rule)):
        load_ladders(path, templates_dir=templates)


def test_an_offer_template_must_name_discount_and_instalments(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    (templates / "negotiation_offer_whatsapp.txt").write_text(
        "{creditor_name} (CNPJ {creditor_cnpj}): temos uma proposta.", encoding="utf-8"
    )
    path = write(tmp_path / "config", "ladders", shipped("ladders"))
    with pytest.raises(
        ConfigError, match=r"ladders\.digital\.steps\.4\.template: .*\{discount_pct\}"
    ):
        load_ladders(path, templates_dir=templates)


def templates_with(tmp_path: Path, **texts: str) -> Path:
    """A copy of the shipped templates with some replaced."""
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    for name, text in texts.items():
        (templates / f"{name}.txt").write_text(text, encoding="utf-8")
    return templates


NAMED = "{creditor_name} (CNPJ {creditor_cnpj})"
DOCUMENT = NAMED + " {creditor_address}"
CASE = " {invoice_count} fatura(s) desde {oldest_due_date}: {amount_due}. {invoices}"

# gentle: 0 email -3 reminder_before_due_email, 1 sms +1 reminder_after_due_sms,
# 3 email +10 notice_overdue_email; digital: 1 sms 0 reminder_due_today_sms, 4 whatsapp offer,
# 5 letter notice, 6 bureau listing.
BAD_TEMPLATES: dict[str, tuple[str, str, str, str]] = {
    "an SMS with a letter outside GSM-7": (
        "reminder_after_due_sms",
        "{creditor_name} CNPJ {creditor_cnpj}: {invoice_count} faturas não pagas, {amount_due}.",
        "gentle.steps.1",
        "'ã' in 'não'",
    ),
    "an SMS with a lower-case c cedilla": (
        "reminder_after_due_sms",
        "{creditor_name} CNPJ {creditor_cnpj}: cobrança de {invoice_count}, {amount_due}.",
        "gentle.steps.1",
        "'ç' in 'cobrança'",
    ),
    "an SMS too long for one message": (
        "reminder_due_today_sms",
        "{creditor_name} CNPJ {creditor_cnpj}: Ola, {customer_name}. Sua fatura de {amount} "
        "vence hoje, {due_date}. Pix ou boleto em {payment_link} Se pagou, desconsidere.",
        "digital.steps.1",
        "over the 160 of 1 segment(s)",
    ),
    "a case message naming one invoice": (
        "notice_overdue_email",
        DOCUMENT + CASE + " A fatura {invoice_id} vence em {due_date}.",
        "gentle.steps.3",
        "a case message covers every overdue invoice",
    ),
    "a case message without the count": (
        "notice_overdue_email",
        DOCUMENT + " {amount_due} {invoices}",
        "gentle.steps.3",
        "must use {invoice_count}",
    ),
    "a case message without the total": (
        "notice_overdue_email",
        DOCUMENT + " {invoice_count} {invoices}",
        "gentle.steps.3",
        "must state {amount_due} or {total_due}",
    ),
    "a pre-due reminder without its due date": (
        "reminder_before_due_email",
        DOCUMENT + " {amount}",
        "gentle.steps.0",
        "must use {due_date}",
    ),
    "an e-mail without the creditor's address": (
        "reminder_before_due_email",
        NAMED + " {amount} {due_date}",
        "gentle.steps.0",
        "must use {creditor_address}",
    ),
    "a letter without the creditor's address": (
        "negative_listing_notice_letter",
        NAMED + CASE + " {listing_date}",
        "digital.steps.5",
        "must use {creditor_address}",
    ),
    "a listing notice without the listing date": (
        "negative_listing_notice_letter",
        DOCUMENT + CASE,
        "digital.steps.5",
        "must use {listing_date}",
    ),
    "an offer without its deadline": (
        "negotiation_offer_whatsapp",
        NAMED + CASE + " {discount_pct}% {max_installments}x",
        "digital.steps.4",
        "must use {offer_valid_until}",
    ),
    "a listing request without the notice date": (
        "negative_listing_request",
        DOCUMENT + " {customer_name} {customer_document} {invoice_id} {amount} {due_date} "
        "{listing_date}",
        "digital.steps.6",
        "must use {notice_date}",
    ),
}


@pytest.mark.parametrize("case", list(BAD_TEMPLATES))
def test_templates_that_break_a_rule_are_rejected_naming_the_step(
    case: str, tmp_path: Path
) -> None:
    name, text, key, rule = BAD_TEMPLATES[case]
    templates = templates_with(tmp_path, **{name: text})
    path = write(tmp_path / "config", "ladders", shipped("ladders"))
    with pytest.raises(ConfigError, match=re.escape(f"{path}: ladders.{key}.template: ")) as info:
        load_ladders(path, templates_dir=templates)
    assert rule in str(info.value)


LONG_SMS = (
    "{creditor_name} CNPJ {creditor_cnpj}: Ola, {customer_name}. Sua fatura de {amount} vence "
    "hoje, {due_date}. Pix ou boleto em {payment_link} Se pagou, desconsidere. Duvidas? "
    "Responda esta mensagem ou fale com a gente pelos canais de atendimento de sempre."
)


def test_an_sms_step_may_declare_two_segments_for_a_longer_message(tmp_path: Path) -> None:
    templates = templates_with(tmp_path, reminder_due_today_sms=LONG_SMS)
    data = shipped("ladders")
    step(data, "digital", 1)["sms_segments"] = 2
    path = write(tmp_path / "config", "ladders", data)
    # standard.steps.1 sends the same template without declaring segments
    with pytest.raises(ConfigError, match=r"ladders\.standard\.steps\.1\.template: .*over the 160"):
        load_ladders(path, templates_dir=templates)
    step(data, "standard", 1)["sms_segments"] = 2
    path = write(tmp_path / "config", "ladders", data)
    assert load_ladders(path, templates_dir=templates).ladders["digital"].steps[1].sms_segments == 2


def test_two_segments_hold_153_characters_each(tmp_path: Path) -> None:
    templates = templates_with(tmp_path, reminder_due_today_sms=LONG_SMS + " Obrigado!" * 10)
    data = shipped("ladders")
    for ladder in ("digital", "standard"):
        step(data, ladder, 1)["sms_segments"] = 2
    path = write(tmp_path / "config", "ladders", data)
    with pytest.raises(ConfigError, match=r"digital\.steps\.1\.template: .*over the 306 of 2"):
        load_ladders(path, templates_dir=templates)


CREDITOR = load_ladders().creditor
PREFIX = "{creditor_name} CNPJ {creditor_cnpj}: "
PREFIX_LENGTH = len(CREDITOR.name) + len(" CNPJ ") + len("11.222.333/0001-81") + len(": ")


@given(st.integers(min_value=0, max_value=400))
@settings(max_examples=60, deadline=None)
def test_an_sms_is_accepted_exactly_when_it_fits_160_characters(padding: int) -> None:
    problem = sms_problem(PREFIX + "a" * padding, CREDITOR)
    assert (problem is None) == (PREFIX_LENGTH + padding <= 160)


def test_an_extension_character_counts_twice() -> None:
    fits = PREFIX + "a" * (160 - PREFIX_LENGTH)
    assert sms_problem(fits, CREDITOR) is None
    assert sms_problem(fits[:-1] + "€", CREDITOR) is not None
    assert sms_problem(fits[:-2] + "€", CREDITOR) is None


def test_a_creditor_outside_gsm7_is_refused_in_sms_only() -> None:
    creditor = Creditor(
        name="Crédito São Jorge", cnpj=CREDITOR.cnpj, address="Rua A, 1", contact="0800"
    )
    assert "'ã' in 'São'" in (sms_problem(PREFIX, creditor) or "")
    assert sms_problem(PREFIX, CREDITOR) is None


@pytest.mark.parametrize(
    ("name", "text", "rule"),
    [
        (
            "delisting_request",
            DOCUMENT + " {customer_name} {customer_document} {invoice_id} {due_date}",
            "must use {settled_date}",
        ),
        (
            "agency_recall",
            NAMED + " {customer_name} {case_id} {settled_date}",
            "must use {creditor_address}",
        ),
        ("negative_listing_notice_email", DOCUMENT + CASE, "must use {listing_date}"),
    ],
)
def test_templates_outside_the_ladders_are_checked_naming_the_file(
    name: str, text: str, rule: str, tmp_path: Path
) -> None:
    templates = templates_with(tmp_path, **{name: text})
    with pytest.raises(ConfigError, match=re.escape(f"{templates / name}.txt: {rule}")):
        check_other_templates(CREDITOR, templates)


def test_a_missing_template_outside_the_ladders_is_refused(tmp_path: Path) -> None:
    templates = templates_with(tmp_path)
    (templates / "agency_recall.txt").unlink()
    with pytest.raises(ConfigError, match="no template file"):
        check_other_templates(CREDITOR, templates)
