"""Segments (config/segments.yaml) and dunning ladders (config/ladders.yaml), validated on load.

A segment is chosen from four dimensions: the risk band of the PD, the propensity band
of the propensity to pay, the recurrence of lateness and the exposure band of the open
balance. Rules map combinations of those to a segment, first match wins, and every
segment names the ladder it runs. A ladder is an ordered list of steps (offset from the
due date, channel, template, purpose, tone). Every error is a `ConfigError` reading
"<file>: <key.path>: <rule>".
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from regua.config import ConfigError, _Frozen, load_yaml_model
from regua.contract import CHANNELS
from regua.documents import cnpj_is_valid, format_cnpj, normalize_document
from regua.settings import get_settings

RECURRENCE: tuple[str, ...] = ("never_late", "first_time_late", "chronic")
"""Lateness over the last 365 days; see `dunning.segments.recurrence` for the rule."""
DIMENSIONS: tuple[str, ...] = ("risk", "propensity", "recurrence", "exposure")
ANY = "any"

PURPOSES: tuple[str, ...] = (
    "reminder",
    "notice",
    "negotiation_offer",
    "negative_listing_notice",
    "negative_listing",
    "suspension",
    "agency_handoff",
)
TONES: tuple[str, ...] = ("friendly", "neutral", "firm")
MIN_OFFSET_DAYS, MAX_OFFSET_DAYS = -30, 180
MAX_DISCOUNT_PCT = 90.0
MAX_INSTALLMENTS = 48
MIN_LISTING_NOTICE_DAYS = 10
"""CDC art. 43 §2: the written notice precedes the listing; 10 days is the national floor
(São Paulo's 20 days is a per-state guardrail, checked with the customer's state)."""
NOTICE_CHANNELS: tuple[str, ...] = ("letter", "email", "bureau")
"""Channels a negative-listing notice may name in a ladder; which of them count as the
written notice is the guardrails' `written_notice_channels` (a letter by default)."""
BUREAU_PURPOSES: tuple[str, ...] = ("negative_listing_notice", "negative_listing")
"""What a ladder step may ask the credit bureau: its own notice (STJ Súmula 359) or the
listing itself. De-listings are not ladder steps: they follow payment (`dunning.cases`)."""

TEMPLATE_FIELDS: frozenset[str] = frozenset(
    {
        # filled by the collection tools (dunning.messages.render_message takes them)
        "customer_name",
        "customer_document",
        "payment_link",
        # the creditor (CDC art. 42-A)
        "creditor_name",
        "creditor_cnpj",
        "creditor_contact",
        "creditor_address",
        # one invoice (pre-due reminders, bureau requests)
        "invoice_id",
        "amount",
        "due_date",
        # the customer's collection case: every overdue invoice
        "case_id",
        "total_due",
        "invoice_count",
        "oldest_due_date",
        "invoices",
        "late_fee",
        "interest",
        "amount_due",
        "days_overdue",
        # offers, notices, listings and their reversal
        "discount_pct",
        "max_installments",
        "offer_valid_until",
        "notice_date",
        "listing_date",
        "settled_date",
    }
)
"""Placeholders a template may use ({name}); anything else is a typo caught on load.

`dunning.messages.message_fields` formats every one of them but the tools' own
(`TOOL_FIELDS`) from an action row."""
TOOL_FIELDS: tuple[str, ...] = ("customer_name", "customer_document", "payment_link")
"""Filled by the collection tools, which hold the contact data regua never stores in clear."""
DOCUMENT_CHANNELS: tuple[str, ...] = ("email", "letter", "bureau", "agency")
"""Channels whose message is a written collection document, which also gives the address."""
CREDITOR_FIELDS: dict[str, tuple[str, ...]] = {
    channel: ("creditor_name", "creditor_cnpj")
    + (("creditor_address",) if channel in DOCUMENT_CHANNELS else ())
    for channel in CHANNELS
}
"""CDC art. 42-A: every collection document names the creditor with its CNPJ (and address;
a short message or a call script names the creditor and CNPJ, the address does not fit)."""
PURPOSE_FIELDS: dict[str, tuple[str, ...]] = {
    "negotiation_offer": ("discount_pct", "max_installments", "offer_valid_until"),
    "negative_listing_notice": ("listing_date",),
    "negative_listing": (
        *("customer_name", "customer_document", "invoice_id", "amount", "due_date"),
        *("notice_date", "listing_date"),
    ),
    "delisting": ("customer_name", "customer_document", "invoice_id", "due_date", "settled_date"),
    "agency_recall": ("customer_name", "case_id", "settled_date"),
}
"""What a template of each purpose must state: an offer its terms and deadline, a notice the
day a listing may happen, a bureau request the debt and the notice it waited for."""
CASE_AMOUNT_FIELDS: tuple[str, ...] = ("amount_due", "total_due")
PER_INVOICE_FIELDS: tuple[str, ...] = ("invoice_id", "due_date")
"""A case message covers every overdue invoice: it gives the count and the total, never one
invoice's id or due date as if it were the only one."""
OTHER_TEMPLATES: dict[str, tuple[str, str, Literal["invoice", "case"] | None]] = {
    "delisting_request": ("bureau", "delisting", None),
    "agency_recall": ("agency", "agency_recall", None),
    "negative_listing_notice_email": ("email", "negative_listing_notice", "case"),
}
"""Templates no ladder step names, by (channel, purpose, scope): the case machinery sends the
first two when a case is paid or settled (what was open then is gone, so they name the
invoice or case, not amounts); the e-mail notice serves a ladder that sends its notice by
e-mail. `check_other_templates` checks them."""
OFFER_FIELDS: tuple[str, ...] = ("discount_pct", "max_installments")
MAX_SMS_SEGMENTS = 4

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


