"""The catalog: one entry per output column, well formed, and docs/features.md generated from it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from features import CATALOG, CATALOG_VERSION, build_from_frames, catalog_markdown
from features.catalog import (
    FEATURE_NAMES,
    GROUPS,
    catalog_version,
    monotone_constraints,
    output_schema,
    short_label_pt,
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
        assert all(w > 0 for w in f.windows), f.name
        if isinstance(f.dtype, pl.Enum):
            assert f.direction == 0, f"{f.name}: categories cannot be monotone"
    assert {f.group for f in CATALOG} == set(GROUPS)
    assert len(monotone_constraints()) == len(CATALOG)


def test_output_columns_are_the_catalog_in_order() -> None:
    out = build_from_frames(random_portfolio(seed=1, customers=20, months=6), date(2026, 10, 31))
    assert out.columns == ["customer_id", "as_of", *FEATURE_NAMES]
    assert out.schema == output_schema()


def test_catalog_version_is_a_stable_hash() -> None:
    assert catalog_version() == CATALOG_VERSION
    assert len(CATALOG_VERSION) == 12
    int(CATALOG_VERSION, 16)


def test_docs_features_md_is_generated_from_the_catalog() -> None:
    assert DOCS.read_text(encoding="utf-8") == catalog_markdown(), (
        "docs/features.md is stale: run `regua features-doc > docs/features.md`"
    )
    for f in CATALOG:
        assert f"`{f.name}`" in DOCS.read_text(encoding="utf-8")


def test_every_feature_has_a_short_portuguese_label_for_reasons() -> None:
    labels = [short_label_pt(f.name) for f in CATALOG]
    assert all(label and "{" not in label for label in labels)
    assert len(set(labels)) == len(labels)
    assert (
        short_label_pt("paid_late_share_180") == "proporção de faturas pagas com atraso em 180 dias"
    )
