"""The portfolio simulator: reproducible, contract-clean exports and a truth that matches them."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from regua.cli import app
from regua.contract import CONTACT_CHANNELS, PAYMENT_METHODS, UFS, raw_columns, table
from regua.documents import document_is_valid, format_cnpj, format_cpf, normalize_document
from regua.simulate import SimulationConfig, SimulationSummary, simulate_portfolio
from regua.simulate.config import RAW_TABLES
from regua.simulate.writer import TableWriter

END = date(2026, 10, 31)
REACHED = ["delivered", "read", "answered", "promise"]


def read_parquet_exports(folder: Path) -> dict[str, pl.DataFrame]:
    """The five exports and the truth of a Parquet simulation."""
    frames = {name: pl.read_parquet(folder / f"{name}.parquet") for name in RAW_TABLES}
    frames["truth"] = pl.read_parquet(folder / "truth" / "truth.parquet")
    return frames


def assert_obeys_contract(frames: dict[str, pl.DataFrame]) -> None:
    """Columns, dtypes, allowed values, bounds, nulls, keys, references and date orders."""
    for name in RAW_TABLES:
        t = table(name)
        frame = frames[name]
        columns = raw_columns(t)
        assert frame.columns == [c.name for c in columns], name
        for column in columns:
            series = frame[column.name]
            assert series.dtype == column.dtype, (name, column.name, series.dtype)
            if not column.nullable:
                assert series.null_count() == 0, (name, column.name)
            values = series.drop_nulls()
            if column.allowed is not None:
                assert values.is_in(list(column.allowed)).all(), (name, column.name)
            if column.min_value is not None:
                above = (
                    values > column.min_value if column.strict_min else values >= column.min_value
                )
                assert above.all(), (name, column.name)
            if column.max_value is not None:
                assert (values <= column.max_value).all(), (name, column.name)
        assert not frame.select(t.key).is_duplicated().any(), f"{name}: duplicate keys"
        for ref in t.references:
            known = frames[ref.table][ref.key].implode()
            assert frame[ref.column].drop_nulls().is_in(known).all(), (name, ref.column)
        for order in t.date_orders:
            if order.via is None:
                pairs = frame.select(order.later, order.earlier)
            else:
                ref = next(r for r in t.references if r.table == order.via)
                pairs = frame.join(
                    frames[order.via].select(ref.key, order.earlier),
                    left_on=ref.column,
                    right_on=ref.key,
                ).select(order.later, order.earlier)
            ok = pairs.drop_nulls().select(
                pl.col(order.later).cast(pl.Date) >= pl.col(order.earlier).cast(pl.Date)
            )
            assert ok.to_series().all(), (name, order)
    customers = frames["customers"]
    valid = customers.select(
        document_is_valid(normalize_document(pl.col("document")), pl.col("kind"))
    )
    assert valid.to_series().all()


def full_payment_dates(frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Day each invoice was paid in full (null when never, within the history)."""
    billed = frames["invoices"].select("invoice_id", pl.col("amount").alias("billed"))
    paid = (
        frames["payments"]
        .sort("paid_at", "payment_id")
        .with_columns(paid=pl.col("amount").cum_sum().over("invoice_id"))
        .join(billed, on="invoice_id")
        .filter(pl.col("paid") >= pl.col("billed") - 0.005)
        .group_by("invoice_id")
        .agg(full_paid=pl.col("paid_at").min())
    )
    return frames["invoices"].join(paid, on="invoice_id", how="left")


