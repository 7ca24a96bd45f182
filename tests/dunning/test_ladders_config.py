"""config/ladders.yaml: the shipped defaults load, and each kind of bad file is refused by name."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from regua.config import ConfigError
from regua.config.dunning import MIN_LISTING_NOTICE_DAYS, NOTICE_CHANNELS, load_ladders
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
