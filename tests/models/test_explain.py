"""Reasons grouped by the 5 C's from hand-written contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.features.catalog import CATALOG, GROUP_OF, LABEL_PT
from regua.models.explain import GROUP_PT, top_reasons

GROUPS = {
    "days_past_due_now": "behaviour",
    "late_share_180d": "character",
    "bureau_score": "character",
    "age_years": "character",
    "installment_to_income": "capacity",
    "savings": "capital",
    "collateral_coverage": "collateral",
    "unemployment": "conditions",
}
TEXTS = {
    "days_past_due_now": "dias em atraso hoje",
    "late_share_180d": "fração paga com atraso em 180 dias",
    "bureau_score": "score de bureau",
    "age_years": "idade ou tempo de fundação",
    "installment_to_income": "parcela sobre a renda",
}
RISK = {  # +1: a higher value is riskier
    "days_past_due_now": 1,
    "late_share_180d": 1,
    "bureau_score": -1,
    "age_years": -1,
    "installment_to_income": 1,
    "savings": -1,
    "collateral_coverage": -1,
    "unemployment": 1,
}


def contributions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "days_past_due_now": [0.10, -0.5],
            "late_share_180d": [0.40, 0.0],
            "bureau_score": [0.30, 0.0],
            "age_years": [0.0, 0.0],
            "installment_to_income": [0.50, 0.2],
            "savings": [0.05, 0.2],
            "collateral_coverage": [0.02, -0.1],
            "unemployment": [-0.30, 0.0],
            "_bias": [-2.0, -2.0],
        },
        index=pd.Index(["C1", "C2"], name="customer_id"),
    )


def reasons(frame=None, **options):
    return top_reasons(
        contributions() if frame is None else frame, GROUPS, TEXTS, risk_directions=RISK, **options
    )


def test_groups_are_summed_ranked_and_capped_at_four():
    first = reasons().row(0, named=True)
    assert first["customer_id"] == "C1"
    assert first["reason_groups"] == ["character", "capacity", "behaviour", "capital"]
    assert first["reason_features"][0] == "late_share_180d"
    assert first["reasons"][0] == (
        "Caráter: fração paga com atraso em 180 dias acima do usual, o que eleva o risco de "
        "inadimplência"
    )
    assert first["reason_weights"][0] == pytest.approx(0.70)
    assert (
        first["reasons"][3]
        == "Capital: savings abaixo do usual, o que eleva o risco de inadimplência"
    )


def test_the_text_follows_the_sign_of_the_contribution():
    favourable = reasons(direction=-1)
    c2 = favourable.row(1, named=True)
    assert c2["reason_features"] == ["days_past_due_now", "collateral_coverage"]
    assert c2["reasons"][0] == (
        "Comportamento: dias em atraso hoje abaixo do usual, o que reduz o risco de inadimplência"
    )
    c1 = favourable.row(0, named=True)
    assert c1["reasons"] == [
        "Condições: unemployment abaixo do usual, o que reduz o risco de inadimplência"
    ]
    payment = reasons(kind="propensity_to_pay", direction=-1)  # what lowers the propensity
    c1 = payment.row(0, named=True)
    # a contribution lowering the propensity to pay on a riskier-when-higher feature: above
    assert c1["reasons"] == [
        "Condições: unemployment acima do usual, o que reduz a chance de pagamento"
    ]


def test_a_missing_value_is_said_to_be_missing_not_above_or_below_the_usual():
    # C1's bureau score is null (not obtained); C2's values are all known
    frame = contributions()
    missing = np.zeros((2, len(frame.columns) - 1), dtype=bool)
    missing[0, list(frame.columns).index("bureau_score")] = True
    first = reasons(frame, missing=missing).row(0, named=True)
    # character: late_share 0.40 leads the group, so the known text stands
    assert first["reasons"][0].startswith("Caráter: fração paga com atraso em 180 dias acima")
    frame.loc["C1", "bureau_score"] = 0.45  # now the missing score leads its group
    first = reasons(frame, missing=missing).row(0, named=True)
    assert first["reasons"][0] == (
        "Caráter: score de bureau sem informação, o que eleva o risco de inadimplência"
    )
    assert reasons(frame).row(0, named=True)["reasons"][0] == (
        "Caráter: score de bureau abaixo do usual, o que eleva o risco de inadimplência"
    )
    assert reasons(frame, missing=missing).row(1, named=True) == reasons(frame).row(1, named=True)


def test_ties_break_by_group_name_and_nothing_pushing_the_other_way_is_a_reason():
    second = reasons().row(1, named=True)
    # capacity and capital both push +0.2: alphabetical order decides
    assert second["reason_groups"] == ["capacity", "capital"]
    assert "behaviour" not in second["reason_groups"]


def test_same_inputs_same_reasons_whatever_the_column_order():
    a = reasons()
    b = reasons(contributions().sample(frac=1, axis=1, random_state=3))
    assert a.equals(b)


def test_a_feature_without_a_group_is_an_error():
    with pytest.raises(KeyError, match="without a group"):
        reasons(contributions().assign(mystery=0.1))


NAMES = [f.name for f in CATALOG][:24]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.floats(-2, 2, allow_nan=False), min_size=len(NAMES), max_size=len(NAMES)),
        min_size=1,
        max_size=5,
    ),
    st.sampled_from([1, -1]),
    st.sampled_from(["delinquency", "propensity_to_pay"]),
)
def test_a_reason_names_one_feature_of_its_own_group_with_its_own_effect(rows, direction, kind):
    frame = pd.DataFrame(np.array(rows), columns=NAMES)
    frame.index = pd.Index([f"C{i}" for i in range(len(rows))], name="customer_id")
    out = top_reasons(frame, GROUP_OF, LABEL_PT, kind=kind, direction=direction)
    effect = {
        ("delinquency", 1): "eleva o risco",
        ("delinquency", -1): "reduz o risco",
        ("propensity_to_pay", 1): "aumenta a chance",
        ("propensity_to_pay", -1): "reduz a chance",
    }[(kind, direction)]
    for i, row in enumerate(out.iter_rows(named=True)):
        for text, group, feature in zip(
            row["reasons"], row["reason_groups"], row["reason_features"], strict=True
        ):
            assert GROUP_OF[feature] == group
            assert text.startswith(f"{GROUP_PT[group]}: {LABEL_PT[feature]}")
            assert effect in text
            assert frame.loc[f"C{i}", feature] * direction > 0  # its own push, the asked way
            others = [
                LABEL_PT[n] for n in NAMES if n != feature and LABEL_PT[n] not in LABEL_PT[feature]
            ]
            assert not any(f": {label} " in text or f": {label}," in text for label in others)
