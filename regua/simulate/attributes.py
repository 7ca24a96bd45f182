"""Dated customer attributes: the bureau score, limit, income and employment as they evolve.

The customers export is a snapshot at the export date; `customer_attributes` is the
history behind it (issue 19), one row per customer and change, each valid from its
`valid_from` on. A block of customers gets:

- a first row on the later of its opening day and the first day of the history, with
  the values drawn at the start (regua.simulate.customers);
- reactions to delinquency, reported by the bureau and the lender with a delay: an
  event of the chain's step u (regua.simulate.risk) shows on a day of month u + 2 (the
  customer's reporting day, the 1st to the 20th), always after the event itself (the
  bill of month u - 1 reaching 60 days past due, or the bill of month u - 2 reaching 90,
  both fall before month u + 2). Entering 60+ days past due (dpd60, default, an agreement
  or a charge-off, from any other state) drops the bureau score by 100 to 250 points; once
  cured (current, recovering or closed) it recovers a quarter of the gap to the score before
  the drop each month. Default (90+ days) cuts the limit to 30%; a charge-off to 0;
  neither is restored;
- income revised once a year on the customer's reporting day of the anniversary month (by
  the macro path's real income growth plus inflation, with noise);
- job loss under macro stress (people employed, self-employed or informal): a monthly
  hazard that triples for every 3.2 points of the UF's unemployment above its normal;
  the job lost, income falls to 35% and the tenure is unknown; a new job (1/8 a month)
  brings back the former income and type with tenure 0.

Employment tenure is stored as the tenure on valid_from (features add the months since).
The latent risk is untouched: the attributes react to the chain; they do not drive it.
Rows are written only when some value changes, up to the export date. Vectorised over
customers, one step per month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from regua.contract import ATTRIBUTE_COLUMNS, EMPLOYMENT_TYPES, table
from regua.simulate.calendar import Calendar
from regua.simulate.customers import CustomerBlock
from regua.simulate.geography import UF_UNEMPLOYMENT
from regua.simulate.macro import MacroPath
from regua.simulate.risk import (
    AGREEMENT_1,
    AGREEMENT_LAST,
    CHARGED_OFF,
    CURRENT,
    DEFAULT,
    LATE_60,
    RECOVERING,
    SETTLED,
)

REPORT_LAG_MONTHS = 2
"""An event of step u shows on a day of month u + 2."""
SCORE_DROP = (100, 250)
SCORE_RECOVERY = 0.25
"""Share of the gap to the pre-drop score recovered each month once cured."""
LIMIT_AFTER_DEFAULT = 0.30
JOB_LOSS_HAZARD = 0.002
"""Monthly chance of losing the job with the UF's unemployment at its normal level."""
JOB_LOSS_PER_POINT = np.log(3) / 3.2
INCOME_AFTER_JOB_LOSS = 0.35
REEMPLOYMENT = 1 / 8
DAYS_PER_MONTH = 30.4375
_AT_RISK_OF_JOB_LOSS = tuple(
    EMPLOYMENT_TYPES.index(e) for e in ("clt", "self_employed", "informal")
)
_UNEMPLOYED = EMPLOYMENT_TYPES.index("unemployed")
_NO_TYPE = -1


@dataclass(frozen=True)
class AttributeHistory:
    """The attribute rows of a block and the customers export with the export-date values."""

    rows: pl.DataFrame
    customers: pl.DataFrame


def _is_60_plus(states: np.ndarray) -> np.ndarray:
    return (
        (states == LATE_60)
        | (states == DEFAULT)
        | (states == CHARGED_OFF)
        | ((states >= AGREEMENT_1) & (states <= AGREEMENT_LAST))
    )


def _cured(states: np.ndarray) -> np.ndarray:
    return (states == CURRENT) | (states == RECOVERING) | (states == SETTLED)


