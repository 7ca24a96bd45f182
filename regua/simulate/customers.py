"""Customers: observable attributes for the export, and the hidden traits behind their risk.

The latent risk index of a customer in month t is a sum of log-odds terms, one per C
of credit (plus a profile term):

- character  = -0.9 x a hidden trait (standard normal) that the bureau score also reflects;
- capacity   = 1.5 x (debt and card instalments over income - 0.55);
- capital    = -0.3 x (log(1 + liquid months of income) - 1.4), +0.4 for negative PJ equity;
- collateral = 0.1 - 0.5 x min(collateral value / credit limit, 1.5);
- conditions = exposure x the macro conditions of the customer's UF in month t;
- profile    = employment type, age and relationship tenure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from regua.contract import COLLATERAL_TYPES, CONTACT_CHANNELS, EMPLOYMENT_TYPES, UFS
from regua.documents import generate_cnpjs, generate_cpfs
from regua.simulate.calendar import Calendar
from regua.simulate.config import sequential_ids
from regua.simulate.geography import CITY_NAMES, UF_WEIGHTS, draw_cities
from regua.simulate.risk import CURRENT, RECOVERING, sigmoid

PJ_SHARE = 0.15
DAYS_PER_YEAR = 365.25
CREDIT_CARD, SERVICES = 0, 3  # codes into contract.PRODUCT_FAMILIES

# Per employment type, in contract.EMPLOYMENT_TYPES order:
# clt, public_servant, self_employed, informal, retired, unemployed, business.
_PF_EMPLOYMENT = np.array([0.44, 0.08, 0.17, 0.12, 0.14, 0.05, 0.0])
_INCOME_MEDIAN = np.array([3200, 5500, 3500, 1800, 2600, 900, 45000.0])
_EMPLOYMENT_RISK = np.array([0.0, -0.5, 0.2, 0.5, -0.3, 0.9, 0.1])
_EXPOSURE = np.array([1.0, 0.5, 1.3, 1.4, 0.6, 1.2, 1.3])
CLT, RETIRED, INFORMAL, UNEMPLOYED, BUSINESS = (
    EMPLOYMENT_TYPES.index(e) for e in ("clt", "retired", "informal", "unemployed", "business")
)
# Per collateral type: none, vehicle, real_estate, receivables, investments, guarantor.
_PF_COLLATERAL = np.array([0.74, 0.10, 0.05, 0.0, 0.04, 0.07])
_PJ_COLLATERAL = np.array([0.40, 0.12, 0.10, 0.28, 0.0, 0.10])
# Per payment method: pix, boleto, card, debit, agreement.
_PF_METHODS = np.array([0.45, 0.27, 0.10, 0.18, 0.0])
_PJ_METHODS = np.array([0.35, 0.45, 0.05, 0.15, 0.0])
_REACH = np.array([0.85, 0.92, 0.88, 0.42, 0.93, 0.38])  # by contract.CONTACT_CHANNELS
_RESPONSIVENESS = np.array([-2.8, -2.0, -1.3, -1.0, -1.8, -1.6])
_OPT_OUT = {"email": 0.03, "sms": 0.04, "whatsapp": 0.02, "phone": 0.05}
DO_NOT_CONTACT_SHARE = 0.01


@dataclass(frozen=True)
class CustomerBlock:
    """A block of customers: the export frame and the arrays the later stages need."""

    frame: pl.DataFrame
    ids: pl.Series
    is_pj: np.ndarray
    uf: np.ndarray
    open_month: np.ndarray  # month index of opening; billed from the next month
    character: np.ndarray  # hidden trait, standard normal (higher pays better)
    punctuality: np.ndarray  # hidden trait: pays on time rather than a few days late
    components: dict[str, np.ndarray]  # time-invariant latent risk terms (log-odds)
    exposure: np.ndarray  # multiplier of the macro conditions
    responsiveness: np.ndarray  # (n, channels): P(pays soon | reached on the channel)
    reach: np.ndarray  # (n, channels): P(a contact reaches the customer)
    allowed: np.ndarray  # (n, channels): may be contacted on the channel
    stale_phone: np.ndarray
    issue_day: np.ndarray  # day of month bills are issued (1..21)
    due_day: np.ndarray  # day of month bills fall due (8..28)
    primary: np.ndarray  # product code of the monthly bill (credit card or services)
    credit_limit: np.ndarray
    utilisation: np.ndarray  # mean share of the limit billed each month
    fee: np.ndarray  # monthly amount of a services bill
    income: np.ndarray  # true monthly income (PF) or revenue (PJ)
    method: np.ndarray  # preferred payment method, code into contract.PAYMENT_METHODS
    initial: np.ndarray  # state before the first step

    @property
    def base_risk(self) -> np.ndarray:
        """Latent risk without conditions: the sum of the time-invariant terms."""
        return sum(self.components.values())


def draw_kinds(customers: int, rng: np.random.Generator) -> np.ndarray:
    """True for PJ customers (about 15%), for the whole portfolio at once."""
    return rng.random(customers) < PJ_SHARE


def _unique(draw: np.ndarray, regenerate, rng: np.random.Generator) -> np.ndarray:
    while True:
        _, first = np.unique(draw, return_index=True)
        repeated = np.ones(len(draw), dtype=bool)
        repeated[first] = False
        if not repeated.any():
            return draw
        draw[repeated] = regenerate(rng, int(repeated.sum()))


def draw_documents(is_pj: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Distinct valid CPFs (PF) and CNPJs (PJ) for the whole portfolio, digits only."""
    documents = np.empty(len(is_pj), dtype="<U14")
    documents[~is_pj] = _unique(generate_cpfs(rng, int((~is_pj).sum())), generate_cpfs, rng)
    documents[is_pj] = _unique(generate_cnpjs(rng, int(is_pj.sum())), generate_cnpjs, rng)
    return documents


