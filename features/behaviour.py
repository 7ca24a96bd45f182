"""Behavioural features: how a customer was billed, paid and chased up to as_of.

The ledgers (`features.ledger`) are paired with the as_of dates each row is known at
and aggregated by `group_by(cust, as_of_day)` in a few passes, each a list of plain
sums and maxima of conditional expressions:

- every invoice: counts and amounts that matured in each window, open amounts;
- late invoices only (due before as_of and not settled by their due date, about one
  in five): days past due, worst delinquency, checkpoints for bucket transitions;
- every payment: amounts and partial payments per window, last payment day;
- payments on invoices still open at as_of: what was paid on the open balance,
  active agreements;
- contacts and promises.

The features are expressions over those aggregates, declared with their meaning in
`features.catalog` from the helpers below. `settled` is NEVER for an unsettled invoice,
so `settled > as_of` means "open at as_of". See `features.catalog` for the definitions
and the conventions on empty sets.
"""

from __future__ import annotations

import polars as pl

from regua.contract import PRODUCT_FAMILIES

WINDOWS: tuple[int, ...] = (30, 90, 180, 365)
"""Look-back windows in days."""
ROLL_WINDOWS: tuple[int, ...] = (90, 180, 365)
PROMISE_WINDOWS: tuple[int, ...] = (90, 365)
CHECKPOINT_DAYS = 30
"""Spacing of the days-past-due checkpoints that bucket transitions are counted between."""
AS_OF = pl.col("as_of_day")
CHRONIC_LATE_INVOICES = 3
MAIN_PRODUCT_WINDOW = 365
TRACK_RECORD_WINDOW = 365
AGREEMENT_WINDOW = 90
AGREEMENT_PAYMENTS_WINDOW = 365
CHECKPOINTS = max(ROLL_WINDOWS) // CHECKPOINT_DAYS
"""Days-past-due checkpoints before as_of, 30 days apart (12: 360 days)."""

_due, _settled, _issued, _amount, _day = (
    pl.col(c) for c in ("due", "settled", "issued", "amount", "day")
)


def matured(window: int) -> pl.Expr:
    """The invoice fell due in the window: as_of - window <= due < as_of."""
    return (_due >= AS_OF - window) & (_due < AS_OF)


def late_end() -> pl.Expr:
    """The day an invoice's lateness stops growing: its settling day, or as_of if open."""
    return pl.min_horizontal(_settled, AS_OF)


def days_late() -> pl.Expr:
    """Days late reached by as_of: from due date to settlement (or as_of); may be <= 0."""
    return late_end() - _due


def is_late_invoice() -> pl.Expr:
    """Invoices with positive days late at as_of: due before as_of, not settled by due date."""
    return (_due < AS_OF) & (_settled > _due)


def invoice_totals() -> list[pl.Expr]:
    """Over every invoice issued up to as_of: counts, amounts matured per window, products."""
    exprs = [
        pl.len().alias("_invoices"),
        (_issued > AS_OF - TRACK_RECORD_WINDOW).sum().alias("_invoices_365"),
        (_settled <= AS_OF).sum().alias("_settled"),
        pl.when(_settled > AS_OF).then(_amount).sum().alias("_open_billed"),
    ]
    for w in WINDOWS:
        exprs += [
            matured(w).sum().alias(f"_matured_{w}"),
            (matured(w) & (_settled <= _due)).sum().alias(f"_on_time_{w}"),
            pl.when(matured(w)).then(_amount).sum().alias(f"_billed_{w}"),
        ]
    recent = _issued > AS_OF - MAIN_PRODUCT_WINDOW
    for code, product in enumerate(PRODUCT_FAMILIES):
        exprs.append(
            pl.when(recent & (pl.col("product") == code))
            .then(_amount)
            .sum()
            .alias(f"_product_{product}")
        )
    return exprs


def dpd_on(t: pl.Expr) -> pl.Expr:
    """Days past due of the invoice at the end of day t (null when not past due)."""
    return pl.when((_due < t) & (_settled > t)).then(t - _due)


def delinquency_aggregates() -> list[pl.Expr]:
    """Over the late invoices (`is_late_invoice`): days past due and days late."""
    exprs = [
        dpd_on(AS_OF).max().alias("_dpd_0"),
        days_late().max().alias("_dpd_worst_lifetime"),
        late_end().max().alias("_last_late_day"),
        (_settled <= AS_OF).sum().alias("_late"),
        pl.when(_settled > AS_OF).then(_amount).sum().alias("_overdue_billed"),
    ]
    exprs += [
        dpd_on(AS_OF - k * CHECKPOINT_DAYS).max().alias(f"_dpd_{k}")
        for k in range(1, CHECKPOINTS + 1)
    ]
    for w in WINDOWS:
        exprs += [
            pl.when(late_end() > AS_OF - w).then(days_late()).max().alias(f"_worst_{w}"),
            (matured(w) & (_settled <= AS_OF)).sum().alias(f"_late_{w}"),
            pl.when(matured(w)).then(days_late()).sum().alias(f"_days_late_sum_{w}"),
            pl.when(matured(w)).then(days_late()).max().alias(f"_days_late_max_{w}"),
        ]
    return exprs


