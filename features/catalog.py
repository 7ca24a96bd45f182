"""The feature catalog: every feature regua computes, declared once with its expression.

This is the one list of features. Each `Feature` holds the expression that computes it
(over the per-customer aggregates `features.build` computes first), its group, unit, risk
direction, dtype, meaning in Portuguese and English and the short Portuguese label the
reasons use. `build` applies the expressions in one `select`, so it returns exactly these
columns in this order; `docs/features.md` is generated from it (`regua features-doc`);
the explanations shown to credit analysts are grouped by `group`; and `direction` becomes
the LightGBM monotone constraint (+1: more of it, more risk; -1: more of it, less risk;
0: no constraint).

Conventions every description follows:

- Windows are the last W days up to and including as_of. Event dates (payments, contacts,
  promises) count when as_of - W < date <= as_of. Invoice statistics count the invoices
  that *matured* in the window: as_of - W <= due_at < as_of, so each one's due date has
  passed and it is either paid on time, paid late or overdue.
- An invoice is settled on the first day its cumulative payments reach its amount minus
  R$1 (`settle_tolerance_brl` in config/ledger.yaml, applied by `features.ledger`); an
  invoice without payments is never settled. Days past due at the end of day t: t - due_at
  while the invoice is unsettled (a payment on t counts), else 0. Days late of an invoice:
  from its due date to its settling day, or to as_of while it is open; an invoice settled
  12 days after its due date reached 12 days late.
- Empty sets: counts, sums and maxima are 0; means, shares and ratios are null (no
  denominator); "days since" features are null when the event never happened. Contact
  and promise features are null when the portfolio has no contacts table (or no contact
  up to as_of); macro features are null without a macro table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

from regua.config.ledger import load_ledger
from regua.contract import (
    COLLATERAL_TYPES,
    CUSTOMER_KINDS,
    EMPLOYMENT_TYPES,
    PRODUCT_FAMILIES,
    UFS,
)
from regua.features.behaviour import (
    AS_OF,
    CHRONIC_LATE_INVOICES,
    PROMISE_WINDOWS,
    ROLL_WINDOWS,
    WINDOWS,
    bucket,
    contact_count,
    count,
    days_late_mean,
    dpd_now,
    open_balance,
    overdue_balance,
    overdue_matured,
    paid_late_share,
    paid_to_billed,
    rolls,
    share,
)
from regua.features.five_cs import (
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    macro_value,
    main_product,
    monthly_billed,
    whole_units,
)
from regua.render.markdown import markdown_cell

Group = Literal["behaviour", "character", "capacity", "capital", "collateral", "conditions"]
GROUPS: tuple[Group, ...] = (
    "behaviour",
    "character",
    "capacity",
    "capital",
    "collateral",
    "conditions",
)
GROUP_TITLES: dict[Group, tuple[str, str]] = {
    "behaviour": ("Comportamento", "Behaviour"),
    "character": ("Caráter", "Character"),
    "capacity": ("Capacidade", "Capacity"),
    "capital": ("Capital", "Capital"),
    "collateral": ("Colateral (garantias)", "Collateral"),
    "conditions": ("Condições", "Conditions"),
}

Count = pl.Int32()
Days = pl.Int32()
Money = pl.Float64()
Ratio = pl.Float64()
Flag = pl.Int8()


@dataclass(frozen=True)
class Feature:
    """One output column, declared once: its group, short Portuguese label, meaning (pt-BR
    and en), unit, risk direction, windows, dtype and the expression that computes it.

    `expr` reads the per-customer aggregates `features.build` joins (the columns named in
    `features.behaviour` and `features.five_cs`, plus the customer's registration data).
    """

    name: str
    group: Group
    label_pt: str
    description_pt: str
    description_en: str
    unit: str
    direction: Literal[-1, 0, 1]
    expr: pl.Expr = field(compare=False, repr=False)
    windows: tuple[int, ...] = ()
    dtype: pl.DataType = Ratio

    def column(self) -> pl.Expr:
        """The feature as an output column: its expression, cast to its dtype and named."""
        return self.expr.cast(self.dtype).alias(self.name)

    def to_dict(self) -> dict[str, object]:
        """The feature as plain JSON-able values (the catalog version hashes these)."""
        return {
            "name": self.name,
            "group": self.group,
            "label_pt": self.label_pt,
            "description_pt": self.description_pt,
            "description_en": self.description_en,
            "unit": self.unit,
            "direction": self.direction,
            "windows": list(self.windows),
            "dtype": str(self.dtype),
            "expression": str(self.expr),
        }


def _per_window(
    name: str,
    group: Group,
    label_pt: str,
    pt: str,
    en: str,
    unit: str,
    direction: Literal[-1, 0, 1],
    expr: Callable[[int], pl.Expr],
    dtype: pl.DataType,
    windows: tuple[int, ...] = WINDOWS,
) -> tuple[Feature, ...]:
    """One feature per window; `{w}` in the name, label and descriptions becomes the window
    and `expr(w)` computes it."""
    return tuple(
        Feature(
            name.format(w=w),
            group,
            label_pt.format(w=w),
            pt.format(w=w),
            en.format(w=w),
            unit,
            direction,
            expr(w),
            (w,),
            dtype,
        )
        for w in windows
    )


_MATURED_PT = "faturas vencidas nos últimos {w} dias"
_MATURED_EN = "invoices that matured in the last {w} days"

BEHAVIOUR: tuple[Feature, ...] = (
    Feature(
        "dpd_now",
        "behaviour",
        "dias em atraso hoje",
        "Dias em atraso na data de referência: o maior atraso entre as faturas vencidas e "
        "ainda não quitadas; 0 se nenhuma estiver em atraso.",
        "Days past due at as_of: the largest delay among matured, unsettled invoices; 0 if "
        "none is overdue.",
        "days",
        1,
        dpd_now(),
        dtype=Days,
    ),
    *_per_window(
        "dpd_worst_{w}",
        "behaviour",
        "pior atraso em {w} dias",
        "Maior atraso, em dias, atingido nos últimos {w} dias: dias entre o vencimento e a "
        "quitação (ou a data de referência, se em aberto) das faturas em atraso em algum dia "
        "do período; 0 se não houve atraso.",
        "Worst days late reached in the last {w} days: days from due date to settlement (or "
        "to as_of while open) of the invoices past due on some day of the window; 0 if never "
        "late.",
        "days",
        1,
        lambda w: count(f"_worst_{w}"),
        Days,
    ),
    Feature(
        "delinquency_bucket_now",
        "behaviour",
        "faixa de atraso atual",
        "Faixa de atraso na data de referência: 0 em dia, 1 de 1 a 30 dias, 2 de 31 a 60, "
        "3 de 61 a 90, 4 acima de 90 dias.",
        "Delinquency bucket at as_of: 0 current, 1 for 1-30 days past due, 2 for 31-60, "
        "3 for 61-90, 4 for more than 90.",
        "bucket",
        1,
        bucket(dpd_now()),
        dtype=Flag,
    ),
    *_per_window(
        "roll_forward_{w}",
        "behaviour",
        "pioras de faixa de atraso em {w} dias",
        "Quantas vezes, nos últimos {w} dias, a faixa de atraso piorou entre dois marcos "
        "consecutivos (marcos a cada 30 dias a partir da data de referência; ex.: de em dia "
        "para 1-30, de 31-60 para 61-90).",
        "How many times in the last {w} days the delinquency bucket got worse between two "
        "consecutive checkpoints (every 30 days back from as_of; e.g. current to 1-30, "
        "31-60 to 61-90).",
        "count",
        1,
        lambda w: rolls(w, worse=True),
        Count,
        ROLL_WINDOWS,
    ),
    *_per_window(
        "roll_back_{w}",
        "behaviour",
        "regularizações em {w} dias",
        "Quantas vezes, nos últimos {w} dias, a faixa de atraso melhorou entre dois marcos "
        "consecutivos de 30 dias (regularização total ou parcial).",
        "How many times in the last {w} days the delinquency bucket improved between two "
        "consecutive 30-day checkpoints (full or partial cure).",
        "count",
        0,
        lambda w: rolls(w, worse=False),
        Count,
        ROLL_WINDOWS,
    ),
    *_per_window(
        "paid_late_count_{w}",
        "behaviour",
        "faturas pagas com atraso em {w} dias",
        "Número de " + _MATURED_PT + " que foram quitadas depois do vencimento.",
        "Number of " + _MATURED_EN + " that were settled after their due date.",
        "count",
        1,
        lambda w: count(f"_late_{w}"),
        Count,
    ),
    *_per_window(
        "paid_late_share_{w}",
        "behaviour",
        "proporção de faturas pagas com atraso em {w} dias",
        "Entre as " + _MATURED_PT + " e já quitadas, a fração quitada com atraso; nulo se "
        "nenhuma foi quitada.",
        "Among the " + _MATURED_EN + " and already settled, the share settled late; null if "
        "none was settled.",
        "share",
        1,
        paid_late_share,
        Ratio,
    ),
    *_per_window(
        "paid_on_time_share_{w}",
        "behaviour",
        "pontualidade em {w} dias",
        "Fração das " + _MATURED_PT + " quitadas até o vencimento; nulo se nenhuma venceu.",
        "Share of the " + _MATURED_EN + " settled by their due date; null if none matured.",
        "share",
        -1,
        lambda w: share(pl.col(f"_on_time_{w}"), pl.col(f"_matured_{w}")),
        Ratio,
    ),
    *_per_window(
        "days_late_mean_{w}",
        "behaviour",
        "atraso médio em {w} dias",
        "Média de dias de atraso das " + _MATURED_PT + " (até a quitação, ou até a data de "
        "referência se em aberto; 0 se paga em dia); nulo se nenhuma venceu.",
        "Mean days late of the " + _MATURED_EN + " (until settled, or until as_of if still "
        "open; 0 if paid on time); null if none matured.",
        "days",
        1,
        days_late_mean,
        Ratio,
    ),
    *_per_window(
        "days_late_max_{w}",
        "behaviour",
        "maior atraso em {w} dias",
        "Maior número de dias de atraso entre as " + _MATURED_PT + "; 0 se nenhuma.",
        "Largest days late among the " + _MATURED_EN + "; 0 if none.",
        "days",
        1,
        lambda w: count(f"_days_late_max_{w}"),
        Days,
    ),
    *_per_window(
        "paid_to_billed_{w}",
        "behaviour",
        "valor pago sobre o faturado em {w} dias",
        "Valor pago nos últimos {w} dias dividido pelo valor das " + _MATURED_PT + "; nulo "
        "se nada venceu.",
        "Amount paid in the last {w} days over the amount of the " + _MATURED_EN + "; null "
        "if nothing matured.",
        "ratio",
        -1,
        paid_to_billed,
        Ratio,
    ),
    *_per_window(
        "partial_payments_{w}",
        "behaviour",
        "pagamentos parciais em {w} dias",
        "Pagamentos feitos nos últimos {w} dias que deixaram a fatura ainda em aberto "
        "(pagamentos parciais).",
        "Payments made in the last {w} days that left their invoice still open (partial payments).",
        "count",
        1,
        lambda w: count(f"_partial_{w}"),
        Count,
    ),
    Feature(
        "days_since_last_payment",
        "behaviour",
        "tempo desde o último pagamento",
        "Dias desde o último pagamento recebido; nulo se o cliente nunca pagou.",
        "Days since the last payment received; null if the customer never paid.",
        "days",
        1,
        AS_OF - pl.col("_last_paid_day"),
        dtype=Days,
    ),
    Feature(
        "open_balance",
        "behaviour",
        "saldo em aberto",
        "Saldo em aberto: valor das faturas emitidas e não quitadas menos o que já foi pago delas.",
        "Open balance: amount of issued, unsettled invoices less what was already paid on them.",
        "BRL",
        1,
        open_balance(),
        dtype=Money,
    ),
    Feature(
        "overdue_balance",
        "behaviour",
        "saldo vencido",
        "Saldo vencido: a parte do saldo em aberto cujas faturas já passaram do vencimento.",
        "Overdue balance: the part of the open balance whose invoices are past their due date.",
        "BRL",
        1,
        overdue_balance(),
        dtype=Money,
    ),
    Feature(
        "limit_utilisation",
        "behaviour",
        "uso do limite",
        "Utilização do limite: saldo em aberto dividido pelo limite de crédito atual; nulo "
        "se o limite for zero.",
        "Limit utilisation: open balance over the current credit limit; null if the limit is zero.",
        "ratio",
        1,
        share(open_balance(), pl.col("credit_limit")),
        (),
        Ratio,
    ),
    Feature(
        "days_late_mean_trend",
        "behaviour",
        "tendência do atraso médio",
        "Tendência do atraso: média de dias de atraso em 90 dias menos a média em 365 dias "
        "(positivo: piorando); nulo se alguma delas for nula.",
        "Lateness trend: mean days late over 90 days minus over 365 days (positive: "
        "worsening); null if either is null.",
        "days",
        1,
        days_late_mean(90) - days_late_mean(365),
        (90, 365),
        Ratio,
    ),
    Feature(
        "paid_late_share_trend",
        "behaviour",
        "tendência dos pagamentos em atraso",
        "Tendência da pontualidade: fração paga com atraso em 90 dias menos a fração em 365 "
        "dias (positivo: piorando); nulo se alguma delas for nula.",
        "Punctuality trend: share settled late over 90 days minus over 365 days (positive: "
        "worsening); null if either is null.",
        "share",
        1,
        paid_late_share(90) - paid_late_share(365),
        (90, 365),
        Ratio,
    ),
    Feature(
        "paid_to_billed_trend",
        "behaviour",
        "tendência do valor pago sobre o faturado",
        "Tendência dos pagamentos: razão pago/faturado em 90 dias menos a razão em 365 dias "
        "(negativo: pagando menos do que vence); nulo se alguma delas for nula.",
        "Payment trend: paid-to-billed ratio over 90 days minus over 365 days (negative: "
        "paying less than falls due); null if either is null.",
        "ratio",
        -1,
        paid_to_billed(90) - paid_to_billed(365),
        (90, 365),
        Ratio,
    ),
    Feature(
        "late_first_time",
        "behaviour",
        "primeiro atraso",
        "1 se o cliente está em atraso agora e nenhuma fatura vencida nos últimos 365 dias "
        "foi quitada com atraso (primeiro atraso); caso contrário, 0.",
        "1 if the customer is overdue now and no invoice that matured in the last 365 days "
        "was settled late (first-time late); else 0.",
        "flag",
        1,
        (dpd_now() > 0) & (count("_late_365") == 0),
        (365,),
        Flag,
    ),
    Feature(
        "late_chronic",
        "behaviour",
        "atrasos recorrentes",
        "1 se ao menos 3 faturas vencidas nos últimos 365 dias foram quitadas com atraso ou "
        "seguem em atraso (atraso crônico); caso contrário, 0.",
        "1 if at least 3 invoices that matured in the last 365 days were settled late or are "
        "still overdue (chronic late); else 0.",
        "flag",
        1,
        count("_late_365") + overdue_matured(365) >= CHRONIC_LATE_INVOICES,
        (365,),
        Flag,
    ),
    *_per_window(
        "contacts_received_{w}",
        "behaviour",
        "contatos de cobrança recebidos em {w} dias",
        "Contatos de cobrança que chegaram ao cliente nos últimos {w} dias (entregues, lidos, "
        "atendidos, com promessa ou recusa); nulo sem tabela de contatos.",
        "Collection contacts that reached the customer in the last {w} days (delivered, "
        "read, answered, promise or refused); null without a contacts table.",
        "count",
        1,
        lambda w: contact_count(f"_received_{w}"),
        Count,
    ),
    *_per_window(
        "contacts_answered_{w}",
        "behaviour",
        "contatos de cobrança respondidos em {w} dias",
        "Contatos de cobrança respondidos pelo cliente nos últimos {w} dias (atendidos, com "
        "promessa ou recusa); nulo sem tabela de contatos.",
        "Collection contacts the customer answered in the last {w} days (answered, promise "
        "or refused); null without a contacts table.",
        "count",
        0,
        lambda w: contact_count(f"_answered_{w}"),
        Count,
    ),
    *_per_window(
        "promises_made_{w}",
        "behaviour",
        "promessas de pagamento em {w} dias",
        "Promessas de pagamento feitas nos últimos {w} dias; nulo sem tabela de contatos.",
        "Promises to pay made in the last {w} days; null without a contacts table.",
        "count",
        1,
        lambda w: contact_count(f"_made_{w}"),
        Count,
        PROMISE_WINDOWS,
    ),
    *_per_window(
        "promises_kept_{w}",
        "behaviour",
        "promessas cumpridas em {w} dias",
        "Promessas feitas nos últimos {w} dias e cumpridas: pagamentos da fatura (ou do "
        "cliente, se a promessa não cita fatura) entre a promessa e a data prometida somam ao "
        "menos o valor prometido menos R$ 1; nulo sem tabela de contatos.",
        "Promises made in the last {w} days and kept: payments on the invoice (or by the "
        "customer, when the promise names no invoice) between the promise and the promised "
        "date add up to the promised amount less R$1; null without a contacts table.",
        "count",
        0,
        lambda w: contact_count(f"_kept_{w}"),
        Count,
        PROMISE_WINDOWS,
    ),
    *_per_window(
        "promises_broken_{w}",
        "behaviour",
        "promessas não cumpridas em {w} dias",
        "Promessas feitas nos últimos {w} dias cuja data prometida já passou sem que fossem "
        "cumpridas; nulo sem tabela de contatos.",
        "Promises made in the last {w} days whose promised date has passed without being "
        "kept; null without a contacts table.",
        "count",
        1,
        lambda w: contact_count(f"_broken_{w}"),
        Count,
        PROMISE_WINDOWS,
    ),
    *_per_window(
        "promise_kept_share_{w}",
        "behaviour",
        "proporção de promessas cumpridas em {w} dias",
        "Entre as promessas feitas nos últimos {w} dias e já decididas (cumpridas ou "
        "quebradas), a fração cumprida; nulo se nenhuma.",
        "Among the promises made in the last {w} days that are decided (kept or broken), "
        "the share kept; null if none.",
        "share",
        -1,
        lambda w: share(pl.col(f"_kept_{w}"), pl.col(f"_kept_{w}") + pl.col(f"_broken_{w}")),
        Ratio,
        PROMISE_WINDOWS,
    ),
    Feature(
        "agreements_active",
        "behaviour",
        "acordo de pagamento ativo",
        "Acordos ativos: faturas em aberto que receberam pagamento de acordo (método "
        "'agreement') nos últimos 90 dias.",
        "Active agreements: open invoices that received an agreement payment (method "
        "'agreement') in the last 90 days.",
        "count",
        1,
        count("_agreements_active"),
        (90,),
        Count,
    ),
    Feature(
        "agreement_payments_365",
        "behaviour",
        "parcelas de acordo pagas em 365 dias",
        "Pagamentos feitos por acordo (método 'agreement') nos últimos 365 dias.",
        "Payments made through an agreement (method 'agreement') in the last 365 days.",
        "count",
        1,
        count("_agreement_payments"),
        (365,),
        Count,
    ),
)

CHARACTER: tuple[Feature, ...] = (
    Feature(
        "tenure_months",
        "character",
        "tempo de relacionamento",
        "Tempo de relacionamento: meses completos (de 30,4375 dias) desde a abertura da conta.",
        "Tenure: whole months (of 30.4375 days) since the relationship began.",
        "months",
        -1,
        whole_units(AS_OF - pl.col("opened"), DAYS_PER_MONTH),
        dtype=Count,
    ),
    Feature(
        "age_years",
        "character",
        "idade ou tempo de fundação",
        "Idade do cliente (PF) ou tempo desde a fundação da empresa (PJ), em anos completos; "
        "nulo se a data não foi informada.",
        "Age of the person (PF) or years since the company was founded (PJ), in whole "
        "years; null if the date is missing.",
        "years",
        -1,
        whole_units(AS_OF - pl.col("born"), DAYS_PER_YEAR),
        dtype=Count,
    ),
    Feature(
        "bureau_score",
        "character",
        "score de bureau",
        "Score de birô de crédito (0 a 1000) na data de referência (histórico datado; sem "
        "ele, dado cadastral atual); nulo se não consultado.",
        "Credit bureau score (0 to 1000) at as_of (dated history; without one, the current "
        "record); null if not obtained.",
        "points",
        -1,
        pl.col("bureau_score"),
        dtype=Count,
    ),
    Feature(
        "invoices_365",
        "character",
        "faturas no último ano",
        "Faturas emitidas ao cliente nos últimos 365 dias (tamanho do histórico recente).",
        "Invoices issued to the customer in the last 365 days (length of the recent track "
        "record). A count since the relationship began would grow with the export window "
        "and drift by construction.",
        "count",
        0,
        count("_invoices_365"),
        dtype=Count,
    ),
    Feature(
        "paid_late_share_lifetime",
        "character",
        "proporção histórica de pagamentos em atraso",
        "Em todo o histórico, fração das faturas quitadas que foram quitadas com atraso; "
        "nulo se nenhuma foi quitada.",
        "Over the whole track record, share of settled invoices that were settled late; "
        "null if none was settled.",
        "share",
        1,
        share(count("_late"), count("_settled")),
        dtype=Ratio,
    ),
    Feature(
        "dpd_worst_lifetime",
        "character",
        "pior atraso da história",
        "Maior atraso, em dias, de uma fatura em todo o histórico (até a quitação, ou até a "
        "data de referência se em aberto); 0 se nunca atrasou.",
        "Worst days late of any invoice over the whole track record (until settled, or "
        "until as_of while open); 0 if never late.",
        "days",
        1,
        count("_dpd_worst_lifetime"),
        dtype=Days,
    ),
    Feature(
        "days_since_last_delinquency",
        "character",
        "tempo desde o último atraso",
        "Dias desde o último dia em que o cliente esteve em atraso (0 se está em atraso "
        "agora); nulo se nunca atrasou.",
        "Days since the last day the customer was past due (0 if overdue now); null if never late.",
        "days",
        -1,
        AS_OF - pl.col("_last_late_day"),
        dtype=Days,
    ),
)

CAPACITY: tuple[Feature, ...] = (
    Feature(
        "declared_income",
        "capacity",
        "renda declarada",
        "Renda mensal declarada (PF) ou faturamento mensal (PJ) na data de referência "
        "(histórico datado; sem ele, dado cadastral atual).",
        "Declared monthly income (PF) or monthly revenue (PJ) at as_of (dated history; "
        "without one, the current record).",
        "BRL",
        -1,
        pl.col("declared_income"),
        dtype=Money,
    ),
    Feature(
        "employment_type",
        "capacity",
        "tipo de fonte de renda",
        "Origem da renda (CLT, servidor público, autônomo, informal, aposentado, "
        "desempregado, empresa).",
        "Source of income (formal employee, public servant, self-employed, informal, "
        "retired, unemployed, business).",
        "category",
        0,
        pl.col("employment_type"),
        dtype=pl.Enum(EMPLOYMENT_TYPES),
    ),
    Feature(
        "employment_tenure_months",
        "capacity",
        "tempo na fonte de renda atual",
        "Meses no emprego atual (PF) ou de atividade do negócio (PJ) na data de referência "
        "(histórico datado mais os meses desde a linha; sem ele, dado cadastral atual).",
        "Months in the current job (PF) or in business (PJ) at as_of (dated history plus "
        "the months since its row; without one, the current record).",
        "months",
        -1,
        pl.col("employment_tenure_months"),
        dtype=Count,
    ),
    Feature(
        "credit_limit",
        "capacity",
        "limite de crédito",
        "Limite de crédito concedido ao cliente na data de referência (histórico datado; "
        "sem ele, limite atual).",
        "Credit limit granted to the customer at as_of (dated history; without one, the "
        "current limit).",
        "BRL",
        0,
        pl.col("credit_limit"),
        dtype=Money,
    ),
    Feature(
        "installment_to_income",
        "capacity",
        "parcela em relação à renda",
        "Comprometimento da renda: valor médio mensal das faturas vencidas nos últimos 90 "
        "dias dividido pela renda mensal; nulo sem renda informada ou com renda zero.",
        "Instalment-to-income: mean monthly amount of the invoices that matured in the last "
        "90 days over monthly income; null without a positive income.",
        "ratio",
        1,
        share(monthly_billed(), pl.col("declared_income")),
        (90,),
        Ratio,
    ),
    Feature(
        "debt_to_income",
        "capacity",
        "endividamento em relação à renda",
        "Endividamento: parcelas mensais devidas a outros credores mais o valor médio "
        "mensal faturado aqui (90 dias), divididos pela renda mensal; nulo sem renda "
        "positiva ou sem as parcelas externas.",
        "Debt-to-income: monthly instalments owed elsewhere plus the mean monthly amount "
        "billed here (90 days), over monthly income; null without a positive income or "
        "without the external instalments.",
        "ratio",
        1,
        share(pl.col("monthly_debt_obligations") + monthly_billed(), pl.col("declared_income")),
        (90,),
        Ratio,
    ),
    Feature(
        "open_balance_to_income",
        "capacity",
        "saldo em aberto em relação à renda",
        "Saldo em aberto dividido pela renda mensal; nulo sem renda positiva.",
        "Open balance over monthly income; null without a positive income.",
        "ratio",
        1,
        share(open_balance(), pl.col("declared_income")),
        dtype=Ratio,
    ),
)

CAPITAL: tuple[Feature, ...] = (
    Feature(
        "assets",
        "capital",
        "patrimônio declarado",
        "Patrimônio (bens) declarado (dado cadastral atual).",
        "Declared assets, current record.",
        "BRL",
        -1,
        pl.col("assets"),
        dtype=Money,
    ),
    Feature(
        "savings",
        "capital",
        "reservas financeiras",
        "Poupança e aplicações financeiras de alta liquidez (dado cadastral atual).",
        "Liquid savings and investments, current record.",
        "BRL",
        -1,
        pl.col("savings"),
        dtype=Money,
    ),
    Feature(
        "equity",
        "capital",
        "patrimônio líquido da empresa",
        "Patrimônio líquido da empresa (PJ) (dado cadastral atual); nulo para PF.",
        "Company net equity (PJ), current record; null for persons (PF).",
        "BRL",
        -1,
        pl.col("equity"),
        dtype=Money,
    ),
    Feature(
        "savings_to_income",
        "capital",
        "reservas em relação à renda",
        "Reserva em meses de renda: poupança dividida pela renda mensal; nulo sem renda positiva.",
        "Savings in months of income: savings over monthly income; null without a positive income.",
        "months",
        -1,
        share(pl.col("savings"), pl.col("declared_income")),
        dtype=Ratio,
    ),
    Feature(
        "assets_to_limit",
        "capital",
        "patrimônio em relação ao limite",
        "Patrimônio declarado dividido pelo limite de crédito; nulo se o limite for zero.",
        "Declared assets over the credit limit; null if the limit is zero.",
        "ratio",
        -1,
        share(pl.col("assets"), pl.col("credit_limit")),
        dtype=Ratio,
    ),
)

COLLATERAL: tuple[Feature, ...] = (
    Feature(
        "collateral_type",
        "collateral",
        "tipo de garantia",
        "Tipo de garantia (nenhuma, veículo, imóvel, recebíveis, investimentos, avalista).",
        "Kind of collateral (none, vehicle, real estate, receivables, investments, guarantor).",
        "category",
        0,
        pl.col("collateral_type"),
        dtype=pl.Enum(COLLATERAL_TYPES),
    ),
    Feature(
        "collateral_value",
        "collateral",
        "valor da garantia",
        "Valor da garantia oferecida (dado cadastral atual).",
        "Value of the pledged collateral, current record.",
        "BRL",
        -1,
        pl.col("collateral_value"),
        dtype=Money,
    ),
    Feature(
        "collateral_to_limit",
        "collateral",
        "cobertura da garantia sobre o limite",
        "Cobertura do limite: valor da garantia dividido pelo limite de crédito; nulo se o "
        "limite for zero.",
        "Limit coverage: collateral value over the credit limit; null if the limit is zero.",
        "ratio",
        -1,
        share(pl.col("collateral_value"), pl.col("credit_limit")),
        dtype=Ratio,
    ),
    Feature(
        "collateral_to_open_balance",
        "collateral",
        "cobertura da garantia sobre o saldo",
        "Cobertura do saldo: valor da garantia dividido pelo saldo em aberto; nulo sem "
        "saldo em aberto.",
        "Balance coverage: collateral value over the open balance; null without an open balance.",
        "ratio",
        -1,
        share(pl.col("collateral_value"), open_balance()),
        dtype=Ratio,
    ),
)

CONDITIONS: tuple[Feature, ...] = (
    Feature(
        "kind",
        "conditions",
        "tipo de cliente (PF ou PJ)",
        "Tipo de cliente: PF (pessoa física) ou PJ (pessoa jurídica).",
        "Kind of customer: PF (person) or PJ (company).",
        "category",
        0,
        pl.col("kind"),
        dtype=pl.Enum(CUSTOMER_KINDS),
    ),
    Feature(
        "state",
        "conditions",
        "UF",
        "UF do cliente.",
        "The customer's state (UF).",
        "category",
        0,
        pl.col("state"),
        dtype=pl.Enum(UFS),
    ),
    Feature(
        "main_product",
        "conditions",
        "produto principal",
        "Produto de maior valor faturado nos últimos 365 dias (emissão); nulo sem faturas "
        "no período.",
        "Product with the largest amount billed (issued) in the last 365 days; null without "
        "invoices in the period.",
        "category",
        0,
        main_product(),
        (365,),
        pl.Enum(PRODUCT_FAMILIES),
    ),
    Feature(
        "unemployment",
        "conditions",
        "desemprego",
        "Taxa de desemprego na UF do cliente (ou nacional, se não houver a da UF) no último "
        "mês já divulgado na data de referência.",
        "Unemployment rate in the customer's state (national if the state has none) in the "
        "last month already published at as_of.",
        "percent",
        1,
        macro_value("unemployment"),
        dtype=Ratio,
    ),
    Feature(
        "unemployment_change_3m",
        "conditions",
        "variação do desemprego em 3 meses",
        "Variação da taxa de desemprego em 3 meses até o último mês divulgado, em pontos "
        "percentuais (UF do cliente ou nacional).",
        "Change of the unemployment rate over the 3 months to the last published month, in "
        "percentage points (customer's state or national).",
        "p.p.",
        1,
        macro_value("unemployment_change"),
        dtype=Ratio,
    ),
    Feature(
        "selic",
        "conditions",
        "taxa Selic",
        "Taxa Selic no último mês divulgado.",
        "Selic policy rate in the last published month.",
        "percent",
        1,
        macro_value("selic"),
        dtype=Ratio,
    ),
    Feature(
        "ipca",
        "conditions",
        "inflação (IPCA)",
        "Inflação (IPCA em 12 meses) no último mês divulgado.",
        "Inflation (12-month IPCA) in the last published month.",
        "percent",
        1,
        macro_value("ipca"),
        dtype=Ratio,
    ),
    Feature(
        "default_rate",
        "conditions",
        "inadimplência do mercado",
        "Taxa de inadimplência da UF do cliente (ou nacional) no último mês divulgado.",
        "Default rate in the customer's state (or national) in the last published month.",
        "percent",
        1,
        macro_value("default_rate"),
        dtype=Ratio,
    ),
    Feature(
        "income_growth",
        "conditions",
        "crescimento da renda",
        "Crescimento real da renda em 12 meses no último mês divulgado (UF do cliente ou "
        "nacional).",
        "Real income growth over 12 months in the last published month (customer's state or "
        "national).",
        "percent",
        -1,
        macro_value("income_growth"),
        dtype=Ratio,
    ),
)

MACRO_FEATURES: tuple[str, ...] = (
    "unemployment",
    "unemployment_change_3m",
    "selic",
    "ipca",
    "default_rate",
    "income_growth",
)
"""The conditions read from the macro table: levels that trend by design, so drift reads
their month-on-month changes (`models.drift.macro_moves`), not their PSI."""

CATALOG: tuple[Feature, ...] = (
    *BEHAVIOUR,
    *CHARACTER,
    *CAPACITY,
    *CAPITAL,
    *COLLATERAL,
    *CONDITIONS,
)
"""Every feature, in output order."""

FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in CATALOG)
GROUP_OF: dict[str, str] = {f.name: f.group for f in CATALOG}
"""The 5 C's group (or behaviour) of every feature."""
LABEL_PT: dict[str, str] = {f.name: f.label_pt for f in CATALOG}
"""The short Portuguese name of every feature, for the reasons analysts and customers read."""


def features_in(group: Group) -> tuple[Feature, ...]:
    """The features of one group, in catalog order."""
    return tuple(f for f in CATALOG if f.group == group)


def output_schema() -> pl.Schema:
    """Schema of `build`'s result: the keys, then every feature in catalog order."""
    return pl.Schema(
        {"customer_id": pl.String(), "as_of": pl.Date(), **{f.name: f.dtype for f in CATALOG}}
    )


def catalog_version(features: Sequence[Feature] = CATALOG) -> str:
    """A short hash of the catalog's declarations; it changes whenever any feature's
    expression, label or metadata does."""
    payload = json.dumps([f.to_dict() for f in features], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


CATALOG_VERSION = catalog_version()


def catalog_markdown() -> str:
    """The catalog as Markdown: one table per group (the source of docs/features.md)."""
    lines = [
        "# Features",
        "",
        "Generated from `features/catalog.py` by `regua features-doc > docs/features.md`; a",
        "test keeps the two in step. Do not edit by hand.",
        "",
        f"Catalog version `{CATALOG_VERSION}`: {len(CATALOG)} features in {len(GROUPS)} "
        "groups. `regua.features.build(store, as_of)`",
        "returns one row per customer opened on or before `as_of`, with `customer_id`,",
        "`as_of` and these columns in this order.",
        "",
        "Direction is the expected effect on risk, used as the LightGBM monotone constraint:",
        "`+1` more of it means more risk, `-1` less risk, `0` no constraint. The rótulo is the",
        "short Portuguese name the score reasons use.",
        "",
        "## Conventions",
        "",
        "- Point in time: a feature at `as_of` uses invoices issued on or before `as_of`,",
        "  payments made on or before it, contacts made before the end of that day, and",
        "  the macro value of the last month already published (month + 1 month <= `as_of`).",
        "- Windows are the last W days up to and including `as_of`. Payments, contacts and",
        "  promises count when `as_of - W < date <= as_of`; invoice statistics count the",
        "  invoices that matured in the window, `as_of - W <= due_at < as_of`.",
        "- An invoice is settled on the first day its payments add up to its amount less",
        f"  R$ {load_ledger().settle_tolerance_brl:.2f}; an invoice without payments is never "
        "settled. Days past due at the end",
        "  of day t are `t - due_at` while the invoice is unsettled (a payment on t counts),",
        "  else 0. Days late: from the due date to the settling day, or to `as_of` while open.",
        "- Bureau score, credit limit, declared income, employment type and tenure and",
        "  monthly debt obligations are taken at `as_of` from the optional",
        "  `customer_attributes` history: the customer's latest row with valid_from <= as_of",
        "  (tenure plus the whole months since that row); null when the customer has rows",
        "  but none valid yet. A customer without rows, and the other registration data",
        "  (assets, savings, equity, collateral), use the current `customers` record for",
        "  every `as_of`, so back-dated snapshots see today's values (a leak in back-tests:",
        "  after a default the score drops and the limit is cut).",
        "- Empty sets: counts, sums and maxima are 0; means, shares and ratios are null;",
        '  "days since" features are null when the event never happened. Contact and',
        "  promise features are null without a contacts table (or before its first contact),",
        "  macro features without a macro table.",
    ]
    for group in GROUPS:
        pt, en = GROUP_TITLES[group]
        members = features_in(group)
        lines += [
            "",
            f"## {en} — {pt} ({len(members)})",
            "",
            "| feature | rótulo | type | unit | direction | windows (days) | descrição "
            "| description |",
            "| --- | --- | --- | --- | ---: | --- | --- | --- |",
        ]
        for f in members:
            windows = ", ".join(str(w) for w in f.windows) or "—"
            lines.append(
                f"| `{f.name}` | {markdown_cell(f.label_pt)} | {_dtype_label(f.dtype)} | {f.unit} "
                f"| {_direction(f.direction)} "
                f"| {windows} | {markdown_cell(f.description_pt)} "
                f"| {markdown_cell(f.description_en)} |"
            )
    return "\n".join(lines) + "\n"


def _direction(direction: int) -> str:
    return f"{direction:+d}" if direction else "0"


def _dtype_label(dtype: pl.DataType) -> str:
    return "category" if isinstance(dtype, pl.Enum) else str(dtype).lower()
