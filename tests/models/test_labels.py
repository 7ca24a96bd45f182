"""Labels computed by hand on a few invoices and payments."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from regua.config import ConfigError, LabelsConfig, load_labels, load_yaml_model
from regua.models.labels import check_label_table, delinquency_labels, propensity_labels

CONFIG = LabelsConfig()
AS_OF = date(2026, 3, 31)


def tables() -> dict[str, pl.DataFrame]:
    customers = pl.DataFrame(
        {
            "customer_id": ["good", "late_later", "late_now", "paid_late", "new"],
            "opened_at": [date(2025, 1, 1)] * 4 + [date(2026, 4, 15)],
        }
    )
    invoices = pl.DataFrame(
        {
            "invoice_id": ["g1", "l1", "n1", "p1", "p2"],
            "customer_id": ["good", "late_later", "late_now", "paid_late", "paid_late"],
            "issued_at": [date(2026, 3, 1), date(2026, 4, 1), date(2026, 1, 1),
                          date(2026, 3, 1), date(2026, 3, 1)],
            "due_at": [date(2026, 3, 10), date(2026, 4, 10), date(2026, 1, 10),
                       date(2026, 3, 10), date(2026, 3, 20)],
            "amount": [100.0, 100.0, 100.0, 100.0, 50.0],
        }
    )  # fmt: skip
    payments = pl.DataFrame(
        {
            "invoice_id": ["g1", "l1", "p1", "p1", "p2"],
            "paid_at": [date(2026, 3, 9), date(2026, 7, 1), date(2026, 4, 5),
                        date(2026, 5, 5), date(2026, 3, 19)],
            "amount": [100.0, 100.0, 60.0, 40.0, 50.0],
        }
    )  # fmt: skip
    return {"customers": customers, "invoices": invoices, "payments": payments}


def test_delinquency_marks_who_reaches_60_days_late_and_leaves_out_who_already_is():
    labels = delinquency_labels(tables(), [AS_OF], date(2026, 10, 31), CONFIG)
    expected = pl.DataFrame(
        {
            "customer_id": ["good", "late_later", "paid_late"],
            "as_of": [AS_OF] * 3,
            "label": [0, 1, 0],
        },
        schema={"customer_id": pl.String, "as_of": pl.Date, "label": pl.Int8},
    )
    # late_now is 60+ on 2026-03-11 and still open at as_of: out of the population;
    # new opened after as_of; late_later's l1 is unpaid on 2026-06-09 (due + 60).
    assert_frame_equal(labels, expected)


def test_snapshots_whose_horizon_is_not_observed_get_no_label():
    assert delinquency_labels(tables(), [AS_OF], date(2026, 9, 1), CONFIG).height == 0
    assert propensity_labels(tables(), [AS_OF], date(2026, 4, 29), CONFIG).height == 0


def test_propensity_labels_only_the_overdue_and_judges_the_share_paid_in_30_days():
    labels = propensity_labels(tables(), [AS_OF], date(2026, 10, 31), CONFIG)
    # late_now owes 100 and pays nothing; paid_late owes 100 on p1, pays 60 by 04-30 (40 later):
    # 60% < 90%. good and late_later have nothing overdue at as_of.
    assert labels.select("customer_id", "label").rows() == [("late_now", 0), ("paid_late", 0)]
    generous = LabelsConfig(propensity_to_pay={"min_share_paid": 0.5, "horizon_days": 30})
    labels = propensity_labels(tables(), [AS_OF], date(2026, 10, 31), generous)
    assert labels.select("customer_id", "label").rows() == [("late_now", 0), ("paid_late", 1)]


def test_several_as_of_dates_in_one_call_equal_single_calls():
    dates = [date(2026, 1, 31), date(2026, 2, 28), AS_OF]
    together = delinquency_labels(tables(), dates, date(2026, 10, 31), CONFIG)
    apart = pl.concat(
        [delinquency_labels(tables(), [d], date(2026, 10, 31), CONFIG) for d in dates]
    )
    assert_frame_equal(together, apart)


def test_own_label_tables_are_checked():
    own = pl.DataFrame({"customer_id": ["a", "b"], "as_of": [AS_OF, AS_OF], "label": [1, 0]})
    assert check_label_table(own).schema["label"] == pl.Int8
    with pytest.raises(ValueError, match="only 0 and 1"):
        check_label_table(own.with_columns(pl.lit(2).alias("label")))
    with pytest.raises(ValueError, match="unique"):
        check_label_table(pl.concat([own, own]))
    with pytest.raises(ValueError, match="missing"):
        check_label_table(own.drop("as_of"))


def test_label_config_file_loads_and_a_bad_key_is_named(tmp_path):
    assert load_labels().delinquency.min_days_past_due == 60
    bad = tmp_path / "labels.yaml"
    bad.write_text("delinquency:\n  horizon_days: -5\n")
    with pytest.raises(ConfigError, match=r"labels.yaml: delinquency.horizon_days"):
        load_yaml_model(bad, LabelsConfig)
    bad.write_text("delinquency:\n  horizon: 90\n")
    with pytest.raises(ConfigError, match=r"delinquency.horizon"):
        load_yaml_model(bad, LabelsConfig)


def test_labels_for_customer_day_pairs_judge_each_pair_on_its_own_day():
    # training spreads customers over the days of a month: each pair has its own as_of
    pairs = pl.DataFrame(
        {
            "customer_id": ["good", "late_later", "late_now", "new"],
            "as_of": [date(2026, 3, 5), date(2026, 4, 20), date(2026, 1, 15), date(2026, 4, 20)],
        }
    )
    labels = delinquency_labels(tables(), pairs, date(2026, 10, 31), CONFIG)
    # good is 0; late_later's l1 (due 04-10) is 60 days late on 06-09, after 04-20: 1;
    # late_now on 01-15 is 5 days late, in the population, and 60 days late on 03-11: 1;
    # new opened on 04-15 and is labelled on 04-20 (no invoice): 0
    assert labels.rows() == [
        ("late_now", date(2026, 1, 15), 1),
        ("good", date(2026, 3, 5), 0),
        ("late_later", date(2026, 4, 20), 1),
        ("new", date(2026, 4, 20), 0),
    ]
    # a pair whose 180-day horizon is not yet observed gets no label
    late = delinquency_labels(tables(), pairs, date(2026, 9, 1), CONFIG)
    assert late["customer_id"].to_list() == ["late_now", "good"]
    overdue = propensity_labels(tables(), pairs, date(2026, 10, 31), CONFIG)
    # on 01-15 late_now owes n1, never paid: 0; on 04-20 late_later's l1 is 10 days overdue
    # and paid on 07-01, beyond the 30-day horizon: 0
    assert overdue.rows() == [
        ("late_now", date(2026, 1, 15), 0),
        ("late_later", date(2026, 4, 20), 0),
    ]
