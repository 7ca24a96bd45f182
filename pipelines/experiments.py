"""Experiment readouts and promotions: read the nights' outputs and the store, log to MLflow.

The statistics are `dunning.readout` and `dunning.inference`; this module finds the
files, runs them and records the result (MLflow experiment `regua-experiments`, one run
per readout). `promote` writes the configuration change a promotion makes.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from regua.config import ConfigError
from regua.config.experiments import Experiment, ExperimentsConfig
from regua.dunning.actions import load_dunning_config
from regua.dunning.readout import assignments, case_outcomes, cell_table, comparisons
from regua.settings import get_settings
from regua.store import Store, write_text_atomic

EXPERIMENT = "regua-experiments"
"""The MLflow experiment readouts are logged to."""


class NoReadoutError(ValueError):
    """Nothing to read out: no outputs, or no case of the experiment."""


@dataclass(frozen=True)
class Readout:
    """One experiment's readout at `as_of`: per-case outcomes, per-cell figures, contrasts."""

    experiment: Experiment
    as_of: date
    since: date | None
    outcomes: pl.DataFrame
    cells: pl.DataFrame
    comparisons: pl.DataFrame


def night_folders(out_dir: Path) -> list[tuple[date, Path]]:
    """Every night's output folder (`out/<YYYY-MM-DD>/` holding segments.parquet), by date."""
    nights = []
    for folder in out_dir.iterdir() if out_dir.is_dir() else ():
        try:
            night = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if (folder / "segments.parquet").is_file():
            nights.append((night, folder / "segments.parquet"))
    return sorted(nights)


def scan_segments(out_dir: Path) -> tuple[pl.LazyFrame, date]:
    """The segments of every night as one lazy frame, and the latest night."""
    nights = night_folders(out_dir)
    if not nights:
        raise NoReadoutError(f"{out_dir}: no night's outputs (segments.parquet) to read out")
    paths = [str(path) for _, path in nights]
    columns = ["as_of", "customer_id", "case_id", "experiment_id", "cell"]
    frame = pl.scan_parquet(paths, missing_columns="insert").select(columns)
    return frame.with_columns(pl.col("case_id", "experiment_id", "cell").cast(pl.String)), nights[
        -1
    ][0]


def read_out(
    experiment: Experiment,
    config: ExperimentsConfig,
    store: Store,
    out_dir: Path,
    since: date | None = None,
) -> Readout:
    """The readout of one experiment from the nights' outputs and the store."""
    segments, as_of = scan_segments(out_dir)
    assigned = assignments(segments, experiment.id)
    if since is not None:
        assigned = assigned.filter(pl.col("assigned_on") >= since)
    if assigned.is_empty():
        after = f" assigned on or after {since}" if since else ""
        raise NoReadoutError(
            f"experiment {experiment.id}: no case{after} in the outputs under {out_dir}"
        )
    outcomes = case_outcomes(
        assigned,
        store.scan("invoices"),
        store.scan("payments"),
        store.scan("contacts"),
        config.costs,
        as_of,
    )
    return Readout(
        experiment=experiment,
        as_of=as_of,
        since=since,
        outcomes=outcomes,
        cells=cell_table(outcomes, experiment),
        comparisons=comparisons(outcomes, experiment),
    )


def log_readout(readout: Readout, report: Path | None, tracking_uri: str | None = None) -> str:
    """Log a readout to MLflow: per-cell means and contrasts as metrics, the tables and the
    HTML report as artifacts. No customer or case id leaves the store."""
    import mlflow

    from regua.models.tracking import use_experiment

    mlflow.set_tracking_uri(tracking_uri or get_settings().mlflow_tracking_uri)
    use_experiment(EXPERIMENT)
    name = f"{readout.experiment.id}-{readout.as_of.isoformat()}"
    with mlflow.start_run(run_name=name) as run:
        mlflow.log_params(
            {
                "experiment_id": readout.experiment.id,
                "as_of": readout.as_of.isoformat(),
                "since": readout.since.isoformat() if readout.since else "",
                "planned_cases": readout.experiment.planned_cases,
                "cells": ",".join(f"{c.id}:{c.share:g}" for c in readout.experiment.cells),
            }
        )
        metrics: dict[str, float] = {}
        for row in readout.cells.iter_rows(named=True):
            for key in ("cases", "matured_30", "matured_60", "net_60d", "recovered_30d",
                        "recovered_60d", "cured_60d", "contacts_60d", "cost_60d"):  # fmt: skip
                if row[key] is not None:
                    metrics[f"{row['cell']}.{key}"] = float(row[key])
        for row in readout.comparisons.iter_rows(named=True):
            prefix = f"{row['cell']}.vs_champion.{row['measure']}"
            for key in ("difference", "probability_higher", "sequence_low", "sequence_high"):
                if row[key] is not None:
                    metrics[f"{prefix}.{key}"] = float(row[key])
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as folder:
            for table in ("cells", "comparisons"):
                path = Path(folder) / f"{table}.parquet"
                getattr(readout, table).write_parquet(path)
                mlflow.log_artifact(str(path))
        if report is not None and report.is_file():
            mlflow.log_artifact(str(report))
        return run.info.run_id


