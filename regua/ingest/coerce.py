"""Coerce a raw export to the contract's types, remembering which cells would not parse.

A cell that holds something but does not parse (``"12,3x"`` as money, ``"31/02/2026"``
as a date) becomes null and its column name goes to `_type_errors`, so the row can be
rejected with rule ``type`` instead of failing the whole file.
"""

from __future__ import annotations

import polars as pl

from regua.contract import RAW_DOCUMENT_COLUMN, Column, Table, raw_columns
from regua.documents import document_is_valid, hash_documents, normalize_document
from regua.ingest.errors import IngestError
from regua.ingest.read import SOURCE_LINE, Dialect

TYPE_ERRORS = "_type_errors"
DOCUMENT_VALID = "_document_valid"
RECORD = "_record"

_TRUE = ["true", "t", "1", "s", "sim", "y", "yes", "verdadeiro"]
_FALSE = ["false", "f", "0", "n", "nao", "não", "no", "falso"]
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
)


def _parse_number(text: pl.Expr, decimal: str) -> pl.Expr:
    cleaned = text.str.replace_all(r"(?i)r\$|\s", "")
    if decimal == ",":
        cleaned = cleaned.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True)
    else:
        cleaned = cleaned.str.replace_all(",", "", literal=True)
    return cleaned.cast(pl.Float64, strict=False)


def _parse_text(column: Column, source: pl.DataType, decimal: str) -> pl.Expr:
    """Expression turning the text (or differently typed) column into the contract dtype."""
    col = pl.col(column.name)
    target = column.dtype
    if source == target:
        return col
    if target == pl.String():
        return col.cast(pl.String)
    text = col.cast(pl.String).str.strip_chars()
    if target == pl.Float64():
        if source.is_numeric():
            return col.cast(pl.Float64)
        return _parse_number(text, decimal)
    if target.is_integer():
        number = col.cast(pl.Float64) if source.is_numeric() else _parse_number(text, decimal)
        return pl.when(number == number.round(0)).then(number).cast(target, strict=False)
    if target == pl.Date():
        if isinstance(source, pl.Datetime):
            return col.dt.date()
        return pl.coalesce(text.str.to_date(f, strict=False) for f in _DATE_FORMATS)
    if isinstance(target, pl.Datetime):
        if source == pl.Date():
            return col.cast(target)
        if isinstance(source, pl.Datetime):
            return col.dt.replace_time_zone(None).cast(target)
        return pl.coalesce(
            *(text.str.to_datetime(f, strict=False, time_unit="us") for f in _DATETIME_FORMATS),
            *(text.str.to_date(f, strict=False).cast(target) for f in _DATE_FORMATS),
        )
    if target == pl.Boolean():
        if source == pl.Boolean() or source.is_numeric():
            return col.cast(pl.Boolean, strict=False)
        lowered = text.str.to_lowercase()
        return (
            pl.when(lowered.is_in(_TRUE))
            .then(True)
            .when(lowered.is_in(_FALSE))
            .then(False)
            .otherwise(None)
        )
    raise TypeError(f"no parser for {target}")  # pragma: no cover - contract dtypes only


def coerce_export(
    raw: pl.DataFrame,
    contract: Table,
    *,
    file: str,
    dialect: Dialect | None,
    document_key: bytes,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The typed frame (contract columns, `_source_line`, `_type_errors`) and its source.

    The source is the export as read, restricted to contract columns, with defaults
    filled and, for customers, the document replaced by its hash: what a reject record
    shows. Raises `IngestError` when a required column is missing; extra columns are
    dropped. The clear document never leaves this function.
    """
    decimal = dialect.decimal if dialect else "."
    columns = raw_columns(contract)
    present = set(raw.columns)
    for column in columns:
        if column.required and column.name not in present:
            raise IngestError(
                "required column is missing (columns found: "
                f"{', '.join(sorted(present - {SOURCE_LINE}))})",
                file=file,
                column=column.name,
                rule="required_column",
            )
    filled = raw.with_columns(
        pl.lit(column.default, dtype=column.dtype).alias(column.name)
        for column in columns
        if column.name not in present
    )
    if contract.name == "customers":
        filled = _protect_documents(filled, key=document_key)
        columns = list(contract.columns)
    schema = filled.schema
    parsed = [
        _parse_text(column, schema[column.name], decimal).alias(column.name) for column in columns
    ]
    failed = [
        pl.when(pl.col(column.name).is_not_null() & parsed_expr.is_null())
        .then(pl.lit(column.name))
        .otherwise(None)
        for column, parsed_expr in zip(columns, parsed, strict=True)
    ]
    extras = [DOCUMENT_VALID] if DOCUMENT_VALID in filled.columns else []
    typed = filled.select(
        SOURCE_LINE,
        *parsed,
        *extras,
        pl.concat_list(failed).list.drop_nulls().alias(TYPE_ERRORS),
    )
    defaults = [
        pl.col(c.name).fill_null(pl.lit(c.default, dtype=c.dtype))
        for c in columns
        if c.default is not None
    ]
    if defaults:
        typed = typed.with_columns(defaults)
    if contract.derived_key:
        typed = _derive_key(typed, contract)
    return typed, filled.select(SOURCE_LINE, *contract.names)


def reject_records(source: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """The rejected rows as they came in (document hashed), one JSON text per source line.

    Built only for rejected lines: a JSON copy of every row would double ingest memory.
    """
    values = [c for c in source.columns if c != SOURCE_LINE]
    return source.join(lines.select(SOURCE_LINE), on=SOURCE_LINE, how="semi").select(
        SOURCE_LINE, pl.struct(values).struct.json_encode().alias(RECORD)
    )


def _protect_documents(raw: pl.DataFrame, *, key: bytes) -> pl.DataFrame:
    """Check CPF/CNPJ digits and replace the document by its keyed hash."""
    normalized = raw.select(normalize_document(pl.col(RAW_DOCUMENT_COLUMN).cast(pl.String)))
    document = normalized[RAW_DOCUMENT_COLUMN]
    kind = raw["kind"].cast(pl.String).str.strip_chars().str.to_uppercase()
    valid = pl.DataFrame({"d": document, "k": kind}).select(
        document_is_valid(pl.col("d"), pl.col("k")).fill_null(False)
    )
    return raw.with_columns(
        hash_documents(document, key).alias("document_hash"),
        valid.to_series().alias(DOCUMENT_VALID),
    ).drop(RAW_DOCUMENT_COLUMN)


def _derive_key(typed: pl.DataFrame, contract: Table) -> pl.DataFrame:
    """Fill a missing key from the natural key columns (e.g. contacts without contact_id)."""
    key = contract.key[0]
    natural = pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("") for c in contract.derived_key_from],
        separator="|",
    )
    return typed.with_columns(pl.col(key).fill_null(natural))
