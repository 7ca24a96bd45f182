"""Population stability of scores and features against the champion's training sample.

PSI = sum over bins of (current share - reference share) * ln(current share / reference
share). Numeric columns are cut at the reference deciles, categorical ones by category;
missing values are a bin of their own, so a feature that starts arriving empty drifts.

A night is compared with the reference rows seen at the same point of a month
(`same_part_of_month`): on the 21st this month's bill is open, at the month-end mostly
paid. Macro indicators are not compared by PSI (their levels trend by design): each one's
latest month-on-month change is read against its own past changes (`macro_moves`).

The one reading of a PSI lives here too: `psi_levels` puts it at ok, warn or breach with
the thresholds of config/drift.yaml, for the nightly drift check and the model report
alike, and `enforce_drift_policy` says whether a breach stops the night.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from regua.config.drift import DriftConfig
from regua.features.catalog import MACRO_FEATURES

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
    """column, kind (score | feature | macro), psi, z and level (LEVELS), level null when
    unknown; scores first, then features by PSI, largest first, then macro indicators by
    |z|. A macro row has a z (its month-on-month change against its past changes) and no
    psi; the others a psi and no z."""
    config: DriftConfig

    def __post_init__(self) -> None:
        if "z" not in self.table.columns:
            object.__setattr__(
                self, "table", self.table.with_columns(pl.lit(None, pl.Float64).alias("z"))
            )

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
        psi = over.filter(pl.col("kind") != "macro").select("column", "psi").iter_rows()
        z = over.filter(pl.col("kind") == "macro").select("column", "z").iter_rows()
        parts = []
        if listed := ", ".join(f"{c} {p:.3f}" for c, p in psi):
            parts.append(f"PSI above {self.breach_above}: {listed}")
        if moved := ", ".join(f"{c} z {v:+.1f}" for c, v in z):
            parts.append(f"monthly change beyond {self.config.macro_breach_z} sd: {moved}")
        return "; ".join(parts)

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
        moves = self.table.filter((pl.col("kind") == "macro") & pl.col("z").is_not_null())
        out |= {f"macro_z_{c}": float(z) for c, z in moves.select("column", "z").iter_rows()}
        return out

    def top_shifts(self, top: int = 10) -> pl.DataFrame:
        """The scores and the `top` most shifted features: what a summary shows."""
        return pl.concat(
            [
                self.table.filter(pl.col("kind") == "score"),
                self.table.filter(pl.col("kind") == "feature").head(top),
                self.table.filter(pl.col("kind") == "macro"),
            ]
        )


def enforce_drift_policy(report: DriftReport | None, as_of: date) -> None:
    """Stop the night before its outputs when a breach meets `on_breach: fail`."""
    if report is not None and report.breached and report.config.on_breach == "fail":
        raise DriftBreachError(
            f"drift at {as_of}: {report.breach_text()} (config/drift.yaml on_breach: fail); "
            "outputs not written"
        )


def previous_month_length(day: pl.Expr) -> pl.Expr:
    """Days in the month before `day`'s."""
    return day.dt.month_start().dt.offset_by("-1d").dt.day()


def same_part_of_month(
    reference: pl.DataFrame, as_of: date, days: int = 2, min_rows: int = 500
) -> pl.DataFrame:
    """The reference rows seen at as_of's point of the month: after a month as long as the
    one before as_of, on the days nearest as_of's, at most `days` away.

    A day-count window reads a night by the month before it: 30 days before 21 October
    is 21 September, bills due that day included; 30 days before 21 September is 22
    August. So months after a month of the night's previous month's length are kept
    when they hold `min_rows`. Days are compared around the month (the 30th is next to
    the 1st); the nearest day is taken first and farther ones only while fewer than
    `min_rows` rows are held: bills fall due on set days, so a day on the other side of a
    due date is another book. A reference without as_of (a model trained before
    references were spread), or with fewer than `min_rows` rows within `days`, is used
    whole.
    """
    if "as_of" not in reference.columns:
        return reference
    same_calendar = reference.filter(
        previous_month_length(pl.col("as_of")) == previous_month_length(pl.lit(as_of))
    )
    if same_calendar.height >= min_rows:
        reference = same_calendar
    length = calendar.monthrange(as_of.year, as_of.month)[1]
    gap = (pl.col("as_of").dt.day().cast(pl.Int32) - as_of.day).abs()
    distance = reference.select(pl.min_horizontal(gap, length - gap).alias("d"))["d"]
    counts = distance.filter(distance <= days).value_counts().sort("d")
    enough = counts.filter(counts["count"].cum_sum() >= min_rows)
    if enough.height == 0:
        return reference
    return reference.filter(distance <= enough["d"][0])


