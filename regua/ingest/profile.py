"""Apply a mapping profile: a company's export in the contract's names and words, before coercion.

A pure step between reading and coercion. It renames the export's columns, replaces the
company's payment methods, channels and outcomes by the contract's words, maps products
to a product family, removes thousands separators where they group digits and rewrites
dates written in the profile's format as ISO text. What it cannot map is returned as a
problem per cell (source line, rule, column, message naming the value and the profile
key); the row is then rejected with the others, never dropped.
"""

from __future__ import annotations

import re

import polars as pl

from regua.config.profile import DEFAULT_PROFILE, VOCABULARIES, MappingProfile
from regua.contract import PRODUCT_FAMILIES, Table
from regua.ingest.errors import IngestError
from regua.ingest.read import SOURCE_LINE, Dialect

UNMAPPED = "unmapped_value"
DATE_FORMAT = "date_format"
PROFILE_RULES = (UNMAPPED, DATE_FORMAT)
"""Reject rules the profile step adds; they come before the contract's own rules."""

PROBLEMS_SCHEMA = {
    SOURCE_LINE: pl.Int64,
    "rule": pl.String,
    "column": pl.String,
    "message": pl.String,
}
OTHER_FAMILY = "other"


def profile_dialect(profile: MappingProfile) -> Dialect | None:
    """The CSV dialect the profile states (None: detect it from the file)."""
    if profile.dialect is None:
        return None
    d = profile.dialect
    return Dialect(encoding=d.encoding, separator=d.separator, decimal=d.decimal)


