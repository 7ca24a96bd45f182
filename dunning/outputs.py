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
    "Probability that the customer goes 60+ days past due within 180 days (delinquency "
    "champion); for a customer outside the model's population (`in_population` false), the "
    "configured out_of_population_pd (config/labels.yaml) instead.",
)
_IN_POPULATION = OutputColumn(
    "in_population",
    pl.Boolean(),
    "Whether the delinquency model was built for this customer; false for customers already "
    "60+ days past due at as_of (left out of training), whose PD is a configured value and "
    "whose reason reads 'fora da população do modelo'.",
)
_PROPENSITY = OutputColumn(
    "propensity",
    pl.Float64(),
    "Probability of paying 90% of what is overdue within 30 days (propensity champion); "
    "null when nothing is overdue.",
)
_PAYMENT_REASONS = OutputColumn(
    "payment_reasons",
    pl.List(pl.String()),
    "Up to four reasons (Portuguese, by the 5 C's) that lower the propensity to pay "
    "(propensity champion); only for customers with something overdue and an action "
    "scheduled for as_of, null otherwise. Joined with ' | ' in CSV and SQL.",
)
_TOP_REASONS = OutputColumn(
    "top_reasons",
    pl.List(pl.String()),
    "Up to four reasons (Portuguese, grouped by the 5 C's of credit) behind the PD; only for "
    "customers with an action scheduled for as_of or a limit change, null otherwise. "
    "Joined with ' | ' in CSV and SQL.",
)

_EXPERIMENT = OutputColumn(
    "experiment_id",
    pl.String(),
    "The strategy experiment (config/strategies.yaml) the customer's case is in; null outside "
    "every experiment.",
)
_CELL = OutputColumn(
    "cell",
    pl.String(),
    "The case's cell of that experiment (champion, a challenger or control): a stable draw "
    "from the case id, kept until the case closes; null outside every experiment.",
)

_DATE = pl.Date()
_TEXT = pl.String()
_MONEY = pl.Float64()

