"""Legal contact guardrails (config/guardrails.yaml): windows, caps, notice lead times, holidays.

Windows are weekly, per channel, in the customer's local time; a UF may replace the
windows of some channels and the negative-listing notice lead time. Sundays never have a
window; holidays and the configured no-contact days (Carnival, Christmas and New Year's
Eves) have none either and are not business days. The file is validated on load, so a
typo in a UF, a channel or an hour stops the run with
`ConfigError("<file>: <key.path>: <rule>")` instead of contacting someone at 3 a.m.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from regua.config import ConfigError, _Frozen, load_yaml_model
from regua.contract import CHANNELS, UFS
from regua.settings import get_settings

__all__ = [
    "NO_CONTACT_DAYS",
    "WEEKDAYS",
    "ConfigError",
    "GuardrailsConfig",
    "HolidayRules",
    "UfRules",
    "Window",
    "load_guardrails",
]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat")
"""Weekdays that may carry a contact window (ISO order; Sunday never does)."""

NO_CONTACT_DAYS: tuple[str, ...] = (
    "carnival_monday",
    "carnival_tuesday",
    "christmas_eve",
    "new_years_eve",
)
"""Days that are not holidays by law but block contact when listed (dunning/calendar.py)."""

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _known_channel(name: str) -> str:
    if name not in CHANNELS:
        raise ValueError(f"unknown channel {name!r} (known: {', '.join(CHANNELS)})")
    return name


def _known_uf(name: str) -> str:
    if name not in UFS:
        raise ValueError(f"unknown UF {name!r} (known: {', '.join(UFS)})")
    return name


def _known_weekday(name: str) -> str:
    if name == "sun":
        raise ValueError("no contact window on Sundays (issue 6: never on Sundays)")
    if name not in WEEKDAYS:
        raise ValueError(f"unknown weekday {name!r} (known: {', '.join(WEEKDAYS)})")
    return name


ChannelName = Annotated[str, AfterValidator(_known_channel)]
UfName = Annotated[str, AfterValidator(_known_uf)]
WeekdayName = Annotated[str, AfterValidator(_known_weekday)]


class Window(_Frozen):
    """One daily window [start, end) in local time, as minutes after midnight."""

    start_minute: int = Field(ge=0, le=24 * 60)
    end_minute: int = Field(ge=0, le=24 * 60)

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError("write a window as a quoted string 'HH:MM-HH:MM'")
        if not isinstance(value, str):
            return value
        match = _WINDOW.match(value)
        if match is None:
            raise ValueError(f"window {value!r} is not 'HH:MM-HH:MM'")
        sh, sm, eh, em = (int(part) for part in match.groups())
        for hour, minute in ((sh, sm), (eh, em)):
            if not (0 <= hour <= 23 and 0 <= minute <= 59) and (hour, minute) != (24, 0):
                raise ValueError(f"window {value!r}: hours out of range (00:00-24:00)")
        return {"start_minute": sh * 60 + sm, "end_minute": eh * 60 + em}

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end_minute <= self.start_minute:
            raise ValueError("window end before start")
        return self


WeekWindows = dict[WeekdayName, Window | None]
"""Window per weekday; a weekday left out (or null) has no contact on that channel."""


class UfRules(_Frozen):
    """What a UF changes: whole weekly windows of some channels, the notice lead time."""

    windows: dict[ChannelName, WeekWindows] = Field(default_factory=dict)
    notice_lead_days: int | None = Field(None, ge=1, le=90)


class HolidayRules(_Frozen):
    """Which days block contact: the `holidays` package's, plus named no-contact days."""

    include_state: bool = True
    categories: tuple[str, ...] = ("public",)
    no_contact_days: tuple[str, ...] = NO_CONTACT_DAYS

    @field_validator("no_contact_days")
    @classmethod
    def _known_days(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in NO_CONTACT_DAYS]
        if unknown:
            raise ValueError(
                f"unknown no-contact day {unknown[0]!r} (known: {list(NO_CONTACT_DAYS)})"
            )
        return value

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - {"public", "optional"})
        if unknown or not value:
            raise ValueError(f"categories must be among public, optional (got {list(value)})")
        return value


class GuardrailsConfig(_Frozen):
    """Every guardrail setting; see config/guardrails.yaml for the reasons behind each value."""

    windows: dict[ChannelName, WeekWindows]
    ufs: dict[UfName, UfRules] = Field(default_factory=dict)
    max_contacts_per_7_days: int = Field(3, ge=1, le=50)
    max_contacts_per_day: int = Field(1, ge=1, le=10)
    cap_channels: tuple[ChannelName, ...] = ("email", "sms", "whatsapp", "phone", "letter")
    notice_lead_days: int = Field(10, ge=1, le=90)
    written_notice_channels: tuple[ChannelName, ...] = ("letter",)
    max_debt_age_years: int = Field(5, ge=1, le=5)
    legal_notices_ignore_opt_outs: bool = True
    horizon_days: int = Field(14, ge=1, le=60)
    holidays: HolidayRules = HolidayRules()

    @field_validator("windows")
    @classmethod
    def _every_channel(cls, value: dict[str, WeekWindows]) -> dict[str, WeekWindows]:
        missing = [c for c in CHANNELS if c not in value]
        if missing:
            raise ValueError(f"missing channels {', '.join(missing)} (an empty {{}} means never)")
        return value

    @field_validator("max_contacts_per_day")
    @classmethod
    def _day_within_week(cls, value: int, info: ValidationInfo) -> int:
        week = info.data.get("max_contacts_per_7_days")
        if week is not None and value > week:
            raise ValueError(f"must not exceed max_contacts_per_7_days ({week})")
        return value

    @field_validator("cap_channels")
    @classmethod
    def _customer_channels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "bureau" in value:
            raise ValueError("bureau is not a contact with the customer and cannot be capped")
        return value

    @field_validator("written_notice_channels")
    @classmethod
    def _some_written_channel(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one channel must count as a written notice")
        return value

    def window(self, uf: str, channel: str, weekday: str) -> Window | None:
        """The window for `channel` on `weekday` for a customer in `uf` (None: no contact)."""
        rules = self.ufs.get(uf)
        week = rules.windows.get(channel) if rules else None
        if week is None:
            week = self.windows[channel]
        return week.get(weekday)

    def lead_days(self, uf: str) -> int:
        """Days a written notice must precede a negative listing for a customer in `uf`."""
        rules = self.ufs.get(uf)
        if rules is not None and rules.notice_lead_days is not None:
            return rules.notice_lead_days
        return self.notice_lead_days


def load_guardrails(path: Path | None = None) -> GuardrailsConfig:
    """The contact guardrails (config/guardrails.yaml unless another file is given)."""
    return load_yaml_model(path or get_settings().config_dir / "guardrails.yaml", GuardrailsConfig)
