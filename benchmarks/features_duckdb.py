"""Reference implementation of the feature catalog as one DuckDB SQL query.

Kept beside the benchmark as a yardstick for `features.build` (speed) and as an
independent reading of the catalog's definitions (a test asserts all implementations
agree on a sample). Window functions give the running totals, aggregates with FILTER
clauses give the per-window statistics; one as_of per query. Not used by the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from regua.contract import MACRO_INDICATORS, PRODUCT_FAMILIES, TABLES, empty_frame
from regua.features.behaviour import CHECKPOINT_DAYS, PROMISE_WINDOWS, ROLL_WINDOWS, WINDOWS
from regua.features.catalog import FEATURE_NAMES
from regua.features.ledger import settle_tolerance_cents

NEVER = 2**31 - 1
TOLERANCE_CENTS = settle_tolerance_cents()
CHECKPOINTS = max(ROLL_WINDOWS) // CHECKPOINT_DAYS
RECEIVED = "('delivered', 'read', 'answered', 'promise', 'refused')"
ANSWERED = "('answered', 'promise', 'refused')"


def connect(sources: Mapping[str, Any], threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A connection with one view per canonical table: a Parquet path or an Arrow-able frame.

    Absent tables become empty views with the contract's columns.
    """
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for name in TABLES:
        source = sources.get(name)
        if isinstance(source, str | Path):
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{source}')")
        else:
            frame = empty_frame(TABLES[name]) if source is None else source
            arrow = frame.to_arrow() if hasattr(frame, "to_arrow") else frame
            con.register(f"_{name}", arrow)
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}")
    return con


def store_sources(store_tables: Path) -> dict[str, Path]:
    """Parquet files of a store version folder (`.../tables`), by table name."""
    return {
        n: store_tables / f"{n}.parquet" for n in TABLES if (store_tables / f"{n}.parquet").exists()
    }


def _ratio(numerator: str, denominator: str) -> str:
    return f"CASE WHEN ({denominator}) > 0 THEN ({numerator}) / ({denominator}) END"


def _bucket(dpd: str) -> str:
    return f"least(greatest((({dpd}) + 29) // 30, 0), 4)"


