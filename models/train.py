"""Train and evaluate one model: snapshots, labels, an out-of-time split, two models, figures.

Everything here is a function of frames and settings; logging to MLflow and writing the
report are elsewhere (`models.tracking`, `models.report`). A data scientist can call
`build_dataset`, `split_out_of_time` and `fit_and_evaluate` one by one in a notebook,
with their own label table if they like.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import pandas as pd
import polars as pl
import polars.selectors as cs
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from regua import features
from regua.config import LabelsConfig
from regua.features.build import MAX_DAYS_PER_MONTH, build_spread
from regua.features.catalog import CATALOG, FEATURE_NAMES, GROUP_OF
from regua.features.ledger import observed_until
from regua.models.fairness import check_no_protected_features
from regua.models.gbm import MonotoneGBMClassifier
from regua.models.labels import check_label_table, delinquency_labels, propensity_labels
from regua.models.metrics import Evaluation, calibration_table, evaluate, lift_table
from regua.models.population import out_of_population, something_overdue
from regua.models.scorecard import make_scorecard

log = logging.getLogger(__name__)

ModelKind = Literal["delinquency", "propensity_to_pay"]
MODEL_KINDS: tuple[ModelKind, ...] = ("delinquency", "propensity_to_pay")

Frame = pl.LazyFrame | pl.DataFrame


@dataclass(frozen=True)
class TrainingSpec:
    """What to train: the model kind, how many monthly snapshots, how many held out.

    `estimator` is an unfitted `MonotoneGBMClassifier` holding the hyperparameters; each
    training fits a clone of it. Unless it has its own `monotone`, the clone gets the
    feature catalog's directions for `kind`. `random_state` seeds the whole run: the
    clone (whatever seed the estimator carries), the scorecard and the samples, so one
    number reproduces a training.

    >>> spec = TrainingSpec(
    ...     kind="delinquency",
    ...     snapshots=12,
    ...     estimator=MonotoneGBMClassifier(learning_rate=0.1, num_leaves=31),
    ... )
    """

    kind: ModelKind = "delinquency"
    snapshots: int = 18
    out_of_time: int = 2
    last_as_of: date | None = None
    labels: LabelsConfig = field(default_factory=LabelsConfig)
    estimator: MonotoneGBMClassifier = field(default_factory=MonotoneGBMClassifier)
    random_state: int = 42
    days_per_month: int = 10
    """Training months are seen on this many days, each customer on one
    (`features.build.build_spread`); 1 puts every customer at the month-end. The
    out-of-time months are always month-ends, every customer, as the oracle's truth is."""

    def __post_init__(self) -> None:
        if not 1 <= self.days_per_month <= MAX_DAYS_PER_MONTH:
            raise ValueError(
                f"TrainingSpec.days_per_month must be 1..{MAX_DAYS_PER_MONTH}, "
                f"got {self.days_per_month}"
            )
        if not isinstance(self.estimator, MonotoneGBMClassifier):
            raise TypeError(
                "TrainingSpec.estimator must be a MonotoneGBMClassifier (reasons and the "
                f"monotonicity measure need it), got {type(self.estimator).__name__}"
            )

    def make_estimator(self) -> MonotoneGBMClassifier:
        """An unfitted clone of `estimator`, with the catalog's constraints and the run's seed."""
        model = clone(self.estimator).set_params(random_state=self.random_state)
        if model.monotone is None:
            model.set_params(monotone=monotone_directions(self.kind))
        return model

    def horizon_days(self) -> int:
        """Days after as_of the label looks at."""
        if self.kind == "delinquency":
            return self.labels.delinquency.horizon_days
        return self.labels.propensity_to_pay.horizon_days


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_end_on_or_before(day: date) -> date:
    """The latest month-end on or before `day`: `day` itself, or the previous month's end."""
    return day if month_end(day) == day else day.replace(day=1) - timedelta(days=1)


def month_ends(last: date, count: int) -> list[date]:
    """`count` month-ends up to and including `last`'s month, oldest first."""
    out, current = [], month_end(last)
    for _ in range(count):
        out.append(current)
        current = month_end(current.replace(day=1) - timedelta(days=1))
    return out[::-1]


