"""Load test of the analysts' workbench: concurrent analysts browsing customer pages.

    python benchmarks/bench_workbench.py [--customers 100000] [--clients 20] [--seconds 60]

Simulates (seed 1) and ingests a book under $REGUA_BENCH_DIR/workbench-<night>-<customers>
once (`benchmarks.common.prepare_store`) and gives it one night: `--night real` (the
default) trains the champions (`regua train --auto-promote`) and runs `regua nightly`, so
the pages show the night's outputs and explain on demand, from the feature cache and the
registry, the customers the night did not explain; `--night synthetic` writes synthetic
scores, limits and one action per customer in collection with the flow's columns (no
model: reasons on demand are not exercised). Adds the analysts and starts `regua web` in
its own process on loopback; with a real night, the measured minute starts once the server
has explained every customer of the night (it does that once, in the background, and keeps
it in the store's cache). Each client logs in with its own
session and loads random customer pages (`GET /clientes/<id>`: the night's rows, the
customer's invoices and payments from the store, decisions and audit from the database)
back to back for `--seconds`. Prints the page-time percentiles as a Markdown row.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import BENCH_ROOT, REGUA, machine, prepare_store, simulate_raw
from regua.decisions.db import make_engine, session_factory, upgrade
from regua.decisions.users import add_user
from regua.dunning.outputs import ACTIONS, LIMITS, SEGMENTS
from regua.store import Store
from regua.workbench.explain import REASONS_CACHE

AS_OF = date(2026, 10, 30)
PASSWORD = "bench-senha-longa"


def _conform(table, columns: dict[str, object], n: int) -> pl.DataFrame:
    frame = pl.DataFrame({name: pl.Series(name, [None] * n) for name in table.names})
    return table.conform(frame.with_columns(**columns))


def write_night(store: Path, out: Path, seed: int = 1) -> int:
    """Synthetic outputs of AS_OF for every stored customer; returns the customer count."""
    customers = (
        Store(store).scan("customers").select("customer_id", "credit_limit").collect()
    ).sort("customer_id")
    n = customers.height
    rng = np.random.default_rng(seed)
    pd_ = rng.beta(1, 12, n)
    current = customers["credit_limit"].fill_null(1000.0).to_numpy()
    factor = np.where(pd_ < 0.05, 1.2, np.where(pd_ > 0.25, 0.8, 1.0))
    recommended = np.round(current * factor / 50) * 50
    decision = np.where(recommended > current, "increase",
                        np.where(recommended < current, "decrease", "keep"))  # fmt: skip
    ids = customers["customer_id"]
    common = {"as_of": pl.lit(AS_OF), "customer_id": ids}
    segments = _conform(SEGMENTS, {**common, "segment": pl.lit("early"),
                        "ladder_id": pl.lit("gentle"), "risk_band": pl.lit("low"),
                        "pd": pd_, "propensity": rng.random(n)}, n)  # fmt: skip
    limits = _conform(LIMITS, {
        **common, "current_limit": current, "recommended_limit": recommended,
        "model_recommended_limit": recommended, "change": recommended - current,
        "decision": decision, "held_by_analyst": pl.lit(False), "risk_band": pl.lit("baixo"),
        "limit_reasons": pl.lit(["uso do limite de 80% e sem atrasos em 180 dias"]),
        "reason_codes": pl.lit(["high_utilisation_good_payer"]),
        "top_reasons": pl.lit(["Caráter: atrasos recentes", "Capacidade: renda"]),
    }, n)  # fmt: skip
    chosen = ids.filter(pl.Series(rng.random(n) < 0.3))
    m = chosen.len()
    evidence = json.dumps({"window": "08:00-20:00", "contacts_7d": 1})
    actions = _conform(ACTIONS, {
        "as_of": pl.lit(AS_OF), "customer_id": chosen, "action_id": chosen + "-A",
        "case_id": chosen + "-CASE", "step_id": pl.lit("sms_d1"), "channel": pl.lit("sms"),
        "status": pl.lit("scheduled"),
        "scheduled_for": pl.lit(datetime.combine(AS_OF + timedelta(days=1), datetime.min.time())),
        "evidence": pl.lit(evidence),
    }, m)  # fmt: skip
    folder = out / AS_OF.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in (("segments", segments), ("limits", limits), ("actions", actions)):
        frame.write_parquet(folder / f"{name}.parquet")
    (folder / "manifest.json").write_text(json.dumps({"as_of": AS_OF.isoformat(),
                                                      "models": {}}))  # fmt: skip
    return n


def real_night(folder: Path, env: dict[str, str], customers: int, months: int) -> None:
    """Train the champions on the stored book and run the night of AS_OF on its exports (all
    already stored: the night's ingest finds them unchanged), as `make demo` does."""
    if not any((folder / "raw").glob("*.parquet")):
        simulate_raw(folder, customers, months)
    commands = [["nightly", "--as-of", AS_OF.isoformat()]]
    if not (folder / "mlflow.db").exists():  # trained once
        commands.insert(0, ["train", "--truth", str(folder / "truth.parquet"), "--auto-promote"])
    for command in commands:
        subprocess.run([*REGUA, *command], env=env, check=True, stdout=sys.stderr)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def analyst(base: str, name: str, ids: list[str], until: float, times: list[float],
                  errors: list[int], think: float) -> None:  # fmt: skip
    """One analyst: log in, then open random customer pages until `until`, reading each for
    `think` seconds (0: back to back)."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        page = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        await client.post("/login", data={"name": name, "password": PASSWORD,
                                          "csrf_token": token})  # fmt: skip
        rng = random.Random(name)
        while time.monotonic() < until:
            started = time.perf_counter()
            response = await client.get(f"/clientes/{rng.choice(ids)}")
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors.append(response.status_code)
            if think:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1, help="regua web --workers")
    parser.add_argument(
        "--think", type=float, default=0.0, help="Mean seconds an analyst reads a page (0: none)."
    )
    parser.add_argument("--night", choices=("real", "synthetic"), default="real")
    args = parser.parse_args()
    folder = BENCH_ROOT / f"workbench-{args.night}-{args.customers}"
    store, _ = prepare_store(folder, args.customers, args.months)
    env = {**os.environ, "REGUA_DATA_DIR": str(folder), "PREFECT_HOME": str(folder / "prefect"),
           "REGUA_WORKBENCH_SECRET_FILE": str(folder / "secret")}  # fmt: skip
    if not (folder / "out" / AS_OF.isoformat() / "manifest.json").exists():
        if args.night == "real":
            real_night(folder, env, args.customers, args.months)
        else:
            write_night(store, folder / "out")
    n = (
        pl.scan_parquet(folder / "out" / AS_OF.isoformat() / "limits.parquet")
        .select(pl.len())
        .collect()
        .item()
    )
    (folder / "workbench.db").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{folder / 'workbench.db'}")
    upgrade(engine)
    with session_factory(engine).begin() as session:
        for i in range(args.clients):
            add_user(session, f"analista{i}", "analyst", PASSWORD)
    engine.dispose()
    port = _free_port()
    command = [*REGUA, "web", "--port", str(port), "--workers", str(args.workers)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        warm = httpx.Client(base_url=base, timeout=120)  # the first page reads the book
        token = re.search(r'name="csrf_token" value="([^"]+)"', warm.get("/login").text)
        warm.post("/login", data={"name": "analista0", "password": PASSWORD,
                                  "csrf_token": token.group(1)})  # fmt: skip
        ids = pl.read_parquet(folder / "out" / AS_OF.isoformat() / "limits.parquet",
                              columns=["customer_id"])["customer_id"].to_list()  # fmt: skip
        warm.get(f"/clientes/{ids[0]}")
        warm.close()
        ready = time.monotonic()
        if args.night == "real":  # the server explains every customer once, in the background
            while not any((folder / "store" / REASONS_CACHE).glob("*/*/*.parquet")):
                time.sleep(1)
        print(f"reasons of the night ready {time.monotonic() - ready:.0f} s after the first page",
              file=sys.stderr)  # fmt: skip
        times: list[float] = []
        errors: list[int] = []

        async def run() -> None:
            until = time.monotonic() + args.seconds
            await asyncio.gather(*(analyst(base, f"analista{i}", ids, until, times, errors,
                                           args.think) for i in range(args.clients)))  # fmt: skip

        asyncio.run(run())
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = sorted(t * 1000 for t in times)
    q = statistics.quantiles(ms, n=100)
    print(f"# {machine()}; {date.today()}")
    print("| night | customers | analysts | think s | workers | seconds | pages | pages/s | "
          "p50 ms | p95 ms | p99 ms | errors |")  # fmt: skip
    print(f"| {args.night} | {n:,} | {args.clients} | {args.think:g} | {args.workers} | "
          f"{args.seconds:g} | {len(ms):,} | {len(ms) / args.seconds:.1f} | {q[49]:.0f} | "
          f"{q[94]:.0f} | {q[98]:.0f} | {len(errors)} |")  # fmt: skip


if __name__ == "__main__":
    main()
