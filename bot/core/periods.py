"""Reporting months and due times, in the organisation's time zone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.core.texts import TerminalError

# The organisation's zone when neither the roster nor TIMEZONE names one.
DEFAULT_ZONE = "Asia/Shanghai"
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


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


def parse_due(text: str, tz: ZoneInfo) -> datetime:
    """'2015-11-05 17:00' in the organisation's zone → aware UTC."""
    try:
        local = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise PeriodError("bad_due", text=text) from None
    return local.replace(tzinfo=tz).astimezone(UTC)


def default_due(month: Month, tz: ZoneInfo) -> datetime:
    """The 5th of the next month at 17:00, the office's usual deadline."""
    following = month.next()
    return datetime(following.year, following.month, 5, 17, 0, tzinfo=tz).astimezone(UTC)


def local_text(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ListedPeriod:
    """One line of the period list (/period and `huibao period list`)."""

    month: str
    due: str  # the due time as the organisation reads it
    open: bool


def listed(periods: Iterable[PeriodView], tz: ZoneInfo) -> list[ListedPeriod]:
    return [ListedPeriod(p.month, local_text(p.due_at, tz), p.is_open) for p in periods]
