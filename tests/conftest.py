"""Shared fixtures: a tiny valid portfolio written by the tests themselves."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import polars as pl
import pytest

TEST_DOCUMENT_KEY = "test-key-not-a-secret-0123456789abcdef"
"""The document key of the test session (keys need at least 32 bytes)."""
os.environ.setdefault("REGUA_DOCUMENT_KEY", TEST_DOCUMENT_KEY)
# MLflow artifacts of test runs stay out of the repository's data/ folder, and go with the run.
if "REGUA_MLFLOW_ARTIFACT_DIR" not in os.environ:
    _artifacts = tempfile.mkdtemp(prefix="regua-mlartifacts-")
    os.environ["REGUA_MLFLOW_ARTIFACT_DIR"] = _artifacts
    atexit.register(shutil.rmtree, _artifacts, ignore_errors=True)

# Prefect's database, results and cache of test runs live in a throwaway home.
if "PREFECT_HOME" not in os.environ:
    _prefect_home = tempfile.mkdtemp(prefix="regua-prefect-")
    os.environ["PREFECT_HOME"] = _prefect_home
    atexit.register(shutil.rmtree, _prefect_home, ignore_errors=True)

VALID_CPF = "529.982.247-25"
VALID_CPF_2 = "39053344705"
VALID_CNPJ = "11.222.333/0001-81"


def portfolio() -> dict[str, pl.DataFrame]:
    """A small, entirely valid set of exports (all values as text, like a CSV export)."""
    customers = pl.DataFrame(
        {
            "customer_id": ["C1", "C2", "C3"],
            "kind": ["PF", "PF", "PJ"],
            "document": [VALID_CPF, VALID_CPF_2, VALID_CNPJ],
            "state": ["SP", "BA", "RJ"],
            "city": ["São Paulo", "Salvador", "Niterói"],
            "opened_at": ["2020-01-05", "2021-06-30", "2018-11-11"],
            "declared_income": ["4500.50", "2100", "85000"],
            "credit_limit": ["3000", "1200", "40000"],
            "bureau_score": ["640", "", "720"],
            "do_not_contact": ["false", "false", "true"],
        }
    )
    invoices = pl.DataFrame(
        {
            "invoice_id": ["I1", "I2", "I3", "I4"],
            "customer_id": ["C1", "C1", "C2", "C3"],
            "issued_at": ["2026-08-01", "2026-09-01", "2026-09-03", "2026-09-05"],
            "due_at": ["2026-08-10", "2026-09-10", "2026-09-15", "2026-09-20"],
            "amount": ["120.35", "99.9", "450", "12000.5"],
            "product": ["credit_card", "credit_card", "personal_loan", "working_capital"],
            "installment_no": ["1", "1", "2", "1"],
            "installments_total": ["1", "1", "6", "1"],
        }
    )
    payments = pl.DataFrame(
        {
            "payment_id": ["P1", "P2", "P3"],
            "invoice_id": ["I1", "I2", "I3"],
            "customer_id": ["C1", "C1", "C2"],
            "paid_at": ["2026-08-09", "2026-09-20", "2026-09-15"],
            "amount": ["120.35", "50", "450"],
            "method": ["pix", "boleto", "card"],
        }
    )
    contacts = pl.DataFrame(
        {
            "customer_id": ["C1", "C1"],
            "invoice_id": ["I2", "I2"],
            "at": ["2026-09-11 10:00:00", "2026-09-13 15:30:00"],
            "channel": ["sms", "phone"],
            "step_id": ["sms_d1", "call_d3"],
            "outcome": ["delivered", "promise"],
            "promise_date": ["", "2026-09-20"],
            "promise_amount": ["", "50"],
        }
    )
    macro = pl.DataFrame(
        {
            "month": ["2026-08-01", "2026-09-01", "2026-09-01"],
            "indicator": ["unemployment", "unemployment", "selic"],
            "value": ["6.5", "6.7", "10.75"],
            "region": ["BR", "BR", "BR"],
        }
    )
    return {
        "customers": customers,
        "invoices": invoices,
        "payments": payments,
        "contacts": contacts,
        "macro": macro,
    }


def to_pt_br(frame: pl.DataFrame) -> pl.DataFrame:
    """Rewrite ISO dates as dd/mm/yyyy, decimal points as commas and booleans as S/N."""
    out = []
    for name in frame.columns:
        col = pl.col(name)
        out.append(
            pl.when(col.str.contains(r"^\d{4}-\d{2}-\d{2}"))
            .then(
                col.str.slice(8, 2)
                + "/"
                + col.str.slice(5, 2)
                + "/"
                + col.str.slice(0, 4)
                + col.str.slice(10)
            )
            .when(col.str.contains(r"^-?\d+\.\d+$"))
            .then(col.str.replace(".", ",", literal=True))
            .when(col == "true")
            .then(pl.lit("S"))
            .when(col == "false")
            .then(pl.lit("N"))
            .otherwise(col)
            .alias(name)
        )
    return frame.select(out)


def write_exports(
    folder: Path,
    tables: dict[str, pl.DataFrame],
    *,
    locale: str = "en",
    suffix: str = "",
) -> Path:
    """Write each table as `<table><suffix>.csv` in the given dialect; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        path = folder / f"{name}{suffix}.csv"
        if locale == "pt_BR":
            text = to_pt_br(frame).write_csv(separator=";")
            path.write_bytes(text.encode("latin-1"))
        else:
            frame.write_csv(path)
    return folder


@pytest.fixture
def valid_exports() -> dict[str, pl.DataFrame]:
    """A fresh copy of the valid portfolio."""
    return portfolio()


@pytest.fixture
def segments() -> pl.DataFrame:
    """Five scored customers of a day's segments output (two segments, some propensity)."""
    return pl.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D", "E"],
            "segment": ["self_cure", "self_cure", "intensive", "intensive", "intensive"],
            "ladder_id": ["gentle", "gentle", "hard", "hard", "hard"],
            "pd": [0.01, 0.03, 0.5, 0.7, 0.9],
            "propensity": [None, None, 0.2, 0.4, None],
        }
    )
