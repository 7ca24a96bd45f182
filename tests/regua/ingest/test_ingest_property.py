"""Property: whatever cells a day's exports hold, `regua ingest` loses no row and poisons nothing.

Hypothesis starts from the valid portfolio, overwrites random cells of random tables with
hostile text (dates out of range or cut off, non-finite and huge numbers, separators that
do not fit the file's dialect, overpayments, empty required cells, unknown keys, bad
documents, text in numeric columns, very long and non-ASCII strings), sometimes writes
the batch in the pt_BR dialect, sometimes adds a file that matches no table, and runs
the real command line on a store that already holds a first valid batch. Whatever it
draws: no traceback, exit 0 or 2, rows read = stored + rejected per table, every stored
id of a line that was not rejected is in the store, the store byte for byte unchanged on
exit 2, and only finite numbers and dates within 1900..2100 in the store.
"""

from __future__ import annotations

import math
import re
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from regua.cli import app
from regua.contract import table
from regua.store import Store
from tests.conftest import portfolio, to_pt_br, write_exports

# Bounds every stored value obeys, written by hand from the issue (the contract's own
# per-column ranges are checked as well, below).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2100, 12, 31)
LARGEST_AMOUNT = 1e11

DATES = [
    "9999-01-01", "9999-12-31", "0001-01-01", "01/01/0001", "31/12/9999", "07/01/26",
    "06/10/202", "31/02/2026", "2026-02-31", "2026-13-01", "1899-12-31", "2101-01-01",
    "1990-05-02", "9999-01-01 10:00:00", "2026-09-11 25:00:00", "07/01/26 10:00",
    "2026-09-11T10:00:00",
]  # fmt: skip
NUMBERS = [
    "inf", "Infinity", "-inf", "-Infinity", "NaN", "nan", "1E+400", "-1E+400", "1e308",
    "-1e308", "1e12", "1000000001", "1,234.56", "1.234", "1.234,56", "1234,56", "1,234",
    "1234.56", "12.34", "-5", "0", "12abc", "R$ 1.900,00", "999999.99", "0x10", "1_000",
    "2147483648", "1e-400", "+", ".", ",",
]  # fmt: skip
KEYS = ["C999", "I999", "P999", "C1", "C2", "I1", "I4", "P1", "P3"]
DOCUMENTS = [
    "111.111.111-11", "529.982.247-24", "123", "00000000000", "11.222.333/0001-80",
    "abc", "529982247250",
]  # fmt: skip
WORDS = [
    "PF ", "PX", "ZZ", "bitcoin", "PIX", "CREDIT_CARD", "maybe", "yes", "S", "2",
    "no_answer", "fax",
]  # fmt: skip
ANYWHERE = [
    "", "   ", "abc", "x" * 5000, "São João do Piauí", "Ñandú çé", "東京 🚀", "\u200b",
    '"quoted"', "a,b", "a;b", "line\nbreak", "=1+1", "NULL", "None", "-",
]  # fmt: skip
"""Hostile text for any column (the pt_BR file is Latin-1: what it cannot hold is left out)."""
ISSUE_CASES = [
    ("invoices", "due_at", "9999-01-01"), ("invoices", "issued_at", "0001-01-01"),
    ("invoices", "due_at", "07/01/26"), ("payments", "paid_at", "06/10/202"),
    ("invoices", "due_at", "31/02/2026"), ("contacts", "at", "9999-01-01 10:00:00"),
    ("macro", "month", "0001-01-01"), ("invoices", "amount", "inf"),
    ("invoices", "amount", "Infinity"), ("payments", "amount", "1E+400"),
    ("payments", "amount", "1e308"), ("customers", "credit_limit", "inf"),
    ("customers", "credit_limit", "1e12"), ("customers", "declared_income", "NaN"),
    ("macro", "value", "-inf"), ("invoices", "amount", "1,234.56"),
    ("invoices", "amount", "1.234"), ("customers", "declared_income", "1234.56"),
    ("payments", "amount", "999999.99"), ("customers", "document", "111.111.111-11"),
    ("customers", "document", "529.982.247-24"), ("payments", "invoice_id", "I999"),
    ("invoices", "customer_id", "C999"), ("contacts", "customer_id", "C999"),
    ("invoices", "amount", ""), ("payments", "paid_at", ""), ("customers", "customer_id", ""),
    ("invoices", "invoice_id", "I1"), ("invoices", "amount", "abc"),
    ("customers", "city", "x" * 5000), ("customers", "city", "東京 🚀"),
]  # fmt: skip
"""The cases the issue names, each a (table, column, text) drawn as such half of the time."""

