"""What the benchmark scripts share: the machine line and a simulated, ingested store."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

BENCH_ROOT = Path(os.environ.get("REGUA_BENCH_DIR", "/tmp/regua-bench"))
REGUA = [sys.executable, "-m", "regua"]


def machine() -> str:
    """One line naming the machine."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {ram:.0f} GiB RAM, {cpu}, Python {platform.python_version()}"


def night_arguments(description: str, tracking: bool = True) -> argparse.ArgumentParser:
    """The options the 1M night benches share: tracking store, portfolio size and as_of."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--tracking-uri", required=tracking)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 10, 30))
    return parser


def simulate_raw(
    folder: Path, customers: int, months: int, seed: int = 1, error_rate: float = 0.0
) -> Path:
    """The exports of a simulated book in `folder`/raw (the book `prepare_store` stores)."""
    raw = folder / "raw"
    subprocess.run(
        [*REGUA, "simulate", "--customers", str(customers), "--months", str(months),
         "--seed", str(seed), "--error-rate", str(error_rate), "--out", str(raw),
         "--format", "parquet"],
        check=True, stdout=sys.stderr,
    )  # fmt: skip
    return raw


def prepare_store(
    folder: Path, customers: int, months: int, seed: int = 1, error_rate: float = 0.0
) -> tuple[Path, Path]:
    """A simulated (seed 1 unless told), ingested store under `folder` and its truth file,
    made once."""
    store, truth = folder / "store", folder / "truth.parquet"
    if (store / "CURRENT").exists() and truth.exists():
        return store, truth
    shutil.rmtree(folder, ignore_errors=True)
    raw = simulate_raw(folder, customers, months, seed, error_rate)
    subprocess.run(
        [*REGUA, "ingest", "--raw", str(raw), "--store", str(store), "--no-docs"],
        check=True,
        stdout=sys.stderr,
    )
    shutil.move(raw / "truth" / "truth.parquet", truth)
    shutil.rmtree(raw, ignore_errors=True)
    return store, truth


def timed_runs(run: Callable[[], T], repeat: int) -> tuple[T, list[float]]:
    """Call `run` `repeat` times; its last result and the wall seconds of each call."""
    seconds, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = run()
        seconds.append(time.perf_counter() - started)
    return out, seconds  # type: ignore[return-value]
