"""A customer's collection history with the evidence of every rule: what an inquiry asks for.

A Procon or ANPD inquiry (CDC art. 42 and 43, LGPD art. 20) asks what was sent to a person,
when, why, and under which rules. Every night's actions (`out/<as_of>/actions.parquet`)
carry that evidence; the contacts export says what the collection tools did. This module
joins both for one customer, in time order, with no document in clear (the customer is
named by id; documents are stored only as keyed hashes).
"""

from __future__ import annotations

import json

import polars as pl

DECISION_COLUMNS = (
    "as_of", "action_id", "case_id", "invoice_ids", "step_id", "channel", "purpose", "state",
    "status", "scheduled_for", "scheduled_tz", "valid_until", "reason", "guardrail",
    "total_due", "amount_due", "evidence",
)  # fmt: skip
CONTACT_COLUMNS = ("at", "action_id", "case_id", "invoice_id", "step_id", "channel", "outcome",
                   "promise_date", "promise_amount")  # fmt: skip


def customer_decisions(actions: pl.LazyFrame, customer_id: str) -> pl.DataFrame:
    """Every night's action rows of one customer that decided something (scheduled or
    skipped), in night order; waiting rows are left out (nothing was decided)."""
    present = actions.collect_schema().names()
    return (
        actions.filter((pl.col("customer_id") == customer_id) & (pl.col("status") != "waiting"))
        .select([c for c in DECISION_COLUMNS if c in present])
        .sort("as_of", "scheduled_for", "action_id", nulls_last=True)
        .collect()
    )


def customer_contacts(contacts: pl.LazyFrame, customer_id: str) -> pl.DataFrame:
    """What the collection tools reported for one customer, in time order."""
    present = contacts.collect_schema().names()
    return (
        contacts.filter(pl.col("customer_id") == customer_id)
        .select([c for c in CONTACT_COLUMNS if c in present])
        .sort("at")
        .collect()
    )


def _evidence_line(text: str | None) -> str:
    """The evidence JSON as `key=value` pairs, empty values left out."""
    if not text:
        return ""
    values = json.loads(text)
    parts = []
    for key, value in values.items():
        if value in (None, [], ""):
            continue
        parts.append(f"{key}={','.join(map(str, value)) if isinstance(value, list) else value}")
    return "; ".join(parts)


def evidence_text(customer_id: str, decisions: pl.DataFrame, contacts: pl.DataFrame) -> str:
    """Plain text of a customer's decisions (with their evidence) and reported contacts."""
    lines = [f"customer {customer_id}", "", f"decisions ({decisions.height})"]
    for row in decisions.iter_rows(named=True):
        when = row["scheduled_for"].strftime("%Y-%m-%d %H:%M") if row["scheduled_for"] else "-"
        lines.append(
            f"- night {row['as_of']}: {row['status']} {row['step_id']} ({row['purpose']}, "
            f"{row['channel']}) for {when} {row.get('scheduled_tz') or ''}".rstrip()
        )
        lines.append(f"  action {row['action_id']} case {row['case_id']}, valid until "
                     f"{row['valid_until']}")  # fmt: skip
        lines.append(f"  invoices {', '.join(row['invoice_ids'] or [])}; due "
                     f"R$ {row['total_due']:.2f}")  # fmt: skip
        lines.append(f"  why: {row['reason']}")
        if row.get("guardrail"):
            lines.append(f"  guardrails: {row['guardrail']}")
        evidence = _evidence_line(row.get("evidence"))
        if evidence:
            lines.append(f"  evidence: {evidence}")
    lines += ["", f"contacts reported ({contacts.height})"]
    for row in contacts.iter_rows(named=True):
        promise = (
            f", promised R$ {row['promise_amount'] or 0:.2f} for {row['promise_date']}"
            if row.get("promise_date")
            else ""
        )
        lines.append(
            f"- {row['at']:%Y-%m-%d %H:%M} {row['channel']} {row['step_id'] or '-'}: "
            f"{row['outcome']} (action {row.get('action_id') or '-'}){promise}"
        )
    return "\n".join(lines) + "\n"
