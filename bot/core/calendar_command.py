"""`/calendar` and `huibao calendar`: reading the words, and what a change moves.

The working-day rule is bot.core.workdays'; the reminder rule bot.core.schedule's. This
module reads `[YEAR] | holiday DATE [NOTE] | workday DATE [NOTE] | clear DATE` and says
which reminders and due day of the open months a change of the calendar moves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.command_input import CommandInputError
from bot.core.periods import local_text, weekday
from bot.core.schedule import ReminderSchedule, reminder_slots
from bot.core.workdays import Override, Run, WorkCalendar

FIRST_YEAR, LAST_YEAR = 2000, 2100
_DAY = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_YEAR = re.compile(r"^(\d{4})年?$")


class CalendarAction(StrEnum):
    LIST = "list"
    HELP = "help"
    HOLIDAY = "holiday"
    WORKDAY = "workday"
    CLEAR = "clear"


# The words a coordinator may type for an action (Chinese as well as English).
_ACTIONS = {
    "list": CalendarAction.LIST,
    "help": CalendarAction.HELP,
    "holiday": CalendarAction.HOLIDAY,
    "假日": CalendarAction.HOLIDAY,
    "放假": CalendarAction.HOLIDAY,
    "workday": CalendarAction.WORKDAY,
    "上班": CalendarAction.WORKDAY,
    "工作日": CalendarAction.WORKDAY,
    "clear": CalendarAction.CLEAR,
    "清除": CalendarAction.CLEAR,
}
CHANGES = (CalendarAction.HOLIDAY, CalendarAction.WORKDAY, CalendarAction.CLEAR)


class CalendarInputError(CommandInputError):
    """The words after /calendar: `kind` is "usage", "day" or "year"."""


@dataclass(frozen=True)
class CalendarCommand:
    action: CalendarAction
    year: int | None = None  # LIST: the year to show (None: this year)
    day: date | None = None  # HOLIDAY, WORKDAY, CLEAR
    note: str = ""


def parse_day(text: str) -> date:
    """'2027-01-01' (or 2027/1/1, 2027年1月1日) → the date; CalendarInputError("day")."""
    match = _DAY.match(text.strip())
    try:
        assert match is not None
        found = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except (AssertionError, ValueError):
        raise CalendarInputError("day", text) from None
    if not FIRST_YEAR <= found.year <= LAST_YEAR:
        raise CalendarInputError("day", text)
    return found


def parse_year(text: str) -> int:
    match = _YEAR.match(text.strip())
    if match is None or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        raise CalendarInputError("year", text)
    return int(match.group(1))


def parse_calendar_command(args: Sequence[str]) -> CalendarCommand:
    """`[list] [YEAR]`, `holiday|workday DATE [NOTE…]`, `clear DATE` or `help`."""
    words = [w for w in args if w.strip()]
    if not words:
        return CalendarCommand(CalendarAction.LIST)
    if _YEAR.match(words[0].strip()) and len(words) == 1:
        return CalendarCommand(CalendarAction.LIST, parse_year(words[0]))
    action = _ACTIONS.get(words[0].strip().lower())
    if action is None:
        raise CalendarInputError("usage", words[0])
    rest = words[1:]
    if action is CalendarAction.HELP:
        return CalendarCommand(action)
    if action is CalendarAction.LIST:
        if len(rest) > 1:
            raise CalendarInputError("usage", " ".join(words))
        return CalendarCommand(action, parse_year(rest[0]) if rest else None)
    if not rest:
        raise CalendarInputError("usage", words[0])
    day = parse_day(rest[0])
    note = " ".join(rest[1:]).strip()
    if action is CalendarAction.CLEAR and note:
        raise CalendarInputError("usage", " ".join(words))
    return CalendarCommand(action, day=day, note=note)


# --- what a change moves ----------------------------------------------------------------


@dataclass(frozen=True)
class OpenMonth:
    """An open period as the schedule reads it."""

    month: str
    due_at: datetime
    schedule: ReminderSchedule  # the period's own, on any calendar (replaced below)


@dataclass(frozen=True)
class Moved:
    """How a calendar change moves an open month: its reminders still to come before the
    due time (before and after the change), and whether its due day is now a day off."""

    month: str
    due_at: datetime
    before: tuple[datetime, ...]
    after: tuple[datetime, ...]
    due_off: bool
    tz: ZoneInfo

    @property
    def reminders_moved(self) -> bool:
        return self.before != self.after


def _upcoming(month: OpenMonth, calendar: WorkCalendar, now: datetime) -> tuple[datetime, ...]:
    schedule = replace(month.schedule, calendar=calendar)
    slots = reminder_slots(
        month.due_at, schedule.tz, schedule.offsets, schedule.hour, schedule.quiet,
        month.due_at, calendar,
    )  # fmt: skip
    return tuple(slot for slot in slots if slot > now)


def moved(
    months: Iterable[OpenMonth], old: WorkCalendar, new: WorkCalendar, now: datetime
) -> list[Moved]:
    """Per open month whose reminders or due day the change touches, what it moves."""
    found = []
    for month in months:
        before, after = _upcoming(month, old, now), _upcoming(month, new, now)
        due_day = month.due_at.astimezone(month.schedule.tz).date()
        due_off = not new.is_workday(due_day)
        if before != after or due_off != (not old.is_workday(due_day)):
            found.append(
                Moved(month.month, month.due_at, before, after, due_off, month.schedule.tz)
            )
    return found


# --- what the answers show (chat and terminal alike) -------------------------------------


def run_view(run: Run) -> dict[str, Any]:
    return {
        "first": run.first.isoformat(),
        "first_weekday": run.first.weekday(),
        "last": run.last.isoformat(),
        "last_weekday": run.last.weekday(),
        "working": run.working,
        "name": run.name,
    }


def override_view(override: Override) -> dict[str, Any]:
    return {
        "day": override.day.isoformat(),
        "weekday": override.day.weekday(),
        "working": override.working,
        "note": override.note,
    }


def _short(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%m-%d %H:%M")


def moved_view(found: Moved) -> dict[str, Any]:
    """One open month a change moves, in the organisation's zone."""
    tz = found.tz
    return {
        "month": found.month,
        "due": local_text(found.due_at, tz),
        "due_weekday": weekday(found.due_at, tz),
        "before": [_short(s, tz) for s in found.before],
        "after": [_short(s, tz) for s in found.after],
        "due_off": found.due_off,
        "reminders_moved": found.reminders_moved,
    }


def change_view(command: CalendarCommand, changed: bool, calendar: WorkCalendar) -> dict[str, Any]:
    """The values of the line that says what a change did."""
    assert command.day is not None
    return {
        "day": command.day.isoformat(),
        "day_weekday": command.day.weekday(),
        "action": command.action.value,
        "note": command.note,
        "changed": changed,
        "working_now": calendar.is_workday(command.day),
    }
