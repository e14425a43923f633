"""The office's own holidays and working days (bot.core.workdays.Override), audited.

The working-day rule itself is bot.core.workdays'; this module only keeps the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from bot.core.audit import TERMINAL, Action, Actor
from bot.core.calendar_command import CalendarAction, CalendarCommand, Moved, OpenMonth, moved
from bot.core.reminders import schedule_for
from bot.core.schedule import ReminderSchedule
from bot.core.workdays import Override, Run, WorkCalendar, library_runs
from storage import audit
from storage.models import CalendarDay, Period, utcnow
from storage.roster import organisation_zone

NOTE_CHARS = 200  # the column's length: a longer note is cut


def overrides(session: Session, year: int | None = None) -> list[Override]:
    """The office's days in order, of one year if given."""
    query = select(CalendarDay).order_by(col(CalendarDay.day))
    if year is not None:
        query = query.where(col(CalendarDay.day) >= date(year, 1, 1))
        query = query.where(col(CalendarDay.day) <= date(year, 12, 31))
    return [Override(row.day, row.working, row.note) for row in session.exec(query)]


def work_calendar(session: Session) -> WorkCalendar:
    """The library's facts plus every override the office set."""
    return WorkCalendar.of(overrides(session))


@dataclass(frozen=True)
class CalendarChange:
    """What setting or clearing a day did: how it stood before (None: no override)."""

    day: date
    before: Override | None
    after: Override | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def set_day(
    session: Session,
    day: date,
    working: bool,
    note: str = "",
    *,
    actor: Actor = TERMINAL,
    now: datetime | None = None,
) -> CalendarChange:
    """Make `day` a working day or a day off for the office, whatever the library says;
    audited in the same transaction (unless nothing changed)."""
    row = session.get(CalendarDay, day)
    before = Override(row.day, row.working, row.note) if row is not None else None
    note = note.strip()[:NOTE_CHARS]
    after = Override(day, working, note)
    if before == after:
        return CalendarChange(day, before, after)
    row = row or CalendarDay(day=day, working=working)
    row.working, row.note = working, note
    row.created_by, row.created_at = actor.telegram_id, now or utcnow()
    session.add(row)
    action = Action.CALENDAR_WORKDAY if working else Action.CALENDAR_HOLIDAY
    audit.record(session, action, actor, day.isoformat(), detail={"summary": note}, now=now)
    return CalendarChange(day, before, after)


def clear_day(
    session: Session, day: date, *, actor: Actor = TERMINAL, now: datetime | None = None
) -> CalendarChange:
    """Withdraw the office's word on `day` (the library's holds again); audited."""
    row = session.get(CalendarDay, day)
    if row is None:
        return CalendarChange(day, None, None)
    before = Override(row.day, row.working, row.note)
    session.delete(row)
    session.flush()
    audit.record(session, Action.CALENDAR_CLEAR, actor, day.isoformat(), now=now)
    return CalendarChange(day, before, None)


@dataclass(frozen=True)
class CalendarOutcome:
    """A change of the office's calendar, and what it moves in the open months."""

    change: CalendarChange
    moved: list[Moved]
    calendar: WorkCalendar  # as it stands now


def _open_months(session: Session, base: ReminderSchedule) -> list[OpenMonth]:
    tz = organisation_zone(session)
    periods = session.exec(select(Period).where(col(Period.is_open)).order_by(col(Period.month)))
    return [
        OpenMonth(p.month, p.due_at, schedule_for(base, tz, p.reminder_offsets, p.month))
        for p in periods
        if p.due_at is not None
    ]


def change_calendar(
    session: Session,
    command: CalendarCommand,
    base: ReminderSchedule,
    *,
    actor: Actor = TERMINAL,
    now: datetime | None = None,
) -> CalendarOutcome:
    """`/calendar holiday|workday|clear DATE` and `huibao calendar …`: set or clear the
    day, and say which reminders and due days of the open months that moves (`base`: the
    settings' reminder schedule)."""
    assert command.day is not None and command.action in (
        CalendarAction.HOLIDAY, CalendarAction.WORKDAY, CalendarAction.CLEAR
    )  # fmt: skip
    now = now or utcnow()
    old = work_calendar(session)
    if command.action is CalendarAction.CLEAR:
        change = clear_day(session, command.day, actor=actor, now=now)
    else:
        working = command.action is CalendarAction.WORKDAY
        change = set_day(session, command.day, working, command.note, actor=actor, now=now)
    new = work_calendar(session)
    return CalendarOutcome(change, moved(_open_months(session, base), old, new, now), new)


@dataclass(frozen=True)
class YearListing:
    """What `/calendar YEAR` shows: whether the library knows the year, its holidays
    and 调休 days, and the office's own days of the year."""

    year: int
    known: bool
    library: list[Run]
    office: list[Override]


def year_listing(session: Session, year: int) -> YearListing:
    calendar = work_calendar(session)
    office = overrides(session, year)
    return YearListing(year, calendar.library_knows(year), library_runs(year), office)
