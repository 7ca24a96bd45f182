"""`regua evidence`: one customer's decisions with the rules they passed, and the contacts."""

from __future__ import annotations

import json
import re
from datetime import date

import polars as pl
from typer.testing import CliRunner

from regua.cli import app

AS_OF = date(2026, 10, 30)


def evidence(store, out, customer: str):
    return CliRunner().invoke(
        app,
        ["evidence", "--customer", customer, "--store", str(store / "store"), "--out", str(out)],
    )


def test_a_customers_history_lists_each_decision_with_its_evidence(store, scored):
    actions = pl.read_parquet(scored / AS_OF.isoformat() / "actions.parquet")
    row = actions.filter(pl.col("status") == "scheduled").sort("customer_id").row(0, named=True)
    result = evidence(store, scored, row["customer_id"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert f"customer {row['customer_id']}" in text
    assert row["action_id"] in text
    if row["case_id"] is not None:
        assert f"case {row['case_id']}" in text
    assert f"night {AS_OF}: scheduled {row['step_id']}" in text
    for key, value in json.loads(row["evidence"]).items():
        if value not in (None, [], "") and not isinstance(value, list):
            assert f"{key}={value}" in text
    # no CPF or CNPJ in clear, formatted or not
    assert not re.search(r"\d{3}\.\d{3}\.\d{3}-\d{2}|\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}", text)
    customers = pl.read_parquet(next((store / "raw").glob("customers.*")))
    for document in customers.filter(pl.col("customer_id") == row["customer_id"])["document"]:
        assert document not in text and re.sub(r"\D", "", document) not in text


def test_an_unknown_customer_is_one_line_and_exit_2(store, scored):
    result = evidence(store, scored, "NOBODY")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: customer NOBODY: no decision in {scored} and no contact in {store / 'store'}"
    ]


def test_no_nights_yet_is_one_line_and_exit_2(store, tmp_path):
    result = evidence(store, tmp_path, "C0000001")
    assert result.exit_code == 2
    assert "no night's actions.parquet to read" in result.output
