"""The calibration policy: monthly, the champion's calibrator refitted on the latest matured month.

Decisions read the PD against absolute cut-offs (segments.yaml, limits.yaml), so a model
that still ranks well but whose base rate has moved must be brought back to the observed
rates. The recalibration keeps the booster and replaces only its calibrator:

- the window is the latest month-end whose label horizon has closed (`calibration_window`),
  the most recent outcomes that are known;
- the method is Platt scaling (`sigmoid`: a logistic regression on the booster's log-odds,
  two parameters). It is monotone, so the ranking, AUC, KS and reasons (log-odds
  contributions of the booster) are unchanged, and it is stable on a month of a small
  book, where isotonic regression (also offered) overfits steps into the PD;
- the window's customers are split in two halves by a hash of their id: the calibrator is
  fitted on one and its calibration error measured on the other, before and after.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np
import polars as pl
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator

from regua.models.gbm import MonotoneGBMClassifier
from regua.models.metrics import expected_calibration_error
from regua.models.train import Frame, TrainingSpec, feature_matrix, snapshot_dates

CalibrationMethod = Literal["sigmoid", "isotonic"]


def calibration_window(tables: Mapping[str, Frame], spec: TrainingSpec) -> date:
    """The latest month-end whose label horizon lies inside the observed history."""
    return snapshot_dates(tables, spec)[-1]


def fitting_half(customer_id: pl.Expr, salt: str = "recalibration") -> pl.Expr:
    """True for the half of the customers the calibrator is fitted on (stable, by id hash)."""
    digest = hashlib.sha256(salt.encode()).digest()
    seed = int.from_bytes(digest[:4], "little")
    return customer_id.hash(seed) % 2 == 0


def recalibrate(
    model: MonotoneGBMClassifier,
    features: Frame | object,
    labels: np.ndarray,
    method: CalibrationMethod = "sigmoid",
) -> MonotoneGBMClassifier:
    """A copy of `model` whose calibrator is refitted on `features` and `labels`.

    `features` is what `model` scores (a pandas frame of its columns); the booster is
    frozen, so only the mapping from its log-odds to a probability changes.
    """
    recalibrated = copy.deepcopy(model)
    calibrator = CalibratedClassifierCV(FrozenEstimator(model.booster_), method=method)
    frame = recalibrated._validated(features, reset=False)
    recalibrated.calibrator_ = calibrator.fit(frame, np.asarray(labels))
    recalibrated.calibration = method
    return recalibrated


@dataclass(frozen=True)
class Recalibration:
    """The recalibrated model and what it changed on the window's other half."""

    model: MonotoneGBMClassifier
    window: date
    method: CalibrationMethod
    fit_rows: int
    check_rows: int
    base_rate: float
    ece_before: float
    ece_after: float
    mean_pd_before: float
    mean_pd_after: float

    def metrics(self) -> dict[str, float]:
        """Flat figures for MLflow."""
        return {
            "recal_fit_rows": float(self.fit_rows),
            "recal_check_rows": float(self.check_rows),
            "recal_base_rate": self.base_rate,
            "recal_ece_before": self.ece_before,
            "recal_ece_after": self.ece_after,
            "recal_mean_pd_before": self.mean_pd_before,
            "recal_mean_pd_after": self.mean_pd_after,
        }


def recalibrate_on_window(
    model: MonotoneGBMClassifier,
    dataset: pl.DataFrame,
    window: date,
    method: CalibrationMethod = "sigmoid",
) -> Recalibration:
    """Refit the calibrator on half of the window's labelled rows; measure on the other half.

    `dataset` holds the catalog features, `customer_id` and `label` at `window`
    (`models.train.build_dataset` with one snapshot).
    """
    rows = dataset.filter(pl.col("as_of") == window) if "as_of" in dataset.columns else dataset
    fit = rows.filter(fitting_half(pl.col("customer_id")))
    check = rows.filter(~fitting_half(pl.col("customer_id")))
    for name, part in (("fitting", fit), ("checking", check)):
        if part["label"].n_unique() < 2:
            raise ValueError(f"the {name} half of {window} holds one outcome: nothing to calibrate")
    recalibrated = recalibrate(model, feature_matrix(fit), fit["label"].to_numpy(), method)
    y = check["label"].to_numpy()
    before = model.predict_proba(feature_matrix(check))[:, 1]
    after = recalibrated.predict_proba(feature_matrix(check))[:, 1]
    return Recalibration(
        model=recalibrated,
        window=window,
        method=method,
        fit_rows=fit.height,
        check_rows=check.height,
        base_rate=float(y.mean()),
        ece_before=expected_calibration_error(y, before),
        ece_after=expected_calibration_error(y, after),
        mean_pd_before=float(before.mean()),
        mean_pd_after=float(after.mean()),
    )
