"""Ingestion: read the day's exports, coerce them to the contract, validate, store."""

from regua.ingest.errors import IngestError
from regua.ingest.ingest import FileReport, IngestReport, ingest_exports, upsert
from regua.ingest.read import Dialect, detect_dialect, discover_exports, read_export
from regua.ingest.suites import build_suite, expectations

__all__ = [
    "Dialect",
    "FileReport",
    "IngestError",
    "IngestReport",
    "build_suite",
    "detect_dialect",
    "discover_exports",
    "expectations",
    "ingest_exports",
    "read_export",
    "upsert",
]
