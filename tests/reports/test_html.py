"""The HTML page: Brazilian number formats, every section, escaped text, atomic write."""

from __future__ import annotations

import re
from datetime import date

import polars as pl
import pytest

from reports.charts import Chart
from reports.html import SECTIONS, format_cell, render_report, table_html, write_report
from reports.report import PortfolioReport


@pytest.mark.parametrize(
    ("column", "value", "text"),
    [
        ("amount", 1234567.891, "R$ 1.234.567,89"),
        ("change_total", -900.0, "R$ -900,00"),
        ("amount_share", 0.1234, "12,3%"),
        ("rate", 1.0, "100,0%"),
        ("mob_6", 0.05, "5,0%"),
        ("1-30", 0.25, "25,0%"),
        ("mean_pd", 0.01234, "1,23%"),
        ("mean_change_pct", -37.5, "-37,5%"),
        ("customers", 12345, "12.345"),
        ("auc", 0.83456, "0,835"),
        ("ece", 0.012345, "0,0123"),
        ("day", date(2026, 10, 30), "2026-10-30"),
        ("segment", "self_cure", "self_cure"),
        ("auc", None, "—"),
        ("psi", float("nan"), "—"),
    ],
)
def test_cells_follow_brazilian_conventions(column, value, text):
    assert format_cell(column, value) == text


def _report() -> PortfolioReport:
    png = Chart("x", b"\x89PNG\r\n\x1a\nfake")
    tables = {
        name: pl.DataFrame({"segment": ["<b>bold</b>"], "customers": [1234]})
        for section in SECTIONS
        for name in section.tables
    }
    figures = {name: png for section in SECTIONS for name in section.charts}
    headline = {
        "outstanding": 1560.0,
        "open_invoices": 7.0,
        "customers_with_open_invoices": 4.0,
        "overdue": 1410.0,
        "overdue_share": 1410 / 1560,
        "severe_share": 500 / 1560,
        "overdue_customers": 3.0,
    }
    return PortfolioReport(date(2026, 10, 30), headline, tables, figures, {"store_version": "v1"})


def test_the_page_has_every_section_table_and_chart():
    page = render_report(_report())
    for section in SECTIONS:
        assert f'<section id="{section.key}">' in page
        for name in section.tables:
            assert f'<table data-table="{name}">' in page
    charts = sum(len(section.charts) for section in SECTIONS)
    assert len(re.findall(r'src="data:image/png;base64,', page)) == charts
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert "R$ 1.560,00" in page and "90,4%" in page and "1.234" in page
    assert "Portfolio report — 2026-10-30" in page and "store_version: v1" in page
    assert render_report(_report()) == page


def test_table_html_escapes_and_formats():
    frame = pl.DataFrame({"bucket": ["90+"], "amount": [10.5], "amount_share": [0.5]})
    assert table_html(frame, "aging") == (
        '<table data-table="aging"><thead><tr><th>bucket</th><th>amount</th>'
        "<th>amount_share</th></tr></thead><tbody><tr><td>90+</td><td>R$ 10,50</td>"
        "<td>50,0%</td></tr></tbody></table>"
    )


def test_write_report_leaves_only_the_page(tmp_path):
    path = write_report(_report(), tmp_path / "reports" / "portfolio-2026-10-30.html")
    assert path.read_text(encoding="utf-8") == render_report(_report())
    assert [p.name for p in path.parent.iterdir()] == ["portfolio-2026-10-30.html"]
