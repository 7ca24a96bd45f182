"""The model registry: every new version is a challenger; the gate and an approval make a champion.

The gate scores the challenger, the current champion and the challenger's own scorecard on
the same out-of-time rows, and compares AUCs with a paired bootstrap interval
(`models.metrics.auc_difference`); the calibration error is bounded too. Passing it does not
make a champion: promotion is a recorded act (`promote`: who, when, why, as model-version
tags beside the `champion` alias), done by a person (`regua models promote`) or, when the
training was started with `--auto-promote`, by the training itself and recorded as such.
The nightly can refuse a champion whose approval is not recorded (`approval_of`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import polars as pl
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from regua.config.gate import GateConfig, load_gate
from regua.models.metrics import AucDifference, auc_difference, expected_calibration_error

if TYPE_CHECKING:
    from regua.models.calibration import Recalibration

log = logging.getLogger(__name__)

CHALLENGER = "challenger"
CHAMPION = "champion"
AUC_METRIC = "oot_auc"
ECE_METRIC = "oot_ece"
GATE_TAG = "gate"
GATE_REASON_TAG = "gate_reason"
APPROVAL_TAGS = ("approved_by", "approved_at", "approval_reason", "approval")
AUTO_PROMOTE = "auto-promote"
"""Who `approved_by` names when `regua train --auto-promote` promoted a version."""


class PromotionError(ValueError):
    """A promotion the registry refuses (unknown version, or one the gate failed)."""


@dataclass(frozen=True)
class PromotionGate:
    """The gate's margins (AUC against champion and scorecard), largest ECE, bootstrap."""

    auc_margin: float = 0.005
    max_ece: float = 0.03
    baseline_margin: float = 0.0
    samples: int = 500
    confidence: float = 0.95
    seed: int = 42

    @classmethod
    def from_config(cls, config: GateConfig | None = None) -> PromotionGate:
        """The gate of the installation's config/gate.yaml (or of the config given)."""
        config = config or load_gate()
        return cls(
            auc_margin=config.auc_margin,
            max_ece=config.max_ece,
            baseline_margin=config.baseline_margin,
            samples=config.bootstrap.samples,
            confidence=config.bootstrap.confidence,
            seed=config.bootstrap.seed,
        )


@dataclass(frozen=True)
class GateFigures:
    """What the gate measured on the challenger's out-of-time rows."""

    rows: int
    challenger_auc: float
    challenger_ece: float
    baseline: AucDifference
    champion: AucDifference | None = None
    champion_version: str | None = None
    champion_problem: str | None = None

    def metrics(self) -> dict[str, float]:
        """Flat figures for MLflow (prefix `gate_`)."""
        out = {
            "gate_rows": float(self.rows),
            "gate_baseline_auc": self.baseline.auc_b,
            "gate_vs_baseline_low": self.baseline.low,
            "gate_vs_baseline_high": self.baseline.high,
        }
        if self.champion is not None:
            out |= {
                "gate_champion_auc": self.champion.auc_b,
                "gate_vs_champion_low": self.champion.low,
                "gate_vs_champion_high": self.champion.high,
            }
        return out


def gate_figures(
    scores: pl.DataFrame,
    gate: PromotionGate,
    champion_version: str | None = None,
    champion_problem: str | None = None,
) -> GateFigures:
    """AUC intervals against the scorecard and (if scored) the champion, and the ECE.

    `scores` holds `label`, `score` (challenger), `baseline_score` (its scorecard) and,
    when the champion could score the same rows, `champion_score`.
    """
    y = scores["label"].to_numpy()
    options = {"samples": gate.samples, "confidence": gate.confidence, "seed": gate.seed}
    challenger = scores["score"].to_numpy()
    baseline = auc_difference(y, challenger, scores["baseline_score"].to_numpy(), **options)
    champion = None
    if "champion_score" in scores.columns:
        champion = auc_difference(y, challenger, scores["champion_score"].to_numpy(), **options)
    return GateFigures(
        rows=scores.height,
        challenger_auc=baseline.auc_a,
        challenger_ece=expected_calibration_error(y, challenger),
        baseline=baseline,
        champion=champion,
        champion_version=champion_version,
        champion_problem=champion_problem,
    )


