"""The collection twin's HTML report (issue 17): what each policy recovered, at what cost.

`regua twin` writes a folder with kpis.parquet (policy, seed, kpi, value, unit,
description: `simulate.twin_kpis.twin_kpis` per run plus guardrail_violations and
expected_recovered_brl), summary.parquet (`twin_kpis.summarise_runs` of it), daily.parquet
(policy, seed and `twin_kpis.twin_daily`'s columns) and manifest.json (the stated
parameters with their hash, the run's size, seeds, policies and seconds by stage).

`twin_report_context` turns those four into what the page shows, and is pure: the same
frames give the same context, and the page the same bytes (the only time on it is the
manifest's `created`). The page reads, in order: the stated parameters, the headline
figures per policy with 95% intervals over seeds and the paired difference to `fixed`,
where regua (and any strategy given by path) wins and loses against `fixed`, the curves
over the days, the roll rates, and the guardrail violations of the independent audit.
Losses are listed as plainly as wins: the point of the twin is to know.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import polars as pl

from regua.render.charts import PALETTE, Chart, line_chart
from regua.render.html import CellFormats, format_money, format_number, render_page
from regua.simulate.twin_kpis import BASELINE
from regua.store import write_text_atomic

REPORT_NAME = "report.html"
NONE, FIXED, REGUA, ORACLE = "none", BASELINE, "regua", "oracle"
BUILT_IN = (NONE, FIXED, REGUA, ORACLE)
"""Policies by name; any other policy is a strategy folder given by path."""
NOT_AUDITED = (NONE, ORACLE)
"""Policies whose violations do not raise the alarm: no ladder (legal notices only) and
the twin's own ceiling."""

HEADLINE_KPIS: tuple[str, ...] = (
    "net_recovery_brl",
    "recovered_brl",
    "recovered_30d_share",
    "recovered_60d_share",
    "recovered_90d_share",
    "cure_rate",
    "contact_cost_brl",
    "contacts_per_case",
    "contacts_per_1000_brl_recovered",
    "opt_outs_per_1000_cases",
    "complaints_per_1000_cases",
    "guardrail_violations",
)
ROLL_KPIS: dict[str, str] = {
    "roll_1_30_to_31_60": "1-30 → 31-60",
    "roll_31_60_to_61_90": "31-60 → 61-90",
    "roll_61_90_to_90_plus": "61-90 → 90+",
}
LABELS: dict[str, str] = {
    "net_recovery_brl": "Net recovery (recovered minus contact cost and agency fees)",
    "recovered_brl": "Recovered after the due date",
    "recovered_customer_brl": "Recovered from customers",
    "recovered_agency_brl": "Recovered by the agency",
    "expected_recovered_brl": "Expected recovery (the twin's noise-free value)",
    "collected_brl": "Collected, on time or late",
    "net_collected_brl": "Net collected",
    "fell_past_due_brl": "Fell past due",
    **{f"recovered_{k}d_brl": f"Recovered within {k} days past due" for k in (30, 60, 90)},
    **{
        f"recovered_{k}d_share": f"Share of what fell past due recovered within {k} days"
        for k in (30, 60, 90)
    },
    **{
        f"recovered_{k}d_share_matured": f"Share recovered within {k} days (matured invoices)"
        for k in (30, 60, 90)
    },
    "cases": "Collection cases",
    "cure_rate": "Cure rate",
    **{kpi: f"Roll rate {words}" for kpi, words in ROLL_KPIS.items()},
    "contacts": "Contacts with customers",
    "contacts_per_case": "Contacts per case",
    "contacts_per_1000_brl_recovered": "Contacts per R$ 1.000 recovered",
    "contact_cost_brl": "Contact cost",
    "agency_fees_brl": "Agency fees",
    "discounts_brl": "Discounts given",
    "opt_outs_per_1000_cases": "Opt-outs per 1.000 cases",
    "complaints_per_1000_cases": "Complaints per 1.000 cases",
    "disputes_per_1000_cases": "Disputes per 1.000 cases",
    "agency_handoffs": "Cases handed to the agency",
    "charge_offs": "Charge-offs",
    "charge_off_brl": "Charged off",
    "open_past_due_end_brl": "Open past due at the end of the run",
    "guardrail_violations": "Guardrail violations (independent audit)",
}
MORE_IS_BETTER = frozenset(
    {
        "net_recovery_brl",
        "recovered_brl",
        "recovered_customer_brl",
        "recovered_agency_brl",
        "expected_recovered_brl",
        "collected_brl",
        "net_collected_brl",
        "cure_rate",
        *(f"recovered_{k}d_{s}" for k in (30, 60, 90) for s in ("brl", "share", "share_matured")),
    }
)
LESS_IS_BETTER = frozenset(
    {
        "contacts",
        "contacts_per_case",
        "contacts_per_1000_brl_recovered",
        "contact_cost_brl",
        "agency_fees_brl",
        "discounts_brl",
        "opt_outs_per_1000_cases",
        "complaints_per_1000_cases",
        "disputes_per_1000_cases",
        "charge_offs",
        "charge_off_brl",
        "open_past_due_end_brl",
        "guardrail_violations",
        *ROLL_KPIS,
    }
)
"""Which way is better for each figure; the others (cases, what fell past due, agency
hand-offs) are neither better nor worse in themselves and are listed as differences."""
CURVES: dict[str, str] = {
    "cum_recovered_brl": "Cumulative recovered",
    "cum_cost_brl": "Cumulative cost (contacts and agency fees)",
    "cum_net_recovery_brl": "Cumulative net recovery",
    "open_past_due_brl": "Open past-due amount at the end of the day",
}
TEXT = CellFormats()
"""The page's tables hold text formatted here (by unit), so cells show as they are."""