STRAY_FILE = "notes.txt"
TOTALS = re.compile(r"^(\w+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)$", re.MULTILINE)
ID_KEYS = {"customers": "customer_id", "invoices": "invoice_id", "payments": "payment_id"}


def hostile_pool(name: str, column: str) -> list[str]:
    """The hostile texts that fit the kind of `column` (its contract type, or its role)."""
    if column == "document":
        return DOCUMENTS
    if column.endswith("_id") and column != "step_id":
        return KEYS
    dtype = next((c.dtype for c in table(name).columns if c.name == column), pl.String())
    if dtype.is_temporal():
        return DATES
    if dtype.is_numeric():
        return NUMBERS
    return WORDS


def latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


@st.composite
def batches(draw: st.DrawFn) -> dict:
    """A day's exports: tables of the valid portfolio with hostile cells, and how to ingest."""
    locale = draw(st.sampled_from(["en", "pt_BR"]))
    valid = portfolio()
    names = draw(st.sets(st.sampled_from(sorted(valid)), min_size=1))
    frames = {n: to_pt_br(valid[n]) if locale == "pt_BR" else valid[n] for n in sorted(names)}
    cells = []
    for _ in range(draw(st.integers(0, 6))):
        cases = [c for c in ISSUE_CASES if c[0] in frames and (locale == "en" or latin1(c[2]))]
        if draw(st.booleans()):
            name, column, value = draw(st.sampled_from(cases))
        else:
            name = draw(st.sampled_from(sorted(frames)))
            column = draw(st.sampled_from(frames[name].columns))
            pool = draw(st.sampled_from([hostile_pool(name, column), ANYWHERE]))
            value = draw(st.sampled_from([v for v in pool if locale == "en" or latin1(v)]))
        frame = frames[name]
        row = draw(st.integers(0, frame.height - 1))
        frames[name] = frame.with_columns(
            pl.when(pl.int_range(pl.len()) == row)
            .then(pl.lit(value))
            .otherwise(pl.col(column))
            .alias(column)
        )
        cells.append((name, column, row, value))
    return {
        "locale": locale,
        "tables": frames,
        "cells": cells,
        "suffix": draw(st.sampled_from(["", " março 2026", "_2026-10-01"])),
        "stray": draw(st.sampled_from([None, None, None, "stopping", "ignored"])),
        "max_reject_share": draw(st.sampled_from([None, "1", "1"])),
    }


def write_batch(folder: Path, batch: dict) -> Path:
    """The batch's files as the CSV a company would send, cells verbatim."""
    if batch["locale"] == "en":
        write_exports(folder, batch["tables"], suffix=batch["suffix"])
    else:  # already in pt_BR text: written as is, so "1.234" stays "1.234"
        folder.mkdir(parents=True)
        for name, frame in batch["tables"].items():
            path = folder / f"{name}{batch['suffix']}.csv"
            path.write_bytes(frame.write_csv(separator=";").encode("latin-1"))
    if batch["stray"]:
        (folder / STRAY_FILE).write_text("not an export\n")
    return folder


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of a store, by path (its lock file aside)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def totals_of(summary: str) -> dict[str, tuple[int, int, int]]:
    """(read, stored, rejected) per table, from the summary table the command prints."""
    return {
        m[1]: tuple(int(m[i].replace(",", "")) for i in (2, 3, 4))
        for m in TOTALS.finditer(summary)
        if m[1] != "table"
    }


