"""The classic scorecard baseline: quantile bins, weight of evidence, logistic regression.

`WOEBinner` is a scikit-learn transformer, so the baseline is an ordinary pipeline a
data scientist can refit, inspect (`woe_`, `information_value_`) and compare with the
boosted model on the same out-of-time set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from regua.models.inputs import select_fitted_columns


class WOEBinner(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Replace each feature by the weight of evidence of its quantile bin (missing: own bin).

    WOE = ln(share of bads in the bin / share of goods in the bin), with `smoothing`
    pseudo-counts so empty cells stay finite; higher WOE means riskier. `y` is the
    outcome as 0 (good) and 1 (bad); any other label is refused. `X` is a numeric frame
    or array; `transform` matches a frame's columns by name (order and extra columns do
    not matter), an array's by position.

    Fitted attributes: `n_features_in_`, `feature_names_in_` (when fitted on a frame),
    `edges_` and `woe_` (one array per feature; the last WOE is the missing bin's) and
    `information_value_` (by feature name; x0, x1, ... for an array).

    >>> binner = WOEBinner(max_bins=5).fit(X, y)
    >>> binner.information_value_["dpd_now"]
    """

    def __init__(self, max_bins: int = 10, smoothing: float = 0.5) -> None:
        self.max_bins = max_bins
        self.smoothing = smoothing

    def __sklearn_tags__(self) -> Tags:
        """Missing values are binned on their own; the outcome is required."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.target_tags.required = True
        return tags

    def fit(self, X: pd.DataFrame | ArrayLike, y: ArrayLike) -> WOEBinner:
        """Learn bin edges and the WOE of every bin from `X` and the 0/1 outcome `y`."""
        if self.max_bins < 2:
            raise ValueError("max_bins must be at least 2")
        values, outcome = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan")
        labels = np.unique(outcome)
        if not np.isin(labels, [0, 1]).all():
            shown = ", ".join(map(repr, labels[:5].tolist())) + (", ..." if len(labels) > 5 else "")
            raise ValueError(f"y must be the outcome as 0 (good) and 1 (bad), got labels {shown}")
        target = outcome.astype(float)
        self.edges_: list[np.ndarray] = []
        self.woe_: list[np.ndarray] = []
        self.information_value_: dict[str, float] = {}
        bads, goods = target.sum(), (1 - target).sum()
        quantiles = np.linspace(0, 1, self.max_bins + 1)[1:-1]
        for j, name in enumerate(self.get_feature_names_out()):
            column = values[:, j]
            present = column[~np.isnan(column)]
            edges = np.unique(np.quantile(present, quantiles)) if len(present) else np.array([])
            bins = _bin(column, edges)
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
        values = validate_data(
            self,
            select_fitted_columns(self, X),
            reset=False,
            dtype=np.float64,
            ensure_all_finite="allow-nan",
        )
        out = np.empty(values.shape, dtype=float)
        for j, (edges, woe) in enumerate(zip(self.edges_, self.woe_, strict=True)):
            out[:, j] = woe[_bin(values[:, j], edges)]
        return out


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
