"""The one HTML and chart stack every regua page uses: Jinja2 templates and PNG charts.

Both the model report (logged with each MLflow run) and the portfolio report draw their
charts with `regua.render.charts` and render their page with the autoescaping
environment of `regua.render.html`, so they share a layout, a palette and number formats.

from regua.render import CellFormats, bar_chart
chart = bar_chart(["1", "2"], [2.5, 1.2], title="lift by decile")   # chart.png: PNG bytes
CellFormats(money=frozenset({"amount"})).cell("amount", 1234.5)     # 'R$ 1.234,50'
"""

from regua.render.charts import (
    PALETTE,
    Chart,
    bar_chart,
    line_chart,
    save_pngs,
    stacked_bar_chart,
)
from regua.render.html import CellFormats, format_number, render_page

__all__ = [
    "PALETTE",
    "CellFormats",
    "Chart",
    "bar_chart",
    "format_number",
    "line_chart",
    "render_page",
    "save_pngs",
    "stacked_bar_chart",
]
