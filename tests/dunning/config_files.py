"""Copies of the shipped segments and ladders YAML, to break one key at a time in tmp_path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

CONFIG = Path(__file__).resolve().parents[2] / "config"


def shipped(name: str) -> dict[str, Any]:
    """A fresh, mutable copy of config/<name>.yaml."""
    return copy.deepcopy(yaml.safe_load((CONFIG / f"{name}.yaml").read_text(encoding="utf-8")))


def write(folder: Path, name: str, data: dict[str, Any]) -> Path:
    """Write `data` as <folder>/<name>.yaml (with an unchanged sibling file if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    for other in ("segments", "ladders"):
        if other != name and not (folder / f"{other}.yaml").exists():
            (folder / f"{other}.yaml").write_text(
                yaml.safe_dump(shipped(other), allow_unicode=True), encoding="utf-8"
            )
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
