"""Estimator inputs matched by column name, the one rule regua's estimators add to scikit-learn's.

scikit-learn refuses a frame whose columns come in another order than at fit time; a
feature table is wider than a model and its column order is nobody's contract, so
regua's estimators first pick the fitted columns by name, then validate the usual way.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.base import BaseEstimator


def select_fitted_columns(estimator: BaseEstimator, X: Any) -> Any:
    """The fitted columns of a frame that holds them all, in fit order; anything else as is.

    A frame missing a fitted column, or an array, is returned unchanged so that
    scikit-learn's validation reports it in its own words.
    """
    names = getattr(estimator, "feature_names_in_", None)
    if names is None or not isinstance(X, pd.DataFrame):
        return X
    if list(X.columns) == list(names) or not set(names).issubset(X.columns):
        return X
    return X[names]
