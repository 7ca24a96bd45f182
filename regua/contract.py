"""The data contract: canonical tables, their typed columns and the rules each value obeys.

This module is the one place that says what a customer, an invoice, a payment, a
collection contact and a macro indicator look like once they are in the store. The
simulator writes to it, ingestion coerces and validates against it (the Great
Expectations suites are generated from it), and the feature engine reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from regua.render.markdown import markdown_cell

UFS: tuple[str, ...] = (
    "AC", "AL", "AM", "AP", "BA", "CE", "DF", "ES", "GO", "MA", "MG", "MS", "MT", "PA",
    "PB", "PE", "PI", "PR", "RJ", "RN", "RO", "RR", "RS", "SC", "SE", "SP", "TO",
)  # fmt: skip
CUSTOMER_KINDS = ("PF", "PJ")
EMPLOYMENT_TYPES = (
    "clt",
    "public_servant",
    "self_employed",
    "informal",
    "retired",
    "unemployed",
    "business",
)
COLLATERAL_TYPES = ("none", "vehicle", "real_estate", "receivables", "investments", "guarantor")
PRODUCT_FAMILIES = (
    "credit_card",
    "personal_loan",
    "retail_installment",
    "services",
    "working_capital",
    "other",
)
"""Families a company's products map to (the features count amounts per family)."""
PAYMENT_METHODS = ("pix", "boleto", "card", "debit", "agreement")
CONTACT_CHANNELS = ("email", "sms", "whatsapp", "phone", "letter", "agency")
"""Channels that reach the customer (or the agency acting for the creditor)."""
CHANNELS = (*CONTACT_CHANNELS, "bureau")
"""Every channel an action or a contact uses: the customer's, and the credit bureau
(Serasa, SPC, Boa Vista) for negative listings and de-listings."""
CONTACT_OUTCOMES = (
    "delivered",
    "read",
    "answered",
    "promise",
    "refused",
    "wrong_number",
    "no_answer",
    "undelivered",
)
MACRO_INDICATORS = ("unemployment", "selic", "ipca", "default_rate", "income_growth")

MIN_DATE = "1900-01-01"
MAX_DATE = "2100-12-31"
REAL_PLAN_DATE = "1994-07-01"
"""The real (BRL) began on 1994-07-01: no bill, payment or contact in reais is older."""
MAX_FLOW_BRL = 1e9
"""Upper bound of a monthly flow or a single amount (income, limit, bill, payment), BRL."""
MAX_STOCK_BRL = 1e11
"""Upper bound of a stock (assets, savings, equity, collateral), BRL."""


@dataclass(frozen=True)
class Column:
    """One typed column of a canonical table and the value rules it obeys."""

    name: str
    dtype: pl.DataType
    description: str
    required: bool = True
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    strict_min: bool = False
    min_date: str = MIN_DATE  # date and datetime columns only
    max_date: str = MAX_DATE
    default: Any = None
    example: Any = None


@dataclass(frozen=True)
class Reference:
    """A foreign key: every value of `column` must exist as `table.key`."""

    column: str
    table: str
    key: str


@dataclass(frozen=True)
class DateOrder:
    """`later` must be on or after `earlier`; `earlier` may live in a referenced table."""

    later: str
    earlier: str
    via: str | None = None  # name of the referenced table that holds `earlier`


@dataclass(frozen=True)
class Table:
    """A canonical table: its columns, primary key, references and date orderings."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    optional: bool = False
    references: tuple[Reference, ...] = ()
    date_orders: tuple[DateOrder, ...] = ()
    derived_key: bool = False  # key built from other columns when the export has none
    derived_key_from: tuple[str, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        """Column names in contract order."""
        return [c.name for c in self.columns]

    @property
    def required_names(self) -> list[str]:
        """Columns an export must carry."""
        return [c.name for c in self.columns if c.required]

    @property
    def schema(self) -> pl.Schema:
        """The polars schema of the table as stored."""
        return pl.Schema({c.name: c.dtype for c in self.columns})

    def column(self, name: str) -> Column:
        """The column called `name`."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")


_money = pl.Float64()
_date = pl.Date()