def better_when(kpi: str) -> Literal["more", "less"] | None:
    """Whether more or less of a figure is better for the lender; None: neither in itself."""
    if kpi in MORE_IS_BETTER:
        return "more"
    if kpi in LESS_IS_BETTER:
        return "less"
    return None


def label(kpi: str) -> str:
    """A figure's name in plain words (its column name when it has none)."""
    return LABELS.get(kpi, kpi)


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(value: float | None, unit: str | None, *, signed: bool = False) -> str:
    """A figure in its unit, Brazilian style: R$ 1.234,56, 12,3% (differences: +1,2 pp)."""
    if _missing(value):
        return TEXT.cell("", None)
    assert value is not None
    if unit == "BRL":
        return f"R$ {format_number(value, 2, signed=True)}" if signed else format_money(value)
    if unit == "share":
        if signed:
            return f"{format_number(value * 100, 1, signed=True)} pp"
        return f"{format_number(value * 100, 1)}%"
    if unit == "count":
        decimals = 0 if float(value).is_integer() else 1
    elif unit == "per 1,000 cases":
        decimals = 1
    else:
        decimals = 2
    return format_number(value, decimals, signed=signed)


def format_interval(low: float | None, high: float | None, unit: str | None, **kw: bool) -> str:
    """A 95% interval as text ('—' when there is none: one seed)."""
    if _missing(low) or _missing(high):
        return TEXT.cell("", None)
    return f"{format_value(low, unit, **kw)} to {format_value(high, unit, **kw)}"


def _with_interval(
    mean: float | None, low: float | None, high: float | None, unit: str | None, **kw: bool
) -> str:
    if _missing(mean):
        return TEXT.cell("", None)
    interval = format_interval(low, high, unit, **kw)
    text = format_value(mean, unit, **kw)
    return text if interval == TEXT.cell("", None) else f"{text} ({interval})"


# --- reading the figures --------------------------------------------------------------------


def policy_order(summary: pl.DataFrame, manifest: Mapping[str, Any]) -> list[str]:
    """The policies in the manifest's order, then any other the summary has."""
    listed = [str(p) for p in manifest.get("policies", [])]
    seen = summary["policy"].unique(maintain_order=True).to_list()
    return [*listed, *(p for p in seen if p not in listed)]


def challengers(policies: Sequence[str]) -> list[str]:
    """The policies judged against `fixed`: regua and every strategy given by path."""
    return [p for p in policies if p == REGUA or p not in BUILT_IN]


def verdicts(summary: pl.DataFrame, policy: str) -> pl.DataFrame:
    """Every figure whose paired difference to `fixed` has a 95% interval excluding 0.

    Columns: kpi, unit, mean, baseline (fixed's mean), diff_mean, diff_ci_low,
    diff_ci_high, diff_seeds, verdict ("win", "loss", or "differs" for a figure that is
    neither better nor worse in itself); in the order of the summary.
    """
    base = summary.filter(pl.col("policy") == FIXED).select("kpi", pl.col("mean").alias("baseline"))
    rows = summary.filter(
        (pl.col("policy") == policy) & ((pl.col("diff_ci_low") > 0) | (pl.col("diff_ci_high") < 0))
    ).join(base, on="kpi", how="left", maintain_order="left")
    up = pl.col("diff_ci_low") > 0
    return rows.select(
        "kpi",
        "unit",
        "mean",
        "baseline",
        "diff_mean",
        "diff_ci_low",
        "diff_ci_high",
        "diff_seeds",
        pl.when(pl.col("kpi").is_in(sorted(MORE_IS_BETTER)))
        .then(pl.when(up).then(pl.lit("win")).otherwise(pl.lit("loss")))
        .when(pl.col("kpi").is_in(sorted(LESS_IS_BETTER)))
        .then(pl.when(up).then(pl.lit("loss")).otherwise(pl.lit("win")))
        .otherwise(pl.lit("differs"))
        .alias("verdict"),
    )


