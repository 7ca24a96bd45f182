"""Mapping profiles (profiles/<name>.yaml): how a company's own export reaches the contract.

A profile names, per canonical table, which export column holds which contract column;
how the company spells customer kinds, payment methods, contact channels and outcomes,
and which family each of its products belongs to; and the file dialect (encoding,
separators, date formats), which then replaces detection. Vocabulary entries match
whatever the case; a value the profile does not list is a rejected row naming the value
and the profile key.
The file is validated on load: an unknown key, table, column or vocabulary value stops
the run with `ConfigError("<file>: <key.path>: <rule>")`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from regua.config import ConfigError, _Frozen, load_yaml_model
from regua.contract import (
    CHANNELS,
    CONTACT_OUTCOMES,
    CUSTOMER_KINDS,
    PAYMENT_METHODS,
    PRODUCT_FAMILIES,
    RAW_DOCUMENT_COLUMN,
    TABLES,
    raw_columns,
)
from regua.settings import packaged_dir

__all__ = [
    "DEFAULT_PROFILE",
    "VOCABULARIES",
    "ConfigError",
    "MappingProfile",
    "ProfileDialect",
    "TableMapping",
    "load_profile",
    "shipped_profiles",
]

VOCABULARIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "customer_kinds": ("customers", "kind", CUSTOMER_KINDS),
    "products": ("invoices", "product", PRODUCT_FAMILIES),
    "payment_methods": ("payments", "method", PAYMENT_METHODS),
    "channels": ("contacts", "channel", CHANNELS),
    "outcomes": ("contacts", "outcome", CONTACT_OUTCOMES),
}
"""Profile key -> (table, column whose values it maps, the contract's vocabulary).

`products` maps into `product_family` and keeps the company's product as it is; the
others replace the value by the contract's word.
"""

_PROBE = datetime(2026, 1, 31, 13, 45, 10)


def _roundtrip(fmt: str, with_time: bool) -> str:
    """`fmt` if a moment written with it reads back as the same day (and minute)."""
    try:
        back = datetime.strptime(_PROBE.strftime(fmt), fmt)
    except ValueError as exc:
        raise ValueError(f"{fmt!r} does not read back what it writes: {exc}") from exc
    kept = (back.date(), back.hour, back.minute) if with_time else back.date()
    wanted = (_PROBE.date(), _PROBE.hour, _PROBE.minute) if with_time else _PROBE.date()
    if kept != wanted:
        raise ValueError(f"{fmt!r} loses part of the {'date and time' if with_time else 'date'}")
    return fmt


class ProfileDialect(_Frozen):
    """How the company's CSV files are written; replaces the detected dialect."""

    encoding: Literal["utf-8", "latin-1"] = "utf-8"
    separator: str = Field(",", min_length=1, max_length=1)
    decimal: Literal[",", "."] = "."
    thousands: Literal[".", ",", " ", ""] = ""
    date_format: str | None = Field(None, description="strftime format of dates, e.g. %d/%m/%Y")
    datetime_format: str | None = Field(
        None, description="strftime format of date-times, e.g. %d/%m/%Y %H:%M"
    )

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, value: str | None) -> str | None:
        return None if value is None else _roundtrip(value, with_time=False)

    @field_validator("datetime_format")
    @classmethod
    def _datetime_format(cls, value: str | None) -> str | None:
        return None if value is None else _roundtrip(value, with_time=True)

    @model_validator(mode="after")
    def _distinct_marks(self) -> ProfileDialect:
        if self.thousands == self.decimal:
            raise ValueError(f"thousands and decimal are both {self.decimal!r}")
        return self


class TableMapping(_Frozen):
    """Export column name -> contract column name, for one canonical table."""

    columns: dict[str, str] = Field(default_factory=dict)


class MappingProfile(_Frozen):
    """A company's export described in the contract's terms (see the module docstring)."""

    description: str = ""
    dialect: ProfileDialect | None = None
    tables: dict[str, TableMapping] = Field(default_factory=dict)
    customer_kinds: dict[str, str] | None = None
    products: dict[str, str] | None = None
    payment_methods: dict[str, str] | None = None
    channels: dict[str, str] | None = None
    outcomes: dict[str, str] | None = None
    _source: str = PrivateAttr("(built-in default)")

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, tables: dict[str, TableMapping]) -> dict[str, TableMapping]:
        normalized: dict[str, TableMapping] = {}
        for name, mapping in tables.items():
            if name not in TABLES:
                raise ValueError(f"unknown table {name!r} (known: {', '.join(TABLES)})")
            known = {c.name for c in raw_columns(TABLES[name])} | {RAW_DOCUMENT_COLUMN}
            if name != "customers":
                known.discard(RAW_DOCUMENT_COLUMN)
            columns: dict[str, str] = {}
            for export_name, contract_name in mapping.columns.items():
                if contract_name not in known:
                    raise ValueError(
                        f"{name}.columns.{export_name}: {contract_name!r} is not a column of "
                        f"{name} (known: {', '.join(sorted(known))})"
                    )
                key = export_name.strip().lower()  # headers are read trimmed and lower-cased
                if key in columns:
                    raise ValueError(f"{name}.columns: {export_name!r} is given twice")
                if contract_name in columns.values():
                    raise ValueError(f"{name}.columns: two export columns map to {contract_name!r}")
                columns[key] = contract_name
            normalized[name] = TableMapping(columns=columns)
        return normalized

    @field_validator("customer_kinds", "products", "payment_methods", "channels", "outcomes")
    @classmethod
    def _known_words(
        cls, mapping: dict[str, str] | None, info: ValidationInfo
    ) -> dict[str, str] | None:
        if mapping is None:
            return None
        allowed = VOCABULARIES[str(info.field_name)][2]
        out: dict[str, str] = {}
        for company_value, word in mapping.items():
            if word not in allowed:
                raise ValueError(
                    f"{company_value!r} maps to {word!r}, which is not one of {', '.join(allowed)}"
                )
            folded = str(company_value).strip().lower()
            if folded in out and out[folded] != word:
                raise ValueError(f"{company_value!r} is listed twice with different words")
            out[folded] = word
        if not out:
            raise ValueError("is empty; leave the key out to keep the export's own values")
        return out

    def columns_of(self, table: str) -> dict[str, str]:
        """Export column -> contract column for `table` (empty: the export uses our names)."""
        mapping = self.tables.get(table)
        return dict(mapping.columns) if mapping else {}

    def vocabulary(self, key: str) -> dict[str, str] | None:
        """The company value (lower case) -> contract word mapping under `key`, if given."""
        return getattr(self, key)

    @property
    def source(self) -> str:
        """The file the profile was read from, for messages."""
        return self._source


DEFAULT_PROFILE = MappingProfile()
"""No mapping: the export already speaks the contract (product families by identity)."""


def shipped_profiles() -> dict[str, Path]:
    """The example profiles that ship with regua (regua.resources.profiles), by name."""
    folder = packaged_dir("profiles")
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def load_profile(path: Path | str) -> MappingProfile:
    """The profile in file `path`, or the shipped profile of that name (e.g. `erp_br`)."""
    path = Path(path)
    if not path.is_file():
        shipped = shipped_profiles()
        if path.suffix or path.parent != Path() or path.name not in shipped:
            raise ConfigError(
                f"{path}: no such profile file (shipped profiles: {', '.join(shipped)})"
            )
        path = shipped[path.name]
    profile = load_yaml_model(path, MappingProfile)
    profile._source = str(path)
    return profile
