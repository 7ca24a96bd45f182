"""The shared page and chart stack: Brazilian numbers, escaped tables, deterministic PNGs."""

from __future__ import annotations

import struct
from datetime import date

import polars as pl
import pytest
from jinja2 import UndefinedError

from regua.render.charts import (
    Chart,
    bar_chart,
    line_chart,
    new_figure,
    render,
    save_pngs,
    show_empty,
    stacked_bar_chart,
)
from regua.render.html import (
    ENVIRONMENT,
    CellFormats,
    format_money,
    format_number,
    format_percent,
    render_page,
)

PNG = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG header (IHDR)."""
    return struct.unpack(">II", png[16:24])


@pytest.mark.parametrize(
    ("value", "decimals", "signed", "text"),
    [
        (1234567.891, 2, False, "1.234.567,89"),
        (-900.0, 2, False, "-900,00"),
        (12345, 0, False, "12.345"),
        (0.01234, 4, True, "+0,0123"),
        (-0.5, 1, True, "-0,5"),
    ],
)
def test_numbers_follow_brazilian_notation(value, decimals, signed, text):
    assert format_number(value, decimals, signed=signed) == text


def test_money_and_percent():
    assert format_money(1560) == "R$ 1.560,00"
    assert format_percent(1410 / 1560) == "90,4%"
    assert format_percent(0.01234, 2) == "1,23%"


FORMATS = CellFormats(
    money=frozenset({"amount"}),
    shares=frozenset({"90+"}),
    share_prefixes=("mob_",),
    probabilities=frozenset({"mean_pd"}),
    decimals={"auc": 3},
    default_decimals=4,
)


@pytest.mark.parametrize(
    ("column", "value", "text"),
    [
        ("amount", 1234.5, "R$ 1.234,50"),
        ("amount_share", 0.1234, "12,3%"),
        ("bad_rate", 1.0, "100,0%"),
        ("90+", 0.25, "25,0%"),
        ("mob_6", 0.05, "5,0%"),
        ("mean_pd", 0.01234, "1,23%"),
        ("change_pct", -37.5, "-37,5%"),
        ("customers", 12345, "12.345"),
        ("auc", 0.83456, "0,835"),
        ("brier", 0.123456, "0,1235"),
        ("day", date(2026, 10, 30), "2026-10-30"),
        ("flag", True, "True"),
        ("segment", "<b>x</b>", "<b>x</b>"),
        ("auc", None, "—"),
        ("auc", float("nan"), "—"),
    ],
)
def test_cells_are_formatted_by_column_name(column, value, text):
    assert FORMATS.cell(column, value) == text


def render_table(frame: pl.DataFrame, formats: CellFormats, name: str = "") -> str:
    """The `table` macro every page uses, called on its own."""
    return str(ENVIRONMENT.get_template("macros.html.j2").module.table(frame, formats, name))


def test_a_table_is_formatted_and_escaped():
    frame = pl.DataFrame({"<i>segment</i>": ["<script>alert(1)</script>"], "amount": [10.5]})
    assert render_table(frame, FORMATS, "a&b") == (
        '<table data-table="a&amp;b"><thead><tr><th>&lt;i&gt;segment&lt;/i&gt;</th>'
        "<th>amount</th></tr></thead><tbody><tr><td>&lt;script&gt;alert(1)&lt;/script&gt;"
        "</td><td>R$ 10,50</td></tr></tbody></table>"
    )


def test_an_empty_table_has_its_header_only():
    frame = pl.DataFrame(schema={"group": pl.String, "customers": pl.UInt32})
    assert render_table(frame, FORMATS) == (
        "<table><thead><tr><th>group</th><th>customers</th></tr></thead><tbody></tbody></table>"
    )


def test_the_environment_escapes_strings_and_refuses_unknown_names():
    template = ENVIRONMENT.from_string("<p>{{ text }}</p>")
    assert template.render(text='<script>"x"</script>') == (
        "<p>&lt;script&gt;&#34;x&#34;&lt;/script&gt;</p>"
    )
    with pytest.raises(UndefinedError):
        render_page("portfolio.html.j2", lang="pt-BR")


def test_every_page_template_ships_with_the_package():
    assert set(ENVIRONMENT.list_templates()) >= {
        "base.html.j2",
        "macros.html.j2",
        "model.html.j2",
        "portfolio.html.j2",
    }


def test_the_figure_macro_embeds_the_png_with_an_escaped_title():
    macros = ENVIRONMENT.get_template("macros.html.j2").module
    html = str(macros.figure(Chart('a "b" <c>', b"\x89PNG")))
    assert html == (
        '<figure><img alt="a &#34;b&#34; &lt;c&gt;" src="data:image/png;base64,iVBORw=="/></figure>'
    )


CHARTS = {
    "line": lambda: line_chart(
        {"a": ([0, 0.5, 1], [0, 0.6, 1]), "b": ([0, 1], [0, 1])},
        title="ROC",
        diagonal=True,
        limits=(0, 1),
    ),
    "bar": lambda: bar_chart(
        ["1", "2", "3"], [2.5, 1.2, 0.4], title="lift", notes=["a", None, "c"]
    ),
    "barh": lambda: bar_chart(["x", "y"], [3, 1], title="sizes", horizontal=True, notes=["1", "2"]),
    "stacked": lambda: stacked_bar_chart(
        ["jan", "fev"], {"pix": [1, 2], "boleto": [3, 0]}, title="mix", colours=["#000000"]
    ),
}


@pytest.mark.parametrize("name", list(CHARTS))
def test_a_chart_is_a_png_of_the_size_asked_the_same_every_time(name):
    chart = CHARTS[name]()
    assert chart.png.startswith(PNG)
    assert png_size(chart.png) == ((700, 380) if name == "stacked" else (600, 400))
    assert chart == CHARTS[name]()
    assert chart._repr_png_() == chart.png


def test_a_chart_with_nothing_to_draw_says_so():
    empty = line_chart({}, title="vintages", empty="no cohorts yet")
    assert empty.png.startswith(PNG)
    assert empty != line_chart({}, title="vintages")
    assert stacked_bar_chart([], {}, title="mix").png.startswith(PNG)


def test_a_custom_figure_renders_without_pyplot():
    figure = new_figure(3, 2)
    show_empty(figure.subplots())
    chart = render(figure, "blank")
    assert chart.title == "blank" and png_size(chart.png) == (300, 200)


def test_bar_notes_must_match_the_bars():
    with pytest.raises(ValueError, match="zip"):
        bar_chart(["a", "b"], [1, 2], title="x", notes=["only one"])


def test_save_pngs_writes_one_file_per_chart(tmp_path):
    charts = {"roc": Chart("ROC", b"\x89PNG one"), "lift": Chart("lift", b"\x89PNG two")}
    paths = save_pngs(charts, tmp_path / "figures")
    assert paths == {"roc": tmp_path / "figures/roc.png", "lift": tmp_path / "figures/lift.png"}
    assert (tmp_path / "figures/roc.png").read_bytes() == b"\x89PNG one"
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == ["lift.png", "roc.png"]