def verdict_sentence(row: Mapping[str, Any], policy: str) -> str:
    """One row of `verdicts` in plain words."""
    unit = row["unit"]
    way = "higher" if row["diff_mean"] > 0 else "lower"
    size = format_value(abs(row["diff_mean"]), unit)
    if unit == "share":
        size = f"{format_number(abs(row['diff_mean']) * 100, 1)} pp"
    interval = format_interval(row["diff_ci_low"], row["diff_ci_high"], unit, signed=True)
    return (
        f"{label(row['kpi'])}: {format_value(row['mean'], unit)} under {policy} against "
        f"{format_value(row['baseline'], unit)} under {FIXED}, {size} {way} "
        f"(95% interval of the paired difference {interval}, {row['diff_seeds']} seeds)."
    )


def oracle_shares(summary: pl.DataFrame, policies: Sequence[str]) -> pl.DataFrame:
    """Each policy's mean net recovery and its share of the oracle's (null without an oracle
    run or when the oracle recovers nothing net)."""
    net = summary.filter(pl.col("kpi") == "net_recovery_brl").select("policy", "mean")
    ceiling = net.filter(pl.col("policy") == ORACLE)["mean"]
    top = float(ceiling[0]) if ceiling.len() and not _missing(ceiling[0]) else None
    order = pl.DataFrame({"policy": list(policies)})
    return order.join(net, on="policy", how="left", maintain_order="left").select(
        "policy",
        pl.col("mean").alias("net_recovery_brl"),
        (pl.col("mean") / top if top and top > 0 else pl.lit(None, pl.Float64)).alias(
            "oracle_share"
        ),
    )


def _cell(summary: pl.DataFrame, policy: str, kpi: str) -> dict[str, Any] | None:
    rows = summary.filter((pl.col("policy") == policy) & (pl.col("kpi") == kpi))
    return rows.row(0, named=True) if rows.height else None


