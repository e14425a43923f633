"""The ranges a roll-up or a chart covers, as a coordinator types them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.periods import MAX_RANGE_MONTHS, Month, PeriodError, Span, parse_range


@pytest.mark.parametrize(
    ("text", "first", "last", "span", "shown"),
    [
        ("2015-10", "2015-10", "2015-10", Span.MONTH, "2015-10"),
        ("2015-Q4", "2015-10", "2015-12", Span.QUARTER, "2015-Q4"),
        (" 2015q1 ", "2015-01", "2015-03", Span.QUARTER, "2015-Q1"),
        ("2015-H1", "2015-01", "2015-06", Span.HALF, "2015-H1"),
        ("2015h2", "2015-07", "2015-12", Span.HALF, "2015-H2"),
        ("2015", "2015-01", "2015-12", Span.YEAR, "2015"),
        ("2015-10..2016-2", "2015-10", "2016-02", Span.MONTHS, "2015-10..2016-02"),
        ("2016-02..2015-10", "2015-10", "2016-02", Span.MONTHS, "2015-10..2016-02"),
    ],
)
def test_each_form_names_its_months(
    text: str, first: str, last: str, span: Span, shown: str
) -> None:
    found = parse_range(text)
    assert (str(found.first), str(found.last), found.span, str(found)) == (first, last, span, shown)
    assert parse_range(str(found)) == found  # what is shown reads back the same


def test_a_quarter_has_three_months_in_order() -> None:
    assert [str(m) for m in parse_range("2015-Q4").months()] == ["2015-10", "2015-11", "2015-12"]


@pytest.mark.parametrize(
    "text", ["", "Q4", "2015-Q5", "2015-H3", "1999", "2015-13..2016-01", "2015-10..", "下半年"]
)
def test_anything_else_is_refused_with_the_forms(text: str) -> None:
    with pytest.raises(PeriodError) as refused:
        parse_range(text)
    assert "2015-Q4" in str(refused.value)


def test_a_range_of_decades_is_a_typo() -> None:
    with pytest.raises(PeriodError, match=str(MAX_RANGE_MONTHS)):
        parse_range("2000-01..2030-12")


@given(st.integers(2000, 2100), st.integers(1, 12), st.integers(0, MAX_RANGE_MONTHS - 1))
def test_a_span_of_months_has_them_all(year: int, month: int, more: int) -> None:
    first = Month(year, month)
    last = first
    for _ in range(more):
        last = last.next()
    months = parse_range(f"{first}..{last}").months()
    assert len(months) == more + 1 and months[0] == first and months[-1] == last
