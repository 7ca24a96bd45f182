"""Segment assignment: every scored customer gets exactly one segment and its ladder.

Four dimensions are coded as small integers with vectorised comparisons (a value's band
is the number of band lower bounds it reaches, minus one), combined into one code, and
looked up in a table built once from the config's first-match rules. No Python runs per
customer, so a million customers take well under a second.

Inputs, one row per customer: `customer_id`, `pd`, `propensity`, `open_balance` and the
recurrence features (`late_chronic`, `dpd_now`, `paid_late_count_365` from
`features.build`). Conventions:
- `pd` is required and must lie in [0, 1]: a customer without a PD was not scored;
- a null `propensity` (nothing overdue, so no propensity score) takes the config's
  `missing_propensity` band;
- a null `open_balance` counts as 0, and a negative one (a credit in the customer's
  favour) falls in the lowest exposure band;
- null recurrence features count as "no lateness".
"""

from __future__ import annotations

import itertools

import polars as pl

from regua.config.dunning import DIMENSIONS, RECURRENCE, Band, SegmentsConfig

PD, PROPENSITY, BALANCE, CUSTOMER = "pd", "propensity", "open_balance", "customer_id"
RECURRENCE_INPUTS: tuple[str, ...] = ("late_chronic", "dpd_now", "paid_late_count_365")
REQUIRED: tuple[str, ...] = (CUSTOMER, PD, PROPENSITY, BALANCE, *RECURRENCE_INPUTS)
OUTPUT: tuple[str, ...] = (
    CUSTOMER,
    "risk_band",
    "propensity_band",
    "recurrence",
    "exposure_band",
    "segment",
    "ladder_id",
)
_LABEL_COLUMNS = dict(zip(DIMENSIONS, OUTPUT[1:5], strict=True))


def recurrence_code() -> pl.Expr:
    """Index into RECURRENCE: 2 chronic, 1 first_time_late, 0 never_late (365-day window).

    chronic: `late_chronic` (3 or more invoices that matured in the last 365 days were
    paid late or are still overdue). first_time_late: not chronic, but overdue now
    (`dpd_now` > 0) or with a late-paid invoice in the last 365 days
    (`paid_late_count_365` > 0); it contains the catalog's `late_first_time` (overdue now,
    clean year) and the occasional lateness below the chronic threshold. never_late:
    neither overdue now nor paid late in the last 365 days. Chronic wins when the catalog
    flags both (three or more invoices overdue at once, none of them paid late yet).
    """
    chronic = pl.col("late_chronic").cast(pl.Boolean).fill_null(False)
    late = (pl.col("dpd_now").fill_null(0) > 0) | (pl.col("paid_late_count_365").fill_null(0) > 0)
    return pl.when(chronic).then(2).when(late).then(1).otherwise(0).cast(pl.UInt8)


def recurrence() -> pl.Expr:
    """The recurrence label (never_late, first_time_late, chronic) of each customer."""
    return recurrence_code().replace_strict(
        list(range(len(RECURRENCE))), list(RECURRENCE), return_dtype=pl.String
    )


def band_code(value: pl.Expr, bands: tuple[Band, ...]) -> pl.Expr:
    """Band index of each value: the lower bounds it reaches after the first; null stays null."""
    reached = [(value >= band.lower).cast(pl.UInt8) for band in bands[1:]]
    return pl.when(value.is_not_null()).then(pl.sum_horizontal(pl.lit(0, pl.UInt8), *reached))


def segment_table(config: SegmentsConfig) -> pl.DataFrame:
    """Every band combination with its code, labels, segment and ladder (first rule wins)."""
    names = [config.bands.names(d) for d in DIMENSIONS]
    rows = [dict(zip(DIMENSIONS, values, strict=True)) for values in itertools.product(*names)]
    segments = [config.segment_for(row) for row in rows]
    return pl.DataFrame(
        {
            "code": pl.Series(range(len(rows)), dtype=pl.UInt32),
            **{_LABEL_COLUMNS[d]: [row[d] for row in rows] for d in DIMENSIONS},
            "segment": segments,
            "ladder_id": [config.segments[s].ladder for s in segments],
        }
    )


def _check_inputs(frame: pl.DataFrame) -> None:
    """Refuse rows that cannot get a well-defined segment, naming the column and a customer."""
    pd_, propensity = pl.col(PD), pl.col(PROPENSITY)
    problems = {
        f"{CUSTOMER} must be present": pl.col(CUSTOMER).is_null(),
        f"{CUSTOMER} must be unique": pl.col(CUSTOMER).is_duplicated(),
        f"{PD} must be a number in [0, 1]": (
            pd_.is_null() | pd_.is_nan() | (pd_ < 0) | (pd_ > 1)
        ).fill_null(True),
        f"{PROPENSITY} must be null or in [0, 1]": (
            propensity.is_nan() | (propensity < 0) | (propensity > 1)
        ).fill_null(False),
        f"{BALANCE} must not be NaN": pl.col(BALANCE).is_nan().fill_null(False),
    }
    checks = list(problems.items())
    counts = frame.select(expr.sum().alias(str(i)) for i, (_, expr) in enumerate(checks)).row(0)
    for (rule, expr), count in zip(checks, counts, strict=True):
        if count:
            first = frame.filter(expr).item(0, CUSTOMER)
            raise ValueError(f"scored customers: {rule}; {count} row(s) are not (first: {first!r})")


def assign_segments(scored: pl.DataFrame | pl.LazyFrame, config: SegmentsConfig) -> pl.DataFrame:
    """One segment and ladder per customer (input order kept), from scores and lateness."""
    lazy = scored.lazy()
    missing = [c for c in REQUIRED if c not in lazy.collect_schema()]
    if missing:
        raise ValueError(f"scored customers: missing column(s) {', '.join(missing)}")
    bands = config.bands
    sizes = [len(bands.names(d)) for d in DIMENSIONS]
    missing_propensity = bands.names("propensity").index(config.missing_propensity)
    pd_, propensity = pl.col(PD).cast(pl.Float64), pl.col(PROPENSITY).cast(pl.Float64)
    balance = pl.col(BALANCE).cast(pl.Float64).fill_null(0.0)
    frame = lazy.select(
        CUSTOMER,
        pd_,
        propensity,
        balance,
        band_code(pd_, bands.risk).alias("_risk"),
        band_code(propensity, bands.propensity).fill_null(missing_propensity).alias("_propensity"),
        recurrence_code().alias("_recurrence"),
        band_code(balance, bands.exposure).alias("_exposure"),
    ).collect()
    _check_inputs(frame)
    code = pl.lit(0, dtype=pl.UInt32)
    for dimension, size in zip(DIMENSIONS, sizes, strict=True):
        code = code * size + pl.col(f"_{dimension}").cast(pl.UInt32)
    table = segment_table(config)
    lookups = [
        pl.col("_code")
        .replace_strict(table["code"], table[name], return_dtype=pl.String)
        .alias(name)
        for name in OUTPUT[1:]
    ]
    return frame.lazy().with_columns(code.alias("_code")).select(CUSTOMER, *lookups).collect()
