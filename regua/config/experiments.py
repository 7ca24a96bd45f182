"""Strategy experiments (config/strategies.yaml): populations, cells and their shares.

An experiment tests challenger treatments against the champion on a share of a
population of the book. Each cell names the ladder its cases run (a ladder of
config/ladders.yaml; the champion cell may leave it out to keep every segment's own
ladder) and its share; shares sum to 1. A `control` cell is the experiment's baseline
treatment (for instance a ladder of the legally required steps only). Validated on load:
`ConfigError` reads "<file>: <key.path>: <rule>", naming unknown ladders and segments.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from regua.config import ConfigError, _Frozen, load_yaml_model
from regua.config.dunning import LaddersConfig, SegmentsConfig

SHARE_TOLERANCE = 1e-9
ID_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,62}$"


class Condition(_Frozen):
    """A bound on one column of the night's scored customers (features, pd, propensity)."""

    column: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Condition:
        if self.min is None and self.max is None:
            raise ValueError("a condition needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        return self


class Population(_Frozen):
    """Who is in the experiment: customers of these segments (all when left out) meeting
    every condition (min inclusive, max exclusive)."""

    segments: tuple[str, ...] | None = None
    conditions: tuple[Condition, ...] = ()


class Cell(_Frozen):
    """One arm: its role, its share of the population and the ladder its cases run."""

    id: str = Field(pattern=ID_PATTERN)
    role: Literal["champion", "challenger", "control"]
    share: float = Field(gt=0, le=1)
    ladder: str | None = None
    description: str = ""


class Promotion(_Frozen):
    """The recorded act of making a cell's ladder the treatment of the population."""

    cell: str
    ladder: str
    by: str = Field(min_length=1)
    day: date
    why: str = ""


class Experiment(_Frozen):
    """A champion/challenger test on a population, active from `starts_on` to `ends_on`."""

    id: str = Field(pattern=ID_PATTERN)
    description: str = ""
    starts_on: date
    ends_on: date | None = None
    salt: str | None = Field(None, min_length=1, max_length=64)
    population: Population = Population()
    cells: tuple[Cell, ...] = Field(min_length=1)
    planned_cases: int = Field(1000, ge=10)
    """Cases (all cells) at which the readout's always-valid sequence is narrowest: the
    size `regua experiments plan` gives; fixed before the experiment starts."""
    promoted: Promotion | None = None

    @field_validator("cells")
    @classmethod
    def _cells(cls, cells: tuple[Cell, ...]) -> tuple[Cell, ...]:
        total = math.fsum(cell.share for cell in cells)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise ValueError(f"cell shares must sum to 1 (they sum to {total:g})")
        ids = [cell.id for cell in cells]
        if len(set(ids)) != len(ids):
            raise ValueError(f"cell ids must be unique ({', '.join(ids)})")
        champions = [cell.id for cell in cells if cell.role == "champion"]
        if len(champions) != 1:
            raise ValueError(f"exactly one cell must be the champion (found {len(champions)})")
        return cells

    @model_validator(mode="after")
    def _dates(self) -> Experiment:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError(f"ends_on ({self.ends_on}) is before starts_on ({self.starts_on})")
        for i, cell in enumerate(self.cells):
            if cell.ladder is None and cell.role != "champion":
                raise ValueError(f"cells.{i}.ladder: a {cell.role} cell must name its ladder")
        return self

    @property
    def hash_salt(self) -> str:
        """What salts the assignment hash: `salt`, else the experiment id."""
        return self.salt or self.id

    @property
    def champion(self) -> Cell:
        """The champion cell."""
        return next(cell for cell in self.cells if cell.role == "champion")

    def active_on(self, day: date) -> bool:
        """True while the experiment assigns cases (starts_on <= day <= ends_on)."""
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class ContactCosts(_Frozen):
    """What the company pays per executed contact by channel (BRL) and the agency's fee
    as a share of what it recovers: the readout's cost and net recovery."""

    email: float = Field(0.01, ge=0)
    sms: float = Field(0.08, ge=0)
    whatsapp: float = Field(0.10, ge=0)
    phone: float = Field(2.50, ge=0)
    letter: float = Field(3.50, ge=0)
    bureau: float = Field(3.00, ge=0)
    agency_fee_share: float = Field(0.20, ge=0, le=1)

    def per_channel(self) -> dict[str, float]:
        """Unit cost of each contact channel (the agency is paid by its fee)."""
        return self.model_dump(exclude={"agency_fee_share"}) | {"agency": 0.0}


class ExperimentsConfig(_Frozen):
    """Every experiment (first match wins where populations overlap) and the unit costs."""

    experiments: tuple[Experiment, ...] = ()
    costs: ContactCosts = ContactCosts()

    @field_validator("experiments")
    @classmethod
    def _unique(cls, experiments: tuple[Experiment, ...]) -> tuple[Experiment, ...]:
        ids = [e.id for e in experiments]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"experiment ids must be unique ({', '.join(duplicated)} repeat)")
        return experiments

    def get(self, experiment_id: str) -> Experiment:
        """The experiment of this id (KeyError naming the known ones)."""
        for experiment in self.experiments:
            if experiment.id == experiment_id:
                return experiment
        known = ", ".join(e.id for e in self.experiments) or "none"
        raise KeyError(f"no experiment {experiment_id!r} (known: {known})")


NO_EXPERIMENTS = ExperimentsConfig()


def check_experiments(
    config: ExperimentsConfig, ladders: LaddersConfig, segments: SegmentsConfig, path: Path
) -> None:
    """Every cell's ladder and every population segment must exist (ConfigError naming
    the file and the key)."""
    for i, experiment in enumerate(config.experiments):
        for name in experiment.population.segments or ():
            if name not in segments.segments:
                known = ", ".join(sorted(segments.segments))
                raise ConfigError(
                    f"{path}: experiments.{i}.population.segments: unknown segment "
                    f"{name!r} (segments.yaml has {known})"
                )
        for j, cell in enumerate(experiment.cells):
            if cell.ladder is not None and cell.ladder not in ladders.ladders:
                known = ", ".join(sorted(ladders.ladders))
                raise ConfigError(
                    f"{path}: experiments.{i}.cells.{j}.ladder: unknown ladder "
                    f"{cell.ladder!r} (ladders.yaml has {known})"
                )


def load_experiments(
    path: Path, ladders: LaddersConfig, segments: SegmentsConfig
) -> ExperimentsConfig:
    """config/strategies.yaml validated against the ladders and segments it names; a
    missing file means no experiment (and the default unit costs)."""
    if not path.is_file():
        return NO_EXPERIMENTS
    config = load_yaml_model(path, ExperimentsConfig)
    check_experiments(config, ladders, segments, path)
    return config