def format_documents(digits: pl.Expr, is_pj: pl.Expr) -> pl.Expr:
    """123.456.789-09 / 12.345.678/0001-95 punctuation, as regua.documents.format_cpf/cnpj."""
    s = digits.str.slice
    cpf = pl.concat_str([s(0, 3), pl.lit("."), s(3, 3), pl.lit("."), s(6, 3), pl.lit("-"), s(9, 2)])
    cnpj = pl.concat_str(
        [
            s(0, 2),
            pl.lit("."),
            s(2, 3),
            pl.lit("."),
            s(5, 3),
            pl.lit("/"),
            s(8, 4),
            pl.lit("-"),
            s(12, 2),
        ]
    )
    return pl.when(is_pj).then(cnpj).otherwise(cpf)


def customer_ids(first: int, n: int, total: int) -> pl.Series:
    """C0000001-style ids for customers first+1 .. first+n (wider past ten million)."""
    return sequential_ids("C", first, n, "customer_id", width=max(7, len(str(total))))


def _choice(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    return rng.choice(len(shares), size=n, p=shares / shares.sum()).astype(np.int8)


def _with_nulls(values: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    out = values.astype(float)
    out[rng.random(len(out)) < share] = np.nan
    return out


Draws = dict[str, np.ndarray]


def draw_relationship(pj: np.ndarray, calendar: Calendar, rng: np.random.Generator) -> Draws:
    """Opening day and month, ages: most customers predate the history, some join during it."""
    n = len(pj)
    start = calendar.history_start
    joins = rng.random(n) < min(0.3, 0.0075 * calendar.months)
    tenure_years = np.where(joins, 0.0, 15 * rng.beta(1.3, 2.2, size=n) + 0.05)
    opened = np.where(
        joins,
        rng.integers(start, calendar.end_day + 1, size=n),
        start - np.round(tenure_years * DAYS_PER_YEAR).astype(np.int64),
    )
    first_month = np.datetime64(start, "D").astype("datetime64[M]")
    open_month = opened.astype("datetime64[D]").astype("datetime64[M]") - first_month
    age = np.clip(rng.normal(41, 13, size=n), 18, 85)  # at the start of history
    age = np.maximum(age, tenure_years + 18 + rng.uniform(0, 3, size=n))
    company_age = rng.gamma(2.0, 2.5, size=n)  # at opening
    founding = opened - np.round(company_age * DAYS_PER_YEAR).astype(np.int64)
    birth = start - np.round(age * DAYS_PER_YEAR).astype(np.int64)
    return {
        "joins": joins,
        "tenure_years": tenure_years,
        "opened": opened,
        "open_month": open_month.astype(np.int32),
        "age": age,
        "company_age": company_age,
        "founding": founding,
        "birth_or_founding": np.where(pj, founding, birth),
    }


def draw_finances(
    pj: np.ndarray, age: np.ndarray, character: np.ndarray, rng: np.random.Generator
) -> Draws:
    """Employment, income, wealth, debts, bureau score, limit, product and collateral."""
    n = len(pj)
    employment = _choice(rng, _PF_EMPLOYMENT, n)
    employment = np.where((employment == RETIRED) & (age < 50), CLT, employment)
    employment = np.where((age >= 65) & (rng.random(n) < 0.75), RETIRED, employment)
    employment = np.where(pj, BUSINESS, employment)
    age_factor = np.where(pj, 1.0, np.exp(-(((age - 48) / 25) ** 2) * 0.5))
    income = _INCOME_MEDIAN[employment] * age_factor * np.exp(rng.normal(0, np.where(pj, 1.1, 0.6)))
    income = np.maximum(income, np.where(pj, 3000.0, 600.0))
    years_of_income = np.where(pj, np.log(0.6), np.log(1.2) + 0.02 * (age - 40))
    assets = income * 12 * np.exp(rng.normal(years_of_income, 1.0))
    months_saved = np.where(pj, np.log(0.8), np.log(1.5))
    savings = income * np.exp(rng.normal(months_saved, 1.1) + 0.3 * character)
    equity = np.where(pj, assets * rng.uniform(-0.25, 0.8, size=n), np.nan)
    dti_other = np.clip(0.21 * np.exp(0.5 * rng.normal(size=n) - 0.15 * character - 0.125), 0, 1.5)

    score_raw = 0.85 * character - 0.35 * (dti_other - 0.21) / 0.15 + 0.4 * rng.normal(size=n)
    score = np.clip(np.round(560 + 150 * score_raw), 0, 1000)
    thin_file = 0.13 + 0.10 * ((age < 25) & ~pj) + 0.06 * (employment == INFORMAL)
    score_missing = rng.random(n) < thin_file
    quality = np.clip((score - 300) / 600, 0, 1)
    multiplier = np.where(
        score_missing,
        np.where(pj, 0.25, 0.6),
        np.where(pj, 0.15 + 0.85 * quality, 0.4 + 2.6 * quality),
    )
    step = np.where(pj, 500.0, 50.0)
    credit_limit = np.maximum(np.round(income * multiplier / step) * step, np.where(pj, 1000, 100))

    card = rng.random(n) < np.where(pj, 0.45, 0.8)
    primary = np.where(card, CREDIT_CARD, SERVICES).astype(np.int8)
    utilisation = sigmoid(-1.0 + 0.6 * rng.normal(size=n) - 0.35 * character)
    fee = np.exp(rng.normal(np.where(pj, np.log(1500), np.log(180)), 0.5))

    collateral = np.where(pj, _choice(rng, _PJ_COLLATERAL, n), _choice(rng, _PF_COLLATERAL, n))
    lognormal = np.exp(rng.normal(0, 0.5, size=n))
    collateral_value = np.select(
        [
            collateral == COLLATERAL_TYPES.index(kind)
            for kind in ("vehicle", "real_estate", "investments", "guarantor", "receivables")
        ],
        [
            np.where(pj, 90_000, 45_000) * lognormal,
            np.where(pj, 800_000, 350_000) * lognormal,
            savings * rng.uniform(0.3, 1.0, size=n),
            credit_limit * rng.uniform(0.5, 2.0, size=n),
            income * rng.uniform(0.3, 1.5, size=n),
        ],
        default=0.0,
    )
    return {
        "employment": employment,
        "income": income,
        "declared": np.round(income * np.exp(rng.normal(0, 0.12, size=n)) / step) * step,
        "assets": assets,
        "savings": savings,
        "equity": equity,
        "debt": income * dti_other,
        "dti_other": dti_other,
        "score": np.where(score_missing, np.nan, score),
        "credit_limit": credit_limit,
        "primary": primary,
        "utilisation": utilisation,
        "fee": fee,
        "collateral": collateral,
        "collateral_value": collateral_value,
    }


def risk_components(
    pj: np.ndarray, relationship: Draws, finances: Draws, character: np.ndarray
) -> Draws:
    """The time-invariant latent risk terms (log-odds), one per C of credit plus a profile."""
    f = finances
    card_bill = f["credit_limit"] * f["utilisation"]
    monthly_bill = np.where(f["primary"] == CREDIT_CARD, card_bill, f["fee"])
    dti = np.clip(f["dti_other"] + monthly_bill / f["income"], 0, 2.5)
    liquid = (
        f["savings"] + 0.1 * f["assets"] + np.where(pj, 0.2 * np.maximum(f["equity"], 0), 0)
    ) / f["income"]
    coverage = f["collateral_value"] / np.maximum(f["credit_limit"], 1.0)
    age = relationship["age"]
    age_risk = np.where(
        pj,
        0.1 - 0.1 * np.log1p(relationship["company_age"]),
        0.35 * (age < 25) + 0.15 * ((age >= 25) & (age < 30)) - 0.15 * (age > 50),
    )
    return {
        "character": -0.9 * character,
        "capacity": 1.5 * (dti - 0.55),
        "capital": -0.3 * (np.log1p(liquid) - 1.4) + 0.4 * (pj & (f["equity"] < 0)),
        "collateral": 0.1 - 0.5 * np.minimum(coverage, 1.5),
        "profile": _EMPLOYMENT_RISK[f["employment"]]
        + age_risk
        - 0.12 * np.log1p(relationship["tenure_years"]),
    }


def draw_contactability(character: np.ndarray, rng: np.random.Generator) -> Draws:
    """Per-channel reach and responsiveness, stale phones and bouncing e-mails, opt-outs."""
    n = len(character)
    engagement = rng.normal(size=n)
    stale_phone = rng.random(n) < 0.06
    email_bounce = rng.random(n) < 0.05
    reach = np.tile(_REACH, (n, 1))
    for channel, factor in (("sms", 0.1), ("whatsapp", 0.1), ("phone", 0.0), ("agency", 0.5)):
        column = CONTACT_CHANNELS.index(channel)
        reach[:, column] = np.where(stale_phone, reach[:, column] * factor, reach[:, column])
    reach[:, CONTACT_CHANNELS.index("email")] *= ~email_bounce
    responsiveness = sigmoid(
        _RESPONSIVENESS
        + 0.7 * rng.normal(size=(n, len(CONTACT_CHANNELS)))
        + (0.35 * character + 0.45 * engagement)[:, None]
    )
    do_not_contact = rng.random(n) < DO_NOT_CONTACT_SHARE
    opt_out = {ch: rng.random(n) < share for ch, share in _OPT_OUT.items()}
    never = np.zeros(n, dtype=bool)
    allowed = np.column_stack(
        [~do_not_contact & ~opt_out.get(ch, never) for ch in CONTACT_CHANNELS]
    )
    return {
        "reach": reach,
        "responsiveness": responsiveness,
        "stale_phone": stale_phone,
        "do_not_contact": do_not_contact,
        "allowed": allowed,
        **{f"opt_out_{ch}": flag for ch, flag in opt_out.items()},
    }


def customers_frame(
    ids: pl.Series,
    pj: np.ndarray,
    documents: np.ndarray,
    uf: np.ndarray,
    city: np.ndarray,
    relationship: Draws,
    finances: Draws,
    contactability: Draws,
    calendar: Calendar,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """The customers export, a snapshot at `end`: rounded, sometimes missing, documents in clear."""
    n = len(pj)
    r, f = relationship, finances
    employment = f["employment"]
    age = r["age"]
    tenure_months = np.select(
        [pj, employment == RETIRED, employment == UNEMPLOYED],
        [
            (calendar.end_day - r["founding"]) / DAYS_PER_YEAR * 12,
            np.maximum(age - 60, 0) * 12 * rng.uniform(0.5, 1.0, size=n),
            np.nan,
        ],
        default=np.minimum(rng.exponential(60, size=n), (age - 16) * 12),
    )
    frame = pl.DataFrame(
        {
            "customer_id": ids,
            "kind": np.where(pj, "PJ", "PF"),
            "digits": documents,
            "formatted": rng.random(n) < 0.45,
            "state": np.array(UFS)[uf],
            "city": pl.Series(CITY_NAMES).gather(city),
            "city_missing": rng.random(n) < 0.01,
            "opened_at": r["opened"],
            "birth_or_founding": _with_nulls(r["birth_or_founding"], 0.02, rng),
            "declared_income": _with_nulls(f["declared"], 0.02, rng),
            "employment_type": pl.Series(EMPLOYMENT_TYPES).gather(employment),
            "employment_missing": rng.random(n) < 0.03,
            "employment_tenure_months": _with_nulls(np.round(tenure_months), 0.04, rng),
            "assets": _with_nulls(np.round(f["assets"], -2), 0.10, rng),
            "savings": _with_nulls(np.round(f["savings"], 2), 0.15, rng),
            "equity": _with_nulls(np.round(f["equity"], -2), 0.20, rng),
            "monthly_debt_obligations": _with_nulls(np.round(f["debt"], 2), 0.08, rng),
            "collateral_value": _with_nulls(np.round(f["collateral_value"], -2), 0.02, rng),
            "collateral_type": pl.Series(COLLATERAL_TYPES).gather(f["collateral"]),
            "collateral_missing": rng.random(n) < 0.01,
            "credit_limit": f["credit_limit"],
            "bureau_score": f["score"],
            "do_not_contact": contactability["do_not_contact"],
            **{f"opt_out_{ch}": contactability[f"opt_out_{ch}"] for ch in _OPT_OUT},
        },
        nan_to_null=True,
    )

    def unless(flag: str, column: str) -> pl.Expr:
        return pl.when(pl.col(flag)).then(None).otherwise(pl.col(column)).alias(column)

    return frame.with_columns(
        pl.when(pl.col("formatted"))
        .then(format_documents(pl.col("digits"), pl.col("kind") == "PJ"))
        .otherwise(pl.col("digits"))
        .alias("document"),
        unless("city_missing", "city"),
        unless("employment_missing", "employment_type"),
        unless("collateral_missing", "collateral_type"),
        pl.col("opened_at").cast(pl.Int32).cast(pl.Date),
        pl.col("birth_or_founding").cast(pl.Int32).cast(pl.Date),
        pl.col("employment_tenure_months").cast(pl.Int32),
        pl.col("bureau_score").cast(pl.Int32),
    )


def draw_customers(
    first: int,
    is_pj: np.ndarray,
    documents: np.ndarray,
    total: int,
    calendar: Calendar,
    rng: np.random.Generator,
) -> CustomerBlock:
    """Attributes, hidden traits and latent risk terms of one block of customers."""
    n = len(is_pj)
    uf = rng.choice(len(UFS), size=n, p=UF_WEIGHTS).astype(np.int8)
    city = draw_cities(uf, rng)
    character = rng.normal(size=n)
    punctuality = 0.6 * character + 0.8 * rng.normal(size=n)
    relationship = draw_relationship(is_pj, calendar, rng)
    finances = draw_finances(is_pj, relationship["age"], character, rng)
    components = risk_components(is_pj, relationship, finances, character)
    contactability = draw_contactability(character, rng)
    gap = rng.integers(7, 21, size=n)  # days from issue to due
    issue_day = rng.integers(1, 29 - gap, size=n)  # so that bills fall due on days 8-28
    method = np.where(is_pj, _choice(rng, _PJ_METHODS, n), _choice(rng, _PF_METHODS, n))
    past_lateness = rng.random(n) < sigmoid(sum(components.values()) - 1.6)
    initial = np.where(~relationship["joins"] & past_lateness, RECOVERING, CURRENT)
    ids = customer_ids(first, n, total)
    frame = customers_frame(
        ids, is_pj, documents, uf, city, relationship, finances, contactability, calendar, rng
    )
    return CustomerBlock(
        frame=frame,
        ids=ids,
        is_pj=is_pj,
        uf=uf,
        open_month=relationship["open_month"],
        character=character,
        punctuality=punctuality,
        components=components,
        exposure=_EXPOSURE[finances["employment"]],
        responsiveness=contactability["responsiveness"],
        reach=contactability["reach"],
        allowed=contactability["allowed"],
        stale_phone=contactability["stale_phone"],
        issue_day=issue_day.astype(np.int64),
        due_day=(issue_day + gap).astype(np.int64),
        primary=finances["primary"],
        credit_limit=finances["credit_limit"],
        utilisation=finances["utilisation"],
        fee=finances["fee"],
        income=finances["income"],
        method=method,
        initial=initial.astype(np.int8),
    )
