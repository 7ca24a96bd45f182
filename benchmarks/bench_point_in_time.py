"""What point-in-time customer attributes are worth (issue 19): the leak of a snapshot, measured.

    python benchmarks/bench_point_in_time.py --customers 40000 --seeds 1 11

For each seed a portfolio is simulated and ingested once under
/tmp/regua-bench/point_in_time (never the repo); its `customer_attributes` history dates
the bureau score, limit, income and employment, and its customers table shows their
values on the export date, as a company's snapshot does. The delinquency model is
trained out of time (the default TrainingSpec: 18 month-ends, the last 2 held out):

- dated: on features with the attributes as of each snapshot (the history);
- snapshot: on features without the history, so every past as_of sees the export-date
  values (the old way: after a default the score has already dropped, the limit is cut);
  scored on its own (leaky) test rows, and on the dated test rows, which is what it
  meets in production;

and the oracle AUC (models.train.oracle_auc, the truth's point-in-time probability) on
the same test rows. Prints a Markdown table for benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import BENCH_ROOT, machine, prepare_store

ROOT = BENCH_ROOT / "point_in_time"


def measure(customers: int, months: int, seed: int) -> dict[str, float]:
    """AUCs of the dated and the snapshot-trained models, and the oracle's, for one seed."""
    from sklearn.metrics import roc_auc_score

    from regua import features
    from regua.contract import TABLES
    from regua.models.train import (
        TrainingSpec,
        build_dataset,
        oracle_auc,
        predict_scores,
        split_out_of_time,
        train,
        training_dates,
    )
    from regua.store import Store

    store, truth_file = prepare_store(
        ROOT / f"{customers}x{months}-seed{seed}", customers, months, seed
    )
    truth = pl.read_parquet(truth_file)
    opened = Store(store)
    dated = {name: opened.scan(name) for name in TABLES}
    snapshot = {name: frame for name, frame in dated.items() if name != "customer_attributes"}
    spec = TrainingSpec(kind="delinquency")
    dates = training_dates(dated, spec)
    started = time.perf_counter()
    dated_features = features.build_from_frames(dated, dates)
    snapshot_features = features.build_from_frames(snapshot, dates)
    build_seconds = time.perf_counter() - started
    on_dated = train(dated, spec, truth=truth, feature_table=dated_features)
    on_snapshot = train(snapshot, spec, truth=truth, feature_table=snapshot_features)
    dataset = build_dataset(dated, spec, feature_table=dated_features)
    _, dated_test = split_out_of_time(dataset, spec.out_of_time, spec.horizon_days())
    crossed = predict_scores(on_snapshot.model, dated_test)
    return {
        "seed": seed,
        "customers": customers,
        "rows": opened.scan("customer_attributes").select(pl.len()).collect().item(),
        "test_rows": on_dated.test_rows,
        "dated": on_dated.evaluation.auc,
        "snapshot": on_snapshot.evaluation.auc,
        "snapshot_on_dated": float(roc_auc_score(dated_test["label"], crossed)),
        "oracle": oracle_auc(on_dated.test_scores, truth, "delinquency"),
        "build_s": build_seconds,
    }


def main() -> None:
    """Parse arguments, measure each seed and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=40_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 11])
    args = parser.parse_args()
    os.environ.setdefault("REGUA_DOCUMENT_KEY", "benchmark-key-not-a-secret-0123456789")
    print(f"{date.today()} — {machine()}\n")
    print(
        "| seed | customers | attribute rows | OOT test rows | dated AUC | snapshot AUC "
        "(its own test rows) | snapshot-trained, scored on dated | oracle AUC "
        "| feature build, both (s) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for seed in args.seeds:
        r = measure(args.customers, args.months, seed)
        print(
            f"| {r['seed']} | {r['customers']:,} | {r['rows']:,} | {r['test_rows']:,} "
            f"| {r['dated']:.3f} | {r['snapshot']:.3f} | {r['snapshot_on_dated']:.3f} "
            f"| {r['oracle']:.3f} | {r['build_s']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
