"""The portfolio report as one self-contained HTML page: tables inline, charts as base64 PNG.

Numbers follow Brazilian conventions (R$ 1.234,56; 12,3%) for the collection manager and
the analysts; headings are English, the short reading notes under them Portuguese. Only
aggregates reach the page, never a customer's data.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from regua.store import write_text_atomic
from reports.portfolio import BUCKETS
from reports.report import PortfolioReport

MONEY = frozenset({"amount", "outstanding", "current_total", "recommended_total", "change_total"})
PROBABILITIES = frozenset({"mean_pd", "mean_propensity", "mean", "p10", "p25", "p50", "p75", "p90"})
DECIMALS = {"auc": 3, "ece": 4, "psi": 3}


@dataclass(frozen=True)
class Section:
    """One part of the page: a heading, a note in Portuguese, its tables and charts."""

    key: str
    title: str
    note: str
    tables: tuple[str, ...]
    charts: tuple[str, ...]


SECTIONS: tuple[Section, ...] = (
    Section(
        "aging",
        "Aging of receivables",
        "Valores em aberto na data, por faixa de dias após o vencimento; <em>current</em> = "
        "ainda não vencido (ou vencendo hoje). Cada cliente é contado uma vez, na faixa da "
        "sua fatura mais atrasada.",
        ("aging",),
        ("aging",),
    ),
    Section(
        "roll_rates",
        "Roll rates",
        "Proporção de clientes que passam de uma faixa (linha) para outra (coluna) de um fim "
        "de mês para o seguinte, somando os últimos 12 meses; a última passagem vai até a "
        "data do relatório.",
        ("roll_rates",),
        ("roll_rates",),
    ),
    Section(
        "vintage",
        "Vintage curves",
        "Proporção acumulada de cada safra (trimestre de abertura da conta) que já chegou a "
        "60 dias de atraso, por meses desde a abertura. Só safras abertas dentro do "
        "histórico disponível.",
        ("vintage",),
        ("vintage",),
    ),
    Section(
        "payment_mix",
        "Payment methods",
        "Participação de cada meio de pagamento no valor pago em cada mês.",
        ("payment_mix",),
        ("payment_mix",),
    ),
    Section(
        "scores",
        "Score distributions",
        "PD: probabilidade de uma fatura chegar a 60 dias de atraso nos próximos 180 dias. "
        "Propensão a pagar: só para clientes com algo vencido.",
        ("scores",),
        ("pd", "propensity"),
    ),
    Section(
        "segments",
        "Segments",
        "Clientes por segmento e régua, do mais arriscado ao menos arriscado.",
        ("segments",),
        ("segments",),
    ),
    Section(
        "workload",
        "Ladder workload, next 14 days",
        "Ações agendadas por dia (horário local do cliente) e canal, já aplicadas as "
        "regras de contato. Dias seguintes só mostram o que já está agendado hoje.",
        ("workload",),
        ("workload",),
    ),
    Section(
        "limits",
        "Credit limit recommendations",
        "Quantos limites a política recomenda aumentar, reduzir ou manter, por faixa de "
        "risco, e os motivos mais frequentes.",
        ("limits", "limits_by_band", "limit_reasons"),
        ("limits",),
    ),
    Section(
        "health",
        "Model health",
        "AUC e erro de calibração (ECE) do modelo campeão na data mais recente cujos "
        "rótulos já amadureceram; PSI compara os scores dessa data com os da data do "
        "relatório (abaixo de 0,10 estável; até 0,25 atenção; acima, mudança relevante).",
        ("health",),
        ("calibration",),
    ),
)


def _number(value: float, decimals: int) -> str:
    """A number in Brazilian notation: 1.234.567,89."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def format_cell(column: str, value: object) -> str:
    """One cell as text: money as R$, shares and probabilities as %, counts with separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value.isoformat() if isinstance(value, date) else str(value)
    if column in MONEY:
        return f"R$ {_number(float(value), 2)}"
    if column.endswith("_pct"):
        return f"{_number(float(value), 1)}%"
    if (
        column.endswith(("share", "rate"))
        or column.startswith("mob_")
        or column in BUCKETS
        or column in PROBABILITIES
    ):
        return f"{_number(float(value) * 100, 1 if column not in PROBABILITIES else 2)}%"
    if isinstance(value, int):
        return _number(value, 0)
    return _number(value, DECIMALS.get(column, 3))


def table_html(frame: pl.DataFrame, name: str = "") -> str:
    """A frame as an HTML table with formatted, escaped cells."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(format_cell(column, value))}</td>"
            for column, value in zip(frame.columns, row, strict=True)
        )
        + "</tr>"
        for row in frame.iter_rows()
    )
    attribute = f' data-table="{html.escape(name)}"' if name else ""
    return f"<table{attribute}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _headline(report: PortfolioReport) -> str:
    h = report.headline
    return (
        f"<p class='headline'>Em aberto: <strong>R$ {_number(h['outstanding'], 2)}</strong> em "
        f"{_number(h['open_invoices'], 0)} faturas de "
        f"{_number(h['customers_with_open_invoices'], 0)} clientes; vencido: "
        f"<strong>R$ {_number(h['overdue'], 2)}</strong> "
        f"({_number(h['overdue_share'] * 100, 1)}%) de {_number(h['overdue_customers'], 0)} "
        f"clientes; 90+ dias: {_number(h['severe_share'] * 100, 1)}% do valor em aberto.</p>"
    )


STYLE = """body{font-family:system-ui,sans-serif;max-width:1150px;margin:2em auto;color:#1a202c}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #cbd5e0;padding-bottom:.2em;margin-top:2em}
.note{color:#4a5568;max-width:60em}.headline{font-size:1.1em}.meta{color:#718096;font-size:.85em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}
td,th{border:1px solid #cbd5e0;padding:3px 8px;text-align:right}th{background:#edf2f7}
td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:.5em}
img{max-width:100%}"""


def render_report(report: PortfolioReport) -> str:
    """The whole report as one HTML document (same report, same text)."""
    parts = []
    for section in SECTIONS:
        tables = "".join(
            table_html(report.tables[name], name)
            for name in section.tables
            if name in report.tables
        )
        figures = "".join(
            report.charts[name].to_html() for name in section.charts if name in report.charts
        )
        parts.append(
            f'<section id="{section.key}"><h2>{html.escape(section.title)}</h2>'
            f'<p class="note">{section.note}</p>{tables}{figures}</section>'
        )
    meta = "; ".join(f"{k}: {html.escape(v)}" for k, v in report.provenance.items() if v)
    as_of = report.as_of.isoformat()
    return f"""<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8">
<title>regua — portfolio report {as_of}</title><style>{STYLE}</style></head><body>
<h1>Portfolio report — {as_of}</h1>
<p class="meta">{meta}</p>
{_headline(report)}
{"".join(parts)}
</body></html>
"""


def write_report(report: PortfolioReport, path: Path) -> Path:
    """Write the HTML report to `path` atomically (a reader never sees half a page)."""
    path = Path(path)
    write_text_atomic(render_report(report), path)
    return path
