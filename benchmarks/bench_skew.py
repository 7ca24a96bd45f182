"""Train/serve skew: a mid-month night against the training reference, and AUC mid-month.

    python benchmarks/bench_skew.py --customers 20000 [--seed 1] [--cut 2026-09-30]

A portfolio is simulated and ingested once under /tmp/regua-bench/skew. Both models are
trained twice on the history known at `--cut` (a month-end): once on month-end
snapshots (`days_per_month=1`, the earlier way) and once spread over 10 days of each
month (the default). Each pair of models is then read the way the nightly reads it:

- drift: nights after the cut (the 9th, the 21st and the month-end of the next month),
  features of every customer, scored, against the model's reference sample at the
  night's point of the month (`models.drift.drift_report`); the largest PSI of a
  non-macro feature, the features above 0.1, the scores' PSI, the macro moves;
- quality: out-of-time AUC at the test months' ends (what training reports) and on the
  21st of the same months (what a mid-month night scores), with labels as configured.

Prints Markdown tables for benchmarks/README.md ("Models", train/serve skew).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import BENCH_ROOT, machine, prepare_store

ROOT = BENCH_ROOT / "skew"


def known_by(tables: dict[str, pl.LazyFrame], day: date) -> dict[str, pl.LazyFrame]:
    """The tables as an export taken at the end of `day` would hold them."""
    return {
        **tables,
        "customers": tables["customers"].filter(pl.col("opened_at") <= day),
        "invoices": tables["invoices"].filter(pl.col("issued_at") <= day),
        "payments": tables["payments"].filter(pl.col("paid_at") <= day),
        "contacts": tables["contacts"].filter(pl.col("at") < day + timedelta(days=1)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cut", type=date.fromisoformat, default=date(2026, 9, 30))
    parser.add_argument(
        "--days-per-month", type=int, nargs="+", default=[1, 10], help="Variants to train."
    )
    args = parser.parse_args()
    os.environ.setdefault("REGUA_DOCUMENT_KEY", "benchmark-key-not-a-secret-0123456789")
    folder = ROOT / f"{args.customers}x{args.months}-seed{args.seed}"
    store_path, truth_path = prepare_store(folder, args.customers, args.months, args.seed)

    from sklearn.metrics import roc_auc_score

    from regua.config import load_labels
    from regua.config.drift import load_drift
    from regua.contract import TABLES
    from regua.features import build_from_frames
    from regua.features.catalog import FEATURE_NAMES, MACRO_FEATURES
    from regua.features.ledger import observed_until
    from regua.models.drift import drift_report
    from regua.models.labels import delinquency_labels, propensity_labels
    from regua.models.population import out_of_population, something_overdue
    from regua.models.train import (
        TrainingSpec,
        predict_scores,
        snapshot_features,
        train,
    )
    from regua.store import Store

    store = Store(store_path)
    tables = {name: store.scan(name) for name in TABLES}
    history = known_by(tables, args.cut)
    truth = pl.read_parquet(truth_path)
    labels_config, drift_config = load_labels(), load_drift()
    following = (args.cut + timedelta(days=1)).replace(day=1)
    month_end = (following.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(1)
    nights = [following.replace(day=9), following.replace(day=21), month_end]
    night_features = build_from_frames(tables, nights)
    macro = store.read("macro")
    end = observed_until(tables)

    print(f"{date.today()} — {machine()}; {args.customers:,} customers, seed {args.seed}, "
          f"history known at {args.cut}\n")  # fmt: skip
    drift_rows, quality_rows = [], []
    for per_month in args.days_per_month:
        specs = [
            TrainingSpec(kind=kind, days_per_month=per_month, labels=labels_config)
            for kind in ("delinquency", "propensity_to_pay")
        ]
        started = time.perf_counter()
        table = snapshot_features(history, specs)
        built = time.perf_counter() - started
        results = [train(history, spec, truth=truth, feature_table=table) for spec in specs]
        seconds = time.perf_counter() - started
        variant = "month-end" if per_month == 1 else f"spread over {per_month} days"
        references = {r.spec.kind: r.reference_sample for r in results}
        for night in nights:
            current = night_features.filter(pl.col("as_of") == night)
            scored = current.with_columns(
                predict_scores(results[0].model, current).alias("pd"),
                pl.when(something_overdue())
                .then(predict_scores(results[1].model, current))
                .alias("propensity"),
                (~out_of_population(labels_config.delinquency)).alias("in_population"),
            )
            report = drift_report(
                scored, references, FEATURE_NAMES, drift_config, as_of=night, macro=macro
            )
            features = report.table.filter(pl.col("kind") == "feature").drop_nulls("psi")
            scores = dict(
                report.table.filter(pl.col("kind") == "score").select("column", "psi").iter_rows()
            )
            moves = report.table.filter(pl.col("kind") == "macro")
            drift_rows.append(
                f"| {variant} | {night} | {scores.get('pd', float('nan')):.3f} "
                f"| {scores.get('propensity', float('nan')):.3f} "
                f"| {features['psi'][0]:.3f} ({features['column'][0]}) "
                f"| {(features['psi'] > 0.1).sum()} of {features.height} "
                f"| {', '.join(f'{c} {z:+.1f}' for c, z in moves.select('column', 'z').iter_rows() if z is not None)} |"  # noqa: E501
            )
        for result, make in zip(results, (delinquency_labels, propensity_labels), strict=True):
            mids = [d.replace(day=21) for d in result.test_dates]
            mid = build_from_frames(tables, mids)
            labels = make(tables, mids, end, labels_config)
            rows = mid.join(labels, on=["customer_id", "as_of"])
            mid_auc = roc_auc_score(rows["label"], predict_scores(result.model, rows))
            quality_rows.append(
                f"| {variant} | {result.spec.kind} | {result.train_rows:,} "
                f"| {result.evaluation.auc:.4f} | {result.oracle_auc or float('nan'):.4f} "
                f"| {mid_auc:.4f} | {rows.height:,} | {built:.0f} / {seconds:.0f} |"
            )
        print(f"trained {variant}: {seconds:.0f} s", file=sys.stderr, flush=True)
    print("Drift of nights after the cut against each training's reference sample (PSI; "
          f"macro features {len(MACRO_FEATURES)} read as moves):\n")  # fmt: skip
    print("| training snapshots | night | PD PSI | propensity PSI | largest feature PSI "
          "| features above 0.1 | macro moves (z) |")  # fmt: skip
    print("| --- | --- | ---: | ---: | --- | ---: | --- |")
    print("\n".join(drift_rows))
    print("\nOut-of-time AUC at the test months' ends and on their 21st:\n")
    print("| training snapshots | model | train rows | OOT AUC (month-ends) | oracle AUC "
          "| AUC on the 21st | rows on the 21st | features / all (s) |")  # fmt: skip
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(quality_rows))


if __name__ == "__main__":
    main()