def feature_query(as_of: date) -> str:
    """The SQL computing every feature at `as_of` (one row per customer opened by then)."""
    a = (as_of - date(1970, 1, 1)).days
    d = f"DATE '{as_of.isoformat()}'"
    late = "due < A AND settled > due"
    inv_aggs = [
        "count(*) AS invoices",
        "count(*) FILTER (issued > A - 365) AS invoices_365",
        "count(*) FILTER (settled <= A) AS settled_n",
        f"count(*) FILTER ({late} AND settled <= A) AS late_n",
        "sum(amount) FILTER (settled > A) AS open_billed",
        "sum(amount) FILTER (settled > A AND due < A) AS overdue_billed",
        "max(A - due) FILTER (due < A AND settled > A) AS dpd_0",
        f"max(least(settled, A) - due) FILTER ({late}) AS dpd_worst_lifetime",
        f"max(least(settled, A)) FILTER ({late}) AS last_late_day",
    ]
    for k in range(1, CHECKPOINTS + 1):
        t = f"(A - {k * CHECKPOINT_DAYS})"
        inv_aggs.append(f"max({t} - due) FILTER (due < {t} AND settled > {t}) AS dpd_{k}")
    for w in WINDOWS:
        m = f"due >= A - {w} AND due < A"
        inv_aggs += [
            f"count(*) FILTER ({m}) AS matured_{w}",
            f"count(*) FILTER ({m} AND settled <= due) AS on_time_{w}",
            f"count(*) FILTER ({m} AND settled > due AND settled <= A) AS late_{w}",
            f"sum(least(settled, A) - due) FILTER ({m} AND settled > due) AS days_late_sum_{w}",
            f"max(least(settled, A) - due) FILTER ({m} AND settled > due) AS days_late_max_{w}",
            f"sum(amount) FILTER ({m}) AS billed_{w}",
            f"max(least(settled, A) - due) FILTER ({late} AND least(settled, A) > A - {w})"
            f" AS worst_{w}",
        ]
    for p in PRODUCT_FAMILIES:
        inv_aggs.append(f"sum(amount) FILTER (issued > A - 365 AND product = '{p}') AS product_{p}")
    pay_aggs = [
        "max(day) AS last_paid_day",
        "sum(paid) FILTER (settled > A) AS paid_open",
        "sum(paid) FILTER (settled > A AND due < A) AS paid_overdue",
        "count(*) FILTER (agreement AND day > A - 365) AS agreement_payments",
        "count(DISTINCT invoice_id) FILTER (agreement AND day > A - 90 AND settled > A)"
        " AS agreements_active",
    ]
    for w in WINDOWS:
        pay_aggs += [
            f"sum(paid) FILTER (day > A - {w}) AS paid_{w}",
            f"count(*) FILTER (day > A - {w} AND open_after) AS partial_{w}",
        ]
    con_aggs = []
    for w in WINDOWS:
        con_aggs += [
            f"count(*) FILTER (day > A - {w} AND outcome IN {RECEIVED}) AS received_{w}",
            f"count(*) FILTER (day > A - {w} AND outcome IN {ANSWERED}) AS answered_{w}",
        ]
    pro_aggs = []
    for w in PROMISE_WINDOWS:
        made = f"promised_at > A - {w}"
        pro_aggs += [
            f"count(*) FILTER ({made}) AS made_{w}",
            f"count(*) FILTER ({made} AND kept <= A) AS kept_{w}",
            f"count(*) FILTER ({made} AND kept > A AND promise_day <= A) AS broken_{w}",
        ]
    macro_now = ", ".join(
        f"max(latest.v) FILTER (latest.indicator = '{i}') AS {i}" for i in MACRO_INDICATORS
    )

    def z(column: str) -> str:
        return f"coalesce({column}, 0)"

    def contact(expr: str) -> str:
        return f"CASE WHEN (SELECT has FROM has_contacts) THEN {expr} END"

    settled = {w: f"({z(f'on_time_{w}')} + {z(f'late_{w}')})" for w in WINDOWS}
    late_share = {w: _ratio(z(f"late_{w}"), settled[w]) for w in WINDOWS}
    mean_late = {w: _ratio(z(f"days_late_sum_{w}"), f"matured_{w}") for w in WINDOWS}
    paid_billed = {w: _ratio(z(f"paid_{w}"), f"billed_{w}") for w in WINDOWS}
    buckets = [_bucket(z(f"dpd_{k}")) for k in range(CHECKPOINTS + 1)]
    open_balance = f"({z('open_billed')} - {z('paid_open')})"
    monthly = f"({z('billed_90')} / 3)"
    products = [z(f"product_{p}") for p in PRODUCT_FAMILIES]
    best = f"greatest({', '.join(products)})"
    main_product = (
        f"CASE WHEN {best} <= 0 THEN NULL "
        + " ".join(
            f"WHEN {col} = {best} THEN '{p}'"
            for p, col in zip(PRODUCT_FAMILIES, products, strict=True)
        )
        + " END"
    )
    f: dict[str, str] = {"dpd_now": z("dpd_0")}
    f |= {f"dpd_worst_{w}": z(f"worst_{w}") for w in WINDOWS}
    f["delinquency_bucket_now"] = buckets[0]
    for name, op in (("roll_forward", ">"), ("roll_back", "<")):
        for w in ROLL_WINDOWS:
            steps = [
                f"CAST({buckets[k]} {op} {buckets[k + 1]} AS INTEGER)"
                for k in range(w // CHECKPOINT_DAYS)
            ]
            f[f"{name}_{w}"] = " + ".join(steps)
    f |= {f"paid_late_count_{w}": z(f"late_{w}") for w in WINDOWS}
    f |= {f"paid_late_share_{w}": late_share[w] for w in WINDOWS}
    f |= {f"paid_on_time_share_{w}": _ratio(f"on_time_{w}", f"matured_{w}") for w in WINDOWS}
    f |= {f"days_late_mean_{w}": mean_late[w] for w in WINDOWS}
    f |= {f"days_late_max_{w}": z(f"days_late_max_{w}") for w in WINDOWS}
    f |= {f"paid_to_billed_{w}": paid_billed[w] for w in WINDOWS}
    f |= {f"partial_payments_{w}": z(f"partial_{w}") for w in WINDOWS}
    f["days_since_last_payment"] = "A - last_paid_day"
    f["open_balance"] = open_balance
    f["overdue_balance"] = f"({z('overdue_billed')} - {z('paid_overdue')})"
    f["limit_utilisation"] = _ratio(open_balance, "credit_limit")
    f["days_late_mean_trend"] = f"({mean_late[90]}) - ({mean_late[365]})"
    f["paid_late_share_trend"] = f"({late_share[90]}) - ({late_share[365]})"
    f["paid_to_billed_trend"] = f"({paid_billed[90]}) - ({paid_billed[365]})"
    f["late_first_time"] = f"CAST({z('dpd_0')} > 0 AND {z('late_365')} = 0 AS INTEGER)"
    f["late_chronic"] = (
        f"CAST({z('late_365')} + {z('matured_365')} - {settled[365]} >= 3 AS INTEGER)"
    )
    f |= {f"contacts_received_{w}": contact(z(f"received_{w}")) for w in WINDOWS}
    f |= {f"contacts_answered_{w}": contact(z(f"answered_{w}")) for w in WINDOWS}
    for name in ("made", "kept", "broken"):
        f |= {f"promises_{name}_{w}": contact(z(f"{name}_{w}")) for w in PROMISE_WINDOWS}
    f |= {
        f"promise_kept_share_{w}": _ratio(z(f"kept_{w}"), f"{z(f'kept_{w}')} + {z(f'broken_{w}')}")
        for w in PROMISE_WINDOWS
    }
    f["agreements_active"] = z("agreements_active")
    f["agreement_payments_365"] = z("agreement_payments")
    f["tenure_months"] = "floor((A - opened) / 30.4375)"
    f["age_years"] = "floor((A - born) / 365.25)"
    f["bureau_score"] = "bureau_score"
    f["invoices_365"] = z("invoices_365")
    f["paid_late_share_lifetime"] = _ratio(z("late_n"), z("settled_n"))
    f["dpd_worst_lifetime"] = z("dpd_worst_lifetime")
    f["days_since_last_delinquency"] = "A - last_late_day"
    f["declared_income"] = "declared_income"
    f["employment_type"] = "employment_type"
    f["employment_tenure_months"] = "employment_tenure_months"
    f["credit_limit"] = "credit_limit"
    f["installment_to_income"] = _ratio(monthly, "declared_income")
    f["debt_to_income"] = _ratio(f"monthly_debt_obligations + {monthly}", "declared_income")
    f["open_balance_to_income"] = _ratio(open_balance, "declared_income")
    f["assets"] = "assets"
    f["savings"] = "savings"
    f["equity"] = "equity"
    f["savings_to_income"] = _ratio("savings", "declared_income")
    f["assets_to_limit"] = _ratio("assets", "credit_limit")
    f["collateral_type"] = "collateral_type"
    f["collateral_value"] = "collateral_value"
    f["collateral_to_limit"] = _ratio("collateral_value", "credit_limit")
    f["collateral_to_open_balance"] = _ratio("collateral_value", open_balance)
    f["kind"] = "kind"
    f["state"] = "state"
    f["main_product"] = main_product
    f["unemployment"] = "coalesce(r.unemployment, n.unemployment)"
    f["unemployment_change_3m"] = "coalesce(r.unemployment_change, n.unemployment_change)"
    for name in ("selic", "ipca", "default_rate", "income_growth"):
        f[name] = f"coalesce(r.{name}, n.{name})"
    assert tuple(f) == FEATURE_NAMES, "catalog and reference differ"
    select = ",\n  ".join(f"{expr} AS {name}" for name, expr in f.items())
    return f"""
WITH
params AS (SELECT {a} AS A),
inv AS (
  SELECT i.invoice_id, i.customer_id, i.issued_at - DATE '1970-01-01' AS issued,
         i.due_at - DATE '1970-01-01' AS due, i.amount, i.product_family AS product,
         CAST(round(i.amount * 100) AS BIGINT) AS owed
  FROM invoices i SEMI JOIN customers c ON i.customer_id = c.customer_id
),
pay AS (
  SELECT p.invoice_id, inv.customer_id, p.paid_at - DATE '1970-01-01' AS day, p.amount AS paid,
         p.method = 'agreement' AS agreement, CAST(round(p.amount * 100) AS BIGINT) AS cents,
         inv.due, inv.owed
  FROM payments p JOIN inv USING (invoice_id)
),
daily AS (
  SELECT invoice_id, day, sum(sum(cents)) OVER (PARTITION BY invoice_id ORDER BY day) AS paid_eod,
         any_value(owed) AS owed
  FROM pay GROUP BY invoice_id, day
),
settle AS (
  SELECT invoice_id, min(day) AS settled FROM daily WHERE paid_eod >= owed - {TOLERANCE_CENTS}
  GROUP BY invoice_id
),
inv_s AS (
  SELECT inv.*, coalesce(settle.settled, {NEVER}) AS settled
  FROM inv LEFT JOIN settle USING (invoice_id)
),
pay_s AS (
  SELECT pay.*, daily.paid_eod < daily.owed - {TOLERANCE_CENTS} AS open_after,
         coalesce(settle.settled, {NEVER}) AS settled
  FROM pay JOIN daily USING (invoice_id, day) LEFT JOIN settle USING (invoice_id)
),
inv_agg AS (
  SELECT customer_id, {", ".join(inv_aggs)}
  FROM inv_s, params WHERE issued <= A GROUP BY customer_id
),
pay_agg AS (
  SELECT customer_id, {", ".join(pay_aggs)}
  FROM pay_s, params WHERE day <= A GROUP BY customer_id
),
con AS (
  SELECT c.*, CAST(c."at" AS DATE) - DATE '1970-01-01' AS day
  FROM contacts c SEMI JOIN customers k ON c.customer_id = k.customer_id
),
has_contacts AS (
  SELECT coalesce(min(CAST("at" AS DATE) - DATE '1970-01-01') <= {a}, false) AS has FROM contacts
),
con_agg AS (
  SELECT customer_id, {", ".join(con_aggs)} FROM con, params WHERE day <= A GROUP BY customer_id
),
prom AS (
  SELECT row_number() OVER () AS promise, customer_id,
         CASE WHEN invoice_id IN (SELECT invoice_id FROM inv) THEN invoice_id END AS invoice_id,
         day AS promised_at, promise_date - DATE '1970-01-01' AS promise_day,
         CAST(round(coalesce(promise_amount, 0) * 100) AS BIGINT) AS target
  FROM con WHERE outcome = 'promise' AND promise_date IS NOT NULL
),
prom_paid AS (
  SELECT p.promise, p.target, q.day, q.cents FROM prom p JOIN pay q ON p.invoice_id = q.invoice_id
  WHERE q.day BETWEEN p.promised_at AND p.promise_day
  UNION ALL
  SELECT p.promise, p.target, q.day, q.cents FROM prom p JOIN pay q ON p.customer_id = q.customer_id
  WHERE p.invoice_id IS NULL AND q.day BETWEEN p.promised_at AND p.promise_day
),
prom_daily AS (
  SELECT promise, day, any_value(target) AS target,
         sum(sum(cents)) OVER (PARTITION BY promise ORDER BY day) AS paid
  FROM prom_paid GROUP BY promise, day
),
kept AS (
  SELECT promise, min(day) AS kept FROM prom_daily WHERE paid >= target - {TOLERANCE_CENTS}
  GROUP BY promise
),
pro_agg AS (
  SELECT customer_id, {", ".join(pro_aggs)}
  FROM (SELECT prom.*, coalesce(kept.kept, {NEVER}) AS kept
        FROM prom LEFT JOIN kept USING (promise)), params
  WHERE promised_at <= A GROUP BY customer_id
),
m AS (
  SELECT month, indicator, value, coalesce(region, 'BR') AS region,
         month + INTERVAL 1 MONTH <= {d} AS published, month + INTERVAL 4 MONTH <= {d} AS older
  FROM macro
),
latest AS (
  SELECT region, indicator, arg_max(value, month) AS v FROM m WHERE published GROUP BY ALL
),
earlier AS (
  SELECT region, indicator, arg_max(value, month) AS v FROM m WHERE older GROUP BY ALL
),
conditions AS (
  SELECT latest.region, {macro_now},
         max(latest.v - earlier.v) FILTER (latest.indicator = 'unemployment') AS unemployment_change
  FROM latest LEFT JOIN earlier USING (region, indicator) GROUP BY latest.region
),
base AS (
  SELECT c.*, c.opened_at - DATE '1970-01-01' AS opened,
         c.birth_or_founding - DATE '1970-01-01' AS born
  FROM customers c, params WHERE c.opened_at - DATE '1970-01-01' <= A
)
SELECT base.customer_id, {d} AS as_of,
  {select}
FROM base CROSS JOIN params
LEFT JOIN inv_agg USING (customer_id)
LEFT JOIN pay_agg USING (customer_id)
LEFT JOIN con_agg USING (customer_id)
LEFT JOIN pro_agg USING (customer_id)
LEFT JOIN conditions r ON r.region = base.state
LEFT JOIN (SELECT * FROM conditions WHERE region = 'BR') n ON true
ORDER BY base.customer_id
"""


def build_features(sources: Mapping[str, Any], as_of: date, threads: int | None = None) -> pa.Table:
    """The catalog's features at one as_of, as an Arrow table (DuckDB's cheapest hand-over);
    `sources` maps tables to Parquet paths or frames."""
    con = connect(sources, threads)
    try:
        return con.sql(feature_query(as_of)).to_arrow_table()
    finally:
        con.close()