CUSTOMERS = Table(
    name="customers",
    description="One row per customer (PF: person, CPF; PJ: company, CNPJ).",
    key=("customer_id",),
    date_orders=(DateOrder(later="opened_at", earlier="birth_or_founding"),),
    columns=(
        Column("customer_id", pl.String(), "Customer key in the source system.",
               example="C0000001"),
        Column("kind", pl.String(), "PF (person) or PJ (company).", allowed=CUSTOMER_KINDS,
               example="PF"),
        Column("document_hash", pl.String(),
               "HMAC-SHA256 of the CPF/CNPJ digits; the document itself is never stored. "
               "Exports carry `document`, which ingestion validates and hashes. Optional: a "
               "customer without one is scored and contacted, never listed negatively.",
               required=False, nullable=True, example="9f2c…e1"),
        Column("state", pl.String(), "UF where the customer lives or is registered.",
               allowed=UFS, example="SP"),
        Column("city", pl.String(), "City name.", required=False, nullable=True,
               example="Campinas"),
        Column("opened_at", _date, "Date the relationship began.", example="2021-03-15"),
        Column("birth_or_founding", _date,
               "Birth date (PF) or founding date (PJ); from 1800 (old companies), never after "
               "opened_at.", required=False, nullable=True, min_date="1800-01-01",
               example="1987-06-02"),
        Column("declared_income", _money,
               "Declared monthly income (PF) or monthly revenue (PJ), BRL.",
               required=False, nullable=True, min_value=0, max_value=MAX_FLOW_BRL,
               example=4500.0),
        Column("employment_type", pl.String(), "Source of income.", required=False,
               nullable=True, allowed=EMPLOYMENT_TYPES, example="clt"),
        Column("employment_tenure_months", pl.Int32(),
               "Months in the current job (PF) or in business (PJ).", required=False,
               nullable=True, min_value=0, max_value=1200, example=38),
        Column("assets", _money, "Declared assets, BRL.", required=False, nullable=True,
               min_value=0, max_value=MAX_STOCK_BRL, example=35000.0),
        Column("savings", _money, "Liquid savings and investments, BRL.", required=False,
               nullable=True, min_value=0, max_value=MAX_STOCK_BRL, example=6000.0),
        Column("equity", _money, "Net equity (PJ; patrimônio líquido; may be negative), BRL.",
               required=False, nullable=True, min_value=-MAX_STOCK_BRL,
               max_value=MAX_STOCK_BRL, example=None),
        Column("monthly_debt_obligations", _money,
               "Monthly instalments owed elsewhere (bureau or declared), BRL.", required=False,
               nullable=True, min_value=0, max_value=MAX_FLOW_BRL, example=800.0),
        Column("collateral_value", _money, "Value of pledged collateral, BRL.", required=False,
               nullable=True, min_value=0, max_value=MAX_STOCK_BRL, example=0.0),
        Column("collateral_type", pl.String(), "Kind of collateral.", required=False,
               nullable=True, allowed=COLLATERAL_TYPES, default="none", example="none"),
        Column("credit_limit", _money, "Current credit limit, BRL.", min_value=0,
               max_value=MAX_FLOW_BRL, example=3000.0),
        Column("bureau_score", pl.Int32(), "External bureau score, 0-1000.", required=False,
               nullable=True, min_value=0, max_value=1000, example=640),
        Column("do_not_contact", pl.Boolean(), "The customer must not be contacted at all.",
               required=False, default=False, example=False),
        Column("opt_out_email", pl.Boolean(), "Opted out of e-mail.", required=False,
               default=False, example=False),
        Column("opt_out_sms", pl.Boolean(), "Opted out of SMS.", required=False, default=False,
               example=False),
        Column("opt_out_whatsapp", pl.Boolean(), "Opted out of WhatsApp.", required=False,
               default=False, example=False),
        Column("opt_out_phone", pl.Boolean(), "Opted out of phone calls.", required=False,
               default=False, example=False),
    ),
)  # fmt: skip