def macro_moves(macro: pl.DataFrame, as_of: date, config: DriftConfig) -> pl.DataFrame:
    """column (indicator), z: the latest published month-on-month change of each national
    indicator against its changes over the previous `macro_history_months`.

    z = (latest change - mean of past changes) / their standard deviation; null with
    fewer than 6 past changes; 0 when the past never moved and the latest did not either.
    Published as the features read it: month + 1 month <= as_of.
    """
    month = pl.col("month")
    national = pl.col("region").is_null() | (pl.col("region") == "BR")
    changes = (
        macro.lazy()
        .filter(national & (month.dt.offset_by("1mo") <= pl.lit(as_of)))
        .group_by("indicator", "month")
        .agg(pl.col("value").mean())
        .sort("indicator", "month")
        .with_columns(pl.col("value").diff().over("indicator").alias("change"))
        .drop_nulls("change")
        .group_by("indicator")
        .agg(
            pl.col("change").last().alias("latest"),
            pl.col("change").slice(0, pl.len() - 1).tail(config.macro_history_months).alias("past"),
        )
        .collect()
    )
    spread = pl.col("past").list.std()
    centred = pl.col("latest") - pl.col("past").list.mean()
    return changes.select(
        pl.col("indicator").alias("column"),
        pl.when(pl.col("past").list.len() < 6)
        .then(None)
        .when(spread > 0)
        .then(centred / spread)
        .when(centred.abs() < 1e-12)
        .then(0.0)
        .otherwise(float("inf"))
        .alias("z"),
    ).sort("column")


def z_levels(z: pl.Expr, config: DriftConfig) -> pl.Expr:
    """The level (LEVELS) of each macro move's |z|; null where z is unknown."""
    return (
        pl.when(z.is_null())
        .then(pl.lit(None, pl.String))
        .when(z.abs() > config.macro_breach_z)
        .then(pl.lit("breach"))
        .when(z.abs() > config.macro_warn_z)
        .then(pl.lit("warn"))
        .otherwise(pl.lit("ok"))
    )


def drift_report(
    current: pl.DataFrame,
    references: Mapping[str, pl.DataFrame],
    feature_names: Sequence[str],
    config: DriftConfig,
    *,
    as_of: date | None = None,
    macro: pl.DataFrame | None = None,
) -> DriftReport:
    """PSI of today's scores and features against the champions' reference samples, and
    the macro indicators' monthly moves.

    `current` holds the day's features with `pd` and `propensity`; `references` maps
    "delinquency" and "propensity_to_pay" to their reference samples (as_of, features and
    the model's `score`), cut to the night's part of the month when `as_of` is given.
    Features are compared with the delinquency model's sample on the rows of its
    population (the whole book but the already-60+ customers: `in_population` when
    `current` has it); the propensity score with the propensity model's (customers with
    something overdue). Macro features (`MACRO_FEATURES`) are
    left out of the PSI; with `macro` (the store's macro table) and `as_of`, each
    indicator gets a row of kind "macro" with its z (`macro_moves`). `config` gives the
    thresholds, the bins and the rows sampled (config/drift.yaml).
    """
    bins = config.bins
    if current.height > config.sample_rows:
        current = current.sample(n=config.sample_rows, seed=0)
    if as_of is not None:
        references = {
            kind: same_part_of_month(
                sample, as_of, config.same_part_of_month_days, config.min_reference_rows
            )
            for kind, sample in references.items()
        }
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
        compared = [name for name in feature_names if name not in MACRO_FEATURES]
        # the reference holds the delinquency model's population; so do the rows compared
        book = current.filter("in_population") if "in_population" in current.columns else current
        table = drift_table(references["delinquency"], book, compared, bins)
        rows += [{"column": c, "kind": "feature", "psi": p} for c, p in table.iter_rows()]
    frame = (
        pl.DataFrame(rows, schema={"column": pl.String, "kind": pl.String, "psi": pl.Float64})
        .with_columns(pl.col("psi").fill_nan(None), pl.lit(None, pl.Float64).alias("z"))
        .with_columns(psi_levels(pl.col("psi"), config).alias("level"))
    )
    parts = [
        frame.filter(pl.col("kind") == "score"),
        frame.filter(pl.col("kind") == "feature").sort(
            ["psi", "column"], descending=[True, False], nulls_last=True
        ),
    ]
    if macro is not None and as_of is not None and macro.height:
        moves = macro_moves(macro, as_of, config)
        parts.append(
            moves.select(
                "column",
                pl.lit("macro").alias("kind"),
                pl.lit(None, pl.Float64).alias("psi"),
                "z",
                z_levels(pl.col("z"), config).alias("level"),
            ).sort(pl.col("z").abs(), "column", descending=[True, False], nulls_last=True)
        )
    return DriftReport(pl.concat(parts), config)
