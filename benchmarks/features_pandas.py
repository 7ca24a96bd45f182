"""Reference implementation of the feature catalog in idiomatic, vectorised pandas.

Kept beside the benchmark as a yardstick for `features.build` (speed) and as an
independent reading of the catalog's definitions (a test asserts all implementations
agree on a sample). It follows the definitions directly, one as_of at a time: merges,
`groupby().agg()` over columns computed with numpy, no `apply` and no loop over
customers. It is not used by the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from regua.contract import MACRO_INDICATORS, PRODUCT_FAMILIES, TABLES
from regua.features.behaviour import CHECKPOINT_DAYS, PROMISE_WINDOWS, ROLL_WINDOWS, WINDOWS
from regua.features.catalog import FEATURE_NAMES
from regua.features.ledger import settle_tolerance_cents

EPOCH = pd.Timestamp("1970-01-01")
NEVER = 2**31 - 1
TOLERANCE_CENTS = settle_tolerance_cents()
RECEIVED = ["delivered", "read", "answered", "promise", "refused"]
ANSWERED = ["answered", "promise", "refused"]


def load_tables(store_tables: Path) -> dict[str, pd.DataFrame]:
    """The canonical tables of a store version folder (`.../tables`) as pandas frames."""
    return {
        name: pd.read_parquet(store_tables / f"{name}.parquet")
        for name in TABLES
        if (store_tables / f"{name}.parquet").exists()
    }


def day_numbers(values: pd.Series) -> pd.Series:
    """Dates or datetimes as float day numbers since 1970-01-01 (NaN for missing)."""
    return np.floor((pd.to_datetime(values) - EPOCH) / pd.Timedelta(days=1))


def to_cents(values: pd.Series) -> pd.Series:
    return (values * 100).round().astype("int64")


def settle_invoices(
    invoices: pd.DataFrame, payments: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Invoices with their settling day (NEVER if unsettled) and payments with `open_after`."""
    paid = payments.merge(invoices[["invoice_id", "customer_id", "due", "owed"]], on="invoice_id")
    daily = paid.groupby(["invoice_id", "day"], as_index=False).agg(
        cents=("cents", "sum"), owed=("owed", "first")
    )
    daily = daily.sort_values(["invoice_id", "day"])
    daily["paid_eod"] = daily.groupby("invoice_id")["cents"].cumsum()
    daily["open_after"] = daily["paid_eod"] < daily["owed"] - TOLERANCE_CENTS
    settled = daily[~daily["open_after"]].groupby("invoice_id")["day"].min().rename("settled")
    invoices = invoices.merge(settled, on="invoice_id", how="left")
    invoices["settled"] = invoices["settled"].fillna(NEVER)
    paid = paid.merge(daily[["invoice_id", "day", "open_after"]], on=["invoice_id", "day"])
    paid = paid.merge(invoices[["invoice_id", "settled"]], on="invoice_id")
    return invoices, paid


def keep_promises(promises: pd.DataFrame, payments: pd.DataFrame) -> pd.Series:
    """Day each promise was kept (NaN if not kept by its promised day)."""
    named = promises[promises["invoice_id"].notna()].merge(
        payments[["invoice_id", "day", "cents"]], on="invoice_id"
    )
    unnamed = promises[promises["invoice_id"].isna()].merge(
        payments[["customer_id", "day", "cents"]], on="customer_id"
    )
    matched = pd.concat([named, unnamed])
    matched = matched[
        (matched["day"] >= matched["promised_at"]) & (matched["day"] <= matched["promise_day"])
    ]
    daily = matched.groupby(["promise", "day"], as_index=False).agg(
        cents=("cents", "sum"), target=("target", "first")
    )
    daily = daily.sort_values(["promise", "day"])
    daily["paid"] = daily.groupby("promise")["cents"].cumsum()
    return daily[daily["paid"] >= daily["target"] - TOLERANCE_CENTS].groupby("promise")["day"].min()


