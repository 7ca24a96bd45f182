"""Page contents as plain dicts of what a page shows, built from the night and the database.

Routes stay thin: they parse the request, call one of these, and render a template.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import polars as pl

from regua.dunning.summary import limit_changes, limit_reason_counts, segment_sizes
from regua.reports.report import DayFrames
from regua.workbench.data import Ledger, customer_rows, evidence_text

QUEUE_DECISIONS = ("increase", "decrease")
QUEUE_PAGE = 100
DECISION_LABELS = {
    "increase": "aumento",
    "decrease": "redução",
    "keep": "manter",
    "held_by_analyst": "mantido pelo analista",
}


def brl(value: float | None) -> str:
    """R$ 1.234,56 (a dash for nothing)."""
    if value is None:
        return "—"
    text = f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"R$ {text}"


def pct(value: float | None, digits: int = 1) -> str:
    """A share as 12,3%."""
    if value is None or math.isnan(value):
        return "—"
    return f"{value * 100:.{digits}f}%".replace(".", ",")


def portfolio(day: DayFrames, as_of: date) -> dict[str, Any]:
    """The night's figures: customers per segment, actions per channel, limit changes."""
    scheduled = day.actions.filter(pl.col("status") == "scheduled")
    channels = (
        scheduled.group_by("channel").len("actions").sort("actions", descending=True).to_dicts()
    )
    statuses = day.actions.group_by("status").len("actions").sort("status").to_dicts()
    return {
        "as_of": as_of,
        "customers": day.segments.height,
        "segments": segment_sizes(day.segments).to_dicts(),
        "channels": channels,
        "statuses": statuses,
        "limit_changes": limit_changes(day.limits).to_dicts(),
        "limit_reasons": limit_reason_counts(day.limits).head(12).to_dicts(),
        "held": int(day.limits["held_by_analyst"].sum() or 0),
    }


def queue(
    day: DayFrames,
    band: str | None,
    reason: str | None,
    min_change: float | None,
    page: int = 0,
    decided: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The night's limit recommendations to review, largest move first, filtered; customers
    `decided` on this night (approved or waiting) have left the queue."""
    c = pl.col
    rows = day.limits.filter(
        c("decision").is_in(QUEUE_DECISIONS) & ~c("customer_id").is_in(list(decided))
    )
    if band:
        rows = rows.filter(c("risk_band") == band)
    if reason:
        rows = rows.filter(c("reason_codes").list.contains(reason))
    if min_change is not None:
        rows = rows.filter(c("change").abs() >= min_change)
    total = rows.height
    shown = (
        rows.sort(c("change").abs(), "customer_id", descending=[True, False])
        .slice(page * QUEUE_PAGE, QUEUE_PAGE)
        .to_dicts()
    )
    return {
        "rows": shown,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // QUEUE_PAGE)),
        "bands": sorted(day.limits["risk_band"].drop_nulls().unique().to_list()),
        "reasons": sorted(day.limits["reason_codes"].explode().drop_nulls().unique().to_list()),
    }


def customer(day: DayFrames, customer_id: str, ledger: Ledger | None) -> dict[str, Any] | None:
    """One customer's night: scores and reasons, limit, case actions with evidence, ledger."""
    segment = customer_rows(day.segments, customer_id)
    limit = customer_rows(day.limits, customer_id)
    if segment.height == 0 and limit.height == 0:
        return None
    actions = customer_rows(day.actions, customer_id).sort("scheduled_for", nulls_last=True)
    limit_row = limit.row(0, named=True) if limit.height else None
    segment_row = segment.row(0, named=True) if segment.height else None
    reasons = (limit_row or {}).get("top_reasons") or []
    if not reasons and actions.height:
        reasons = next((r for r in actions["top_reasons"].to_list() if r), [])
    return {
        "customer_id": customer_id,
        "segment": segment_row,
        "limit": limit_row,
        "top_reasons": reasons,
        "propensity_reasons": [],
        "actions": [
            {**row, "evidence_text": evidence_text(row.get("evidence"))}
            for row in actions.to_dicts()
        ],
        "open_invoices": [] if ledger is None else ledger.open_invoices.to_dicts(),
        "chart": None if ledger is None else history_chart(ledger.history),
    }


def with_reasons(view: dict[str, Any], on_demand: dict[str, list[str]]) -> dict[str, Any]:
    """The view with reasons computed on demand where the night had none (PD), and the
    propensity's (the night keeps only the PD's)."""
    top = view["top_reasons"] or on_demand.get("delinquency") or []
    segment = view.get("segment") or {}
    overdue = segment.get("propensity") is not None  # no propensity: nothing overdue
    propensity = on_demand.get("propensity_to_pay", []) if overdue else []
    return {**view, "top_reasons": top, "propensity_reasons": propensity}


def explanation(view: dict[str, Any]) -> str:
    """The explanation shown for a customer now, kept with an LGPD art. 20 request."""
    lines = []
    segment, limit = view.get("segment"), view.get("limit")
    if segment:
        lines.append(
            f"PD {pct(segment['pd'])}; propensão a pagar {pct(segment['propensity'])}; "
            f"segmento {segment['segment']}"
        )
    lines += [f"motivo do risco: {text}" for text in view.get("top_reasons") or []]
    lines += [f"motivo da propensão: {text}" for text in view.get("propensity_reasons") or []]
    if limit:
        lines.append(
            f"limite atual {brl(limit['current_limit'])}, recomendado "
            f"{brl(limit['recommended_limit'])} ({DECISION_LABELS.get(limit['decision'], '')})"
        )
        lines += [f"motivo do limite: {text}" for text in limit["limit_reasons"] or []]
    return "\n".join(lines) or "sem decisão automatizada nesta noite"


_W, _H, _PAD = 600, 180, 24


def history_chart(history: pl.DataFrame) -> dict[str, Any]:
    """Bars of billed vs paid per month, as SVG coordinates (drawn by the template)."""
    top = max(
        [*history["billed"].to_list(), *history["paid"].to_list(), 1.0],
    )
    n = max(history.height, 1)
    slot = (_W - 2 * _PAD) / n
    bars = []
    for i, row in enumerate(history.iter_rows(named=True)):
        x = _PAD + i * slot
        for j, (name, value) in enumerate((("billed", row["billed"]), ("paid", row["paid"]))):
            height = (value / top) * (_H - 2 * _PAD)
            bars.append(
                {
                    "kind": name,
                    "x": round(x + j * slot * 0.4 + slot * 0.1, 1),
                    "y": round(_H - _PAD - height, 1),
                    "width": round(slot * 0.35, 1),
                    "height": round(height, 1),
                    "title": f"{row['month']:%m/%Y} {'faturado' if j == 0 else 'pago'} "
                    f"{brl(value)}",
                }
            )
    labels = [
        {"x": round(_PAD + i * slot + slot / 2, 1), "text": f"{m:%m/%y}"}
        for i, m in enumerate(history["month"].to_list())
    ]
    return {"width": _W, "height": _H, "bars": bars, "labels": labels, "base": _H - _PAD}
