"""Reasons grouped by the 5 C's from hand-written contributions."""

from __future__ import annotations

import pandas as pd
import pytest

from regua.models.explain import PAYMENT_TEXTS, top_reasons

GROUPS = {
    "days_past_due_now": "behaviour",
    "late_share_180d": "character",
    "bureau_score": "character",
    "installment_to_income": "capacity",
    "savings": "capital",
    "collateral_coverage": "collateral",
    "unemployment": "conditions",
}
TEXTS = {
    "days_past_due_now": "dias em atraso hoje",
    "late_share_180d": "atrasos recorrentes nos últimos 6 meses",
    "installment_to_income": "parcela alta em relação à renda",
}


def contributions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "days_past_due_now": [0.10, -0.5],
            "late_share_180d": [0.40, 0.0],
            "bureau_score": [0.30, 0.0],
            "installment_to_income": [0.50, 0.2],
            "savings": [0.05, 0.2],
            "collateral_coverage": [0.02, -0.1],
            "unemployment": [-0.30, 0.0],
            "_bias": [-2.0, -2.0],
        },
        index=pd.Index(["C1", "C2"], name="customer_id"),
    )


def test_groups_are_summed_ranked_and_capped_at_four():
    reasons = top_reasons(contributions(), GROUPS, TEXTS)
    first = reasons.row(0, named=True)
    assert first["customer_id"] == "C1"
    assert first["reason_groups"] == ["character", "capacity", "behaviour", "capital"]
    assert first["reasons"][0] == (
        "histórico de crédito com atrasos recorrentes (atrasos recorrentes nos últimos 6 meses)"
    )
    assert first["reason_weights"][0] == pytest.approx(0.70)
    assert (
        first["reasons"][1] == "comprometimento de renda elevado (parcela alta em relação à renda)"
    )


def test_ties_break_by_group_name_and_nothing_that_lowers_risk_is_a_reason():
    second = top_reasons(contributions(), GROUPS, TEXTS).row(1, named=True)
    # capacity and capital both push +0.2: alphabetical order decides
    assert second["reason_groups"] == ["capacity", "capital"]
    assert "behaviour" not in second["reason_groups"]


def test_same_inputs_same_reasons_and_reversed_direction_for_propensity():
    a = top_reasons(contributions(), GROUPS, TEXTS)
    b = top_reasons(contributions().sample(frac=1, axis=1, random_state=3), GROUPS, TEXTS)
    assert a.equals(b)
    low_payment = top_reasons(
        contributions(), GROUPS, TEXTS, group_texts=PAYMENT_TEXTS, direction=-1
    )
    assert low_payment.row(0, named=True)["reason_groups"] == ["conditions"]
    assert low_payment.row(1, named=True)["reason_groups"] == ["behaviour", "collateral"]


def test_a_feature_without_a_group_is_an_error():
    with pytest.raises(KeyError, match="without a group"):
        top_reasons(contributions().assign(mystery=0.1), GROUPS, TEXTS)
