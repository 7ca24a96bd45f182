"""Template fields of the day's actions, formatted the Brazilian way, and messages rendered.

`message_fields` turns each action row (the columns of `dunning.outputs`) into the text of
every template field regua knows: money as R$ 1.234,56, dates as dd/mm/aaaa, a case's
invoices as one line each. `{amount}` is the open amount of the action's invoice for a
per-invoice action (a reminder before the due date, which has no `case_id`, or a bureau
listing or de-listing, one row per invoice) and the case's `amount_due` otherwise. The
collection tools fill the contact's name, document and payment link (regua keeps no clear
contact data); `render_message` takes them as arguments.

Optional action columns: `invoice_due_dates` (a list of dates in the order of
`invoice_ids`) adds each invoice's due date to `{invoices}`; `settled_at` (date) fills
`{settled_date}` for de-listings and agency recalls. A column that is absent gives null
fields, and rendering a template that uses a null field fails, naming it.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from regua.config.dunning import (
    TEMPLATE_FIELDS,
    TOOL_FIELDS,
    Creditor,
    creditor_values,
    fill_template,
    template_fields,
)

DEFAULT_CUSTOMER_NAME = "cliente"
"""How a message greets a customer when the tool has no name ("Olá, cliente.")."""
DEFAULT_PAYMENT_LINK = "nossos canais de atendimento"
"""Where to pay when the tool has no link (templates write "em {payment_link}")."""
PER_INVOICE_PURPOSES: tuple[str, ...] = ("negative_listing", "delisting")
"""Bureau requests: one action row per listed invoice, naming that invoice's debt."""
MESSAGE_FIELDS: tuple[str, ...] = tuple(sorted(TEMPLATE_FIELDS - set(TOOL_FIELDS)))
"""The fields `message_fields` formats, in column order (after `action_id`)."""
DATE_FORMAT = "%d/%m/%Y"


def money(amount: pl.Expr) -> pl.Expr:
    """A BRL amount as Brazilians write it: R$ 1.234,56 (null stays null)."""
    cents = (amount * 100).round(6).round(0, mode="half_away_from_zero").cast(pl.Int64)
    units = (cents.abs() // 100).cast(pl.String)
    grouped = (
        units.str.reverse().str.replace_all(r"(\d{3})", "${1}.").str.strip_suffix(".")
    ).str.reverse()
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str(
        sign, pl.lit("R$ "), grouped, pl.lit(","), (cents.abs() % 100).cast(pl.String).str.zfill(2)
    )


def day_text(day: pl.Expr) -> pl.Expr:
    """A date as dd/mm/aaaa."""
    return day.dt.to_string(DATE_FORMAT)


def percent_number(pct: pl.Expr) -> pl.Expr:
    """Percent points without trailing zeros, with a decimal comma: 10, 12,5."""
    value = pct.round(2)
    whole = value.cast(pl.Int64).cast(pl.String)
    decimal = value.cast(pl.String).str.replace(".", ",", literal=True)
    return pl.when(value == value.floor()).then(whole).otherwise(decimal)


def _column(actions: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    """The action column as `dtype`, or a null of `dtype` when the frame does not carry it."""
    return pl.col(name).cast(dtype) if name in actions.columns else pl.lit(None, dtype)


def invoice_lines(actions: pl.DataFrame) -> pl.Series:
    """Each action's invoices, one line each: "- Fatura F-1: R$ 1.234,56, vencida em 10/09/2026".

    Null for a row without invoices; the due date only when `invoice_due_dates` is given.
    """
    types = {"invoice_ids": pl.String, "invoice_amounts": pl.Float64, "invoice_due_dates": pl.Date}
    lists = [name for name in types if name in actions.columns]
    if not {"invoice_ids", "invoice_amounts"} <= set(lists):
        return pl.Series("invoices", [None] * actions.height, pl.String)
    rows = actions.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
        *(pl.col(name).cast(pl.List(types[name])) for name in lists),
    )
    base = pl.concat_str(
        pl.lit("- Fatura "), pl.col("invoice_ids"), pl.lit(": "), money(pl.col("invoice_amounts"))
    )
    line = base
    if "invoice_due_dates" in lists:
        due = day_text(pl.col("invoice_due_dates"))
        line = pl.when(due.is_null()).then(base).otherwise(base + pl.lit(", vencida em ") + due)
    lines = (
        rows.explode(lists)
        .filter(pl.col("invoice_ids").is_not_null())
        .group_by("_row", maintain_order=True)
        .agg(line.str.join("\n").alias("invoices"))
    )
    return rows.select("_row").join(lines, on="_row", how="left")["invoices"]


def message_fields(actions: pl.DataFrame, creditor: Creditor) -> pl.DataFrame:
    """Every template field of each action row as pt-BR text (`action_id` first, if given).

    One row per action, in order; a field the row has no value for is null.
    """

    def col(name: str, dtype: pl.DataType) -> pl.Expr:
        return _column(actions, name, dtype)

    invoice_id = col("invoice_id", pl.String)
    # a row without a case is a reminder before the due date: about its one invoice
    per_invoice = col("purpose", pl.String).is_in(PER_INVOICE_PURPOSES).fill_null(False) | (
        col("case_id", pl.String).is_null()
    )
    amount = (
        pl.when(per_invoice)
        .then(col("open_amount", pl.Float64))
        .otherwise(col("amount_due", pl.Float64))
    )
    dates = {
        "due_date": "due_at",
        "oldest_due_date": "oldest_due_at",
        "offer_valid_until": "offer_valid_until",
        "notice_date": "notice_date",
        "listing_date": "listing_date",
        "settled_date": "settled_at",
    }
    exprs: dict[str, pl.Expr] = {
        **{name: pl.lit(value) for name, value in creditor_values(creditor).items()},
        **{name: day_text(col(source, pl.Date)) for name, source in dates.items()},
        **{name: money(col(name, pl.Float64)) for name in ("total_due", "late_fee", "interest")},
        **{
            name: col(name, pl.Int64).cast(pl.String)
            for name in ("invoice_count", "days_overdue", "max_installments")
        },
        "amount_due": money(col("amount_due", pl.Float64)),
        "amount": money(amount),
        "invoice_id": invoice_id,
        "case_id": col("case_id", pl.String),
        "discount_pct": percent_number(col("discount_pct", pl.Float64)),
        "invoices": pl.lit(invoice_lines(actions)),
    }
    keys = ["action_id"] if "action_id" in actions.columns else []
    return actions.select(*keys, *(exprs[name].alias(name) for name in MESSAGE_FIELDS))


def render_message(
    template_text: str,
    fields: Mapping[str, object],
    *,
    customer_name: str = DEFAULT_CUSTOMER_NAME,
    payment_link: str = DEFAULT_PAYMENT_LINK,
    customer_document: str | None = None,
) -> str:
    """The message a template gives for one action's fields and the tool's contact data.

    `fields` is a row of `message_fields` (`.row(i, named=True)`). Raises ValueError naming
    every field the template uses that has no value, so no message goes out with a hole.
    """
    values = {
        **fields,
        "customer_name": customer_name,
        "payment_link": payment_link,
        "customer_document": customer_document,
    }
    used = template_fields(template_text)
    missing = sorted(name for name in used if values.get(name) is None)
    if missing:
        names = ", ".join("{" + name + "}" for name in missing)
        raise ValueError(f"the template uses {names}, which this action has no value for")
    return fill_template(template_text, {name: str(values[name]) for name in used})
