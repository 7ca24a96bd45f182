"""Reasons for a score in plain Portuguese, grouped by the 5 C's of credit (LGPD art. 20).

LightGBM's per-feature log-odds contributions are summed by feature group (behaviour
or one of the five C's); the groups that push the score up the most become at most four
short texts, each naming its strongest feature. Same inputs, same reasons: ties are
broken by group and feature name, never by chance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
import polars as pl

from regua.features.catalog import GROUP_OF, LABEL_PT
from regua.models.gbm import MonotoneGBMClassifier

MAX_REASONS = 4

RISK_TEXTS: dict[str, str] = {
    "behaviour": "comportamento de pagamento recente desfavorável",
    "character": "histórico de crédito com atrasos recorrentes",
    "capacity": "comprometimento de renda elevado",
    "capital": "patrimônio e reservas baixos",
    "collateral": "garantias insuficientes para a exposição",
    "conditions": "condições econômicas desfavoráveis",
}
"""What pushes the probability of default up, per group."""

PAYMENT_TEXTS: dict[str, str] = {
    "behaviour": "comportamento de pagamento recente pouco favorável",
    "character": "histórico de promessas e pagamentos pouco confiável",
    "capacity": "renda comprometida para quitar o atraso",
    "capital": "poucas reservas para quitar o atraso",
    "collateral": "garantias que pouco incentivam a regularização",
    "conditions": "condições econômicas que dificultam o pagamento",
}
"""What pushes the propensity to pay down, per group (read against the contributions)."""


def top_reasons(
    contributions: pd.DataFrame,
    groups: Mapping[str, str],
    feature_texts: Mapping[str, str],
    *,
    group_texts: Mapping[str, str] = RISK_TEXTS,
    direction: int = 1,
    max_reasons: int = MAX_REASONS,
) -> pl.DataFrame:
    """Up to `max_reasons` reasons per row, strongest first, as texts and their weights.

    `contributions` has one column per feature (plus an optional `_bias`), indexed by
    customer; `groups` maps a feature to its group and `feature_texts` to a short
    Portuguese description. `direction=1` explains what raises the score (default
    risk); `-1` what lowers it (a low propensity to pay).
    """
    if not 1 <= max_reasons <= MAX_REASONS:
        raise ValueError(f"max_reasons must be between 1 and {MAX_REASONS}")
    unknown = [c for c in contributions.columns if c != "_bias" and c not in groups]
    if unknown:
        raise KeyError(f"features without a group: {unknown}")
    # Canonical column order (by name) makes ties and float sums independent of the input's.
    names = sorted(c for c in contributions.columns if c != "_bias")
    push = contributions[names].to_numpy(dtype=np.float64) * direction
    group_names = sorted({groups[name] for name in names})
    weight = np.empty((len(push), len(group_names)))
    lead = np.empty((len(push), len(group_names)), dtype=np.int64)
    for g, group in enumerate(group_names):
        members = np.array([i for i, name in enumerate(names) if groups[name] == group])
        weight[:, g] = push[:, members].sum(axis=1)
        lead[:, g] = members[push[:, members].argmax(axis=1)]  # first of equals: by name
    # Stable sort on group columns ordered by name: equal weights rank by group name.
    rank = np.argsort(-weight, axis=1, kind="stable")[:, :max_reasons]
    ranked_weight = np.take_along_axis(weight, rank, axis=1)
    ranked_lead = np.take_along_axis(lead, rank, axis=1)
    row, slot = np.nonzero(ranked_weight > 0)
    texts = np.array(
        [
            f"{group_texts[group]} ({feature_texts.get(name, name)})"
            for group in group_names
            for name in names
        ],
        dtype=object,
    )
    picked_group, picked_lead = rank[row, slot], ranked_lead[row, slot]
    customers = pl.Series("customer_id", list(contributions.index))
    return (
        pl.DataFrame(
            {
                "row": row,
                "reason": texts[picked_group * len(names) + picked_lead].tolist(),
                "group": np.array(group_names, dtype=object)[picked_group].tolist(),
                "weight": ranked_weight[row, slot],
            },
            schema={"row": pl.Int64, "reason": pl.String, "group": pl.String, "weight": pl.Float64},
        )
        .group_by("row", maintain_order=True)
        .agg(
            pl.col("reason").alias("reasons"),
            pl.col("group").alias("reason_groups"),
            pl.col("weight").round(6).alias("reason_weights"),
        )
        .join(pl.DataFrame({"row": np.arange(len(push))}), on="row", how="right")
        .select(
            customers,
            pl.col("reasons").fill_null([]),
            pl.col("reason_groups").fill_null([]),
            pl.col("reason_weights").fill_null([]),
        )
    )


def explain(
    model: MonotoneGBMClassifier,
    feature_rows: pl.DataFrame,
    kind: Literal["delinquency", "propensity_to_pay"] = "delinquency",
    *,
    max_reasons: int = MAX_REASONS,
) -> pl.DataFrame:
    """Reasons for the customers in `feature_rows` (a slice of `features.build`'s table).

    The costly part is TreeSHAP (`pred_contrib`, about 100x a prediction): pass only the
    rows someone will read, such as the day's actions and limit changes or one
    customer looked up by an analyst.

    >>> import regua
    >>> model = regua.load_champion("delinquency").model
    >>> regua.explain(model, table.filter(pl.col("customer_id") == "C0042"))
    """
    from regua.models.train import feature_matrix

    matrix = feature_matrix(feature_rows)
    matrix.index = pd.Index(feature_rows["customer_id"].to_list(), name="customer_id")
    delinquency = kind == "delinquency"
    return top_reasons(
        model.contributions(matrix),
        GROUP_OF,
        LABEL_PT,
        group_texts=RISK_TEXTS if delinquency else PAYMENT_TEXTS,
        direction=1 if delinquency else -1,
        max_reasons=max_reasons,
    )
