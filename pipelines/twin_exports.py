"""The twin's exports: each day's rows written as the company's systems would export them
and read back through the real ingest into the run's own store (issue 17).

A run starts from a copy of the book's store holding the past at day 0. Each day, what
happened that day becomes that day's export files: customers who opened (their raw rows,
documents in clear, as the book's simulation exported them) and customers whose channel
opt-outs changed, invoices issued and invoices the customer disputed, payments (current
customers' on time, and the twin's), contacts the tools reported, macro months begun,
attribute rows valid from that day (never earlier: no night sees a later score, limit or
income). The ingest validates, coerces, hashes documents and upserts them as on any night, and the
night reads the store: whatever regua would reject from a real company, it rejects here.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl

from regua.ingest.ingest import ingest_exports
from regua.settings import Settings, get_settings
from regua.simulate.twin_book import TABLE_NAMES, TwinBook, conform
from regua.store import Store

OPT_OUTS = ("opt_out_email", "opt_out_sms", "opt_out_whatsapp", "opt_out_phone")


class TwinStore:
    """One run's store: the book's past at day 0, then every day's exports ingested."""

    def __init__(self, book: TwinBook, folder: Path, settings: Settings | None = None) -> None:
        self.book = book
        self.folder = Path(folder)
        self.settings = settings or get_settings()
        if self.folder.exists():
            shutil.rmtree(self.folder)
        shutil.copytree(book.store, self.folder / "store")
        self.store = Store(self.folder / "store")
        self.store.commit(dict(book.past), {}, {"source": f"twin: the book's past at {book.day0}"})
        self.raw_customers = pl.read_parquet(book.store.parent / "raw" / "customers.parquet")
        self.opt_outs = book.past["customers"].select("customer_id", *OPT_OUTS)

    def tables(self) -> dict[str, pl.LazyFrame]:
        """The store's tables as they stand, read once (the night reads them many times)."""
        return {name: self.store.read(name).lazy() for name in TABLE_NAMES}

    def exports(
        self,
        day: date,
        contacts: pl.DataFrame,
        payments: pl.DataFrame,
        state: pl.DataFrame,
        disputed: pl.Series,
        dropped: pl.DataFrame,
    ) -> dict[str, pl.DataFrame]:
        """The export files of `day`: what happened that day, in the exports' columns."""
        book = self.book
        removed = (
            book.future_invoices.join(dropped, on="customer_id")
            .filter(pl.col("issued_at") > pl.col("dropped_on"))
            .select("invoice_id")
        )
        opened = book.future_customers.filter(pl.col("opened_at") == day)["customer_id"]
        flags = state.select("customer_id", *OPT_OUTS)
        changed = flags.join(self.opt_outs, on=[*flags.columns], how="anti")["customer_id"]
        self.opt_outs = pl.concat(
            [self.opt_outs.join(flags, on="customer_id", how="anti"), flags]
        ).unique("customer_id", keep="last")
        customers = (
            self.raw_customers.filter(pl.col("customer_id").is_in(pl.concat([opened, changed])))
            .drop(OPT_OUTS)
            .join(flags, on="customer_id", how="left")
            .with_columns(pl.col(OPT_OUTS).fill_null(False))
            .select(self.raw_customers.columns)
        )
        known = pl.concat([book.past["invoices"], book.future_invoices], how="vertical_relaxed")
        invoices = pl.concat(
            [
                book.future_invoices.filter(pl.col("issued_at") == day).join(
                    removed, on="invoice_id", how="anti"
                ),
                known.filter(pl.col("invoice_id").is_in(disputed.implode())).with_columns(
                    pl.lit(True).alias("disputed")
                ),
            ],
            how="vertical_relaxed",
        ).unique("invoice_id", keep="last", maintain_order=True)
        twin_payments = conform(payments, "payments").collect()
        pays = pl.concat(
            [
                book.future_payments.filter(pl.col("paid_at") == day).join(
                    removed, on="invoice_id", how="anti"
                ),
                twin_payments.select(book.future_payments.columns),
            ],
            how="vertical_relaxed",
        )
        return {
            "customers": customers,
            "invoices": invoices,
            "payments": pays,
            "contacts": conform(contacts, "contacts").collect(),
            "macro": book.future_macro.filter(pl.col("month") == day),
            "customer_attributes": book.future_attributes.filter(pl.col("valid_from") == day),
        }

    def ingest(self, day: date, exports: dict[str, pl.DataFrame]) -> None:
        """Write the day's exports as Parquet files and ingest them into the run's store."""
        raw = self.folder / "raw" / day.isoformat()
        raw.mkdir(parents=True, exist_ok=True)
        written = 0
        for name, frame in exports.items():
            if frame.height:
                frame.write_parquet(raw / f"{name}.parquet")
                written += 1
        if written:
            ingest_exports(raw, self.store, settings=self.settings, build_docs=False)
        shutil.rmtree(raw)  # in the store now; the run's folder keeps no raw document

    def close(self) -> None:
        """Remove the run's store and exports (the figures keep what the run measured)."""
        shutil.rmtree(self.folder, ignore_errors=True)
