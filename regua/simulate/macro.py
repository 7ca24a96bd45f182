"""Monthly macro conditions: national and regional unemployment, Selic, IPCA, default rate.

The path has a shock: from 40% into the history, unemployment climbs about 3.5 points
over two months, stays there for a sixth of the history (at least two months) and falls
back over four. Each UF moves with the national figure around its own baseline.
Conditions enter each customer's latent risk as `CONDITIONS_PER_POINT` log-odds per
point of regional unemployment above its baseline (plus a little for the Selic), scaled
by how exposed the customer's income is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from regua.contract import MACRO, UFS
from regua.simulate.calendar import POST_MONTHS, PRE_MONTHS, Calendar
from regua.simulate.geography import NATIONAL_UNEMPLOYMENT, UF_UNEMPLOYMENT

SHOCK_POINTS = 3.5
SHOCK_START_SHARE = 0.4
CONDITIONS_PER_POINT = 0.25
CONDITIONS_PER_SELIC_POINT = 0.04
SELIC_REFERENCE = 10.5
SHOCK_FLAG_LEVEL = 0.5


@dataclass(frozen=True)
class MacroPath:
    """Indicator values for month index -PRE_MONTHS .. months + POST_MONTHS - 1."""

    months: np.ndarray
    shock: np.ndarray  # 0..1 intensity of the shock in each month
    unemployment: np.ndarray  # national, percent
    selic: np.ndarray
    ipca: np.ndarray  # 12-month inflation, percent
    default_rate: np.ndarray  # national share of adults in default, percent
    income_growth: np.ndarray  # real income growth over 12 months, percent
    unemployment_uf: np.ndarray  # (27, months)
    default_rate_uf: np.ndarray  # (27, months)

    def at(self, month: np.ndarray | int) -> np.ndarray:
        """Column positions of month indices in the path arrays."""
        return np.asarray(month) + PRE_MONTHS

    def conditions(self) -> np.ndarray:
        """Log-odds added to a fully exposed customer's risk, by UF and month: (27, months)."""
        return CONDITIONS_PER_POINT * (
            self.unemployment_uf - UF_UNEMPLOYMENT[:, None]
        ) + CONDITIONS_PER_SELIC_POINT * (self.selic - SELIC_REFERENCE)


def shock_profile(months: int) -> np.ndarray:
    """Shock intensity (0..1) for month index -PRE_MONTHS .. months + POST_MONTHS - 1."""
    index = np.arange(-PRE_MONTHS, months + POST_MONTHS)
    start = round(SHOCK_START_SHARE * months)
    plateau = max(2, months // 6)
    rise = np.clip((index - start + 1) / 2, 0, 1)
    fall = np.clip(1 - (index - (start + 2 + plateau) + 1) / 5, 0, 1)
    return np.minimum(rise, fall)


def _ar1(rng: np.random.Generator, shape: tuple[int, ...], phi: float, sd: float) -> np.ndarray:
    noise = rng.normal(0.0, sd, size=shape)
    out = np.empty(shape)
    out[..., 0] = noise[..., 0] / np.sqrt(1 - phi**2)
    for t in range(1, shape[-1]):
        out[..., t] = phi * out[..., t - 1] + noise[..., t]
    return out


def simulate_macro(months: int, rng: np.random.Generator) -> MacroPath:
    """A macro path with one unemployment shock, national and by UF."""
    n = PRE_MONTHS + months + POST_MONTHS
    shock = shock_profile(months)
    national_gap = _ar1(rng, (n,), 0.85, 0.08) + SHOCK_POINTS * shock - 0.02 * np.arange(n) / 12
    unemployment = NATIONAL_UNEMPLOYMENT + national_gap
    exposure = rng.uniform(0.8, 1.25, size=(len(UFS), 1))
    unemployment_uf = (
        UF_UNEMPLOYMENT[:, None] + exposure * national_gap + _ar1(rng, (len(UFS), n), 0.7, 0.08)
    )
    moves = rng.choice([-0.5, -0.25, 0.0, 0.0, 0.25, 0.5], size=n) * (rng.random(n) < 0.66)
    selic = np.empty(n)
    level = SELIC_REFERENCE + rng.normal(0, 0.75)
    for t in range(n):
        level = float(np.clip(level + moves[t] + 0.05 * (SELIC_REFERENCE - level), 2.0, 15.0))
        selic[t] = round(level * 4) / 4
    ipca = 4.5 + _ar1(rng, (n,), 0.9, 0.12) + 0.15 * shock
    lagged_gap = np.concatenate([[national_gap[0]], national_gap[:-1]])
    default_rate = 3.2 + 0.45 * lagged_gap + _ar1(rng, (n,), 0.8, 0.03)
    uf_gap = unemployment_uf - UF_UNEMPLOYMENT[:, None]
    uf_lagged = np.concatenate([uf_gap[:, :1], uf_gap[:, :-1]], axis=1)
    default_rate_uf = (
        3.2 * np.sqrt(UF_UNEMPLOYMENT / NATIONAL_UNEMPLOYMENT)[:, None]
        + 0.45 * uf_lagged
        + _ar1(rng, (len(UFS), n), 0.8, 0.05)
    )
    income_growth = 1.8 - 0.7 * national_gap + _ar1(rng, (n,), 0.8, 0.2)
    return MacroPath(
        months=np.arange(-PRE_MONTHS, months + POST_MONTHS),
        shock=shock,
        unemployment=unemployment,
        selic=selic,
        ipca=ipca,
        default_rate=default_rate,
        income_growth=income_growth,
        unemployment_uf=unemployment_uf,
        default_rate_uf=default_rate_uf,
    )


def macro_frame(path: MacroPath, calendar: Calendar) -> pl.DataFrame:
    """The macro export: months before and during the history, national and by UF."""
    written = np.arange(-PRE_MONTHS, calendar.months)
    cols = path.at(written)
    month_days = calendar.start(written)
    parts = []
    national = {
        "unemployment": path.unemployment,
        "selic": path.selic,
        "ipca": path.ipca,
        "default_rate": path.default_rate,
        "income_growth": path.income_growth,
    }
    for indicator, values in national.items():
        parts.append((month_days, indicator, values[cols], "BR"))
    regional = {"unemployment": path.unemployment_uf, "default_rate": path.default_rate_uf}
    for indicator, table in regional.items():
        for row, uf in enumerate(UFS):
            parts.append((month_days, indicator, table[row, cols], uf))
    frame = pl.DataFrame(
        {
            "month": np.concatenate([p[0] for p in parts]),
            "indicator": np.concatenate([np.full(len(p[0]), p[1]) for p in parts]),
            "value": np.round(np.concatenate([p[2] for p in parts]), 2),
            "region": np.concatenate([np.full(len(p[0]), p[3]) for p in parts]),
        }
    )
    return (
        frame.with_columns(pl.col("month").cast(pl.Int32).cast(pl.Date))
        .sort("month", "indicator", "region")
        .select(MACRO.names)
    )
