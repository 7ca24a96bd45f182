"""UF time zones and the national plus state holiday table."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import polars as pl
import pytest

from regua.config.guardrails import NO_CONTACT_DAYS
from regua.contract import UFS
from regua.dunning.calendar import (
    UF_TIMEZONES,
    easter_sunday,
    flag_holidays,
    holiday_table,
    no_contact_dates,
    to_utc,
    years_covering,
)


def test_every_uf_has_a_real_zone_and_four_offsets_at_most() -> None:
    assert set(UF_TIMEZONES) == set(UFS)
    offsets = {
        ZoneInfo(zone).utcoffset(datetime(2026, 6, 1)).total_seconds() / 3600
        for zone in UF_TIMEZONES.values()
    }
    assert offsets == {-3.0, -4.0, -5.0}  # -2 is only Fernando de Noronha, not a capital
    assert UF_TIMEZONES["AM"] == "America/Manaus"
    assert UF_TIMEZONES["AC"] == "America/Rio_Branco"
    assert UF_TIMEZONES["PE"] == "America/Recife"


def test_holiday_table_has_national_and_state_days() -> None:
    table = holiday_table((2026,))
    days = set(table.filter(pl.col("uf") == "SP")["date"].to_list())
    assert date(2026, 11, 2) in days  # Finados
    assert date(2026, 11, 20) in days  # Consciência Negra, national since 2024
    assert date(2026, 7, 9) in days  # Revolução Constitucionalista, SP only
    rj = set(table.filter(pl.col("uf") == "RJ")["date"].to_list())
    assert date(2026, 7, 9) not in rj
    national_only = holiday_table((2026,), include_state=False)
    assert date(2026, 7, 9) not in set(national_only["date"].to_list())
    assert holiday_table((2026,)) is table  # cached


def test_flag_holidays_joins_and_shifts() -> None:
    frame = pl.DataFrame(
        {"uf": ["SP", "RJ", "SP"], "day": [date(2026, 7, 9), date(2026, 7, 9), date(2026, 7, 8)]}
    )
    table = holiday_table((2026,))
    out = flag_holidays(flag_holidays(frame, table), table, name="eve", offset_days=1)
    assert out["is_holiday"].to_list() == [True, False, False]
    assert out["eve"].to_list() == [False, False, True]


def test_years_covering_and_utc() -> None:
    series = pl.Series([date(2026, 12, 20), date(2026, 3, 1)])
    assert years_covering([series], extra_days=14) == (2026, 2027)
    assert years_covering([pl.Series([], dtype=pl.Date)]) == ()
    frame = pl.DataFrame(
        {"uf": ["SP", "AM", "AC", "XX"], "scheduled_for": [datetime(2026, 11, 3, 8)] * 4}
    )
    hours = to_utc(frame).dt.hour().to_list()
    assert hours == [11, 12, 13, None]


def test_easter_matches_known_dates_and_the_holidays_package() -> None:
    assert easter_sunday(2024) == date(2024, 3, 31)
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert easter_sunday(2027) == date(2027, 3, 28)
    assert easter_sunday(2038) == date(2038, 4, 25)  # the latest possible
    good_fridays = {
        day
        for day, name in holidays.Brazil(years=range(1990, 2101)).items()
        if "Good Friday" in name.split("; ")
    }
    assert {easter_sunday(y) - timedelta(days=2) for y in range(1990, 2101)} == good_fridays


def test_carnival_and_year_end_eves_are_no_contact_days_in_every_uf() -> None:
    table = holiday_table((2026, 2027))
    for day in (date(2026, 2, 16), date(2026, 2, 17), date(2026, 12, 24), date(2026, 12, 31)):
        assert set(table.filter(pl.col("date") == day)["uf"].to_list()) == set(UFS)
    assert date(2027, 2, 8) in set(table["date"].to_list())  # Carnival Monday 2027
    assert date(2026, 2, 18) not in set(table["date"].to_list())  # Ash Wednesday is not
    # the package's own "optional" Carnival days agree with ours
    package = holidays.Brazil(years=range(2020, 2031), categories=("optional",))
    carnival = {day for day, name in package.items() if "Carnival" in name.split("; ")}
    ours = no_contact_dates(range(2020, 2031), ("carnival_monday", "carnival_tuesday"))
    assert set(ours) == carnival
    # one row per (uf, date): RJ's Carnival Tuesday is a state holiday and keeps its name
    assert table.select("uf", "date").is_unique().all()
    rj = table.filter((pl.col("uf") == "RJ") & (pl.col("date") == date(2026, 2, 17)))
    assert rj["holiday"].to_list() == ["Carnival"]
    assert holiday_table((2026, 2027)) is table  # cached


def test_no_contact_days_can_be_turned_off_one_by_one() -> None:
    none = set(holiday_table((2026,), no_contact_days=())["date"].to_list())
    assert {date(2026, 2, 16), date(2026, 12, 24), date(2026, 12, 31)}.isdisjoint(none)
    eve = set(holiday_table((2026,), no_contact_days=("christmas_eve",))["date"].to_list())
    assert eve - none == {date(2026, 12, 24)}
    assert set(no_contact_dates((2026,), NO_CONTACT_DAYS)) == {
        date(2026, 2, 16),
        date(2026, 2, 17),
        date(2026, 12, 24),
        date(2026, 12, 31),
    }
    with pytest.raises(ValueError, match="unknown no-contact days"):
        no_contact_dates((2026,), ("ash_wednesday",))
