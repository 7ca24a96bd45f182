"""The experiment readout as an HTML page: design, cells, contrasts, the sequence over time.

Pure over a `pipelines.experiments.Readout`; the statistics are `dunning.readout`'s and
`dunning.inference`'s. The verdict is the always-valid sequence's; the fixed-horizon
interval is shown beside it for reference only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from regua.dunning.inference import contrast_terms, minimum_detectable_effect, running_sequence
from regua.dunning.readout import MEASURES, PRIMARY
from regua.pipelines.experiments import Readout
from regua.render.charts import line_chart
from regua.render.html import render_page
from regua.reports.twin import TEXT, format_interval, format_value
from regua.store import write_text_atomic

LABELS = {
    "recovered_30d": "Recovered within 30 days (per case)",
    "recovered_60d": "Recovered within 60 days (per case)",
    "cured_60d": "Cured within 60 days",
    "contacts_60d": "Contacts within 60 days (per case)",
    "cost_60d": "Contact and agency cost within 60 days (per case)",
    "net_60d": "Net recovery within 60 days (per case)",
}
UNITS = {
    "recovered_30d": "BRL",
    "recovered_60d": "BRL",
    "cured_60d": "share",
    "contacts_60d": "count",
    "cost_60d": "BRL",
    "net_60d": "BRL",
}


def _with_interval(value: Any, low: Any, high: Any, unit: str, signed: bool = False) -> str:
    text = format_value(value, unit, signed=signed)
    interval = format_interval(low, high, unit, signed=signed)
    return text if interval == TEXT.cell("", None) else f"{text} ({interval})"


def cell_rows(readout: Readout) -> pl.DataFrame:
    """One row per measure, one column per cell: mean per case with its 95% interval."""
    cells = readout.cells
    columns: dict[str, list[str]] = {
        "measure": ["cases", "matured 30 / 60 days", "overdue at assignment"]
    }
    columns["measure"] += [LABELS[m] for m in MEASURES]
    for row in cells.iter_rows(named=True):
        texts = [
            format_value(row["cases"], "count"),
            f"{row['matured_30']} / {row['matured_60']}",
            format_value(row["overdue_brl"], "BRL"),
        ]
        texts += [
            _with_interval(row[m], row[f"{m}_low"], row[f"{m}_high"], UNITS[m]) for m in MEASURES
        ]
        columns[f"{row['cell']} ({row['role']}, {row['share']:.0%})"] = texts
    return pl.DataFrame(columns, schema={c: pl.String for c in columns})


def comparison_rows(readout: Readout) -> pl.DataFrame:
    """Each cell against the champion, measure by measure: fixed interval, P(higher),
    always-valid sequence and verdict."""
    rows = []
    for row in readout.comparisons.iter_rows(named=True):
        unit = UNITS[row["measure"]]
        probability = row["probability_higher"]
        rows.append(
            {
                "cell": row["cell"],
                "measure": LABELS[row["measure"]],
                "cases (champion / cell)": f"{row['champion_cases']} / {row['cell_cases']}",
                "difference (fixed-horizon 95%)": _with_interval(
                    row["difference"], row["fixed_low"], row["fixed_high"], unit, signed=True
                ),
                "P(cell higher)": TEXT.cell("", None)
                if probability is None
                else f"{probability:.1%}".replace(".", ","),
                "always-valid 95%": format_interval(
                    row["sequence_low"], row["sequence_high"], unit, signed=True
                ),
                "verdict": row["verdict"],
            }
        )
    return pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}) if rows else pl.DataFrame()


def sequence_charts(readout: Readout) -> list[Any]:
    """Per challenger: the primary measure's difference and its always-valid band as each
    matured case came in (what a daily look showed)."""
    experiment = readout.experiment
    champion = experiment.champion
    matured = readout.outcomes.filter(pl.col(f"matured_{MEASURES[PRIMARY]}"))
    charts = []
    for cell in experiment.cells:
        if cell.role == "champion" or matured.height < 3:
            continue
        terms = contrast_terms(
            matured[PRIMARY].to_numpy().astype(float),
            (matured["cell"] == cell.id).to_numpy().astype(float),
            (matured["cell"] == champion.id).to_numpy().astype(float),
            cell.share,
            champion.share,
        )
        n, mean, low, high = running_sequence(terms, experiment.planned_cases)
        keep = n >= 2
        series = {
            "difference": (n[keep], mean[keep]),
            "lower bound": (n[keep], low[keep]),
            "upper bound": (n[keep], high[keep]),
            "zero": (n[keep], np.zeros(int(keep.sum()))),
        }
        charts.append(
            line_chart(
                series,
                title=f"{cell.id} minus {champion.id}: net recovery per case, always-valid 95%",
                xlabel="matured cases (all cells)",
                ylabel="BRL per case",
            )
        )
    return charts


def planning_rows(readout: Readout) -> pl.DataFrame:
    """What each challenger can detect now: the fixed-horizon MDE at the matured cases."""
    experiment = readout.experiment
    champion = experiment.champion
    matured = readout.outcomes.filter(pl.col(f"matured_{MEASURES[PRIMARY]}"))
    base = matured.filter(pl.col("cell") == champion.id)[PRIMARY]
    sd = float(base.std()) if base.len() > 1 else None
    rows = []
    for cell in experiment.cells:
        if cell.role == "champion":
            continue
        mde = (
            minimum_detectable_effect(matured.height, sd, champion.share, cell.share)
            if sd and matured.height
            else None
        )
        rows.append(
            {
                "cell": cell.id,
                "matured cases": format_value(matured.height, "count"),
                "planned cases": format_value(experiment.planned_cases, "count"),
                "sd of net recovery (champion)": format_value(sd, "BRL"),
                "detectable now (80% power)": format_value(mde, "BRL"),
            }
        )
    return pl.DataFrame(rows, schema={k: pl.String for k in rows[0]}) if rows else pl.DataFrame()


def experiment_context(readout: Readout) -> dict[str, Any]:
    """Everything the page shows (pure)."""
    experiment = readout.experiment
    design = pl.DataFrame(
        {
            "cell": [c.id for c in experiment.cells],
            "role": [c.role for c in experiment.cells],
            "share": [f"{c.share:.0%}" for c in experiment.cells],
            "ladder": [c.ladder or "(segment's own)" for c in experiment.cells],
        }
    )
    population = experiment.population
    return {
        "experiment": experiment,
        "as_of": readout.as_of,
        "since": readout.since,
        "segments": ", ".join(population.segments) if population.segments else "all",
        "conditions": [
            f"{c.column} {'≥ ' + format_value(c.min, None) if c.min is not None else ''}"
            f"{' and ' if c.min is not None and c.max is not None else ''}"
            f"{'< ' + format_value(c.max, None) if c.max is not None else ''}"
            for c in population.conditions
        ],
        "design": design,
        "cells": cell_rows(readout),
        "comparisons": comparison_rows(readout),
        "charts": sequence_charts(readout),
        "planning": planning_rows(readout),
        "formats": TEXT,
    }


def write_experiment_report(readout: Readout, path: Path) -> Path:
    """Render the readout's page and write it atomically."""
    html = render_page("experiment.html.j2", lang="en", **experiment_context(readout))
    write_text_atomic(html, path)
    return path
