"""The learned policy's choices: only treatments the guardrails allow, an exploration share
as configured with its propensities, and a phone work list cut at capacity."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.dunning.actions import ladder_steps, load_dunning_config
from regua.dunning.policy import (
    POLICY_EXPERIMENT,
    allowed_treatments,
    apply_choices,
    choose_treatments,
    phone_worklist,
)

CONFIG = load_dunning_config()
STEPS = ladder_steps(CONFIG.ladders)
TREATMENTS = tuple(sorted(CONFIG.ladders.ladders))
FLAGS = ("do_not_contact", "opt_out_email", "opt_out_sms", "opt_out_whatsapp", "opt_out_phone")
NOT_CONTACTS = {"negative_listing", "suspension", "delisting", "negative_listing_notice"}


def _forbidden(flags: dict[str, bool]) -> set[str]:
    """Ladders a customer with these flags must not be given, read off ladders.yaml's steps:
    any ordinary contact on a refused channel (every contact when do_not_contact)."""
    out = set()
    for ladder, definition in CONFIG.ladders.ladders.items():
        for step in definition.steps:
            if step.purpose in NOT_CONTACTS or step.channel == "bureau":
                continue
            if flags["do_not_contact"] or flags.get(f"opt_out_{step.channel}", False):
                out.add(ladder)
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(*(st.booleans() for _ in FLAGS)), min_size=1, max_size=30),
    st.randoms(use_true_random=False),
    st.sampled_from([0.0, 0.1, 0.5, 1.0]),
)
def test_the_policy_never_proposes_a_treatment_a_guardrail_forbids(flag_rows, rng, share):
    customers = pl.DataFrame(
        [
            dict(zip(FLAGS, row, strict=True)) | {"customer_id": f"c{i}"}
            for i, row in enumerate(flag_rows)
        ]
    )
    cases = customers.select(
        "customer_id", pl.format("{}-20261101", "customer_id").alias("case_id")
    )
    values = cases.join(pl.DataFrame({"treatment": list(TREATMENTS)}), how="cross").with_columns(
        pl.Series(
            "expected_net", [rng.uniform(-50, 500) for _ in range(cases.height * len(TREATMENTS))]
        )
    )
    allowed = allowed_treatments(cases, customers, STEPS, TREATMENTS, CONFIG.guardrails)
    chosen = choose_treatments(values.drop("customer_id"), allowed, share, "test")
    by_case = {
        f"c{i}-20261101": dict(zip(FLAGS, row, strict=True)) for i, row in enumerate(flag_rows)
    }
    for row in chosen.iter_rows(named=True):
        assert row["treatment"] not in _forbidden(by_case[row["case_id"]])
    # a case with something allowed always gets a choice; one with nothing allowed none
    expected_cases = {c for c, f in by_case.items() if set(TREATMENTS) - _forbidden(f)}
    assert set(chosen["case_id"]) == expected_cases


def test_a_phone_opt_out_rules_out_every_ladder_that_calls():
    customers = pl.DataFrame({"customer_id": ["a", "b"], "opt_out_phone": [True, False]})
    cases = pl.DataFrame({"customer_id": ["a", "b"], "case_id": ["a-1", "b-1"]})
    allowed = allowed_treatments(cases, customers, STEPS, TREATMENTS, CONFIG.guardrails)
    assert set(allowed.filter(pl.col("case_id") == "a-1")["treatment"]) == {"digital"}
    assert set(allowed.filter(pl.col("case_id") == "b-1")["treatment"]) == set(TREATMENTS)


@settings(max_examples=15, deadline=None)
@given(st.sampled_from([0.05, 0.1, 0.3, 0.6]), st.integers(0, 10_000))
def test_the_exploration_share_is_met_and_the_rest_is_greedy(share, salt):
    n, k = 4000, 4
    arms = [f"t{j}" for j in range(k)]
    values = pl.DataFrame(
        {
            "case_id": [f"case-{i}" for i in range(n) for _ in arms],
            "treatment": arms * n,
            "expected_net": [float((i * 7 + j * 13) % 11) for i in range(n) for j in range(k)],
        }
    )
    allowed = values.select("case_id", "treatment")
    chosen = choose_treatments(values, allowed, share, f"salt-{salt}")
    assert chosen.height == n
    explored = chosen["explored"].mean()
    tolerance = 4 * (share * (1 - share) / n) ** 0.5
    assert abs(explored - share) < tolerance
    best = (
        values.sort("expected_net", "treatment", descending=[True, False])
        .group_by("case_id", maintain_order=True)
        .first()
    )
    greedy = chosen.filter(~pl.col("explored")).join(best, on="case_id", suffix="_best")
    assert (greedy["treatment"] == greedy["treatment_best"]).all()
    # explorers spread evenly over the k arms
    spread = chosen.filter(pl.col("explored"))["treatment"].value_counts()["count"]
    assert spread.min() > 0.5 * chosen["explored"].sum() / k
    # the logged propensity: share/k, plus 1 - share for the greedy treatment
    expected = [
        share / k + (1 - share) * (t == g)
        for t, g in zip(chosen["treatment"], chosen["greedy"], strict=True)
    ]
    assert chosen["propensity"].to_list() == expected


def test_a_case_keeps_its_draw_across_nights():
    values = pl.DataFrame(
        {"case_id": ["x"] * 3 + ["y"] * 3, "treatment": ["a", "b", "c"] * 2,
         "expected_net": [1.0, 2.0, 3.0, 3.0, 2.0, 1.0]}
    )  # fmt: skip
    allowed = values.select("case_id", "treatment")
    first = choose_treatments(values, allowed, 0.5, "s")
    again = choose_treatments(values.reverse(), allowed, 0.5, "s")
    assert first.equals(again)


def test_choices_replace_the_segments_ladder():
    segments = pl.DataFrame(
        {"customer_id": ["a", "b"], "case_id": ["a-1", None], "ladder_id": ["standard", "gentle"],
         "experiment_id": [None, None], "cell": [None, None]},
        schema_overrides={"experiment_id": pl.String, "cell": pl.String},
    )  # fmt: skip
    choices = pl.DataFrame({"case_id": ["a-1"], "treatment": ["intensive"]})
    out = apply_choices(segments, choices)
    assert out["ladder_id"].to_list() == ["intensive", "gentle"]
    assert out["experiment_id"].to_list() == [POLICY_EXPERIMENT, None]
    assert out["cell"].to_list() == ["intensive", None]


def test_the_worklist_orders_calls_by_value_per_call_and_stops_at_capacity():
    n = 12
    day = datetime(2026, 11, 2, 9)
    actions = pl.DataFrame(
        {
            "action_id": [f"act-{i}" for i in range(n)],
            "customer_id": [f"c{i}" for i in range(n)],
            "case_id": [f"c{i}-1" for i in range(n)],
            "ladder_id": ["intensive", "recovery", "standard"] * 4,
            "step_id": ["s"] * n,
            "channel": ["phone"] * (n - 2) + ["sms", "phone"],
            "status": ["scheduled"] * (n - 1) + ["skipped"],
            "purpose": ["reminder", "negotiation_offer"] * 6,
            "scheduled_for": [day] * n,
            "open_amount": [100.0 * (i + 1) for i in range(n)],
            "days_overdue": list(range(n)),
            "pd": [0.1] * n,
        }
    )
    # intensive and recovery call twice in their ladders, standard once
    nets = [90.0, 200.0, 70.0, 10.0, 300.0, 20.0, 50.0, 60.0, 45.0, 80.0, 5.0, 999.0]
    valued = [i for i in range(n) if i != 2]
    choices = pl.DataFrame(
        {
            "case_id": [f"c{i}-1" for i in valued],
            "expected_net": [nets[i] for i in valued],
            "explored": [i % 5 == 0 for i in valued],
        }
    )
    calls = phone_worklist(actions, choices, STEPS, capacity=6)
    assert calls.height == 6
    assert calls["rank"].to_list() == [1, 2, 3, 4, 5, 6]
    # values per call by hand (ladders cycle intensive, recovery, standard; c2 has no
    # value, c10 is an SMS, c11 skipped); a tie goes to the older debt (c8 before c0)
    by_hand = {0: 45.0, 1: 100.0, 3: 5.0, 4: 150.0, 5: 20.0, 6: 25.0, 7: 30.0, 8: 45.0, 9: 40.0}
    top = sorted(by_hand.items(), key=lambda kv: (-kv[1], -kv[0]))[:6]
    assert calls["customer_id"].to_list() == [f"c{i}" for i, _ in top]
    assert calls["value_per_call"].to_list() == [v for _, v in top]
    assert calls["reason_pt"].str.contains("valor líquido esperado por ligação R\\$ ").all()
    assert calls["reason_pt"].str.contains("dias de atraso").all()
    # the skipped and the SMS rows never appear; a call without a value comes last
    wide = phone_worklist(actions, choices, STEPS, capacity=100)
    assert wide.height == n - 2
    assert wide["customer_id"][-1] == "c2"
    assert "fora da política aprendida" in wide["reason_pt"][-1]
    assert phone_worklist(actions, choices, STEPS, capacity=0).is_empty()