def _fail(loc: tuple[str | int, ...], rule: str, value: Any = None) -> ValidationError:
    """A validation error at `loc` (relative to the model being validated) saying `rule`."""
    return ValidationError.from_exception_data(
        "config",
        [InitErrorDetails(type=PydanticCustomError("config", rule), loc=loc, input=value)],
    )


# --- segments ---------------------------------------------------------------------------


class Band(_Frozen):
    """A named half-open interval [lower, upper); `upper: null` means no upper bound."""

    name: Id
    lower: float = Field(ge=0)
    upper: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.upper is not None and not self.upper > self.lower:
            raise _fail(("upper",), f"must be greater than lower ({self.lower})", self.upper)
        return self


def _check_bands(bands: Sequence[Band], top: float | None) -> None:
    """Bands cover [0, top) (top None: [0, inf)) exactly: no overlap, no gap, unique names."""
    if not bands:
        raise _fail((), "at least one band is required")
    seen: dict[str, int] = {}
    for i, band in enumerate(bands):
        if band.name == ANY:
            raise _fail((i, "name"), f"'{ANY}' is reserved for rules", band.name)
        if band.name in seen:
            raise _fail(
                (i, "name"), f"duplicate band name (also item {seen[band.name]})", band.name
            )
        seen[band.name] = i
    order = sorted(range(len(bands)), key=lambda i: bands[i].lower)
    if bands[order[0]].lower != 0:
        raise _fail((order[0], "lower"), "the lowest band must start at 0", bands[order[0]].lower)
    for prev, cur in itertools.pairwise(order):
        upper, lower = bands[prev].upper, bands[cur].lower
        if upper is None or lower < upper:
            raise _fail((cur, "lower"), f"overlaps band {bands[prev].name!r}", lower)
        if lower > upper:
            raise _fail(
                (cur, "lower"), f"gap after band {bands[prev].name!r} (ends {upper})", lower
            )
    last = order[-1]
    if bands[last].upper != top:
        rule = "the highest band must have upper: null" if top is None else f"must be {top}"
        raise _fail((last, "upper"), rule, bands[last].upper)
    if order != list(range(len(bands))):
        raise _fail((), "bands must be listed from lowest to highest")


class Bands(_Frozen):
    """Risk (PD) and propensity bands cover [0, 1], the top one including 1; exposure [0, inf)."""

    risk: tuple[Band, ...]
    propensity: tuple[Band, ...]
    exposure: tuple[Band, ...]

    @field_validator("risk", "propensity")
    @classmethod
    def _unit(cls, bands: tuple[Band, ...]) -> tuple[Band, ...]:
        _check_bands(bands, 1.0)
        return bands

    @field_validator("exposure")
    @classmethod
    def _money(cls, bands: tuple[Band, ...]) -> tuple[Band, ...]:
        _check_bands(bands, None)
        return bands

    def names(self, dimension: str) -> tuple[str, ...]:
        """Band names (or recurrence values) of a dimension, lowest first."""
        if dimension == "recurrence":
            return RECURRENCE
        return tuple(b.name for b in getattr(self, dimension))


