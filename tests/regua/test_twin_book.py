"""The twin's book: a simulated portfolio split at day 0 into its past, the future that does not
depend on collection, and each customer's latent traits."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.config.twin import CONTACT_CHANNELS as TWIN_CHANNELS
from regua.contract import CONTACT_CHANNELS, table
from regua.pipelines.twin_exports import OPT_OUTS, TwinStore
from regua.settings import Settings
from regua.simulate.twin_book import DROPPED_SCHEMA, TRAIT_CHANNELS, TwinBook, build_twin_book
from regua.store import Store
from tests.conftest import TEST_DOCUMENT_KEY

DAY0 = date(2026, 10, 31)
DAYS = 30
END = DAY0 + timedelta(days=DAYS)
NAMES = ("customers", "invoices", "payments", "contacts", "macro", "customer_attributes")
KEYS = {
    "customers": "customer_id",
    "invoices": "invoice_id",
    "payments": "payment_id",
    "contacts": "contact_id",
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("twin-book")


@pytest.fixture(scope="module")
def book(folder: Path) -> TwinBook:
    """300 customers, 24 months through day 0, 30 days of horizon."""
    return build_twin_book(
        folder, customers=300, days=DAYS, seed=21, settings=Settings(document_key=TEST_DOCUMENT_KEY)
    )


@pytest.fixture(scope="module")
def whole(book: TwinBook) -> dict[str, pl.DataFrame]:
    """The store's tables: the whole simulation, through day0 + days."""
    store = Store(book.store)
    return {name: store.read(name) for name in NAMES}


@pytest.fixture(scope="module")
def truth(book: TwinBook, folder: Path) -> pl.DataFrame:
    return pl.read_parquet(folder / "raw" / "truth" / "truth.parquet")


def keys(frame: pl.DataFrame | pl.LazyFrame, name: str) -> set[str]:
    frame = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    return set(frame[KEYS[name]].to_list())


def test_the_book_spans_day0_and_its_horizon(book: TwinBook) -> None:
    assert book.day0 == DAY0 and book.days == DAYS and book.end == END
    assert (book.store / "CURRENT").exists()


def test_the_past_holds_every_stored_row_up_to_day0_and_nothing_after(
    book: TwinBook, whole: dict[str, pl.DataFrame]
) -> None:
    dated = {
        "customers": pl.col("opened_at"),
        "invoices": pl.col("issued_at"),
        "payments": pl.col("paid_at"),
        "contacts": pl.col("at").dt.date(),
        "macro": pl.col("month"),
        "customer_attributes": pl.col("valid_from"),
    }
    for name, day in dated.items():
        past = book.past[name]
        assert past.schema == table(name).schema, name
        assert past.select((day <= DAY0).all()).item(), name
        expected = whole[name].filter(day <= DAY0)
        assert past.height == expected.height > 0, name
        assert whole[name].filter(day > DAY0).height > 0, name  # the store holds later rows
    for name in KEYS:
        assert keys(book.past[name], name) == keys(whole[name].filter(dated[name] <= DAY0), name)


def test_future_invoices_are_those_issued_in_the_horizon_and_due_by_its_end(
    book: TwinBook, whole: dict[str, pl.DataFrame]
) -> None:
    future = book.future_invoices
    assert future.schema == table("invoices").schema
    assert future.height > 0
    assert future["issued_at"].min() > DAY0 and future["issued_at"].max() <= END
    assert future["due_at"].max() <= END
    later = whole["invoices"].filter(
        (pl.col("issued_at") > DAY0) & (pl.col("issued_at") <= END) & (pl.col("due_at") <= END)
    )
    assert keys(future, "invoices") == keys(later, "invoices")