def observed_60_label(frames: dict[str, pl.DataFrame], end: date) -> pl.DataFrame:
    """Per customer-month with a fully observed window: an invoice 60+ days late in (T, T+180]."""
    invoices = full_payment_dates(frames).select("customer_id", "due_at", "full_paid")
    months = frames["truth"].select("customer_id", "month_end", "pd_60_180d", "state")
    months = months.filter(pl.col("month_end") + pl.duration(days=180) <= end)
    window_end = pl.col("month_end") + pl.duration(days=180)
    first_day = pl.max_horizontal(
        pl.col("month_end") + pl.duration(days=1), pl.col("due_at") + pl.duration(days=60)
    )
    hit = (first_day <= window_end) & (
        pl.col("full_paid").is_null() | (pl.col("full_paid") > first_day)
    )
    return (
        months.join(invoices, on="customer_id", how="left")
        .with_columns(hit=pl.col("due_at").is_not_null() & hit.fill_null(False))
        .group_by("customer_id", "month_end")
        .agg(pl.col("hit").any().alias("label"), pl.col("pd_60_180d", "state").first())
    )


def chain_60_label(truth: pl.DataFrame) -> pl.DataFrame:
    """The same event from the truth's states: 60+ now, or dpd30 -> dpd60 within five steps."""
    by = "customer_id"
    states = truth.sort(by, "month_end").with_columns(
        enters=(pl.col("state").shift(1).over(by) == "dpd30") & (pl.col("state") == "dpd60")
    )
    ahead = pl.any_horizontal(
        pl.col("enters").shift(-k).over(by).fill_null(False) for k in range(1, 6)
    )
    blocked = pl.col("state").is_in(["dpd60", "default", "charged_off"]) | pl.col(
        "state"
    ).str.starts_with("agreement")
    return states.select(by, "month_end", chain=blocked | ahead)


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    """A clean 24-month portfolio of 1,500 customers."""
    out = tmp_path_factory.mktemp("portfolio")
    simulate_portfolio(SimulationConfig(customers=1500, months=24, seed=11), out)
    return read_parquet_exports(out)


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    config = SimulationConfig(customers=200, months=12, seed=3)
    first = simulate_portfolio(config, tmp_path / "a")
    simulate_portfolio(config, tmp_path / "b")
    simulate_portfolio(SimulationConfig(customers=200, months=12, seed=4), tmp_path / "c")
    for path in first.files:
        relative = path.relative_to(tmp_path / "a")
        assert path.read_bytes() == (tmp_path / "b" / relative).read_bytes(), relative
    differs = [
        path.read_bytes() != (tmp_path / "c" / path.relative_to(tmp_path / "a")).read_bytes()
        for path in first.files
        if path.stem != "macro"
    ]
    assert all(differs)


def test_summary_lists_files_rows_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    summary = simulate_portfolio(SimulationConfig(customers=50, months=3, seed=1), tmp_path)
    assert isinstance(summary, SimulationSummary)
    assert [p.name for p in summary.files] == [
        *(f"{name}.parquet" for name in RAW_TABLES),
        "truth.parquet",
    ]
    assert summary.rows["customers"] == 50
    assert summary.rows["truth"] == 150
    assert all(p.exists() for p in summary.files)
    assert not list(tmp_path.rglob("*.tmp"))
    text = summary.to_text()
    assert "invoices" in text and "truth.parquet" in text


def test_an_aborted_table_leaves_no_file(tmp_path: Path) -> None:
    schema = pl.Schema({c.name: c.dtype for c in raw_columns(table("macro"))})
    writer = TableWriter(tmp_path / "macro.parquet", schema, "parquet")
    writer.write(
        pl.DataFrame(
            {"month": [date(2026, 1, 1)], "indicator": ["selic"], "value": [10.5], "region": ["BR"]}
        )
    )
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_clean_portfolio_obeys_the_contract(portfolio: dict[str, pl.DataFrame]) -> None:
    assert_obeys_contract(portfolio)


def test_clean_portfolio_is_censored_at_end_and_never_overpaid(
    portfolio: dict[str, pl.DataFrame],
) -> None:
    assert portfolio["payments"]["paid_at"].max() <= END
    assert portfolio["contacts"]["at"].max().date() <= END
    assert portfolio["invoices"]["issued_at"].max() <= END
    paid = full_payment_dates(portfolio)
    totals = portfolio["payments"].group_by("invoice_id").agg(pl.col("amount").sum())
    over = (
        portfolio["invoices"]
        .join(totals, on="invoice_id")
        .filter(pl.col("amount_right") > pl.col("amount") + 0.005)
    )
    assert over.height == 0
    assert paid["full_paid"].is_not_null().mean() > 0.8
    macro_months = portfolio["macro"]["month"]
    assert macro_months.min() < date(2024, 11, 1) and macro_months.max() == date(2026, 10, 1)


