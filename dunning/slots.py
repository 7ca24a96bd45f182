"""Earliest allowed local slot or day for many actions at once, by trying a few days ahead.

Each search tries day 0, 1, ... up to a small horizon; every try is one vectorised pass
(joins against the window and holiday tables) over the rows not placed yet, so the loop is
over days, never over customers. Rows left over after the horizon get no slot (null).
"""

from __future__ import annotations

import polars as pl

from regua.config.guardrails import WEEKDAYS, GuardrailsConfig
from regua.contract import CHANNELS, UFS
from regua.dunning.calendar import flag_holidays

_US_PER_MINUTE = 60_000_000
SLOT_SCHEMA = pl.Schema({"_row": pl.UInt32(), "slot": pl.Datetime("us"), "code": pl.String()})


def window_table(config: GuardrailsConfig) -> pl.DataFrame:
    """Every (uf, channel, ISO weekday) with a window: start and end in microseconds."""
    rows: dict[str, list] = {"uf": [], "channel": [], "wd": [], "start": [], "end": []}
    for uf in UFS:
        for channel in CHANNELS:
            for number, weekday in enumerate(WEEKDAYS, start=1):
                window = config.window(uf, channel, weekday)
                if window is None:
                    continue
                rows["uf"].append(uf)
                rows["channel"].append(channel)
                rows["wd"].append(number)
                rows["start"].append(window.start_minute * _US_PER_MINUTE)
                rows["end"].append(window.end_minute * _US_PER_MINUTE)
    schema = {"uf": pl.String, "channel": pl.String, "wd": pl.Int8, "start": pl.Int64}
    return pl.DataFrame(rows, schema={**schema, "end": pl.Int64})


def _start(todo: pl.DataFrame, *extra: str) -> pl.DataFrame:
    return todo.select(
        "_row",
        "uf",
        *extra,
        pl.col("scheduled_for").dt.date().alias("day0"),
        (pl.col("scheduled_for").dt.time().cast(pl.Int64) // 1000).alias("tod"),
    )


def _at(day: pl.Expr, microseconds: pl.Expr) -> pl.Expr:
    return day.cast(pl.Datetime("us")) + pl.duration(microseconds=microseconds)


def _collect(todo: pl.DataFrame, found: list[pl.DataFrame], codes: pl.DataFrame) -> pl.DataFrame:
    hits = pl.concat(found) if found else pl.DataFrame(schema=SLOT_SCHEMA).drop("code")
    return (
        todo.select("_row")
        .join(hits, on="_row", how="left", maintain_order="left")
        .join(codes, on="_row", how="left", maintain_order="left")
        .cast({"_row": pl.UInt32, "slot": pl.Datetime("us"), "code": pl.String})
    )


def search_slots(
    todo: pl.DataFrame, windows: pl.DataFrame, holidays: pl.DataFrame, horizon_days: int
) -> pl.DataFrame:
    """Earliest in-window, non-holiday local time at or after `scheduled_for` (_row, slot, code).

    `todo` holds _row, uf, channel and scheduled_for (naive local time). `code` says why the
    proposed time itself was refused (null when it was allowed); `slot` is null when nothing
    is allowed within `horizon_days`.
    """
    base = _start(todo, "channel")
    pending, found = base, []
    codes = pl.DataFrame(schema={"_row": pl.UInt32, "code": pl.String})
    for k in range(horizon_days + 1):
        if pending.is_empty():
            break
        tried = pending.with_columns(day=pl.col("day0") + pl.duration(days=k))
        tried = tried.with_columns(wd=pl.col("day").dt.weekday()).join(
            windows, on=["uf", "channel", "wd"], how="left", maintain_order="left"
        )
        earliest = pl.max_horizontal("start", "tod") if k == 0 else pl.col("start")
        tried = flag_holidays(tried, holidays).with_columns(earliest=earliest)
        tried = tried.with_columns(
            ok=pl.col("start").is_not_null()
            & ~pl.col("is_holiday")
            & (pl.col("earliest") < pl.col("end"))
        )
        if k == 0:
            codes = tried.select(
                "_row",
                code=pl.when(pl.col("ok") & (pl.col("earliest") == pl.col("tod")))
                .then(None)
                .when(pl.col("is_holiday"))
                .then(pl.lit("moved:holiday"))
                .when(pl.col("wd") == 7)
                .then(pl.lit("moved:sunday"))
                .when(pl.col("start").is_null())
                .then(pl.lit("moved:no_window_day"))
                .otherwise(pl.lit("moved:outside_window")),
            )
        found.append(tried.filter("ok").select("_row", slot=_at(pl.col("day"), pl.col("earliest"))))
        pending = tried.filter(~pl.col("ok")).select(base.columns)
    return _collect(base, found, codes)


def search_days(
    todo: pl.DataFrame, holidays: pl.DataFrame, horizon_days: int, *, rule: str
) -> pl.DataFrame:
    """Earliest allowed day at or after `scheduled_for`, same time of day (_row, slot, code).

    `rule` "business": Monday-Friday and not a holiday (negative listings). "suspension":
    Monday-Thursday, not a holiday and not the eve of one, so a suspension never starts
    just before a long weekend when the customer cannot reach anyone to settle.
    """
    if rule not in {"business", "suspension"}:
        raise ValueError(f"unknown day rule {rule!r}")
    last_weekday = 5 if rule == "business" else 4
    base = _start(todo)
    pending, found = base, []
    codes = pl.DataFrame(schema={"_row": pl.UInt32, "code": pl.String})
    for k in range(horizon_days + 1):
        if pending.is_empty():
            break
        tried = pending.with_columns(day=pl.col("day0") + pl.duration(days=k))
        tried = flag_holidays(tried.with_columns(wd=pl.col("day").dt.weekday()), holidays)
        tried = flag_holidays(tried, holidays, name="is_eve", offset_days=1)
        blocked_eve = pl.col("is_eve") if rule == "suspension" else pl.lit(False)
        tried = tried.with_columns(
            ok=(pl.col("wd") <= last_weekday) & ~pl.col("is_holiday") & ~blocked_eve
        )
        if k == 0:
            weekend = "moved:weekend" if rule == "business" else "moved:friday_or_weekend"
            codes = tried.select(
                "_row",
                code=pl.when(pl.col("ok"))
                .then(None)
                .when(pl.col("is_holiday"))
                .then(pl.lit("moved:holiday"))
                .when(pl.col("wd") > last_weekday)
                .then(pl.lit(weekend))
                .otherwise(pl.lit("moved:eve_of_holiday")),
            )
        found.append(tried.filter("ok").select("_row", slot=_at(pl.col("day"), pl.col("tod"))))
        pending = tried.filter(~pl.col("ok")).select(base.columns)
    return _collect(base, found, codes)