def _interval(d: AucDifference) -> str:
    return f"{d.difference:+.4f} [{d.low:+.4f}, {d.high:+.4f}]"


def decide(figures: GateFigures, gate: PromotionGate) -> tuple[bool, str]:
    """The gate as a pure function: (passed?, reason in one sentence)."""
    if figures.challenger_ece > gate.max_ece:
        return False, (
            f"calibration error {figures.challenger_ece:.4f} above the bound {gate.max_ece}"
        )
    base = figures.baseline
    if base.difference <= gate.baseline_margin:
        return False, (
            f"does not beat its scorecard: AUC {base.auc_a:.4f} vs {base.auc_b:.4f}, "
            f"difference {_interval(base)} must be above {gate.baseline_margin:+.4f}"
        )
    if figures.champion_version is not None and figures.champion is None:
        return False, (
            f"champion v{figures.champion_version} could not be scored on the same rows "
            f"({figures.champion_problem}); compare by hand and promote with --over-gate"
        )
    scorecard = f"scorecard {_interval(base)}"
    if figures.champion is None:
        return True, f"no champion yet; AUC {base.auc_a:.4f}, {scorecard}"
    champ = figures.champion
    if champ.low < -gate.auc_margin:
        return False, (
            f"AUC {champ.auc_a:.4f} vs champion v{figures.champion_version} {champ.auc_b:.4f} "
            f"on the same {figures.rows:,} rows: difference {_interval(champ)} reaches below "
            f"-{gate.auc_margin}"
        )
    return True, (
        f"AUC {champ.auc_a:.4f} vs champion v{figures.champion_version} {champ.auc_b:.4f} on "
        f"the same {figures.rows:,} rows, difference {_interval(champ)} (margin "
        f"{gate.auc_margin}); {scorecard}; calibration error {figures.challenger_ece:.4f}"
    )


@dataclass(frozen=True)
class Approval:
    """Who made a version champion, when (UTC, ISO) and why."""

    approved_by: str
    approved_at: str
    approval_reason: str
    approval: str  # "human" or "auto"


@dataclass(frozen=True)
class PromotionDecision:
    """What the gate decided for one model version, on which figures, and if it is champion."""

    model_name: str
    version: str
    passed: bool
    promoted: bool
    reason: str
    challenger_auc: float
    challenger_ece: float
    baseline_auc: float
    champion_version: str | None = None
    champion_auc: float | None = None


def champion_version(client: MlflowClient, name: str) -> str | None:
    """The version holding the champion alias, or None."""
    try:
        return str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


def approval_of(client: MlflowClient, name: str, version: str) -> Approval | None:
    """The recorded approval of a version, or None when it has none."""
    tags = client.get_model_version(name, str(version)).tags
    if not all(tags.get(key) for key in APPROVAL_TAGS):
        return None
    return Approval(**{key: tags[key] for key in APPROVAL_TAGS})


def promote(
    client: MlflowClient,
    name: str,
    version: str,
    *,
    by: str,
    why: str,
    over_gate: bool = False,
    auto: bool = False,
) -> Approval:
    """Make `version` the champion and record who, when and why on the model version.

    A version the gate failed is refused unless `over_gate` (recorded in the reason).
    """
    version = str(version)
    if not by.strip() or not why.strip():
        raise PromotionError("a promotion needs who approves it (--by) and why (--why)")
    try:
        tags = client.get_model_version(name, version).tags
    except MlflowException as exc:
        raise PromotionError(f"model {name!r} has no version {version}") from exc
    if tags.get(GATE_TAG) == "failed" and not over_gate:
        raise PromotionError(
            f"{name} v{version} failed the gate ({tags.get(GATE_REASON_TAG, 'no reason')}); "
            "promote it anyway with --over-gate"
        )
    if tags.get(GATE_TAG) == "failed":
        why = f"{why} [over the gate: {tags.get(GATE_REASON_TAG, '')}]"
    approval = Approval(
        approved_by=by.strip(),
        approved_at=datetime.now(UTC).isoformat(timespec="seconds"),
        approval_reason=why.strip(),
        approval="auto" if auto else "human",
    )
    for key, value in asdict(approval).items():
        client.set_model_version_tag(name, version, key, value)
    previous = champion_version(client, name)
    client.set_registered_model_alias(name, CHAMPION, version)
    run_id = client.get_model_version(name, version).run_id
    client.set_tag(run_id, "promotion", "champion")
    log.info(
        "%s v%s champion (was %s), approved by %s", name, version, previous, approval.approved_by
    )
    return approval


