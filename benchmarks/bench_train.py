"""Training speed and quality: both models, against the scorecard baseline and the oracle.

    python benchmarks/bench_train.py --customers 100000 [--months 24]
    python benchmarks/bench_train.py --store DIR --truth FILE   # reuse an ingested store

Without --store, a portfolio is simulated (seed 1) and ingested once under
/tmp/regua-bench/train (never the repo). Training logs to a throwaway MLflow store in
that folder. Prints two Markdown tables for benchmarks/README.md: the models (time,
out-of-time figures, the scorecard's and the oracle's AUC) and the cost of reasons
(TreeSHAP contributions against a plain prediction).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import BENCH_ROOT, machine, prepare_store

ROOT = BENCH_ROOT / "train"


def reasons_cost(
    model, rows: pl.DataFrame, sizes: list[int]
) -> list[tuple[int, float, float, float]]:
    """Seconds to predict, to compute contributions and to build reasons for n customers."""
    from regua.models.explain import explain
    from regua.models.train import feature_matrix

    out = []
    for n in sizes:
        sample = rows.head(n)
        matrix = feature_matrix(sample)
        started = time.perf_counter()
        model.predict_proba(matrix)
        predict = time.perf_counter() - started
        started = time.perf_counter()
        model.contributions(matrix)
        contrib = time.perf_counter() - started
        started = time.perf_counter()
        explain(model, sample)
        reasons = time.perf_counter() - started
        out.append((sample.height, predict, contrib, reasons))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--store", type=Path)
    parser.add_argument("--truth", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("REGUA_DOCUMENT_KEY", "benchmark-key-not-a-secret-0123456789")
    if args.store:
        store, truth, folder = args.store, args.truth, ROOT
    else:
        folder = ROOT / f"{args.customers}x{args.months}"
        if (args.seed, args.error_rate) != (1, 0.0):
            folder = folder.with_name(f"{folder.name}-seed{args.seed}-e{args.error_rate:g}")
        store, truth = prepare_store(
            folder, args.customers, args.months, args.seed, args.error_rate
        )
    # the default store's MLflow folder is the one `make bench` hands to bench_nightly
    mlflow_dir = ROOT / "mlflow" if (args.seed, args.error_rate) == (1, 0.0) else folder / "mlflow"
    shutil.rmtree(mlflow_dir, ignore_errors=True)
    mlflow_dir.mkdir(parents=True)
    os.environ["REGUA_MLFLOW_ARTIFACT_DIR"] = str(mlflow_dir / "artifacts")

    from regua import features
    from regua.models.registry import PromotionGate
    from regua.pipelines.train import train_models
    from regua.store import Store

    started = time.perf_counter()
    trained = train_models(
        store,
        truth=pl.read_parquet(truth) if truth else None,
        tracking_uri=f"sqlite:///{mlflow_dir}/mlflow.db",
        gate=PromotionGate(),
        auto_promote=True,  # bench_nightly scores with these champions
    )
    total = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    print(f"{date.today()} — {machine()}; store {store}\n")
    print(
        f"Both models, features built once, logged to MLflow: {total:.0f} s in all, "
        f"peak RSS {peak:.1f} GiB.\n"
    )
    print(
        "| model | train rows | test rows | fit + evaluate (s) | OOT AUC | scorecard AUC "
        "| oracle AUC | gap | oracle AUC (lookahead) | KS | Brier | ECE "
        "| trees | monotone violations | gate |"
    )
    print("| --- |" + " ---: |" * 13 + " --- |")
    for item in trained:
        r, e = item.result, item.result.evaluation

        def fmt(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.4f}"

        gap = r.oracle_gap
        print(
            f"| {r.spec.kind} | {r.train_rows:,} | {r.test_rows:,} | {r.seconds:.0f} "
            f"| {e.auc:.4f} | {r.baseline_evaluation.auc:.4f} | {fmt(r.oracle_auc)} "
            f"| {fmt(gap)} | {fmt(r.oracle_auc_lookahead)} | {e.ks:.3f} | {e.brier:.4f} "
            f"| {e.ece:.4f} | {r.model.best_iteration_} "
            f"| {sum(r.model.monotonicity_violations_.values())} "
            f"| {'champion' if item.decision.promoted else 'challenger'}: {item.decision.reason} |",
            flush=True,
        )

    model = trained[0].result.model
    as_of = trained[0].result.test_dates[-1]
    rows = features.build(Store(store), [as_of])
    print("\nReasons (delinquency model, one as_of):\n")
    print("| customers | predict_proba (s) | contributions (s) | reasons (s) | reasons / predict |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for n, predict, contrib, reasons in reasons_cost(model, rows, [1, 1_000, rows.height]):
        print(
            f"| {n:,} | {predict:.3f} | {contrib:.3f} | {reasons:.3f} | {reasons / predict:.0f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