def snapshot_dates(tables: Mapping[str, Frame], spec: TrainingSpec) -> list[date]:
    """Month-end snapshots whose label horizon lies inside the observed history."""
    latest_labelled = observed_until(tables) - timedelta(days=spec.horizon_days())
    last = min(spec.last_as_of or latest_labelled, latest_labelled)
    return month_ends(month_end_on_or_before(last), spec.snapshots)


def training_dates(
    tables: Mapping[str, Frame], spec: TrainingSpec, labels: pl.DataFrame | None = None
) -> list[date]:
    """The months a training reads, as month-ends (or the label table's own dates)."""
    if labels is not None:
        return sorted(set(check_label_table(labels)["as_of"].to_list()))
    return snapshot_dates(tables, spec)


REFERENCE_MONTHS = 3
"""Whole months the drift reference is drawn from: three consecutive months hold both a
month after a 30-day one and a month after a 31-day one (day-count windows such as
`paid_to_billed_30` read a night by the length of the month before it)."""


def reference_months(tables: Mapping[str, Frame]) -> list[date]:
    """The last `REFERENCE_MONTHS` whole months of the history, as month-ends, oldest first:
    the book the drift reference is drawn from."""
    return month_ends(month_end_on_or_before(observed_until(tables)), REFERENCE_MONTHS)