ACTIONS = OutputTable(
    "actions",
    "`actions.parquet` and `actions.csv` (SQL: `regua_actions`)",
    "one row per collection case, per open invoice not yet due (its reminders), per "
    "listed invoice to list or clear at the bureau, and per agency recall; scheduled, "
    "skipped with the rule that stopped it, or waiting with what comes next, so nothing "
    "disappears silently. The collection tools act on `scheduled` rows, de-duplicate them "
    "by `action_id` and drop them after `valid_until`; what they did must come back in the "
    "contacts export with `case_id` and `action_id`. Without it regua does not know the "
    "action was done: it keeps the same action_id until valid_until, then issues the step "
    "again with a new id",
    (
        _AS_OF,
        _CUSTOMER,
        OutputColumn(
            "action_id",
            _TEXT,
            "Stable id of the action: `<case_id or invoice_id>/<step_id>/<YYYYMMDD>` (the day "
            "its attempt began). The same on every night until the action is done, superseded "
            "or past valid_until; null for waiting rows.",
        ),
        OutputColumn(
            "case_id",
            _TEXT,
            "The customer's collection case, `<customer_id>-<YYYYMMDD>` of the oldest unpaid "
            "due date when it opened; null for reminders before the due date.",
        ),
        OutputColumn(
            "invoice_id",
            _TEXT,
            "The invoice of a reminder, listing or de-listing; for a case step, the case's "
            "oldest past-due invoice.",
        ),
        OutputColumn(
            "invoice_ids",
            pl.List(_TEXT),
            "Every invoice the action covers, oldest due date first (joined with ',' in CSV "
            "and SQL).",
        ),
        OutputColumn(
            "invoice_amounts",
            pl.List(_MONEY),
            "What is unpaid of each of invoice_ids, same order (BRL; joined with ';').",
        ),
        OutputColumn(
            "invoice_due_dates",
            pl.List(_DATE),
            "Due date of each of invoice_ids, same order (joined with ',').",
        ),
        OutputColumn("segment", _TEXT, "The customer's segment (config/segments.yaml)."),
        OutputColumn(
            "ladder_id",
            _TEXT,
            "The dunning ladder (config/ladders.yaml): the case's, fixed by its first step "
            "carried out, else the segment's.",
        ),
        OutputColumn(
            "step_id",
            _TEXT,
            "The ladder step; `delisting` to clear a listing, `agency_recall` to take a "
            "customer back from the agency.",
        ),
        OutputColumn("channel", _TEXT, "email, sms, whatsapp, phone, letter, agency or bureau."),
        OutputColumn(
            "template_id",
            _TEXT,
            "The Portuguese message template (templates/<template_id>.txt).",
        ),
        OutputColumn(
            "purpose",
            _TEXT,
            "reminder, notice, negotiation_offer, negative_listing_notice, negative_listing, "
            "suspension, agency_handoff, delisting or agency_recall.",
        ),
        OutputColumn(
            "state",
            _TEXT,
            "due (the step's day has come: scheduled or skipped), upcoming (the next step and "
            "its day), held (a promise to pay), paused (settlement agreement or every invoice "
            "disputed) or exhausted (no step left).",
        ),
        OutputColumn(
            "status",
            _TEXT,
            "scheduled (carry it out at scheduled_for), skipped (a rule stopped it: see "
            "guardrail and evidence) or waiting (nothing to do tonight).",
        ),
        OutputColumn(
            "scheduled_for",
            pl.Datetime("us"),
            "When to carry the action out, in the customer's local time (scheduled_tz); never "
            "before the day after as_of. For a skipped row, the time it had been proposed "
            "for; null for waiting rows. In CSV: YYYY-MM-DDTHH:MM.",
        ),
        OutputColumn(
            "scheduled_tz",
            _TEXT,
            "IANA time zone of scheduled_for, from the customer's state; null when "
            "scheduled_for is.",
        ),
        OutputColumn(
            "valid_until",
            _DATE,
            "Last day the action may be carried out; the tools drop it afterwards. For a "
            "de-listing, its legal deadline.",
        ),
        OutputColumn(
            "proposed_on",
            _DATE,
            "The day the step was proposed for (upcoming and held rows: the day it falls on).",
        ),
        OutputColumn(
            "reason",
            _TEXT,
            "Why this step, in Portuguese (case step, clock restarted by a payment, promise "
            "pending or broken, pause, de-listing due and its deadline...).",
        ),
        OutputColumn(
            "guardrail",
            _TEXT,
            "What the legal guardrails did, in Portuguese (moved out of a holiday or the "
            "night, held by a contact cap, skipped for an opt-out...); null when nothing.",
        ),
        OutputColumn("open_amount", _MONEY, "Unpaid amount of invoice_id (BRL)."),
        OutputColumn("due_at", _DATE, "Due date of invoice_id."),
        OutputColumn("total_due", _MONEY, "Unpaid amount of every invoice in invoice_ids (BRL)."),
        OutputColumn("invoice_count", pl.UInt32(), "Number of invoices in invoice_ids."),
        OutputColumn("oldest_due_at", _DATE, "Oldest due date among invoice_ids."),
        OutputColumn(
            "days_overdue",
            pl.Int64(),
            "as_of minus oldest_due_at (0 on the due date, negative before it).",
        ),
        OutputColumn(
            "late_fee",
            _MONEY,
            "Late fine on the past-due invoices (config/charges.yaml; at most 2%, CDC art. 52 "
            "§1), BRL.",
        ),
        OutputColumn(
            "interest", _MONEY, "Interest on arrears up to as_of (config/charges.yaml), BRL."
        ),
        OutputColumn("amount_due", _MONEY, "total_due + late_fee + interest (BRL)."),
        OutputColumn(
            "discount_pct",
            _MONEY,
            "Negotiation offers: the largest discount (percent) for paying in one go.",
        ),
        OutputColumn(
            "max_installments", pl.Int32(), "Negotiation offers: the most instalments offered."
        ),
        OutputColumn(
            "offer_valid_until",
            _DATE,
            "Negotiation offers: last day the offer holds (config/cases.yaml offer_valid_days).",
        ),
        OutputColumn(
            "notice_date",
            _DATE,
            "Listings: the day of the written notice that covers the invoice (CDC art. 43 §2).",
        ),
        OutputColumn(
            "listing_date",
            _DATE,
            "Listing notices: the earliest day the debt may be listed (notice + 10 days, 20 "
            "in SP); listings: the day of the listing.",
        ),
        OutputColumn(
            "promise_state",
            _TEXT,
            "The case's latest promise to pay: pending, kept, broken or ignored (over the "
            "limit of promises); null without one.",
        ),
        OutputColumn("promise_date", _DATE, "Date of that promise."),
        OutputColumn(
            "settled_at",
            _DATE,
            "De-listings: the day the invoice was paid in full or its agreement's first "
            "payment; agency recalls: the customer's last payment.",
        ),
        OutputColumn("promise_amount", _MONEY, "Amount of that promise (BRL)."),
        OutputColumn(
            "evidence",
            _TEXT,
            "JSON: every rule checked and the values it saw: guardrail codes, local time and "
            "zone, the channel's window that day, the customer's counted contacts in the 7 "
            "days and on the day, the covering notice's id and date and the earliest listing "
            "day, the debt's age, the case's opening and clock anchor, the step's day, "
            "superseded steps, the promise, a de-listing's deadline.",
        ),
        _PD,
        _IN_POPULATION,
        _PROPENSITY,
        _TOP_REASONS,
        _PAYMENT_REASONS,
        _EXPERIMENT,
        _CELL,
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
        OutputColumn(
            "ladder_id",
            pl.String(),
            "The dunning ladder the segment follows, or the experiment cell's ladder.",
        ),
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
        _IN_POPULATION,
        _PROPENSITY,
        OutputColumn(
            "case_id",
            pl.String(),
            "The customer's open collection case tonight; null when nothing is past due.",
        ),
        _EXPERIMENT,
        _CELL,
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
            "The limit tonight recommends (BRL): the analyst's decision in force when "
            "held_by_analyst, else the policy's (model_recommended_limit).",
        ),
        OutputColumn(
            "model_recommended_limit",
            pl.Float64(),
            "The limit the policy recommends (BRL, config/limits.yaml), whatever an analyst "
            "decided; analysts accept, reject or override it in the workbench.",
        ),
        OutputColumn("change", pl.Float64(), "recommended_limit - current_limit (BRL)."),
        OutputColumn(
            "change_pct",
            pl.Float64(),
            "The change in percent of the current limit; null when the current limit is 0.",
        ),
        OutputColumn(
            "decision",
            pl.String(),
            "increase, decrease or keep; held_by_analyst when an analyst's decision is in "
            "force (the night does not recommend over it until held_until).",
        ),
        OutputColumn(
            "held_by_analyst",
            pl.Boolean(),
            "Whether an analyst's approved decision is in force tonight (workbench).",
        ),
        OutputColumn(
            "analyst_decision_id",
            pl.Int64(),
            "The decision in force (the workbench's decisions table); null when none.",
        ),
        OutputColumn(
            "analyst_limit",
            pl.Float64(),
            "The limit the analyst's decision in force sets (BRL); null when none.",
        ),
        OutputColumn(
            "held_until",
            pl.Date(),
            "The decision's review date: from that night on the policy recommends again; "
            "null when none.",
        ),
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


def flat_actions(actions: pl.DataFrame) -> pl.DataFrame:
    """The actions with their lists joined into text, as CSV and SQL carry them."""
    return actions.with_columns(
        pl.col("invoice_ids").list.join(","),
        pl.col("invoice_amounts").cast(pl.List(pl.String)).list.join(";"),
        pl.col("invoice_due_dates").cast(pl.List(pl.String)).list.join(","),
        pl.col("top_reasons").list.join(" | "),
        pl.col("payment_reasons").list.join(" | "),
    )


"""The day's outputs, in the order the docs list them."""


FEEDBACK_LOOP = (
    "Collection is a case per customer that spans nights, and regua learns what was done "
    "only from the contacts export: the collection tools must report every attempt of a "
    "scheduled action (sent, delivered, answered, promise, refused, undelivered...) with "
    "the action's case_id, action_id and step_id, and every bureau listing and de-listing "
    "with its invoice_id. A scheduled action is for scheduled_for, on the day after as_of "
    "at the earliest; the tools de-duplicate by action_id and drop an action after "
    "valid_until. When a contact does not come back, regua does not know the step was "
    "taken: it keeps issuing the same action_id (the tools must not repeat it) until "
    "valid_until, then issues the step again with a new action_id; the ladder does not "
    "move on, a listing waits for its counted notice, and a de-listing stays due."
)
"""What the loop between regua and the collection tools depends on (README, manifest)."""


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
    pl.List(pl.Float64()): "list of numbers",
    pl.List(pl.Date()): "list of dates",
    pl.UInt32(): "integer",
    pl.Int64(): "integer",
    pl.Boolean(): "true or false",
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
        "",
        "## The loop with the collection tools",
        "",
        FEEDBACK_LOOP + ".",
    ]
    for table in OUTPUT_TABLES:
        lines += ["", f"## {table.name}", "", f"{table.files}: {table.rows}.", ""]
        lines += ["| column | type | meaning |", "| --- | --- | --- |"]
        lines += [
            f"| `{c.name}` | {_DTYPE_LABELS[c.dtype]} | {markdown_cell(c.description)} |"
            for c in table.columns
        ]
    return "\n".join(lines) + "\n"
