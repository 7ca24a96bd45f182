"""Find the day's export files and read them, detecting the CSV dialect Brazilian ERPs use.

CSV is read with every column as text so that coercion, not the reader, decides what a
bad value is (and the row can be rejected with its line number instead of failing the
file). Parquet keeps its types; coercion casts what differs from the contract.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
import tempfile
from dataclasses import dataclass
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


_NAME = re.compile(r"^(?P<table>[a-z]+)(?:[_\-.].*)?$")


def discover_exports(raw_dir: Path) -> list[ExportFile]:
    """Export files in `raw_dir` (`<table>.csv`, `<table>_<anything>.parquet`, ...), by table."""
    if not raw_dir.is_dir():
        raise IngestError("raw folder does not exist", file=raw_dir, rule="raw_folder")
    found: list[ExportFile] = []
    for path in sorted(p for p in raw_dir.iterdir() if p.is_file()):
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet") or path.name.startswith("."):
            continue
        match = _NAME.match(path.stem.lower())
        if match is None or match["table"] not in TABLES:
            log.warning("ignoring %s: its name matches no canonical table", path.name)
            continue
        found.append(ExportFile(match["table"], path, "csv" if suffix == ".csv" else "parquet"))
    order = list(TABLES)
    return sorted(found, key=lambda f: (order.index(f.table), f.path.name))


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


def _to_utf8(path: Path, encoding: str, folder: Path) -> Path:
    """Transcode a file to UTF-8 in blocks (polars reads UTF-8 only)."""
    target = folder / f"{path.stem}.utf8.csv"
    with (
        path.open("r", encoding=encoding, newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        for block in iter(lambda: src.read(8 << 20), ""):
            dst.write(block)
    return target


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
    with tempfile.TemporaryDirectory(prefix="regua-read-") as tmp:
        source = path
        if dialect.encoding != "utf-8":
            source = _to_utf8(path, dialect.encoding, Path(tmp))
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