def test_future_payments_pay_bills_on_time_after_day0_and_none_past_due(
    book: TwinBook, whole: dict[str, pl.DataFrame]
) -> None:
    future = book.future_payments
    assert future.schema == table("payments").schema
    dated = future.join(whole["invoices"].select("invoice_id", "issued_at", "due_at"), "invoice_id")
    assert dated.height == future.height > 0
    assert (dated["paid_at"] > DAY0).all() and (dated["paid_at"] <= END).all()
    assert (dated["paid_at"] <= dated["due_at"]).all()
    stored = whole["payments"].join(whole["invoices"].select("invoice_id", "due_at"), "invoice_id")
    after = stored.filter(pl.col("paid_at") > DAY0)
    on_time = after.filter(pl.col("paid_at") <= pl.col("due_at"))
    late = after.filter(pl.col("paid_at") > pl.col("due_at"))
    assert late.height > 0  # the simulator's late payments exist, and are the twin's to draw
    assert keys(future, "payments") == keys(on_time, "payments")


def test_the_simulated_lenders_contacts_after_day0_are_dropped(
    book: TwinBook, whole: dict[str, pl.DataFrame]
) -> None:
    assert whole["contacts"].filter(pl.col("at").dt.date() > DAY0).height > 0
    contacts = book.tables_at(END)["contacts"].collect()
    assert keys(contacts, "contacts") == keys(book.past["contacts"], "contacts")


def test_tables_at_day0_are_the_past(book: TwinBook) -> None:
    tables = book.tables_at(DAY0)
    assert set(tables) == set(NAMES)
    for name in NAMES:
        assert tables[name].collect().equals(book.past[name]), name


def test_tables_at_a_day_add_the_future_rows_up_to_it_and_the_twins_rows(book: TwinBook) -> None:
    day = DAY0 + timedelta(days=12)
    invoice = book.future_invoices.filter(pl.col("issued_at") <= day).row(0, named=True)
    extra_contacts = pl.DataFrame(
        {
            "customer_id": [invoice["customer_id"]] * 2,
            "invoice_id": [invoice["invoice_id"]] * 2,
            "at": [datetime(2026, 11, 12, 10, 0), datetime(2026, 11, 13, 9, 0)],
            "channel": ["sms", "phone"],
            "outcome": ["delivered", "answered"],
            "action_id": ["A1", "A2"],
        }
    )
    extra_payments = pl.DataFrame(
        {
            "payment_id": ["TWIN1", "TWIN2"],
            "invoice_id": [invoice["invoice_id"]] * 2,
            "customer_id": [invoice["customer_id"]] * 2,
            "paid_at": [date(2026, 11, 12), date(2026, 11, 20)],
            "amount": [10.0, 5.0],
            "method": ["pix", "pix"],
        }
    )
    tables = {
        name: frame.collect()
        for name, frame in book.tables_at(day, extra_contacts, extra_payments).items()
    }
    for name in NAMES:
        assert tables[name].schema == table(name).schema, name
    past = book.past
    assert keys(tables["invoices"], "invoices") == keys(past["invoices"], "invoices") | keys(
        book.future_invoices.filter(pl.col("issued_at") <= day), "invoices"
    )
    on_time = book.future_payments.filter(pl.col("paid_at") <= day)
    assert keys(tables["payments"], "payments") == (
        keys(past["payments"], "payments") | keys(on_time, "payments") | {"TWIN1"}
    )
    twins = tables["contacts"].filter(pl.col("action_id").is_in(["A1", "A2"]))
    assert twins["action_id"].to_list() == ["A1"]  # the contact of 13 November waits its day
    assert tables["contacts"].height == past["contacts"].height + 1
    november = book.future_macro.filter(pl.col("month") == date(2026, 11, 1))
    assert tables["macro"].height == past["macro"].height + november.height > past["macro"].height
    later = book.tables_at(END, extra_contacts, extra_payments)
    assert {"TWIN1", "TWIN2"} <= keys(later["payments"], "payments")
    assert later["contacts"].collect().height == past["contacts"].height + 2


def test_a_twin_contact_without_a_key_gets_the_ingests_derived_key(book: TwinBook) -> None:
    contact = pl.DataFrame(
        {
            "customer_id": ["C0000001"],
            "at": [datetime(2026, 11, 2, 9, 30)],
            "channel": ["email"],
            "step_id": ["email_d1"],
            "outcome": ["delivered"],
        }
    )
    contacts = book.tables_at(END, extra_contacts=contact)["contacts"].collect()
    row = contacts.filter(pl.col("step_id") == "email_d1", pl.col("channel") == "email").filter(
        pl.col("at") == datetime(2026, 11, 2, 9, 30)
    )
    assert row["contact_id"].to_list() == ["C0000001||2026-11-02 09:30:00.000000|email|email_d1"]
    assert contacts["contact_id"].null_count() == 0