def gate_recalibration(
    client: MlflowClient,
    name: str,
    version: str,
    recalibration: Recalibration,
    gate: PromotionGate,
    *,
    auto_promote: bool = False,
) -> PromotionDecision:
    """Gate a recalibrated champion: its calibration error on the held-out half is in
    bounds and no worse than before; promote it if asked."""
    version = str(version)
    client.set_registered_model_alias(name, CHALLENGER, version)
    r = recalibration
    figures = (
        f"{r.method} on {r.window}: calibration error {r.ece_before:.4f} -> {r.ece_after:.4f} "
        f"on {r.check_rows:,} held-out rows (base rate {r.base_rate:.4f})"
    )
    if r.ece_after > gate.max_ece:
        passed, reason = False, f"{figures}, above the bound {gate.max_ece}"
    elif r.ece_after > r.ece_before:
        passed, reason = False, f"{figures}: no better than before"
    else:
        passed, reason = True, f"{figures}; ranking unchanged (monotone map)"
    client.set_model_version_tag(name, version, GATE_TAG, "passed" if passed else "failed")
    client.set_model_version_tag(name, version, GATE_REASON_TAG, reason)
    if passed and auto_promote:
        promote(client, name, version, by=AUTO_PROMOTE, why=reason, auto=True)
    run_id = client.get_model_version(name, version).run_id
    if not (passed and auto_promote):
        client.set_tag(run_id, "promotion", "awaiting approval" if passed else "rejected")
    log.info("%s v%s recalibration gate %s: %s", name, version, passed, reason)
    return PromotionDecision(
        model_name=name,
        version=version,
        passed=passed,
        promoted=passed and auto_promote,
        reason=reason,
        challenger_auc=float("nan"),
        challenger_ece=r.ece_after,
        baseline_auc=float("nan"),
    )


def gate_challenger(
    client: MlflowClient,
    name: str,
    version: str,
    figures: GateFigures,
    gate: PromotionGate,
    *,
    auto_promote: bool = False,
) -> PromotionDecision:
    """Mark `version` challenger, apply the gate, record the decision; promote if asked."""
    version = str(version)
    client.set_registered_model_alias(name, CHALLENGER, version)
    passed, reason = decide(figures, gate)
    client.set_model_version_tag(name, version, GATE_TAG, "passed" if passed else "failed")
    client.set_model_version_tag(name, version, GATE_REASON_TAG, reason)
    promoted = False
    if passed and auto_promote:
        promote(client, name, version, by=AUTO_PROMOTE, why=reason, auto=True)
        promoted = True
    run_id = client.get_model_version(name, version).run_id
    decision = PromotionDecision(
        model_name=name,
        version=version,
        passed=passed,
        promoted=promoted,
        reason=reason,
        challenger_auc=figures.challenger_auc,
        challenger_ece=figures.challenger_ece,
        baseline_auc=figures.baseline.auc_b,
        champion_version=figures.champion_version,
        champion_auc=None if figures.champion is None else figures.champion.auc_b,
    )
    client.log_dict(
        run_id,
        {**asdict(decision), "figures": asdict(figures)},
        "promotion_decision.json",
    )
    if not promoted:
        client.set_tag(run_id, "promotion", "awaiting approval" if passed else "rejected")
    log.info("%s v%s gate %s: %s", name, version, "passed" if passed else "failed", reason)
    return decision
