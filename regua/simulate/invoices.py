"""Bills: one monthly cycle per billed customer, holding the primary bill and plan instalments.

Every open customer whose account is not blocked gets a monthly bill on their billing
day (credit-card statement: a share of the limit; services: a steady fee), due 7-20 days
later. Instalment plans (retail_installment and personal_loan for PF, working_capital
for PJ) start at random months, also before the history (so some run from instalment
k > 1), only while the customer is current, and bill on the same cycle. All invoices of
a cycle share the customer's fate for that month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from regua.contract import INVOICES, PRODUCT_FAMILIES
from regua.simulate.calendar import Calendar
from regua.simulate.config import sequential_ids
from regua.simulate.customers import CREDIT_CARD, CustomerBlock
from regua.simulate.risk import CURRENT, LATE_30, RECOVERING

PLAN_LOOKBACK = 48  # months before the history in which running plans may have started


@dataclass(frozen=True)
class PlanProduct:
    """How often a plan product is taken and on what terms."""

    product: str
    for_pj: bool
    monthly_rate: float  # plans started per customer-month
    lengths: tuple[int, ...]
    interest: float  # monthly interest rate


PLAN_PRODUCTS = (
    PlanProduct("retail_installment", False, 0.035, (3, 4, 5, 6, 10, 12), 0.0199),
    PlanProduct("personal_loan", False, 0.008, (12, 18, 24, 36, 48), 0.035),
    PlanProduct("working_capital", True, 0.035, (6, 12, 18, 24), 0.018),
)


@dataclass(frozen=True)
class Cycles:
    """Billed customer-months: (cycles,) arrays."""

    customer: np.ndarray
    month: np.ndarray
    issue: np.ndarray  # day
    due: np.ndarray  # day
    index: np.ndarray  # (customers, months): cycle number or -1


@dataclass(frozen=True)
class Invoices:
    """Invoices of a block in cycle order: (invoices,) arrays."""

    cycle: np.ndarray
    customer: np.ndarray
    month: np.ndarray
    amount: np.ndarray
    product: np.ndarray  # code into contract.PRODUCT_FAMILIES
    installment_no: np.ndarray
    installments_total: np.ndarray
    lead: np.ndarray  # the primary bill of its cycle


def billing_cycles(customers: CustomerBlock, prev: np.ndarray, calendar: Calendar) -> Cycles:
    """Customer-months with a bill: open, not blocked, issued by the end of history."""
    n, months = prev.shape
    month_grid = np.arange(months)
    billed = (customers.open_month[:, None] < month_grid[None, :]) & (prev <= LATE_30)
    issue_grid = calendar.start(month_grid)[None, :] + customers.issue_day[:, None] - 1
    billed &= issue_grid <= calendar.end_day
    customer, month = np.nonzero(billed)
    index = np.full((n, months), -1, dtype=np.int64)
    index[customer, month] = np.arange(len(customer))
    start = calendar.start(month)
    return Cycles(
        customer=customer,
        month=month,
        issue=start + customers.issue_day[customer] - 1,
        due=start + customers.due_day[customer] - 1,
        index=index,
    )


def _plans(
    customers: CustomerBlock, prev: np.ndarray, cycles: Cycles, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    n, months = prev.shape
    span = PLAN_LOOKBACK + months
    parts: list[dict[str, np.ndarray]] = []
    for code, plan in enumerate(PLAN_PRODUCTS):
        eligible = customers.is_pj if plan.for_pj else ~customers.is_pj
        counts = rng.poisson(plan.monthly_rate * span, size=n) * eligible
        owner = np.repeat(np.arange(n), counts)
        start = rng.integers(-PLAN_LOOKBACK, months, size=len(owner))
        length = np.array(plan.lengths)[rng.integers(0, len(plan.lengths), size=len(owner))]
        if plan.product == "retail_installment":
            principal = np.exp(rng.normal(np.log(900), 0.7, size=len(owner)))
        else:
            share = (1.0, 6.0) if plan.product == "personal_loan" else (0.2, 1.0)
            principal = customers.income[owner] * rng.uniform(*share, size=len(owner))
        r = plan.interest
        payment = np.round(principal * r / (1 - (1 + r) ** -length.astype(float)), 2)
        opened = start >= customers.open_month[owner]
        state_then = prev[owner, np.clip(start, 0, months - 1)]
        current = (start < 0) | (state_then == CURRENT) | (state_then == RECOVERING)
        keep = opened & current & (start + length >= 0) & (start + 1 < months)
        parts.append(
            {
                "owner": owner[keep],
                "start": start[keep],
                "length": length[keep],
                "payment": payment[keep],
                "product": np.full(int(keep.sum()), PRODUCT_FAMILIES.index(plan.product)),
                "code": np.full(int(keep.sum()), code),
            }
        )
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def build_invoices(
    customers: CustomerBlock,
    prev: np.ndarray,
    cycles: Cycles,
    rng: np.random.Generator,
) -> Invoices:
    """Primary bills and plan instalments of every cycle, ordered by cycle."""
    c = cycles.customer
    noise = rng.normal(size=len(c))
    card = customers.primary[c] == CREDIT_CARD
    used = np.clip(customers.utilisation[c] * np.exp(0.35 * noise - 0.06), 0.01, 1.0)
    lead_amount = np.where(
        card,
        np.maximum(customers.credit_limit[c] * used, 15.0),
        customers.fee[c] * np.exp(0.05 * noise),
    )
    plans = _plans(customers, prev, cycles, rng)
    per_plan = plans["length"]
    plan_row = np.repeat(np.arange(len(per_plan)), per_plan)
    first_of_plan = np.cumsum(per_plan) - per_plan
    number = np.arange(len(plan_row)) - first_of_plan[plan_row] + 1
    owner = plans["owner"][plan_row]
    month = plans["start"][plan_row] + number
    inside = (month >= 0) & (month < prev.shape[1])
    plan_cycle = np.full(len(plan_row), -1, dtype=np.int64)
    plan_cycle[inside] = cycles.index[owner[inside], month[inside]]
    billed = plan_cycle >= 0
    plan_row, number, plan_cycle = plan_row[billed], number[billed], plan_cycle[billed]

    n_lead = len(c)
    cycle = np.concatenate([np.arange(n_lead), plan_cycle])
    lead = np.concatenate([np.ones(n_lead, dtype=bool), np.zeros(len(plan_row), dtype=bool)])
    product = np.concatenate([customers.primary[c], plans["product"][plan_row]]).astype(np.int8)
    order = np.lexsort((product, ~lead, cycle))
    return Invoices(
        cycle=cycle[order],
        customer=cycles.customer[cycle[order]],
        month=cycles.month[cycle[order]],
        amount=np.round(np.concatenate([lead_amount, plans["payment"][plan_row]]), 2)[order],
        product=product[order],
        installment_no=np.concatenate([np.ones(n_lead, dtype=np.int64), number])[order],
        installments_total=np.concatenate(
            [np.ones(n_lead, dtype=np.int64), plans["length"][plan_row]]
        )[order],
        lead=lead[order],
    )


def invoice_ids(first: int, n: int) -> pl.Series:
    """I0000000001-style ids for invoices first+1 .. first+n."""
    return sequential_ids("I", first, n, "invoice_id")


def invoices_frame(
    invoices: Invoices,
    cycles: Cycles,
    ids: pl.Series,
    customer_ids: pl.Series,
    disputed: np.ndarray,
) -> pl.DataFrame:
    """The invoices export, in contract column order."""
    cycle = invoices.cycle
    return pl.DataFrame(
        {
            "invoice_id": ids,
            "customer_id": customer_ids.gather(invoices.customer),
            "issued_at": pl.Series(cycles.issue[cycle]).cast(pl.Int32).cast(pl.Date),
            "due_at": pl.Series(cycles.due[cycle]).cast(pl.Int32).cast(pl.Date),
            "amount": invoices.amount,
            "product": pl.Series(PRODUCT_FAMILIES).gather(invoices.product),
            "product_family": pl.Series(PRODUCT_FAMILIES).gather(invoices.product),
            "installment_no": pl.Series(invoices.installment_no).cast(pl.Int32),
            "installments_total": pl.Series(invoices.installments_total).cast(pl.Int32),
            "disputed": disputed,
        }
    ).select(INVOICES.names)
