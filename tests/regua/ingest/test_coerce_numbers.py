"""Numbers in a file's dialect: clean forms read exactly, nothing non-finite, no rescaling.

A value written in the other dialect is flagged ambiguous and not read at all.
"""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from regua.ingest.coerce import ambiguity_flag, read_numbers

cents = st.integers(min_value=0, max_value=10**11)


def read(texts: list[str | None], decimal: str) -> pl.DataFrame:
    frame = read_numbers(
        pl.DataFrame({"amount": texts}, schema={"amount": pl.String}), ["amount"], decimal
    )
    return frame.select(
        pl.col("_number_amount").alias("number"), pl.col(ambiguity_flag("amount")).alias("fits")
    )


def written(value_cents: int, decimal: str, *, grouped: bool) -> str:
    """A value as a company's export writes it: `1234.56`, `1,234.56`, `1.234,56` ..."""
    text = f"{value_cents / 100:,.2f}" if grouped else f"{value_cents / 100:.2f}"
    if decimal == ",":
        text = text.translate(str.maketrans({",": ".", ".": ","}))
    return text


@settings(max_examples=200, deadline=None)
@given(value=cents, decimal=st.sampled_from([",", "."]), grouped=st.booleans())
def test_clean_forms_of_the_dialect_read_exactly(value, decimal, grouped):
    out = read([written(value, decimal, grouped=grouped)], decimal).row(0)
    assert out == (round(value / 100, 2), True)


@settings(max_examples=200, deadline=None)
@given(value=st.integers(min_value=100_000, max_value=10**11), grouped=st.booleans())
def test_a_value_written_in_the_other_dialect_is_ambiguous_not_rescaled(value, grouped):
    # at least R$ 1.000,00, so a grouped form has a group separator; with cents, so the
    # decimal mark is there too
    for decimal, other in ((",", "."), (".", ",")):
        text = written(value, other, grouped=grouped)
        assert read([text], decimal).row(0) == (None, False), (decimal, text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="0123456789.,-+eE infatyINFATYR$", max_size=14))
def test_any_text_is_a_finite_number_or_nothing(text):
    number, fits = read([text], ",").row(0)
    assert number is None or abs(number) < float("inf")
    assert not (number is not None and fits is False)  # an ambiguous cell is never read


def test_words_for_infinity_and_not_a_number_are_no_numbers_and_not_ambiguous():
    texts = ["inf", "-Infinity", "NaN", "nan", "1E+400", "1e308", None]
    assert read(texts, ".").rows() == [
        (None, True),
        (None, True),
        (None, True),
        (None, True),
        (None, True),
        (1e308, True),
        (None, None),
    ]