def test_documents_are_cpf_for_pf_and_cnpj_for_pj_some_formatted(
    portfolio: dict[str, pl.DataFrame],
) -> None:
    customers = portfolio["customers"].with_columns(digits=normalize_document(pl.col("document")))
    assert customers["digits"].n_unique() == customers.height
    lengths = customers.group_by("kind").agg(pl.col("digits").str.len_chars().unique())
    assert dict(lengths.iter_rows()) == {"PF": [11], "PJ": [14]}
    formatted = customers.filter(pl.col("document") != pl.col("digits"))
    assert 0.2 < formatted.height / customers.height < 0.8
    for kind, document, digits in formatted.select("kind", "document", "digits").head(20).rows():
        assert document == (format_cpf(digits) if kind == "PF" else format_cnpj(digits))


def test_contacts_follow_the_rules_of_the_ladder(portfolio: dict[str, pl.DataFrame]) -> None:
    customers = portfolio["customers"]
    contacts = portfolio["contacts"].join(customers, on="customer_id")
    assert contacts.filter(pl.col("do_not_contact")).height == 0
    for channel in ("email", "sms", "whatsapp", "phone"):
        assert (
            contacts.filter(pl.col(f"opt_out_{channel}") & (pl.col("channel") == channel)).height
            == 0
        )
    at = contacts["at"]
    assert (at.dt.weekday() <= 5).all()
    assert at.dt.hour().is_between(8, 19).all()
    assert set(contacts["channel"].unique()) == set(CONTACT_CHANNELS)
    due = portfolio["invoices"].select("invoice_id", "due_at")
    after_due = contacts.join(due, on="invoice_id").select(
        pl.col("at").dt.date() > pl.col("due_at")
    )
    assert after_due.to_series().all()
    promises = contacts.filter(pl.col("outcome") == "promise")
    assert promises["promise_date"].null_count() == 0 and promises["promise_amount"].min() > 0


def test_truth_has_one_row_per_customer_month_and_probabilities(
    portfolio: dict[str, pl.DataFrame],
) -> None:
    truth = portfolio["truth"]
    assert truth.height == 1500 * 24
    assert not truth.select("customer_id", "month_end").is_duplicated().any()
    assert truth["month_end"].n_unique() == 24 and truth["month_end"].max() == END
    assert truth["month_end"].dtype == pl.Date
    for name in ("pd_next_month", "pd_60_180d", "propensity_to_pay"):
        assert truth[name].is_between(0.0, 1.0).all(), name
    parts = [c for c in truth.columns if c.startswith("risk_")]
    total = truth.select(pl.sum_horizontal(parts) - pl.col("latent_risk")).to_series()
    assert total.abs().max() < 1e-9
    assert {f"responsiveness_{c}" for c in CONTACT_CHANNELS} <= set(truth.columns)
    assert truth["macro_shock"].any() and not truth["macro_shock"].all()


def test_truth_pd_60_is_the_event_in_the_written_data(
    portfolio: dict[str, pl.DataFrame],
) -> None:
    observed = observed_60_label(portfolio, END)
    chain = chain_60_label(portfolio["truth"])
    both = observed.join(chain, on=["customer_id", "month_end"])
    assert both.height == 1500 * 18
    assert both.filter(pl.col("label") != pl.col("chain")).height == 0
    assert both.filter(pl.col("chain"))["pd_60_180d"].min() > 0.0
    assert both["label"].sum() > 100
    assert both["pd_60_180d"].mean() == pytest.approx(both["label"].mean(), rel=0.2)
    ranked = both.with_columns(high=pl.col("pd_60_180d") > pl.col("pd_60_180d").median())
    rates = dict(ranked.group_by("high").agg(pl.col("label").mean()).iter_rows())
    assert rates[True] > 5 * rates[False]


