"""LightGBM with monotone constraints, early stopping on the latest period, measured calibration.

`MonotoneGBMClassifier` is a scikit-learn estimator: settings in the constructor, work in
`fit`, calibrated probabilities from `predict_proba`, and per-feature log-odds
contributions from `contributions` (the raw material of the reasons analysts read).
Monotonicity is measured on the fitted model by `monotonicity_violations`, not assumed:
LightGBM has open reports of violations, so the fit records what it found.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import Tags, assert_all_finite
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from regua.models.inputs import select_fitted_columns

log = logging.getLogger(__name__)

MIN_LEAF_SHARE = 0.001
"""Default smallest leaf, as a share of the boosting rows."""
MIN_LEAF_ROWS = 20

Features = pd.DataFrame | ArrayLike
"""A pandas frame (columns by name, categoricals kept) or a numeric array (columns by position)."""


class MonotoneGBMClassifier(ClassifierMixin, BaseEstimator):
    """Binary LightGBM whose probability moves with each constrained feature as told.

    `X` is a pandas frame or a numeric array. A frame's columns are matched by name
    (order and extra columns do not matter at predict time) and its pandas categoricals
    reach LightGBM as categories; an array's columns are taken by position. Missing
    values are allowed, infinities are not.

    `monotone` gives the direction of each feature: +1 (the probability of `classes_[1]`
    may only rise with it), -1 (only fall) or 0 (free). It is either a mapping from
    column name to direction (X must then be a frame holding those columns) or a
    sequence of one direction per column, in column order (what an array needs).

    The latest `validation_fraction` of rows by `time` (or a random stratified share
    when no time is given) stops the boosting early and, when `calibration` is
    `"isotonic"` or `"sigmoid"`, fits a calibrator on top.

    The default is no calibrator: the log-loss booster's own probabilities are measured
    (ECE on the out-of-time set, gated in the registry). A calibrator fitted on the
    latest periods inherits their base rate; on the simulated portfolio, whose latest
    training periods sit at a macro shock, isotonic raised the out-of-time ECE from
    0.009 to 0.042 (benchmarks/README.md). Use it where recent periods are the better
    guide to the next ones.

    The defaults are regularised on purpose (15 leaves at most 4 splits deep, half the
    columns per tree, L2 10, and `min_child_samples=None`: a leaf holds at least 0.1% of
    the boosting rows, 20 at least). Early stopping on the latest periods otherwise grows
    trees that fit period-specific patterns; on two simulated portfolios of 100k
    customers this setting beat the earlier one (31 leaves, 200 rows, all columns) out of
    time, in fewer trees. The depth bound also sets the cost of reasons: TreeSHAP grows
    with leaves x depth squared per tree, and unbounded 15-leaf trees went 7 deep on
    average (benchmarks/README.md).

    Fitted attributes: `classes_` (the two labels, the second one is "positive"),
    `n_features_in_`, `feature_names_in_` (when fitted on a frame), `constraints_` (one
    direction per column), `booster_`, `best_iteration_`, `calibrator_`,
    `validation_rows_` and `monotonicity_violations_`.

    >>> model = MonotoneGBMClassifier(monotone={"dpd_now": 1}, random_state=0)
    >>> model.fit(X, y, time=as_of).predict_proba(X_new)[:, 1]
    >>> MonotoneGBMClassifier(monotone=[1, 0, -1]).fit(array, y)
    """

    def __init__(
        self,
        monotone: Mapping[str, int] | Sequence[int] | None = None,
        n_estimators: int = 2000,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        max_depth: int = 4,
        min_child_samples: int | None = None,
        subsample: float = 0.8,
        colsample_bytree: float = 0.5,
        reg_lambda: float = 10.0,
        early_stopping_rounds: int = 100,
        validation_fraction: float = 0.2,
        calibration: Literal["isotonic", "sigmoid"] | None = None,
        n_jobs: int = 2,
        random_state: int | None = None,
    ) -> None:
        self.monotone = monotone
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.calibration = calibration
        self.n_jobs = n_jobs
        self.random_state = random_state

    def __sklearn_tags__(self) -> Tags:
        """Binary only; missing values and pandas categoricals are welcome."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_class = False
        return tags

    def fit(
        self, X: Features, y: ArrayLike, *, time: ArrayLike | None = None
    ) -> MonotoneGBMClassifier:
        """Boost on the earlier rows, stop and calibrate on the latest ones."""
        frame = self._validated(X, reset=True)
        labels = column_or_1d(y, warn=True)
        check_consistent_length(frame, labels)
        if labels.dtype.kind == "f":
            assert_all_finite(labels, input_name="y")
        check_classification_targets(labels)
        target_type = type_of_target(labels, input_name="y")
        if target_type != "binary":
            raise ValueError(
                f"Only binary classification is supported. The type of the target is {target_type}."
            )
        self.classes_, target = np.unique(labels, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError("y holds 1 class: the model needs both outcomes to learn from")
        self.constraints_ = self._constraints(frame)
        self.categories_ = {
            name: list(frame[name].cat.categories)
            for name in frame.columns
            if isinstance(frame[name].dtype, pd.CategoricalDtype)
        }
        train, valid = self._split(frame, target, time)
        self.min_child_samples_ = self.min_child_samples or max(
            MIN_LEAF_ROWS, round(MIN_LEAF_SHARE * len(train))
        )
        self.booster_ = lgb.LGBMClassifier(
            objective="binary",
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            max_depth=self.max_depth,
            min_child_samples=self.min_child_samples_,
            subsample=self.subsample,
            subsample_freq=1 if self.subsample < 1 else 0,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            monotone_constraints=self.constraints_,
            monotone_constraints_method="basic",
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )
        self.booster_.fit(
            frame.iloc[train],
            target[train],
            eval_X=(frame.iloc[valid],),
            eval_y=(target[valid],),
            eval_metric="auc",
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        self.best_iteration_ = int(self.booster_.best_iteration_ or self.n_estimators)
        self.calibrator_ = None
        if self.calibration is not None:
            self.calibrator_ = CalibratedClassifierCV(
                FrozenEstimator(self.booster_), method=self.calibration
            ).fit(frame.iloc[valid], target[valid])
        self.validation_rows_ = len(valid)
        self.monotonicity_violations_ = _violations(
            self, frame.iloc[valid], random_state=self.random_state
        )
        broken = {k: v for k, v in self.monotonicity_violations_.items() if v}
        if broken:
            log.warning("monotone constraints violated on the fitted model: %s", broken)
        return self

    def _constraints(self, frame: pd.DataFrame) -> list[int]:
        """One direction per column, from `monotone` by name or by position."""
        if self.monotone is None:
            directions = [0] * frame.shape[1]
        elif isinstance(self.monotone, Mapping):
            if not hasattr(self, "feature_names_in_"):
                raise ValueError(
                    "monotone names features but X has no column names: fit on a frame, "
                    "or give one direction per column"
                )
            unknown = set(self.monotone) - set(frame.columns)
            if unknown:
                raise ValueError(f"monotone constraints name unknown features: {sorted(unknown)}")
            directions = [int(self.monotone.get(c, 0)) for c in frame.columns]
        else:
            directions = [int(d) for d in self.monotone]
            if len(directions) != frame.shape[1]:
                raise ValueError(
                    f"monotone gives {len(directions)} directions for {frame.shape[1]} features"
                )
        if not set(directions) <= {-1, 0, 1}:
            raise ValueError(
                f"monotone directions must be -1, 0 or 1, got {sorted(set(directions))}"
            )
        return directions

    def _split(
        self, X: pd.DataFrame, target: np.ndarray, time: ArrayLike | None
    ) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(len(X))
        if time is None:
            train, valid = train_test_split(
                rows,
                test_size=self.validation_fraction,
                stratify=target,
                random_state=self.random_state,
            )
            return np.sort(train), np.sort(valid)
        stamps = np.asarray(time)
        check_consistent_length(X, stamps)
        periods, counts = np.unique(stamps, return_counts=True)
        share_from_latest = counts[::-1].cumsum() / len(stamps)
        n_latest = int(np.searchsorted(share_from_latest, self.validation_fraction)) + 1
        if n_latest >= len(periods):
            raise ValueError("time-based validation needs more periods than the validation share")
        latest = periods[::-1][:n_latest]
        valid_mask = np.isin(stamps, latest)
        if len(np.unique(target[valid_mask])) < 2:
            raise ValueError("the latest periods hold a single outcome: cannot validate on them")
        return rows[~valid_mask], rows[valid_mask]

    def _validated(self, X: Features, *, reset: bool) -> pd.DataFrame:
        """X checked the scikit-learn way, as the frame the booster reads.

        Fitted on an array, the booster's columns are named x0, x1, ... (by position).
        """
        if not reset:
            check_is_fitted(self)
            X = select_fitted_columns(self, X)
        if not isinstance(X, pd.DataFrame):
            values = validate_data(
                self, X, reset=reset, dtype=np.float64, ensure_all_finite="allow-nan"
            )
            return pd.DataFrame(values, columns=self._column_names())
        validate_data(self, X, skip_check_array=True, reset=reset)
        if not reset and self.categories_:
            # Categories as at fit time (e.g. text after MLflow's JSON round trip).
            X = X.assign(
                **{
                    name: pd.Categorical(X[name], categories=categories)
                    for name, categories in self.categories_.items()
                }
            )
        _check_frame(X)
        if hasattr(self, "feature_names_in_"):
            return X
        return X.set_axis(self._column_names(), axis=1)  # fitted on an array: by position

    def _column_names(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return list(names)
        return [f"x{i}" for i in range(self.n_features_in_)]

    def _raw(self, frame: pd.DataFrame) -> np.ndarray:
        return self.booster_.predict(frame, raw_score=True)

    def predict_raw(self, X: Features) -> np.ndarray:
        """Uncalibrated log-odds of the booster at its best iteration."""
        return self._raw(self._validated(X, reset=False))

    def predict_proba(self, X: Features) -> np.ndarray:
        """Calibrated probabilities, columns in the order of `classes_`."""
        frame = self._validated(X, reset=False)
        if self.calibrator_ is not None:
            return self.calibrator_.predict_proba(frame)
        return self.booster_.predict_proba(frame)

    def predict(self, X: Features) -> np.ndarray:
        """`classes_[1]` where its calibrated probability is at least one half."""
        positive = self.predict_proba(X)[:, 1] >= 0.5
        return self.classes_[positive.astype(int)]

    def contributions(self, X: Features) -> pd.DataFrame:
        """Per-feature log-odds contributions (TreeSHAP) plus `_bias`; rows sum to the raw score.

        About 100x the cost of a prediction: call it for the customers someone will read.
        """
        frame = self._validated(X, reset=False)
        values = self.booster_.predict(frame, pred_contrib=True)
        return pd.DataFrame(values, columns=[*frame.columns, "_bias"], index=frame.index)


def _check_frame(X: pd.DataFrame) -> None:
    """Every column numeric, boolean or categorical, none infinite; at least one row and column.

    Column by column, so a wide frame is never copied whole before LightGBM copies it.
    """
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(
            f"Found array with {X.shape[0]} sample(s) and {X.shape[1]} feature(s) "
            "while a minimum of 1 is required."
        )
    for name, dtype in X.dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype):
            continue
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            raise ValueError(f"column {name!r} is {dtype}: features must be numeric or categorical")
        if np.isinf(X[name].to_numpy(dtype=float, na_value=np.nan)).any():
            raise ValueError(f"Input X contains infinity in column {name!r}")


def monotonicity_violations(
    model: MonotoneGBMClassifier,
    X: Features,
    *,
    sample: int = 200,
    grid: int = 25,
    random_state: int | None = None,
    features: Sequence[str] | None = None,
) -> dict[str, int]:
    """Rows whose raw score moves against the constraint as one feature sweeps its range.

    For each constrained feature, `sample` rows are copied across `grid` quantiles of
    that feature and scored; a row counts as a violation if any step goes the wrong way
    by more than 1e-9 in log-odds. Features are named as the model knows them (x0, x1,
    ... when it was fitted on an array).
    """
    frame = model._validated(X, reset=False)
    return _violations(
        model, frame, sample=sample, grid=grid, random_state=random_state, features=features
    )


def _violations(
    model: MonotoneGBMClassifier,
    X: pd.DataFrame,
    *,
    sample: int = 200,
    grid: int = 25,
    random_state: int | None = None,
    features: Sequence[str] | None = None,
) -> dict[str, int]:
    rng = np.random.default_rng(random_state)
    rows = X.iloc[rng.choice(len(X), size=min(sample, len(X)), replace=False)]
    found: dict[str, int] = {}
    for name, direction in zip(X.columns, model.constraints_, strict=True):
        if direction == 0 or (features is not None and name not in features):
            continue
        values = X[name].dropna().to_numpy(dtype=float)
        if len(np.unique(values)) < 2:
            found[name] = 0
            continue
        points = np.unique(np.quantile(values, np.linspace(0, 1, grid)))
        swept = rows.loc[rows.index.repeat(len(points))].copy()
        swept[name] = np.tile(points, len(rows))
        scores = model._raw(swept).reshape(len(rows), len(points))
        steps = np.diff(scores, axis=1) * direction
        found[name] = int((steps < -1e-9).any(axis=1).sum())
    return found