def figure_table(
    summary: pl.DataFrame,
    kpis: Sequence[str],
    policies: Sequence[str],
    *,
    difference: bool = False,
    names: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """One row per figure, one text column per policy: the mean with its 95% interval, or
    (`difference`) the paired difference to `fixed` with its own, 'better'/'worse' when the
    interval excludes 0."""
    columns: dict[str, list[str]] = {"figure": [(names or LABELS).get(k, k) for k in kpis]}
    for policy in policies:
        texts = []
        for kpi in kpis:
            row = _cell(summary, policy, kpi)
            if row is None:
                texts.append(TEXT.cell("", None))
            elif not difference:
                texts.append(
                    _with_interval(row["mean"], row["ci_low"], row["ci_high"], row["unit"])
                )
            elif policy == FIXED:
                texts.append("baseline")
            else:
                text = _with_interval(
                    row["diff_mean"], row["diff_ci_low"], row["diff_ci_high"], row["unit"],
                    signed=True,
                )  # fmt: skip
                texts.append(text + _judgement(row))
        columns[policy] = texts
    return pl.DataFrame(columns, schema={c: pl.String for c in columns})


def _judgement(row: Mapping[str, Any]) -> str:
    low, high, better = row["diff_ci_low"], row["diff_ci_high"], better_when(row["kpi"])
    if _missing(low) or _missing(high) or better is None or low <= 0 <= high:
        return ""
    return " better" if (low > 0) == (better == "more") else " worse"


def violation_table(kpis: pl.DataFrame, policies: Sequence[str]) -> pl.DataFrame:
    """Per policy: seeds audited, violations over them and in the worst seed (null: no
    guardrail_violations figure for the policy)."""
    counts = (
        kpis.filter(pl.col("kpi") == "guardrail_violations")
        .group_by("policy")
        .agg(
            pl.col("seed").n_unique().alias("seeds"),
            pl.col("value").sum().alias("violations"),
            pl.col("value").max().alias("worst_seed"),
        )
    )
    return (
        pl.DataFrame({"policy": list(policies)})
        .join(counts, on="policy", how="left", maintain_order="left")
        .with_columns(pl.col("violations", "worst_seed").cast(pl.Int64))
    )


def parameter_rows(values: Mapping[str, Any]) -> pl.DataFrame:
    """The parameter file as a compact table: a row per scalar or per innermost group."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        flat = {k: v for k, v in node.items() if not isinstance(v, Mapping)}
        if prefix and flat:
            rows.append((prefix, " · ".join(f"{k} {_plain(v)}" for k, v in flat.items())))
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, Mapping):
                walk(path, value)
            elif not prefix:
                rows.append((path, _plain(value)))

    walk("", values)
    return pl.DataFrame(rows, schema={"parameter": pl.String, "value": pl.String}, orient="row")


def _plain(value: Any) -> str:
    """A parameter value as written, with a decimal comma."""
    if value is None:
        return TEXT.cell("", None)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


# --- the curves -----------------------------------------------------------------------------


def daily_means(daily: pl.DataFrame) -> pl.DataFrame:
    """daily.parquet averaged over seeds: one row per policy and day, every numeric column."""
    numeric = [
        c
        for c, dtype in daily.schema.items()
        if c not in ("policy", "seed", "day") and dtype.is_numeric()
    ]
    return daily.group_by("policy", "day").agg(pl.col(numeric).mean()).sort("policy", "day")


def _day_numbers(frame: pl.DataFrame, day0: Any) -> pl.Series:
    first = pl.lit(day0).str.to_date() if isinstance(day0, str) else pl.col("day").min()
    return frame.select((pl.col("day").cast(pl.Date) - first).dt.total_days())["day"]


def curve_charts(
    means: pl.DataFrame, policies: Sequence[str], day0: str | None = None
) -> list[Chart]:
    """One line per policy over the days of the run (R$ thousand), per curve of `CURVES`."""
    colours = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(policies)}
    shown = [p for p in policies if p in set(means["policy"].to_list())]
    charts = []
    for column, title in CURVES.items():
        series = {}
        if column in means.columns:
            for policy in shown:
                rows = means.filter(pl.col("policy") == policy)
                series[policy] = (
                    _day_numbers(rows, day0),
                    rows[column].fill_null(float("nan")) / 1000,
                )
        charts.append(
            line_chart(
                series,
                title=title,
                xlabel="days since day 0",
                ylabel="R$ thousand",
                size=(5.5, 3.6),
                colours=[colours[p] for p in series],
                legend_title="policy",
            )
        )
    return charts


def contact_charts(
    means: pl.DataFrame, policies: Sequence[str], day0: str | None = None
) -> list[Chart]:
    """Contacts per day by channel (mean over seeds), one small chart per policy; a channel
    keeps its colour across them."""
    channels = [c for c in means.columns if c.startswith("contacts_")]
    colours = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(channels)}
    charts = []
    for policy in policies:
        rows = means.filter(pl.col("policy") == policy)
        if not rows.height:
            continue
        days = _day_numbers(rows, day0)
        used = [c for c in channels if rows[c].sum() > 0]
        charts.append(
            line_chart(
                {c.removeprefix("contacts_"): (days, rows[c]) for c in used},
                title=f"Contacts per day by channel: {policy}",
                xlabel="days since day 0",
                ylabel="contacts per day",
                size=(5.5, 3.4),
                colours=[colours[c] for c in used],
                legend_title="channel",
                empty="no contacts",
            )
        )
    return charts


# --- the page -------------------------------------------------------------------------------


def _seconds_table(seconds: Mapping[str, Mapping[str, float]]) -> pl.DataFrame:
    """Seconds by stage, one row per entry of the manifest (a policy and seed, or training)."""
    stages: list[str] = []
    for by_stage in seconds.values():
        stages += [s for s in by_stage if s not in stages]
    columns: dict[str, list[str]] = {"run": list(seconds)}
    for stage in [*stages, "total"]:
        columns[stage] = [
            format_number(float(sum(by.values()) if stage == "total" else by[stage]), 1)
            if stage == "total" or stage in by
            else TEXT.cell("", None)
            for by in seconds.values()
        ]
    return pl.DataFrame(columns, schema={c: pl.String for c in columns})


def twin_report_context(
    kpis: pl.DataFrame,
    summary: pl.DataFrame,
    daily: pl.DataFrame,
    manifest: Mapping[str, Any],
) -> dict[str, Any]:
    """Everything the twin page shows, from the four files of a twin run (pure)."""
    policies = policy_order(summary, manifest)
    params = manifest.get("params", {})
    judged = []
    for policy in challengers(policies):
        found = verdicts(summary, policy)
        lists = {
            kind: [verdict_sentence(r, policy) for r in found.filter(pl.col("verdict") == kind)
                   .iter_rows(named=True)]
            for kind in ("win", "loss", "differs")
        }  # fmt: skip
        source = manifest.get("strategies", {}).get(policy)
        judged.append({"policy": policy, "source": source, **lists})
    shares = oracle_shares(summary, policies)
    share_rows = pl.DataFrame(
        {
            "policy": shares["policy"],
            "net recovery (mean)": [format_value(v, "BRL") for v in shares["net_recovery_brl"]],
            "share of the oracle's": [format_value(v, "share") for v in shares["oracle_share"]],
        }
    )
    violations = violation_table(kpis, policies)
    alarm = violations.filter(
        ~pl.col("policy").is_in(NOT_AUDITED) & (pl.col("violations") > 0)
    ).rows(named=True)
    means = daily_means(daily) if daily.height else daily
    day0 = manifest.get("day0")
    all_kpis = summary["kpi"].unique(maintain_order=True).to_list()
    return {
        "name": params.get("name", ""),
        "params_path": params.get("path", ""),
        "params_sha256": params.get("sha256", ""),
        "parameters": parameter_rows(params.get("values", {})),
        "run": {
            "customers": manifest.get("customers"),
            "days": manifest.get("days"),
            "day0": day0,
            "seeds": ", ".join(str(s) for s in manifest.get("seeds", [])),
            "policies": ", ".join(policies),
            "created": manifest.get("created", ""),
            "models": manifest.get("models", ""),
            "retrain_days": manifest.get("retrain_days"),
        },
        "has_baseline": FIXED in policies,
        "has_oracle": ORACLE in policies,
        "headline": figure_table(summary, HEADLINE_KPIS, policies),
        "headline_diff": figure_table(summary, HEADLINE_KPIS, policies, difference=True)
        if FIXED in policies
        else None,
        "verdicts": judged,
        "oracle_shares": share_rows,
        "curves": curve_charts(means, policies, day0) if means.height else [],
        "contacts": contact_charts(means, policies, day0) if means.height else [],
        "roll_rates": figure_table(summary, list(ROLL_KPIS), policies, names=ROLL_KPIS),
        "violations": violations.select(
            "policy",
            pl.col("seeds").alias("seeds audited"),
            pl.col("violations").cast(pl.String).fill_null("not audited"),
            pl.col("worst_seed").cast(pl.String).fill_null("—").alias("most in one seed"),
        ),
        "alarm": alarm,
        "all_figures": figure_table(summary, all_kpis, policies),
        "all_differences": figure_table(summary, all_kpis, policies, difference=True)
        if FIXED in policies
        else None,
        "seconds": _seconds_table(manifest.get("seconds_by_stage", {})),
        "formats": TEXT,
    }


def render_twin_page(context: Mapping[str, Any]) -> str:
    """The twin report as one self-contained HTML document (same context, same text)."""
    return render_page("twin.html.j2", lang="en", **context)


def read_twin_folder(
    folder: Path,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """kpis, summary, daily and the manifest of a twin run's folder."""
    folder = Path(folder)
    missing = [
        name
        for name in ("kpis.parquet", "summary.parquet", "daily.parquet", "manifest.json")
        if not (folder / name).is_file()
    ]
    if missing:
        raise FileNotFoundError(f"{folder}: missing {', '.join(missing)}; run `regua twin` first")
    return (
        pl.read_parquet(folder / "kpis.parquet"),
        pl.read_parquet(folder / "summary.parquet"),
        pl.read_parquet(folder / "daily.parquet"),
        json.loads((folder / "manifest.json").read_text(encoding="utf-8")),
    )


def render_twin_report(folder: Path, out: Path | None = None) -> Path:
    """Read a twin run's folder and write its report (default `folder/report.html`)
    atomically; returns the page's path."""
    kpis, summary, daily, manifest = read_twin_folder(folder)
    path = Path(out) if out is not None else Path(folder) / REPORT_NAME
    write_text_atomic(render_twin_page(twin_report_context(kpis, summary, daily, manifest)), path)
    return path