class Segment(_Frozen):
    """A segment: the ladder its customers run and why."""

    ladder: Id
    description: str = ""


class Rule(_Frozen):
    """Combinations of bands mapped to a segment; a dimension left out (or 'any') matches all.

    Each dimension takes 'any', one name or a list of names; it is stored as a tuple of
    names, or None for any.
    """

    segment: Id
    risk: tuple[Id, ...] | None = None
    propensity: tuple[Id, ...] | None = None
    recurrence: tuple[Id, ...] | None = None
    exposure: tuple[Id, ...] | None = None

    @field_validator(*DIMENSIONS, mode="before")
    @classmethod
    def _choice(cls, value: Any) -> Any:
        if value is None or value == ANY:
            return None
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list | tuple) and value:
            return value
        raise PydanticCustomError("config", "must be 'any', a name or a non-empty list of names")

    def values(self, dimension: str) -> tuple[str, ...] | None:
        """The values the rule accepts on a dimension, None for any."""
        return getattr(self, dimension)

    def matches(self, combination: dict[str, str]) -> bool:
        """True if the rule accepts every dimension of the combination."""
        for dimension, value in combination.items():
            accepted = self.values(dimension)
            if accepted is not None and value not in accepted:
                return False
        return True


class SegmentsConfig(_Frozen):
    """Bands, segments and the ordered rules that assign them (config/segments.yaml)."""

    bands: Bands
    missing_propensity: Id
    segments: dict[Id, Segment] = Field(min_length=1)
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> SegmentsConfig:
        if self.missing_propensity not in self.bands.names("propensity"):
            raise _fail(
                ("missing_propensity",),
                f"unknown propensity band (known: {', '.join(self.bands.names('propensity'))})",
                self.missing_propensity,
            )
        for i, rule in enumerate(self.rules):
            if rule.segment not in self.segments:
                raise _fail(("rules", i, "segment"), "unknown segment", rule.segment)
            for dimension in DIMENSIONS:
                known = self.bands.names(dimension)
                for value in rule.values(dimension) or ():
                    if value not in known:
                        raise _fail(
                            ("rules", i, dimension),
                            f"unknown value {value!r} (known: {', '.join(known)})",
                            value,
                        )
        for combination in self.combinations():
            if self.rule_for(combination) is None:
                text = ", ".join(f"{k}={v}" for k, v in combination.items())
                raise _fail(("rules",), f"no rule matches {text}")
        return self

    def combinations(self) -> Iterator[dict[str, str]]:
        """Every combination of bands, in band order (risk slowest, exposure fastest)."""
        names = [self.bands.names(d) for d in DIMENSIONS]
        for values in itertools.product(*names):
            yield dict(zip(DIMENSIONS, values, strict=True))

    def rule_for(self, combination: dict[str, str]) -> int | None:
        """Index of the first rule matching the combination, None if none does."""
        return next((i for i, r in enumerate(self.rules) if r.matches(combination)), None)

    def segment_for(self, combination: dict[str, str]) -> str:
        """The segment of a combination (first matching rule)."""
        index = self.rule_for(combination)
        if index is None:
            raise KeyError(combination)
        return self.rules[index].segment


# --- ladders ----------------------------------------------------------------------------


class Creditor(_Frozen):
    """The creditor every message names (CDC art. 42-A), with its CNPJ and service contact."""

    name: str = Field(min_length=1)
    cnpj: str
    address: str = Field(min_length=1)
    contact: str = Field(min_length=1)

    @field_validator("cnpj")
    @classmethod
    def _cnpj(cls, value: str) -> str:
        digits = pl.select(normalize_document(pl.lit(value))).item()
        if not pl.select(cnpj_is_valid(pl.lit(digits))).item():
            raise PydanticCustomError("config", "not a valid CNPJ (check digits)")
        return digits

    @property
    def cnpj_formatted(self) -> str:
        """The CNPJ as printed in messages: 11.222.333/0001-81."""
        return format_cnpj(self.cnpj)


