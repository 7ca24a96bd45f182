"""`regua experiments report / plan / promote` as a user runs them, on a real store."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import mlflow
import polars as pl
import pytest
import yaml

from regua.dunning.actions import load_dunning_config
from regua.ingest import ingest_exports
from regua.settings import Settings, packaged_dir
from tests.conftest import TEST_DOCUMENT_KEY, portfolio, write_exports

EXPERIMENT = """
experiments:
  - id: digital-first
    starts_on: 2026-09-01
    population:
      segments: [standard]
    cells:
      - {id: champion, role: champion, share: 0.5}
      - {id: digital, role: challenger, share: 0.5, ladder: digital}
costs:
  email: 0.01
  sms: 0.08
  whatsapp: 0.10
  phone: 2.50
  letter: 3.50
  bureau: 3.00
  agency_fee_share: 0.20
"""


def _nights(root: Path) -> Path:
    """Segments outputs of 2026-09-10..2026-11-30: C1's case (champion) never closes, C2's
    (digital) closes after its payment on 10-10, C3's (digital) stays open."""
    out = root / "out"
    day = date(2026, 9, 10)
    while day <= date(2026, 11, 30):
        rows = {
            "C1": ("C1-20260911", "digital-first", "champion")
            if day >= date(2026, 9, 11)
            else None,
            "C2": ("C2-20260926", "digital-first", "digital")
            if date(2026, 9, 26) <= day <= date(2026, 10, 9)
            else None,
            "C3": ("C3-20260921", "digital-first", "digital") if day >= date(2026, 9, 21) else None,
        }
        frame = pl.DataFrame(
            {
                "as_of": [day] * 3,
                "customer_id": list(rows),
                "segment": ["standard"] * 3,
                "ladder_id": ["standard"] * 3,
                "case_id": [r[0] if r else None for r in rows.values()],
                "experiment_id": [r[1] if r else None for r in rows.values()],
                "cell": [r[2] if r else None for r in rows.values()],
            },
            schema_overrides={"case_id": pl.String, "experiment_id": pl.String, "cell": pl.String},
        )
        (out / day.isoformat()).mkdir(parents=True)
        frame.write_parquet(out / day.isoformat() / "segments.parquet")
        day += timedelta(days=1)
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """A store ingested from exports, two months of nights' outputs, a config folder."""
    root = tmp_path_factory.mktemp("experiments")
    tables = portfolio()
    tables["invoices"] = pl.concat(
        [
            tables["invoices"],
            pl.DataFrame(
                {
                    "invoice_id": ["I5"],
                    "customer_id": ["C2"],
                    "issued_at": ["2026-09-12"],
                    "due_at": ["2026-09-25"],
                    "amount": ["300"],
                    "product": ["credit_card"],
                    "installment_no": ["1"],
                    "installments_total": ["1"],
                }
            ),
        ]
    )
    tables["payments"] = pl.concat(
        [
            tables["payments"],
            pl.DataFrame(
                {
                    "payment_id": ["P4"],
                    "invoice_id": ["I5"],
                    "customer_id": ["C2"],
                    "paid_at": ["2026-10-10"],
                    "amount": ["300"],
                    "method": ["pix"],
                }
            ),
        ]
    )
    raw = write_exports(root / "raw", tables)
    ingest_exports(
        raw, root / "data" / "store", settings=Settings(document_key=TEST_DOCUMENT_KEY),
        build_docs=False,
    )  # fmt: skip
    _nights(root / "data")
    config = root / "config"
    shutil.copytree(packaged_dir("config"), config)
    (config / "strategies.yaml").write_text(EXPERIMENT)
    return root


def regua(world: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("REGUA_", "MLFLOW_", "PREFECT_API"))
    }
    environ |= {
        "REGUA_DOCUMENT_KEY": TEST_DOCUMENT_KEY,
        "REGUA_DATA_DIR": str(world / "data"),
        "REGUA_CONFIG_DIR": str(world / "config"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{world / 'mlflow.db'}",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    return subprocess.run(
        [sys.executable, "-m", "regua", *args],
        check=False,
        cwd=world,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_report_reads_the_cells_back_and_logs_them(world):
    done = regua(world, "experiments", "report", "--experiment", "digital-first")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "digital-first at 2026-11-30: 3 cases"
    # C1 held I2's 99.90 at 09-11, paid 50 on 09-20; its call on 09-13 cost 2.50 (the SMS on
    # the night of assignment precedes the case's first day).
    assert "champion champion   cases       1 net/case 60d 47.50" in lines[1]
    # C2 paid its 300 on 10-10; C3 paid nothing: (300 + 0) / 2.
    assert "digital challenger cases       2 net/case 60d 150.00" in lines[2]
    assert lines[3] == "  digital vs champion (net 60d): too few cases"
    page = world / "data" / "reports" / "experiment-digital-first-2026-11-30.html"
    html = page.read_text()
    assert 'data-table="cells"' in html and "always-valid" in html
    text = re.sub(r"base64,[A-Za-z0-9+/=]+", "", html)
    assert not re.search(r"C[123]\b", text)  # no case or customer id on the page
    mlflow.set_tracking_uri(f"sqlite:///{world / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["regua-experiments"], output_format="list")
    assert runs[0].data.metrics["champion.net_60d"] == 47.5
    assert runs[0].data.metrics["digital.cured_60d"] == 0.5


def test_report_refuses_an_unknown_experiment_and_an_empty_window(world):
    done = regua(world, "experiments", "report", "--experiment", "nope", "--no-mlflow")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: no experiment 'nope' (known: digital-first)"
    ]
    done = regua(world, "experiments", "report", "--since", "2026-12-01", "--no-mlflow")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no case assigned on or after 2026-12-01" in done.stderr


def test_plan_prints_the_textbook_sample_size(world):
    done = regua(world, "experiments", "plan", "--sd", "100", "--effect", "10")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "fixed horizon: 3,140 cases (planned_cases: 3140)"


def test_promote_writes_the_ladder_and_who_and_refuses_twice(world, tmp_path):
    config = world / "config"
    before = (config / "segments.yaml").read_text()
    done = regua(world, "experiments", "promote", "digital-first", "champion", "--by", "ana")
    assert done.returncode == 2 and "no challenger or control cell 'champion'" in done.stderr
    assert (config / "segments.yaml").read_text() == before
    done = regua(
        world, "experiments", "promote", "digital-first", "digital",
        "--by", "ana.souza", "--why", "net +150/case", "--on", "2026-12-01",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    segments = yaml.safe_load((config / "segments.yaml").read_text())
    assert segments["segments"]["standard"]["ladder"] == "digital"
    assert segments["segments"]["self_cure"]["ladder"] == "gentle"  # others untouched
    assert "# Customer segments" in (config / "segments.yaml").read_text()  # comments kept
    promoted = load_dunning_config(config).experiments.get("digital-first")
    assert promoted.ends_on == date(2026, 12, 1)
    assert promoted.promoted is not None
    assert (promoted.promoted.by, promoted.promoted.ladder) == ("ana.souza", "digital")
    again = regua(world, "experiments", "promote", "digital-first", "digital", "--by", "bob")
    assert again.returncode == 2
    assert "already promoted (digital by ana.souza on 2026-12-01)" in again.stderr
