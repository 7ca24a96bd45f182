"""Credit-limit recommendations with reasons, from risk band, capacity and utilisation.

One vectorised pass over the scored customers (one row each, `features.build` columns
plus `pd`). The steps, in order:

1. Band: `pd` picks a band of config/limits.yaml; the band and `max_change` bound how far
   the limit may move in this review.
2. Increase, for customers who use most of their limit (`limit_utilisation` at or above
   `increase.min_utilisation`) and qualify: not overdue now, never past due in the clean
   window, a band that allows growth, a known positive income, known external debts, and
   no bureau score below the minimum. The target is the limit their balance needs, bounded
   by the band and by capacity: (max debt service * income - instalments owed elsewhere) /
   monthly payment share. Capacity only stops growth; it never forces a cut.
3. Decrease, in bands with `max_decrease` > 0 for limits used at most
   `decrease.max_utilisation`: unused limit is cut, always leaving headroom over the balance.
4. Floor and cap (BRL) win over everything except that a customer overdue now never gets
   an increase, not even up to the floor.
5. Rounding to the step towards the current limit (increases down, decreases up), so the
   per-review bound still holds; a move that rounds away keeps the current limit as it is.

Missing inputs have a defined outcome: no `credit_limit` gives no recommendation (null,
"keep"); no `pd` gives no band move (floor and cap still apply); no positive income or
no `debt_to_income` blocks an increase; unknown `dpd_now`/`overdue_balance` count as
overdue and an unknown clean-window `dpd_worst` as late; no bureau score blocks nothing.
Reasons are at most four, in a fixed priority order; `reason_codes` are their stable
English codes, position by position.
"""

from __future__ import annotations

import polars as pl

from regua.config.limits import LimitsConfig

MAX_REASONS = 4
_EPS = 1e-9
_CENT = 0.01
_SEP = "\x1f"
"""Moves smaller than a cent are float noise, not a proposal cut by rounding."""
_OUTPUT = (
    "customer_id",
    "current_limit",
    "recommended_limit",
    "change",
    "change_pct",
    "decision",
    "risk_band",
    "limit_reasons",
    "reason_codes",
)


def required_columns(config: LimitsConfig) -> tuple[str, ...]:
    """The input columns `recommend_limits` reads, as `features.build` names them, plus pd."""
    return (
        "customer_id",
        "pd",
        "kind",
        "credit_limit",
        "limit_utilisation",
        "open_balance",
        "overdue_balance",
        "dpd_now",
        f"dpd_worst_{config.increase.clean_window_days}",
        "declared_income",
        "installment_to_income",
        "debt_to_income",
        "bureau_score",
    )


def brl_text(value: float) -> str:
    """A BRL amount the Brazilian way: R$ 50.000 (R$ 12,50 when it has cents)."""
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return "R$ " + text.replace(",", "_").replace(".", ",").replace("_", ".")


def _pct(share: pl.Expr, decimals: int = 0) -> pl.Expr:
    """A share as Portuguese percent text: 0.025 -> '2,5%'."""
    value = (share * 100).round(decimals)
    text = value.cast(pl.Int64).cast(pl.String) if decimals == 0 else value.cast(pl.String)
    return text.str.replace(".", ",", literal=True) + pl.lit("%")


def _pct_value(share: float) -> str:
    return f"{share * 100:g}".replace(".", ",") + "%"


def _band_lookup(config: LimitsConfig, pd: pl.Expr, values: list[object]) -> pl.Expr:
    """The per-band value for each pd (bands are sorted and cover [0, 1]); null without pd."""
    bands = config.bands
    out = pl.when(pd.is_null()).then(pl.lit(None))
    for band, value in zip(bands[:-1], values[:-1], strict=True):
        out = out.when(pd < band.pd_to).then(pl.lit(value))
    return out.otherwise(pl.lit(values[-1]))


