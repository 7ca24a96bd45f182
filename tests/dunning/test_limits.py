"""Credit-limit recommendations: hand-computed archetypes, config validation and properties."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from regua.config import ConfigError
from regua.config.limits import LimitsConfig, load_limits
from regua.dunning.limits import recommend_limits, required_columns

BAND_KEYS = ("name", "pd_from", "pd_to", "max_increase", "max_decrease")
POLICY: dict[str, object] = {
    "bands": [
        dict(zip(BAND_KEYS, band, strict=True))
        for band in [
            ("muito baixo", 0.0, 0.02, 0.5, 0),
            ("baixo", 0.02, 0.05, 0.3, 0),
            ("médio", 0.05, 0.1, 0.15, 0),
            ("alto", 0.1, 0.25, 0, 0.25),
            ("muito alto", 0.25, 1.0, 0, 0.5),
        ]
    ],
    "increase": {
        "min_utilisation": 0.7,
        "target_utilisation": 0.5,
        "clean_window_days": 180,
        "min_bureau_score": 300,
    },
    "decrease": {"max_utilisation": 0.5, "target_utilisation": 0.8},
    "capacity": {
        "max_debt_service_to_income": {"PF": 0.3, "PJ": 0.2},
        "monthly_payment_share": 0.1,
    },
    "bounds": {"floor": 200, "cap": 50000, "step": 50},
    "max_change": {"increase": 0.5, "decrease": 0.5},
}
CONFIG = LimitsConfig.model_validate(POLICY)

# A good payer: PF, income 5,000, 10% of it billed here and 5% owed elsewhere, so the
# capacity limit is (0.30 - 0.05) * 5,000 / 0.10 = 12,500.
GOOD = {
    "pd": 0.01,
    "kind": "PF",
    "credit_limit": 2000.0,
    "limit_utilisation": 0.9,
    "open_balance": 1800.0,
    "overdue_balance": 0.0,
    "dpd_now": 0,
    "dpd_worst_180": 0,
    "declared_income": 5000.0,
    "installment_to_income": 0.10,
    "debt_to_income": 0.15,
    "bureau_score": 700,
}
SCHEMA = {
    "customer_id": pl.String,
    "pd": pl.Float64,
    "kind": pl.Enum(["PF", "PJ"]),
    "credit_limit": pl.Float64,
    "limit_utilisation": pl.Float64,
    "open_balance": pl.Float64,
    "overdue_balance": pl.Float64,
    "dpd_now": pl.Int32,
    "dpd_worst_180": pl.Int32,
    "declared_income": pl.Float64,
    "installment_to_income": pl.Float64,
    "debt_to_income": pl.Float64,
    "bureau_score": pl.Int32,
}

# customer_id: (changes to GOOD, recommended limit, reason codes), each worked out by hand.
ARCHETYPES: dict[str, tuple[dict[str, object], float | None, list[str]]] = {
    # need 1,800 / 0.5 = 3,600; band +30% -> 2,600; capacity 12,500 does not bind.
    "good_max_change": ({"pd": 0.03}, 2600.0, ["high_utilisation_good_payer", "max_change"]),
    # need 18,000; +50% -> 15,000; capacity (0.25 * 4,990 / 0.1 = 12,475) binds; rounds down.
    "good_capacity": (
        {"credit_limit": 10000.0, "open_balance": 9000.0, "declared_income": 4990.0},
        12450.0,
        ["high_utilisation_good_payer", "capacity_bound"],
    ),
    # everything favours an increase, but an invoice is 3 days late: never an increase.
    "overdue": ({"dpd_now": 3, "overdue_balance": 100.0}, 2000.0, ["overdue_now"]),
    # overdue by balance only, with a limit under the floor: not even the floor lifts it.
    "overdue_below_floor": (
        {"overdue_balance": 50.0, "credit_limit": 100.0, "open_balance": 90.0},
        100.0,
        ["overdue_now"],
    ),
    # high risk, 10% used: unused limit cut, at most 25% in band "alto" -> 7,500.
    "high_pd_low_use": (
        {"pd": 0.15, "credit_limit": 10000.0, "limit_utilisation": 0.1, "open_balance": 1000.0},
        7500.0,
        ["high_risk_band", "max_change"],
    ),
    # very high risk, 45% used: cut to 900 / 0.8 = 1,125, rounded up to 1,150 (-50% allowed).
    "very_high_pd": (
        {"pd": 0.4, "limit_utilisation": 0.45, "open_balance": 900.0},
        1150.0,
        ["high_risk_band"],
    ),
    # high risk but the limit is used: no cut, and the band allows no increase.
    "high_pd_high_use": ({"pd": 0.15}, 2000.0, ["band_no_increase"]),
    "floor": (
        {"pd": 0.03, "credit_limit": 100.0, "limit_utilisation": 0.1, "open_balance": 10.0},
        200.0,
        ["floor"],
    ),
    "cap_decrease": (
        {"credit_limit": 60000.0, "limit_utilisation": 0.2, "open_balance": 12000.0},
        50000.0,
        ["cap"],
    ),
    # need 76,000; +50% -> 60,000; capacity 0.2 * 50,000 / 0.1 = 100,000; cap 50,000.
    "cap_increase": (
        {
            "credit_limit": 40000.0,
            "limit_utilisation": 0.95,
            "open_balance": 38000.0,
            "declared_income": 50000.0,
            "debt_to_income": 0.2,
        },
        50000.0,
        ["high_utilisation_good_payer", "max_change", "cap"],
    ),
    "no_income": (
        {"declared_income": None, "installment_to_income": None, "debt_to_income": None},
        2000.0,
        ["income_missing"],
    ),
    "no_external_debts": ({"debt_to_income": None}, 2000.0, ["debt_unknown"]),
    "late_recently": ({"dpd_worst_180": 12}, 2000.0, ["late_recently"]),
    "low_bureau": ({"bureau_score": 250}, 2000.0, ["low_bureau_score"]),
    # no bureau score does not block: same as the good payer (+50% bound: 3,000).
    "no_bureau": ({"bureau_score": None}, 3000.0, ["high_utilisation_good_payer", "max_change"]),
    # PJ: 20% of revenue less 10% owed elsewhere -> 0.1 * 10,000 / 0.1 = 10,000 <= limit.
    "pj_no_room": (
        {
            "kind": "PJ",
            "credit_limit": 10000.0,
            "open_balance": 9000.0,
            "declared_income": 10000.0,
            "installment_to_income": 0.05,
            "debt_to_income": 0.15,
        },
        10000.0,
        ["capacity_bound"],
    ),
    "no_pd": ({"pd": None}, 2000.0, ["pd_missing"]),
    "no_limit": ({"credit_limit": None, "limit_utilisation": None}, None, ["limit_missing"]),
    "low_use": ({"limit_utilisation": 0.2, "open_balance": 400.0}, 2000.0, ["no_change"]),
    # need 2,090 / 0.5 = 4,180 -> +50% = 3,075 -> rounds down to 3,050.
    "rounding": (
        {"credit_limit": 2050.0, "open_balance": 2090.0, "limit_utilisation": 1.02},
        3050.0,
        ["high_utilisation_good_payer", "max_change"],
    ),
}


def frame(rows: dict[str, dict[str, object]]) -> pl.DataFrame:
    """Scored rows: GOOD with each customer's changes."""
    return pl.DataFrame(
        [{"customer_id": cid, **GOOD, **changes} for cid, changes in rows.items()],
        schema=SCHEMA,
    )


