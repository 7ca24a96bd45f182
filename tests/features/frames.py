"""Typed canonical frames for the feature tests: hand-made rows and random portfolios."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from regua.contract import MACRO_INDICATORS, PRODUCT_FAMILIES, TABLES, UFS


def typed(name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows as a frame of canonical table `name`; absent columns take their default (or null)."""
    spec = TABLES[name]
    columns = {c.name: [row.get(c.name, c.default) for row in rows] for c in spec.columns}
    return pl.DataFrame(columns, schema=spec.schema)


def customer(customer_id: str, opened: date, **values: Any) -> dict[str, Any]:
    """A customer row with plausible defaults for everything not given."""
    return {
        "customer_id": customer_id,
        "kind": "PF",
        "document_hash": f"hash-{customer_id}",
        "state": "SP",
        "opened_at": opened,
        "birth_or_founding": date(1990, 1, 1),
        "declared_income": 2000.0,
        "employment_type": "clt",
        "employment_tenure_months": 24,
        "assets": 10000.0,
        "savings": 1000.0,
        "monthly_debt_obligations": 200.0,
        "collateral_value": 0.0,
        "collateral_type": "none",
        "credit_limit": 1000.0,
        "bureau_score": 600,
        **values,
    }


def invoice(
    invoice_id: str,
    customer_id: str,
    issued: date,
    due: date,
    amount: float,
    product: str = "credit_card",
) -> dict[str, Any]:
    """An invoice row."""
    return {
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "issued_at": issued,
        "due_at": due,
        "amount": amount,
        "product": product,
        "product_family": product,
    }


def payment(
    payment_id: str,
    invoice_id: str,
    customer_id: str,
    paid: date,
    amount: float,
    method: str = "pix",
) -> dict[str, Any]:
    """A payment row."""
    return {
        "payment_id": payment_id,
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "paid_at": paid,
        "amount": amount,
        "method": method,
    }


def contact(
    customer_id: str,
    at: datetime,
    outcome: str = "delivered",
    invoice_id: str | None = None,
    channel: str = "sms",
    promise_date: date | None = None,
    promise_amount: float | None = None,
) -> dict[str, Any]:
    """A contact row (a promise when promise_date is given)."""
    return {
        "contact_id": f"K-{customer_id}-{at.isoformat()}-{channel}",
        "customer_id": customer_id,
        "invoice_id": invoice_id,
        "at": at,
        "channel": channel,
        "step_id": None,
        "outcome": outcome,
        "promise_date": promise_date,
        "promise_amount": promise_amount,
    }


def macro(month: date, indicator: str, value: float, region: str = "BR") -> dict[str, Any]:
    """A macro row."""
    return {"month": month, "indicator": indicator, "value": value, "region": region}


def tables(**rows: list[dict[str, Any]]) -> dict[str, pl.DataFrame]:
    """Typed frames for the tables given (customers, invoices, payments, contacts, macro)."""
    return {name: typed(name, table_rows) for name, table_rows in rows.items()}


def random_portfolio(
    seed: int, customers: int = 200, months: int = 24, end: date = date(2026, 10, 31)
) -> dict[str, pl.DataFrame]:
    """A random but realistic portfolio: monthly invoices, late, partial and agreement
    payments, collection contacts with promises, and regional macro series."""
    rng = np.random.default_rng(seed)
    start = end - timedelta(days=30 * months)
    customer_rows, invoice_rows, payment_rows, contact_rows = [], [], [], []
    for c in range(customers):
        cid = f"C{c:05d}"
        opened = start + timedelta(days=int(rng.integers(-400, 30 * months)))
        kind = "PJ" if rng.random() < 0.2 else "PF"
        customer_rows.append(
            customer(
                cid,
                opened,
                kind=kind,
                state=str(rng.choice(UFS[:6])),
                declared_income=None if rng.random() < 0.05 else float(rng.integers(0, 9000)),
                assets=None if rng.random() < 0.1 else float(rng.integers(0, 90000)),
                savings=float(rng.integers(0, 9000)),
                equity=float(rng.integers(-5000, 50000)) if kind == "PJ" else None,
                monthly_debt_obligations=None
                if rng.random() < 0.1
                else float(rng.integers(0, 900)),
                collateral_value=float(rng.choice([0, 5000, 20000])),
                collateral_type=str(rng.choice(["none", "vehicle", "real_estate"])),
                credit_limit=float(rng.choice([0, 500, 1500, 4000])),
                bureau_score=None if rng.random() < 0.1 else int(rng.integers(0, 1001)),
                birth_or_founding=None
                if rng.random() < 0.05
                else date(1960, 1, 1) + timedelta(days=int(rng.integers(0, 15000))),
            )
        )
        lateness = rng.choice([0, 3, 20, 60], p=[0.5, 0.25, 0.15, 0.1])
        for m in range(months):
            issued = start + timedelta(days=30 * m + int(rng.integers(0, 5)))
            if issued < opened:
                continue
            due = issued + timedelta(days=int(rng.integers(5, 15)))
            amount = round(float(rng.uniform(0.5, 900)), 2)
            iid = f"I{c:05d}{m:03d}"
            invoice_rows.append(
                invoice(iid, cid, issued, due, amount, str(rng.choice(PRODUCT_FAMILIES[:3])))
            )
            if rng.random() < 0.08:
                continue  # never paid
            delay = int(rng.integers(-5, 2)) + int(rng.poisson(lateness))
            paid = max(issued, due + timedelta(days=delay))
            method = "agreement" if lateness >= 60 and rng.random() < 0.5 else "pix"
            parts = int(rng.choice([1, 1, 1, 2, 3]))
            left = amount
            for p in range(parts):
                share = left if p == parts - 1 else round(left * float(rng.uniform(0.2, 0.7)), 2)
                if rng.random() < 0.1 and p == parts - 1:
                    share = max(0.01, round(share - float(rng.uniform(0.2, 3.0)), 2))
                if share <= 0:
                    continue
                payment_rows.append(
                    payment(f"P{iid}{p}", iid, cid, paid + timedelta(days=7 * p), share, method)
                )
                left = round(left - share, 2)
            for k in range(int(rng.integers(0, 4)) if delay > 0 else 0):
                at = datetime.combine(due + timedelta(days=1 + 3 * k), datetime.min.time())
                at += timedelta(minutes=int(rng.integers(0, 24 * 60)))
                outcome = str(rng.choice(["delivered", "read", "answered", "promise", "no_answer"]))
                promise = outcome == "promise"
                contact_rows.append(
                    contact(
                        cid,
                        at,
                        outcome,
                        invoice_id=iid if rng.random() < 0.9 else None,
                        channel=str(rng.choice(["sms", "phone", "whatsapp"])),
                        promise_date=at.date() + timedelta(days=int(rng.integers(0, 8)))
                        if promise
                        else None,
                        promise_amount=(None if rng.random() < 0.2 else round(amount / 2, 2))
                        if promise
                        else None,
                    )
                )
    macro_rows = []
    month = date(start.year - 1, start.month, 1)
    while month <= end:
        for indicator in MACRO_INDICATORS:
            for region in ("BR", *UFS[:3]):
                if region != "BR" and indicator in ("selic", "ipca"):
                    continue
                if rng.random() < 0.1:
                    continue  # gaps: the latest published value may be older
                macro_rows.append(
                    macro(month, indicator, round(float(rng.uniform(1, 14)), 2), region)
                )
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return tables(
        customers=customer_rows,
        invoices=invoice_rows,
        payments=payment_rows,
        contacts=contact_rows,
        macro=macro_rows,
    )