def test_a_twin_payment_without_a_required_column_is_refused(book: TwinBook) -> None:
    payment = pl.DataFrame({"payment_id": ["X"], "invoice_id": ["I1"], "amount": [1.0]})
    with pytest.raises(ValueError, match="missing required columns customer_id, paid_at"):
        book.tables_at(END, extra_payments=payment)


def test_a_day_outside_the_horizon_is_refused(book: TwinBook) -> None:
    for day in (DAY0 - timedelta(days=1), END + timedelta(days=1)):
        with pytest.raises(ValueError, match="outside the book's horizon"):
            book.tables_at(day)


def test_a_dropped_customer_gets_no_invoice_issued_after_the_drop(book: TwinBook) -> None:
    issued = book.future_invoices.select("invoice_id", "customer_id", "issued_at")
    paid = issued.join(book.future_payments.select("invoice_id"), on="invoice_id", how="semi")
    gone_customer = paid.sort("customer_id")["customer_id"][0]  # its bill is paid on time
    gone = issued.filter(pl.col("customer_id") == gone_customer)
    stays = (
        issued.filter(pl.col("customer_id") != gone_customer).sort("customer_id").row(0, named=True)
    )
    dropped = pl.DataFrame(
        {
            "customer_id": [gone_customer, stays["customer_id"]],
            # the day before the bill: no bill; on the bill's own day: the bill was issued
            "dropped_on": [gone["issued_at"].min() - timedelta(days=1), stays["issued_at"]],
        }
    )
    kept = book.tables_at(END)
    after = book.tables_at(END, dropped=dropped)
    invoices = after["invoices"].collect()
    assert keys(kept["invoices"], "invoices") - keys(invoices, "invoices") == keys(gone, "invoices")
    assert stays["invoice_id"] in keys(invoices, "invoices")
    payments = after["payments"].collect()
    removed = keys(kept["payments"], "payments") - keys(payments, "payments")
    paid_gone = book.future_payments.filter(
        pl.col("invoice_id").is_in(gone["invoice_id"].implode())
    )
    assert removed == keys(paid_gone, "payments") != set()
    assert after["customers"].collect().height == kept["customers"].collect().height


@settings(max_examples=10, deadline=None)
@given(offset=st.integers(min_value=0, max_value=DAYS))
def test_every_night_holds_the_past_and_exactly_the_future_dated_up_to_it(
    book: TwinBook, offset: int
) -> None:
    day = DAY0 + timedelta(days=offset)
    tables = {name: frame.collect() for name, frame in book.tables_at(day).items()}
    future = {
        "customers": book.future_customers.filter(pl.col("opened_at") <= day),
        "invoices": book.future_invoices.filter(pl.col("issued_at") <= day),
        "payments": book.future_payments.filter(pl.col("paid_at") <= day),
        "contacts": book.past["contacts"].clear(),
    }
    for name in KEYS:
        expected = keys(book.past[name], name) | keys(future[name], name)
        assert keys(tables[name], name) == expected, name
        assert tables[name].height == len(expected), name
    assert tables["macro"]["month"].max() <= day