def _round_towards(current: pl.Expr, target: pl.Expr, step: float) -> pl.Expr:
    """Target on the step grid, rounded towards the current limit; current if that crosses."""
    down = (target / step + _EPS).floor() * step
    up = (target / step - _EPS).ceil() * step
    return (
        pl.when((target > current) & (down > current))
        .then(down)
        .when((target < current) & (up < current))
        .then(up)
        .otherwise(current)
    )


def _stages(config: LimitsConfig) -> list[dict[str, pl.Expr]]:
    """The recommendation as successive column groups (each reads the previous ones)."""
    inc, dec, cap, bounds = config.increase, config.decrease, config.capacity, config.bounds
    c = pl.col
    band_names = [b.name for b in config.bands]
    inc_bounds = [min(b.max_increase, config.max_change.increase) for b in config.bands]
    dec_bounds = [min(b.max_decrease, config.max_change.decrease) for b in config.bands]
    dsti = cap.max_debt_service_to_income
    kind = c("kind").cast(pl.String)
    income = c("declared_income")
    bureau_ok = (
        pl.lit(True)
        if inc.min_bureau_score is None
        else c("bureau_score").is_null() | (c("bureau_score") >= inc.min_bureau_score)
    )
    balance = c("open_balance").fill_null(0.0).clip(lower_bound=0.0)
    external = (c("debt_to_income") - c("installment_to_income").fill_null(0.0)).clip(0.0)
    facts = {
        "_cur": c("credit_limit").cast(pl.Float64),
        "_band": _band_lookup(config, c("pd"), band_names).cast(pl.String),
        "_inc_bound": _band_lookup(config, c("pd"), inc_bounds).cast(pl.Float64),
        "_dec_bound": _band_lookup(config, c("pd"), dec_bounds).cast(pl.Float64),
        "_overdue": ((c("dpd_now") > 0) | (c("overdue_balance") > 0)).fill_null(True),
        "_clean": (c(f"dpd_worst_{inc.clean_window_days}") == 0).fill_null(False),
        "_bureau_ok": bureau_ok,
        "_income_ok": (income > 0).fill_null(False),
        "_debt_known": c("debt_to_income").is_not_null(),
        "_util": c("limit_utilisation"),
        "_need_inc": balance / inc.target_utilisation,
        "_need_dec": balance / dec.target_utilisation,
        "_capacity": (
            pl.when(kind == "PJ")
            .then(dsti.PJ)
            .when(kind == "PF")
            .then(dsti.PF)
            .otherwise(min(dsti.PF, dsti.PJ))
            - external
        )
        * income
        / cap.monthly_payment_share,
    }
    wants = {
        "_has_limit": c("_cur").is_not_null(),
        "_wants_inc": (c("_util") >= inc.min_utilisation).fill_null(False)
        & c("_band").is_not_null(),
        "_wants_dec": (
            (c("_dec_bound") > 0)
            & (c("_util") <= dec.max_utilisation)
            & (c("_need_dec") < c("_cur"))
        ).fill_null(False),
        "_inc_cap": c("_cur") * (1 + c("_inc_bound")),
        "_dec_floor": c("_cur") * (1 - c("_dec_bound")),
    }
    eligible = {
        "_inc_ok": c("_wants_inc")
        & ~c("_overdue")
        & c("_clean")
        & c("_bureau_ok")
        & c("_income_ok")
        & c("_debt_known")
        & (c("_inc_bound") > 0)
        & (c("_need_inc") > c("_cur")),
    }
    target = {
        "_target": pl.when(c("_inc_ok"))
        .then(
            pl.max_horizontal(
                pl.min_horizontal(c("_need_inc"), c("_inc_cap"), c("_capacity")), c("_cur")
            )
        )
        .when(c("_wants_dec"))
        .then(pl.min_horizontal(pl.max_horizontal(c("_need_dec"), c("_dec_floor")), c("_cur")))
        .otherwise(c("_cur")),
    }
    bounded = {
        "_bounded": pl.when(c("_overdue"))
        .then(pl.min_horizontal(c("_target").clip(bounds.floor, bounds.cap), c("_cur")))
        .otherwise(c("_target").clip(bounds.floor, bounds.cap)),
    }
    final = {"recommended_limit": _round_towards(c("_cur"), c("_bounded"), bounds.step)}
    texts = {
        "_util_txt": _pct(c("_util")),
        "_risk_txt": pl.lit("risco ") + c("_band") + pl.lit(" (PD ") + _pct(c("pd"), 1) + ")",
        "_inc_txt": _band_lookup(config, c("pd"), [_pct_value(v) for v in inc_bounds]),
        "_dec_txt": _band_lookup(config, c("pd"), [_pct_value(v) for v in dec_bounds]),
        "_dsti_txt": pl.when(kind == "PJ")
        .then(pl.lit(_pct_value(dsti.PJ) + " do faturamento"))
        .otherwise(pl.lit(_pct_value(dsti.PF) + " da renda")),
    }
    return [facts, wants, eligible, target, bounded, final, texts]


