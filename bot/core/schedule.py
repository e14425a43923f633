"""When reminders and digests are due: pure date arithmetic, no Telegram, no database.

Everything is computed on the organisation's wall clock (so "09:00" stays 09:00
across DST changes) and returned as aware UTC datetimes, whole minutes. Reminders fall
on working days only (which days those are: bot.core.workdays, handed in as a value).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.texts import TerminalError
from bot.core.workdays import LIBRARY, WorkCalendar

_OFFSET = re.compile(r"^([+-]?)(\d{1,5})([dhm])$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_MINUTES = {"d": 24 * 60, "h": 60, "m": 1}
_NO_QUIET = ("", "none", "off", "-")


@dataclass(frozen=True)
class Offset:
    """A reminder relative to the due time: whole days (sent at the reminder hour) or exact."""

    minutes: int
    whole_days: bool

    @property
    def days(self) -> int:
        return self.minutes // (24 * 60)


class ScheduleError(TerminalError, ValueError):
    """A reminder time that cannot be read; the message names the bad piece."""


def parse_offsets(text: str) -> tuple[Offset, ...]:
    """'-3d,-1d,0d' or '-2h,-90m' → offsets; ValueError names the bad piece."""
    pieces = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in pieces):
        raise ScheduleError("offsets_not_list", text=text)
    found: list[Offset] = []
    for piece in pieces:
        match = _OFFSET.match(piece)
        if not match:
            raise ScheduleError("offset_bad", piece=piece)
        sign = -1 if match.group(1) == "-" else 1
        minutes = sign * int(match.group(2)) * _MINUTES[match.group(3)]
        if abs(minutes) > 366 * 24 * 60:
            raise ScheduleError("offset_too_far", piece=piece)
        found.append(Offset(minutes, match.group(3) == "d"))
    return tuple(dict.fromkeys(found))


def parse_clock(text: str, what: str = "time") -> time:
    """'09:00' → time(9, 0); ValueError names the setting and the bad text.

    `what`: "time", "reminder_hour", "quiet_start" or "quiet_end"."""
    match = _CLOCK.match(text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ScheduleError("clock_bad", what=what, text=text)
    return time(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class QuietHours:
    """[start, end) on the wall clock; spans midnight when start > end."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def push_out(self, local: datetime) -> datetime:
        """A wall-clock time inside the quiet hours moves to their end."""
        if not self.contains(local.time()):
            return local
        day = local.date()
        if local.time() >= self.end:  # evening part of a span over midnight
            day += timedelta(days=1)
        return _wall(day, self.end, local.tzinfo)


def parse_quiet(text: str) -> QuietHours | None:
    """'22:00-08:00' → QuietHours; '' / 'none' / 'off' → no quiet hours."""
    if text.strip().lower() in _NO_QUIET:
        return None
    parts = text.split("-")
    if len(parts) != 2:
        raise ScheduleError("quiet_bad", text=text)
    start = parse_clock(parts[0], "quiet_start")
    end = parse_clock(parts[1], "quiet_end")
    if start == end:
        raise ScheduleError("quiet_empty", text=text)
    return QuietHours(start, end)


@dataclass(frozen=True)
class ReminderSchedule:
    """Everything the schedule depends on besides the due time."""

    tz: ZoneInfo
    offsets: tuple[Offset, ...]
    hour: time
    quiet: QuietHours | None
    calendar: WorkCalendar = field(default=LIBRARY, compare=False)

    @classmethod
    def parse(cls, tz: ZoneInfo | str, offsets: str, hour: str, quiet: str) -> ReminderSchedule:
        zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        return cls(
            zone, parse_offsets(offsets), parse_clock(hour, "reminder_hour"), parse_quiet(quiet)
        )


def _wall(day: date, at: time, tz: object) -> datetime:
    assert isinstance(tz, ZoneInfo)
    return datetime.combine(day, at, tzinfo=tz)


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _settle(local: datetime, quiet: QuietHours | None) -> datetime:
    """Out of the quiet hours, to UTC, whole minutes."""
    return _minute(quiet.push_out(local) if quiet else local)


