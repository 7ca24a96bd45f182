"""The model registry: every new version is a challenger; a gate decides who is champion.

A version moves to `champion` only if its out-of-time AUC is not below the champion's
minus a tolerance and its calibration error is within bounds. The decision, with the
figures it used, is logged on the challenger's run, so "why is this the champion?" has
an answer in MLflow.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from regua.config.gate import GateConfig, load_gate

log = logging.getLogger(__name__)

CHALLENGER = "challenger"
CHAMPION = "champion"
AUC_METRIC = "oot_auc"
ECE_METRIC = "oot_ece"


@dataclass(frozen=True)
class PromotionGate:
    """How much AUC a challenger may give up against the champion, and the largest ECE."""

    auc_tolerance: float = 0.005
    max_ece: float = 0.03

    @classmethod
    def from_config(cls, config: GateConfig | None = None) -> PromotionGate:
        """The gate of the installation's config/gate.yaml (or of the config given)."""
        config = config or load_gate()
        return cls(auc_tolerance=config.auc_tolerance, max_ece=config.max_ece)


@dataclass(frozen=True)
class PromotionDecision:
    """What the gate decided for one model version, and on which figures."""

    model_name: str
    version: str
    promoted: bool
    reason: str
    challenger_auc: float
    challenger_ece: float
    champion_version: str | None = None
    champion_auc: float | None = None


def decide(
    challenger_auc: float,
    challenger_ece: float,
    champion_auc: float | None,
    gate: PromotionGate,
) -> tuple[bool, str]:
    """The gate as a pure function: (promote?, reason in one sentence)."""
    if challenger_ece > gate.max_ece:
        return False, f"calibration error {challenger_ece:.4f} above the bound {gate.max_ece}"
    if champion_auc is None:
        return True, "no champion yet"
    floor = champion_auc - gate.auc_tolerance
    if challenger_auc < floor:
        return False, (
            f"out-of-time AUC {challenger_auc:.4f} below the champion's {champion_auc:.4f} "
            f"minus {gate.auc_tolerance}"
        )
    return True, (
        f"out-of-time AUC {challenger_auc:.4f} vs champion {champion_auc:.4f} "
        f"(tolerance {gate.auc_tolerance}), calibration error {challenger_ece:.4f}"
    )


def champion_version(client: MlflowClient, name: str) -> str | None:
    """The version holding the champion alias, or None."""
    try:
        return str(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


def promote(
    client: MlflowClient, name: str, version: str, gate: PromotionGate
) -> PromotionDecision:
    """Mark `version` challenger, apply the gate against the champion, log the decision."""
    version = str(version)
    client.set_registered_model_alias(name, CHALLENGER, version)
    challenger = client.get_model_version(name, version)
    metrics = client.get_run(challenger.run_id).data.metrics
    if AUC_METRIC not in metrics or ECE_METRIC not in metrics:
        raise ValueError(
            f"run {challenger.run_id} of {name} v{version} lacks {AUC_METRIC}/{ECE_METRIC}"
        )
    current = champion_version(client, name)
    champion_auc = None
    if current is not None and current != version:
        champion_run = client.get_model_version(name, current).run_id
        champion_auc = client.get_run(champion_run).data.metrics.get(AUC_METRIC)
    promoted, reason = decide(metrics[AUC_METRIC], metrics[ECE_METRIC], champion_auc, gate)
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, version)
    decision = PromotionDecision(
        model_name=name,
        version=str(version),
        promoted=promoted,
        reason=reason,
        challenger_auc=metrics[AUC_METRIC],
        challenger_ece=metrics[ECE_METRIC],
        champion_version=current if current != version else None,
        champion_auc=champion_auc,
    )
    client.log_dict(challenger.run_id, asdict(decision), "promotion_decision.json")
    client.set_tag(challenger.run_id, "promotion", "champion" if promoted else "rejected")
    client.set_model_version_tag(name, version, "gate", reason)
    log.info("%s v%s %s: %s", name, version, "promoted" if promoted else "kept out", reason)
    return decision
