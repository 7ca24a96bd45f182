"""Through the real nightly flow: an analyst's approved decision holds, a pending one does not."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from regua.config.workbench import load_workbench
from regua.decisions.db import make_engine, session_factory, upgrade
from regua.decisions.limits import Seen, record_decision
from regua.decisions.users import add_user
from regua.pipelines.nightly import nightly_flow

AS_OF = date(2026, 10, 30)


def test_an_approved_override_holds_the_next_night_and_a_pending_one_waits(
    store, scored, tracking, prefect_api, tmp_path
):
    before = pl.read_parquet(scored / AS_OF.isoformat() / "limits.parquet")
    assert not before["held_by_analyst"].any()
    changing = before.filter(pl.col("current_limit") > 1000).sort("customer_id")
    first, second = changing.row(0, named=True), changing.row(1, named=True)
    url = f"sqlite:///{tmp_path / 'workbench.db'}"
    engine = make_engine(url)
    upgrade(engine)
    config = load_workbench()
    with session_factory(engine).begin() as session:
        ana = add_user(session, "ana", "analyst", "senha-forte-1")
        seen = [
            Seen(row["customer_id"], AS_OF, row["current_limit"], row["recommended_limit"], "1")
            for row in (first, second)
        ]
        small = round(first["current_limit"] * 1.1, 2)  # within the analyst's authority
        record_decision(session, config, ana, seen[0], "override", "renda_comprovada",
                        new_limit=small, review_on=AS_OF + timedelta(days=30))  # fmt: skip
        record_decision(session, config, ana, seen[1], "override", "garantia_adicional",
                        new_limit=second["current_limit"] * 3)  # fmt: skip
    engine.dispose()
    out = tmp_path / "out"
    night = AS_OF + timedelta(days=1)
    nightly_flow(as_of=night, store=store / "store", out=out, tracking_uri=tracking,
                 decisions_db_url=url)  # fmt: skip
    after = pl.read_parquet(out / night.isoformat() / "limits.parquet")
    held = after.filter(pl.col("customer_id") == first["customer_id"]).row(0, named=True)
    assert held["held_by_analyst"] is True
    assert held["decision"] == "held_by_analyst"
    assert held["recommended_limit"] == small == held["analyst_limit"]
    assert held["held_until"] == AS_OF + timedelta(days=30)
    assert held["reason_codes"][0] == "held_by_analyst"
    assert held["model_recommended_limit"] is not None
    waiting = after.filter(pl.col("customer_id") == second["customer_id"]).row(0, named=True)
    assert waiting["held_by_analyst"] is False
    assert waiting["recommended_limit"] == waiting["model_recommended_limit"]
    assert after["held_by_analyst"].sum() == 1
