"""The validation pack's tables: what a credit-risk validator reads before signing a model.

Pure functions over a training result's out-of-time rows (`TrainingResult.test_scores`
joined with `test_features`): discrimination and calibration by month, by days-past-due
bucket at as_of, by product, by PF/PJ and by UF; the stability of the score by month
(PSI against the training sample); the model against its scorecard and a bureau-score-only
benchmark; the population and its exclusions; importance by 5 C's group; monotonicity; and
fairness by age band and region with the disparate impact ratio. Only aggregates: no
customer's row leaves these functions. The HTML page is `reports.validation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.metrics import roc_auc_score

from regua.models.drift import population_stability, same_part_of_month
from regua.models.metrics import expected_calibration_error, ks_statistic
from regua.models.train import TrainingResult

MIN_SEGMENT_ROWS = 30
"""Segments with fewer rows (or a single outcome) show counts but no AUC, KS or ECE."""

DPD_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
AGE_BANDS = (
    (0, 25, "até 25"),
    (25, 35, "25-34"),
    (35, 45, "35-44"),
    (45, 60, "45-59"),
    (60, 200, "60+"),
)
REGIONS: dict[str, str] = {
    **dict.fromkeys(("AC", "AM", "AP", "PA", "RO", "RR", "TO"), "Norte"),
    **dict.fromkeys(("AL", "BA", "CE", "MA", "PB", "PE", "PI", "RN", "SE"), "Nordeste"),
    **dict.fromkeys(("DF", "GO", "MS", "MT"), "Centro-Oeste"),
    **dict.fromkeys(("ES", "MG", "RJ", "SP"), "Sudeste"),
    **dict.fromkeys(("PR", "RS", "SC"), "Sul"),
}
"""The IBGE macro-regions of the 27 UFs."""
DISPARATE_IMPACT_FLOOR = 0.8
"""The four-fifths rule: a group approved at under 80% of the best group's rate is flagged."""