def snapshot_features(
    tables: Mapping[str, Frame],
    specs: list[TrainingSpec],
    labels: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The feature rows every spec trains, tests and draws its drift reference on.

    Out-of-time months are month-ends with every customer (the oracle's truth is at
    month-ends); training months and the reference month are spread over
    `days_per_month` days (`features.build.build_spread`). With a label table, its dates
    for every customer.
    """
    if labels is not None:
        dates = sorted({d for spec in specs for d in training_dates(tables, spec, labels)})
        return features.build_from_frames(tables, dates)
    month_end_rows: set[date] = set()
    spread: dict[int, set[date]] = {}
    for spec in specs:
        months = snapshot_dates(tables, spec)
        split = len(months) - spec.out_of_time
        trained = [*months[:split], *reference_months(tables)]
        month_end_rows.update(months[split:])
        if spec.days_per_month == 1:
            month_end_rows.update(trained)
        else:
            spread.setdefault(spec.days_per_month, set()).update(trained)
    parts = [features.build_from_frames(tables, sorted(month_end_rows))]
    parts += [build_spread(tables, sorted(m), p) for p, m in spread.items()]
    table = pl.concat(parts)
    # spread days are never month-ends; only two spreads of different sizes can meet
    if len(spread) > 1:
        table = table.unique(["customer_id", "as_of"], keep="first", maintain_order=True)
    return table


def snapshot_rows(
    feature_table: pl.DataFrame, tables: Mapping[str, Frame], spec: TrainingSpec
) -> pl.DataFrame:
    """The (customer_id, as_of) rows of `feature_table` that `spec` trains and tests on."""
    months = snapshot_dates(tables, spec)
    split = len(months) - spec.out_of_time
    as_of = pl.col("as_of")
    at_month_end = as_of == as_of.dt.month_end()
    tested = as_of.is_in(months[split:])
    if spec.days_per_month == 1:
        trained = as_of.is_in(months[:split])
    else:
        trained = ~at_month_end & as_of.dt.month_end().is_in(months[:split])
    return feature_table.filter(tested | trained).select("customer_id", "as_of")


def build_dataset(
    tables: Mapping[str, Frame],
    spec: TrainingSpec,
    labels: pl.DataFrame | None = None,
    feature_table: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Features at every snapshot joined to the label (the configured one, or `labels`).

    `feature_table` (from `snapshot_features` for these specs or more) saves rebuilding
    the features when several models train on the same store.
    """
    dates = training_dates(tables, spec, labels)
    if feature_table is None:
        feature_table = snapshot_features(tables, [spec], labels)
    if labels is not None:
        labels = check_label_table(labels)
    else:
        make = delinquency_labels if spec.kind == "delinquency" else propensity_labels
        rows = snapshot_rows(feature_table, tables, spec)
        labels = make(tables, rows, observed_until(tables), spec.labels)
    dataset = feature_table.join(labels, on=["customer_id", "as_of"], how="inner")
    if dataset.height == 0:
        raise ValueError(f"no labelled customers for {spec.kind} at {dates[0]}..{dates[-1]}")
    log.info(
        "%s dataset: %d rows over %d months, base rate %.3f",
        spec.kind,
        dataset.height,
        len(dates),
        dataset["label"].mean(),
    )
    return dataset.sort("as_of", "customer_id")


class TooFewOutcomesError(ValueError):
    """The training rows hold too few of an outcome for a model worth gating."""


def check_outcomes(train: pl.DataFrame, kind: str, minimum: int) -> None:
    """Stop when the training rows hold fewer than `minimum` of the rarer outcome.

    With a few dozen bads the trees learn nothing (a book of 3,000 customers over 12
    months trained an AUC 0.50 model) and the gate would measure noise.
    """
    bads = int(train["label"].sum())
    rarer = min(bads, train.height - bads)
    if rarer < minimum:
        raise TooFewOutcomesError(
            f"{kind}: {rarer} of the rarer outcome in {train.height:,} training rows "
            f"({bads} labelled 1), fewer than min_bad_outcomes {minimum} (config/labels.yaml): "
            "add customers or snapshots (--snapshots), or lower the minimum knowingly"
        )


def split_out_of_time(
    dataset: pl.DataFrame, out_of_time: int, horizon_days: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The latest `out_of_time` months are the test set; training keeps only snapshots
    whose label window closed before the first test snapshot, so no customer-period is
    seen by both."""
    months = dataset.group_by(pl.col("as_of").dt.month_end().alias("month")).agg(
        pl.col("as_of").min().alias("first")
    )
    if months.height <= out_of_time:
        raise ValueError(f"need more than {out_of_time} monthly snapshots, have {months.height}")
    first_test = months.sort("month")["first"][-out_of_time]
    test = dataset.filter(pl.col("as_of") >= first_test)
    train = dataset.filter(
        (pl.col("as_of") < pl.lit(first_test))
        & (pl.col("as_of") + pl.duration(days=horizon_days) <= pl.lit(first_test))
    )
    if train.height == 0:
        raise ValueError(
            f"no training snapshot ends its {horizon_days}-day label window before "
            f"{first_test}: add snapshots"
        )
    return train, test


def feature_matrix(frame: pl.DataFrame) -> pd.DataFrame:
    """The catalog features as pandas: categories stay categorical for LightGBM."""
    check_no_protected_features(FEATURE_NAMES)
    # Integers become floats: a null at scoring time must not break the model's schema.
    return frame.select(FEATURE_NAMES).with_columns(cs.integer().cast(pl.Float64)).to_pandas()


def predict_scores(model: MonotoneGBMClassifier, feature_rows: pl.DataFrame) -> pl.Series:
    """The model's probability of class 1 for each feature row, as `score` (empty for none)."""
    if feature_rows.height == 0:
        return pl.Series("score", [], pl.Float64)
    return pl.Series("score", model.predict_proba(feature_matrix(feature_rows))[:, 1])


def monotone_directions(kind: ModelKind) -> dict[str, int]:
    """Catalog risk directions as constraints: as-is for default, reversed for paying."""
    sign = 1 if kind == "delinquency" else -1
    return {
        f.name: sign * f.direction
        for f in CATALOG
        if f.direction != 0 and not isinstance(f.dtype, pl.Enum)
    }


@dataclass
class TrainingResult:
    """Fitted models and every figure and table the report and MLflow need."""

    spec: TrainingSpec
    model: MonotoneGBMClassifier
    baseline: object
    train_rows: int
    test_rows: int
    train_dates: list[date]
    test_dates: list[date]
    evaluation: Evaluation
    baseline_evaluation: Evaluation
    lift: pl.DataFrame
    calibration: pl.DataFrame
    importance: pl.DataFrame
    group_importance: pl.DataFrame
    test_scores: pl.DataFrame
    input_example: pd.DataFrame
    data_fingerprint: str
    seconds: float
    reference_sample: pl.DataFrame | None = None
    oracle_auc: float | None = None
    oracle_model_auc: float | None = None
    """The model's AUC on the rows the oracle is measured on (`oracle_rows`)."""
    oracle_rows: int | None = None
    oracle_auc_lookahead: float | None = None
    test_features: pl.DataFrame | None = None
    population: pl.DataFrame | None = None
    """Per snapshot: customers known, in the model's population (labelled), left out."""
    """customer_id, as_of and the features of the out-of-time rows: the gate scores the
    champion on them, so challenger and champion are compared on the same customers."""

    @property
    def oracle_gap(self) -> float | None:
        """The oracle's AUC less the model's, on the same rows (`oracle_rows`)."""
        if self.oracle_auc is None:
            return None
        model_auc = self.evaluation.auc if self.oracle_model_auc is None else self.oracle_model_auc
        return self.oracle_auc - model_auc

    def metrics(self) -> dict[str, float]:
        """Flat figures for MLflow: the model's, the baseline's and the oracle gap."""
        out = {
            **self.evaluation.as_dict("oot_"),
            **self.baseline_evaluation.as_dict("baseline_oot_"),
            "train_rows": float(self.train_rows),
            "test_rows": float(self.test_rows),
            "best_iteration": float(self.model.best_iteration_),
            "min_child_samples": float(self.model.min_child_samples_),
            "monotonicity_violations": float(sum(self.model.monotonicity_violations_.values())),
            "train_seconds": self.seconds,
        }
        if self.oracle_gap is not None:
            out["oracle_auc"] = float(self.oracle_auc)
            out["oracle_gap"] = self.oracle_gap
        if self.oracle_auc_lookahead is not None:
            out["oracle_auc_lookahead"] = self.oracle_auc_lookahead
        return out


def _importance(model: MonotoneGBMClassifier, sample: pd.DataFrame) -> pl.DataFrame:
    """Mean |contribution| per feature on the test set (TreeSHAP), largest first."""
    contributions = model.contributions(sample).drop(columns=["_bias"])
    mean_abs = contributions.abs().mean()
    return pl.DataFrame(
        {
            "feature": list(mean_abs.index),
            "group": [GROUP_OF[f] for f in mean_abs.index],
            "mean_abs_contribution": mean_abs.to_numpy(),
        }
    ).sort(["mean_abs_contribution", "feature"], descending=[True, False])


REFERENCE_ROWS = 60_000
"""Rows of the drift reference: a night is compared with the part of it seen within a few
days of the night's place in the month (`models.drift.same_part_of_month`)."""
SCORE_DECIMALS = 6
"""Scores are published rounded (see models.scoring); the drift reference is too."""


def population_filter(kind: ModelKind, rule: LabelsConfig) -> pl.Expr:
    """The model's population over a feature table (`models.population`)."""
    if kind == "delinquency":
        return ~out_of_population(rule.delinquency)
    return something_overdue()


def reference_rows(
    feature_table: pl.DataFrame, tables: Mapping[str, Frame], spec: TrainingSpec
) -> pl.DataFrame:
    """The book of the last whole months (`reference_months`), as spread over their days,
    in the model's population.

    Drift is measured against the book as it was lately, not against a training month
    half a year old; its days are spread as the training months' are, so a night can be
    compared with customers seen at the same point of a month
    (`models.drift.same_part_of_month`).
    """
    months = reference_months(tables)
    as_of = pl.col("as_of")
    in_months = as_of.dt.month_end().is_in(months)
    if spec.days_per_month > 1:
        in_months &= ~as_of.is_in(months)
    return feature_table.filter(in_months & population_filter(spec.kind, spec.labels))


def reference_sample(
    rows: pl.DataFrame, model: MonotoneGBMClassifier, random_state: int = 42
) -> pl.DataFrame:
    """as_of, features and scores of a sample of `rows`: the baseline drift is measured on."""
    rows = rows.sample(n=min(rows.height, REFERENCE_ROWS), seed=random_state)
    return rows.select("as_of", *FEATURE_NAMES).with_columns(
        predict_scores(model, rows).round(SCORE_DECIMALS)
    )


def fit_and_evaluate(
    train: pl.DataFrame,
    test: pl.DataFrame,
    spec: TrainingSpec,
    reference: pl.DataFrame | None = None,
) -> TrainingResult:
    """Fit the boosted model and the scorecard on `train`; measure both on `test`.

    The drift reference is drawn from `reference` (`reference_rows`), else from the
    latest training snapshot.
    """
    started = time.perf_counter()
    x_train, y_train = feature_matrix(train), train["label"].to_numpy()
    x_test, y_test = feature_matrix(test), test["label"].to_numpy()
    model = spec.make_estimator().fit(x_train, y_train, time=train["as_of"].to_numpy())
    numeric = [name for name in FEATURE_NAMES if not isinstance(train.schema[name], pl.Enum)]
    baseline = make_scorecard(random_state=spec.random_state).fit(x_train[numeric], y_train)
    proba = model.predict_proba(x_test)[:, 1]
    baseline_proba = baseline.predict_proba(x_test[numeric])[:, 1]
    sample = x_test.sample(n=min(len(x_test), 5000), random_state=spec.random_state)
    importance = _importance(model, sample)
    group_importance = (
        importance.group_by("group")
        .agg(pl.col("mean_abs_contribution").sum())
        .sort(["mean_abs_contribution", "group"], descending=[True, False])
    )
    scores = test.select("customer_id", "as_of", "label").with_columns(
        pl.Series("score", proba), pl.Series("baseline_score", baseline_proba)
    )
    return TrainingResult(
        spec=spec,
        model=model,
        baseline=baseline,
        train_rows=train.height,
        test_rows=test.height,
        train_dates=sorted(set(train["as_of"].to_list())),
        test_dates=sorted(set(test["as_of"].to_list())),
        evaluation=evaluate(y_test, proba),
        baseline_evaluation=evaluate(y_test, baseline_proba),
        lift=lift_table(y_test, proba),
        calibration=calibration_table(y_test, proba),
        importance=importance,
        group_importance=group_importance,
        test_scores=scores,
        input_example=x_test.head(5),
        test_features=test.select("customer_id", "as_of", *FEATURE_NAMES),
        reference_sample=reference_sample(
            train.filter(pl.col("as_of") == pl.col("as_of").max())
            if reference is None or reference.height == 0
            else reference,
            model,
            spec.random_state,
        ),
        data_fingerprint=data_fingerprint(train),
        seconds=time.perf_counter() - started,
    )


ORACLE_COLUMNS: dict[ModelKind, tuple[str, str | None]] = {
    "delinquency": ("oracle_pd_60_180d", "pd_60_180d"),
    "propensity_to_pay": ("oracle_pay_30d", None),
}
"""Truth columns per model: the label's oracle and the one that looks ahead."""


def oracle_rows(
    scores: pl.DataFrame, truth: pl.DataFrame, kind: ModelKind, *, lookahead: bool = False
) -> pl.DataFrame | None:
    """The test rows with the oracle's probability (`oracle`), where it is a ceiling.

    The oracle (`oracle_pd_60_180d`, `oracle_pay_30d`: regua.simulate.label_oracle) is
    the label's probability, as config/labels.yaml defines it, given every hidden trait
    and everything the simulator had realised by as_of: the ceiling of a model fed data
    up to as_of. With `lookahead`, `pd_60_180d` also knows whether the month's bill will
    be paid within 29 days of its due date, up to four weeks past as_of: an upper bound
    no model reaches, reported, not a target. Truth rows are month-ends; a snapshot on a
    month-end matches the truth at that date. Customers whose exports carry an injected
    defect (`export_defect`) are left out: a payment rejected at ingest leaves a bill
    open for ever in the store, a label the simulation never lived. None when under 90%
    of the other rows match, or one outcome only.
    """
    pit, ahead = ORACLE_COLUMNS[kind]
    column = ahead if lookahead else pit
    if column is None or column not in truth.columns:
        return None
    if "export_defect" in truth.columns:
        defective = truth.filter("export_defect").select("customer_id").unique()
        scores = scores.join(defective, on="customer_id", how="anti")
    joined = scores.join(
        truth.select(
            "customer_id", pl.col("month_end").alias("as_of"), pl.col(column).alias("oracle")
        ),
        on=["customer_id", "as_of"],
        how="inner",
    ).drop_nulls("oracle")
    if joined.height < scores.height * 0.9 or joined["label"].n_unique() < 2:
        return None
    return joined


def oracle_auc(
    scores: pl.DataFrame, truth: pl.DataFrame, kind: ModelKind, *, lookahead: bool = False
) -> float | None:
    """AUC of the simulator's true probabilities on the test rows where it is a ceiling
    (`oracle_rows`); None when it cannot be measured."""
    rows = oracle_rows(scores, truth, kind, lookahead=lookahead)
    if rows is None:
        return None
    return float(roc_auc_score(rows["label"].to_numpy(), rows["oracle"].to_numpy()))


def train(
    tables: Mapping[str, Frame],
    spec: TrainingSpec | None = None,
    labels: pl.DataFrame | None = None,
    truth: pl.DataFrame | None = None,
    label_horizon_days: int | None = None,
    feature_table: pl.DataFrame | None = None,
) -> TrainingResult:
    """Dataset, out-of-time split, both models and their figures, in one call.

    `spec` defaults to `TrainingSpec()`: the delinquency model on 18 month-ends. With
    your own `labels`, give `label_horizon_days` (how far after as_of they look) so
    training snapshots whose label window reaches into the test period are left out.
    The result is not logged anywhere: `regua train` (or `pipelines.train.train_models`)
    logs it to MLflow and gates it into the registry.

    >>> import regua
    >>> from regua.contract import TABLES
    >>> from regua.models.train import TrainingSpec
    >>> store = regua.Store("data/store")
    >>> tables = {name: store.scan(name) for name in TABLES}
    >>> result = regua.train(tables, TrainingSpec(kind="delinquency", snapshots=12))
    >>> result.evaluation.auc, result.baseline_evaluation.auc  # out of time
    """
    spec = TrainingSpec() if spec is None else spec
    if feature_table is None:
        feature_table = snapshot_features(tables, [spec], labels)
    dataset = build_dataset(tables, spec, labels, feature_table)
    horizon = spec.horizon_days() if labels is None else (label_horizon_days or 0)
    if labels is not None and label_horizon_days is None:
        log.warning("own labels without label_horizon_days: no embargo before the test period")
    train_set, test_set = split_out_of_time(dataset, spec.out_of_time, horizon)
    check_outcomes(train_set, spec.kind, spec.labels.min_bad_outcomes)
    reference = None if labels is not None else reference_rows(feature_table, tables, spec)
    result = fit_and_evaluate(train_set, test_set, spec, reference)
    result.population = population_counts(feature_table, dataset)
    if (
        truth is not None
        and labels is None
        and (rows := oracle_rows(result.test_scores, truth, spec.kind)) is not None
    ):
        result.oracle_auc = float(roc_auc_score(rows["label"], rows["oracle"]))
        result.oracle_model_auc = float(roc_auc_score(rows["label"], rows["score"]))
        result.oracle_rows = rows.height
        result.oracle_auc_lookahead = oracle_auc(
            result.test_scores, truth, spec.kind, lookahead=True
        )
    return result


def population_counts(feature_table: pl.DataFrame, dataset: pl.DataFrame) -> pl.DataFrame:
    """Per month of `dataset` (as_of = its month-end): customers known, labelled (the
    population) and left out."""
    dates = dataset["as_of"].unique()
    month = pl.col("as_of").dt.month_end()
    known = (
        feature_table.filter(pl.col("as_of").is_in(dates.implode())).group_by(month).len("known")
    )
    labelled = dataset.group_by(month).agg(
        pl.len().alias("in_population"), pl.col("label").sum().cast(pl.Int64).alias("outcomes")
    )
    return (
        known.join(labelled, on="as_of", how="left")
        .with_columns((pl.col("known") - pl.col("in_population")).alias("left_out"))
        .select("as_of", "known", "in_population", "left_out", "outcomes")
        .sort("as_of")
    )


def data_fingerprint(frame: pl.DataFrame) -> str:
    """A content hash of a training frame: the same data and library versions, the same hash."""
    ordered = frame.sort(["as_of", "customer_id"])
    digest = hashlib.sha256()
    for column in ordered.columns:
        digest.update(column.encode())
        digest.update(ordered[column].hash(seed=0).to_numpy().tobytes())
    return digest.hexdigest()[:16]
