"""The day's outputs, declared once: every column of actions, segments and limits.

`decide` returns exactly these columns, in this order and of these types (`conform`);
`write_outputs` copies the descriptions into manifest.json; docs/outputs.md is
`outputs_markdown()`, and a test fails when it is stale.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from regua.render.markdown import markdown_cell


@dataclass(frozen=True)
class OutputColumn:
    """One column of an output file: its name, type and what it means."""

    name: str
    dtype: pl.DataType
    description: str


@dataclass(frozen=True)
class OutputTable:
    """One output of the day: the files it is written to, what a row is, its columns."""

    name: str
    files: str
    rows: str
    columns: tuple[OutputColumn, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in file order."""
        return tuple(column.name for column in self.columns)

    def conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The frame as declared: these columns, in this order, cast to these types."""
        return frame.select(pl.col(c.name).cast(c.dtype) for c in self.columns)


_AS_OF = OutputColumn("as_of", pl.Date(), "Day the decisions were made for (the run's as_of).")
_CUSTOMER = OutputColumn("customer_id", pl.String(), "The customer, as in the customers export.")
_PD = OutputColumn(
    "pd",
    pl.Float64(),
    "Probability that the customer goes 60+ days past due within 180 days (delinquency champion).",
)
_PROPENSITY = OutputColumn(
    "propensity",
    pl.Float64(),
    "Probability of paying 90% of what is overdue within 30 days (propensity champion); "
    "null when nothing is overdue.",
)
_TOP_REASONS = OutputColumn(
    "top_reasons",
    pl.List(pl.String()),
    "Up to four reasons (Portuguese, grouped by the 5 C's of credit) behind the PD; only for "
    "customers with an action scheduled for as_of or a limit change, null otherwise. "
    "Joined with ' | ' in CSV and SQL.",
)

ACTIONS = OutputTable(
    "actions",
    "`actions.parquet` and `actions.csv` (SQL: `regua_actions`)",
    "one row per open invoice of a scored customer (and per de-listing due), scheduled or "
    "skipped with its reason, so nothing disappears silently",
    (
        _AS_OF,
        _CUSTOMER,
        OutputColumn(
            "invoice_id", pl.String(), "The open (or just settled) invoice the action is about."
        ),
        OutputColumn("segment", pl.String(), "The customer's segment (config/segments.yaml)."),
        OutputColumn(
            "ladder_id", pl.String(), "The dunning ladder of that segment (config/ladders.yaml)."
        ),
        OutputColumn(
            "step_id",
            pl.String(),
            "The ladder step proposed for the invoice; `delisting` for a request to clear a "
            "negative listing after payment.",
        ),
        OutputColumn(
            "channel",
            pl.String(),
            "email, sms, whatsapp, phone, letter or agency; null for a de-listing.",
        ),
        OutputColumn(
            "template_id",
            pl.String(),
            "The Portuguese message template of the step (templates/<template_id>.txt).",
        ),
        OutputColumn(
            "purpose",
            pl.String(),
            "reminder, notice, negotiation_offer, negative_listing_notice, negative_listing, "
            "suspension, agency_handoff or delisting.",
        ),
        OutputColumn(
            "discount_pct",
            pl.Float64(),
            "Negotiation offers: the largest discount (percent) for paying in one go; null for "
            "other steps.",
        ),
        OutputColumn(
            "max_installments",
            pl.Int32(),
            "Negotiation offers: the most instalments offered; null for other steps.",
        ),
        OutputColumn(
            "state",
            pl.String(),
            "Where the invoice stands on its ladder: due (the step's day has come), upcoming "
            "(the next step and its day), held (a promise to pay), paused (dispute or active "
            "agreement) or exhausted (no step left).",
        ),
        OutputColumn(
            "status",
            pl.String(),
            "scheduled (the collection tools carry it out at scheduled_for) or skipped (see "
            "reason and guardrail).",
        ),
        OutputColumn(
            "scheduled_for",
            pl.Datetime("us"),
            "When to carry the action out, in the customer's local time (scheduled_tz); for a "
            "row a guardrail skipped, the time it had been proposed for; null when the ladder "
            "holds the invoice (paused, exhausted). In CSV: YYYY-MM-DDTHH:MM.",
        ),
        OutputColumn(
            "scheduled_tz",
            pl.String(),
            "IANA time zone of scheduled_for, from the customer's state (e.g. "
            "America/Sao_Paulo); null when scheduled_for is.",
        ),
        OutputColumn(
            "reason",
            pl.String(),
            "Why this step, in Portuguese: the ladder's reason (step due, clock re-anchored on a "
            "partial payment, promise, dispute, agreement, ladder exhausted, de-listing due).",
        ),
        OutputColumn(
            "guardrail",
            pl.String(),
            "What the legal guardrails did, in Portuguese (moved out of a holiday or the night, "
            "held by the weekly contact cap, skipped for an opt-out...); null when nothing.",
        ),
        OutputColumn(
            "open_amount",
            pl.Float64(),
            "What is still unpaid of the invoice at as_of (BRL); 0 for a de-listing.",
        ),
        _PD,
        _PROPENSITY,
        _TOP_REASONS,
    ),
)
SEGMENTS = OutputTable(
    "segments",
    "`segments.parquet` (SQL: `regua_segments`)",
    "one row per scored customer",
    (
        _AS_OF,
        _CUSTOMER,
        OutputColumn(
            "segment", pl.String(), "The one segment of the customer (config/segments.yaml)."
        ),
        OutputColumn("ladder_id", pl.String(), "The dunning ladder the segment follows."),
        OutputColumn("risk_band", pl.String(), "Band of the PD (config/segments.yaml bands.risk)."),
        OutputColumn(
            "propensity_band",
            pl.String(),
            "Band of the propensity to pay; customers with nothing overdue take "
            "`missing_propensity`.",
        ),
        OutputColumn(
            "recurrence",
            pl.String(),
            "never_late, first_time_late or chronic (3+ invoices late in the last 365 days).",
        ),
        OutputColumn(
            "exposure_band", pl.String(), "Band of the open balance in BRL (bands.exposure)."
        ),
        _PD,
        _PROPENSITY,
    ),
)
LIMITS = OutputTable(
    "limits",
    "`limits.parquet` (SQL: `regua_limits`)",
    "one credit-limit recommendation per scored customer",
    (
        _AS_OF,
        _CUSTOMER,
        OutputColumn("current_limit", pl.Float64(), "The customer's credit limit at as_of (BRL)."),
        OutputColumn(
            "recommended_limit",
            pl.Float64(),
            "The limit the policy recommends (BRL, config/limits.yaml); analysts accept or "
            "override it.",
        ),
        OutputColumn("change", pl.Float64(), "recommended_limit - current_limit (BRL)."),
        OutputColumn(
            "change_pct",
            pl.Float64(),
            "The change in percent of the current limit; null when the current limit is 0.",
        ),
        OutputColumn("decision", pl.String(), "increase, decrease or keep."),
        OutputColumn(
            "risk_band",
            pl.String(),
            "The limit policy's PD band (config/limits.yaml bands, Portuguese names).",
        ),
        OutputColumn(
            "limit_reasons",
            pl.List(pl.String()),
            "Up to four reasons for the recommendation, in Portuguese, most important first. "
            "Joined with ' | ' in SQL.",
        ),
        OutputColumn(
            "reason_codes",
            pl.List(pl.String()),
            "The stable English codes of limit_reasons, position by position. Joined with ',' "
            "in SQL.",
        ),
        _TOP_REASONS,
    ),
)
OUTPUT_TABLES: tuple[OutputTable, ...] = (ACTIONS, SEGMENTS, LIMITS)
"""The day's outputs, in the order the docs list them."""


