"""Files that must not go missing, and document keys that must not change unnoticed or leak.

Every entry of the raw folder is read or named as ignored (an unknown file stops the
batch); the store records which key hashed its documents and refuses another one until
`regua rotate-key` re-hashes it; a Latin-1 customers file is decoded without a clear-text
copy on disk, even when the process is killed mid-read.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from regua.cli import app
from regua.documents import format_cpf, generate_cpfs
from regua.ingest import IngestError, discover_exports, ingest_exports
from regua.ingest.read import IgnoredEntry
from regua.ingest.rotate import rotate_document_key
from regua.settings import Settings, get_settings
from regua.store import Store
from tests.conftest import VALID_CPF_2, write_exports

KEY_A = "key-a-for-tests-not-a-secret-0123456789"
KEY_B = "key-b-for-tests-not-a-secret-9876543210"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _fresh_settings():
    """Settings cached by a CLI test under a test's key do not outlive the test."""
    yield
    get_settings.cache_clear()


def ingest(raw: Path, store: Path, key: str = KEY_A, **options: object):
    return ingest_exports(
        raw, store, settings=Settings(document_key=key), build_docs=False, **options
    )


def hmac_hex(key: str, text: str) -> str:
    """The reference HMAC-SHA256, straight from the standard library."""
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --- files that go missing ---------------------------------------------------------------


def test_a_space_dash_underscore_or_dot_after_the_table_name_is_read(tmp_path):
    for name in ("invoices março 2026.csv", "customers_2026-10-31.csv", "payments-day.parquet",
                 "contacts.2026.CSV", "macro.csv"):  # fmt: skip
        (tmp_path / name).write_text("x")
    found = discover_exports(tmp_path)
    assert [(f.table, f.path.name) for f in found.exports] == [
        ("customers", "customers_2026-10-31.csv"),
        ("invoices", "invoices março 2026.csv"),
        ("payments", "payments-day.parquet"),
        ("contacts", "contacts.2026.CSV"),
        ("macro", "macro.csv"),
    ]
    assert found.ignored == []


def test_hidden_entries_and_the_simulator_truth_are_ignored_and_named(tmp_path):
    (tmp_path / "customers.csv").write_text("x")
    (tmp_path / ".DS_Store").write_text("x")
    (tmp_path / ".~lock.invoices.csv#").write_text("x")
    (tmp_path / "truth").mkdir()
    found = discover_exports(tmp_path)
    assert [f.path.name for f in found.exports] == ["customers.csv"]
    assert found.ignored == [
        IgnoredEntry(".DS_Store", "hidden"),
        IgnoredEntry(".~lock.invoices.csv#", "hidden"),
        IgnoredEntry("truth/", "the simulator's ground truth, not an export"),
    ]


@pytest.mark.parametrize(
    ("name", "folder"),
    [
        ("notes.txt", False),
        ("invoice.csv", False),  # singular: no such table
        ("invoicesmarço.csv", False),  # no separator after the table name
        ("payments.csv.gz", False),
        ("payments", True),  # a folder of parts is not read
    ],
)
def test_an_entry_that_matches_no_table_stops_the_batch_naming_it(tmp_path, name, folder):
    (tmp_path / "customers.csv").write_text("x")
    (tmp_path / name).mkdir() if folder else (tmp_path / name).write_text("x")
    with pytest.raises(IngestError) as caught:
        discover_exports(tmp_path)
    error = caught.value
    assert error.rule == "unknown_file"
    assert error.file == str(tmp_path / name)
    assert f"--ignore '{name}'" in str(error) and "ignore_files" in str(error)
    assert "\n" not in str(error)


def test_every_unknown_entry_is_named_in_the_one_line(tmp_path):
    for name in ("a.txt", "b.txt", "c.xlsx"):
        (tmp_path / name).write_text("x")
    with pytest.raises(IngestError) as caught:
        discover_exports(tmp_path)
    assert caught.value.file == str(tmp_path / "a.txt")
    assert "(also matching no table: 'b.txt', 'c.xlsx')" in str(caught.value)


