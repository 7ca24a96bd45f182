"""Where and when a customer lives: UF time zones and national plus state holidays as frames.

Brazil has four UTC offsets (-2 to -5) and no daylight saving time since 2019. Each UF is
mapped to the IANA zone of its capital; the few municipalities on another offset (western
Amazonas on America/Eirunepe, Fernando de Noronha in PE) are not told apart, because the
store knows the UF, not the municipality's zone.

The holiday table also holds the no-contact days of config/guardrails.yaml (Carnival Monday
and Tuesday, Christmas Eve, New Year's Eve): not holidays by law but "pontos facultativos",
picked one by one because the `holidays` package's "optional" category lumps them together
with Ash Wednesday, Corpus Christi and Public Servant's Day. Carnival comes from Easter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays
import polars as pl

from regua.config.guardrails import NO_CONTACT_DAYS
from regua.contract import UFS

UF_TIMEZONES: dict[str, str] = {
    "AC": "America/Rio_Branco",  # UTC-5
    "AL": "America/Maceio",
    "AM": "America/Manaus",  # UTC-4
    "AP": "America/Belem",
    "BA": "America/Bahia",
    "CE": "America/Fortaleza",
    "DF": "America/Sao_Paulo",
    "ES": "America/Sao_Paulo",
    "GO": "America/Sao_Paulo",
    "MA": "America/Fortaleza",
    "MG": "America/Sao_Paulo",
    "MS": "America/Campo_Grande",  # UTC-4
    "MT": "America/Cuiaba",  # UTC-4
    "PA": "America/Belem",
    "PB": "America/Fortaleza",
    "PE": "America/Recife",
    "PI": "America/Fortaleza",
    "PR": "America/Sao_Paulo",
    "RJ": "America/Sao_Paulo",
    "RN": "America/Fortaleza",
    "RO": "America/Porto_Velho",  # UTC-4
    "RR": "America/Boa_Vista",  # UTC-4
    "RS": "America/Sao_Paulo",
    "SC": "America/Sao_Paulo",
    "SE": "America/Maceio",
    "SP": "America/Sao_Paulo",
    "TO": "America/Araguaina",
}
"""IANA time zone of each UF's capital (all others are UTC-3)."""

HOLIDAY_SCHEMA = pl.Schema({"uf": pl.String(), "date": pl.Date(), "holiday": pl.String()})


def easter_sunday(year: int) -> date:
    """Western (Gregorian) Easter Sunday of `year`: the anonymous Gregorian algorithm."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    j = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * j) // 451
    month, day = divmod(h + j - 7 * m + 114, 31)
    return date(year, month, day + 1)


_NO_CONTACT_RULES: dict[str, tuple[str, Callable[[int], date]]] = {
    "carnival_monday": ("Carnival Monday", lambda y: easter_sunday(y) - timedelta(days=48)),
    "carnival_tuesday": ("Carnival Tuesday", lambda y: easter_sunday(y) - timedelta(days=47)),
    "christmas_eve": ("Christmas Eve", lambda y: date(y, 12, 24)),
    "new_years_eve": ("New Year's Eve", lambda y: date(y, 12, 31)),
}


def no_contact_dates(years: Iterable[int], names: Iterable[str]) -> dict[date, str]:
    """The dates of the named no-contact days (see NO_CONTACT_DAYS) in `years`."""
    unknown = sorted(set(names) - set(_NO_CONTACT_RULES))
    if unknown:
        raise ValueError(f"unknown no-contact days {unknown} (known: {list(NO_CONTACT_DAYS)})")
    return {
        rule(year): label
        for year in years
        for label, rule in (_NO_CONTACT_RULES[name] for name in names)
    }


def uf_timezone(uf: pl.Expr) -> pl.Expr:
    """The IANA zone of each UF in `uf` (null for anything that is not a UF)."""
    return uf.replace_strict(UF_TIMEZONES, default=None, return_dtype=pl.String())


@lru_cache(maxsize=32)
def holiday_table(
    years: tuple[int, ...],
    categories: tuple[str, ...] = ("public",),
    include_state: bool = True,
    no_contact_days: tuple[str, ...] = NO_CONTACT_DAYS,
) -> pl.DataFrame:
    """National (and state) holidays plus the no-contact days of every UF in `years`.

    One row per (uf, date), cached; a no-contact day that is already a holiday (Carnival
    Tuesday in RJ) keeps the holiday's name.
    """
    rows: dict[str, list] = {"uf": [], "date": [], "holiday": []}
    national = holidays.Brazil(years=years, categories=categories)
    extra = no_contact_dates(years, no_contact_days)
    for uf in UFS:
        days = (
            holidays.Brazil(subdiv=uf, years=years, categories=categories)
            if include_state
            else national
        )
        for day, name in (extra | dict(days)).items():
            rows["uf"].append(uf)
            rows["date"].append(day)
            rows["holiday"].append(name)
    return pl.DataFrame(rows, schema=HOLIDAY_SCHEMA).sort("uf", "date")


def years_covering(dates: Iterable[pl.Series], extra_days: int = 0) -> tuple[int, ...]:
    """Every year from the earliest date to the latest date plus `extra_days` (a cache key)."""
    lows, highs = [], []
    for series in dates:
        values = series.drop_nulls()
        if values.len():
            lows.append(values.min())
            highs.append(values.max())
    if not lows:
        return ()
    last = max(highs) + timedelta(days=extra_days + 1)
    return tuple(range(min(lows).year, last.year + 1))


def flag_holidays(
    frame: pl.DataFrame,
    table: pl.DataFrame,
    *,
    uf: str = "uf",
    day: str = "day",
    name: str = "is_holiday",
    offset_days: int = 0,
) -> pl.DataFrame:
    """Add boolean `name`: is `day` + `offset_days` a holiday in `uf`? (a join, not a loop)."""
    keys = table.select(
        pl.col("uf").alias(uf),
        pl.col("date").dt.offset_by(f"{-offset_days}d").alias(day),
        pl.lit(True).alias(name),
    ).unique([uf, day])
    return frame.join(keys, on=[uf, day], how="left", maintain_order="left").with_columns(
        pl.col(name).fill_null(False)
    )


def to_utc(frame: pl.DataFrame, local: str = "scheduled_for", uf: str = "uf") -> pl.Series:
    """The naive local datetimes in `local` as UTC instants, each in its UF's zone."""
    zones = frame.select(uf_timezone(pl.col(uf)).alias("zone"), pl.col(local))
    out = pl.Series("utc", [None] * frame.height, dtype=pl.Datetime("us", "UTC"))
    for (zone,), part in zones.with_row_index("_i").partition_by("zone", as_dict=True).items():
        if zone is None:
            continue
        instants = part[local].dt.replace_time_zone(zone).dt.convert_time_zone("UTC")
        out = out.scatter(part["_i"], instants)
    return out
