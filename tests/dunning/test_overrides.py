"""Analysts' decisions hold over the policy's limit recommendations."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.dunning.overrides import HELD, HOLD_COLUMNS, hold_decisions


def _limits(rows: list[tuple[str, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "current_limit": [r[1] for r in rows],
            "recommended_limit": [r[2] for r in rows],
            "change": [r[2] - r[1] for r in rows],
            "change_pct": [(r[2] - r[1]) / r[1] * 100 for r in rows],
            "decision": ["increase" if r[2] > r[1] else "keep" for r in rows],
            "limit_reasons": [["uso alto", "sem atrasos", "a", "b"] for _ in rows],
            "reason_codes": [["high_utilisation_good_payer", "x", "y", "z"] for _ in rows],
        }
    )


def _held(rows: list[tuple[str, int, float, date]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "decision_id": [r[1] for r in rows],
            "decided_limit": [r[2] for r in rows],
            "decision_action": ["override"] * len(rows),
            "decision_reason_code": ["renda_comprovada"] * len(rows),
            "review_on": [r[3] for r in rows],
        },
        schema=HOLD_COLUMNS,
    )


def test_a_held_customer_keeps_the_analysts_limit_and_the_models_stays_beside_it() -> None:
    limits = _limits([("C1", 1000.0, 1500.0), ("C2", 2000.0, 3000.0)])
    out = hold_decisions(limits, _held([("C1", 7, 1200.0, date(2027, 1, 28))]))
    c1, c2 = out.sort("customer_id").iter_rows(named=True)
    assert c1["recommended_limit"] == 1200.0
    assert c1["model_recommended_limit"] == 1500.0
    assert (c1["change"], c1["change_pct"]) == (200.0, 20.0)
    assert (c1["decision"], c1[HELD], c1["analyst_decision_id"]) == (HELD, True, 7)
    assert (c1["analyst_limit"], c1["held_until"]) == (1200.0, date(2027, 1, 28))
    assert c1["reason_codes"] == [HELD, "high_utilisation_good_payer", "x", "y"]
    assert c1["limit_reasons"][0] == (
        "decisão do analista em vigor até 28/01/2027: limite R$ 1.200 (motivo: renda_comprovada)"
    )
    assert c2["recommended_limit"] == c2["model_recommended_limit"] == 3000.0
    assert (c2["decision"], c2[HELD], c2["analyst_limit"]) == ("increase", False, None)
    assert c2["reason_codes"] == ["high_utilisation_good_payer", "x", "y", "z"]


def test_without_decisions_the_policy_stands() -> None:
    limits = _limits([("C1", 1000.0, 1500.0)])
    out = hold_decisions(limits, None)
    assert out["recommended_limit"].to_list() == out["model_recommended_limit"].to_list()
    assert out[HELD].to_list() == [False]


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.floats(1, 1e5), st.floats(0, 1e5), st.booleans(), st.floats(0, 1e5)),
        min_size=1,
        max_size=20,
    )
)
def test_held_rows_follow_the_analyst_and_the_rest_the_policy(rows) -> None:
    limits = _limits([(f"C{i}", cur, rec) for i, (cur, rec, _, _) in enumerate(rows)])
    held = _held(
        [(f"C{i}", i, new, date(2027, 1, 1)) for i, (_, _, h, new) in enumerate(rows) if h]
    )
    out = hold_decisions(limits, held)
    assert out.height == limits.height
    for i, row in enumerate(out.iter_rows(named=True)):
        cur, rec, is_held, new = rows[i]
        assert row["model_recommended_limit"] == rec
        assert row["recommended_limit"] == (new if is_held else rec)
        assert row[HELD] is is_held
        assert row["change"] == (new if is_held else rec) - cur
