"""The catalog: one object per output column (expression, metadata, label), well formed,
and docs/features.md generated from it."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from regua.features import CATALOG, CATALOG_VERSION, build_from_frames, catalog_markdown
from regua.features.catalog import (
    FEATURE_NAMES,
    GROUPS,
    LABEL_PT,
    catalog_version,
    output_schema,
)
from tests.features.frames import random_portfolio

DOCS = Path(__file__).resolve().parents[2] / "docs" / "features.md"


def test_names_are_unique_snake_case() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    assert all(name.isidentifier() and name == name.lower() for name in FEATURE_NAMES)


def test_every_feature_has_one_group_a_direction_and_both_descriptions() -> None:
    for f in CATALOG:
        assert f.group in GROUPS, f.name
        assert f.direction in (-1, 0, 1), f.name
        assert f.description_pt.strip() and f.description_en.strip(), f.name
        assert f.unit, f.name
        assert isinstance(f.expr, pl.Expr), f.name
        assert all(w > 0 for w in f.windows), f.name
        if isinstance(f.dtype, pl.Enum):
            assert f.direction == 0, f"{f.name}: categories cannot be monotone"
    assert {f.group for f in CATALOG} == set(GROUPS)


def test_output_columns_are_the_catalog_in_order() -> None:
    out = build_from_frames(random_portfolio(seed=1, customers=20, months=6), date(2026, 10, 31))
    assert out.columns == ["customer_id", "as_of", *FEATURE_NAMES]
    assert out.schema == output_schema()


def test_a_feature_is_its_own_expression_over_the_aggregates() -> None:
    by_name = {f.name: f for f in CATALOG}
    aggregates = pl.DataFrame(
        {
            "_open_billed": [600.0, None, 300.0],
            "_paid_open": [100.0, None, 0.0],
            "credit_limit": [1000.0, 500.0, 0.0],
            "collateral_value": [250.0, 80.0, 0.0],
        }
    )
    out = aggregates.select(
        by_name[name].column()
        for name in ("open_balance", "limit_utilisation", "collateral_to_open_balance")
    )
    expected = pl.DataFrame(
        {
            "open_balance": [500.0, 0.0, 300.0],
            "limit_utilisation": [0.5, 0.0, None],
            "collateral_to_open_balance": [0.5, None, 0.0],
        }
    )
    assert_frame_equal(out, expected)


def test_catalog_version_is_a_stable_hash_of_the_declarations() -> None:
    assert catalog_version() == CATALOG_VERSION
    assert len(CATALOG_VERSION) == 12
    int(CATALOG_VERSION, 16)
    # the same in a fresh interpreter with another hash seed
    fresh = subprocess.run(
        [sys.executable, "-c", "from regua.features.catalog import CATALOG_VERSION as v; print(v)"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "7"},
    )
    assert fresh.stdout.strip() == CATALOG_VERSION
    # any part of a declaration moves it: the expression, the label, the metadata
    first = CATALOG[0]
    for changed in (
        dataclasses.replace(first, expr=first.expr + 1),
        dataclasses.replace(first, label_pt="outro rótulo"),
        dataclasses.replace(first, direction=0),
    ):
        assert catalog_version((changed, *CATALOG[1:])) != CATALOG_VERSION


def test_docs_features_md_is_generated_from_the_catalog() -> None:
    assert DOCS.read_text(encoding="utf-8") == catalog_markdown(), (
        "docs/features.md is stale: run `regua features-doc > docs/features.md`"
    )
    for f in CATALOG:
        assert f"`{f.name}`" in DOCS.read_text(encoding="utf-8")


def test_every_feature_has_a_short_portuguese_label_for_reasons() -> None:
    labels = [f.label_pt for f in CATALOG]
    assert all(label and "{" not in label for label in labels)
    assert len(set(labels)) == len(labels)
    assert list(LABEL_PT) == list(FEATURE_NAMES)
    assert LABEL_PT["paid_late_share_180"] == "proporção de faturas pagas com atraso em 180 dias"
    assert LABEL_PT["agreement_payments_365"] == "parcelas de acordo pagas em 365 dias"