def test_truth_pd_next_month_matches_missed_next_bills(
    portfolio: dict[str, pl.DataFrame],
) -> None:
    bills = (
        full_payment_dates(portfolio)
        .filter(pl.col("due_at") + pl.duration(days=29) <= END)
        .group_by("customer_id", month=pl.col("issued_at").dt.month_end())
        .agg(
            missed=(
                pl.col("full_paid").is_null()
                | ((pl.col("full_paid") - pl.col("due_at")).dt.total_days() > 29)
            ).any()
        )
    )
    truth = portfolio["truth"].with_columns(
        month=pl.col("month_end").dt.offset_by("1mo").dt.month_end()
    )
    joined = truth.join(bills, on=["customer_id", "month"])
    for state in ("current", "recovering", "dpd30"):
        rows = joined.filter(pl.col("state") == state)
        assert rows["pd_next_month"].mean() == pytest.approx(rows["missed"].mean(), rel=0.3), state


def test_promises_are_kept_more_by_customers_with_a_high_propensity(
    portfolio: dict[str, pl.DataFrame],
) -> None:
    paid = full_payment_dates(portfolio).select("invoice_id", "full_paid")
    propensity = portfolio["truth"].group_by("customer_id").agg(pl.col("propensity_to_pay").mean())
    promises = (
        portfolio["contacts"]
        .filter(pl.col("outcome") == "promise")
        .join(paid, on="invoice_id")
        .join(propensity, on="customer_id")
        .with_columns(
            kept=pl.col("full_paid").is_not_null()
            & (pl.col("full_paid") <= pl.col("promise_date")),
            high=pl.col("propensity_to_pay") > pl.col("propensity_to_pay").median(),
        )
    )
    kept = dict(promises.group_by("high").agg(pl.col("kept").mean()).iter_rows())
    assert 0.0 < kept[False] < kept[True] - 0.1


def test_higher_latent_risk_means_more_late_payments(portfolio: dict[str, pl.DataFrame]) -> None:
    invoices = full_payment_dates(portfolio).filter(pl.col("due_at") <= END - timedelta(days=30))
    late = invoices.with_columns(
        late=pl.col("full_paid").is_null() | (pl.col("full_paid") > pl.col("due_at"))
    )
    risk = portfolio["truth"].group_by("customer_id").agg(pl.col("latent_risk").mean())
    quartile = (pl.col("latent_risk").rank() * 4 / pl.len()).ceil()
    rates = (
        late.join(risk, on="customer_id")
        .group_by(quartile.alias("q"))
        .agg(pl.col("late").mean())
        .sort("q")["late"]
        .to_list()
    )
    assert rates == sorted(rates)
    assert rates[-1] > 3 * rates[0]


def test_shock_months_have_more_late_payments(portfolio: dict[str, pl.DataFrame]) -> None:
    shock = (
        portfolio["truth"]
        .group_by("month_end")
        .agg(pl.col("macro_shock").first())
        .select(month=pl.col("month_end").dt.truncate("1mo"), shock="macro_shock")
    )
    first = shock.filter("shock")["month"].min()
    invoices = full_payment_dates(portfolio).with_columns(
        month=pl.col("due_at").dt.truncate("1mo"),
        late=pl.col("full_paid").is_null() | (pl.col("full_paid") > pl.col("due_at")),
    )
    rates = (
        invoices.join(shock, on="month")
        .filter(pl.col("shock") | (pl.col("month") < first))
        .group_by("shock")
        .agg(pl.col("late").mean())
    )
    by_period = dict(rates.iter_rows())
    assert by_period[True] > 1.2 * by_period[False]
    unemployment = portfolio["macro"].filter(
        (pl.col("indicator") == "unemployment") & (pl.col("region") == "BR")
    )
    during = unemployment.join(shock, on="month")
    peak = during.filter("shock")["value"].mean()
    assert peak > during.filter(~pl.col("shock"))["value"].mean() + 2


