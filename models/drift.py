"""Population stability of scores and features against the champion's training sample.

PSI = sum over bins of (current share - reference share) * ln(current share / reference
share). Numeric columns are cut at the reference deciles, categorical ones by category;
missing values are a bin of their own, so a feature that starts arriving empty drifts.

The one reading of a PSI lives here too: `psi_levels` puts it at ok, warn or breach with
the thresholds of config/drift.yaml, for the nightly drift check and the model report
alike, and `enforce_drift_policy` says whether a breach stops the night.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from regua.config.drift import DriftConfig

LEVELS = ("ok", "warn", "breach")
"""How far a population has moved: ok up to warn_above, warn up to breach_above, breach above."""
SHARE_FLOOR = 1e-4
"""Empty bins count as this share, so one empty bin does not make PSI infinite."""
MISSING_BIN = -1
"""The bin of missing values of a numeric column (bins are numbered from 0)."""


def _bin_labels(reference: pl.Series, current: pl.Series, bins: int) -> tuple[pl.Series, ...]:
    """Both series as bin labels: categories as they are, numbers cut at reference deciles."""
    if not reference.dtype.is_numeric():
        return (
            reference.cast(pl.String).fill_null("missing"),
            current.cast(pl.String).fill_null("missing"),
        )
    known = reference.cast(pl.Float64).fill_nan(None).drop_nulls()
    cuts = np.linspace(0, 1, bins + 1)[1:-1]
    # Edges are observed reference values (no interpolation), so no bin between two edges
    # is empty in the reference: a gap between tied scores would otherwise read as drift.
    values = known.to_numpy()
    edges = sorted(set(np.quantile(values, cuts, method="inverted_cdf"))) if len(values) else []

    def label(series: pl.Series) -> pl.Series:
        numbers = series.cast(pl.Float64).fill_nan(None)
        # bin i holds (edge[i-1], edge[i]]; missing values are a bin of their own (-1)
        index = np.searchsorted(np.asarray(edges), numbers.fill_null(0.0).to_numpy())
        return pl.Series(series.name, index, pl.Int64).set(numbers.is_null(), MISSING_BIN)

    return label(reference), label(current)


def population_stability(reference: pl.Series, current: pl.Series, bins: int = 10) -> float:
    """PSI of `current` against `reference` (0 = same distribution; > 0.25 = a large shift)."""
    if reference.len() == 0 or current.len() == 0:
        return float("nan")
    ref_labels, cur_labels = _bin_labels(reference, current, bins)
    shares = (
        ref_labels.value_counts(normalize=True, name="reference")
        .rename({ref_labels.name: "bin"})
        .join(
            cur_labels.value_counts(normalize=True, name="current").rename(
                {cur_labels.name: "bin"}
            ),
            on="bin",
            how="full",
            coalesce=True,
        )
        .fill_null(0.0)
        .with_columns(pl.col("reference", "current").clip(lower_bound=SHARE_FLOOR))
    )
    psi = shares.select(
        (
            (pl.col("current") - pl.col("reference"))
            * (pl.col("current") / pl.col("reference")).log()
        ).sum()
    ).item()
    return float(psi) if math.isfinite(psi) else float("nan")


def psi_levels(psi: pl.Expr, thresholds: DriftConfig) -> pl.Expr:
    """The level (LEVELS) of each PSI against the thresholds; null where PSI is unknown."""
    return (
        pl.when(psi.is_null() | psi.is_nan())
        .then(pl.lit(None, pl.String))
        .when(psi > thresholds.breach_above)
        .then(pl.lit("breach"))
        .when(psi > thresholds.warn_above)
        .then(pl.lit("warn"))
        .otherwise(pl.lit("ok"))
    )


def psi_level(psi: float | None, thresholds: DriftConfig) -> str | None:
    """The level of one PSI (see `psi_levels`); None when it is unknown."""
    return pl.select(psi_levels(pl.lit(psi, pl.Float64), thresholds)).item()


def drift_table(
    reference: pl.DataFrame, current: pl.DataFrame, columns: Sequence[str], bins: int = 10
) -> pl.DataFrame:
    """column, psi for each column present in both frames, largest first; an unknown PSI
    (an empty column) is null, and last."""
    rows = [
        {"column": name, "psi": population_stability(reference[name], current[name], bins)}
        for name in columns
        if name in reference.columns and name in current.columns
    ]
    return (
        pl.DataFrame(rows, schema={"column": pl.String, "psi": pl.Float64})
        .with_columns(pl.col("psi").fill_nan(None))
        .sort(["psi", "column"], descending=[True, False], nulls_last=True)
    )


class DriftBreachError(RuntimeError):
    """PSI crossed the breach threshold and config/drift.yaml says to fail."""


@dataclass(frozen=True)
class DriftReport:
    """PSI per score and feature, with the level each reached against the thresholds."""

    table: pl.DataFrame
    """column, kind (score | feature), psi and level (LEVELS), both null when the PSI is
    unknown; scores first, then features by PSI, largest first."""
    config: DriftConfig

    @property
    def warn_above(self) -> float:
        """The PSI above which a column warns."""
        return self.config.warn_above

    @property
    def breach_above(self) -> float:
        """The PSI above which a column breaches."""
        return self.config.breach_above

    @property
    def breached(self) -> bool:
        """Whether any score or feature crossed the breach threshold."""
        return bool((self.table["level"] == "breach").any())

    def breach_text(self) -> str:
        """The columns past the breach threshold, e.g. `PSI above 0.25: pd 0.31`."""
        over = self.table.filter(pl.col("level") == "breach")
        listed = ", ".join(f"{c} {p:.3f}" for c, p in over.select("column", "psi").iter_rows())
        return f"PSI above {self.breach_above}: {listed}"

    def level_counts(self) -> dict[str, int]:
        """Columns per level, every level listed (unknown PSIs are not counted)."""
        counts = dict(self.table.group_by("level").len().iter_rows())
        return {level: counts.get(level, 0) for level in LEVELS}

    def metrics(self) -> dict[str, float]:
        """Flat figures for MLflow: psi_<column> for every column, and the largest feature PSI."""
        known = self.table.filter(pl.col("psi").is_not_null() & pl.col("psi").is_not_nan())
        out = {f"psi_{c}": float(p) for c, p in known.select("column", "psi").iter_rows()}
        feature_psi = known.filter(pl.col("kind") == "feature")["psi"]
        out["psi_feature_max"] = float(feature_psi.max()) if feature_psi.len() else 0.0
        return out

    def top_shifts(self, top: int = 10) -> pl.DataFrame:
        """The scores and the `top` most shifted features: what a summary shows."""
        return pl.concat(
            [
                self.table.filter(pl.col("kind") == "score"),
                self.table.filter(pl.col("kind") == "feature").head(top),
            ]
        )


def enforce_drift_policy(report: DriftReport | None, as_of: date) -> None:
    """Stop the night before its outputs when a breach meets `on_breach: fail`."""
    if report is not None and report.breached and report.config.on_breach == "fail":
        raise DriftBreachError(
            f"drift at {as_of}: {report.breach_text()} (config/drift.yaml on_breach: fail); "
            "outputs not written"
        )


def drift_report(
    current: pl.DataFrame,
    references: Mapping[str, pl.DataFrame],
    feature_names: Sequence[str],
    config: DriftConfig,
) -> DriftReport:
    """PSI of today's scores and features against the champions' training samples.

    `current` holds the day's features with `pd` and `propensity`; `references` maps
    "delinquency" and "propensity_to_pay" to their training samples (features and the
    model's `score`). Features are compared with the delinquency model's sample (its
    population is the whole book but the already-60+ customers); the propensity score
    with the propensity model's (customers with something overdue). `config` gives the
    thresholds, the bins and the rows sampled (config/drift.yaml).
    """
    bins = config.bins
    if current.height > config.sample_rows:
        current = current.sample(n=config.sample_rows, seed=0)
    rows = []
    pairs = (("pd", "delinquency"), ("propensity", "propensity_to_pay"))
    for column, kind in pairs:
        if kind in references and column in current.columns:
            values = current[column]
            if column == "pd" and "in_population" in current.columns:
                # the training sample holds only the model's population; a configured PD
                # given to the others is no drift of the model
                values = values.filter(current["in_population"])
            psi = population_stability(references[kind]["score"], values.drop_nulls(), bins)
            rows.append({"column": column, "kind": "score", "psi": psi})
    if "delinquency" in references:
        table = drift_table(references["delinquency"], current, feature_names, bins)
        rows += [{"column": c, "kind": "feature", "psi": p} for c, p in table.iter_rows()]
    frame = (
        pl.DataFrame(rows, schema={"column": pl.String, "kind": pl.String, "psi": pl.Float64})
        .with_columns(pl.col("psi").fill_nan(None))
        .with_columns(psi_levels(pl.col("psi"), config).alias("level"))
    )
    ordered = pl.concat(
        [
            frame.filter(pl.col("kind") == "score"),
            frame.filter(pl.col("kind") == "feature").sort(
                ["psi", "column"], descending=[True, False], nulls_last=True
            ),
        ]
    )
    return DriftReport(ordered, config)
