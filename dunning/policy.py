"""The learned ladder policy's decisions: which treatment each new case gets, and the calls.

Pure functions over frames (the model's predictions come in as a frame):

- `allowed_treatments`: the treatments (ladders) the guardrails allow a case. A ladder is
  refused for a customer who must not be contacted (`do_not_contact`), and for one who
  opted out of a channel on which the ladder has an ordinary collection contact (a legal
  listing notice aside while `legal_notices_ignore_opt_outs` holds, and never a bureau
  action): the guardrails would skip those steps, so the ladder would not be what the model
  valued. A case with no allowed treatment is left to its segment's ladder (which the
  guardrails then trim), and the policy records it as such.
- `choose_treatments`: per case, the allowed treatment of highest expected net value;
  `exploration_share` of cases instead draw uniformly among their allowed treatments. One
  uniform draw per case, MD5("<salt>|<case_id>") as for experiments (stable across nights):
  below the share the case explores, and the draw rescaled picks the treatment. The
  propensity of the treatment given, share/k + (1 - share) when it is the greedy one
  (share/k otherwise), is logged so an off-policy estimate can judge a later policy.
- `apply_choices`: the night's segments with each chosen case's ladder replaced, and
  `experiment_id` "learned-policy", `cell` the treatment (the readout reads them as cells).
- `phone_worklist`: the next day's scheduled calls, ordered by expected net value per call
  (the case's expected net over the calls its ladder makes), cut at the day's capacity,
  with the reasons an agent reads before calling (Portuguese).
"""

from __future__ import annotations

import polars as pl

from regua.config.guardrails import GuardrailsConfig
from regua.dunning.experiments import assignment_draws
from regua.dunning.guardrails import BUREAU, NON_CONTACT, NOTICE, OPT_OUTS

POLICY_EXPERIMENT = "learned-policy"
CHOICE_SCHEMA = pl.Schema(
    {
        "case_id": pl.String(),
        "treatment": pl.String(),
        "expected_net": pl.Float64(),
        "greedy": pl.String(),
        "explored": pl.Boolean(),
        "propensity": pl.Float64(),
        "allowed": pl.Int64(),
    }
)


def _ordinary_contacts(steps: pl.DataFrame, guardrails: GuardrailsConfig) -> pl.DataFrame:
    """(ladder_id, channel) of every step the opt-outs would skip."""
    ordinary = ~pl.col("purpose").is_in(NON_CONTACT) & (pl.col("channel") != BUREAU)
    if guardrails.legal_notices_ignore_opt_outs:
        ordinary &= pl.col("purpose") != NOTICE
    return steps.filter(ordinary).select("ladder_id", "channel").unique()


def allowed_treatments(
    cases: pl.DataFrame,
    customers: pl.DataFrame,
    steps: pl.DataFrame,
    treatments: tuple[str, ...],
    guardrails: GuardrailsConfig,
) -> pl.DataFrame:
    """case_id, treatment: each treatment the guardrails allow each case (see module).

    `cases` holds case_id and customer_id; `customers` the customers export (its opt-out
    columns, when present); `steps` is `ladder_steps`' frame."""
    flags = [c for c in ("do_not_contact", *OPT_OUTS.values()) if c in customers.columns]
    people = cases.select("case_id", "customer_id").join(
        customers.select("customer_id", *flags), on="customer_id", how="left"
    )
    pairs = people.join(pl.DataFrame({"treatment": list(treatments)}), how="cross")
    contacts = _ordinary_contacts(steps, guardrails).filter(pl.col("ladder_id").is_in(treatments))
    refused = pl.lit(False)
    for channel, column in OPT_OUTS.items():
        if column in flags:
            uses = contacts.filter(pl.col("channel") == channel)["ladder_id"].implode()
            refused = refused | (pl.col(column).fill_null(False) & pl.col("treatment").is_in(uses))
    if "do_not_contact" in flags:
        has_contacts = pl.col("treatment").is_in(contacts["ladder_id"].unique().implode())
        refused = refused | (pl.col("do_not_contact").fill_null(False) & has_contacts)
    return pairs.filter(~refused).select("case_id", "treatment").sort("case_id", "treatment")


def choose_treatments(
    values: pl.DataFrame, allowed: pl.DataFrame, exploration_share: float, salt: str
) -> pl.DataFrame:
    """Per case with an allowed treatment: the one given, its expected net, the greedy
    choice, whether the case explored and the treatment's propensity (see module).

    `values` holds case_id, treatment, expected_net (`models.policy.LadderPolicy.predict`)."""
    candidates = values.join(allowed, on=["case_id", "treatment"], how="semi")
    if candidates.is_empty():
        return pl.DataFrame(schema=CHOICE_SCHEMA)
    draws = assignment_draws(candidates["case_id"], salt).rename({"unit": "case_id"})
    ranked = (
        candidates.sort("case_id", "treatment")
        .with_columns(
            pl.int_range(pl.len()).over("case_id").alias("_index"),
            pl.len().over("case_id").cast(pl.Int64).alias("allowed"),
            pl.col("treatment")
            .sort_by(pl.col("expected_net"), descending=True)
            .first()
            .over("case_id")
            .alias("greedy"),
        )
        .join(draws, on="case_id", how="left")
    )
    share = float(exploration_share)
    explored = pl.col("draw") < share
    pick = (
        (pl.col("draw") / share * pl.col("allowed")).floor().cast(pl.Int64)
        if share > 0
        else pl.lit(0, pl.Int64)
    )
    given = (
        pl.when(explored)
        .then(pick == pl.col("_index"))
        .otherwise(pl.col("treatment") == pl.col("greedy"))
    )
    return (
        ranked.with_columns(explored.alias("explored"))
        .filter(given)
        .with_columns(
            (
                share / pl.col("allowed")
                + pl.when(pl.col("treatment") == pl.col("greedy")).then(1 - share).otherwise(0.0)
            ).alias("propensity")
        )
        .select(CHOICE_SCHEMA.names())
        .cast(dict(CHOICE_SCHEMA))
        .sort("case_id")
    )