def test_payment_hazard_is_higher_just_after_a_reached_contact(
    portfolio: dict[str, pl.DataFrame],
) -> None:
    contacts = portfolio["contacts"]
    paid = full_payment_dates(portfolio).with_columns(
        dpd=(pl.col("full_paid") - pl.col("due_at")).dt.total_days()
    )
    late = paid.filter(
        pl.col("dpd").is_between(1, 29)
        & pl.col("invoice_id").is_in(contacts["invoice_id"].implode())
    )
    at_risk = late.select("invoice_id", "due_at", "dpd", day=pl.int_ranges(1, pl.col("dpd") + 1))
    at_risk = at_risk.explode("day")
    reached = (
        contacts.filter(pl.col("outcome").is_in(REACHED))
        .join(late.select("invoice_id", "due_at"), on="invoice_id")
        .select("invoice_id", contact=(pl.col("at").dt.date() - pl.col("due_at")).dt.total_days())
    )
    days = (
        at_risk.join(reached, on="invoice_id", how="left")
        .with_columns(near=(pl.col("day") - pl.col("contact")).is_between(0, 2).fill_null(False))
        .group_by("invoice_id", "day", "dpd")
        .agg(pl.col("near").any())
        .with_columns(paid=pl.col("day") == pl.col("dpd"))
    )
    hazard = dict(days.group_by("near").agg(pl.col("paid").mean()).iter_rows())
    assert hazard[True] > 1.3 * hazard[False]


def test_customers_look_like_a_brazilian_portfolio(portfolio: dict[str, pl.DataFrame]) -> None:
    customers = portfolio["customers"]
    share_pj = (customers["kind"] == "PJ").mean()
    assert 0.11 < share_pj < 0.19
    assert 0.10 < customers["bureau_score"].is_null().mean() < 0.20
    assert customers["do_not_contact"].mean() < 0.03
    assert set(customers["state"].unique()) <= set(UFS)
    top = customers["state"].value_counts(sort=True)["state"][0]
    assert top == "SP"
    assert customers["city"].str.contains("ã|á|é|í|ó|ú|ô|ê|ç").any()
    pj = customers.filter(pl.col("kind") == "PJ")
    pf = customers.filter(pl.col("kind") == "PF")
    assert pj["employment_type"].drop_nulls().unique().to_list() == ["business"]
    assert pj["declared_income"].median() > 5 * pf["declared_income"].median()
    assert pf["equity"].null_count() == pf.height
    start = date(2024, 11, 1)
    assert customers["opened_at"].min() > start - timedelta(days=16 * 366)
    assert (customers["opened_at"] >= start).mean() > 0.05
    score = customers.join(
        portfolio["truth"].group_by("customer_id").agg(pl.col("character").first()),
        on="customer_id",
    )
    assert score.select(pl.corr("bureau_score", "character")).item() > 0.5
    methods = portfolio["payments"]["method"].value_counts()
    assert set(methods["method"]) == set(PAYMENT_METHODS)
    products = set(portfolio["invoices"]["product"].unique())
    assert {"credit_card", "retail_installment", "personal_loan", "working_capital"} <= products
    plans = portfolio["invoices"].filter(pl.col("installments_total") > 1)
    assert (plans["installment_no"] <= plans["installments_total"]).all()
    assert (plans["installment_no"] > 1).any()


def test_defaulters_settle_through_agreements_in_instalments(
    portfolio: dict[str, pl.DataFrame],
) -> None:
    truth = portfolio["truth"]
    assert truth.filter(pl.col("state") == "default")["customer_id"].n_unique() > 10
    agreement = portfolio["payments"].filter(pl.col("method") == "agreement")
    per_customer = agreement.group_by("customer_id").agg(pl.col("paid_at").n_unique())
    assert per_customer["paid_at"].max() >= 2
    settled = truth.filter(pl.col("state").str.starts_with("agreement"))["customer_id"].unique()
    assert agreement["customer_id"].is_in(settled.implode()).all()