def macro_at(macro: pd.DataFrame, as_of: int) -> pd.DataFrame:
    """Per region: each indicator's latest published value and the unemployment 3-month change."""
    columns = [*MACRO_INDICATORS, "unemployment_change"]
    if macro.empty:
        return pd.DataFrame(columns=["region", *columns])
    macro = macro.assign(region=macro["region"].fillna("BR"))
    month = pd.to_datetime(macro["month"])
    macro["published"] = day_numbers(month + pd.DateOffset(months=1)) <= as_of
    macro["older"] = day_numbers(month + pd.DateOffset(months=4)) <= as_of
    macro = macro.sort_values("month")
    now = macro[macro["published"]].groupby(["region", "indicator"])["value"].last()
    before = macro[macro["older"]].groupby(["region", "indicator"])["value"].last()
    wide = now.unstack("indicator").reindex(columns=list(MACRO_INDICATORS))
    change = (now - before).unstack("indicator").reindex(columns=["unemployment"])
    wide["unemployment_change"] = change["unemployment"]
    return wide.reset_index()


def build_features(tables: Mapping[str, pd.DataFrame], as_of: date) -> pd.DataFrame:
    """The catalog's features at one as_of, from the canonical tables as pandas frames."""
    a = (pd.Timestamp(as_of) - EPOCH).days
    empty = {
        name: pd.DataFrame({c: pd.Series(dtype=object) for c in t.names})
        for name, t in TABLES.items()
    }
    t = {name: tables.get(name, empty[name]) for name in TABLES}

    customers = t["customers"].copy()
    customers["opened"] = day_numbers(customers["opened_at"])
    customers["born"] = day_numbers(customers["birth_or_founding"])

    invoices = t["invoices"][
        ["invoice_id", "customer_id", "issued_at", "due_at", "amount", "product_family"]
    ].copy()
    invoices = invoices[invoices["customer_id"].isin(customers["customer_id"])]
    invoices["issued"] = day_numbers(invoices["issued_at"])
    invoices["due"] = day_numbers(invoices["due_at"])
    invoices["owed"] = to_cents(invoices["amount"].astype(float))
    payments = t["payments"][["invoice_id", "paid_at", "amount", "method"]].copy()
    payments = payments.rename(columns={"amount": "paid"})
    payments["day"] = day_numbers(payments["paid_at"])
    payments["cents"] = to_cents(payments["paid"].astype(float))
    invoices, payments = settle_invoices(invoices, payments)

    # ---- invoices issued up to as_of
    inv = invoices[invoices["issued"] <= a].copy()
    due, settled = inv["due"], inv["settled"]
    end = np.minimum(settled, a)
    late = (due < a) & (settled > due)
    inv["days_late"] = np.where(late, end - due, 0)
    inv["dpd_now"] = np.where((due < a) & (settled > a), a - due, 0)
    inv["settled_by"] = settled <= a
    inv["settled_late"] = inv["settled_by"] & (settled > due)
    inv["open_amount"] = np.where(settled > a, inv["amount"], 0.0)
    inv["overdue_amount"] = np.where((settled > a) & (due < a), inv["amount"], 0.0)
    inv["last_late_day"] = np.where(late, end, np.nan)
    inv["recent_365"] = inv["issued"] > a - 365
    agg: dict[str, tuple[str, str]] = {
        "invoices": ("invoice_id", "size"),
        "invoices_365": ("recent_365", "sum"),
        "settled": ("settled_by", "sum"),
        "late": ("settled_late", "sum"),
        "open_billed": ("open_amount", "sum"),
        "overdue_billed": ("overdue_amount", "sum"),
        "dpd_0": ("dpd_now", "max"),
        "dpd_worst_lifetime": ("days_late", "max"),
        "last_late_day": ("last_late_day", "max"),
    }
    for k in range(1, max(ROLL_WINDOWS) // CHECKPOINT_DAYS + 1):
        t_k = a - k * CHECKPOINT_DAYS
        inv[f"dpd_{k}"] = np.where((due < t_k) & (settled > t_k), t_k - due, 0)
        agg[f"dpd_{k}"] = (f"dpd_{k}", "max")
    for w in WINDOWS:
        matured = (due >= a - w) & (due < a)
        inv[f"matured_{w}"] = matured
        inv[f"on_time_{w}"] = matured & (settled <= due)
        inv[f"late_{w}"] = matured & inv["settled_late"]
        inv[f"days_late_{w}"] = np.where(matured, inv["days_late"], 0)
        inv[f"billed_{w}"] = np.where(matured, inv["amount"], 0.0)
        inv[f"worst_{w}"] = np.where(late & (end > a - w), inv["days_late"], 0)
        for name, how in (
            ("matured", "sum"),
            ("on_time", "sum"),
            ("late", "sum"),
            ("billed", "sum"),
            ("worst", "max"),
        ):
            agg[f"{name}_{w}"] = (f"{name}_{w}", how)
        agg[f"days_late_sum_{w}"] = (f"days_late_{w}", "sum")
        agg[f"days_late_max_{w}"] = (f"days_late_{w}", "max")
    recent = inv["issued"] > a - 365
    for product in PRODUCT_FAMILIES:
        inv[f"product_{product}"] = np.where(
            recent & (inv["product_family"] == product), inv["amount"], 0.0
        )
        agg[f"product_{product}"] = (f"product_{product}", "sum")
    by_invoice = inv.groupby("customer_id").agg(**agg)

    # ---- payments up to as_of
    pay = payments[payments["day"] <= a].copy()
    open_at = pay["settled"] > a
    agreement = pay["method"] == "agreement"
    pay["paid_open"] = np.where(open_at, pay["paid"], 0.0)
    pay["paid_overdue"] = np.where(open_at & (pay["due"] < a), pay["paid"], 0.0)
    pay["agreement_365"] = agreement & (pay["day"] > a - 365)
    pay_agg: dict[str, tuple[str, str]] = {
        "last_paid_day": ("day", "max"),
        "paid_open": ("paid_open", "sum"),
        "paid_overdue": ("paid_overdue", "sum"),
        "agreement_payments": ("agreement_365", "sum"),
    }
    for w in WINDOWS:
        in_window = pay["day"] > a - w
        pay[f"paid_{w}"] = np.where(in_window, pay["paid"], 0.0)
        pay[f"partial_{w}"] = in_window & pay["open_after"]
        pay_agg[f"paid_{w}"] = (f"paid_{w}", "sum")
        pay_agg[f"partial_{w}"] = (f"partial_{w}", "sum")
    by_payment = pay.groupby("customer_id").agg(**pay_agg)
    active = pay[agreement & (pay["day"] > a - 90) & open_at]
    by_payment["agreements_active"] = active.groupby("customer_id")["invoice_id"].nunique()

    # ---- contacts up to the end of as_of, and promises
    contacts = t["contacts"].copy()
    contacts["day"] = day_numbers(contacts["at"])
    has_contacts = bool((contacts["day"] <= a).any())
    contacts = contacts[contacts["customer_id"].isin(customers["customer_id"])]
    contacts = contacts.reset_index(drop=True)
    contacts["promise"] = contacts.index
    known = contacts[contacts["day"] <= a].copy()
    con_agg: dict[str, tuple[str, str]] = {}
    for w in WINDOWS:
        in_window = known["day"] > a - w
        known[f"received_{w}"] = in_window & known["outcome"].isin(RECEIVED)
        known[f"answered_{w}"] = in_window & known["outcome"].isin(ANSWERED)
        con_agg[f"received_{w}"] = (f"received_{w}", "sum")
        con_agg[f"answered_{w}"] = (f"answered_{w}", "sum")
    by_contact = known.groupby("customer_id").agg(**con_agg) if con_agg else None

    promises = contacts[
        (contacts["outcome"] == "promise") & contacts["promise_date"].notna()
    ].copy()
    promises["invoice_id"] = promises["invoice_id"].where(
        promises["invoice_id"].isin(invoices["invoice_id"])
    )
    promises["promised_at"] = promises["day"]
    promises["promise_day"] = day_numbers(promises["promise_date"])
    promises["target"] = to_cents(promises["promise_amount"].astype(float).fillna(0.0))
    promises = promises[
        ["promise", "customer_id", "invoice_id", "promised_at", "promise_day", "target"]
    ]
    kept_day = keep_promises(promises, payments)
    promises["kept"] = promises["promise"].map(kept_day).fillna(NEVER)
    promises = promises[promises["promised_at"] <= a]
    kept = promises["kept"] <= a
    pro_agg: dict[str, tuple[str, str]] = {}
    for w in PROMISE_WINDOWS:
        made = promises["promised_at"] > a - w
        promises[f"made_{w}"] = made
        promises[f"kept_{w}"] = made & kept
        promises[f"broken_{w}"] = made & ~kept & (promises["promise_day"] <= a)
        for name in ("made", "kept", "broken"):
            pro_agg[f"{name}_{w}"] = (f"{name}_{w}", "sum")
    by_promise = promises.groupby("customer_id").agg(**pro_agg)

    # ---- one row per customer known at as_of
    base = customers[customers["opened"] <= a].set_index("customer_id")
    frame = base.join([by_invoice, by_payment, by_contact, by_promise], how="left")
    macro = macro_at(t["macro"].copy(), a)
    regional = macro.set_index("region").reindex(frame["state"]).set_axis(frame.index)
    national = macro.set_index("region").reindex(["BR"] * len(frame)).set_axis(frame.index)
    conditions = regional.combine_first(national) if len(macro) else regional
    return assemble(frame.fillna({c: 0 for c in count_columns(frame)}), conditions, a, has_contacts)


def count_columns(frame: pd.DataFrame) -> list[str]:
    """Aggregated columns where a customer without rows means zero."""
    zero = ("invoices", "settled", "late", "open_billed", "overdue_billed", "dpd_", "matured_",
            "on_time_", "billed_", "worst_", "days_late_", "product_", "paid_", "partial_",
            "agreement", "received_", "answered_", "made_", "kept_", "broken_")  # fmt: skip
    return [c for c in frame.columns if c.startswith(zero)]


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN when the denominator is not positive."""
    return (numerator / denominator.where(denominator > 0)).astype(float)


def bucket(dpd: pd.Series) -> pd.Series:
    return np.clip((dpd + 29) // 30, 0, 4)


def assemble(f: pd.DataFrame, conditions: pd.DataFrame, a: int, has_contacts: bool) -> pd.DataFrame:
    """The features in catalog order from the per-customer aggregates."""
    out = pd.DataFrame(index=f.index)
    out["dpd_now"] = f["dpd_0"]
    for w in WINDOWS:
        out[f"dpd_worst_{w}"] = f[f"worst_{w}"]
    out["delinquency_bucket_now"] = bucket(f["dpd_0"])
    buckets = [bucket(f[f"dpd_{k}"]) for k in range(max(ROLL_WINDOWS) // CHECKPOINT_DAYS + 1)]
    for w in ROLL_WINDOWS:
        out[f"roll_forward_{w}"] = sum(
            (buckets[k] > buckets[k + 1]).astype(int) for k in range(w // CHECKPOINT_DAYS)
        )
    for w in ROLL_WINDOWS:
        out[f"roll_back_{w}"] = sum(
            (buckets[k] < buckets[k + 1]).astype(int) for k in range(w // CHECKPOINT_DAYS)
        )
    settled = {w: f[f"on_time_{w}"] + f[f"late_{w}"] for w in WINDOWS}
    late_share = {w: ratio(f[f"late_{w}"], settled[w]) for w in WINDOWS}
    mean_late = {w: ratio(f[f"days_late_sum_{w}"], f[f"matured_{w}"]) for w in WINDOWS}
    paid_billed = {w: ratio(f[f"paid_{w}"], f[f"billed_{w}"]) for w in WINDOWS}
    for w in WINDOWS:
        out[f"paid_late_count_{w}"] = f[f"late_{w}"]
    for w in WINDOWS:
        out[f"paid_late_share_{w}"] = late_share[w]
    for w in WINDOWS:
        out[f"paid_on_time_share_{w}"] = ratio(f[f"on_time_{w}"], f[f"matured_{w}"])
    for w in WINDOWS:
        out[f"days_late_mean_{w}"] = mean_late[w]
    for w in WINDOWS:
        out[f"days_late_max_{w}"] = f[f"days_late_max_{w}"]
    for w in WINDOWS:
        out[f"paid_to_billed_{w}"] = paid_billed[w]
    for w in WINDOWS:
        out[f"partial_payments_{w}"] = f[f"partial_{w}"]
    out["days_since_last_payment"] = a - f["last_paid_day"]
    open_balance = f["open_billed"] - f["paid_open"]
    out["open_balance"] = open_balance
    out["overdue_balance"] = f["overdue_billed"] - f["paid_overdue"]
    out["limit_utilisation"] = ratio(open_balance, f["credit_limit"])
    out["days_late_mean_trend"] = mean_late[90] - mean_late[365]
    out["paid_late_share_trend"] = late_share[90] - late_share[365]
    out["paid_to_billed_trend"] = paid_billed[90] - paid_billed[365]
    out["late_first_time"] = ((f["dpd_0"] > 0) & (f["late_365"] == 0)).astype(int)
    overdue_365 = f["matured_365"] - settled[365]
    out["late_chronic"] = (f["late_365"] + overdue_365 >= 3).astype(int)
    for name, windows in (("contacts_received", WINDOWS), ("contacts_answered", WINDOWS)):
        for w in windows:
            column = f"{name.split('_')[1]}_{w}"
            out[f"{name}_{w}"] = f[column] if has_contacts else np.nan
    for name in ("made", "kept", "broken"):
        for w in PROMISE_WINDOWS:
            out[f"promises_{name}_{w}"] = f[f"{name}_{w}"] if has_contacts else np.nan
    for w in PROMISE_WINDOWS:
        decided = f[f"kept_{w}"] + f[f"broken_{w}"]
        out[f"promise_kept_share_{w}"] = ratio(f[f"kept_{w}"], decided) if has_contacts else np.nan
    out["agreements_active"] = f["agreements_active"]
    out["agreement_payments_365"] = f["agreement_payments"]

    out["tenure_months"] = np.floor((a - f["opened"]) / 30.4375)
    out["age_years"] = np.floor((a - f["born"]) / 365.25)
    out["bureau_score"] = f["bureau_score"]
    out["invoices_365"] = f["invoices_365"]
    out["paid_late_share_lifetime"] = ratio(f["late"], f["settled"])
    out["dpd_worst_lifetime"] = f["dpd_worst_lifetime"]
    out["days_since_last_delinquency"] = a - f["last_late_day"]

    income = f["declared_income"]
    monthly = f["billed_90"] / 3
    out["declared_income"] = income
    out["employment_type"] = f["employment_type"]
    out["employment_tenure_months"] = f["employment_tenure_months"]
    out["credit_limit"] = f["credit_limit"]
    out["installment_to_income"] = ratio(monthly, income)
    out["debt_to_income"] = ratio(f["monthly_debt_obligations"] + monthly, income)
    out["open_balance_to_income"] = ratio(open_balance, income)

    out["assets"] = f["assets"]
    out["savings"] = f["savings"]
    out["equity"] = f["equity"]
    out["savings_to_income"] = ratio(f["savings"], income)
    out["assets_to_limit"] = ratio(f["assets"], f["credit_limit"])

    out["collateral_type"] = f["collateral_type"]
    out["collateral_value"] = f["collateral_value"]
    out["collateral_to_limit"] = ratio(f["collateral_value"], f["credit_limit"])
    out["collateral_to_open_balance"] = ratio(f["collateral_value"], open_balance)

    out["kind"] = f["kind"]
    out["state"] = f["state"]
    billed = f[[f"product_{p}" for p in PRODUCT_FAMILIES]].to_numpy()
    best = billed.max(axis=1) if len(f) else np.zeros(0)
    families = np.array(PRODUCT_FAMILIES, dtype=object)
    out["main_product"] = np.where(
        best > 0, families[billed.argmax(axis=1)] if len(f) else [], None
    )
    out["unemployment"] = conditions["unemployment"]
    out["unemployment_change_3m"] = conditions["unemployment_change"]
    for name in ("selic", "ipca", "default_rate", "income_growth"):
        out[name] = conditions[name]
    out = out.reset_index().rename(columns={"index": "customer_id"})
    out.insert(1, "as_of", (EPOCH + pd.Timedelta(days=a)).date())
    assert list(out.columns[2:]) == list(FEATURE_NAMES), "catalog and reference differ"
    return out.sort_values("customer_id", ignore_index=True)
