"""Treatment-effect learners compared: regua's T- and X-learner against econml's.

On cases with a known effect of a call (positive for some, negative for the rest, the
shape the twin's phone parameters give), randomized with a call share of 50% and of 10%
(an exploration share), each learner is fitted on the history and judged by the uplift
AUC share against the true effects (1 = perfect order, 0 = random), the true value of
its greedy policy as a share of the best policy's, and its fit time. econml (if
installed: `pip install econml`, pinned in constraints.txt) runs its XLearner and
DRLearner with the same LightGBM settings. Prints a Markdown table.

    python benchmarks/bench_uplift.py --cases 5000 --seeds 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import machine
from regua.models.uplift import NetValueLearner, uplift_auc_share

SETTINGS = {"n_estimators": 200, "learning_rate": 0.05, "num_leaves": 15, "min_child_samples": 40}


def world(n: int, seed: int, call_share: float):
    """Features, treatment, net outcome and the true effect of a call per case."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 6))
    effect = np.where(x[:, 0] > 0.5, 40.0 * x[:, 1] + 10.0, -8.0)
    base = 100.0 + 80.0 * x[:, 2] + 30.0 * x[:, 3]
    call = rng.random(n) < call_share
    return x, np.where(call, "call", "none"), base + effect * call + rng.normal(0, 50, n), effect


def regua_learner(kind: str):
    def fit(x, t, y, share):
        model = NetValueLearner(learner=kind, control="none", **SETTINGS).fit(
            x, t, y, propensity={"call": share, "none": 1 - share}
        )
        return model.predict_effects(x)[:, model.treatments_.index("call")]

    return fit


def econml_learner(kind: str):
    from lightgbm import LGBMClassifier, LGBMRegressor

    def fit(x, t, y, share):
        regressor = LGBMRegressor(verbose=-1, n_jobs=1, **SETTINGS)
        classifier = LGBMClassifier(verbose=-1, n_jobs=1, **SETTINGS)
        if kind == "x":
            from econml.metalearners import XLearner

            model = XLearner(models=regressor, propensity_model=classifier)
        else:
            from econml.dr import DRLearner

            model = DRLearner(
                model_propensity=classifier, model_regression=regressor,
                model_final=LGBMRegressor(verbose=-1, n_jobs=1, **SETTINGS), cv=2,
            )  # fmt: skip
        model.fit(y, t, X=x)
        return model.effect(x, T0="none", T1="call")

    return fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    learners = {"regua T": regua_learner("t"), "regua X": regua_learner("x")}
    try:
        import econml

        learners |= {
            f"econml {econml.__version__} X": econml_learner("x"),
            f"econml {econml.__version__} DR": econml_learner("dr"),
        }
    except ImportError:
        print("econml not installed: only regua's learners", file=sys.stderr)
    print(f"{machine()}\n")
    print("| call share | learner | uplift AUC share | policy value / best | fit (s) |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for share in (0.5, 0.1):
        for name, fit in learners.items():
            aucs, values, seconds = [], [], []
            for seed in range(args.seeds):
                x, t, y, effect = world(args.cases, seed, share)
                started = time.perf_counter()
                predicted = np.asarray(fit(x, t, y, share)).ravel()
                seconds.append(time.perf_counter() - started)
                aucs.append(uplift_auc_share(predicted, effect))
                values.append(effect[predicted > 0].sum() / effect[effect > 0].sum())
            print(
                f"| {share:.0%} | {name} | {np.mean(aucs):.3f} | {np.mean(values):.3f} | "
                f"{np.mean(seconds):.1f} |"
            )


if __name__ == "__main__":
    main()