def _read_pt_br(path: Path) -> pl.DataFrame:
    text = path.read_bytes().decode("latin-1")
    return pl.read_csv(
        io.BytesIO(text.encode()), separator=";", decimal_comma=True, infer_schema=False
    )


def test_csv_dialects_round_trip_the_parquet_values(tmp_path: Path) -> None:
    config = SimulationConfig(customers=150, months=6, seed=8)
    simulate_portfolio(config, tmp_path / "parquet")
    simulate_portfolio(config, tmp_path / "en", fmt="csv", locale="en")
    simulate_portfolio(config, tmp_path / "pt", fmt="csv", locale="pt_BR")
    reference = read_parquet_exports(tmp_path / "parquet")
    assert (tmp_path / "pt" / "truth" / "truth.parquet").exists()

    for name in RAW_TABLES:
        schema = pl.Schema({c.name: c.dtype for c in raw_columns(table(name))})
        en = pl.read_csv(tmp_path / "en" / f"{name}.csv", schema=schema)
        assert en.equals(reference[name]), name

    raw = (tmp_path / "pt" / "customers.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    header, first = raw.decode("latin-1").splitlines()[:2]
    assert header.startswith("customer_id;kind;document;state;city;opened_at")
    assert first.split(";")[-1] in {"S", "N"}
    customers = _read_pt_br(tmp_path / "pt" / "customers.csv")
    expected = reference["customers"]
    assert customers["city"].fill_null("").to_list() == expected["city"].fill_null("").to_list()
    assert (
        customers["opened_at"]
        .str.to_date("%d/%m/%Y")
        .equals(expected["opened_at"], null_equal=True)
    )
    limits = customers["credit_limit"].str.replace(",", ".", literal=True).cast(pl.Float64)
    assert limits.equals(expected["credit_limit"])
    assert (customers["do_not_contact"] == "S").to_list() == expected["do_not_contact"].to_list()

    invoices = _read_pt_br(tmp_path / "pt" / "invoices.csv")
    assert invoices["amount"].str.contains(r"^\d+,\d{2}$").all()
    assert invoices["issued_at"].str.contains(r"^\d{2}/\d{2}/\d{4}$").all()
    contacts = _read_pt_br(tmp_path / "pt" / "contacts.csv")
    parsed = contacts["at"].str.to_datetime("%d/%m/%Y %H:%M:%S", time_unit="us")
    assert parsed.equals(reference["contacts"]["at"])


DEFECT_CHECKS = {
    "customers": {
        "bad_document": ~document_is_valid(normalize_document(pl.col("document")), pl.col("kind")),
        "unknown_state": ~pl.col("state").is_in(list(UFS)),
        "duplicate_key": pl.col("customer_id").is_duplicated(),
    },
    "invoices": {
        "nonpositive_amount": pl.col("amount") <= 0,
        "due_before_issue": pl.col("due_at") < pl.col("issued_at"),
        "duplicate_key": pl.col("invoice_id").is_duplicated(),
    },
    "payments": {
        "nonpositive_amount": pl.col("amount") <= 0,
        "unknown_method": ~pl.col("method").is_in(list(PAYMENT_METHODS)),
        "duplicate_key": pl.col("payment_id").is_duplicated(),
    },
    "contacts": {"duplicate_key": pl.col("contact_id").is_duplicated()},
}


def test_error_rate_injects_every_defect_kind(tmp_path: Path) -> None:
    rate = 0.05
    simulate_portfolio(
        SimulationConfig(customers=300, months=12, seed=5, error_rate=rate), tmp_path
    )
    frames = read_parquet_exports(tmp_path)
    for name, checks in DEFECT_CHECKS.items():
        flags = frames[name].select(**checks)
        for kind in checks:
            assert flags[kind].any(), (name, kind)
        defective = flags.select(pl.any_horizontal(pl.all())).to_series().mean()
        assert defective < 3 * rate, name
    payments = frames["payments"].join(
        frames["invoices"].unique("invoice_id", keep="first").select("invoice_id", "issued_at"),
        on="invoice_id",
        how="left",
    )
    assert payments["issued_at"].is_null().any(), "no payment references an unknown invoice"
    assert (payments["paid_at"] < payments["issued_at"]).any(), "no payment before its invoice"
    assert frames["truth"].height == 300 * 12


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    customers=st.integers(1, 40),
    months=st.integers(1, 9),
    seed=st.integers(0, 2**32),
    end=st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)),
)
def test_any_clean_simulation_obeys_the_contract(
    tmp_path_factory: pytest.TempPathFactory, customers: int, months: int, seed: int, end: date
) -> None:
    out = tmp_path_factory.mktemp("any")
    config = SimulationConfig(customers=customers, months=months, seed=seed, end=end)
    summary = simulate_portfolio(config, out)
    frames = read_parquet_exports(out)
    assert_obeys_contract(frames)
    assert summary.rows["truth"] == customers * months == frames["truth"].height
    assert frames["truth"]["month_end"].max() == end
    if frames["payments"].height:
        assert frames["payments"]["paid_at"].max() <= end


