"""The portfolio report as one self-contained HTML page: tables inline, charts as base64 PNG.

The page is the `portfolio.html.j2` template of `regua.render.html` (autoescaping, the
shared layout and table macro). Numbers follow Brazilian conventions (R$ 1.234,56; 12,3%)
for the collection manager and the analysts; headings are English, the short reading
notes under them Portuguese. Only aggregates reach the page, never a customer's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from regua.render.html import CellFormats, render_page
from regua.reports.portfolio import BUCKETS
from regua.reports.report import PortfolioReport
from regua.store import write_text_atomic

CELLS = CellFormats(
    money=frozenset(
        {"amount", "outstanding", "current_total", "recommended_total", "change_total"}
    ),
    shares=frozenset(BUCKETS),
    share_prefixes=("mob_",),
    probabilities=frozenset(
        {"mean_pd", "mean_propensity", "mean", "p10", "p25", "p50", "p75", "p90"}
    ),
    decimals={"auc": 3, "ece": 4, "psi": 3},
)
"""Amounts in R$, roll rates, vintages and shares in %, score statistics in % with 2 decimals."""


def format_cell(column: str, value: object) -> str:
    """One cell of the portfolio report as text (see `CELLS`)."""
    return CELLS.cell(column, value)


@dataclass(frozen=True)
class Section:
    """One part of the page: a heading, a note in Portuguese (our own markup), tables, charts."""

    key: str
    title: str
    note: Markup
    tables: tuple[str, ...]
    charts: tuple[str, ...]


SECTIONS: tuple[Section, ...] = (
    Section(
        "aging",
        "Aging of receivables",
        Markup(
            "Valores em aberto na data, por faixa de dias após o vencimento; <em>current</em> = "
            "ainda não vencido (ou vencendo hoje). Cada cliente é contado uma vez, na faixa da "
            "sua fatura mais atrasada."
        ),
        ("aging",),
        ("aging",),
    ),
    Section(
        "roll_rates",
        "Roll rates",
        Markup(
            "Proporção de clientes que passam de uma faixa (linha) para outra (coluna) de um fim "
            "de mês para o seguinte, somando os últimos 12 meses; a última passagem vai até a "
            "data do relatório."
        ),
        ("roll_rates",),
        ("roll_rates",),
    ),
    Section(
        "vintage",
        "Vintage curves",
        Markup(
            "Proporção acumulada de cada safra (trimestre de abertura da conta) que já chegou a "
            "60 dias de atraso, por meses desde a abertura. Só safras abertas dentro do "
            "histórico disponível."
        ),
        ("vintage",),
        ("vintage",),
    ),
    Section(
        "payment_mix",
        "Payment methods",
        Markup("Participação de cada meio de pagamento no valor pago em cada mês."),
        ("payment_mix",),
        ("payment_mix",),
    ),
    Section(
        "scores",
        "Score distributions",
        Markup(
            "PD: probabilidade de uma fatura chegar a 60 dias de atraso nos próximos 180 dias. "
            "Propensão a pagar: só para clientes com algo vencido."
        ),
        ("scores",),
        ("pd", "propensity"),
    ),
    Section(
        "segments",
        "Segments",
        Markup("Clientes por segmento e régua, do mais arriscado ao menos arriscado."),
        ("segments",),
        ("segments",),
    ),
    Section(
        "workload",
        "Ladder workload, next 14 days",
        Markup(
            "Ações agendadas por dia (horário local do cliente) e canal, já aplicadas as "
            "regras de contato. Dias seguintes só mostram o que já está agendado hoje."
        ),
        ("workload",),
        ("workload",),
    ),
    Section(
        "limits",
        "Credit limit recommendations",
        Markup(
            "Quantos limites a política recomenda aumentar, reduzir ou manter, por faixa de "
            "risco, e os motivos mais frequentes."
        ),
        ("limits", "limits_by_band", "limit_reasons"),
        ("limits",),
    ),
    Section(
        "health",
        "Model health",
        Markup(
            "AUC e erro de calibração (ECE) do modelo campeão na data mais recente cujos "
            "rótulos já amadureceram; PSI compara os scores dessa data com os da data do "
            "relatório (abaixo de 0,10 estável; até 0,25 atenção; acima, mudança relevante)."
        ),
        ("health",),
        ("calibration",),
    ),
)


def render_report(report: PortfolioReport) -> str:
    """The whole report as one HTML document (same report, same text)."""
    parts = [
        {
            "section": section,
            "tables": [
                (name, report.tables[name]) for name in section.tables if name in report.tables
            ],
            "charts": [report.charts[name] for name in section.charts if name in report.charts],
        }
        for section in SECTIONS
    ]
    return render_page(
        "portfolio.html.j2",
        lang="pt-BR",
        as_of=report.as_of.isoformat(),
        provenance=report.provenance,
        headline=report.headline,
        parts=parts,
        formats=CELLS,
    )


def write_report(report: PortfolioReport, path: Path) -> Path:
    """Write the HTML report to `path` atomically (a reader never sees half a page)."""
    path = Path(path)
    write_text_atomic(render_report(report), path)
    return path