def assert_store_is_sound(store: Store) -> None:
    """Only finite, plausible numbers and dates within 1900..2100 (and each column's rule)."""
    for name, rows in store.row_counts().items():
        frame = store.read(name)
        assert frame.height == rows
        for column in table(name).columns:
            values = frame[column.name].drop_nulls()
            if values.is_empty():
                continue
            if values.dtype.is_float():
                assert values.is_finite().all(), (name, column.name, values.to_list())
                assert values.abs().max() <= LARGEST_AMOUNT, (name, column.name)
            if values.dtype.is_temporal():
                days = values.cast(pl.Date) if values.dtype != pl.Date() else values
                assert days.min() >= FIRST_DAY and days.max() <= LAST_DAY, (name, column.name)
                assert days.min() >= date.fromisoformat(column.min_date), (name, column.name)
                assert days.max() <= date.fromisoformat(column.max_date), (name, column.name)
            if column.min_value is not None:
                assert values.min() >= column.min_value, (name, column.name)
            if column.max_value is not None:
                assert values.max() <= column.max_value, (name, column.name)


def ingest(raw: Path, store: Path, *options: str) -> Result:
    """`regua ingest` in this process, without Data Docs."""
    return CliRunner().invoke(
        app, ["ingest", "--raw", str(raw), "--store", str(store), "--no-docs", *options]
    )


def test_any_batch_ends_in_store_or_rejects_and_never_poisons_the_store(tmp_path):
    first = ingest(write_exports(tmp_path / "day1", portfolio()), tmp_path / "first")
    assert first.exit_code == 0, first.output
    runs = iter(range(10**6))

    @settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(batch=batches())
    def check(batch: dict) -> None:
        work = tmp_path / f"run{next(runs)}"
        store_dir = work / "store"
        shutil.copytree(tmp_path / "first", store_dir)
        raw = write_batch(work / "raw", batch)
        before = snapshot(store_dir)
        options = ["--ignore", STRAY_FILE] if batch["stray"] == "ignored" else []
        if batch["max_reject_share"]:
            options += ["--max-reject-share", batch["max_reject_share"]]

        result = ingest(raw, store_dir, *options)

        assert "Traceback" not in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(
            result.exception
        )
        assert result.exit_code in (0, 2), result.output
        store = Store(store_dir)
        if batch["stray"] == "stopping":
            assert result.exit_code == 2
        if result.exit_code == 2:
            assert result.stderr.strip().splitlines()[-1].startswith(("ingest failed", "error"))
            assert snapshot(store_dir) == before
        else:
            totals = totals_of(result.stdout)
            assert set(totals) == set(batch["tables"])
            for name, frame in batch["tables"].items():
                read, stored, rejected = totals[name]
                assert read == frame.height, name  # no line lost by the reader
                assert read == stored + rejected, name
                rejects = store.rejects(name)
                assert rejects.height == rejected, name  # the first batch had none
                assert f"read {name}{batch['suffix']}.csv as {name}" in result.stdout
                if name in ID_KEYS:
                    kept = sorted(set(range(2, frame.height + 2)) - set(rejects["source_line"]))
                    ids = frame[ID_KEYS[name]].str.strip_chars().gather([n - 2 for n in kept])
                    assert set(ids) <= set(store.read(name)[ID_KEYS[name]]), name
            if batch["stray"] == "ignored":
                assert f"ignored {STRAY_FILE}" in result.stdout
            manifest = store.manifest() or {}
            if store.version != Store(tmp_path / "first").version:
                assert {
                    k: (v["read"], v["stored"], v["rejected"])
                    for k, v in manifest["tables"].items()
                } == {name: totals[name] for name in batch["tables"]}
        assert_store_is_sound(store)
        shutil.rmtree(work)

    check()


def test_the_property_s_soundness_check_catches_a_poisoned_store(tmp_path):
    """The store check above fails on an infinite amount or a year 9999 date."""
    store = Store(tmp_path / "store")
    first = ingest(write_exports(tmp_path / "raw", portfolio()), tmp_path / "store")
    assert first.exit_code == 0, first.output
    invoices = store.read("invoices")
    for poison in (
        pl.col("amount").replace(120.35, math.inf),
        pl.col("due_at").replace(date(2026, 8, 10), date(9999, 1, 1)),
    ):
        store.commit({"invoices": invoices.with_columns(poison)}, {}, {"kind": "test"})
        with pytest.raises(AssertionError):
            assert_store_is_sound(store)
