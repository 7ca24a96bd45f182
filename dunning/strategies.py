"""Strategies: a folder of segments.yaml and ladders.yaml run with the base configuration.

A strategy says whom to treat how (its segments and ladders); everything else a night
reads (guardrails, limits, cases, charges, the creditor's templates) is the base config
folder's, so two strategies compared in the collection twin (issue 17) differ only in
their treatment. Shipped strategies live in <config>/strategies/<name>/ (`fixed`: the
simulated lender's single ladder); any other folder may be given by path. The `none`
policy (`NO_CONTACT`) has no folder: the twin's loop carries out no action for it.

    config = load_strategy(strategy_dir("fixed"))
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from regua.config import ConfigError
from regua.config.dunning import load_ladders, load_segments
from regua.config.experiments import load_experiments
from regua.dunning.actions import DunningConfig, check_listing_notices, load_dunning_config
from regua.settings import get_settings

NO_CONTACT = "none"
"""The policy that contacts no one: no strategy folder, the loop executes no action."""
STRATEGY_FILES: tuple[str, ...] = ("segments.yaml", "ladders.yaml")
"""What a strategy folder holds; the other configuration files come from the base folder."""


def strategy_dir(name: str, base: Path | None = None) -> Path:
    """The folder of the shipped strategy `name`: <base>/strategies/<name> (base: settings)."""
    root = (base or get_settings().config_dir) / "strategies"
    if name == NO_CONTACT:
        raise ValueError(f"{name!r} contacts no one and has no strategy folder")
    folder = root / name
    if not folder.is_dir():
        known = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        raise ValueError(f"no strategy {name!r} in {root} (known: {', '.join(known) or 'none'})")
    return folder


def load_strategy(folder: Path, base: Path | None = None) -> DunningConfig:
    """The dunning configuration of a strategy: its folder's segments and ladders, the rest
    from `base` (default: the settings' config folder), each file validated by its loader.

    The strategy must name the base's creditor: every message carries it (CDC art. 42-A).
    Its experiments are its own folder's strategies.yaml (none without one).
    Errors are `ConfigError` reading "<file>: <key.path>: <rule>".
    """
    base_config = load_dunning_config(base)
    for name in STRATEGY_FILES:
        if not (folder / name).is_file():
            raise ConfigError(f"{folder / name}: (top level): a strategy folder needs {name}")
    ladders_path = folder / "ladders.yaml"
    ladders = load_ladders(ladders_path, get_settings().templates_dir)
    if ladders.creditor != base_config.ladders.creditor:
        raise ConfigError(
            f"{ladders_path}: creditor: must be the base configuration's creditor "
            f"({base_config.ladders.creditor.name}, CNPJ "
            f"{base_config.ladders.creditor.cnpj_formatted})"
        )
    check_listing_notices(ladders, base_config.guardrails, ladders_path)
    segments = load_segments(folder / "segments.yaml", ladders)
    experiments = load_experiments(folder / "strategies.yaml", ladders, segments)
    return dataclasses.replace(
        base_config, segments=segments, ladders=ladders, experiments=experiments
    )