def apply_choices(segments: pl.DataFrame, choices: pl.DataFrame) -> pl.DataFrame:
    """`segments` (with case_id, `assign_cells`') with each chosen case's ladder the
    chosen treatment, experiment_id "learned-policy" and cell the treatment."""
    chosen = choices.select("case_id", pl.col("treatment").alias("_treatment"))
    frame = segments.join(chosen, on="case_id", how="left")
    mine = pl.col("_treatment").is_not_null()
    return frame.with_columns(
        pl.when(mine).then("_treatment").otherwise("ladder_id").alias("ladder_id"),
        pl.when(mine).then(pl.lit(POLICY_EXPERIMENT)).otherwise("experiment_id")
        .alias("experiment_id"),
        pl.when(mine).then("_treatment").otherwise("cell").alias("cell"),
    ).select(segments.columns)  # fmt: skip


WORKLIST_SCHEMA = pl.Schema(
    {
        "rank": pl.Int64(),
        "action_id": pl.String(),
        "customer_id": pl.String(),
        "case_id": pl.String(),
        "ladder_id": pl.String(),
        "step_id": pl.String(),
        "scheduled_for": pl.Datetime("us"),
        "expected_net": pl.Float64(),
        "calls_in_ladder": pl.Int64(),
        "value_per_call": pl.Float64(),
        "reason_pt": pl.String(),
    }
)


def _brl(column: str) -> pl.Expr:
    """A money column as 'R$ 1234,56' (Portuguese decimal comma)."""
    return pl.format("R$ {}", pl.col(column).round(2).cast(pl.String).str.replace(r"\.", ","))


def phone_worklist(
    actions: pl.DataFrame, choices: pl.DataFrame, steps: pl.DataFrame, capacity: int
) -> pl.DataFrame:
    """The calls to make: `actions`' scheduled phone rows, most valuable per call first,
    at most `capacity` of them (see module). Calls of cases the policy did not choose
    for (no expected value) come after every valued call, oldest debt first."""
    calls = actions.filter((pl.col("status") == "scheduled") & (pl.col("channel") == "phone"))
    per_ladder = (
        steps.filter(pl.col("channel") == "phone")
        .group_by("ladder_id")
        .agg(pl.len().cast(pl.Int64).alias("calls_in_ladder"))
    )
    valued = (
        calls.join(choices.select("case_id", "expected_net", "explored"), on="case_id", how="left")
        .join(per_ladder, on="ladder_id", how="left")
        .with_columns(
            (pl.col("expected_net") / pl.col("calls_in_ladder").clip(1)).alias("value_per_call")
        )
        .sort(
            ["value_per_call", "days_overdue", "action_id"],
            descending=[True, True, False],
            nulls_last=True,
        )
        .head(capacity)
        .with_row_index("rank", offset=1)
    )
    purpose = (
        pl.when(pl.col("purpose") == "negotiation_offer")
        .then(pl.lit("oferecer negociação"))
        .otherwise(pl.lit("lembrar do vencimento"))
    )
    why = (
        pl.when(pl.col("expected_net").is_null())
        .then(pl.lit("fora da política aprendida (régua do segmento)"))
        .when(pl.col("explored").fill_null(False))
        .then(pl.format("régua {} sorteada para aprendizado", "ladder_id"))
        .otherwise(pl.format("régua {} escolhida pelo maior valor líquido esperado", "ladder_id"))
    )
    reason = pl.concat_str(
        [
            pl.format("Ligação {} de {}: {}", "rank", pl.lit(capacity), purpose),
            pl.format("valor em aberto {}, {} dias de atraso", _brl("open_amount"),
                      pl.col("days_overdue").fill_null(0)),
            pl.when(pl.col("value_per_call").is_not_null()).then(
                pl.format("valor líquido esperado por ligação {}", _brl("value_per_call"))
            ),
            pl.when(pl.col("pd").is_not_null()).then(
                pl.format("risco {}%", (pl.col("pd") * 100).round(0).cast(pl.Int64))
            ),
            why,
        ],
        separator="; ",
        ignore_nulls=True,
    )  # fmt: skip
    return (
        valued.with_columns(
            pl.col("rank").cast(pl.Int64), pl.col("scheduled_for").cast(pl.Datetime("us")),
            reason.alias("reason_pt"),
        )
        .select(WORKLIST_SCHEMA.names())
        .cast(dict(WORKLIST_SCHEMA))
    )  # fmt: skip