def test_config_rejects_impossible_settings() -> None:
    with pytest.raises(ValueError, match="customers"):
        SimulationConfig(customers=0, months=3, seed=1)
    with pytest.raises(ValueError, match="months"):
        SimulationConfig(customers=5, months=0, seed=1)
    with pytest.raises(ValueError, match="error_rate"):
        SimulationConfig(customers=5, months=3, seed=1, error_rate=-0.1)


def test_cli_simulate_writes_the_exports(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["simulate", "--customers", "30", "--months", "4", "--seed", "2", "--out", str(tmp_path),
         "--format", "csv", "--locale", "pt_BR", "--end", "2025-06-15"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "customers" in result.output
    assert (tmp_path / "payments.csv").exists() and (tmp_path / "truth" / "truth.parquet").exists()


def test_a_customer_60_days_late_has_a_later_lower_bureau_score(
    portfolio: dict[str, pl.DataFrame],
) -> None:
    """Issue 19: the score reacts to delinquency, in rows dated after the event."""
    history = portfolio["customer_attributes"]
    truth = portfolio["truth"]
    first_60 = (
        truth.filter(pl.col("state") == "dpd60")
        .group_by("customer_id")
        .agg(pl.col("month_end").min().alias("late_at"))
    )
    scored = history.join(first_60, on="customer_id")
    before = (
        scored.filter(pl.col("valid_from") <= pl.col("late_at"))
        .sort("valid_from")
        .group_by("customer_id")
        .agg(pl.col("bureau_score").last().alias("score_then"))
    )
    after = (
        scored.filter(pl.col("valid_from") > pl.col("late_at"))
        .group_by("customer_id")
        .agg(pl.col("bureau_score").min().alias("lowest_after"))
    )
    compared = before.join(after, on="customer_id", how="left").drop_nulls("score_then")
    # the drop shows two months after the step (the export date may come first)
    late = first_60.filter(pl.col("late_at") < END - timedelta(days=95))
    compared = compared.join(late.select("customer_id"), on="customer_id")
    assert compared.height > 20
    floor = compared.select(pl.max_horizontal(pl.col("score_then") - 100, 0)).to_series()
    assert (compared["lowest_after"] <= floor).all()  # a drop of 100+ points, down to 0


def test_the_customers_export_shows_the_history_on_the_export_date(
    portfolio: dict[str, pl.DataFrame],
) -> None:
    last = portfolio["customer_attributes"].sort("valid_from").group_by("customer_id").last()
    joined = portfolio["customers"].join(last, on="customer_id", suffix="_row")
    assert joined.height == portfolio["customers"].height
    for name in ("bureau_score", "credit_limit", "declared_income", "employment_type"):
        same = joined[name].eq_missing(joined[f"{name}_row"])
        assert same.all(), name
    assert (joined["valid_from"] <= END).all()
    cut = joined.filter(pl.col("credit_limit") < pl.col("credit_limit_row"))
    assert cut.height == 0