def test_ignore_patterns_leave_entries_unread_even_an_export(tmp_path):
    for name in ("customers.csv", "customers_old.csv", "notes.txt", "README.md"):
        (tmp_path / name).write_text("x")
    found = discover_exports(tmp_path, ["*.txt", "customers_old*", "README*"])
    assert [f.path.name for f in found.exports] == ["customers.csv"]
    assert found.ignored == [
        IgnoredEntry("README.md", "matches ignore pattern 'README*'"),
        IgnoredEntry("customers_old.csv", "matches ignore pattern 'customers_old*'"),
        IgnoredEntry("notes.txt", "matches ignore pattern '*.txt'"),
    ]


def test_the_day_s_invoices_with_a_space_in_the_name_reach_the_store(tmp_path, valid_exports):
    raw = write_exports(tmp_path / "raw", valid_exports)
    (raw / "invoices.csv").rename(raw / "invoices março 2026.csv")
    (raw / "notes.txt").write_text("call the bank")
    (raw / ".DS_Store").write_bytes(b"\0")
    store = tmp_path / "store"

    with pytest.raises(IngestError) as caught:
        ingest(raw, store)
    assert caught.value.rule == "unknown_file"
    assert not store.exists()  # nothing written

    report = ingest(raw, store, ignore=["notes.txt"])
    assert Store(store).read("invoices")["invoice_id"].to_list() == ["I1", "I2", "I3", "I4"]
    text = report.to_text()
    for line in (
        "read customers.csv as customers: 3 rows",
        "read invoices março 2026.csv as invoices: 4 rows",
        "read payments.csv as payments: 3 rows",
        "read contacts.csv as contacts: 2 rows",
        "read macro.csv as macro: 3 rows",
        "ignored .DS_Store: hidden",
        "ignored notes.txt: matches ignore pattern 'notes.txt'",
    ):
        assert line in text.splitlines(), line
    manifest = Store(store).manifest()
    assert manifest["ignored"] == [
        {"name": ".DS_Store", "reason": "hidden"},
        {"name": "notes.txt", "reason": "matches ignore pattern 'notes.txt'"},
    ]


def test_the_ignore_files_setting_and_the_option_add_up(tmp_path, valid_exports):
    raw = write_exports(tmp_path / "raw", valid_exports)
    (raw / "notes.txt").write_text("x")
    (raw / "backup").mkdir()
    settings = Settings(document_key=KEY_A, ignore_files=["*.txt"])
    with pytest.raises(IngestError, match="backup"):
        ingest_exports(raw, tmp_path / "store", settings=settings, build_docs=False)
    report = ingest_exports(
        raw, tmp_path / "store", settings=settings, build_docs=False, ignore=["backup"]
    )
    assert [e.name for e in report.ignored] == ["backup/", "notes.txt"]


