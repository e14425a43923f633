"""Working days: China's public holidays and 调休 working days, and the office's own list.

The one place that knows which days are working days. The facts come from the
`chinese-calendar` library (the State Council's notices, one year at a time) and only
from here; the office's overrides (storage/calendar.py) win over them. A year the
library does not know yet counts Monday to Friday as working days, and the
coordinators are told (bot/broadcast.py) so that they can add that year's days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

import chinese_calendar

# How far a search for a working day looks: the longest run of days off is about ten.
SEARCH_DAYS = 60

_HOLIDAYS: Mapping[date, str] = chinese_calendar.holidays
_WORKDAYS: Mapping[date, str] = chinese_calendar.workdays  # 调休: weekend days worked
KNOWN_YEARS = frozenset(day.year for day in _HOLIDAYS)


@dataclass(frozen=True)
class LibraryDay:
    """A day the library lists: a public holiday, or a weekend day worked (调休)."""

    day: date
    working: bool
    name: str  # the holiday it belongs to, in English ("National Day")


@dataclass(frozen=True)
class Override:
    """A day the office set itself: a local holiday or a working day."""

    day: date
    working: bool
    note: str = ""


def _frozen(overrides: Mapping[date, bool]) -> Mapping[date, bool]:
    return MappingProxyType(dict(overrides))


@dataclass(frozen=True, eq=False)
class WorkCalendar:
    """The library's facts plus the office's overrides (day → working?)."""

    overrides: Mapping[date, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "overrides", _frozen(self.overrides))

    @classmethod
    def of(cls, overrides: Iterable[Override]) -> WorkCalendar:
        return cls({o.day: o.working for o in overrides})

    def is_workday(self, day: date) -> bool:
        """The office's word first, then the library's, then Monday to Friday."""
        if day in self.overrides:
            return self.overrides[day]
        if day in _WORKDAYS:
            return True
        if day in _HOLIDAYS:
            return False
        return day.weekday() < 5

    def library_knows(self, year: int) -> bool:
        return year in KNOWN_YEARS

    def covers(self, year: int) -> bool:
        """Whether the year's days off are known: to the library, or to the office (any
        override in that year counts as the office having looked at it)."""
        return self.library_knows(year) or any(day.year == year for day in self.overrides)

    def on_or_before(self, day: date) -> date:
        """The last working day on or before `day`."""
        return self._search(day, -1)

    def on_or_after(self, day: date) -> date:
        """The first working day on or after `day`."""
        return self._search(day, 1)

    def _search(self, start: date, step: int) -> date:
        """The nearest working day in the direction of `step`; `start` itself when there
        is none within SEARCH_DAYS (the office made two months days off: a reminder on a
        day off beats none, and a due day stays where it was asked)."""
        day = start
        for _ in range(SEARCH_DAYS):
            if self.is_workday(day):
                return day
            day += timedelta(days=step)
        return start


def library_days(year: int) -> list[LibraryDay]:
    """The library's holidays and 调休 working days of a year, in order (none if it does
    not know the year)."""
    found = [LibraryDay(d, False, name) for d, name in _HOLIDAYS.items() if d.year == year]
    found += [LibraryDay(d, True, name) for d, name in _WORKDAYS.items() if d.year == year]
    return sorted(found, key=lambda entry: entry.day)


@dataclass(frozen=True)
class Run:
    """Consecutive library days of one kind and holiday: "National Day 10-01 to 10-07"."""

    first: date
    last: date
    working: bool
    name: str


def library_runs(year: int) -> list[Run]:
    """The library's days of a year as runs: each holiday's days off together, each
    调休 working day on its own line."""
    runs: list[Run] = []
    for entry in library_days(year):
        last = runs[-1] if runs else None
        follows = last is not None and last.last + timedelta(days=1) == entry.day
        same = last is not None and not entry.working and not last.working
        if last is not None and same and follows and last.name == entry.name:
            runs[-1] = Run(last.first, entry.day, False, last.name)
            continue
        runs.append(Run(entry.day, entry.day, entry.working, entry.name))
    return runs


LIBRARY = WorkCalendar()  # the library alone, no overrides