class Step(_Frozen):
    """One ladder step: when (days from due date), how, with what message, for what."""

    id: Id
    offset_days: int = Field(ge=MIN_OFFSET_DAYS, le=MAX_OFFSET_DAYS)
    channel: Literal[CHANNELS]  # type: ignore[valid-type]
    template: Id
    purpose: Literal[PURPOSES]  # type: ignore[valid-type]
    tone: Literal[TONES]  # type: ignore[valid-type]
    discount_pct: float | None = Field(None, ge=0, le=MAX_DISCOUNT_PCT)
    max_installments: int | None = Field(None, ge=1, le=MAX_INSTALLMENTS)
    sms_segments: int | None = Field(None, ge=1, le=MAX_SMS_SEGMENTS)
    """An SMS step may allow a message of this many segments (153 characters each when
    concatenated); without it an SMS must fit one message of 160 (checked on load)."""

    @model_validator(mode="after")
    def _purpose_fields(self) -> Step:
        offer = self.purpose == "negotiation_offer"
        for name in OFFER_FIELDS:
            given = getattr(self, name) is not None
            if offer and not given:
                raise _fail((name,), "required for a negotiation_offer")
            if given and not offer:
                raise _fail((name,), "only allowed on a negotiation_offer", getattr(self, name))
        if (self.channel == "agency") != (self.purpose == "agency_handoff"):
            raise _fail(("channel",), "agency_handoff goes through, and only through, 'agency'")
        if self.purpose == "negative_listing_notice" and self.channel not in NOTICE_CHANNELS:
            raise _fail(
                ("channel",),
                f"a negative-listing notice is written: {', '.join(NOTICE_CHANNELS)}",
                self.channel,
            )
        if (self.purpose == "negative_listing") != (self.channel == "bureau") and (
            self.purpose != "negative_listing_notice"
        ):
            raise _fail(("channel",), "a negative_listing goes through, and only through, 'bureau'")
        return self


class Ladder(_Frozen):
    """A dunning ladder: steps ordered by offset from the due date."""

    description: str = ""
    steps: tuple[Step, ...] = Field(min_length=1)
    on_broken_promise: Id | None = None
    """The step a broken promise to pay escalates to (None: the ladder just resumes)."""

    @model_validator(mode="after")
    def _order(self) -> Ladder:
        ids = [s.id for s in self.steps]
        if self.on_broken_promise is not None and self.on_broken_promise not in ids:
            raise _fail(("on_broken_promise",), "not a step of this ladder", self.on_broken_promise)
        for i, (prev, step) in enumerate(itertools.pairwise(self.steps), start=1):
            if step.offset_days < prev.offset_days:
                raise _fail(
                    ("steps", i, "offset_days"),
                    f"steps must be ordered by offset_days ({prev.id} is at {prev.offset_days})",
                    step.offset_days,
                )
        for i, step in enumerate(self.steps):
            if step.purpose != "negative_listing":
                continue
            notices = [
                s.offset_days for s in self.steps[:i] if s.purpose == "negative_listing_notice"
            ]
            if not notices:
                raise _fail(("steps", i, "purpose"), "a negative_listing_notice must come first")
            if step.offset_days - max(notices) < MIN_LISTING_NOTICE_DAYS:
                raise _fail(
                    ("steps", i, "offset_days"),
                    f"at least {MIN_LISTING_NOTICE_DAYS} days after the negative_listing_notice",
                    step.offset_days,
                )
        return self


class LaddersConfig(_Frozen):
    """The creditor and every ladder by id (config/ladders.yaml)."""

    creditor: Creditor
    ladders: dict[Id, Ladder] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_steps(self) -> LaddersConfig:
        seen: dict[str, str] = {}
        for ladder_id, ladder in self.ladders.items():
            for i, step in enumerate(ladder.steps):
                if step.id in seen:
                    raise _fail(
                        ("ladders", ladder_id, "steps", i, "id"),
                        f"duplicate step id (also at {seen[step.id]})",
                        step.id,
                    )
                seen[step.id] = f"ladders.{ladder_id}.steps.{i}"
        return self

    def steps(self) -> Iterator[tuple[str, int, Step]]:
        """Every step with its ladder id and position."""
        for ladder_id, ladder in self.ladders.items():
            for i, step in enumerate(ladder.steps):
                yield ladder_id, i, step


# --- templates and loaders ----------------------------------------------------------------

GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 (3GPP TS 23.038) default alphabet, one septet each (the escape left out).

