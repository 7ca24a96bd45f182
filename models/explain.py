"""Reasons for a score in plain Portuguese, grouped by the 5 C's of credit (LGPD art. 20).

LightGBM's per-feature log-odds contributions are summed by feature group (behaviour or
one of the five C's); the groups that push the score the most in the direction asked for
become at most four reasons. Each reason names one feature, its group, which side of the
usual the customer's value is on and what that does to the score, so a reason never puts
one feature's name under another's story ("atrasos recorrentes (idade)"). The text
follows the sign of the contribution: the same feature reads "eleva o risco" for one
customer and "reduz o risco" for another. Same inputs, same reasons: ties are broken by
group and feature name, never by chance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
import pandas as pd
import polars as pl

from regua.config import LabelsConfig
from regua.features.catalog import CATALOG, GROUP_OF, GROUP_TITLES, LABEL_PT
from regua.models.gbm import MonotoneGBMClassifier

MAX_REASONS = 4

Kind = Literal["delinquency", "propensity_to_pay"]

EFFECTS: dict[Kind, dict[int, str]] = {
    "delinquency": {1: "eleva o risco de inadimplência", -1: "reduz o risco de inadimplência"},
    "propensity_to_pay": {
        1: "aumenta a chance de pagamento",
        -1: "reduz a chance de pagamento",
    },
}
"""What a contribution does to each model's score, by its sign (the text depends on it)."""

MODEL_SIGN: dict[Kind, int] = {"delinquency": 1, "propensity_to_pay": -1}
"""How a model's score moves with risk: the propensity to pay falls as risk rises."""

RISK_DIRECTION: dict[str, int] = {f.name: f.direction for f in CATALOG}
"""The catalog's risk direction per feature: +1 when a higher value means more risk."""

GROUP_PT: dict[str, str] = {group: titles[0] for group, titles in GROUP_TITLES.items()}


def reason_text(
    group: str,
    label: str,
    sign: int,
    risk_direction: int,
    kind: Kind = "delinquency",
    missing: bool = False,
) -> str:
    """One reason: the group, the feature, the side of the usual its value is on, the effect.

    `sign` is the sign of the feature's contribution to the model's log-odds. For a feature
    with a risk direction, a contribution that raises risk comes from a value above the
    usual when higher means riskier (monotone constraints make this hold), below otherwise.
    A `missing` value (null: no bureau score, fewer billing cycles than the feature's) is
    on no side of the usual: the reason says the information is absent.
    """
    text = f"{GROUP_PT.get(group, group)}: {label}"
    if missing:  # no value: no side of the usual, only the absence weighs
        return f"{text} sem informação, o que {EFFECTS[kind][sign]}"
    if risk_direction:
        raises_risk = sign * MODEL_SIGN[kind] > 0
        above = raises_risk == (risk_direction > 0)
        text += " acima do usual" if above else " abaixo do usual"
    return f"{text}, o que {EFFECTS[kind][sign]}"


def top_reasons(
    contributions: pd.DataFrame,
    groups: Mapping[str, str],
    feature_texts: Mapping[str, str],
    *,
    kind: Kind = "delinquency",
    direction: int = 1,
    risk_directions: Mapping[str, int] | None = None,
    max_reasons: int = MAX_REASONS,
    missing: np.ndarray | None = None,
) -> pl.DataFrame:
    """Up to `max_reasons` reasons per row, strongest first, as texts and their weights.

    `contributions` has one column per feature (plus an optional `_bias`), indexed by
    customer; `groups` maps a feature to its group and `feature_texts` to a short
    Portuguese name. `direction=1` explains what raises the model's score, `-1` what
    lowers it: for the delinquency model the adverse reasons are `1` and the favourable
    ones `-1`; for the propensity to pay, the reverse. `risk_directions` (default: the
    catalog's) says which side of the usual a value is on. `missing` (rows x features in
    `contributions`' column order, True where the value is null) makes a missing lead
    feature's reason say so rather than place it above or below the usual.
    """
    if not 1 <= max_reasons <= MAX_REASONS:
        raise ValueError(f"max_reasons must be between 1 and {MAX_REASONS}")
    if direction not in (1, -1):
        raise ValueError("direction must be 1 (what raises the score) or -1 (what lowers it)")
    unknown = [c for c in contributions.columns if c != "_bias" and c not in groups]
    if unknown:
        raise KeyError(f"features without a group: {unknown}")
    risk = RISK_DIRECTION if risk_directions is None else risk_directions
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
    # A ranked group pushes the asked way, and so does its lead feature (its largest push):
    # the lead's contribution has the sign `direction`, which picks the text.
    row, slot = np.nonzero(ranked_weight > 0)
    texts = np.array(
        [
            [
                reason_text(
                    groups[name], feature_texts.get(name, name), direction, risk.get(name, 0),
                    kind, absent,
                )
                for name in names
            ]
            for absent in (False, True)
        ],
        dtype=object,
    )  # fmt: skip
    picked_group, picked_lead = rank[row, slot], ranked_lead[row, slot]
    if missing is None:
        absent = np.zeros(len(row), dtype=np.int64)
    else:
        order = contributions.columns.drop("_bias", errors="ignore").get_indexer(names)
        absent = np.asarray(missing, dtype=bool)[row, order[picked_lead]].astype(np.int64)
    customers = pl.Series("customer_id", list(contributions.index))
    return (
        pl.DataFrame(
            {
                "row": row,
                "reason": texts[absent, picked_lead].tolist(),
                "group": np.array(group_names, dtype=object)[picked_group].tolist(),
                "feature": np.array(names, dtype=object)[picked_lead].tolist(),
                "weight": ranked_weight[row, slot],
            },
            schema={
                "row": pl.Int64,
                "reason": pl.String,
                "group": pl.String,
                "feature": pl.String,
                "weight": pl.Float64,
            },
        )
        .group_by("row", maintain_order=True)
        .agg(
            pl.col("reason").alias("reasons"),
            pl.col("group").alias("reason_groups"),
            pl.col("feature").alias("reason_features"),
            pl.col("weight").round(6).alias("reason_weights"),
        )
        .join(pl.DataFrame({"row": np.arange(len(push))}), on="row", how="right")
        .select(
            customers,
            pl.col("reasons").fill_null([]),
            pl.col("reason_groups").fill_null([]),
            pl.col("reason_features").fill_null([]),
            pl.col("reason_weights").fill_null([]),
        )
    )