def _figures(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    both = len(y) >= MIN_SEGMENT_ROWS and 0 < y.sum() < len(y)
    auc = float(roc_auc_score(y, p)) if both else None
    return {
        "auc": auc,
        "gini": None if auc is None else 2 * auc - 1,
        "ks": ks_statistic(y, p) if both else None,
        "ece": expected_calibration_error(y, p) if both else None,
    }


def by_segment(rows: pl.DataFrame, segment: str, score: str = "score") -> pl.DataFrame:
    """Rows, outcome rate, mean score, AUC, Gini, KS and ECE per value of `segment`."""
    out = []
    for (value,), part in rows.group_by(segment, maintain_order=False):
        y, p = part["label"].to_numpy().astype(float), part[score].to_numpy()
        out.append(
            {
                "segment": "(vazio)" if value is None else str(value),
                "rows": part.height,
                "outcome_rate": float(y.mean()),
                "mean_score": float(p.mean()),
                **_figures(y, p),
            }
        )
    schema = {"segment": pl.String, "rows": pl.Int64, "outcome_rate": pl.Float64,
              "mean_score": pl.Float64, "auc": pl.Float64, "gini": pl.Float64,
              "ks": pl.Float64, "ece": pl.Float64}  # fmt: skip
    return pl.DataFrame(out, schema=schema).sort("segment")


def dpd_bucket() -> pl.Expr:
    """The days-past-due bucket at as_of, from the `dpd_now` feature."""
    dpd = pl.col("dpd_now").fill_null(0)
    return (
        pl.when(dpd <= 0).then(pl.lit(DPD_BUCKETS[0]))
        .when(dpd <= 30).then(pl.lit(DPD_BUCKETS[1]))
        .when(dpd <= 60).then(pl.lit(DPD_BUCKETS[2]))
        .when(dpd <= 90).then(pl.lit(DPD_BUCKETS[3]))
        .otherwise(pl.lit(DPD_BUCKETS[4]))
    )  # fmt: skip


def age_band() -> pl.Expr:
    """The age band of a person (PF); companies (PJ) form their own band."""
    age = pl.col("age_years")
    expr = pl.when(pl.col("kind").cast(pl.String) == "PJ").then(pl.lit("PJ"))
    for low, high, name in AGE_BANDS:
        expr = expr.when((age >= low) & (age < high)).then(pl.lit(name))
    return expr.otherwise(pl.lit("(não informada)"))


def region() -> pl.Expr:
    """The IBGE macro-region of the customer's UF."""
    return pl.col("state").cast(pl.String).replace_strict(REGIONS, default="(não informada)")


def scored_rows(result: TrainingResult) -> pl.DataFrame:
    """The out-of-time rows with label, score, scorecard score and the segmenting columns."""
    if result.test_features is None:
        raise ValueError("the training result kept no out-of-time features")
    features = result.test_features.select(
        "customer_id", "as_of", "dpd_now", "kind", "state", "main_product", "age_years",
        "bureau_score",
    )  # fmt: skip
    return result.test_scores.join(features, on=["customer_id", "as_of"], how="left").with_columns(
        pl.col("as_of").dt.strftime("%Y-%m").alias("month"),
        dpd_bucket().alias("dpd_bucket"),
        pl.col("kind").cast(pl.String).alias("pf_pj"),
        pl.col("state").cast(pl.String).alias("uf"),
        pl.col("main_product").cast(pl.String).alias("product"),
        age_band().alias("age_band"),
        region().alias("region"),
    )


def benchmarks(rows: pl.DataFrame) -> pl.DataFrame:
    """The model against its scorecard and a bureau-score-only benchmark, on the same rows."""
    y = rows["label"].to_numpy().astype(float)
    out = []
    candidates = [("modelo", rows["score"]), ("scorecard", rows["baseline_score"])]
    bureau = rows["bureau_score"]
    if bureau.null_count() < rows.height:
        # higher bureau score, lower risk: its negative ranks like a PD (missing: the median)
        candidates.append(("só score de bureau", -bureau.fill_null(bureau.median())))
    for name, score in candidates:
        p = score.to_numpy().astype(float)
        auc = float(roc_auc_score(y, p))
        out.append({"model": name, "auc": auc, "gini": 2 * auc - 1, "ks": ks_statistic(y, p)})
    return pl.DataFrame(out)


def psi_by_month(rows: pl.DataFrame, reference: pl.DataFrame | None) -> pl.DataFrame:
    """PSI of each out-of-time month's scores against the training sample's."""
    schema = {"month": pl.String, "rows": pl.Int64, "psi": pl.Float64}
    if reference is None:
        return pl.DataFrame(schema=schema)
    out = [
        {"month": month, "rows": part.height,
         "psi": population_stability(
             same_part_of_month(reference, part["as_of"].max())["score"], part["score"])}
        for (month,), part in rows.group_by("month")
    ]  # fmt: skip
    return pl.DataFrame(out, schema=schema).sort("month")


def population(result: TrainingResult) -> pl.DataFrame:
    """Customers known, labelled and left out per snapshot, and which side of the split."""
    if result.population is None:
        return pl.DataFrame()
    # population counts are per month (as_of = the month-end); training days are spread
    test = pl.Series(result.test_dates, dtype=pl.Date).dt.month_end().implode()
    train = pl.Series(result.train_dates, dtype=pl.Date).dt.month_end().implode()
    return result.population.with_columns(
        pl.when(pl.col("as_of").is_in(test))
        .then(pl.lit("out-of-time"))
        .when(pl.col("as_of").is_in(train))
        .then(pl.lit("training"))
        .otherwise(pl.lit("embargo"))  # label window reaching into the test period
        .alias("used_for")
    )


def monotonicity(result: TrainingResult) -> pl.DataFrame:
    """Each constrained feature, its direction and the violations found on the fitted model."""
    constraints = result.model.monotone or {}
    found = result.model.monotonicity_violations_
    return pl.DataFrame(
        [
            {"feature": name, "direction": int(direction), "violations": int(found.get(name, 0))}
            for name, direction in sorted(constraints.items())
            if direction
        ],
        schema={"feature": pl.String, "direction": pl.Int64, "violations": pl.Int64},
    )


def approval(kind: str) -> tuple[pl.Expr, str]:
    """Who counts as approved for the fairness table, and how the page says it."""
    if kind == "delinquency":
        return pl.col("score") <= APPROVAL_PD, f"PD até {APPROVAL_PD:.0%}"
    return pl.col("score") >= APPROVAL_PROPENSITY, f"propensão de {APPROVAL_PROPENSITY:.0%} ou mais"


APPROVAL_PD = 0.10
APPROVAL_PROPENSITY = 0.50
"""The cut-offs the fairness table reads as approval (a PD cut-off as limits and segments use)."""


def fairness(rows: pl.DataFrame, kind: str, attribute: str) -> pl.DataFrame:
    """Mean score, outcome rate and approval rate per group, with the disparate impact ratio.

    The ratio is a group's approval rate over the highest group's; under 0.8 (the
    four-fifths rule) the group is flagged. Age and UF are model features: this is where
    their effect on people is shown, not hidden.
    """
    approved, _ = approval(kind)
    table = (
        rows.group_by(pl.col(attribute).alias("group"))
        .agg(
            pl.len().alias("rows"),
            pl.col("score").mean().alias("mean_score"),
            pl.col("label").mean().alias("outcome_rate"),
            approved.mean().alias("approval_rate"),
        )
        .sort("group")
    )
    best = table["approval_rate"].max()
    ratio = table["approval_rate"] / best if best else pl.Series([None] * table.height)
    return table.with_columns(
        ratio.alias("disparate_impact"),
        (ratio < DISPARATE_IMPACT_FLOOR).alias("flagged"),
    ).with_columns(pl.lit(attribute).alias("attribute"))


@dataclass(frozen=True)
class ValidationPack:
    """Every table of the pack, keyed by name, with the approval rule the fairness reads."""

    kind: str
    tables: dict[str, pl.DataFrame]
    approval_rule: str

    def headline(self) -> dict[str, float]:
        """A few numbers for the top of the page and MLflow."""
        bench = self.tables["benchmarks"]
        flagged = self.tables["fairness"]["flagged"].fill_null(False).sum()
        psi = self.tables["psi_by_month"]["psi"]
        return {
            "auc": float(bench["auc"][0]),
            "worst_psi": float(psi.max()) if psi.len() and psi.max() is not None else math.nan,
            "fairness_flags": float(flagged),
        }


def validation_pack(result: TrainingResult) -> ValidationPack:
    """All the pack's tables for one trained model."""
    rows = scored_rows(result)
    segments = {
        "by_month": "month",
        "by_dpd_bucket": "dpd_bucket",
        "by_product": "product",
        "by_pf_pj": "pf_pj",
        "by_uf": "uf",
    }
    tables = {name: by_segment(rows, column) for name, column in segments.items()}
    tables["psi_by_month"] = psi_by_month(rows, result.reference_sample)
    tables["benchmarks"] = benchmarks(rows)
    tables["population"] = population(result)
    tables["group_importance"] = result.group_importance
    tables["monotonicity"] = monotonicity(result)
    tables["fairness"] = pl.concat(
        [fairness(rows, result.spec.kind, "age_band"), fairness(rows, result.spec.kind, "region")]
    ).select("attribute", "group", "rows", "mean_score", "outcome_rate", "approval_rate",
             "disparate_impact", "flagged")  # fmt: skip
    return ValidationPack(result.spec.kind, tables, approval(result.spec.kind)[1])