def test_traits_have_one_row_per_customer_with_probabilities_and_standard_capacity(
    book: TwinBook, whole: dict[str, pl.DataFrame], truth: pl.DataFrame
) -> None:
    traits = book.traits
    assert TRAIT_CHANNELS == TWIN_CHANNELS
    assert traits["customer_id"].to_list() == sorted(whole["customers"]["customer_id"].to_list())
    for channel in TRAIT_CHANNELS:
        for kind in ("reach", "responsiveness"):
            assert traits[f"{kind}_{channel}"].is_between(0.0, 1.0).all(), (kind, channel)
    assert abs(traits["capacity"].mean()) < 1e-9
    assert abs(traits["capacity"].std(ddof=0) - 1.0) < 1e-9
    assert traits["stressed"].to_list() == (traits["capacity"] < 0).to_list()
    assert 0.2 < traits["stressed"].mean() < 0.8
    october = truth.filter(pl.col("month_end") == DAY0).sort("customer_id")
    assert traits["character"].equals(october["character"])
    assert traits["reach_whatsapp"].equals(october["reach_whatsapp"])
    assert traits["responsiveness_phone"].equals(october["responsiveness_phone"])
    # more debt for the income (a higher risk_capacity) is less capacity, one for one in rank
    ranks = pl.DataFrame({"capacity": traits["capacity"], "risk": october["risk_capacity"]}).select(
        pl.corr("capacity", "risk", method="spearman")
    )
    assert ranks.item() == pytest.approx(-1.0)


def test_the_truth_holds_each_customers_reach_per_channel(truth: pl.DataFrame) -> None:
    columns = [f"reach_{channel}" for channel in CONTACT_CHANNELS]
    assert set(columns) <= set(truth.columns)
    reach = truth.select("customer_id", *columns)
    for column in columns:
        assert reach[column].is_between(0.0, 1.0).all(), column
    constant = reach.group_by("customer_id").agg(pl.max_horizontal(pl.all().n_unique()))
    assert (constant.drop("customer_id").to_series() == 1).all()


def test_a_mid_month_day0_keeps_the_on_time_payments_of_bills_issued_before_it(
    tmp_path: Path,
) -> None:
    day0 = date(2026, 10, 15)  # bills fall due on days 8-28: some of October's are not yet due
    book = build_twin_book(
        tmp_path,
        customers=150,
        days=20,
        seed=4,
        day0=day0,
        months=6,
        settings=Settings(document_key=TEST_DOCUMENT_KEY),
    )
    invoices = book.past["invoices"].select("invoice_id", "issued_at", "due_at")
    early = book.future_payments.join(invoices, on="invoice_id")
    assert early.height > 0
    assert (early["paid_at"] > day0).all() and (early["paid_at"] <= early["due_at"]).all()
    unpaid_at_day0 = invoices.filter(pl.col("due_at") > day0)
    assert set(early["invoice_id"].to_list()) <= set(unpaid_at_day0["invoice_id"].to_list())
    assert book.traits.height == 150


def test_attribute_rows_are_released_on_their_valid_from_day_and_never_before(
    book: TwinBook,
) -> None:
    """Issue 19: no night sees a score, limit or income dated after it."""
    stored = Store(book.store).read("customer_attributes")
    assert stored.filter(pl.col("valid_from") > DAY0).height > 0  # the horizon has some
    for day in (DAY0, DAY0 + timedelta(days=9), END):
        night = book.tables_at(day)["customer_attributes"].collect()
        assert night["valid_from"].max() <= day
        expected = stored.filter(pl.col("valid_from") <= day)
        assert night.sort("customer_id", "valid_from").equals(
            expected.sort("customer_id", "valid_from")
        ), day


def test_each_days_exports_carry_the_attribute_rows_valid_from_that_day(
    book: TwinBook, tmp_path: Path
) -> None:
    run = TwinStore(book, tmp_path / "run", Settings(document_key=TEST_DOCUMENT_KEY))
    try:
        assert run.store.read("customer_attributes")["valid_from"].max() <= DAY0
        state = book.past["customers"].select("customer_id", *OPT_OUTS)
        released = []
        for offset in range(1, DAYS + 1):
            day = DAY0 + timedelta(days=offset)
            rows = run.exports(
                day, None, None, state, pl.Series("invoice_id", [], pl.String),
                pl.DataFrame(schema=DROPPED_SCHEMA),
            )["customer_attributes"]  # fmt: skip
            assert (rows["valid_from"] == day).all(), day
            released.append(rows)
        expected = book.future_attributes.sort("customer_id", "valid_from")
        assert pl.concat(released).sort("customer_id", "valid_from").equals(expected)
    finally:
        run.close()
