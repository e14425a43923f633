"""`huibao check`: the lines a deployment check prints, and when it counts as failed.

Pure core: the probing (settings, Telegram, the database, …) is in bot/check.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.backup_plan import STALE
from bot.core.schedule import ReminderSchedule, reminder_slots

#: How far ahead the next reminder is looked for: past any due time a period may have
#: (a month and its reminders), plus the daily overdue reminders after it.
REMINDER_HORIZON = timedelta(days=400)


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"  # worth knowing, nothing broken (fonts for previews, no open month)
    FAIL = "fail"


@dataclass(frozen=True)
class Line:
    """One thing checked: its name (a text check_name_*), how it went, and what was found
    or, on a failure, the cause and the fix (one line)."""

    name: str
    status: Status
    detail: str = ""


def exit_code(lines: Iterable[Line]) -> int:
    """0 only when nothing failed; warnings do not count."""
    return 1 if any(line.status is Status.FAIL for line in lines) else 0


def next_reminder(schedule: ReminderSchedule, due_at: datetime, now: datetime) -> datetime | None:
    """The next liaison reminder after `now`, by the rule the minute pass sends them by
    (schedule.reminder_slots, with the period's schedule from reminders.schedule_for)."""
    until = max(now, due_at) + REMINDER_HORIZON
    slots = reminder_slots(
        due_at,
        schedule.tz,
        schedule.offsets,
        schedule.hour,
        schedule.quiet,
        until,
        schedule.calendar,
    )
    return next((slot for slot in slots if slot > now), None)


def backup_status(scheduled: bool, age: timedelta | None) -> Status:
    """Scheduled backups off, none yet, or the newest older than STALE: worth a warning
    (the bot keeps running; the database is just not being kept)."""
    if not scheduled or age is None or age > STALE:
        return Status.WARN
    return Status.OK
