"""Defective rows, as real exports carry them, so that ingestion's reject rules get exercised.

`error_rate` is the share of a table's rows that get a defect; the defect kinds of a
table take turns, so every kind appears once a block has as many defective rows as the
table has kinds. Duplicates are appended copies of a row (every other one with a
changed value, as a re-export would).
"""

from __future__ import annotations

import numpy as np
import polars as pl

DEFECTS: dict[str, tuple[str, ...]] = {
    "customers": ("bad_document", "unknown_state", "duplicate_key"),
    "invoices": ("nonpositive_amount", "due_before_issue", "duplicate_key"),
    "payments": (
        "nonpositive_amount",
        "unknown_method",
        "paid_before_issue",
        "unknown_invoice",
        "duplicate_key",
    ),
    "contacts": ("duplicate_key",),
}
UNKNOWN_STATES = ("EX", "XX", "SPO", "GB")
UNKNOWN_METHODS = ("cheque", "dinheiro", "ted", "doc")


def draw_defects(
    height: int, kinds: tuple[str, ...], rate: float, rng: np.random.Generator
) -> np.ndarray:
    """Defect kind index per row (-1 for clean rows): `rate` of the rows, kinds in turn."""
    expected = rate * height
    count = min(height, int(expected) + int(rng.random() < expected - int(expected)))
    defect = np.full(height, -1, dtype=np.int64)
    rows = rng.choice(height, size=count, replace=False)
    defect[rows] = (np.arange(count) + rng.integers(len(kinds))) % len(kinds)
    return defect


def _pick(options: tuple[str, ...], n: int, rng: np.random.Generator) -> pl.Series:
    return pl.Series(options).gather(rng.integers(0, len(options), size=n))


def _days(expr: pl.Expr, shift: pl.Expr) -> pl.Expr:
    return (expr.cast(pl.Int32) + shift).cast(pl.Date)


def inject_defects(
    frame: pl.DataFrame,
    table: str,
    rate: float,
    rng: np.random.Generator,
    issued_at: pl.Series | None = None,
) -> tuple[pl.DataFrame, pl.Series]:
    """`frame` with `rate` of its rows defective, and the customer_id of every defective row.

    `issued_at`: the issue date of each payment's bill. The customers are what the truth
    file flags (`export_defect`): their stored history is not the one simulated.
    """
    kinds = DEFECTS.get(table)
    if not kinds or rate <= 0 or frame.height == 0:
        return frame, pl.Series("customer_id", [], pl.String)
    n = frame.height
    codes = draw_defects(n, kinds, rate, rng)
    kind = pl.Series("defect", ("", *kinds)).gather(codes + 1)  # "" marks a clean row
    shift = pl.Series("shift", rng.integers(1, 10, size=n))
    extra = {"defect": kind, "shift": shift}

    def is_(name: str) -> pl.Expr:
        return pl.col("defect") == name

    if table == "customers":
        extra["odd_state"] = _pick(UNKNOWN_STATES, n, rng)
        changes = [
            pl.when(is_("bad_document"))
            .then(
                pl.concat_str(
                    pl.col("document").str.slice(0, pl.col("document").str.len_chars() - 1),
                    ((pl.col("document").str.slice(-1).cast(pl.Int64) + pl.col("shift")) % 10).cast(
                        pl.String
                    ),
                )
            )
            .otherwise(pl.col("document"))
            .alias("document"),
            pl.when(is_("unknown_state"))
            .then(pl.col("odd_state"))
            .otherwise(pl.col("state"))
            .alias("state"),
        ]
        tweak = [(pl.col("credit_limit") * 0.11).round(0).mul(10.0).alias("credit_limit")]
    elif table == "invoices":
        changes = [
            pl.when(is_("nonpositive_amount"))
            .then(pl.when(pl.col("shift") % 2 == 0).then(0.0).otherwise(-pl.col("amount")))
            .otherwise(pl.col("amount"))
            .alias("amount"),
            pl.when(is_("due_before_issue"))
            .then(_days(pl.col("issued_at"), -pl.col("shift")))
            .otherwise(pl.col("due_at"))
            .alias("due_at"),
        ]
        tweak = [(pl.col("amount") + 10.0).alias("amount")]
    elif table == "payments":
        extra["odd_method"] = _pick(UNKNOWN_METHODS, n, rng)
        extra["issued"] = issued_at
        changes = [
            pl.when(is_("nonpositive_amount"))
            .then(pl.when(pl.col("shift") % 2 == 0).then(0.0).otherwise(-pl.col("amount")))
            .otherwise(pl.col("amount"))
            .alias("amount"),
            pl.when(is_("unknown_method"))
            .then(pl.col("odd_method"))
            .otherwise(pl.col("method"))
            .alias("method"),
            pl.when(is_("paid_before_issue"))
            .then(_days(pl.col("issued"), -3 * pl.col("shift")))
            .otherwise(pl.col("paid_at"))
            .alias("paid_at"),
            pl.when(is_("unknown_invoice"))
            .then("I9" + pl.col("invoice_id").str.slice(1))
            .otherwise(pl.col("invoice_id"))
            .alias("invoice_id"),
        ]
        tweak = [_days(pl.col("paid_at"), pl.lit(1)).alias("paid_at")]
    else:
        changes = []
        tweak = [pl.lit("no_answer").alias("outcome")]
    columns = frame.columns
    marked = frame.with_columns(**extra).with_columns(changes)
    copies = marked.filter(is_("duplicate_key"))
    copies = pl.concat(
        [
            copies.gather_every(2).select(columns),
            copies.gather_every(2, offset=1).with_columns(tweak).select(columns),
        ]
    )
    touched = marked.filter(pl.col("defect") != "")["customer_id"].unique()
    return pl.concat([marked.select(columns), copies]), touched
