"""The canonical store: typed Parquet tables in versioned folders, swapped in atomically.

Layout::

    <store>/CURRENT                      name of the version readers see
    <store>/versions/<version>/tables/<table>.parquet
    <store>/versions/<version>/rejects/<table>.parquet
    <store>/versions/<version>/manifest.json
    <store>/versions/<version>/data_docs/index.html

A writer builds a complete new version beside the current one (unchanged files are
hard-linked, not copied) and only then replaces `CURRENT` with `os.replace`, which is
atomic: a reader, or a crash at any point, sees either the old store or the new one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from regua.contract import TABLES, empty_frame, table

log = logging.getLogger(__name__)

KEEP_VERSIONS = 3
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "statistics": True}

KEY_FINGERPRINT = "document_key_fingerprint"
"""Manifest entry naming the key the documents were hashed with (regua.documents)."""

REJECTS_SCHEMA = pl.Schema(
    {
        "source_file": pl.String(),
        "source_sha256": pl.String(),
        "source_line": pl.Int64(),
        "rule": pl.String(),
        "column": pl.String(),
        "message": pl.String(),
        "reasons": pl.List(pl.String()),
        "record": pl.String(),
        "rejected_at": pl.Datetime("us", "UTC"),
    }
)
"""Rejected rows: where they came from, every rule they broke, and the row itself as JSON
(documents hashed, never in clear)."""


DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})
"""Errors of the disk or the folder, not of the data: a full disk, a read-only mount, no
permission. They fail the same way every time, and the CLI says them in one line."""

_OS_ERROR_CODE = re.compile(r"\(os error (\d+)\)|\[Errno (\d+)\]")


@contextmanager
def disk_errors(path: Path) -> Iterator[None]:
    """Re-raise a failed write of `path` as an `OSError` with its errno and the path.

    polars reports a full disk as `ComputeError: ... (os error 28)` with no errno and no file
    name, Python's `write` leaves `filename` empty, and `shutil.move` across filesystems
    gathers `[Errno 28]` errors into one `shutil.Error`: the caller could not say where.
    """
    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            raise
        code = exc.errno or _os_error_code(exc)
        if code is None:
            raise
        raise OSError(code, os.strerror(code), str(path)) from exc
    except pl.exceptions.PolarsError as exc:
        code = _os_error_code(exc)
        if code is None:
            raise
        raise OSError(code, os.strerror(code), str(path)) from exc


def _os_error_code(error: BaseException) -> int | None:
    found = _OS_ERROR_CODE.search(str(error))
    return int(found.group(1) or found.group(2)) if found else None


@contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of `path` and move it into place only if the block succeeds."""
    with disk_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        try:
            yield tmp
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write `frame` to `path` through a temporary file so readers never see half a file."""
    with _atomic_path(path) as tmp:
        # one chunk: the same rows give the same bytes, however the frame was assembled
        frame.rechunk().write_parquet(tmp, **PARQUET_OPTIONS)


def write_frame_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write `frame` atomically as Parquet or CSV, chosen by the suffix of `path`."""
    if path.suffix == ".csv":
        with _atomic_path(path) as tmp:
            frame.write_csv(tmp)
    else:
        write_parquet_atomic(frame, path)


def write_text_atomic(text: str, path: Path) -> None:
    """Write a small text file atomically."""
    with _atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


class StaleVersionError(RuntimeError):
    """Another writer changed the store after this run read it; this run wrote nothing."""