def test_archetypes_match_hand_computed_limits() -> None:
    scored = frame({cid: changes for cid, (changes, _, _) in ARCHETYPES.items()})
    out = recommend_limits(scored, CONFIG)
    current = scored["credit_limit"]
    recommended = pl.Series([limit for _, limit, _ in ARCHETYPES.values()], dtype=pl.Float64)
    change = recommended - current
    expected = pl.DataFrame(
        {
            "customer_id": list(ARCHETYPES),
            "current_limit": current,
            "recommended_limit": recommended,
            "change": change,
            "change_pct": (change / current * 100).round(2),
            "decision": [
                None if c is None else "increase" if c > 0 else "decrease" if c < 0 else "keep"
                for c in change
            ],
        }
    ).with_columns(pl.col("decision").fill_null("keep"))
    assert_frame_equal(out.select(expected.columns), expected)
    assert dict(zip(out["customer_id"], out["reason_codes"].to_list(), strict=True)) == {
        cid: codes for cid, (_, _, codes) in ARCHETYPES.items()
    }
    lengths = out.select(
        pl.col("limit_reasons").list.len().alias("n"), pl.col("reason_codes").list.len().alias("m")
    )
    assert lengths["n"].to_list() == lengths["m"].to_list()


def test_reason_texts_are_portuguese_and_specific() -> None:
    scored = frame(
        {
            cid: ARCHETYPES[cid][0]
            for cid in ("good_capacity", "high_pd_low_use", "no_income", "floor", "pj_no_room")
        }
    )
    out = recommend_limits(scored, CONFIG)
    reasons = dict(zip(out["customer_id"], out["limit_reasons"], strict=True))
    assert reasons["good_capacity"].to_list() == [
        "uso do limite de 90% e sem atrasos em 180 dias: aumento recomendado",
        "aumento limitado pela renda: parcelas até 30% da renda",
    ]
    assert reasons["high_pd_low_use"].to_list() == [
        "risco alto (PD 15,0%) e uso do limite de 10%: limite ocioso reduzido",
        "redução limitada a 25% por revisão",
    ]
    assert reasons["no_income"].to_list() == ["renda não informada: sem aumento de limite"]
    assert reasons["floor"].to_list() == ["limite mínimo da política: R$ 200"]
    assert reasons["pj_no_room"].to_list() == [
        "parcelas já no máximo de 20% do faturamento: sem aumento"
    ]


