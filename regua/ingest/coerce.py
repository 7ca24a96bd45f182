"""Coerce a raw export to the contract's types, remembering which cells would not parse.

A cell that holds something but does not parse (``"12,3x"`` as money, ``"31/02/2026"``
as a date, ``"inf"`` or ``"1E+400"`` as any number) becomes null and its column name goes
to `_type_errors`, so the row can be rejected with rule ``type`` instead of failing the
whole file. A number whose separators do not fit the file's dialect (``"1234.56"`` or
``"1.234"`` in a decimal-comma file) also becomes null, flagged in `_unambiguous_<column>`
for the rule ``ambiguous_number``: it is never read at another scale.
"""

from __future__ import annotations

import re

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


_LOOKS_NUMERIC = r"^[-+]?[\d.,]*\d[\d.,]*$"


def ambiguity_flag(column: str) -> str:
    """Name of the flag that says a number's separators fit the file's dialect."""
    return f"_unambiguous_{column}"


def number_pattern(decimal: str) -> str:
    """The numbers a file with `decimal` as its decimal mark may hold, as a regex.

    Plain digits with an optional decimal part (and exponent), or digits in groups of
    three with the other mark, only where the grouping cannot be a decimal part: with a
    decimal part (``1.234,56``) or in two or more groups (``1.234.567``). ``1.234`` alone
    could be 1234 or 1.234 and does not match.
    """
    group = "." if decimal == "," else ","
    d, g = re.escape(decimal), re.escape(group)
    plain = rf"\d+(?:{d}\d+)?(?:[eE][-+]?\d+)?"
    grouped = rf"\d{{1,3}}(?:{g}\d{{3}})+{d}\d+|\d{{1,3}}(?:{g}\d{{3}}){{2,}}"
    return rf"^[-+]?(?:{plain}|{grouped})$"


def _number_value(column: str) -> str:
    return f"_number_{column}"


def read_numbers(frame: pl.DataFrame, columns: list[str], decimal: str) -> pl.DataFrame:
    """`frame` plus, per text column, its finite number and its ambiguity flag.

    `_number_<column>` holds the number a cell writes in the dialect (null for anything
    else, infinities and NaN included); `_unambiguous_<column>` is False where the cell
    is digits and separators that do not fit it, null for an empty cell. Each step is a
    column of its own, so a regex runs once per cell however often its result is used.
    """
    if not columns:
        return frame
    group = "." if decimal == "," else ","
    cleaned, clean = "_cleaned_{}".format, "_clean_{}".format
    frame = frame.with_columns(
        pl.col(c)
        .cast(pl.String)
        .str.strip_chars()
        .str.replace_all(r"(?i)r\$|\s", "")
        .alias(cleaned(c))
        for c in columns
    ).with_columns(
        pl.col(cleaned(c)).str.contains(number_pattern(decimal)).alias(clean(c)) for c in columns
    )
    digits = {c: pl.col(cleaned(c)).str.replace_all(group, "", literal=True) for c in columns}
    if decimal == ",":
        digits = {c: d.str.replace(",", ".", literal=True) for c, d in digits.items()}
    return frame.with_columns(
        *(
            _finite(pl.when(pl.col(clean(c))).then(d.cast(pl.Float64, strict=False))).alias(
                _number_value(c)
            )
            for c, d in digits.items()
        ),
        *(
            pl.when(pl.col(c).is_not_null())
            .then(pl.col(clean(c)) | ~pl.col(cleaned(c)).str.contains(_LOOKS_NUMERIC))
            .alias(ambiguity_flag(c))
            for c in columns
        ),
    ).drop(*map(cleaned, columns), *map(clean, columns))


def _finite(number: pl.Expr) -> pl.Expr:
    return pl.when(number.is_finite()).then(number)


def _parse_text(column: Column, source: pl.DataType) -> pl.Expr:
    """Expression turning the text (or differently typed) column into the contract dtype.

    Numbers written as text were read by `read_numbers` into `_number_<column>`.
    """
    col = pl.col(column.name)
    target = column.dtype
    if source == target:
        return _finite(col) if target.is_float() else col
    if target == pl.String():
        return col.cast(pl.String)
    text = col.cast(pl.String).str.strip_chars()
    if target.is_numeric():
        number = (
            _finite(col.cast(pl.Float64))
            if source.is_numeric()
            else pl.col(_number_value(column.name))
        )
        if target.is_float():
            return number
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
    numeric = [c.name for c in columns if c.dtype.is_numeric()]
    as_text = [name for name in numeric if not schema[name].is_numeric()]
    read = read_numbers(filled, as_text, decimal)
    present = "_present_{}".format
    flags = [
        pl.col(ambiguity_flag(name))
        if name in as_text
        else pl.when(pl.col(name).is_not_null()).then(True).alias(ambiguity_flag(name))
        for name in numeric
    ]
    extras = [DOCUMENT_VALID] if DOCUMENT_VALID in filled.columns else []
    typed = read.select(
        SOURCE_LINE,
        *(_parse_text(c, schema[c.name]).alias(c.name) for c in columns),
        *extras,
        *flags,
        *(pl.col(c.name).is_not_null().alias(present(c.name)) for c in columns),
    )
    del read
    # A cell that held something and parsed to nothing is a type error, unless it is an
    # ambiguous number (its own rule).
    failed = [
        pl.when(
            pl.col(present(c.name))
            & pl.col(c.name).is_null()
            & (pl.col(ambiguity_flag(c.name)) if c.name in numeric else pl.lit(True))
        )
        .then(pl.lit(c.name))
        .otherwise(None)
        for c in columns
    ]
    typed = typed.with_columns(pl.concat_list(failed).list.drop_nulls().alias(TYPE_ERRORS)).drop(
        present(c.name) for c in columns
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
    """Check CPF/CNPJ digits and replace the document by its keyed hash (none stays none)."""
    normalized = raw.select(normalize_document(pl.col(RAW_DOCUMENT_COLUMN).cast(pl.String)))
    document = normalized[RAW_DOCUMENT_COLUMN]
    kind = raw["kind"].cast(pl.String).str.strip_chars().str.to_uppercase()
    valid = pl.DataFrame({"d": document, "k": kind}).select(
        pl.col("d").is_null() | document_is_valid(pl.col("d"), pl.col("k")).fill_null(False)
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