class Store:
    """Read access to the current version of a canonical store, and atomic commits.

    >>> import regua
    >>> store = regua.Store("data/store")
    >>> store.version, store.row_counts()
    >>> customers = store.read("customers")  # a polars frame; store.scan gives it lazy
    """

    def __init__(self, root: Path | str, version: str | None = None) -> None:
        self.root = Path(root)
        self.pinned = version

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r}, version={self.version!r})"

    @property
    def version(self) -> str | None:
        """The version readers see (the pinned one, else CURRENT), or None for an empty store."""
        if self.pinned is not None:
            return self.pinned
        pointer = self.root / "CURRENT"
        if not pointer.exists():
            return None
        return pointer.read_text(encoding="utf-8").strip() or None

    @property
    def version_dir(self) -> Path | None:
        """Folder of the current version."""
        version = self.version
        return None if version is None else self.root / "versions" / version

    def table_path(self, name: str) -> Path | None:
        """Parquet file of a canonical table in the current version, if it exists."""
        folder = self.version_dir
        if folder is None:
            return None
        path = folder / "tables" / f"{table(name).name}.parquet"
        return path if path.exists() else None

    def has(self, name: str) -> bool:
        """Whether the store holds table `name`."""
        return self.table_path(name) is not None

    def scan(self, name: str) -> pl.LazyFrame:
        """Lazy scan of a canonical table; an empty typed frame when the table is absent."""
        path = self.table_path(name)
        if path is None:
            return empty_frame(table(name)).lazy()
        return pl.scan_parquet(path)

    def read(self, name: str) -> pl.DataFrame:
        """A canonical table, collected."""
        return self.scan(name).collect()

    def rejects(self, name: str) -> pl.DataFrame:
        """Rows of table `name` rejected so far, with their reasons."""
        folder = self.version_dir
        path = None if folder is None else folder / "rejects" / f"{name}.parquet"
        if path is None or not path.exists():
            return pl.DataFrame(schema=REJECTS_SCHEMA)
        return pl.read_parquet(path)

    def manifest(self) -> dict[str, Any] | None:
        """Manifest of the run that produced the current version."""
        folder = self.version_dir
        if folder is None or not (folder / "manifest.json").exists():
            return None
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))

    @property
    def key_fingerprint(self) -> str | None:
        """Fingerprint of the key that hashed this store's documents (`KEY_FINGERPRINT` in
        each version's manifest; never the key), or None for a store that has none yet."""
        manifest = self.manifest() or {}
        return manifest.get(KEY_FINGERPRINT)

    def row_counts(self) -> dict[str, int]:
        """Rows per canonical table in the current version."""
        return {
            name: self.scan(name).select(pl.len()).collect().item()
            for name in TABLES
            if self.has(name)
        }

    def commit(
        self,
        tables: Mapping[str, pl.DataFrame | None],
        rejects: Mapping[str, pl.DataFrame | None],
        manifest: dict[str, Any],
        extra: Mapping[str, Path] | None = None,
        expected_version: str | None = None,
        check_version: bool = False,
    ) -> str:
        """Write a new version and make it current; `None` means "unchanged, link the old file".

        `extra` maps folder names inside the version (e.g. "data_docs") to folders built
        beforehand, which are moved in before the swap. With `check_version`, the commit
        fails with `StaleVersionError` if another writer committed after
        `expected_version` was read (optimistic concurrency; writers serialise on a lock).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if check_version and self.version != expected_version:
                    raise StaleVersionError(
                        f"store {self.root} moved from version {expected_version} to "
                        f"{self.version} while this run was preparing (another run committed "
                        "first); this run wrote nothing: run it again"
                    )
                return self._commit(tables, rejects, manifest, extra)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _commit(
        self,
        tables: Mapping[str, pl.DataFrame | None],
        rejects: Mapping[str, pl.DataFrame | None],
        manifest: dict[str, Any],
        extra: Mapping[str, Path] | None,
    ) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        version = f"{stamp}-{uuid.uuid4().hex[:8]}"
        staging = self.root / "versions" / f".staging-{version}"
        staging.mkdir(parents=True)
        try:
            previous = self.version_dir
            for kind, frames in (("tables", tables), ("rejects", rejects)):
                (staging / kind).mkdir()
                names = set(frames) | self._files(previous, kind)
                for name in sorted(names):
                    target = staging / kind / f"{name}.parquet"
                    frame = frames.get(name)
                    if frame is not None:
                        with disk_errors(target):
                            frame.write_parquet(target, **PARQUET_OPTIONS)
                    elif previous is not None and (previous / kind / f"{name}.parquet").exists():
                        _link_or_copy(previous / kind / f"{name}.parquet", target)
            for folder_name, source in (extra or {}).items():
                with disk_errors(staging / folder_name):
                    shutil.move(str(source), staging / folder_name)
            manifest = {**manifest, "store_version": version, "previous_version": self.version}
            manifest.setdefault(KEY_FINGERPRINT, self.key_fingerprint)  # the key goes on
            with disk_errors(staging / "manifest.json"):
                (staging / "manifest.json").write_text(
                    json.dumps(manifest, indent=2, sort_keys=True, default=str), encoding="utf-8"
                )
            final = self.root / "versions" / version
            os.replace(staging, final)
            write_text_atomic(version + "\n", self.root / "CURRENT")
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        log.info("store %s now at version %s", self.root, version)
        self._prune()
        return version

    @staticmethod
    def _files(folder: Path | None, kind: str) -> set[str]:
        if folder is None or not (folder / kind).exists():
            return set()
        return {p.stem for p in (folder / kind).glob("*.parquet")}

    def _prune(self) -> None:
        """Drop old versions and abandoned staging folders, keeping the newest few."""
        versions_dir = self.root / "versions"
        current = self.version
        for stale in versions_dir.glob(".staging-*"):
            shutil.rmtree(stale, ignore_errors=True)
        versions = sorted(p for p in versions_dir.iterdir() if not p.name.startswith("."))
        for old in versions[:-KEEP_VERSIONS]:
            if old.name != current:
                shutil.rmtree(old, ignore_errors=True)


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        shutil.copy2(source, target)
