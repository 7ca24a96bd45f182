"""The collection twin's book: a simulated portfolio up to day 0, what its future holds
whatever collection does, and each customer's latent traits (issue 17).

`build_twin_book` simulates a portfolio through day0 + days, ingests it with the real
ingest into `folder/store`, reads the canonical tables once and splits them at day 0:

- `past`: the tables as the store holds them at the end of day 0 (customers opened by
  then, invoices issued, payments paid and contacts made on or before day 0, macro months
  begun by then, attribute rows valid from day 0 or earlier);
- the future that does not depend on collection: invoices issued in (day0, day0+days]
  and falling due by day0+days, payments made after day 0 on or before the invoice's due
  date (current customers pay their bills whatever the collector does), customers who
  open in the horizon, macro months that begin in it, attribute rows (bureau score, limit,
  income, employment) valid from a day in it, released on that day and not before. Every
  payment of an invoice once it is past due is the twin's to simulate, and the simulator's
  contacts after day 0 belong to its lender's ladder, which the twin's policies replace:
  both are left out;
- `traits`: per customer, the hidden traits the twin's responses depend on, from the
  simulator's truth.

`TwinBook.tables_at(day, ...)` assembles the tables at night `day` from these parts and the
twin's own contacts and payments, lazily, with the canonical schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from regua.contract import Table, empty_frame, table
from regua.ingest.ingest import ingest_exports
from regua.settings import Settings, get_settings
from regua.simulate import SimulationConfig, simulate_portfolio
from regua.store import Store

TABLE_NAMES = ("customers", "invoices", "payments", "contacts", "macro", "customer_attributes")
TRAIT_CHANNELS = ("email", "sms", "whatsapp", "phone", "letter")
"""Channels the twin contacts on (the channels of config/twin.yaml)."""
TRAIT_COLUMNS = (
    "customer_id",
    "character",
    "capacity",
    "stressed",
    *(f"reach_{ch}" for ch in TRAIT_CHANNELS),
    *(f"responsiveness_{ch}" for ch in TRAIT_CHANNELS),
)
DROPPED_SCHEMA = pl.Schema({"customer_id": pl.String(), "dropped_on": pl.Date()})
"""Customers whose relationship the agency ended, and the day it ended."""


def _end_of(day: date) -> datetime:
    """The first instant after `day`: contacts at or before the end of `day` are before it."""
    return datetime.combine(day + timedelta(days=1), time())


@dataclass(frozen=True)
class TwinBook:
    """A simulated book split at `day0`, the horizon `days` after it, and the traits.

    `past` holds the canonical tables at the end of day 0; `future_invoices`,
    `future_payments`, `future_customers` (opened in the horizon) and `future_macro`
    (months beginning in it) the rows that arrive later whatever collection does (see the
    module docstring); `traits` one row per customer of the store (those who open in the
    horizon included): character, capacity (the truth's `risk_capacity`, the debt-to-income
    term of the latent risk, sign-flipped and standardised to mean 0 and population sd 1
    across these customers, so higher means more able to pay), stressed (capacity < 0),
    reach_<channel> and responsiveness_<channel> for the twin's channels. `store` is the
    ingested store holding the whole simulation (through day0 + days).
    """

    day0: date
    days: int
    past: dict[str, pl.DataFrame]
    future_invoices: pl.DataFrame
    future_payments: pl.DataFrame
    future_customers: pl.DataFrame
    future_macro: pl.DataFrame
    traits: pl.DataFrame
    store: Path
    future_attributes: pl.DataFrame = field(
        default_factory=lambda: empty_frame(table("customer_attributes"))
    )

    @property
    def end(self) -> date:
        """The last day of the horizon, day0 + days."""
        return self.day0 + timedelta(days=self.days)

    def tables_at(
        self,
        day: date,
        extra_contacts: pl.DataFrame | None = None,
        extra_payments: pl.DataFrame | None = None,
        dropped: pl.DataFrame | None = None,
    ) -> dict[str, pl.LazyFrame]:
        """The canonical tables at night `day` (day0 <= day <= end), lazily.

        Past rows, plus the future rows dated on or before `day` (customers by opened_at,
        invoices by issued_at, payments by paid_at, macro by month, attribute rows by
        valid_from), plus the twin's
        `extra_contacts` and `extra_payments` dated on or before `day` (later ones wait for
        their day; missing optional columns are filled as the ingest fills them). `dropped`
        (customer_id, dropped_on) ends relationships: a dropped customer's future invoices
        issued after dropped_on, and the simulator's payments of them, are left out.
        """
        if not self.day0 <= day <= self.end:
            raise ValueError(f"day {day} is outside the book's horizon {self.day0}..{self.end}")
        invoices = self.future_invoices.lazy().filter(pl.col("issued_at") <= day)
        payments = self.future_payments.lazy().filter(pl.col("paid_at") <= day)
        if dropped is not None and dropped.height:
            removed = (
                self.future_invoices.lazy()
                .join(_dropped(dropped).lazy(), on="customer_id")
                .filter(pl.col("issued_at") > pl.col("dropped_on"))
                .select("invoice_id")
            )
            invoices = invoices.join(removed, on="invoice_id", how="anti")
            payments = payments.join(removed, on="invoice_id", how="anti")
        contacts = conform(extra_contacts, "contacts").filter(pl.col("at") < _end_of(day))
        extra = conform(extra_payments, "payments").filter(pl.col("paid_at") <= day)
        return {
            "customers": pl.concat(
                [
                    self.past["customers"].lazy(),
                    self.future_customers.lazy().filter(pl.col("opened_at") <= day),
                ]
            ),
            "invoices": pl.concat([self.past["invoices"].lazy(), invoices]),
            "payments": pl.concat([self.past["payments"].lazy(), payments, extra]),
            "contacts": pl.concat([self.past["contacts"].lazy(), contacts]),
            "macro": pl.concat(
                [self.past["macro"].lazy(), self.future_macro.lazy().filter(pl.col("month") <= day)]
            ),
            "customer_attributes": pl.concat(
                [
                    self.past["customer_attributes"].lazy(),
                    self.future_attributes.lazy().filter(pl.col("valid_from") <= day),
                ]
            ),
        }


def _dropped(dropped: pl.DataFrame) -> pl.DataFrame:
    """The drops as (customer_id, dropped_on), one row per customer (the earliest drop)."""
    missing = [c for c in DROPPED_SCHEMA.names() if c not in dropped.columns]
    if missing:
        raise ValueError(f"dropped: missing columns {', '.join(missing)}")
    return (
        dropped.select(DROPPED_SCHEMA.names())
        .cast(dict(DROPPED_SCHEMA))
        .group_by("customer_id")
        .agg(pl.col("dropped_on").min())
    )


def conform(frame: pl.DataFrame | None, name: str) -> pl.LazyFrame:
    """`frame` with table `name`'s canonical columns, in order and typed, lazily.

    Missing optional columns take their default, else null; a missing required column is an
    error. A contact without contact_id gets the key the ingest derives (customer, invoice,
    time, channel and step joined by |).
    """
    t = table(name)
    if frame is None:
        return empty_frame(t).lazy()
    missing = [c.name for c in t.columns if c.required and c.name not in frame.columns]
    if missing:
        raise ValueError(f"extra {name}: missing required columns {', '.join(missing)}")
    lazy = frame.lazy().with_columns(
        pl.lit(c.default, dtype=c.dtype).alias(c.name)
        for c in t.columns
        if c.name not in frame.columns
    )
    lazy = lazy.select(pl.col(c.name).cast(c.dtype) for c in t.columns)
    if t.derived_key:
        lazy = lazy.with_columns(_derived_key(t))
    return lazy


def _derived_key(t: Table) -> pl.Expr:
    """The key the ingest gives a row without one (regua.ingest.coerce._derive_key)."""
    natural = pl.concat_str(
        [pl.col(c).cast(pl.String).fill_null("") for c in t.derived_key_from], separator="|"
    )
    return pl.col(t.key[0]).fill_null(natural)


def twin_traits(truth: pl.LazyFrame, day0: date) -> pl.DataFrame:
    """One row per customer: the latent traits of the truth at the last month end <= day0."""
    month_end = truth.select(pl.col("month_end").filter(pl.col("month_end") <= day0).max())
    month_end = month_end.collect().item()
    if month_end is None:
        raise ValueError(f"the truth has no month end on or before day0 {day0}")
    capacity = -pl.col("risk_capacity")
    spread = capacity.std(ddof=0)
    return (
        truth.filter(pl.col("month_end") == month_end)
        .with_columns(
            pl.when(spread > 0)
            .then((capacity - capacity.mean()) / spread)
            .otherwise(0.0)
            .alias("capacity")
        )
        .with_columns((pl.col("capacity") < 0).alias("stressed"))
        .select(TRAIT_COLUMNS)
        .sort("customer_id")
        .collect()
    )


def _check_days(days: int) -> None:
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")


def split_book(
    tables: dict[str, pl.DataFrame], truth: pl.LazyFrame, day0: date, days: int, store: Path
) -> TwinBook:
    """The book of `tables` (the whole simulation, as the store holds it) split at day0."""
    _check_days(days)
    end = day0 + timedelta(days=days)
    customers, invoices, payments = (tables[n] for n in ("customers", "invoices", "payments"))
    contacts, macro = tables["contacts"], tables["macro"]
    attributes = tables.get("customer_attributes", empty_frame(table("customer_attributes")))
    future_invoices = invoices.filter(
        (pl.col("issued_at") > day0) & (pl.col("issued_at") <= end) & (pl.col("due_at") <= end)
    )
    past_invoices = invoices.filter(pl.col("issued_at") <= day0)
    due = pl.concat([past_invoices, future_invoices]).select("invoice_id", "due_at")
    future_payments = (
        payments.filter((pl.col("paid_at") > day0) & (pl.col("paid_at") <= end))
        .join(due, on="invoice_id", how="inner", maintain_order="left")
        .filter(pl.col("paid_at") <= pl.col("due_at"))
        .drop("due_at")
    )
    past = {
        "customers": customers.filter(pl.col("opened_at") <= day0),
        "invoices": past_invoices,
        "payments": payments.filter(pl.col("paid_at") <= day0),
        "contacts": contacts.filter(pl.col("at") < _end_of(day0)),
        "macro": macro.filter(pl.col("month") <= day0),
        "customer_attributes": attributes.filter(pl.col("valid_from") <= day0),
    }
    return TwinBook(
        day0=day0,
        days=days,
        past=past,
        future_invoices=future_invoices,
        future_payments=future_payments,
        future_customers=customers.filter(
            (pl.col("opened_at") > day0) & (pl.col("opened_at") <= end)
        ),
        future_macro=macro.filter((pl.col("month") > day0) & (pl.col("month") <= end)),
        traits=twin_traits(truth, day0),
        store=store,
        future_attributes=attributes.filter(
            (pl.col("valid_from") > day0) & (pl.col("valid_from") <= end)
        ),
    )


def build_twin_book(
    folder: Path,
    customers: int,
    days: int,
    seed: int,
    day0: date = date(2026, 10, 31),
    months: int = 24,
    settings: Settings | None = None,
) -> TwinBook:
    """Simulate `months` months through day0 + days into `folder/raw`, ingest them into
    `folder/store` (document key from `settings`, default the installation's) and split the
    book at day0."""
    _check_days(days)
    folder = Path(folder)
    store_dir = folder / "store"
    if store_dir.exists() and any(store_dir.iterdir()):
        raise FileExistsError(f"{store_dir}: the twin's store must start empty")
    end = day0 + timedelta(days=days)
    config = SimulationConfig(customers=customers, months=months, seed=seed, end=end)
    simulate_portfolio(config, folder / "raw")
    ingest_exports(folder / "raw", store_dir, settings=settings or get_settings(), build_docs=False)
    return open_twin_book(folder, day0, days)


def open_twin_book(folder: Path, day0: date, days: int) -> TwinBook:
    """The book of a simulation `build_twin_book` (or `regua simulate` + `regua ingest`)
    left in `folder` (its raw/truth and its store), split at day0."""
    _check_days(days)
    store_dir = Path(folder) / "store"
    truth_file = Path(folder) / "raw" / "truth" / "truth.parquet"
    if not truth_file.exists():
        raise FileNotFoundError(f"{truth_file}: the twin needs the simulation's truth")
    store = Store(store_dir)
    tables = {name: store.read(name) for name in TABLE_NAMES}
    return split_book(tables, pl.scan_parquet(truth_file), day0, days, store_dir)
