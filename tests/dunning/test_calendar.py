"""UF time zones and the national plus state holiday table."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import polars as pl

from regua.contract import UFS
from regua.dunning.calendar import (
    UF_TIMEZONES,
    flag_holidays,
    holiday_table,
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
