"""Reasons for a score in plain Portuguese, grouped by the 5 C's of credit (LGPD art. 20).

LightGBM's per-feature log-odds contributions are summed by feature group (behaviour
or one of the five C's); the groups that push the score up the most become at most four
short texts, each naming its strongest feature. Same inputs, same reasons: ties are
broken by group and feature name, never by chance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd
import polars as pl

from features.catalog import FEATURE_NAMES, GROUP_OF, short_label_pt
from models.gbm import MonotoneGBMClassifier

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
    long = (
        pl.from_pandas(
            contributions.drop(columns=["_bias"], errors="ignore").rename_axis("customer_id"),
            include_index=True,
        )
        .unpivot(index="customer_id", variable_name="feature", value_name="contribution")
        .with_columns(
            (pl.col("contribution") * direction).alias("push"),
            pl.col("feature").replace_strict(dict(groups)).alias("group"),
        )
    )
    by_group = (
        long.sort("push", "feature", descending=[True, False])
        .group_by("customer_id", "group", maintain_order=True)
        .agg(pl.col("push").sum().alias("weight"), pl.col("feature").first().alias("lead"))
        .filter(pl.col("weight") > 0)
        .sort(["customer_id", "weight", "group"], descending=[False, True, False])
        .group_by("customer_id", maintain_order=True)
        .head(max_reasons)
        .with_columns(
            (
                pl.col("group").replace_strict(dict(group_texts))
                + " ("
                + pl.col("lead").replace_strict(dict(feature_texts), default=pl.col("lead"))
                + ")"
            ).alias("reason")
        )
    )
    return (
        by_group.group_by("customer_id", maintain_order=True)
        .agg(
            pl.col("reason").alias("reasons"),
            pl.col("group").alias("reason_groups"),
            pl.col("weight").round(6).alias("reason_weights"),
        )
        .join(
            pl.DataFrame({"customer_id": list(contributions.index)}).cast(
                {"customer_id": long.schema["customer_id"]}
            ),
            on="customer_id",
            how="right",
        )
        .select("customer_id", "reasons", "reason_groups", "reason_weights")
        .with_columns(
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
    """
    from models.train import feature_matrix

    matrix = feature_matrix(feature_rows)
    matrix.index = pd.Index(feature_rows["customer_id"].to_list(), name="customer_id")
    delinquency = kind == "delinquency"
    return top_reasons(
        model.contributions(matrix),
        GROUP_OF,
        {name: short_label_pt(name) for name in FEATURE_NAMES},
        group_texts=RISK_TEXTS if delinquency else PAYMENT_TEXTS,
        direction=1 if delinquency else -1,
        max_reasons=max_reasons,
    )