def _reasons(config: LimitsConfig) -> list[tuple[pl.Expr, str, pl.Expr]]:
    """(condition, code, Portuguese text) in priority order; the first four that hold show."""
    inc, bounds = config.increase, config.bounds
    c = pl.col
    rec, cur = c("recommended_limit"), c("_cur")
    up, down = rec > cur, rec < cur
    risk, util = c("_risk_txt"), c("_util_txt")
    blocked = c("_wants_inc") & ~c("_overdue")
    capacity_binds = (
        c("_inc_ok") & (c("_capacity") < c("_need_inc")) & (c("_capacity") < c("_inc_cap")) & ~down
    )
    inc_change_binds = (
        c("_inc_ok") & up & (c("_inc_cap") < c("_need_inc")) & (c("_inc_cap") <= c("_capacity"))
    )
    dec_change_binds = c("_wants_dec") & down & (c("_need_dec") < c("_dec_floor"))
    dsti_text = c("_dsti_txt")
    rules: list[tuple[pl.Expr, str, pl.Expr]] = [
        (~c("_has_limit"), "limit_missing", pl.lit("limite atual não informado: sem recomendação")),
        (c("_overdue"), "overdue_now", pl.lit("cliente em atraso hoje: sem aumento de limite")),
        (
            c("pd").is_null(),
            "pd_missing",
            pl.lit("probabilidade de inadimplência indisponível: sem ajuste pelo risco"),
        ),
        (
            c("_wants_dec") & down,
            "high_risk_band",
            risk + pl.lit(" e uso do limite de ") + util + pl.lit(": limite ocioso reduzido"),
        ),
        (
            c("_inc_ok") & up,
            "high_utilisation_good_payer",
            pl.lit("uso do limite de ")
            + util
            + pl.lit(f" e sem atrasos em {inc.clean_window_days} dias: aumento recomendado"),
        ),
        (
            blocked & ~(c("_inc_bound") > 0).fill_null(False),
            "band_no_increase",
            risk + pl.lit(": faixa sem aumento de limite"),
        ),
        (
            blocked & ~c("_clean"),
            "late_recently",
            pl.lit(f"atraso nos últimos {inc.clean_window_days} dias: sem aumento de limite"),
        ),
        (
            blocked & ~c("_bureau_ok"),
            "low_bureau_score",
            pl.lit(f"score de bureau abaixo de {inc.min_bureau_score}: sem aumento de limite"),
        ),
        (
            blocked & ~c("_income_ok"),
            "income_missing",
            pl.lit("renda não informada: sem aumento de limite"),
        ),
        (
            blocked & c("_income_ok") & ~c("_debt_known"),
            "debt_unknown",
            pl.lit("dívidas em outras instituições não informadas: sem aumento de limite"),
        ),
        (
            capacity_binds,
            "capacity_bound",
            pl.when(up)
            .then(pl.lit("aumento limitado pela renda: parcelas até ") + dsti_text)
            .otherwise(pl.lit("parcelas já no máximo de ") + dsti_text + pl.lit(": sem aumento")),
        ),
        (
            inc_change_binds,
            "max_change",
            pl.lit("aumento limitado a ") + c("_inc_txt") + pl.lit(" por revisão"),
        ),
        (
            dec_change_binds,
            "max_change",
            pl.lit("redução limitada a ") + c("_dec_txt") + pl.lit(" por revisão"),
        ),
        (
            (c("_target") < bounds.floor) & up,
            "floor",
            pl.lit(f"limite mínimo da política: {brl_text(bounds.floor)}"),
        ),
        (
            (c("_target") > bounds.cap) & (rec != cur),
            "cap",
            pl.lit(f"limite máximo da política: {brl_text(bounds.cap)}"),
        ),
        (
            ((c("_bounded") - cur).abs() >= _CENT) & (rec == cur),
            "below_step",
            pl.lit(f"ajuste menor que o passo de {brl_text(bounds.step)}: limite mantido"),
        ),
    ]
    conditions = [cond.fill_null(False) & (c("_has_limit") | (code == "limit_missing"))
                  for cond, code, _ in rules]  # fmt: skip
    rules = [(cond, code, text) for cond, (_, code, text) in zip(conditions, rules, strict=True)]
    fits = (
        pl.lit("uso do limite de ") + util + pl.lit(" e risco sem motivo para alteração")
    ).fill_null(pl.lit("sem uso do limite nem motivo para alteração"))
    rules.append((~pl.any_horizontal(conditions), "no_change", fits))
    return rules