def _daily(
    after: datetime, schedule: ReminderSchedule, until: datetime, from_day: date | None = None
) -> Iterable[datetime]:
    """Every working day's reminder hour strictly after `after` (from `from_day` on), up
    to `until`."""
    day = from_day or after.astimezone(schedule.tz).date()
    while True:
        local = _wall(day, schedule.hour, schedule.tz)
        if local.astimezone(UTC) > until:
            return
        slot = _settle(local, schedule.quiet)
        if after < slot <= until and schedule.calendar.is_workday(day):
            yield slot
        day += timedelta(days=1)


def _offset_slot(offset: Offset, due_at: datetime, schedule: ReminderSchedule) -> datetime | None:
    """Where one offset lands, on the wall clock. A day offset before (or on) the due day
    that lands on a day off moves to the last working day before it, at the reminder
    hour; so does an exact one (-2h before a due time on a holiday). After the due day a
    day off has no reminder: the overdue dailies cover every working day."""
    tz, calendar = schedule.tz, schedule.calendar
    if offset.whole_days:
        day = due_at.astimezone(tz).date() + timedelta(days=offset.days)
        local = _wall(day, schedule.hour, tz)
    else:
        local = (due_at + timedelta(minutes=offset.minutes)).astimezone(tz)
        day = local.date()
    if calendar.is_workday(day):
        return local
    if offset.minutes > 0:
        return None
    return _wall(calendar.on_or_before(day), schedule.hour, tz)


def reminder_slots(
    due_at: datetime,
    tz: ZoneInfo,
    offsets: tuple[Offset, ...],
    hour: time,
    quiet: QuietHours | None,
    until: datetime,
    calendar: WorkCalendar = LIBRARY,
) -> list[datetime]:
    """The liaisons' reminder times up to `until`: the offsets, then daily while overdue,
    on working days only (offsets landing on the same day are one slot).

    A before-due reminder that would land after the due time (day offset on a
    morning deadline, or pushed out of the quiet hours) is dropped: the overdue
    reminders take over from there.
    """
    schedule = ReminderSchedule(tz, offsets, hour, quiet, calendar)
    due = _minute(due_at)
    slots: set[datetime] = set()
    for offset in offsets:
        local = _offset_slot(offset, due_at, schedule)
        if local is None:
            continue
        slot = _settle(local, quiet)
        if offset.minutes <= 0 and slot > due:
            continue
        if slot <= until:
            slots.add(slot)
    slots.update(_daily(due, schedule, until))
    return sorted(slots)


def digest_slots(
    due_at: datetime,
    tz: ZoneInfo,
    hour: time,
    quiet: QuietHours | None,
    until: datetime,
    calendar: WorkCalendar = LIBRARY,
) -> list[datetime]:
    """The coordinators' digests: at the due time (out of quiet hours), whatever the day,
    then at the reminder hour of every working day from the next day on (never two
    digests a few hours apart)."""
    first = _settle(due_at.astimezone(tz), quiet)
    if first > until:
        return []
    schedule = ReminderSchedule(tz, (), hour, quiet, calendar)
    next_day = first.astimezone(tz).date() + timedelta(days=1)
    return [first, *_daily(first, schedule, until, next_day)]


def reminder_days(due_at: datetime, tz: ZoneInfo, offsets: tuple[Offset, ...]) -> set[date]:
    """The days the schedule reads the calendar for before moving anything: the due day
    and where each offset lands (whose years must be known for the rule to be right)."""
    due_local = due_at.astimezone(tz)
    days = {due_local.date()}
    for offset in offsets:
        if offset.whole_days:
            days.add(due_local.date() + timedelta(days=offset.days))
        else:
            days.add((due_at + timedelta(minutes=offset.minutes)).astimezone(tz).date())
    return days


def split_due(
    slots: Iterable[datetime], now: datetime, grace: timedelta, lookback: timedelta
) -> tuple[list[datetime], list[datetime]]:
    """(due now: within the grace, newest last; missed: older, but not older than lookback)."""
    due, missed = [], []
    for slot in sorted(slots):
        age = now - slot
        if age < timedelta(0):
            continue
        if age <= grace:
            due.append(slot)
        elif age <= grace + lookback:
            missed.append(slot)
    return due, missed