def promote(
    config_dir: Path, experiment_id: str, cell_id: str, by: str, why: str, on: date
) -> list[Path]:
    """Make a challenger cell's ladder the treatment of the experiment's population.

    strategies.yaml records the act (`promoted`: cell, ladder, who, when, why) and ends
    the experiment that day. A population given by segments alone has those segments'
    ladder set to the cell's in segments.yaml; a population with conditions gets a
    one-cell rollout experiment (`<id>-rollout`) from the next day. The new files are
    validated together before either replaces the old; returns the files written.
    """
    from ruamel.yaml import YAML

    config = load_dunning_config(config_dir)
    try:
        experiment = config.experiments.get(experiment_id)
    except KeyError as error:
        raise ConfigError(f"{config_dir / 'strategies.yaml'}: {error.args[0]}") from None
    if experiment.promoted is not None:
        raise ConfigError(
            f"{config_dir / 'strategies.yaml'}: experiment {experiment_id} was already "
            f"promoted ({experiment.promoted.cell} by {experiment.promoted.by} on "
            f"{experiment.promoted.day})"
        )
    cell = next((c for c in experiment.cells if c.id == cell_id), None)
    if cell is None or cell.role == "champion" or cell.ladder is None:
        known = ", ".join(c.id for c in experiment.cells if c.role != "champion")
        raise ConfigError(
            f"experiment {experiment_id}: no challenger or control cell {cell_id!r} to "
            f"promote (cells: {known})"
        )
    yaml = YAML()
    yaml.preserve_quotes = True
    strategies_path = config_dir / "strategies.yaml"
    segments_path = config_dir / "segments.yaml"
    strategies = yaml.load(strategies_path.read_text(encoding="utf-8"))
    entry = next(e for e in strategies["experiments"] if e["id"] == experiment_id)
    if experiment.ends_on is None or experiment.ends_on > on:
        entry["ends_on"] = on
    entry["promoted"] = {
        "cell": cell.id,
        "ladder": cell.ladder,
        "by": by,
        "day": on,
        "why": why,
    }
    changed = {strategies_path: strategies}
    population = experiment.population
    if population.segments is not None and not population.conditions:
        segments = yaml.load(segments_path.read_text(encoding="utf-8"))
        for name in population.segments:
            segments["segments"][name]["ladder"] = cell.ladder
        changed[segments_path] = segments
    else:
        strategies["experiments"].append(
            {
                "id": f"{experiment_id}-rollout"[:63],
                "description": f"Rollout of {experiment_id}/{cell.id} ({by}, {on})",
                "starts_on": date.fromordinal(on.toordinal() + 1),
                "population": json.loads(population.model_dump_json(exclude_none=True)),
                "cells": [
                    {"id": "rollout", "role": "champion", "share": 1.0, "ladder": cell.ladder}
                ],
            }
        )
    with tempfile.TemporaryDirectory() as scratch:
        trial = Path(scratch) / "config"
        shutil.copytree(config_dir, trial)
        for path, document in changed.items():
            with (trial / path.name).open("w", encoding="utf-8") as handle:
                yaml.dump(document, handle)
        load_dunning_config(trial)  # the promoted configuration must load before it lands
        texts = {path: (trial / path.name).read_text(encoding="utf-8") for path in changed}
    for path, text in texts.items():
        write_text_atomic(text, path)
    return list(texts)