def test_overdue_customer_never_gets_an_increase_whatever_else() -> None:
    best = {"pd": 0.0, "limit_utilisation": 1.0, "open_balance": 2000.0, "declared_income": 1e6}
    scored = frame(
        {
            "late": {**best, "dpd_now": 40, "overdue_balance": 900.0},
            "balance_only": {**best, "overdue_balance": 0.01},
            "unknown": {**best, "dpd_now": None, "overdue_balance": None},
        }
    )
    out = recommend_limits(scored, CONFIG)
    assert out["decision"].to_list() == ["keep", "keep", "keep"]
    assert all(codes[0] == "overdue_now" for codes in out["reason_codes"])


def test_at_most_four_reasons() -> None:
    changes = {"pd": 0.5, "dpd_worst_180": 30, "bureau_score": 10, "declared_income": None}
    out = recommend_limits(frame({"many": changes}), CONFIG)
    # band_no_increase, late_recently, low_bureau_score, income_missing (debt_unknown dropped)
    assert out["reason_codes"].to_list() == [
        ["band_no_increase", "late_recently", "low_bureau_score", "income_missing"]
    ]


def test_lazy_input_and_missing_columns() -> None:
    scored = frame({"a": {}, "b": {"pd": 0.3}})
    assert_frame_equal(recommend_limits(scored.lazy(), CONFIG), recommend_limits(scored, CONFIG))
    with pytest.raises(KeyError, match="debt_to_income"):
        recommend_limits(scored.drop("debt_to_income"), CONFIG)
    with pytest.raises(ValueError, match="pd outside"):
        recommend_limits(frame({"bad": {"pd": 1.5}}), CONFIG)


def test_required_columns_are_build_features() -> None:
    from regua.features.catalog import CATALOG

    names = {f.name for f in CATALOG}
    assert set(required_columns(CONFIG)) - names == {"customer_id", "pd"}


def test_shipped_config_loads_and_covers_zero_to_one() -> None:
    config = load_limits()
    assert config.bands[0].pd_from == 0 and config.bands[-1].pd_to == 1
    assert config == CONFIG


def write(tmp_path: Path, changes: dict[str, object]) -> Path:
    """POLICY with `changes` merged one level deep, written as YAML."""
    policy = {k: (dict(v) if isinstance(v, dict) else v) for k, v in POLICY.items()}
    for key, value in changes.items():
        if isinstance(value, dict):
            policy[key] = {**policy[key], **value}  # type: ignore[dict-item]
        else:
            policy[key] = value
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return path


