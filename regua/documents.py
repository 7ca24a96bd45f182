"""CPF and CNPJ: check digits (vectorised), generation for the simulator, and keyed hashing.

Documents are personal data: regua validates them on the way in and keeps only an
HMAC-SHA256 of the normalised digits, keyed by a secret that never enters the store.
CNPJ accepts the alphanumeric form in force since July 2026 (letters in the first
twelve positions, valued as their ASCII code minus 48).
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import polars as pl

_CPF_W1 = np.arange(10, 1, -1)  # 10..2
_CPF_W2 = np.arange(11, 1, -1)  # 11..2
_CNPJ_W1 = np.array([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
_CNPJ_W2 = np.array([6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
_CHAR_VALUES = {c: ord(c) - 48 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def normalize_document(expr: pl.Expr) -> pl.Expr:
    """Strip the punctuation of a formatted CPF/CNPJ and upper-case it."""
    return expr.str.replace_all(r"[\s./\-]", "").str.to_uppercase()


def _check_digit(total: pl.Expr) -> pl.Expr:
    remainder = total % 11
    return pl.when(remainder < 2).then(0).otherwise(11 - remainder)


def _char_value(doc: pl.Expr, i: int) -> pl.Expr:
    return doc.str.slice(i, 1).replace_strict(_CHAR_VALUES, default=None, return_dtype=pl.Int64)


def cpf_is_valid(doc: pl.Expr) -> pl.Expr:
    """True where a normalised CPF has 11 digits, valid check digits and is not a repdigit."""
    d = [_char_value(doc, i) for i in range(11)]
    dv1 = _check_digit(pl.sum_horizontal(d[i] * int(_CPF_W1[i]) for i in range(9)))
    dv2 = _check_digit(pl.sum_horizontal(d[i] * int(_CPF_W2[i]) for i in range(10)))
    repdigit = doc.str.contains(r"^(0{11}|1{11}|2{11}|3{11}|4{11}|5{11}|6{11}|7{11}|8{11}|9{11})$")
    return (doc.str.contains(r"^\d{11}$") & ~repdigit & (d[9] == dv1) & (d[10] == dv2)).fill_null(
        False
    )


def cnpj_is_valid(doc: pl.Expr) -> pl.Expr:
    """True where a normalised CNPJ (numeric or alphanumeric) has valid check digits."""
    d = [_char_value(doc, i) for i in range(14)]
    dv1 = _check_digit(pl.sum_horizontal(d[i] * int(_CNPJ_W1[i]) for i in range(12)))
    dv2 = _check_digit(pl.sum_horizontal(d[i] * int(_CNPJ_W2[i]) for i in range(13)))
    zeros = doc.str.contains(r"^0{14}$")
    return (
        doc.str.contains(r"^[0-9A-Z]{12}\d{2}$") & ~zeros & (d[12] == dv1) & (d[13] == dv2)
    ).fill_null(False)


def document_is_valid(doc: pl.Expr, kind: pl.Expr) -> pl.Expr:
    """Check digits of a normalised document according to the customer kind (PF→CPF, PJ→CNPJ)."""
    return (
        pl.when(kind == "PF")
        .then(cpf_is_valid(doc))
        .when(kind == "PJ")
        .then(cnpj_is_valid(doc))
        .otherwise(False)
    )


def hash_documents(documents: pl.Series, key: bytes) -> pl.Series:
    """HMAC-SHA256 (hex) of each normalised document; nulls stay null."""

    def digest(value: str | None) -> str | None:
        if value is None:
            return None
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    uniques = documents.unique()
    mapping = dict(zip(uniques.to_list(), [digest(v) for v in uniques.to_list()], strict=True))
    return documents.replace_strict(mapping, return_dtype=pl.String).alias(documents.name)


FINGERPRINT_LABEL = b"regua document key fingerprint v1"


def key_fingerprint(key: bytes) -> str:
    """A public fingerprint of a document key (an HMAC of a fixed label), so a store can
    tell which key hashed its documents without holding the key."""
    return hmac.new(key, FINGERPRINT_LABEL, hashlib.sha256).hexdigest()


def _check_digits_np(base: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    r1 = (base @ w1) % 11
    dv1 = np.where(r1 < 2, 0, 11 - r1)
    with_dv1 = np.column_stack([base, dv1])
    r2 = (with_dv1 @ w2) % 11
    dv2 = np.where(r2 < 2, 0, 11 - r2)
    return np.column_stack([with_dv1, dv2])


def _digits_to_str(digits: np.ndarray) -> np.ndarray:
    chars = (digits + ord("0")).astype(np.uint8)
    return chars.view(f"S{digits.shape[1]}").ravel().astype(str)


def generate_cpfs(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` valid CPFs as 11-digit strings (repdigits are vanishingly rare and re-drawn)."""
    base = rng.integers(0, 10, size=(n, 9))
    same = (base == base[:, :1]).all(axis=1)
    base[same, 0] = (base[same, 0] + 1) % 10
    return _digits_to_str(_check_digits_np(base, _CPF_W1, _CPF_W2))


def generate_cnpjs(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` valid numeric CNPJs (head office, branch 0001) as 14-digit strings."""
    root = rng.integers(0, 10, size=(n, 8))
    root[:, 0] = rng.integers(1, 10, size=n)
    base = np.column_stack([root, np.tile([0, 0, 0, 1], (n, 1))])
    return _digits_to_str(_check_digits_np(base, _CNPJ_W1, _CNPJ_W2))


def format_cpf(cpf: str) -> str:
    """123.456.789-09 from 12345678909."""
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


def format_cnpj(cnpj: str) -> str:
    """12.345.678/0001-95 from 12345678000195."""
    return f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"
