"""Find the day's export files and read them, detecting the CSV dialect Brazilian ERPs use.

Every entry of the raw folder is accounted for: an export (`<table><sep><anything>.csv` or
`.parquet`, the separator after the table name a space, `_`, `-` or `.`; the longest table
name wins, so `customer_attributes_x.csv` is never `customers`), or ignored with
a reason (hidden names starting with '.', the simulator's `truth/` folder, the user's
`ignore_files` patterns), or a batch error: a file that matches no table must not vanish.

CSV is read with every column as text so that coercion, not the reader, decides what a
bad value is (and the row can be rejected with its line number instead of failing the
file). Parquet keeps its types; coercion casts what differs from the contract. A Latin-1
file is transcoded in memory: customers carry documents in clear, so no decoded copy is
ever written to disk, where a killed process would leave it behind.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from regua.contract import TABLES
from regua.ingest.errors import IngestError

log = logging.getLogger(__name__)

SOURCE_LINE = "_source_line"
SNIFF_BYTES = 256 * 1024
Encoding = Literal["utf-8", "latin-1"]


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is written: encoding, field separator and decimal mark."""

    encoding: Encoding = "utf-8"
    separator: str = ","
    decimal: str = "."

    def describe(self) -> str:
        """Short text for logs and the manifest."""
        return f"{self.encoding}, sep {self.separator!r}, decimal {self.decimal!r}"


@dataclass(frozen=True)
class ExportFile:
    """One export file and the canonical table it feeds."""

    table: str
    path: Path
    format: Literal["csv", "parquet"]

    def sha256(self) -> str:
        """Content hash, so re-sent files are recognised whatever their name."""
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()


NAME_SEPARATORS = " _-."
"""What may follow the table name in an export's file name."""
SIMULATOR_TRUTH = "truth"
"""The folder `regua simulate` writes the ground truth to, beside the exports: not an export."""
SHOWN_UNKNOWN = 5


@dataclass(frozen=True)
class IgnoredEntry:
    """An entry of the raw folder that is not read, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class RawFolder:
    """The day's exports found in a raw folder, and every entry deliberately left unread."""

    exports: list[ExportFile]
    ignored: list[IgnoredEntry] = field(default_factory=list)


def _export_of(path: Path) -> ExportFile | None:
    """The export `path` is, when its suffix and the name before a separator fit a table."""
    suffix = path.suffix.lower()
    if not path.is_file() or suffix not in (".csv", ".parquet"):
        return None
    name = table_of_stem(path.stem.lower())
    if name is None:
        return None
    return ExportFile(name, path, "csv" if suffix == ".csv" else "parquet")


def table_of_stem(stem: str) -> str | None:
    """The table a file name (without suffix, lower case) exports: the longest table name
    the stem is, or starts with before a separator, so `customer_attributes_2026.csv` is
    never read as `customers` (nor `customers_x` as anything else)."""
    for name in sorted(TABLES, key=len, reverse=True):
        if stem == name or (stem.startswith(name) and stem[len(name)] in NAME_SEPARATORS):
            return name
    return None


def _ignore_reason(entry: Path, patterns: Sequence[str]) -> str | None:
    """Why `entry` is not read (None: it must be an export)."""
    if entry.name.startswith("."):
        return "hidden"
    pattern = next((p for p in patterns if fnmatch.fnmatchcase(entry.name, p)), None)
    if pattern is not None:
        return f"matches ignore pattern {pattern!r}"
    if entry.is_dir() and entry.name == SIMULATOR_TRUTH:
        return "the simulator's ground truth, not an export"
    return None


def discover_exports(raw_dir: Path, ignore: Sequence[str] = ()) -> RawFolder:
    """Exports in `raw_dir` by table, and what is ignored; an entry that is neither stops
    the batch (`IngestError`, rule `unknown_file`), so a day's table cannot vanish."""
    if not raw_dir.is_dir():
        raise IngestError("raw folder does not exist", file=raw_dir, rule="raw_folder")
    found: list[ExportFile] = []
    ignored: list[IgnoredEntry] = []
    unknown: list[str] = []
    for entry in sorted(raw_dir.iterdir()):
        reason = _ignore_reason(entry, ignore)
        export = None if reason is not None else _export_of(entry)
        shown = entry.name + ("/" if entry.is_dir() else "")
        if reason is not None:
            ignored.append(IgnoredEntry(shown, reason))
        elif export is not None:
            found.append(export)
        else:
            unknown.append(shown)
    if unknown:
        first, others = unknown[0], unknown[1:]
        also = ", ".join(repr(n) for n in others[:SHOWN_UNKNOWN])
        if len(others) > SHOWN_UNKNOWN:
            also += f" and {len(others) - SHOWN_UNKNOWN} more"
        raise IngestError(
            f"matches no table ({', '.join(TABLES)} as .csv or .parquet, e.g. "
            "invoices_2026-10-31.csv); rename or remove it, or ignore it with "
            f"`--ignore {first.rstrip('/')!r}` or the ignore_files setting"
            + (f" (also matching no table: {also})" if others else ""),
            file=raw_dir / first,
            rule="unknown_file",
        )
    order = list(TABLES)
    found.sort(key=lambda f: (order.index(f.table), f.path.name))
    return RawFolder(found, ignored)