def _first_that_hold(items: list[tuple[pl.Expr, pl.Expr]]) -> pl.Expr:
    """The values whose condition holds, in order, at most MAX_REASONS, as a list.

    Joined into one string and split again: many times faster than concat_list and
    drop_nulls at a million rows. At least one condition always holds.
    """
    joined = pl.concat_str(
        [pl.when(cond).then(value) for cond, value in items], separator=_SEP, ignore_nulls=True
    )
    return joined.str.split(_SEP).list.head(MAX_REASONS)


def recommend_limits(scored: pl.DataFrame | pl.LazyFrame, config: LimitsConfig) -> pl.DataFrame:
    """A recommended credit limit per customer with why, for analysts to accept or override.

    Input: one row per customer with `required_columns(config)`. Output, in input order:
    customer_id, current_limit, recommended_limit, change (BRL), change_pct (percent of
    the current limit, null when it is zero), decision ("increase", "decrease", "keep"),
    risk_band, limit_reasons (at most four Portuguese texts) and reason_codes (their
    English codes, same positions).
    """
    frame = scored.lazy()
    missing = [name for name in required_columns(config) if name not in frame.collect_schema()]
    if missing:
        raise KeyError(f"recommend_limits: missing input columns {missing}")
    for stage in _stages(config):
        frame = frame.with_columns(**stage)
    rules = _reasons(config)
    c = pl.col
    change = c("recommended_limit") - c("_cur")
    result = frame.with_columns(
        _first_that_hold([(cond, pl.lit(code)) for cond, code, _ in rules]).alias("reason_codes"),
        _first_that_hold([(cond, text) for cond, _, text in rules]).alias("limit_reasons"),
        change.alias("change"),
        pl.when(c("_cur") > 0).then((change / c("_cur") * 100).round(2)).alias("change_pct"),
        pl.when(change > 0)
        .then(pl.lit("increase"))
        .when(change < 0)
        .then(pl.lit("decrease"))
        .otherwise(pl.lit("keep"))
        .alias("decision"),
        c("_cur").alias("current_limit"),
        c("_band").alias("risk_band"),
        ((c("pd") < 0) | (c("pd") > 1)).fill_null(False).alias("_bad_pd"),
    ).collect()
    bad = result.filter(c("_bad_pd"))
    if bad.height:
        raise ValueError(
            f"recommend_limits: pd outside [0, 1] for {bad.height} customers, "
            f"first {bad['customer_id'][0]!r}"
        )
    return result.select(_OUTPUT)
