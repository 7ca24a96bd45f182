"""CPF/CNPJ check digits, generation and keyed hashing."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.documents import (
    cnpj_is_valid,
    cpf_is_valid,
    document_is_valid,
    generate_cnpjs,
    generate_cpfs,
    hash_documents,
    key_fingerprint,
    normalize_document,
)


def valid(values: list[str], check) -> list[bool]:
    return pl.DataFrame({"d": values}).select(check(normalize_document(pl.col("d"))))["d"].to_list()


def test_known_documents():
    assert valid(
        ["529.982.247-25", "52998224725", "111.111.111-11", "529.982.247-24"], cpf_is_valid
    ) == [
        True,
        True,
        False,
        False,
    ]
    # 12ABC34501DE35 is the Receita Federal's example of the alphanumeric CNPJ (July 2026).
    assert valid(
        ["11.222.333/0001-81", "12.ABC.345/01DE-35", "11222333000182", "00000000000000"],
        cnpj_is_valid,
    ) == [True, True, False, False]


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), bump=st.integers(1, 9))
def test_generated_documents_are_valid_and_a_changed_check_digit_is_not(seed, bump):
    rng = np.random.default_rng(seed)
    cpfs, cnpjs = generate_cpfs(rng, 20).tolist(), generate_cnpjs(rng, 20).tolist()
    assert all(valid(cpfs, cpf_is_valid)) and all(valid(cnpjs, cnpj_is_valid))
    broken = [d[:-1] + str((int(d[-1]) + bump) % 10) for d in cpfs + cnpjs]
    assert not any(valid(broken[:20], cpf_is_valid)) and not any(valid(broken[20:], cnpj_is_valid))


def test_the_kind_decides_which_check_applies():
    frame = pl.DataFrame({"d": ["52998224725", "11222333000181"], "k": ["PJ", "PF"]})
    assert frame.select(document_is_valid(pl.col("d"), pl.col("k")))["d"].to_list() == [
        False,
        False,
    ]


def test_hash_is_keyed_stable_and_keeps_nulls():
    docs = pl.Series("d", ["52998224725", None, "52998224725"])
    a, b = hash_documents(docs, b"k1"), hash_documents(docs, b"k2")
    assert a[0] == a[2] and a[1] is None
    assert a[0] != b[0]
    assert "52998224725" not in a[0]


def test_the_key_fingerprint_is_an_hmac_of_a_fixed_label_and_differs_by_key():
    key = b"a-key-of-thirty-two-bytes-or-more-0123"
    label = b"regua document key fingerprint v1"
    assert key_fingerprint(key) == hmac.new(key, label, hashlib.sha256).hexdigest()
    assert key_fingerprint(key) != key_fingerprint(key + b"x")
    assert key.decode() not in key_fingerprint(key)