INVOICES = Table(
    name="invoices",
    description="Amounts billed: statements, boletos and instalments.",
    key=("invoice_id",),
    references=(Reference("customer_id", "customers", "customer_id"),),
    date_orders=(DateOrder(later="due_at", earlier="issued_at"),),
    columns=(
        Column("invoice_id", pl.String(), "Invoice key.", example="I000000001"),
        Column("customer_id", pl.String(), "Customer billed.", example="C0000001"),
        Column("issued_at", _date, "Issue date.", min_date=REAL_PLAN_DATE, example="2026-09-05"),
        Column("due_at", _date, "Due date.", min_date=REAL_PLAN_DATE, example="2026-09-15"),
        Column("amount", _money, "Amount due, BRL.", min_value=0, strict_min=True,
               max_value=MAX_FLOW_BRL, example=412.37),
        Column("product", pl.String(), "Product billed, in the company's own vocabulary.",
               example="CARTAO GOLD"),
        Column("product_family", pl.String(),
               "Family of the product; from the mapping profile, else the product itself "
               "when it names a family, else other.", required=False,
               allowed=PRODUCT_FAMILIES, example="credit_card"),
        Column("installment_no", pl.Int32(), "Instalment number (1 for single bills).",
               required=False, default=1, min_value=1, max_value=480, example=1),
        Column("installments_total", pl.Int32(), "Number of instalments in the plan.",
               required=False, default=1, min_value=1, max_value=480, example=1),
        Column("disputed", pl.Boolean(), "The customer disputes this invoice.", required=False,
               default=False, example=False),
    ),
)  # fmt: skip

PAYMENTS = Table(
    name="payments",
    description=(
        "Money received against an invoice. A payment that takes the invoice's payments (those "
        "stored and those earlier in the batch, by paid_at) above the invoice's amount plus "
        "`overpayment_tolerance_share` (config/ingest.yaml, 10%) is rejected with rule "
        "`overpayment`; it is not booked as a customer credit, so an analyst fixes the source "
        "(often a typo or a wrong invoice_id) and re-sends it."
    ),
    key=("payment_id",),
    references=(
        Reference("invoice_id", "invoices", "invoice_id"),
        Reference("customer_id", "customers", "customer_id"),
    ),
    date_orders=(DateOrder(later="paid_at", earlier="issued_at", via="invoices"),),
    columns=(
        Column("payment_id", pl.String(), "Payment key.", example="P000000001"),
        Column("invoice_id", pl.String(), "Invoice paid.", example="I000000001"),
        Column("customer_id", pl.String(), "Customer who paid.", example="C0000001"),
        Column("paid_at", _date, "Date the money was received.", min_date=REAL_PLAN_DATE,
               example="2026-09-14"),
        Column("amount", _money, "Amount received, BRL.", min_value=0, strict_min=True,
               max_value=MAX_FLOW_BRL, example=412.37),
        Column("method", pl.String(), "Payment method.", allowed=PAYMENT_METHODS,
               example="pix"),
    ),
)  # fmt: skip

CONTACTS = Table(
    name="contacts",
    description="What collection already did: one row per contact attempt.",
    key=("contact_id",),
    optional=True,
    derived_key=True,
    derived_key_from=("customer_id", "invoice_id", "at", "channel", "step_id"),
    references=(
        Reference("customer_id", "customers", "customer_id"),
        Reference("invoice_id", "invoices", "invoice_id"),
    ),
    date_orders=(DateOrder(later="promise_date", earlier="at"),),
    columns=(
        Column("contact_id", pl.String(),
               "Contact key; derived from customer, invoice, time, channel and step when the "
               "export has none.", required=False, example="K000000001"),
        Column("customer_id", pl.String(), "Customer contacted.", example="C0000001"),
        Column("invoice_id", pl.String(), "Invoice the contact was about.", required=False,
               nullable=True, example="I000000001"),
        Column("at", pl.Datetime("us"), "Local date and time of the attempt.",
               min_date=REAL_PLAN_DATE, example="2026-09-18 10:32:00"),
        Column("channel", pl.String(), "Channel used.", allowed=CHANNELS, example="sms"),
        Column("step_id", pl.String(), "Ladder step that triggered the contact.",
               required=False, nullable=True, example="sms_d1"),
        Column("case_id", pl.String(), "Collection case of the action carried out, as the "
               "actions file gave it.", required=False, nullable=True,
               example="C0000001-20260910"),
        Column("action_id", pl.String(), "Action carried out, as the actions file gave it; "
               "lets regua know the action is done.", required=False, nullable=True,
               example="C0000001-20260910/std_phone_d7/20260917"),
        Column("outcome", pl.String(), "What happened.", allowed=CONTACT_OUTCOMES,
               example="delivered"),
        Column("promise_date", _date, "Date the customer promised to pay.", required=False,
               nullable=True, min_date=REAL_PLAN_DATE, example=None),
        Column("promise_amount", _money, "Amount promised, BRL.", required=False,
               nullable=True, min_value=0, max_value=MAX_FLOW_BRL, example=None),
    ),
)  # fmt: skip

