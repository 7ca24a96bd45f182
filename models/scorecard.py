"""The classic scorecard baseline: quantile bins, weight of evidence, logistic regression.

`WOEBinner` is a scikit-learn transformer, so the baseline is an ordinary pipeline a
data scientist can refit, inspect (`woe_`, `information_value_`) and compare with the
boosted model on the same out-of-time set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted


class WOEBinner(TransformerMixin, BaseEstimator):
    """Replace each feature by the weight of evidence of its quantile bin (missing: own bin).

    WOE = ln(share of bads in the bin / share of goods in the bin), with `smoothing`
    pseudo-counts so empty cells stay finite; higher WOE means riskier.
    """

    def __init__(self, max_bins: int = 10, smoothing: float = 0.5) -> None:
        self.max_bins = max_bins
        self.smoothing = smoothing

    def fit(self, X: pd.DataFrame | ArrayLike, y: ArrayLike) -> WOEBinner:
        """Learn bin edges and the WOE of every bin from `X` and the 0/1 outcome `y`."""
        frame = _frame(X)
        target = np.asarray(y, dtype=float)
        if self.max_bins < 2:
            raise ValueError("max_bins must be at least 2")
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        self.edges_: list[np.ndarray] = []
        self.woe_: list[np.ndarray] = []
        self.information_value_: dict[str, float] = {}
        bads, goods = target.sum(), (1 - target).sum()
        for name in frame.columns:
            values = frame[name].to_numpy(dtype=float, na_value=np.nan)
            present = values[~np.isnan(values)]
            quantiles = np.linspace(0, 1, self.max_bins + 1)[1:-1]
            edges = np.unique(np.quantile(present, quantiles)) if len(present) else np.array([])
            bins = _bin(values, edges)
            counts = len(edges) + 2  # value bins plus the missing bin (last)
            bad = np.bincount(bins, weights=target, minlength=counts) + self.smoothing
            good = np.bincount(bins, weights=1 - target, minlength=counts) + self.smoothing
            bad_share = bad / (bads + self.smoothing * counts)
            good_share = good / (goods + self.smoothing * counts)
            woe = np.log(bad_share / good_share)
            self.edges_.append(edges)
            self.woe_.append(woe)
            self.information_value_[str(name)] = float(np.sum((bad_share - good_share) * woe))
        return self

    def transform(self, X: pd.DataFrame | ArrayLike) -> np.ndarray:
        """The WOE of each value's bin, feature by feature."""
        check_is_fitted(self, "woe_")
        frame = _frame(X)
        if frame.shape[1] != self.n_features_in_:
            raise ValueError(f"expected {self.n_features_in_} features, got {frame.shape[1]}")
        out = np.empty(frame.shape, dtype=float)
        for j, (edges, woe) in enumerate(zip(self.edges_, self.woe_, strict=True)):
            values = frame.iloc[:, j].to_numpy(dtype=float, na_value=np.nan)
            out[:, j] = woe[_bin(values, edges)]
        return out

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        """Same names as the input: one WOE column per feature."""
        check_is_fitted(self, "woe_")
        return self.feature_names_in_


def _frame(X: pd.DataFrame | ArrayLike) -> pd.DataFrame:
    return X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=float))


def _bin(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin index of each value; NaN goes to the last (missing) bin."""
    bins = np.searchsorted(edges, np.nan_to_num(values, nan=0.0), side="right")
    return np.where(np.isnan(values), len(edges) + 1, bins)


def make_scorecard(max_bins: int = 10, C: float = 1.0, random_state: int | None = None) -> Pipeline:
    """WOE binning followed by an L2 logistic regression: the classic credit scorecard."""
    return Pipeline(
        [
            ("woe", WOEBinner(max_bins=max_bins)),
            ("logit", LogisticRegression(C=C, max_iter=1000, random_state=random_state)),
        ]
    )