def bands(*edges: tuple[float, float]) -> list[dict[str, object]]:
    return [
        {"name": f"b{i}", "pd_from": lo, "pd_to": hi, "max_increase": 0.1, "max_decrease": 0.1}
        for i, (lo, hi) in enumerate(edges)
    ]


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"bands": bands((0, 0.1), (0.05, 1))}, "bands", "overlaps"),
        ({"bands": bands((0, 0.1), (0.2, 1))}, "bands", "gap"),
        ({"bands": bands((0.01, 1))}, "bands", "starts at 0.01"),
        ({"bands": bands((0, 0.5))}, "bands", "ends at 0.5"),
        ({"bands": bands((0, 0.5), (0.5, 0.5), (0.5, 1))}, "bands.1", "pd_to"),
        ({"bounds": {"floor": 60000}}, "bounds", "floor (60000) is above cap (50000)"),
        ({"bounds": {"floor": -100}}, "bounds.floor", "greater than or equal to 0"),
        ({"bounds": {"floor": 210}}, "bounds", "not a multiple of step"),
        ({"bounds": {"step": 0}}, "bounds.step", "greater than 0"),
        ({"max_change": {"increase": -0.1}}, "max_change.increase", "greater than or equal"),
        ({"capacity": {"monthly_payment_share": -1}}, "capacity.monthly_payment_share", "greater"),
        ({"increase": {"target_utilisation": 0.9}}, "increase", "must be below"),
        ({"increase": {"clean_window_days": 120}}, "increase.clean_window_days", "180"),
        ({"unknown_rule": 1}, "unknown_rule", "Extra inputs"),
    ],
)
def test_bad_config_names_file_and_key(
    tmp_path: Path, changes: dict[str, object], key: str, words: str
) -> None:
    path = write(tmp_path, changes)
    with pytest.raises(ConfigError) as error:
        load_limits(path)
    message = str(error.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert words in message


def test_negative_band_change_rejected(tmp_path: Path) -> None:
    edges = bands((0, 1))
    edges[0]["max_increase"] = -0.2
    with pytest.raises(ConfigError, match=r"limits\.yaml: bands\.0\.max_increase: "):
        load_limits(write(tmp_path, {"bands": edges}))


money = st.one_of(st.none(), st.floats(0, 200_000, allow_nan=False))
share = st.one_of(st.none(), st.floats(0, 2, allow_nan=False))
customer = st.fixed_dictionaries(
    {
        "pd": st.one_of(st.none(), st.floats(0, 1)),
        "kind": st.sampled_from(["PF", "PJ", None]),
        "credit_limit": st.one_of(
            st.floats(0, 120_000, allow_nan=False),
            st.integers(0, 2400).map(lambda k: k * 50.0),
        ),
        "limit_utilisation": share,
        "open_balance": money,
        "overdue_balance": st.one_of(st.none(), st.just(0.0), st.floats(0, 10_000)),
        "dpd_now": st.one_of(st.none(), st.just(0), st.integers(0, 400)),
        "dpd_worst_180": st.one_of(st.none(), st.just(0), st.integers(0, 400)),
        "declared_income": money,
        "installment_to_income": share,
        "debt_to_income": share,
        "bureau_score": st.one_of(st.none(), st.integers(0, 1000)),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(customer, min_size=1, max_size=40))
def test_properties_hold_for_random_customers(rows: list[dict[str, object]]) -> None:
    scored = pl.DataFrame(
        [{"customer_id": f"c{i:03d}", **row} for i, row in enumerate(rows)], schema=SCHEMA
    )
    out = recommend_limits(scored, CONFIG)
    assert_frame_equal(out, recommend_limits(scored, CONFIG))
    assert out["customer_id"].to_list() == scored["customer_id"].to_list()
    floor, cap, step = CONFIG.bounds.floor, CONFIG.bounds.cap, CONFIG.bounds.step
    for row, rec in zip(rows, out.iter_rows(named=True), strict=True):
        current, new = row["credit_limit"], rec["recommended_limit"]
        assert isinstance(current, float) and isinstance(new, float)
        overdue = (row["dpd_now"] or 0) > 0 or (row["overdue_balance"] or 0) > 0
        overdue = overdue or row["dpd_now"] is None or row["overdue_balance"] is None
        if new == current:
            assert rec["decision"] == "keep"
            # a limit stays off the grid or below the floor only if nothing moved it
            assert floor <= current <= cap or (overdue and current < floor)
        else:
            assert math.isclose(new / step, round(new / step), abs_tol=1e-9)
            assert floor <= new <= cap
        if overdue:
            assert new <= current
        if new not in (floor, cap) and current > 0:
            band = next(
                b for b in CONFIG.bands if row["pd"] is None or row["pd"] < b.pd_to or b.pd_to == 1
            )
            up = min(band.max_increase, CONFIG.max_change.increase)
            down = min(band.max_decrease, CONFIG.max_change.decrease)
            assert current * (1 - down) - 1e-6 <= new <= current * (1 + up) + 1e-6
            assert (
                abs(new - current) / current
                <= max(CONFIG.max_change.increase, CONFIG.max_change.decrease) + 1e-9
            )
        assert 1 <= len(rec["limit_reasons"]) <= 4
        assert len(rec["reason_codes"]) == len(rec["limit_reasons"])