def test_cli_ingest_takes_repeated_ignore_options(tmp_path, valid_exports, monkeypatch):
    monkeypatch.setenv("REGUA_DOCUMENT_KEY", KEY_A)
    get_settings.cache_clear()
    raw = write_exports(tmp_path / "raw", valid_exports)
    (raw / "notes.txt").write_text("x")
    (raw / "extract.log").write_text("x")
    store = str(tmp_path / "store")
    runner = CliRunner()
    args = ["ingest", "--raw", str(raw), "--store", store, "--no-docs"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert "extract.log" in refused.output and "unknown_file" in refused.output
    done = runner.invoke(app, [*args, "--ignore", "*.txt", "--ignore", "*.log"])
    assert done.exit_code == 0, done.output
    assert "ignored extract.log: matches ignore pattern '*.log'" in done.output
    assert "read invoices.csv as invoices: 4 rows" in done.output


# --- document keys ---------------------------------------------------------------------


def test_the_store_records_the_key_fingerprint_never_the_key(tmp_path, valid_exports):
    raw = write_exports(tmp_path / "raw", valid_exports)
    ingest(raw, tmp_path / "store")
    store = Store(tmp_path / "store")
    expected = hmac_hex(KEY_A, "regua document key fingerprint v1")
    assert store.key_fingerprint == expected
    assert store.manifest()["document_key_fingerprint"] == expected
    every_byte = b"".join(snapshot(tmp_path / "store").values())
    assert KEY_A.encode() not in every_byte


def test_another_key_stops_the_ingest_and_leaves_the_store_as_it_was(tmp_path, valid_exports):
    raw = write_exports(tmp_path / "raw", valid_exports)
    ingest(raw, tmp_path / "store")
    before = snapshot(tmp_path / "store")
    with pytest.raises(IngestError) as caught:
        ingest(raw, tmp_path / "store", key=KEY_B)
    message = str(caught.value)
    assert caught.value.rule == "document_key"
    assert "regua rotate-key --raw RAW" in message and "REGUA_DOCUMENT_KEY" in message
    assert KEY_A not in message and KEY_B not in message and "\n" not in message
    assert snapshot(tmp_path / "store") == before


def test_a_commit_that_does_not_name_a_key_keeps_the_store_s(tmp_path, valid_exports):
    raw = write_exports(tmp_path / "raw", valid_exports)
    ingest(raw, tmp_path / "store")
    store = Store(tmp_path / "store")
    store.commit({"macro": store.read("macro").head(1)}, {}, {"source": "test"})
    assert store.key_fingerprint == hmac_hex(KEY_A, "regua document key fingerprint v1")


def test_a_store_from_before_fingerprints_takes_the_key_of_its_next_ingest(tmp_path, valid_exports):
    raw = write_exports(tmp_path / "raw", valid_exports)
    store = Store(tmp_path / "store")
    store.commit({"macro": None}, {}, {"document_key_fingerprint": None})
    assert store.key_fingerprint is None
    report = ingest(raw, tmp_path / "store")
    assert report.changed
    assert store.key_fingerprint == hmac_hex(KEY_A, "regua document key fingerprint v1")
    with pytest.raises(IngestError, match="is not the key its documents were hashed with"):
        ingest(raw, tmp_path / "store", key=KEY_B)


def test_rotation_re_hashes_every_document_in_one_new_version(tmp_path, valid_exports):
    raw = write_exports(tmp_path / "raw", valid_exports)
    ingest(raw, tmp_path / "store")
    store = Store(tmp_path / "store")
    first = store.version

    rotation = rotate_document_key(raw, store, old_key=KEY_A.encode(), new_key=KEY_B.encode())
    assert store.version == rotation.store_version != first
    assert store.key_fingerprint == hmac_hex(KEY_B, "regua document key fingerprint v1")
    assert store.manifest()["previous_document_key_fingerprint"] == hmac_hex(
        KEY_A, "regua document key fingerprint v1"
    )
    hashes = dict(store.read("customers").select("customer_id", "document_hash").iter_rows())
    assert hashes == {
        "C1": hmac_hex(KEY_B, "52998224725"),  # 529.982.247-25 without its punctuation
        "C2": hmac_hex(KEY_B, VALID_CPF_2),
        "C3": hmac_hex(KEY_B, "11222333000181"),  # 11.222.333/0001-81
    }
    assert (rotation.customers, rotation.rehashed) == (3, 3)
    # the other tables and columns are as they were
    assert store.read("invoices").height == 4
    # the new key now ingests the same exports as unchanged; the old one is refused
    assert ingest(raw, tmp_path / "store", key=KEY_B).changed is False
    with pytest.raises(IngestError, match="is not the key its documents were hashed with"):
        ingest(raw, tmp_path / "store", key=KEY_A)


def test_rotation_without_every_document_changes_nothing(tmp_path, valid_exports):
    raw = write_exports(tmp_path / "raw", valid_exports)
    ingest(raw, tmp_path / "store")
    before = snapshot(tmp_path / "store")
    partial = write_exports(
        tmp_path / "partial",
        {"customers": valid_exports["customers"].filter(pl.col("customer_id") != "C2")},
    )
    with pytest.raises(IngestError) as caught:
        rotate_document_key(partial, tmp_path / "store", old_key=KEY_A.encode(),
                            new_key=KEY_B.encode())  # fmt: skip
    assert "1 customers" in str(caught.value) and "C2" in str(caught.value)
    with pytest.raises(IngestError, match="is not the key its documents were hashed with"):
        rotate_document_key(raw, tmp_path / "store", old_key=KEY_B.encode(),
                            new_key=KEY_A.encode())  # fmt: skip
    with pytest.raises(IngestError, match="no customers export"):
        rotate_document_key(write_exports(tmp_path / "no-customers",
                                          {"macro": valid_exports["macro"]}),
                            tmp_path / "store", old_key=KEY_A.encode(),
                            new_key=KEY_B.encode())  # fmt: skip
    assert snapshot(tmp_path / "store") == before


def test_cli_rotate_key_then_ingest_with_the_new_key(tmp_path, valid_exports, monkeypatch):
    raw = write_exports(tmp_path / "raw", valid_exports)
    ingest(raw, tmp_path / "store")
    new_key_file = tmp_path / "new_key"
    new_key_file.write_text(KEY_B + "\n")
    new_key_file.chmod(0o600)
    monkeypatch.setenv("REGUA_DOCUMENT_KEY", KEY_A)
    get_settings.cache_clear()
    runner = CliRunner()
    store = str(tmp_path / "store")
    done = runner.invoke(
        app,
        ["rotate-key", "--raw", str(raw), "--store", store, "--new-key-file", str(new_key_file)],
    )
    assert done.exit_code == 0, done.output
    assert "3 of 3 customers' documents re-hashed" in done.output
    refused = runner.invoke(app, ["ingest", "--raw", str(raw), "--store", store, "--no-docs"])
    assert refused.exit_code == 2
    assert "is not the key its documents" in refused.output and KEY_A not in refused.output
    monkeypatch.setenv("REGUA_DOCUMENT_KEY", KEY_B)
    get_settings.cache_clear()
    again = runner.invoke(app, ["ingest", "--raw", str(raw), "--store", store, "--no-docs"])
    assert again.exit_code == 0, again.output
    assert "unchanged (nothing new)" in again.output


# --- no clear text on disk ------------------------------------------------------------------


def _opened(pid: int, path: Path) -> bool:
    """Whether process `pid` has `path` open right now."""
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return str(path) in links


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see open files")
def test_a_kill_while_reading_a_latin1_customers_file_leaves_no_clear_document(tmp_path):
    cpfs = generate_cpfs(np.random.default_rng(3), 400_000)
    n = len(cpfs)
    raw = tmp_path / "raw"
    raw.mkdir()
    customers = pl.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(n)],
            "kind": ["PF"] * n,
            "document": [format_cpf(c) for c in cpfs],
            "state": ["SP"] * n,
            "city": ["São Paulo"] * n,
            "opened_at": ["05/01/2020"] * n,
        }
    )
    path = raw / "customers.csv"
    path.write_bytes(customers.write_csv(separator=";").encode("latin-1"))
    temp = tmp_path / "tmp"
    temp.mkdir()
    environ = {k: v for k, v in os.environ.items() if not k.upper().startswith("REGUA_")}
    environ |= {"TMPDIR": str(temp), "REGUA_DOCUMENT_KEY": KEY_A, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "regua", "ingest", "--raw", str(raw), "--store",
         str(tmp_path / "store")],
        env=environ, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while not _opened(process.pid, path):
            assert process.poll() is None, "the ingest ended before it read the customers"
            assert time.monotonic() < deadline, "the ingest never opened the customers file"
            time.sleep(0.005)
        time.sleep(0.2)  # well into the read and decoding of the customers
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    left = [p for p in temp.rglob("*") if p.is_file()]
    samples = [format_cpf(c).encode() for c in cpfs[:200]] + [c.encode() for c in cpfs[:200]]
    leaked = [p for p in left if any(s in p.read_bytes() for s in samples)]
    assert leaked == []
    assert list(temp.glob("regua-read-*")) == []
