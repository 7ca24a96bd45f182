"""The twin's report: stated parameters first, headline figures, losses as plainly as wins,
the violations alarm, and the same folder giving the same bytes."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from regua.reports.twin import (
    BUILT_IN,
    LESS_IS_BETTER,
    MORE_IS_BETTER,
    render_twin_page,
    render_twin_report,
    twin_report_context,
    verdicts,
)

SHA = "3f5a9c0e1d2b4a6978c0ffee1234567890abcdef1234567890abcdef12345678"
SEEDS = (1, 2)
SUMMARY_SCHEMA = {
    "policy": pl.String,
    "kpi": pl.String,
    "unit": pl.String,
    "seeds": pl.Int64,
    "mean": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "diff_mean": pl.Float64,
    "diff_ci_low": pl.Float64,
    "diff_ci_high": pl.Float64,
    "diff_seeds": pl.Int64,
}
# (kpi, unit, fixed: mean, low, high; regua: mean, low, high; regua - fixed: mean, low, high)
FIGURES = [
    ("net_recovery_brl", "BRL", (2000.0, 1900.0, 2100.0), (1234.5, 1100.0, 1300.0),
     (-765.5, -900.0, -600.0)),
    ("recovered_brl", "BRL", (2600.0, 2500.0, 2700.0), (2597.0, 2480.0, 2710.0),
     (-3.0, -10.0, 5.0)),
    ("cure_rate", "share", (0.40, 0.38, 0.42), (0.45, 0.43, 0.47), (0.05, 0.03, 0.07)),
    ("contact_cost_brl", "BRL", (300.0, 290.0, 310.0), (250.0, 245.0, 255.0),
     (-50.0, -60.0, -40.0)),
    ("cases", "count", (120.0, 118.0, 122.0), (130.0, 128.0, 132.0), (10.0, 8.0, 12.0)),
    ("roll_1_30_to_31_60", "share", (0.30, 0.25, 0.35), (0.20, 0.15, 0.25),
     (-0.10, -0.12, -0.08)),
    ("guardrail_violations", "count", (0.0, None, None), (0.5, -5.85, 6.85),
     (0.5, -5.85, 6.85)),
]  # fmt: skip
PARAMS = {
    "name": "default",
    "charge_off_days": 180,
    "self_cure": {"dpd_1_30": 0.025, "character_weight": 0.7},
    "channels": {"email": {"lift": 1.5, "cost_brl": 0.01}, "phone": {"lift": 4.0}},
    "agency": {"fee_share": 0.2, "ends_relationship": True},
}


def summary_frame(extra: list[tuple] | None = None) -> pl.DataFrame:
    rows = []
    for kpi, unit, fixed, regua, diff in FIGURES:
        rows.append(("fixed", kpi, unit, 2, *fixed, 0.0, 0.0, 0.0, 2))
        rows.append(("regua", kpi, unit, 2, *regua, *diff, 2))
    return pl.DataFrame(rows + (extra or []), schema=SUMMARY_SCHEMA, orient="row")


def kpis_frame(regua_violations: tuple[float, float] = (0.0, 1.0)) -> pl.DataFrame:
    rows = []
    for policy in ("fixed", "regua"):
        for i, seed in enumerate(SEEDS):
            rows.append((policy, seed, "net_recovery_brl", 1000.0 * (i + 1), "BRL", "net"))
            violations = regua_violations[i] if policy == "regua" else 0.0
            rows.append((policy, seed, "guardrail_violations", violations, "count", "audit"))
    return pl.DataFrame(
        rows,
        schema=["policy", "seed", "kpi", "value", "unit", "description"],
        orient="row",
    )


def daily_frame(days: int = 4) -> pl.DataFrame:
    rows = []
    for policy, scale in (("fixed", 1.0), ("regua", 0.8)):
        for seed in SEEDS:
            for d in range(days):
                rows.append(
                    {
                        "policy": policy,
                        "seed": seed,
                        "day": date(2027, 1, 1) + timedelta(days=d),
                        "recovered_brl": 100.0 * scale,
                        "cost_brl": 10.0,
                        "cum_recovered_brl": 100.0 * scale * (d + 1),
                        "cum_cost_brl": 10.0 * (d + 1),
                        "cum_net_recovery_brl": (100.0 * scale - 10.0) * (d + 1),
                        "contacts": 5,
                        "contacts_email": 3 + seed,
                        "contacts_sms": 2,
                        "contacts_phone": 0,
                        "open_past_due_brl": 5000.0 - 100.0 * d,
                    }
                )
    return pl.DataFrame(rows)


def manifest(policies: tuple[str, ...] = ("fixed", "regua")) -> dict:
    return {
        "params": {"name": "default", "path": "config/twin.yaml", "sha256": SHA, "values": PARAMS},
        "customers": 300,
        "days": 4,
        "day0": "2027-01-01",
        "seeds": list(SEEDS),
        "policies": list(policies),
        "strategies": {p: f"config/strategies/{p}" for p in policies if p not in BUILT_IN},
        "models": "hashed",
        "seconds_by_stage": {
            **{f"{p}/{s}": {"night": 1.25, "responses": 0.5} for p in policies for s in SEEDS},
            **{f"train/{s}": {"train": 3.0} for s in SEEDS},
        },
        "created": "2027-01-05T10:00:00",
    }


def page(kpis=None, summary=None, daily=None, run=None) -> str:
    context = twin_report_context(
        kpis if kpis is not None else kpis_frame(),
        summary if summary is not None else summary_frame(),
        daily if daily is not None else daily_frame(),
        run if run is not None else manifest(),
    )
    return render_twin_page(context)


def listing(html: str, kind: str, policy: str = "regua") -> str:
    found = re.search(rf'<ul[^>]*data-list="{kind}-{re.escape(policy)}">(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


def table(html: str, name: str) -> str:
    return re.search(rf'<table data-table="{name}">(.*?)</table>', html, re.S).group(1)


def test_the_parameter_file_and_its_hash_come_before_any_figure():
    html = page()
    assert SHA in html and "config/twin.yaml" in html
    assert "fixed before any policy was compared" in html
    assert html.index(SHA) < html.index('<section id="headline">')
    parameters = table(html, "parameters")
    assert "<td>channels.email</td><td>lift 1,5 · cost_brl 0,01</td>" in parameters
    assert "<td>charge_off_days</td><td>180</td>" in parameters
    assert "<td>agency</td><td>fee_share 0,2 · ends_relationship true</td>" in parameters


def test_the_headline_shows_the_means_and_intervals_written_in_the_summary():
    headline = table(page(), "headline")
    assert "<th>figure</th><th>fixed</th><th>regua</th>" in headline
    assert "R$ 1.234,50 (R$ 1.100,00 to R$ 1.300,00)" in headline
    assert "R$ 2.000,00 (R$ 1.900,00 to R$ 2.100,00)" in headline
    assert "45,0% (43,0% to 47,0%)" in headline
    differences = table(page(), "headline_diff")
    assert "R$ -765,50 (R$ -900,00 to R$ -600,00) worse" in differences
    assert "+5,0 pp (+3,0 pp to +7,0 pp) better" in differences
    assert "R$ -3,00 (R$ -10,00 to R$ +5,00)</td>" in differences


def test_net_recovery_below_fixed_is_listed_as_a_loss_and_cheaper_contacts_as_a_win():
    html = page()
    losses, wins = listing(html, "losses"), listing(html, "wins")
    assert "Net recovery" in losses and "R$ 765,50 lower" in losses
    assert "R$ 1.234,50 under regua against R$ 2.000,00 under fixed" in losses
    assert "Contact cost" in wins and "Cure rate" in wins and "Roll rate 1-30 → 31-60" in wins
    assert "Contact cost" not in losses and "Net recovery" not in wins
    assert "Recovered after the due date" not in losses + wins  # its interval holds 0
    assert "Collection cases" in listing(html, "differs")


def test_a_violation_by_regua_raises_the_red_callout():
    html = page(kpis=kpis_frame((0.0, 1.0)))
    assert 'class="callout" id="violations-alarm"' in html
    assert "regua broke a rule 1 time(s) over 2 seed(s)" in html
    assert html.index("violations-alarm") < html.index('<section id="headline">')
    violations = table(html, "violations")
    assert "<th>policy</th><th>seeds audited</th><th>violations</th>" in violations
    assert "<tr><td>regua</td><td>2</td><td>1</td><td>1</td></tr>" in violations


def test_no_callout_when_only_none_and_the_oracle_break_a_rule():
    kpis = pl.concat(
        [
            kpis_frame((0.0, 0.0)),
            pl.DataFrame(
                {
                    "policy": ["none", "oracle"],
                    "seed": [1, 1],
                    "kpi": ["guardrail_violations"] * 2,
                    "value": [2.0, 3.0],
                    "unit": ["count"] * 2,
                    "description": ["audit"] * 2,
                }
            ),
        ]
    )
    html = page(kpis=kpis, run=manifest(("none", "fixed", "regua", "oracle")))
    assert 'class="callout"' not in html
    assert "No violation by any audited policy" in html


def test_each_policy_shows_its_share_of_the_oracle_net_recovery():
    extra = [
        ("oracle", "net_recovery_brl", "BRL", 2, 4000.0, 3900.0, 4100.0, 2000.0, 1900.0, 2100.0, 2)
    ]
    html = page(summary=summary_frame(extra), run=manifest(("fixed", "regua", "oracle")))
    shares = table(html, "oracle_shares")
    assert "<td>regua</td><td>R$ 1.234,50</td><td>30,9%</td>" in shares
    assert "<td>fixed</td><td>R$ 2.000,00</td><td>50,0%</td>" in shares
    assert "<td>oracle</td><td>R$ 4.000,00</td><td>100,0%</td>" in shares


def test_a_strategy_given_by_path_is_judged_against_fixed_like_regua():
    extra = [
        ("gentle", "net_recovery_brl", "BRL", 2, 2500.0, 2400.0, 2600.0, 500.0, 400.0, 600.0, 2)
    ]
    html = page(summary=summary_frame(extra), run=manifest(("fixed", "regua", "gentle")))
    assert "<h3>gentle against fixed</h3>" in html
    assert "Strategy folder <code>config/strategies/gentle</code>" in html
    assert "Net recovery" in listing(html, "wins", "gentle")


def test_the_seconds_by_stage_of_each_run_are_listed():
    seconds = table(page(), "seconds")
    assert "<th>run</th><th>night</th><th>responses</th><th>train</th><th>total</th>" in seconds
    assert "<tr><td>regua/2</td><td>1,2</td><td>0,5</td><td>—</td><td>1,8</td></tr>" in seconds
    assert "<tr><td>train/1</td><td>—</td><td>—</td><td>3,0</td><td>3,0</td></tr>" in seconds


def test_the_curves_and_contact_charts_are_inline_pngs():
    html = page()
    # four curves, and one contacts chart per policy
    assert len(re.findall(r'src="data:image/png;base64,', html)) == 4 + 2
    assert 'alt="Contacts per day by channel: regua"' in html
    assert 'src="http' not in html and "<link" not in html


def test_the_same_folder_renders_the_same_bytes(tmp_path):
    folder = tmp_path / "twin"
    folder.mkdir()
    kpis_frame().write_parquet(folder / "kpis.parquet")
    summary_frame().write_parquet(folder / "summary.parquet")
    daily_frame().write_parquet(folder / "daily.parquet")
    (folder / "manifest.json").write_text(json.dumps(manifest()), encoding="utf-8")
    first = render_twin_report(folder)
    assert first == folder / "report.html"
    written = first.read_bytes()
    again = render_twin_report(folder, tmp_path / "elsewhere" / "again.html")
    assert again.read_bytes() == written
    assert written.decode("utf-8").startswith('<!doctype html>\n<html lang="en">')
    assert sorted(p.name for p in folder.iterdir()) == [
        "daily.parquet",
        "kpis.parquet",
        "manifest.json",
        "report.html",
        "summary.parquet",
    ]


@given(
    kpi=st.sampled_from(sorted(MORE_IS_BETTER | LESS_IS_BETTER | {"cases", "agency_handoffs"})),
    low=st.floats(-1e6, 1e6, allow_nan=False),
    width=st.floats(0, 1e6, allow_nan=False),
)
def test_a_difference_is_a_win_a_loss_or_nothing_by_its_interval_and_direction(kpi, low, width):
    high = low + width
    summary = pl.DataFrame(
        [
            ("fixed", kpi, "BRL", 2, 10.0, 9.0, 11.0, 0.0, 0.0, 0.0, 2),
            ("regua", kpi, "BRL", 2, 12.0, 11.0, 13.0, (low + high) / 2, low, high, 2),
        ],
        schema=SUMMARY_SCHEMA,
        orient="row",
    )
    found = verdicts(summary, "regua")["verdict"].to_list()
    if low <= 0 <= high:
        assert found == []
    elif kpi not in MORE_IS_BETTER | LESS_IS_BETTER:
        assert found == ["differs"]
    else:
        above = low > 0
        assert found == ["win" if above == (kpi in MORE_IS_BETTER) else "loss"]
