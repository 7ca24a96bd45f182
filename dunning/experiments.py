"""Strategy experiments: each new collection case of a population draws a cell, stably.

A case enters the first active experiment (config/strategies.yaml order) whose population
it belongs to on a night, provided it opened on or after the experiment's `starts_on`
(an older case already runs the ladder its first step fixed, so it could not honour a
draw). Its cell comes from a uniform draw, the first 52 bits of
MD5("<salt>|<experiment_id>|<case_id>"), cut by the cells' cumulative shares: the draw is
the same on every night (the case id is the customer and the day the case opened), so a
case keeps its cell until it closes, and the customer's next case draws afresh. MD5 is
computed by DuckDB, vectorised, and gives the same draw on any machine and any version.

The cell's ladder replaces the segment's for the case (the champion cell may keep the
segment's own); the case then runs it through `dunning.schedule` like any other, and
every action and the night's segment row carry `experiment_id` and `cell`.
"""

from __future__ import annotations

from datetime import date
from functools import reduce

import duckdb
import polars as pl

from regua.config.experiments import Experiment, ExperimentsConfig

DRAW_BITS = 52
"""Bits of the digest kept: a float64 holds them exactly, so the draw is exact in [0, 1)."""
EXPERIMENT_COLUMNS = {"experiment_id": pl.String, "cell": pl.String}


def assignment_draws(units: pl.Series, salt: str) -> pl.DataFrame:
    """The uniform draw in [0, 1) of each distinct unit: MD5("<salt>|<unit>")'s first
    52 bits over 2**52. Columns: unit, draw."""
    distinct = pl.DataFrame({"unit": units.cast(pl.String)}).unique().drop_nulls()
    with duckdb.connect() as connection:
        connection.register("units", distinct.to_arrow())
        table = connection.sql(
            "select unit, md5($salt || '|' || unit) as digest from units", params={"salt": salt}
        ).to_arrow_table()
    digests = pl.DataFrame(pl.from_arrow(table))
    hex_digits = DRAW_BITS // 4
    return digests.select(
        pl.col("unit").cast(pl.String),
        (
            pl.col("digest").str.slice(0, hex_digits).str.to_integer(base=16).cast(pl.Float64)
            / float(2**DRAW_BITS)
        ).alias("draw"),
    )


def cell_of(draw: pl.Expr, experiment: Experiment) -> pl.Expr:
    """The cell whose cumulative-share interval holds the draw (the last takes the rest)."""
    bound, chain = 0.0, None
    for cell in experiment.cells[:-1]:
        bound += cell.share
        chain = (pl.when(draw < bound) if chain is None else chain.when(draw < bound)).then(
            pl.lit(cell.id)
        )
    last = pl.lit(experiment.cells[-1].id)
    return last if chain is None else chain.otherwise(last)


def _ladder_of(cell: pl.Expr, experiment: Experiment) -> pl.Expr:
    """The ladder a cell runs; null where the cell keeps the segment's ladder."""
    mapping = {c.id: c.ladder for c in experiment.cells}
    return cell.replace_strict(mapping, default=None, return_dtype=pl.String)


def _in_population(experiment: Experiment, as_of: date) -> pl.Expr:
    """Cases of this experiment's population that opened while it was active."""
    population = experiment.population
    terms = [pl.col("case_id").is_not_null(), pl.col("case_opened_on") >= experiment.starts_on]
    if experiment.ends_on is not None:
        terms.append(pl.col("case_opened_on") <= experiment.ends_on)
    if population.segments is not None:
        terms.append(pl.col("segment").is_in(list(population.segments)))
    for condition in population.conditions:
        value = pl.col(condition.column)
        if condition.min is not None:
            terms.append(value >= condition.min)
        if condition.max is not None:
            terms.append(value < condition.max)
    return reduce(lambda a, b: a & b, terms).fill_null(False)


def assign_cells(
    segments: pl.DataFrame,
    scored: pl.DataFrame,
    cases: pl.DataFrame,
    config: ExperimentsConfig,
    as_of: date,
) -> pl.DataFrame:
    """`segments` (one row per customer, `assign_segments`') with `case_id`,
    `experiment_id` and `cell`, and `ladder_id` replaced by the cell's ladder.

    `scored` holds the columns population conditions name (by customer_id); `cases` the
    night's open cases (customer_id, case_id, case_opened_on). A condition naming a column
    `scored` lacks is a ValueError naming it. Customers outside every experiment keep their
    segment's ladder, with null experiment_id and cell.
    """
    frame = segments.join(
        cases.select("customer_id", "case_id", "case_opened_on"), on="customer_id", how="left"
    )
    experiments = [e for e in config.experiments if e.starts_on <= as_of]
    needed = {c.column for e in experiments for c in e.population.conditions}
    missing = sorted(needed - set(scored.columns) - set(frame.columns))
    if missing:
        raise ValueError(
            f"strategies.yaml: population conditions name column(s) the night does not "
            f"have: {', '.join(missing)}"
        )
    extra = sorted(needed - set(frame.columns))
    if extra:
        frame = frame.join(scored.select("customer_id", *extra), on="customer_id", how="left")
    frame = frame.with_columns(
        pl.lit(None, pl.String).alias("experiment_id"), pl.lit(None, pl.String).alias("cell")
    )
    for experiment in experiments:
        member = _in_population(experiment, as_of) & pl.col("experiment_id").is_null()
        units = frame.filter(member)["case_id"]
        if units.is_empty():
            continue
        draws = assignment_draws(units, f"{experiment.hash_salt}|{experiment.id}")
        frame = (
            frame.join(draws.rename({"unit": "case_id", "draw": "_draw"}), on="case_id", how="left")
            .with_columns(
                pl.when(member)
                .then(pl.lit(experiment.id))
                .otherwise("experiment_id")
                .alias("experiment_id"),
                pl.when(member)
                .then(cell_of(pl.col("_draw"), experiment))
                .otherwise("cell")
                .alias("cell"),
            )
            .with_columns(
                pl.when(pl.col("experiment_id") == experiment.id)
                .then(pl.coalesce(_ladder_of(pl.col("cell"), experiment), "ladder_id"))
                .otherwise("ladder_id")
                .alias("ladder_id")
            )
            .drop("_draw")
        )
    return frame.select(*segments.columns, "case_id", *EXPERIMENT_COLUMNS)
