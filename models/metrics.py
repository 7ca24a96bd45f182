"""Discrimination and calibration figures credit-risk teams read: AUC, Gini, KS, Brier, ECE, lift.

All functions take the observed 0/1 outcome and a predicted probability (or score where
only the order matters) as array-likes; none of them sorts the caller's data in place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import polars as pl
from numpy.typing import ArrayLike
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve


def _arrays(y_true: ArrayLike, y_score: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_score, dtype=float)
    if y.shape != p.shape or y.ndim != 1:
        raise ValueError(f"y_true {y.shape} and y_score {p.shape} must be 1-d and the same length")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y_true must hold only 0 and 1")
    return y, p


def ks_statistic(y_true: ArrayLike, y_score: ArrayLike) -> float:
    """Kolmogorov-Smirnov: the largest gap between the score distributions of bads and goods."""
    y, p = _arrays(y_true, y_score)
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def expected_calibration_error(y_true: ArrayLike, y_prob: ArrayLike, bins: int = 10) -> float:
    """ECE over equal-count bins: the mean |predicted - observed| rate, weighted by bin size."""
    y, p = _arrays(y_true, y_prob)
    order = np.argsort(p, kind="stable")
    error = 0.0
    for chunk in np.array_split(order, bins):
        if len(chunk):
            error += len(chunk) * abs(p[chunk].mean() - y[chunk].mean())
    return float(error / len(y))


def calibration_table(y_true: ArrayLike, y_prob: ArrayLike, bins: int = 10) -> pl.DataFrame:
    """Mean predicted and observed rate per equal-count bin of the prediction (reliability)."""
    y, p = _arrays(y_true, y_prob)
    frame = pl.DataFrame({"y": y, "p": p}).with_columns(
        (pl.col("p").rank("ordinal") * bins // (len(p) + 1)).cast(pl.Int32).alias("bin")
    )
    return (
        frame.group_by("bin")
        .agg(
            pl.len().alias("n"),
            pl.col("p").mean().alias("predicted"),
            pl.col("y").mean().alias("observed"),
        )
        .sort("bin")
    )


def lift_table(y_true: ArrayLike, y_score: ArrayLike, groups: int = 10) -> pl.DataFrame:
    """Deciles, riskiest (1) first: bad rate, lift over the base rate, cumulative capture."""
    y, p = _arrays(y_true, y_score)
    base = y.mean()
    frame = pl.DataFrame({"y": y, "p": p}).with_columns(
        (
            (pl.col("p").rank("ordinal", descending=True) - 1) * groups // len(p) + 1
        ).cast(pl.Int32).alias("decile")
    )  # fmt: skip
    table = (
        frame.group_by("decile")
        .agg(
            pl.len().alias("n"),
            pl.col("y").sum().alias("bads"),
            pl.col("p").mean().alias("mean_score"),
        )
        .sort("decile")
        .with_columns((pl.col("bads") / pl.col("n")).alias("bad_rate"))
        .with_columns(
            (pl.col("bad_rate") / base if base > 0 else pl.lit(None, pl.Float64)).alias("lift"),
            (pl.col("bads").cum_sum() / max(y.sum(), 1)).alias("capture"),
        )
    )
    return table


@dataclass(frozen=True)
class Evaluation:
    """The headline figures of a binary model on one data set."""

    n: int
    base_rate: float
    auc: float
    gini: float
    ks: float
    brier: float
    ece: float
    top_decile_lift: float
    top_decile_capture: float

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        """Figures keyed for MLflow (`prefix` e.g. "oot_")."""
        return {f"{prefix}{k}": float(v) for k, v in asdict(self).items()}


def evaluate(y_true: ArrayLike, y_prob: ArrayLike) -> Evaluation:
    """Every headline figure at once; AUC-based figures need both classes present."""
    y, p = _arrays(y_true, y_prob)
    if y.min() == y.max():
        raise ValueError("evaluation needs both outcomes (0 and 1) in y_true")
    auc = float(roc_auc_score(y, p))
    lift = lift_table(y, p).row(0, named=True)
    return Evaluation(
        n=len(y),
        base_rate=float(y.mean()),
        auc=auc,
        gini=2 * auc - 1,
        ks=ks_statistic(y, p),
        brier=float(brier_score_loss(y, p)),
        ece=expected_calibration_error(y, p),
        top_decile_lift=float(lift["lift"]),
        top_decile_capture=float(lift["capture"]),
    )
