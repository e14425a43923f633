"""Reporting months and due times, in the organisation's time zone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.core.texts import TerminalError
from bot.core.workdays import LIBRARY, WorkCalendar

# The organisation's zone when neither the roster nor TIMEZONE names one.
DEFAULT_ZONE = "Asia/Shanghai"
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_HALF = re.compile(r"^(\d{4})-?[Hh]([12])$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(TerminalError, ValueError):
    """A month or due time the user typed is not valid."""


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)


@dataclass(frozen=True)
class PeriodView:
    """What a step of a liaison's report needs to know of its period."""

    id: int
    month: str
    due_at: datetime
    is_open: bool


def parse_month(text: str) -> Month:
    match = _MONTH.match(text.strip())
    if not match:
        raise PeriodError("bad_month", text=text)
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 2000:
        raise PeriodError("bad_month", text=text)
    return Month(year, month)


class Span(StrEnum):
    """What a range of months is, for its title: 10月, 第四季度, 下半年, 年度 or 10月—12月."""

    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"
    MONTHS = "months"  # any A..B


@dataclass(frozen=True)
class MonthRange:
    """The months a roll-up or a chart covers, first and last included."""

    first: Month
    last: Month
    span: Span
    number: int = 0  # the quarter (1–4) or half (1–2); 0 otherwise

    def months(self) -> list[Month]:
        found, month = [], self.first
        while month <= self.last:
            found.append(month)
            month = month.next()
        return found

    def __str__(self) -> str:
        """As the user wrote it, normalised: 2015-10, 2015-Q4, 2015-H2, 2015, 2015-10..2015-12."""
        year = self.first.year
        return {
            Span.MONTH: str(self.first),
            Span.QUARTER: f"{year}-Q{self.number}",
            Span.HALF: f"{year}-H{self.number}",
            Span.YEAR: str(year),
            Span.MONTHS: f"{self.first}..{self.last}",
        }[self.span]


def _months(year: int, first: int, last: int, span: Span, number: int = 0) -> MonthRange:
    if year < 2000:
        raise PeriodError("bad_range", text=str(year))
    return MonthRange(Month(year, first), Month(year, last), span, number)


MAX_RANGE_MONTHS = 120  # ten years: more is a typo, not a report


def parse_range(text: str) -> MonthRange:
    """'2015-10', '2015-Q4', '2015-H2', '2015' or '2015-10..2015-12' → the months it covers."""
    wanted = text.strip()
    if quarter := _QUARTER.match(wanted):
        number = int(quarter.group(2))
        return _months(int(quarter.group(1)), 3 * number - 2, 3 * number, Span.QUARTER, number)
    if half := _HALF.match(wanted):
        number = int(half.group(2))
        return _months(int(half.group(1)), 6 * number - 5, 6 * number, Span.HALF, number)
    if year := _YEAR.match(wanted):
        return _months(int(year.group(1)), 1, 12, Span.YEAR)
    if ".." in wanted:
        start, _, end = wanted.partition("..")
        try:
            first, last = parse_month(start), parse_month(end)
        except PeriodError:
            raise PeriodError("bad_range", text=text) from None
        if last < first:
            first, last = last, first
        found = MonthRange(first, last, Span.MONTHS)
        if len(found.months()) > MAX_RANGE_MONTHS:
            raise PeriodError("range_too_long", text=text, limit=MAX_RANGE_MONTHS)
        return found
    try:
        month = parse_month(wanted)
    except PeriodError:
        raise PeriodError("bad_range", text=text) from None
    return MonthRange(month, month, Span.MONTH)


def parse_due(text: str, tz: ZoneInfo) -> datetime:
    """'2015-11-05 17:00' in the organisation's zone → aware UTC."""
    try:
        local = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise PeriodError("bad_due", text=text) from None
    return local.replace(tzinfo=tz).astimezone(UTC)


DUE_DAY, DUE_TIME = 5, time(17, 0)


def default_due(month: Month, tz: ZoneInfo, calendar: WorkCalendar = LIBRARY) -> datetime:
    """The office's usual deadline: 17:00 on the 5th of the next month, or on the next
    working day when the 5th is not one (2026-10-05, National Day: 2026-10-08)."""
    following = month.next()
    day = calendar.on_or_after(date(following.year, following.month, DUE_DAY))
    return datetime.combine(day, DUE_TIME, tzinfo=tz).astimezone(UTC)


def local_text(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def weekday(moment: datetime, tz: ZoneInfo) -> int:
    """The day of the week in the organisation's zone: 0 Monday … 6 Sunday (the words:
    the text ``weekday``)."""
    return moment.astimezone(tz).weekday()


@dataclass(frozen=True)
class ListedPeriod:
    """One line of the period list (/period and `huibao period list`)."""

    month: str
    due: str  # the due time as the organisation reads it
    open: bool
    weekday: int = 0  # of the due day, 0 Monday … 6 Sunday


def listed(periods: Iterable[PeriodView], tz: ZoneInfo) -> list[ListedPeriod]:
    return [
        ListedPeriod(p.month, local_text(p.due_at, tz), p.is_open, weekday(p.due_at, tz))
        for p in periods
    ]