def attribute_history(
    customers: CustomerBlock,
    frame: pl.DataFrame,
    states: np.ndarray,
    prev: np.ndarray,
    path: MacroPath,
    calendar: Calendar,
    rng: np.random.Generator,
) -> AttributeHistory:
    """Dated rows of the evolving attributes of one block, and `frame` (the customers export)
    with those attributes as they stand on the export date."""
    n, months = states.shape
    step = np.where(customers.is_pj, 500.0, 50.0)
    score = frame["bureau_score"].cast(pl.Float64).to_numpy().copy()  # NaN: thin file
    limit = frame["credit_limit"].to_numpy().astype(float).copy()
    income = frame["declared_income"].cast(pl.Float64).to_numpy().copy()
    debt = frame["monthly_debt_obligations"].cast(pl.Float64).to_numpy().copy()
    codes = {name: code for code, name in enumerate(EMPLOYMENT_TYPES)}
    kind = (
        frame["employment_type"]
        .replace_strict(codes, default=_NO_TYPE, return_dtype=pl.Int64)
        .fill_null(_NO_TYPE)
        .to_numpy()
    )
    tenure = frame["employment_tenure_months"].cast(pl.Float64).to_numpy().copy()

    opened = frame["opened_at"].cast(pl.Int32).to_numpy()
    first_day = np.maximum(opened, calendar.history_start)
    report_day = rng.integers(0, 20, size=n)
    anniversary = rng.integers(0, 12, size=n)
    drops = rng.uniform(*SCORE_DROP, size=(n, months))
    income_noise = rng.normal(0, 0.08, size=(n, months))
    job_draws = rng.random((n, months))

    base_score = score.copy()  # the score before the latest drop
    former_income = income.copy()
    former_kind = kind.copy()
    tenure_day = first_day.astype(float)  # the day `tenure` refers to
    delinquent = _is_60_plus(prev[:, 0])
    cut = np.zeros(n, dtype=bool)
    pieces = [_rows(customers.ids, first_day, score, limit, income, kind, tenure, debt)]
    for m in range(1, months):
        day = calendar.start(m) + report_day
        live = (day > first_day) & (day <= calendar.end_day)
        if not live.any():
            continue
        old = (score.copy(), limit.copy(), income.copy(), kind.copy(), tenure.copy())
        u = m - REPORT_LAG_MONTHS
        if u >= 0:
            now = states[:, u]
            entering = _is_60_plus(now) & ~delinquent & live
            base_score = np.where(entering, score, base_score)
            score = np.where(entering, np.maximum(score - np.round(drops[:, u]), 0), score)
            delinquent = np.where(live, _is_60_plus(now), delinquent)
            healing = live & _cured(now) & (score < base_score)
            gap = base_score - score
            score = np.where(
                healing,
                np.where(gap <= 5, base_score, score + np.round(SCORE_RECOVERY * gap)),
                score,
            )
            default = live & (now == DEFAULT) & ~cut
            limit = np.where(default, np.round(limit * LIMIT_AFTER_DEFAULT / step) * step, limit)
            cut |= default
            limit = np.where(live & (now == CHARGED_OFF), 0.0, limit)
        col = path.at(m)
        yearly = live & ((m % 12) == anniversary) & (kind != _UNEMPLOYED)
        growth = (path.income_growth[col] + path.ipca[col]) / 100
        raised = np.round(income * np.exp(growth + income_noise[:, m]) / step) * step
        income = np.where(yearly, np.maximum(raised, step), income)
        stress = path.unemployment_uf[customers.uf, col] - UF_UNEMPLOYMENT[customers.uf]
        hazard = JOB_LOSS_HAZARD * np.exp(JOB_LOSS_PER_POINT * stress)
        exposed = live & ~customers.is_pj & np.isin(kind, _AT_RISK_OF_JOB_LOSS)
        loses = exposed & (job_draws[:, m] < hazard)
        lost_before = live & (kind == _UNEMPLOYED) & (former_kind != _UNEMPLOYED)
        rehired = lost_before & (former_kind != _NO_TYPE) & (job_draws[:, m] < REEMPLOYMENT)
        former_income = np.where(loses, income, former_income)
        former_kind = np.where(loses, kind, former_kind)
        income = np.where(loses, np.round(income * INCOME_AFTER_JOB_LOSS / step) * step, income)
        income = np.where(rehired, former_income, income)
        kind = np.where(loses, _UNEMPLOYED, np.where(rehired, former_kind, kind))
        tenure = np.where(loses, np.nan, np.where(rehired, 0.0, tenure))
        changed = live & ~(
            _same(score, old[0])
            & _same(limit, old[1])
            & _same(income, old[2])
            & (kind == old[3])
            & _same(tenure, old[4])
        )
        if changed.any():
            # the row carries the tenure on its own day (kept exact, written in whole months)
            elapsed = (day - tenure_day) / DAYS_PER_MONTH
            tenure = np.where(changed & ~(loses | rehired), tenure + elapsed, tenure)
            tenure_day = np.where(changed, day, tenure_day)
            pick = np.flatnonzero(changed)
            pieces.append(
                _rows(
                    customers.ids.gather(pick),
                    day[pick],
                    score[pick],
                    limit[pick],
                    income[pick],
                    kind[pick],
                    np.floor(tenure[pick]),
                    debt[pick],
                )
            )
    rows = pl.concat(pieces).sort("customer_id", "valid_from")
    at_end_tenure = np.floor(tenure + (calendar.end_day - tenure_day) / DAYS_PER_MONTH)
    at_end = _rows(customers.ids, first_day, score, limit, income, kind, at_end_tenure, debt)
    snapshot = frame.with_columns(at_end.select(ATTRIBUTE_COLUMNS))
    return AttributeHistory(rows=rows, customers=snapshot)


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _rows(
    ids: pl.Series,
    day: np.ndarray,
    score: np.ndarray,
    limit: np.ndarray,
    income: np.ndarray,
    kind: np.ndarray,
    tenure: np.ndarray,
    debt: np.ndarray,
) -> pl.DataFrame:
    schema = table("customer_attributes").schema
    kinds = pl.Series(EMPLOYMENT_TYPES).gather(np.maximum(kind, 0))
    return (
        pl.DataFrame(
            {
                "customer_id": ids,
                "valid_from": np.asarray(day, dtype=np.int32),
                "bureau_score": score,
                "credit_limit": limit,
                "declared_income": income,
                "employment_type": pl.select(
                    pl.when(pl.Series(kind) == _NO_TYPE).then(None).otherwise(kinds)
                ).to_series(),
                "employment_tenure_months": tenure,
                "monthly_debt_obligations": debt,
            },
            nan_to_null=True,
        )
        .with_columns(
            pl.col("valid_from").cast(pl.Date),
            pl.col("bureau_score").cast(pl.Int32),
            pl.col("employment_tenure_months").cast(pl.Int32),
        )
        .select(schema.names())
        .cast(dict(schema))
    )
