"""The portfolio page: Brazilian number formats, every section, escaped text, atomic write."""

from __future__ import annotations

import re
from datetime import date

import polars as pl
import pytest

from regua.reports.charts import Chart
from regua.reports.html import SECTIONS, format_cell, render_report, write_report
from regua.reports.report import PortfolioReport


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


def _report(segment: str = "<b>bold</b>") -> PortfolioReport:
    png = Chart("x", b"\x89PNG\r\n\x1a\nfake")
    tables = {
        name: pl.DataFrame({"segment": [segment], "customers": [1234]})
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


def test_a_script_in_a_segment_name_is_shown_as_text():
    page = render_report(_report('<script>alert("x")</script>'))
    assert "<script" not in page
    assert "<td>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</td>" in page


def test_our_own_notes_keep_their_markup_and_the_page_needs_no_other_file():
    page = render_report(_report())
    assert "<em>current</em> = ainda não vencido" in page
    assert 'src="http' not in page and "<link" not in page and "url(" not in page
    assert page.startswith('<!doctype html>\n<html lang="pt-BR">')


def test_the_aging_table_reads_in_reais_and_percent():
    report = _report()
    report.tables["aging"] = pl.DataFrame(
        {"bucket": ["90+"], "amount": [10.5], "amount_share": [0.5]}
    )
    assert (
        '<table data-table="aging"><thead><tr><th>bucket</th><th>amount</th>'
        "<th>amount_share</th></tr></thead><tbody><tr><td>90+</td><td>R$ 10,50</td>"
        "<td>50,0%</td></tr></tbody></table>"
    ) in render_report(report)


def test_write_report_leaves_only_the_page(tmp_path):
    path = write_report(_report(), tmp_path / "reports" / "portfolio-2026-10-30.html")
    assert path.read_text(encoding="utf-8") == render_report(_report())
    assert [p.name for p in path.parent.iterdir()] == ["portfolio-2026-10-30.html"]
