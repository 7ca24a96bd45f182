"""Rotate the document key: re-hash a store's documents with a new key, in one new version.

The store keeps only keyed hashes of CPF/CNPJ, so a new key needs the documents again:
they come from the customers exports of a raw folder. Each document is hashed with the
store's key (which must match the store's fingerprint) and with the new key; every
stored hash must be found among the old ones, or nothing changes. The re-hashed customers
and the new key's fingerprint are committed together as one version (atomic). Rejected
rows keep the hashes they were recorded with.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from regua import __version__
from regua.config.profile import DEFAULT_PROFILE, MappingProfile
from regua.contract import RAW_DOCUMENT_COLUMN, table
from regua.documents import hash_documents, key_fingerprint, normalize_document
from regua.ingest.errors import IngestError
from regua.ingest.ingest import check_document_key
from regua.ingest.profile import apply_profile, profile_dialect
from regua.ingest.read import discover_exports, read_export
from regua.store import KEY_FINGERPRINT, Store

log = logging.getLogger(__name__)

HASH = "document_hash"
RULE = "document_key_rotation"


@dataclass(frozen=True)
class Rotation:
    """The outcome of a key rotation."""

    store_dir: str
    store_version: str
    customers: int
    rehashed: int
    fingerprint: str

    def to_text(self) -> str:
        """Summary for the command line."""
        return (
            f"store {self.store_dir}: {self.rehashed:,} of {self.customers:,} customers' "
            f"documents re-hashed with the new key (fingerprint {self.fingerprint[:12]}), "
            f"version {self.store_version}; from now on give regua the new key"
        )


def _documents(
    raw_dir: Path, ignore: Sequence[str], profile: MappingProfile = DEFAULT_PROFILE
) -> pl.Series:
    """Distinct normalised documents of every customers export in `raw_dir`, read with the
    mapping profile the ingest uses (its column names and dialect)."""
    exports = [e for e in discover_exports(raw_dir, ignore).exports if e.table == "customers"]
    if not exports:
        raise IngestError(
            "no customers export: rotating the key needs the customers' documents in clear",
            file=raw_dir,
            rule=RULE,
        )
    found = []
    for export in exports:
        frame, _ = read_export(export, profile_dialect(profile))
        frame, _ = apply_profile(frame, table("customers"), profile, file=str(export.path))
        if RAW_DOCUMENT_COLUMN not in frame.columns:
            raise IngestError(
                "customers export without documents", file=export.path,
                column=RAW_DOCUMENT_COLUMN, rule=RULE,
            )  # fmt: skip
        found.append(frame.select(normalize_document(pl.col(RAW_DOCUMENT_COLUMN).cast(pl.String))))
    return pl.concat(found).to_series().drop_nulls().unique().sort()


def rotate_document_key(
    raw_dir: Path | str,
    store: Store | Path | str,
    *,
    old_key: bytes,
    new_key: bytes,
    old_key_origin: str = "the current key",
    ignore: Sequence[str] = (),
    profile: MappingProfile = DEFAULT_PROFILE,
) -> Rotation:
    """Re-hash the store's customer documents from `old_key` to `new_key` (one new version).

    Raises `IngestError` when `old_key` is not the store's, when the new key is the same,
    or when a stored hash has no document in the customers exports of `raw_dir`.
    """
    store = store if isinstance(store, Store) else Store(store)
    raw_dir = Path(raw_dir)
    read_version = store.version
    if read_version is None:
        raise IngestError(f"store {store.root} is empty: there is nothing to re-hash", rule=RULE)
    old_fingerprint = check_document_key(store, old_key, old_key_origin)
    new_fingerprint = key_fingerprint(new_key)
    if new_fingerprint == old_fingerprint:
        raise IngestError(f"store {store.root}: the new key is the store's key already", rule=RULE)
    documents = _documents(raw_dir, ignore, profile)
    mapping = pl.DataFrame(
        {HASH: hash_documents(documents, old_key), "new": hash_documents(documents, new_key)}
    )
    customers = store.read("customers")
    matched = customers.join(mapping, on=HASH, how="left")
    lost = matched.filter(pl.col(HASH).is_not_null() & pl.col("new").is_null())
    if lost.height:
        raise IngestError(
            f"{lost.height:,} customers of store {store.root} (e.g. {lost['customer_id'][0]}) "
            "have no document in the customers exports of this folder; rotation needs "
            "every one, so nothing changed",
            file=raw_dir,
            rule=RULE,
        )
    rotated = matched.with_columns(pl.col("new").alias(HASH)).select(customers.columns)
    manifest = {
        "kind": "rotate-key",
        "regua_version": __version__,
        "raw_dir": str(raw_dir),
        KEY_FINGERPRINT: new_fingerprint,
        "previous_document_key_fingerprint": old_fingerprint,
        "customers_rehashed": int(customers[HASH].is_not_null().sum()),
    }
    version = store.commit(
        {"customers": rotated},
        {},
        manifest,
        expected_version=read_version,
        check_version=True,
    )
    log.info("store %s: document key rotated, version %s", store.root, version)
    return Rotation(
        store_dir=str(store.root),
        store_version=version,
        customers=customers.height,
        rehashed=manifest["customers_rehashed"],
        fingerprint=new_fingerprint,
    )