MACRO = Table(
    name="macro",
    description="Monthly macroeconomic conditions, national or by region (UF).",
    key=("month", "indicator", "region"),
    optional=True,
    columns=(
        Column("month", _date, "First day of the month the value refers to.",
               example="2026-09-01"),
        Column("indicator", pl.String(), "Indicator name.", allowed=MACRO_INDICATORS,
               example="unemployment"),
        Column("value", pl.Float64(), "Value, in percent for rates.", min_value=-100,
               max_value=10_000, example=6.4),
        Column("region", pl.String(), "UF, or BR for the national figure.", required=False,
               default="BR", allowed=(*UFS, "BR"), example="BR"),
    ),
)  # fmt: skip

ATTRIBUTE_COLUMNS: tuple[str, ...] = (
    "bureau_score",
    "credit_limit",
    "declared_income",
    "employment_type",
    "employment_tenure_months",
    "monthly_debt_obligations",
)
"""Customer attributes that change over time; `customer_attributes` dates them."""


def _dated(name: str) -> Column:
    """The customers column `name` as a nullable column of the attribute history."""
    c = CUSTOMERS.column(name)
    return Column(
        c.name,
        c.dtype,
        c.description.replace("Current credit limit", "Credit limit")
        + " Null: unknown from valid_from on.",
        required=False,
        nullable=True,
        allowed=c.allowed,
        min_value=c.min_value,
        max_value=c.max_value,
        example=c.example,
    )


CUSTOMER_ATTRIBUTES = Table(
    name="customer_attributes",
    description=(
        "Dated history of the customer attributes that change (bureau score, limit, income, "
        "employment, obligations): a row says \"from valid_from on, these are the values\", "
        "until the customer's next row. Features at an as_of read the latest row with "
        "valid_from <= as_of; a customer with rows but none valid yet has these attributes "
        "unknown (null) then; a customer without rows keeps the `customers` values at every "
        "as_of (the snapshot, as without this table). `employment_tenure_months` is the "
        "tenure on valid_from; at a later as_of the whole months since are added."
    ),
    key=("customer_id", "valid_from"),
    optional=True,
    references=(Reference("customer_id", "customers", "customer_id"),),
    columns=(
        Column("customer_id", pl.String(), "Customer the values belong to.",
               example="C0000001"),
        Column("valid_from", _date, "First day the row's values hold.",
               min_date=REAL_PLAN_DATE, example="2026-03-05"),
        *(_dated(name) for name in ATTRIBUTE_COLUMNS),
    ),
)  # fmt: skip

TABLES: dict[str, Table] = {
    t.name: t for t in (CUSTOMERS, INVOICES, PAYMENTS, CONTACTS, MACRO, CUSTOMER_ATTRIBUTES)
}
"""Canonical tables in dependency order: a table only references tables before it."""

RAW_DOCUMENT_COLUMN = "document"
"""The column exports carry in place of `document_hash`."""


