"""The day's decisions end to end: `dunning.actions.decide` over a whole simulated book.

    python benchmarks/bench_decide.py --tracking-uri sqlite:////tmp/regua-bench/train/mlflow/mlflow.db
        [--customers 1000000] [--months 24] [--as-of 2026-10-30] [--with-reasons]
    python benchmarks/bench_decide.py --fixed-scores [--customers 1000000]

Uses the store `bench_nightly.py` prepares (seed 1, under /tmp/regua-bench/nightly). As in
the nightly flow, the open invoices at as_of come out of the feature build, from the
ledger the features already sort: the features are built twice, alone and with the open
invoices, and the difference is the open invoices' own cost. The table is scored with the
champions (untimed); then `decide` runs on the lazy store tables and the open invoices
(ladder plan, guardrails, de-listings, segments, limits), first without a model (the
assignment itself) and then with the delinquency model (plus the Portuguese reasons of
the customers someone reads that day). Target (issue 6): assignment for 1,000,000
customers in under 30 s, counted as decide plus the open invoices' share of the build
(issue 16 keeps it for collection cases: the case clocks come out of the same ledger).
`--fixed-scores` scores every customer from a hash of its id instead of the champions
(no trained models needed; the decisions' work is the same). The store has no contact
made by regua, so this is a first night: every case is due at once, its worst case.
Prints a Markdown table.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_nightly import ROOT
from benchmarks.common import machine, night_arguments, prepare_store


def main() -> None:
    """Time decide with and without reasons and print a Markdown table."""
    parser = night_arguments(__doc__.splitlines()[0], tracking=False)
    parser.add_argument(
        "--with-reasons", action="store_true", help="Also time decide with the model's reasons."
    )
    parser.add_argument(
        "--fixed-scores", action="store_true", help="Scores from a hash, no champions."
    )
    args = parser.parse_args()
    if not args.fixed_scores and not args.tracking_uri:
        parser.error("--tracking-uri is required unless --fixed-scores")
    os.environ.setdefault("REGUA_DOCUMENT_KEY", "benchmark-key-not-a-secret-0123456789")
    store_dir, _ = prepare_store(
        ROOT / f"{args.customers}x{args.months}", args.customers, args.months
    )

    from regua import features
    from regua.contract import TABLES
    from regua.dunning.actions import decide, load_dunning_config
    from regua.features.build import build_with_open_invoices
    from regua.models.scoring import load_champion, score
    from regua.store import Store

    store = Store(store_dir)
    tables = {name: store.scan(name) for name in TABLES}
    config = load_dunning_config()
    champions = None
    if not args.fixed_scores:
        champions = (
            load_champion("delinquency", args.tracking_uri),
            load_champion("propensity_to_pay", args.tracking_uri),
        )
    started = time.perf_counter()
    features.build_from_frames(tables, [args.as_of])
    features_alone = time.perf_counter() - started
    started = time.perf_counter()
    table, open_invoices = build_with_open_invoices(tables, args.as_of)
    with_open = time.perf_counter() - started
    open_share = max(0.0, with_open - features_alone)
    if champions is None:
        scored = table.with_columns(
            (pl.col("customer_id").hash(1) % 1000 / 1000).alias("pd"),
            (pl.col("customer_id").hash(2) % 1000 / 1000).alias("propensity"),
        )
    else:
        scores = score(table, champions[0].model, champions[1].model)
        scored = table.join(scores.drop("as_of"), on="customer_id")

    rows = []
    runs = [("assignment (no reasons)", None)]
    if args.with_reasons and champions is not None:
        runs.append(("with reasons", champions[0].model))
    for label, model in runs:
        started = time.perf_counter()
        decisions = decide(scored, tables, args.as_of, config, model, open_invoices)
        seconds = time.perf_counter() - started
        actions = decisions.actions
        read = actions.filter(pl.col("top_reasons").list.len() > 0)["customer_id"].n_unique()
        changed = decisions.limits.filter(pl.col("decision") != "keep").height
        rows.append((label, seconds, actions.height, read, changed))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    status = dict(actions.group_by("status").len().sort("status").iter_rows())
    print(f"{date.today()} — {machine()}; store {store_dir}\n")
    print(
        f"{scored.height:,} customers scored at {args.as_of}; {actions.height:,} actions "
        f"{status}; peak RSS of the process {peak:.1f} GiB.\n"
    )
    print(
        f"Features alone {features_alone:.1f} s; with the {open_invoices.height:,} open "
        f"invoices from the same ledger {with_open:.1f} s (their share: {open_share:.1f} s).\n"
    )
    print(
        "| decide | decide (s) | + open invoices (s) | assignment (s) | actions "
        "| customers with reasons | limit changes |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, seconds, n_actions, read, changed in rows:
        print(
            f"| {label} | {seconds:.1f} | {open_share:.1f} | {seconds + open_share:.1f} "
            f"| {n_actions:,} | {read:,} | {changed:,} |"
        )


if __name__ == "__main__":
    main()