def adverse_direction(kind: Kind) -> int:
    """The direction of the reasons that weigh against the customer for a model."""
    return 1 if kind == "delinquency" else -1


def explain(
    model: MonotoneGBMClassifier,
    feature_rows: pl.DataFrame,
    kind: Kind = "delinquency",
    *,
    favourable: bool = False,
    max_reasons: int = MAX_REASONS,
) -> pl.DataFrame:
    """Reasons for the customers in `feature_rows` (a slice of `features.build`'s table).

    By default the reasons that weigh against the customer (a higher PD, a lower
    propensity to pay); with `favourable`, those in their favour. The costly part is
    TreeSHAP (`pred_contrib`, about 100x a prediction): pass only the rows someone will
    read, such as the day's actions and limit changes or one customer looked up.

    >>> import regua
    >>> model = regua.load_champion("delinquency").model
    >>> regua.explain(model, table.filter(pl.col("customer_id") == "C0042"))
    """
    from regua.models.train import feature_matrix

    matrix = feature_matrix(feature_rows)
    matrix.index = pd.Index(feature_rows["customer_id"].to_list(), name="customer_id")
    direction = adverse_direction(kind) * (-1 if favourable else 1)
    contributions = model.contributions(matrix)
    features = [c for c in contributions.columns if c != "_bias"]
    return top_reasons(
        contributions,
        GROUP_OF,
        LABEL_PT,
        kind=kind,
        direction=direction,
        max_reasons=max_reasons,
        missing=matrix[features].isna().to_numpy(),
    )


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%".replace(".", ",")


def customer_explanation(
    feature_rows: pl.DataFrame,
    delinquency: MonotoneGBMClassifier,
    propensity: MonotoneGBMClassifier | None = None,
    labels: LabelsConfig | None = None,
) -> str:
    """Both models' reasons for one customer's scores, in Portuguese, as the CLI prints them.

    For LGPD art. 20: the PD with what raises and lowers it, and, when something is
    overdue, the propensity to pay with what lowers and raises it. A customer outside the
    delinquency model's population gets that statement instead of model reasons. Only the
    customer id is printed: no name, document or contact.
    """
    from regua.models.scoring import out_of_population_text, score

    if feature_rows.height != 1:
        raise ValueError(f"one customer's feature row is needed, got {feature_rows.height}")
    labels = labels or LabelsConfig()
    scores = score(feature_rows, delinquency, propensity, labels).row(0, named=True)
    lines = [f"cliente {scores['customer_id']} em {scores['as_of']}"]
    lines.append(f"probabilidade de inadimplência (PD): {_percent(scores['pd'])}")
    if not scores["in_population"]:
        lines.append(f"  {out_of_population_text(labels.delinquency)}")
    else:
        lines += _sections(delinquency, feature_rows, "delinquency")
    if scores["propensity"] is None or propensity is None:
        lines.append("propensão a pagar: sem valor em atraso, não se aplica")
    else:
        lines.append(f"propensão a pagar o atraso: {_percent(scores['propensity'])}")
        lines += _sections(propensity, feature_rows, "propensity_to_pay")
    return "\n".join(lines) + "\n"


SECTION_TITLES: dict[Kind, tuple[str, str]] = {
    "delinquency": ("o que eleva o risco", "o que reduz o risco"),
    "propensity_to_pay": ("o que reduz a chance de pagamento", "o que aumenta a chance"),
}


def _sections(model: MonotoneGBMClassifier, row: pl.DataFrame, kind: Kind) -> list[str]:
    lines = []
    for favourable, title in zip((False, True), SECTION_TITLES[kind], strict=True):
        reasons = explain(model, row, kind, favourable=favourable)["reasons"][0].to_list()
        lines.append(f"  {title}:" if reasons else f"  {title}: nada relevante")
        lines += [f"    - {text}" for text in reasons]
    return lines
