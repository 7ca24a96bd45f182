"""Simulate a whole portfolio block by block and write the exports and the ground truth.

Customers are simulated in blocks of BLOCK_CUSTOMERS with their own random streams;
ids run on across blocks. The exports go to `out_dir` (`customers`, `invoices`,
`payments`, `contacts`, `macro`, `customer_attributes`: the dated history of the attributes
that change, whose values on the export date the customers snapshot shows), the ground
truth to `out_dir/truth/truth.parquet`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from regua.contract import raw_columns, table
from regua.simulate.attributes import attribute_history
from regua.simulate.behaviour import payments_frame, simulate_behaviour
from regua.simulate.calendar import Calendar, build_calendar
from regua.simulate.config import (
    BLOCK_CUSTOMERS,
    RAW_TABLES,
    SimulationConfig,
    SimulationSummary,
    Stage,
    rng_for,
)
from regua.simulate.contacts import build_contacts, contacts_frame
from regua.simulate.customers import draw_customers, draw_documents, draw_kinds
from regua.simulate.defects import inject_defects
from regua.simulate.invoices import billing_cycles, build_invoices, invoice_ids, invoices_frame
from regua.simulate.label_oracle import label_oracle
from regua.simulate.ladder import contact_lifts
from regua.simulate.macro import MacroPath, macro_frame, simulate_macro
from regua.simulate.risk import charge_off_clock, previous_states, simulate_states
from regua.simulate.truth import risk_index, truth_frame
from regua.simulate.writer import Format, Locale, TableWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlockOutput:
    """The export frames and truth of one block of customers."""

    frames: dict[str, pl.DataFrame]
    truth: pl.DataFrame
    next_ids: dict[str, int]


def simulate_block(
    config: SimulationConfig,
    calendar: Calendar,
    path: MacroPath,
    block: int,
    is_pj: np.ndarray,
    documents: np.ndarray,
    first_ids: dict[str, int],
) -> BlockOutput:
    """Customers, invoices, payments, contacts and truth of one block of customers."""
    first = block * BLOCK_CUSTOMERS
    customers = draw_customers(
        first,
        is_pj,
        documents,
        config.customers,
        calendar,
        rng_for(config.seed, Stage.CUSTOMERS, block),
    )
    lifts = contact_lifts(customers.reach, customers.responsiveness, customers.allowed)
    x = risk_index(customers, path, config.months)
    clock = charge_off_clock(
        calendar.start(np.arange(config.months + 1)), customers.due_day, config.charge_off_days
    )
    states = simulate_states(
        x,
        lifts,
        customers.open_month,
        customers.initial,
        config.months,
        rng_for(config.seed, Stage.STATES, block),
        clock,
    )
    prev = previous_states(states, customers.initial)
    cycles = billing_cycles(customers, prev, calendar)
    invoices = build_invoices(customers, prev, cycles, rng_for(config.seed, Stage.INVOICES, block))
    behaviour = simulate_behaviour(
        customers,
        states,
        prev,
        x,
        cycles,
        invoices,
        calendar,
        rng_for(config.seed, Stage.PAYMENTS, block),
        rng_for(config.seed, Stage.LADDER, block),
        clock,
    )
    contacts = build_contacts(
        behaviour, invoices, customers, calendar, rng_for(config.seed, Stage.CONTACTS, block)
    )

    history = attribute_history(
        customers,
        customers.frame,
        states,
        prev,
        path,
        calendar,
        rng_for(config.seed, Stage.ATTRIBUTES, block),
    )
    invoice_id = invoice_ids(first_ids["invoices"], len(invoices.amount))
    frames = {
        "customers": history.customers.select([c.name for c in raw_columns(table("customers"))]),
        "invoices": invoices_frame(invoices, cycles, invoice_id, customers.ids, behaviour.disputed),
        "payments": payments_frame(
            behaviour.payments, invoices, invoice_id, customers.ids, first_ids["payments"]
        ),
        "contacts": contacts_frame(contacts, invoice_id, customers.ids, first_ids["contacts"]),
        "customer_attributes": history.rows,
    }
    next_ids = {name: first_ids[name] + frames[name].height for name in first_ids}
    defective: list[pl.Series] = []
    if config.error_rate > 0:
        rng = rng_for(config.seed, Stage.DEFECTS, block)
        order = np.lexsort((behaviour.payments.invoice, behaviour.payments.day))
        issued = cycles.issue[invoices.cycle[behaviour.payments.invoice[order]]]
        for name, frame in frames.items():
            frames[name], touched = inject_defects(
                frame,
                name,
                config.error_rate,
                rng,
                pl.Series(issued).cast(pl.Int32).cast(pl.Date) if name == "payments" else None,
            )
            defective.append(touched)
    oracle = label_oracle(
        customers, states, prev, x, lifts, cycles, invoices, behaviour, calendar, clock
    )
    export_defect = customers.ids.is_in(pl.concat(defective).implode()) if defective else None
    truth = truth_frame(customers, states, x, lifts, path, calendar, oracle, export_defect)
    return BlockOutput(frames=frames, truth=truth, next_ids=next_ids)


def _schema(name: str) -> pl.Schema:
    return pl.Schema({c.name: c.dtype for c in raw_columns(table(name))})


def simulate_portfolio(
    config: SimulationConfig,
    out_dir: Path,
    fmt: Format = "parquet",
    locale: Locale = "en",
) -> SimulationSummary:
    """Simulate a portfolio and write its exports and ground truth to `out_dir`."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    extension = "parquet" if fmt == "parquet" else "csv"
    calendar = build_calendar(config.end, config.months)
    path = simulate_macro(config.months, rng_for(config.seed, Stage.MACRO))
    is_pj = draw_kinds(config.customers, rng_for(config.seed, Stage.KINDS))
    documents = draw_documents(is_pj, rng_for(config.seed, Stage.DOCUMENTS))

    writers = {
        name: TableWriter(out_dir / f"{name}.{extension}", _schema(name), fmt, locale)
        for name in RAW_TABLES
    }
    truth_writer: TableWriter | None = None
    next_ids = {"invoices": 0, "payments": 0, "contacts": 0}
    try:
        for block, first in enumerate(range(0, config.customers, BLOCK_CUSTOMERS)):
            last = min(first + BLOCK_CUSTOMERS, config.customers)
            output = simulate_block(
                config, calendar, path, block, is_pj[first:last], documents[first:last], next_ids
            )
            next_ids = output.next_ids
            for name, frame in output.frames.items():
                writers[name].write(frame)
            if truth_writer is None:
                truth_writer = TableWriter(
                    out_dir / "truth" / "truth.parquet", output.truth.schema, "parquet"
                )
            truth_writer.write(output.truth)
            log.debug("block %d: customers %d..%d written", block, first + 1, last)
        writers["macro"].write(macro_frame(path, calendar))
        files = [writers[name].commit() for name in RAW_TABLES]
        files.append(truth_writer.commit())
    except BaseException:
        for writer in [*writers.values(), truth_writer]:
            if writer is not None:
                writer.abort()
        raise
    rows = {name: writers[name].rows for name in RAW_TABLES}
    rows["truth"] = truth_writer.rows
    seconds = time.perf_counter() - started
    log.info(
        "simulated %d customers x %d months in %.1f s: %s",
        config.customers,
        config.months,
        seconds,
        ", ".join(f"{k} {v:,}" for k, v in rows.items()),
    )
    return SimulationSummary(rows=rows, files=files, seconds=seconds)
