"""What a day's decisions add up to, and the night's summary table built from it."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from regua.config.drift import DriftConfig
from regua.contract import CHANNELS
from regua.dunning.actions import Decisions
from regua.dunning.summary import (
    SUMMARY_SCHEMA,
    ladder_workload,
    limit_changes,
    limit_reason_counts,
    night_summary,
    segment_sizes,
)
from regua.ingest.ingest import FileReport, IngestReport
from regua.ingest.read import IgnoredEntry
from regua.models.drift import DriftReport, psi_levels
from regua.models.scoring import Champion

AS_OF = date(2026, 10, 30)  # a Friday


@pytest.fixture
def actions() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["C", "C", "D", "E", "E", "A", "D"],
            "channel": ["sms", "sms", "phone", "email", "whatsapp", "phone", "agency"],
            "status": ["scheduled"] * 5 + ["skipped", "scheduled"],
            "scheduled_for": [
                datetime(2026, 10, 31, 9),
                datetime(2026, 10, 31, 14),
                datetime(2026, 11, 1, 8),
                datetime(2026, 11, 13, 10),  # the 14th day after as_of
                datetime(2026, 11, 14, 10),  # the 15th: outside the window
                None,
                datetime(2026, 10, 31, 8),
            ],
        }
    )


@pytest.fixture
def limits() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D"],
            "current_limit": [1000.0, 2000.0, 500.0, 800.0],
            "recommended_limit": [1000.0, 1500.0, 600.0, 400.0],
            "change": [0.0, -500.0, 100.0, -400.0],
            "change_pct": [0.0, -25.0, 20.0, -50.0],
            "decision": ["keep", "decrease", "increase", "decrease"],
            "risk_band": ["baixo", "alto", "muito baixo", "alto"],
            "reason_codes": [
                ["no_change"],
                ["high_risk_band", "max_change"],
                ["low_risk"],
                ["high_risk_band"],
            ],
        }
    )


def test_segment_sizes_riskiest_first(segments):
    sizes = segment_sizes(segments)
    assert sizes["segment"].to_list() == ["intensive", "self_cure"]
    assert sizes["customers"].to_list() == [3, 2]
    assert sizes["share"].to_list() == pytest.approx([0.6, 0.4])
    assert sizes["mean_pd"][0] == pytest.approx(0.7)
    assert sizes["mean_propensity"][0] == pytest.approx(0.3)


def test_ladder_workload_counts_scheduled_actions_per_day_and_channel(actions):
    workload = ladder_workload(actions, AS_OF, days=14)
    assert workload.columns == ["day", "weekday", *CHANNELS, "total"]
    assert workload.height == 14
    # a night schedules from the next day on
    assert workload["day"][0] == date(2026, 10, 31)
    assert workload["weekday"][:2].to_list() == ["sáb", "dom"]
    first = workload.row(0, named=True)
    assert (first["sms"], first["agency"], first["phone"], first["total"]) == (2, 1, 0, 3)
    assert workload.row(1, named=True)["phone"] == 1
    assert workload.row(13, named=True)["email"] == 1
    assert workload["total"].sum() == 5
    assert workload["whatsapp"].sum() == 0


def test_limit_changes_per_decision(limits):
    changes = limit_changes(limits)
    assert changes["decision"].to_list() == ["increase", "decrease", "keep"]
    decrease = changes.row(1, named=True)
    assert decrease["customers"] == 2 and decrease["share"] == 0.5
    assert decrease["current_total"] == 2800.0 and decrease["recommended_total"] == 1900.0
    assert decrease["change_total"] == -900.0 and decrease["mean_change_pct"] == -37.5


def test_limit_reason_counts_most_frequent_first(limits):
    counts = limit_reason_counts(limits)
    assert counts.row(0) == ("high_risk_band", 2)
    assert set(counts["reason_code"]) == {"high_risk_band", "max_change", "low_risk", "no_change"}


def _drift() -> DriftReport:
    config = DriftConfig(warn_above=0.1, breach_above=0.25)
    table = pl.DataFrame(
        {
            "column": ["pd", "propensity", "dpd_now", "utilisation"],
            "kind": ["score", "score", "feature", "feature"],
            "psi": [0.02, 0.12, 0.31, None],
        }
    ).with_columns(psi_levels(pl.col("psi"), config).alias("level"))
    return DriftReport(table, config)


def _ingest() -> IngestReport:
    def file(table: str, read: int, rejected: int) -> FileReport:
        return FileReport(table, f"{table}.csv", "0" * 64, "csv", read, read - rejected,
                          rejected, read - rejected, 0, 0, [], {})  # fmt: skip

    return IngestReport(
        "run", "raw", "store", "2026-10-31T02:00:00",
        files=[file("customers", 5, 0), file("invoices", 9, 2)],
        store_rows={"customers": 5, "invoices": 40},
        store_version="v2", changed=True,
        ignored=[IgnoredEntry("notes.txt", "matches ignore pattern '*.txt'")],
    )  # fmt: skip


def test_the_night_summary_lists_every_section_from_the_day_figures(segments, actions, limits):
    champions = [
        Champion("delinquency", "3", "run-d", None),  # type: ignore[arg-type]
        Champion("propensity_to_pay", "2", "run-p", None),  # type: ignore[arg-type]
    ]
    table = night_summary(
        Decisions(actions=actions, segments=segments, limits=limits),
        AS_OF,
        champions,
        drift=_drift(),
        ingest=_ingest(),
        outputs="out/2026-10-30",
        seconds_by_stage={"features": 2.5, "write": 0.25},
        features_cached=True,
    )
    assert table.schema == SUMMARY_SCHEMA
    rows = {(s, i): (v, d) for s, i, v, d in table.iter_rows()}
    assert table["section"].unique(maintain_order=True).to_list() == [
        "exports", "decisions", "segment", "workload", "limits", "limit reason", "model",
        "drift", "seconds",
    ]  # fmt: skip
    assert rows["exports", "store"] == (None, "version v2")
    assert rows["exports", "invoices"] == (7, "read 9, rejected 2; 40 in store")
    assert rows["exports", "file invoices.csv"] == (9, "read as invoices")
    assert rows["exports", "ignored notes.txt"] == (None, "matches ignore pattern '*.txt'")
    assert rows["decisions", "customers scored"] == (5, "")
    assert rows["decisions", "actions scheduled"] == (6, "")
    assert rows["decisions", "actions skipped"] == (1, "")
    assert rows["decisions", "features"] == (None, "reused from the cache")
    assert rows["decisions", "outputs"] == (None, "out/2026-10-30")
    assert rows["segment", "intensive"] == (
        3, "ladder hard; 60.0% of customers; mean PD 0.700, mean propensity 0.300"
    )  # fmt: skip
    assert rows["segment", "self_cure"] == (2, "ladder gentle; 40.0% of customers; mean PD 0.020")
    assert rows["workload", "2026-10-31 sáb"] == (3, "sms 2, agency 1")
    assert rows["workload", "2026-11-01 dom"] == (1, "phone 1")
    assert rows["workload", "2026-11-02 seg"] == (0, "")
    assert table.filter(pl.col("section") == "workload").height == 14
    assert rows["limits", "decrease"] == (
        2, "50.0% of customers; limits BRL 2,800.00 -> BRL 1,900.00"
    )  # fmt: skip
    assert rows["limit reason", "high_risk_band"] == (2, "")
    assert rows["model", "delinquency"] == (None, "version 3, run run-d")
    assert rows["drift", "thresholds"] == (
        None, "warn above 0.1, breach above 0.25; ok 1, warn 1, breach 1"
    )  # fmt: skip
    assert rows["drift", "dpd_now"] == (0.31, "feature, breach")
    assert rows["drift", "propensity"] == (0.12, "score, warn")
    assert rows["drift", "utilisation"] == (None, "feature, unknown")
    assert rows["seconds", "write"] == (0.25, "")


def test_a_night_stopped_before_its_outputs_says_so_and_a_missing_drift_is_named(
    segments, actions, limits
):
    table = night_summary(
        Decisions(actions=actions, segments=segments, limits=limits), AS_OF, [], drift=None
    )
    rows = {(s, i): (v, d) for s, i, v, d in table.iter_rows()}
    assert rows["decisions", "outputs"] == (None, "not written")
    assert rows["decisions", "features"] == (None, "built")
    assert rows["drift", "not measured"][1].endswith("retrain them")
    assert {"exports", "model", "seconds"}.isdisjoint(table["section"])
