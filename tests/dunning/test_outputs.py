"""The data dictionary of the day's outputs: one line per column, and docs/outputs.md from it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from regua.dunning.outputs import (
    LIMITS,
    OUTPUT_TABLES,
    SEGMENTS,
    data_dictionary,
    outputs_markdown,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "outputs.md"


def test_docs_outputs_md_is_generated_from_the_dictionary():
    assert DOCS.read_text(encoding="utf-8") == outputs_markdown(), (
        'docs/outputs.md is stale: run `python -c "from regua.dunning.outputs import '
        "outputs_markdown; print(outputs_markdown(), end='')\" > docs/outputs.md`"
    )


def test_every_column_is_named_once_and_explained_in_a_sentence():
    for table in OUTPUT_TABLES:
        assert len(set(table.names)) == len(table.names), table.name
        assert table.names[:2] == ("as_of", "customer_id"), table.name
        for column in table.columns:
            assert column.description.endswith("."), (table.name, column.name)
            assert len(column.description.split()) >= 4, (table.name, column.name)


def test_the_manifest_dictionary_covers_the_three_outputs():
    dictionary = data_dictionary()
    assert list(dictionary) == ["actions", "segments", "limits"]
    assert list(dictionary["limits"]) == list(LIMITS.names)
    assert dictionary["actions"]["guardrail"].startswith("What the legal guardrails did")
    assert len(dictionary["segments"]) == 14


def test_conform_orders_casts_and_drops_to_the_declared_columns():
    frame = pl.DataFrame(
        {
            "pd": [0.2],
            "ladder_id": ["std"],
            "segment": ["mid"],
            "as_of": [date(2026, 10, 30)],
            "customer_id": ["C1"],
            "risk_band": ["medium"],
            "propensity_band": ["low"],
            "recurrence": ["chronic"],
            "exposure_band": ["small"],
            "propensity": [None],
            "in_population": [True],
            "case_id": ["K1"],
            "experiment_id": [None],
            "cell": [None],
            "_internal": [1],
        }
    )
    out = SEGMENTS.conform(frame)
    assert out.columns == list(SEGMENTS.names)
    assert out.schema["propensity"] == pl.Float64  # an all-null column gets its declared type
    assert out.row(0)[:2] == (date(2026, 10, 30), "C1")
