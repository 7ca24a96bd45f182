"""`regua report` end to end on the session's simulated store, scored by its champions, with
the figures checked against independent computations on the same data."""

from __future__ import annotations

import html
import re
from datetime import date

import polars as pl
import pytest
from typer.testing import CliRunner

from regua import features
from regua.cli import app
from regua.contract import TABLES
from regua.features.ledger import settlement_dates
from regua.reports.html import SECTIONS, format_cell
from regua.reports.portfolio import aging_table, customer_buckets
from regua.settings import get_settings
from regua.store import Store

AS_OF = date(2026, 10, 30)


def invoke(tracking: str, *args: str):
    """Run the CLI with MLFLOW_TRACKING_URI set as an operator would."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", tracking)
        get_settings.cache_clear()
        try:
            return CliRunner().invoke(app, list(args))
        finally:
            get_settings.cache_clear()


def report(store, tracking, *, outputs, out):
    """`regua report` at AS_OF on the session store, reading OUTPUTS and writing to OUT."""
    return invoke(
        tracking, "report", "--as-of", AS_OF.isoformat(), "--store", str(store / "store"),
        "--outputs", str(outputs), "--out", str(out),
    )  # fmt: skip


@pytest.fixture(scope="module")
def page(store, scored, tracking, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    result = report(store, tracking, outputs=scored, out=folder)
    assert result.exit_code == 0, result.output
    path = folder / f"portfolio-{AS_OF.isoformat()}.html"
    assert str(path) in result.output
    return path.read_text(encoding="utf-8")


def tables_of(store) -> dict[str, pl.LazyFrame]:
    source = Store(store / "store")
    return {name: source.scan(name) for name in TABLES}


def test_the_report_is_one_page_with_every_table_and_chart(page):
    for section in SECTIONS:
        assert f'<section id="{section.key}">' in page
        for name in section.tables:
            assert f'<table data-table="{name}">' in page
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == sum(len(section.charts) for section in SECTIONS) == 10
    assert min(len(image) for image in images) > 5000  # drawn, not blank placeholders
    assert "<script" not in page and 'src="http' not in page and "<link" not in page


def test_the_report_names_no_customer_or_invoice(page):
    assert not re.search(r"\bC\d{7}\b", page)  # simulator customer ids
    assert not re.search(r"\bI\d{10}\b", page)  # and invoice ids


def test_aging_agrees_with_the_settlement_dates_of_the_labels(store, page):
    tables = tables_of(store)
    paid = (
        tables["payments"]
        .filter(pl.col("paid_at") <= AS_OF)
        .group_by("invoice_id")
        .agg(pl.col("amount").sum().alias("paid"))
    )
    open_invoices = (
        settlement_dates(tables["invoices"], tables["payments"])
        .filter(
            (pl.col("issued_at") <= AS_OF)
            & (pl.col("settled_at").is_null() | (pl.col("settled_at") > AS_OF))
        )
        .join(paid, on="invoice_id", how="left")
        .select((pl.col("amount") - pl.col("paid").fill_null(0.0)).alias("owed"))
        .collect()
    )
    aging = aging_table(tables, AS_OF)
    assert open_invoices.height > 50
    assert aging["invoices"].sum() == open_invoices.height
    assert aging["amount"].sum() == pytest.approx(open_invoices["owed"].sum(), abs=0.05)
    assert format_cell("amount", round(aging["amount"].sum(), 2)) in page
    for row in aging.iter_rows(named=True):
        assert (
            f"<td>{row['bucket']}</td><td>{format_cell('invoices', row['invoices'])}</td>" in page
        )


def test_customer_buckets_match_the_features_delinquency_bucket(store):
    tables = tables_of(store)
    ours = customer_buckets(tables, [AS_OF]).select(
        "customer_id", pl.col("bucket").to_physical().cast(pl.Int8).alias("code")
    )
    theirs = features.build_from_frames(tables, [AS_OF]).select(
        "customer_id", pl.col("delinquency_bucket_now").cast(pl.Int8).alias("code")
    )
    joined = ours.join(theirs, on="customer_id", how="full", suffix="_features")
    assert joined.height == ours.height == theirs.height
    assert (joined["code"] == joined["code_features"]).all()
    assert set(ours["code"]) >= {0, 1, 4}, "the simulated book should span the buckets"


def html_table(page: str, name: str) -> list[dict[str, str]]:
    """The rows of one table of the page, as text by column name."""
    table = re.search(rf'<table data-table="{name}">(.*?)</table>', page, re.S)
    assert table, name
    head = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", table.group(1))]
    rows = re.findall(r"<tr>((?:<td>.*?</td>)+)</tr>", table.group(1))
    return [
        dict(zip(head, [html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)], strict=True))
        for row in rows
    ]


def number(text: str) -> float:
    """A number written the Brazilian way."""
    return float(text.replace(".", "").replace(",", "."))


def test_model_health_scores_the_champions_on_matured_labels(page, trained):
    health = {row["model"]: row for row in html_table(page, "health")}
    assert health["delinquency"]["matured_as_of"] == "2026-04-30"  # 180-day horizon
    assert health["propensity_to_pay"]["matured_as_of"] == "2026-09-30"  # 30 days
    versions = {item.result.spec.kind: item.decision.version for item in trained}
    for kind, row in health.items():
        assert row["version"] == versions[kind]
        assert number(row["labelled"]) > 100
        assert number(row["auc"]) > 0.65, (kind, row)
        assert 0 <= number(row["ece"]) < 0.2
        assert number(row["psi"]) >= 0 and row["psi_status"] in {"ok", "warn", "breach"}


def test_segment_sizes_cover_every_scored_customer(page, scored):
    segments = pl.read_parquet(scored / AS_OF.isoformat() / "segments.parquet")
    rows = html_table(page, "segments")
    assert sum(number(row["customers"]) for row in rows) == segments.height
    assert {row["segment"] for row in rows} == set(segments["segment"])


def test_missing_outputs_stop_with_exit_code_2(store, trained, tracking, tmp_path):
    result = report(store, tracking, outputs=tmp_path, out=tmp_path)
    assert result.exit_code == 2
    assert "no scoring outputs" in result.output and "regua score" in result.output
    assert not list(tmp_path.glob("*.html"))


def test_a_registry_without_champion_stops_with_exit_code_2(store, scored, tmp_path):
    empty = f"sqlite:///{tmp_path}/empty.db"
    result = report(store, empty, outputs=scored, out=tmp_path)
    assert result.exit_code == 2
    assert "no champion" in result.output
    assert not list(tmp_path.glob("*.html"))


def test_a_bad_date_is_refused(tmp_path):
    result = CliRunner().invoke(app, ["report", "--as-of", "30/10/2026", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output