Of the Portuguese letters only é, É, à, Ç (and ü) are in it: á, â, ã, ê, í, ó, ô, õ, ú,
their capitals, À, ª and º are not, and neither is ç: 0x09 is Ç in the 3GPP table (the
Unicode mapping reads it as ç and handsets differ), so a gateway may send ç as UCS-2. One
character outside the alphabet turns the whole SMS into UCS-2, 70 characters a segment."""
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")
"""The extension table: reached by an escape, so each counts two septets."""
SMS_SINGLE, SMS_SEGMENT = 160, 153
"""Septets in one SMS, and in each segment of a concatenated one (7 go to the header)."""
SMS_SAMPLE: dict[str, str] = {
    "customer_name": "Maria Aparecida de Souza Figueiredo Lima",
    "customer_document": "123.456.789-09",
    "payment_link": "https://pg.regua.com.br/a1B2c3",
    "invoice_id": "F-2026-0001234",
    "amount": "R$ 12.345,67",
    "due_date": "28/02/2026",
    "case_id": "C-2026-000001234",
    "total_due": "R$ 12.345,67",
    "invoice_count": "3",
    "oldest_due_date": "28/02/2026",
    "invoices": "\n".join(
        f"- Fatura F-2026-000123{i}: R$ 12.345,67, vencida em 2{i}/02/2026" for i in (4, 5, 6)
    ),
    "late_fee": "R$ 12.345,67",
    "interest": "R$ 12.345,67",
    "amount_due": "R$ 12.345,67",
    "days_overdue": "180",
    "discount_pct": "12,5",
    "max_installments": "24",
    "offer_valid_until": "28/02/2026",
    "notice_date": "28/02/2026",
    "listing_date": "28/02/2026",
    "settled_date": "28/02/2026",
}
"""Long but realistic values an SMS is measured with (the creditor's own come from the file):
a 40-character name, five-digit amounts, three invoices, a 30-character link."""


def default_templates_dir() -> Path:
    """The templates/ folder beside the config folder."""
    return get_settings().templates_dir


def template_file(template: str, templates_dir: Path | None = None) -> Path:
    """The file of a template id: <templates_dir>/<template>.txt."""
    return (templates_dir or default_templates_dir()) / f"{template}.txt"


def template_fields(text: str) -> set[str]:
    """The {placeholders} a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def fill_template(text: str, values: dict[str, str]) -> str:
    """The message a template gives with these values, without the file's trailing newline."""
    return text.format_map(values).strip()


def creditor_values(creditor: Creditor) -> dict[str, str]:
    """The creditor's template fields, as printed in messages."""
    return {
        "creditor_name": creditor.name,
        "creditor_cnpj": creditor.cnpj_formatted,
        "creditor_address": creditor.address,
        "creditor_contact": creditor.contact,
    }


def sms_septets(text: str) -> int:
    """Length of a GSM-7 text in septets: extension-table characters count two."""
    return sum(2 if char in GSM7_EXTENSION else 1 for char in text)


def sms_problem(text: str, creditor: Creditor, segments: int | None = None) -> str | None:
    """Why an SMS template would not go as GSM-7 within its segments, or None.

    It is rendered with the creditor's values and `SMS_SAMPLE`, so a character or a length
    that only appears once filled (an accented creditor name, a long amount) counts too.
    """
    rendered = fill_template(text, {**SMS_SAMPLE, **creditor_values(creditor)})
    for word in rendered.split():
        bad = next((c for c in word if c not in GSM7_BASIC and c not in GSM7_EXTENSION), None)
        if bad is not None:
            return (
                f"an SMS must use GSM-7 characters only (GSM 03.38 default alphabet and "
                f"extension table): {bad!r} in {word!r} is not one (write it without the "
                f"accent, or with é, É, à or Ç), or the whole SMS goes as UCS-2, 70 a segment"
            )
    count = segments or 1
    limit = SMS_SINGLE if count == 1 else SMS_SEGMENT * count
    length = sms_septets(rendered)
    if length > limit:
        return (
            f"an SMS of {length} GSM-7 characters when filled with long realistic values "
            f"(a 40-character name, R$ 12.345,67, dd/mm/aaaa dates, a 30-character link) is "
            f"over the {limit} of {count} segment(s): shorten it, or declare sms_segments "
            f"on the step (at most {MAX_SMS_SEGMENTS}, {SMS_SEGMENT} characters each)"
        )
    return None


def _missing(fields: set[str], required: Sequence[str]) -> str | None:
    missing = [f for f in dict.fromkeys(required) if f not in fields]
    return f"must use {', '.join('{' + f + '}' for f in missing)}" if missing else None


def template_problem(
    text: str,
    *,
    channel: str,
    purpose: str,
    creditor: Creditor,
    scope: Literal["invoice", "case"] | None = None,
    sms_segments: int | None = None,
) -> str | None:
    """Why a template's text cannot be sent on this channel for this purpose, or None.

    `scope` "invoice" (a pre-due reminder, a bureau request) asks for the invoice's amount
    and due date; "case" (every later step) for the count and total of the overdue
    invoices, without naming one invoice as if it were the only one.
    """
    fields = template_fields(text)
    unknown = sorted(fields - TEMPLATE_FIELDS)
    if unknown:
        return f"uses unknown placeholder(s) {', '.join(unknown)}"
    required = CREDITOR_FIELDS[channel] + PURPOSE_FIELDS.get(purpose, ())
    if scope == "invoice":
        required += ("amount", "due_date")
    elif scope == "case":
        required += ("invoice_count",)
    problem = _missing(fields, required)
    if problem:
        return problem
    if scope == "case":
        if not fields & set(CASE_AMOUNT_FIELDS):
            return "a case message must state {amount_due} or {total_due}"
        single = sorted(fields & set(PER_INVOICE_FIELDS))
        if single:
            names = ", ".join("{" + f + "}" for f in single)
            return (
                f"a case message covers every overdue invoice: use {{invoices}}, "
                f"{{invoice_count}} and {{oldest_due_date}} instead of {names}"
            )
    if channel == "sms":
        return sms_problem(text, creditor, sms_segments)
    return None


def _read_problem(file: Path) -> tuple[str | None, str | None]:
    """The template's text, or why it cannot be read."""
    try:
        text = file.read_text(encoding="utf-8")
        template_fields(text)
    except FileNotFoundError:
        return None, f"no template file {file}"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"cannot read template {file}: {exc}"
    return text, None


def _template_problem(step: Step, file: Path, creditor: Creditor) -> str | None:
    """Why the step's template file is unusable, or None."""
    text, problem = _read_problem(file)
    if text is None:
        return problem
    scope = "invoice" if step.offset_days <= 0 or step.channel == "bureau" else "case"
    problem = template_problem(
        text,
        channel=step.channel,
        purpose=step.purpose,
        creditor=creditor,
        scope=scope,
        sms_segments=step.sms_segments,
    )
    return f"{file}: {problem}" if problem else None


def load_ladders(path: Path | None = None, templates_dir: Path | None = None) -> LaddersConfig:
    """The ladders (config/ladders.yaml unless given), each step's template checked on disk.

    Steps with offset_days <= 0 and bureau steps concern one invoice, every other step the
    customer's whole case; SMS templates must be GSM-7 and fit their segments.
    """
    path = path or get_settings().config_dir / "ladders.yaml"
    config = load_yaml_model(path, LaddersConfig)
    for ladder_id, i, step in config.steps():
        key = f"{path}: ladders.{ladder_id}.steps.{i}"
        if step.sms_segments is not None and step.channel != "sms":
            raise ConfigError(f"{key}.sms_segments: only an sms step has segments")
        problem = _template_problem(
            step, template_file(step.template, templates_dir), config.creditor
        )
        if problem:
            raise ConfigError(f"{key}.template: {problem}")
    return config


def check_other_templates(creditor: Creditor, templates_dir: Path | None = None) -> None:
    """Check the templates no ladder step names (`OTHER_TEMPLATES`) as a step's are checked.

    Raises `ConfigError` reading "<template file>: <rule>".
    """
    for template, (channel, purpose, scope) in OTHER_TEMPLATES.items():
        file = template_file(template, templates_dir)
        text, problem = _read_problem(file)
        if text is not None:
            problem = template_problem(
                text, channel=channel, purpose=purpose, creditor=creditor, scope=scope
            )
        if problem:
            raise ConfigError(f"{file}: {problem}")


def load_segments(path: Path | None = None, ladders: LaddersConfig | None = None) -> SegmentsConfig:
    """The segments (config/segments.yaml unless given), each segment's ladder checked.

    Without `ladders`, the ladders.yaml beside the segments file is loaded to check against.
    """
    path = path or get_settings().config_dir / "segments.yaml"
    config = load_yaml_model(path, SegmentsConfig)
    known = (ladders or load_ladders(path.parent / "ladders.yaml")).ladders
    for segment_id, segment in config.segments.items():
        if segment.ladder not in known:
            raise ConfigError(
                f"{path}: segments.{segment_id}.ladder: unknown ladder {segment.ladder!r} "
                f"(known: {', '.join(known)})"
            )
    return config
