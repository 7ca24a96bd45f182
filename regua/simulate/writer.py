"""Block-by-block, atomic writers for the exports: Parquet, or CSV in an English or ERP dialect.

A table is written to a temporary name in its folder, one block at a time (a Parquet
row group per block), and renamed over the final name only when complete, so a crash
leaves no half-written file under the final name.

CSV dialects: "en" is comma-separated, `.` decimals, ISO dates, `YYYY-MM-DD HH:MM:SS`
datetimes, true/false, UTF-8. "pt_BR" is what Brazilian ERPs export: `;`-separated,
decimal comma, dd/mm/yyyy dates, `dd/mm/yyyy HH:MM:SS` datetimes, S/N booleans,
latin-1. Both write nulls as empty fields and money with two decimals.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

Format = Literal["parquet", "csv"]
Locale = Literal["en", "pt_BR"]
_DIALECTS: dict[str, dict[str, object]] = {
    "en": {
        "separator": ",",
        "decimal_comma": False,
        "date_format": "%Y-%m-%d",
        "datetime_format": "%Y-%m-%d %H:%M:%S",
    },
    "pt_BR": {
        "separator": ";",
        "decimal_comma": True,
        "date_format": "%d/%m/%Y",
        "datetime_format": "%d/%m/%Y %H:%M:%S",
    },
}
ENCODINGS = {"en": "utf-8", "pt_BR": "latin-1"}


def csv_bytes(frame: pl.DataFrame, locale: Locale, header: bool) -> bytes:
    """A frame as CSV bytes in the dialect of `locale`."""
    if locale == "pt_BR":
        frame = frame.with_columns(
            pl.when(pl.col(name)).then(pl.lit("S")).otherwise(pl.lit("N")).alias(name)
            for name, dtype in frame.schema.items()
            if dtype == pl.Boolean
        )
    text = frame.write_csv(
        None,
        include_header=header,
        float_precision=2,
        null_value="",
        **_DIALECTS[locale],  # type: ignore[arg-type]
    )
    return text.encode(ENCODINGS[locale])


class TableWriter:
    """Writes one table block by block to a temporary file; `commit` renames it into place."""

    def __init__(self, path: Path, schema: pl.Schema, fmt: Format, locale: Locale = "en") -> None:
        self.path = path
        self.schema = schema
        self.fmt = fmt
        self.locale = locale
        self.rows = 0
        self._tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._arrow_schema = pl.DataFrame(schema=schema).to_arrow().schema
        self._parquet: pq.ParquetWriter | None = None
        self._csv = None
        if fmt == "parquet":
            self._parquet = pq.ParquetWriter(self._tmp, self._arrow_schema, compression="zstd")
        else:
            self._csv = open(self._tmp, "wb")  # noqa: SIM115 - closed in commit/abort
            self._csv.write(csv_bytes(pl.DataFrame(schema=schema), locale, header=True))

    def write(self, frame: pl.DataFrame) -> None:
        """Append a block of rows (cast to the table's schema)."""
        frame = frame.select(list(self.schema)).cast(dict(self.schema))
        self.rows += frame.height
        if frame.height == 0:
            return
        if self._parquet is not None:
            self._parquet.write_table(frame.to_arrow().cast(self._arrow_schema))
        else:
            self._csv.write(csv_bytes(frame, self.locale, header=False))

    def commit(self) -> Path:
        """Finish the file and move it over the final name."""
        if self._parquet is not None:
            if self.rows == 0:
                self._parquet.write_table(pa.Table.from_pylist([], schema=self._arrow_schema))
            self._parquet.close()
        else:
            self._csv.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the temporary file."""
        try:
            if self._parquet is not None:
                self._parquet.close()
            elif self._csv is not None:
                self._csv.close()
        finally:
            self._tmp.unlink(missing_ok=True)