def table(name: str) -> Table:
    """The canonical table called `name`, with a clear error for unknown names."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known: {', '.join(TABLES)}") from None


def raw_columns(t: Table) -> list[Column]:
    """Columns as an export carries them (the document in clear instead of its hash)."""
    if t.name != "customers":
        return list(t.columns)
    return [
        Column(
            RAW_DOCUMENT_COLUMN,
            pl.String(),
            "CPF (PF) or CNPJ (PJ), digits or formatted.",
            required=False,
            nullable=True,
        )
        if c.name == "document_hash"
        else c
        for c in t.columns
    ]


def empty_frame(t: Table) -> pl.DataFrame:
    """An empty frame with the stored schema of `t`."""
    return pl.DataFrame(schema=t.schema)


def contract_markdown() -> str:
    """The data contract as Markdown (data/README.md is generated from this)."""
    lines = [
        "# The data contract",
        "",
        "Generated from `regua/contract.py` by `regua contract > data/README.md`; a test keeps",
        "the two in step. Keys are strings, money is float64 in BRL, dates are dates.",
        "Exports may be CSV (UTF-8 or Latin-1, `,` or `;`, ISO or dd/mm/yyyy dates, decimal",
        "point or comma) or Parquet; files are found by name: `<table>.csv`,",
        "`<table>_<anything>.parquet`. Columns not marked required may be left out; their",
        "default (if any) fills them. Customers' exports may carry `document` (CPF/CNPJ), which",
        "ingestion validates and replaces by `document_hash`. An export with other column names,",
        "vocabularies or dialect reaches this contract through a mapping profile",
        "(`regua ingest --profile profiles/<name>.yaml`; examples in `profiles/`).",
        "",
        "`data/` keeps only this contract and small samples; generated data is ignored by git.",
        "",
        "Numbers are finite and within their column's range (rule `range`); `inf`, `NaN` or a",
        "number too large for a float is rule `type`. Separators must fit the file's dialect:",
        "with a decimal comma `1234,56`, `1.234,56`, `1.234.567` and `1234` are read; with a",
        "decimal point `1234.56`, `1,234.56`, `1,234,567` and `1234`. A value that could be read",
        "both ways (a single group, `1.234` with a decimal comma, `1,234` with a decimal point)",
        "or that does not fit the dialect (`1234.56` or `1,234.56` with a decimal comma) is",
        "rejected as `ambiguous_number`, never rescaled. A date outside its column's range is",
        "rule `date_range`; two-digit or cut-off years (`07/01/26`, `06/10/202`) land there.",
    ]
    for t in TABLES.values():
        lines += ["", f"## {t.name}{' (optional table)' if t.optional else ''}", "", t.description]
        lines += ["", f"Key: `{', '.join(t.key)}`."]
        if t.references:
            refs = ", ".join(f"`{r.column}` → `{r.table}.{r.key}`" for r in t.references)
            lines += [f"References: {refs}."]
        if t.date_orders:
            orders = ", ".join(
                f"`{o.later}` ≥ `{(o.via + '.') if o.via else ''}{o.earlier}`"
                for o in t.date_orders
            )
            lines += [f"Date order: {orders}."]
        lines += [
            "",
            "| column | type | required | rule | description |",
            "| --- | --- | --- | --- | --- |",
        ]
        for c in t.columns:
            rules = []
            if not c.nullable:
                rules.append("not null")
            if c.allowed:
                rules.append("one of " + ", ".join(c.allowed))
            if c.dtype.is_float():
                rules.append("finite")
            if c.min_value is not None:
                rules.append(f"{'>' if c.strict_min else '≥'} {_bound(c.min_value)}")
            if c.max_value is not None:
                rules.append(f"≤ {_bound(c.max_value)}")
            if c.dtype.is_temporal():
                rules.append(f"{c.min_date} to {c.max_date}")
            if c.default is not None:
                rules.append(f"default {c.default}")
            required = "yes" if c.required else "no"
            lines.append(
                f"| `{c.name}` | {str(c.dtype).lower()} | {required} "
                f"| {markdown_cell('; '.join(rules))} "
                f"| {markdown_cell(c.description)} |"
            )
        example = {c.name: c.example for c in t.columns}
        lines += ["", "Example row:", "", "```json", _json_line(example), "```"]
    return "\n".join(lines) + "\n"


def _bound(value: float) -> str:
    """A range bound as people read it: 1,000,000,000 rather than 1e+09."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def _json_line(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False)