def detect_dialect(path: Path) -> Dialect:
    """Guess encoding (UTF-8, else Latin-1), separator (`;` or `,`) and decimal mark."""
    with path.open("rb") as handle:
        sample = handle.read(SNIFF_BYTES)
    if not sample.strip():
        raise IngestError("file is empty", file=path, rule="empty_file")
    encoding: Encoding
    try:
        # A multi-byte character cut at the end of the sample is not an encoding error.
        text = sample.decode("utf-8") if len(sample) < SNIFF_BYTES else sample[:-4].decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        text = sample.decode("latin-1")
        encoding = "latin-1"
    header = text.lstrip("\ufeff").splitlines()[0]
    separator = ";" if header.count(";") > header.count(",") else ","
    decimal = "," if separator == ";" else "."
    return Dialect(encoding=encoding, separator=separator, decimal=decimal)


def _to_utf8(path: Path, encoding: str) -> io.BytesIO:
    """The file transcoded to UTF-8 in memory, block by block (polars reads UTF-8 only)."""
    buffer = io.BytesIO()
    with path.open("r", encoding=encoding, newline="") as src:
        for block in iter(lambda: src.read(8 << 20), ""):
            buffer.write(block.encode("utf-8"))
    buffer.seek(0)
    return buffer


def read_export(
    export: ExportFile, dialect: Dialect | None = None
) -> tuple[pl.DataFrame, Dialect | None]:
    """Read one export: CSV as text columns, Parquet as typed; adds the source line number."""
    if export.format == "parquet":
        return _read_parquet(export.path), None
    if dialect is not None:
        return _read_csv(export.path, dialect), dialect
    detected = detect_dialect(export.path)
    try:
        return _read_csv(export.path, detected), detected
    except IngestError:
        if detected.encoding != "utf-8":
            raise
        # The sniffed head was plain ASCII but an accent further down is not UTF-8.
        fallback = Dialect("latin-1", detected.separator, detected.decimal)
        return _read_csv(export.path, fallback), fallback


def _read_csv(path: Path, dialect: Dialect) -> pl.DataFrame:
    source: Path | io.BytesIO = path
    if dialect.encoding != "utf-8":
        source = _to_utf8(path, dialect.encoding)
    try:
        frame = pl.read_csv(
            source,
            separator=dialect.separator,
            infer_schema=False,
            row_index_name=SOURCE_LINE,
            row_index_offset=2,  # line 1 is the header
            quote_char='"',
            truncate_ragged_lines=False,
        )
    except (pl.exceptions.PolarsError, csv.Error, UnicodeDecodeError) as exc:
        raise IngestError(
            f"cannot read as CSV ({dialect.describe()}): {exc}",
            file=path,
            rule="unreadable_file",
        ) from exc
    finally:
        del source  # the decoded copy goes before the frame is processed
    if frame.height == 0:
        raise IngestError("file has a header but no rows", file=path, rule="empty_file")
    frame = frame.with_columns(pl.col(SOURCE_LINE).cast(pl.Int64))
    frame = frame.rename(lambda name: name.lstrip("\ufeff").strip().lower())
    return _blank_to_null(frame)


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path, row_index_name=SOURCE_LINE, row_index_offset=1)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise IngestError(
            f"cannot read as Parquet: {exc}", file=path, rule="unreadable_file"
        ) from exc
    if frame.height == 0:
        raise IngestError("file has no rows", file=path, rule="empty_file")
    return _blank_to_null(frame.with_columns(pl.col(SOURCE_LINE).cast(pl.Int64)))


def _blank_to_null(frame: pl.DataFrame) -> pl.DataFrame:
    """Trim text cells; an empty cell is a null, whatever the file format."""
    return frame.with_columns(pl.col(pl.String).str.strip_chars().replace("", None))