def apply_profile(
    raw: pl.DataFrame,
    contract: Table,
    profile: MappingProfile = DEFAULT_PROFILE,
    *,
    file: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The export with contract names and vocabulary, and the cells the profile cannot map.

    Raises `IngestError` (naming `file`) when a column the profile names is missing.

    >>> frame, problems = apply_profile(raw, INVOICES, load_profile("erp_br"))
    """
    frame = _rename(raw, contract, profile, file)
    frame = _numbers(frame, contract, profile)
    frame, date_problems = _dates(frame, contract, profile)
    frame, word_problems = _vocabularies(frame, contract, profile)
    problems = pl.concat(
        [pl.DataFrame(schema=PROBLEMS_SCHEMA), *date_problems, *word_problems], how="vertical"
    )
    return frame, problems


def _rename(
    raw: pl.DataFrame, contract: Table, profile: MappingProfile, file: str | None
) -> pl.DataFrame:
    mapping = profile.columns_of(contract.name)
    present = {k: v for k, v in mapping.items() if k in raw.columns}
    for export_name, name in present.items():
        if name in raw.columns and name not in mapping:
            raise IngestError(
                f"the export has both {export_name!r} and {name!r}, which profile key "
                f"tables.{contract.name}.columns.{export_name} maps it to ({profile.source})",
                file=file,
                column=name,
                rule="profile_columns",
            )
    missing = {
        k: v
        for k, v in mapping.items()
        if k not in raw.columns and v not in raw.columns and _required(contract, v)
    }
    if missing:
        export_name, name = next(iter(missing.items()))
        found = ", ".join(sorted(set(raw.columns) - {SOURCE_LINE}))
        raise IngestError(
            f"export column {export_name!r} (profile key tables.{contract.name}.columns."
            f"{export_name} in {profile.source}) is missing (columns found: {found})",
            file=file,
            column=name,
            rule="required_column",
        )
    return raw.rename(present)


def _required(contract: Table, name: str) -> bool:
    return any(c.name == name and c.required for c in contract.columns)


def _text_columns(frame: pl.DataFrame, contract: Table, kinds: tuple[type, ...]) -> list[str]:
    """Contract columns of one of `kinds` that the export holds as text."""
    return [
        c.name
        for c in contract.columns
        if isinstance(c.dtype, kinds)
        and c.name in frame.columns
        and frame.schema[c.name] == pl.String
    ]


def _numbers(frame: pl.DataFrame, contract: Table, profile: MappingProfile) -> pl.DataFrame:
    """Drop thousands separators, but only where they group digits by three."""
    dialect = profile.dialect
    if dialect is None or not dialect.thousands:
        return frame
    sep, dec = re.escape(dialect.thousands), re.escape(dialect.decimal)
    grouped = rf"^\s*(R\$)?\s*-?\d{{1,3}}({sep}\d{{3}})+({dec}\d+)?\s*$"
    numeric = (pl.Float64, pl.Float32, pl.Int64, pl.Int32, pl.Int16, pl.Int8)
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(grouped))
        .then(pl.col(name).str.replace_all(dialect.thousands, "", literal=True))
        .otherwise(pl.col(name))
        .alias(name)
        for name in _text_columns(frame, contract, numeric)
    )


def _dates(
    frame: pl.DataFrame, contract: Table, profile: MappingProfile
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Dates in the profile's format become ISO text; others are problems of their row."""
    dialect = profile.dialect
    if dialect is None:
        return frame, []
    formats: list[tuple[str, pl.Expr, str, str]] = []
    if dialect.date_format:
        for name in _text_columns(frame, contract, (pl.Date,)):
            parsed = pl.col(name).str.to_date(dialect.date_format, strict=False)
            formats.append((name, parsed.dt.strftime("%Y-%m-%d"), dialect.date_format, "date"))
    for name in _text_columns(frame, contract, (pl.Datetime,)):
        tries = [
            pl.col(name).str.to_datetime(f, strict=False, time_unit="us")
            for f in (dialect.datetime_format,)
            if f
        ]
        tries += [
            pl.col(name).str.to_date(f, strict=False).cast(pl.Datetime("us"))
            for f in (dialect.date_format,)
            if f
        ]
        if tries:
            shown = " or ".join(f for f in (dialect.datetime_format, dialect.date_format) if f)
            iso = pl.coalesce(tries).dt.strftime("%Y-%m-%d %H:%M:%S")
            formats.append((name, iso, shown, "datetime"))
    if not formats:
        return frame, []
    converted = frame.with_columns(
        pl.coalesce(iso, pl.col(name)).alias(name) for name, iso, _, _ in formats
    )
    problems = [
        frame.filter(pl.col(name).is_not_null() & iso.is_null()).select(
            SOURCE_LINE,
            rule=pl.lit(DATE_FORMAT),
            column=pl.lit(name),
            message=pl.format(
                "{} {} is not a {} in the profile's format {} (profile key dialect.{}_format "
                "in {})",
                pl.lit(name),
                _quoted(pl.col(name)),
                pl.lit(kind),
                pl.lit(shown),
                pl.lit(kind),
                pl.lit(profile.source),
            ),
        )
        for name, iso, shown, kind in formats
    ]
    return converted, problems


def _quoted(value: pl.Expr) -> pl.Expr:
    return pl.lit("'") + value.cast(pl.String) + pl.lit("'")


def _vocabularies(
    frame: pl.DataFrame, contract: Table, profile: MappingProfile
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """The contract's words for the company's; product families for products."""
    problems: list[pl.DataFrame] = []
    for key, (table_name, column, _) in VOCABULARIES.items():
        if table_name != contract.name or column not in frame.columns:
            continue
        words = profile.vocabulary(key)
        if words is None:
            continue
        text = pl.col(column).cast(pl.String)
        mapped = text.str.strip_chars().str.to_lowercase().replace_strict(words, default=None)
        problems.append(
            frame.filter(text.is_not_null() & mapped.is_null()).select(
                SOURCE_LINE,
                rule=pl.lit(UNMAPPED),
                column=pl.lit(column),
                message=pl.format(
                    "{} {} is not mapped by the profile (profile key {} in {})",
                    pl.lit(column),
                    _quoted(text),
                    pl.lit(key),
                    pl.lit(profile.source),
                ),
            )
        )
        if key == "products":
            frame = frame.with_columns(mapped.alias("product_family"))
        else:  # an unmapped value stays as sent, so its reject record shows it
            frame = frame.with_columns(pl.coalesce(mapped, text).alias(column))
    if contract.name == "invoices" and "product_family" not in frame.columns:
        frame = frame.with_columns(default_product_family(pl.col("product")))
    return frame, problems


def default_product_family(product: pl.Expr) -> pl.Expr:
    """Without a profile: the product itself when it names a family (any case), else other."""
    folded = product.cast(pl.String).str.strip_chars().str.to_lowercase()
    return (
        pl.when(product.is_null())
        .then(None)
        .when(folded.is_in(PRODUCT_FAMILIES))
        .then(folded)
        .otherwise(pl.lit(OTHER_FAMILY))
        .alias("product_family")
    )


def with_profile_messages(rejected: pl.DataFrame, problems: pl.DataFrame) -> pl.DataFrame:
    """Rejects whose first rule is the profile's carry its message (value and profile key)."""
    if problems.is_empty():
        return rejected
    first = problems.unique([SOURCE_LINE, "rule", "column"], keep="first", maintain_order=True)
    return (
        rejected.join(
            first.rename({"message": "_profile_message"}),
            on=[SOURCE_LINE, "rule", "column"],
            how="left",
        )
        .with_columns(pl.coalesce("_profile_message", "message").alias("message"))
        .drop("_profile_message")
    )
