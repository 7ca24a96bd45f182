"""The validation pack of one trained model as one self-contained HTML page.

The tables come from `models.validation` (aggregates only); the page is the
`validation.html.j2` template of `regua.render.html` with the shared layout, table macro
and number formats, and charts from `regua.render.charts`. The CLI writes it after a
training and logs it to the model's MLflow run (`validation_pack.html`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from regua.models.validation import ValidationPack
from regua.render.charts import Chart, bar_chart, line_chart
from regua.render.html import CellFormats, render_page
from regua.store import write_text_atomic

CELLS = CellFormats(
    shares=frozenset({"outcome_rate", "approval_rate"}),
    probabilities=frozenset({"mean_score"}),
    decimals={"auc": 4, "gini": 4, "ks": 3, "ece": 4, "psi": 3, "disparate_impact": 2,
              "mean_abs_contribution": 4},
    default_decimals=4,
)  # fmt: skip


@dataclass(frozen=True)
class PackSection:
    """A heading, a note in Portuguese (our own markup) and the tables and charts under it."""

    key: str
    title: str
    note: Markup
    tables: tuple[str, ...]
    charts: tuple[str, ...] = ()


SECTIONS: tuple[PackSection, ...] = (
    PackSection(
        "benchmarks", "Model, scorecard and bureau score",
        Markup("AUC, Gini e KS nas mesmas linhas fora do tempo: o modelo, o scorecard "
               "treinado ao lado e um benchmark só com o score de bureau."),
        ("benchmarks",),
    ),
    PackSection(
        "month", "By month",
        Markup("Discriminação (AUC, Gini, KS) e calibração (ECE; taxa observada contra score "
               "médio) por mês de referência."),
        ("by_month",), ("calibration_by_month",),
    ),
    PackSection(
        "stability", "Score stability (PSI by month)",
        Markup("PSI dos scores de cada mês contra a amostra de treino (abaixo de 0,10 estável; "
               "até 0,25 atenção; acima, mudança relevante)."),
        ("psi_by_month",),
    ),
    PackSection(
        "dpd", "By days past due at as_of",
        Markup("Por faixa de atraso na data de referência."), ("by_dpd_bucket",),
    ),
    PackSection("product", "By product", Markup("Por produto principal."), ("by_product",)),
    PackSection("pf_pj", "PF and PJ", Markup("Pessoa física e jurídica."), ("by_pf_pj",)),
    PackSection("uf", "By UF", Markup("Por UF; segmentos pequenos mostram só contagens."),
                ("by_uf",)),
    PackSection(
        "population", "Population and exclusions",
        Markup("Clientes conhecidos em cada data, os da população do modelo (rotulados) e os "
               "deixados de fora (o modelo de inadimplência exclui quem já está com 60+ dias de "
               "atraso; o de propensão só vê quem tem algo vencido)."),
        ("population",),
    ),
    PackSection(
        "importance", "Importance by 5 C's group",
        Markup("Média do |contribuição| (TreeSHAP, log-odds) por grupo nas linhas fora do tempo."),
        ("group_importance",), ("importance",),
    ),
    PackSection(
        "monotonicity", "Monotonicity checks",
        Markup("Cada variável com direção imposta e as violações medidas no modelo ajustado."),
        ("monotonicity",),
    ),
    PackSection(
        "fairness", "Fairness: age band and region",
        Markup("Score médio, taxa observada e taxa de aprovação por faixa etária e região, com "
               "a razão de impacto desproporcional (taxa do grupo sobre a do grupo mais "
               "aprovado; abaixo de 0,80 é sinalizada). Idade e UF são variáveis do modelo."),
        ("fairness",),
    ),
)  # fmt: skip


def pack_charts(pack: ValidationPack) -> dict[str, Chart]:
    """Calibration by month (observed against mean score) and importance by group."""
    month = pack.tables["by_month"]
    position = list(range(1, month.height + 1))
    calibration = line_chart(
        {
            "observed": (position, month["outcome_rate"].to_numpy()),
            "mean score": (position, month["mean_score"].to_numpy()),
        },
        title="Calibration by month",
        xlabel="month: "
        + ", ".join(f"{i} = {m}" for i, m in zip(position, month["segment"], strict=True)),
        ylabel="rate",
        marker="o",
    )
    groups = pack.tables["group_importance"]
    importance = bar_chart(
        groups["group"].to_list(),
        groups["mean_abs_contribution"].to_numpy(),
        title="Importance by 5 C's group",
        xlabel="mean |contribution|",
        horizontal=True,
    )
    return {"calibration_by_month": calibration, "importance": importance}


def render_validation_pack(
    pack: ValidationPack,
    *,
    version: str,
    run_id: str,
    gate: str,
    dates: dict[str, object],
) -> str:
    """The pack as one HTML document (same pack, same text)."""
    charts = pack_charts(pack)
    sections = [
        {
            "key": s.key,
            "title": s.title,
            "note": s.note
            + (Markup(f" Aprovação: {pack.approval_rule}.") if s.key == "fairness" else ""),
            "tables": [(name, pack.tables[name]) for name in s.tables if name in pack.tables],
            "charts": [charts[name] for name in s.charts if name in charts],
        }
        for s in SECTIONS
    ]
    return render_page(
        "validation.html.j2",
        lang="en",
        kind=pack.kind,
        version=version,
        run_id=run_id,
        gate=gate,
        sections=sections,
        formats=CELLS,
        **dates,
    )


def write_validation_pack(html: str, path: Path) -> Path:
    """Write the page atomically (a reader never sees half of it)."""
    write_text_atomic(html, path)
    return Path(path)