def payment_totals() -> list[pl.Expr]:
    """Over every payment up to as_of: amounts and partial payments per window."""
    exprs = [
        _day.max().alias("_last_paid_day"),
        (pl.col("agreement") & (_day > AS_OF - AGREEMENT_PAYMENTS_WINDOW))
        .sum()
        .alias("_agreement_payments"),
    ]
    for w in WINDOWS:
        recent = _day > AS_OF - w
        exprs += [
            pl.when(recent).then(_amount).sum().alias(f"_paid_{w}"),
            (recent & pl.col("open_after")).sum().alias(f"_partial_{w}"),
        ]
    return exprs


def open_invoice_payments() -> list[pl.Expr]:
    """Over payments up to as_of on invoices still open at as_of (`settled > as_of`)."""
    return [
        _amount.sum().alias("_paid_open"),
        pl.when(_due < AS_OF).then(_amount).sum().alias("_paid_overdue"),
        # an invoice counts once: on its last agreement payment up to as_of
        (
            pl.col("agreement")
            & (_day > AS_OF - AGREEMENT_WINDOW)
            & (pl.col("next_agreement") > AS_OF)
        )
        .sum()
        .alias("_agreements_active"),
    ]


def contact_aggregates() -> list[pl.Expr]:
    """Over contacts up to the end of as_of: received and answered per window."""
    exprs = []
    for w in WINDOWS:
        recent = _day > AS_OF - w
        exprs += [
            (recent & pl.col("received")).sum().alias(f"_received_{w}"),
            (recent & pl.col("answered")).sum().alias(f"_answered_{w}"),
        ]
    return exprs


def promise_aggregates() -> list[pl.Expr]:
    """Over promises made up to as_of: made, kept and broken per window."""
    kept = pl.col("kept") <= AS_OF
    exprs = []
    for w in PROMISE_WINDOWS:
        made = pl.col("promised_at") > AS_OF - w
        exprs += [
            made.sum().alias(f"_made_{w}"),
            (made & kept).sum().alias(f"_kept_{w}"),
            (made & ~kept & (pl.col("promise_day") <= AS_OF)).sum().alias(f"_broken_{w}"),
        ]
    return exprs


def share(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator as Float64, null when the denominator is zero or null."""
    return pl.when(denominator > 0).then(numerator.cast(pl.Float64) / denominator)


def count(name: str) -> pl.Expr:
    """An aggregated count (or maximum) as Int32, 0 for customers without rows."""
    return pl.col(name).fill_null(0).cast(pl.Int32)


def amount(name: str) -> pl.Expr:
    """An aggregated amount in BRL, 0.0 for customers without rows.

    Rounded to the cent: float sums in a parallel aggregation differ in the last bit from
    run to run, and a balance of 1e-13 instead of 0 can flip a tree's split.
    """
    return pl.col(name).fill_null(0.0).round(2)


def contact_count(name: str) -> pl.Expr:
    """A contact count: 0 without rows, null when the portfolio has no contacts at all."""
    return pl.when(pl.col("_has_contacts")).then(count(name))


def bucket(dpd: pl.Expr) -> pl.Expr:
    """Delinquency bucket code of a days-past-due value: 0 current .. 4 for 90+."""
    return ((dpd + 29) // 30).clip(0, 4).cast(pl.Int8)


def dpd_now() -> pl.Expr:
    """Days past due at as_of."""
    return count("_dpd_0")


def open_balance() -> pl.Expr:
    """Unsettled billed amount less what was paid on those invoices."""
    return (amount("_open_billed") - amount("_paid_open")).round(2)


def overdue_balance() -> pl.Expr:
    """The part of the open balance that is past due."""
    return (amount("_overdue_billed") - amount("_paid_overdue")).round(2)


def rolls(window: int, worse: bool) -> pl.Expr:
    """Checkpoint-to-checkpoint bucket moves in the window: worsening, or improving."""
    steps = []
    for k in range(window // CHECKPOINT_DAYS):
        newer, older = bucket(count(f"_dpd_{k}")), bucket(count(f"_dpd_{k + 1}"))
        steps.append((newer > older) if worse else (newer < older))
    return pl.sum_horizontal(steps)


def settled_in(window: int) -> pl.Expr:
    """Matured invoices of the window already settled (on time or late)."""
    return count(f"_on_time_{window}") + count(f"_late_{window}")


def paid_late_share(window: int) -> pl.Expr:
    """Share of the settled matured invoices that were settled late."""
    return share(count(f"_late_{window}"), settled_in(window))


def days_late_mean(window: int) -> pl.Expr:
    """Mean days late over the matured invoices."""
    return share(amount(f"_days_late_sum_{window}"), pl.col(f"_matured_{window}"))


def paid_to_billed(window: int) -> pl.Expr:
    """Amount paid in the window over the amount that matured in it."""
    return share(amount(f"_paid_{window}"), pl.col(f"_billed_{window}").round(2))


def overdue_matured(window: int) -> pl.Expr:
    """Invoices that matured in the window and are still unsettled."""
    return count(f"_matured_{window}") - settled_in(window)