def data_dictionary() -> dict[str, dict[str, str]]:
    """{output: {column: description}}: what manifest.json says each column means."""
    return {t.name: {c.name: c.description for c in t.columns} for t in OUTPUT_TABLES}


_DTYPE_LABELS: dict[pl.DataType, str] = {
    pl.String(): "text",
    pl.Date(): "date",
    pl.Datetime("us"): "local date-time",
    pl.Float64(): "number",
    pl.Int32(): "integer",
    pl.List(pl.String()): "list of text",
}


def outputs_markdown() -> str:
    """docs/outputs.md: every column of the day's outputs, with its type and meaning."""
    lines = [
        "# The day's outputs",
        "",
        "<!-- Generated by regua.dunning.outputs.outputs_markdown(); do not edit by hand. -->",
        "",
        "Every night writes `out/<as_of>/`: the three tables below and `manifest.json` (row "
        "counts, SHA-256 of each file, store and model versions, configuration hashes, and "
        "this dictionary under `columns`). With `--db-url` the same rows go to SQL, "
        "replacing that as_of's rows.",
    ]
    for table in OUTPUT_TABLES:
        lines += ["", f"## {table.name}", "", f"{table.files}: {table.rows}.", ""]
        lines += ["| column | type | meaning |", "| --- | --- | --- |"]
        lines += [
            f"| `{c.name}` | {_DTYPE_LABELS[c.dtype]} | {markdown_cell(c.description)} |"
            for c in table.columns
        ]
    return "\n".join(lines) + "\n"
