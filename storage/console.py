"""What the coordinator console reads: which period a command means, who reported what,
and who should hear that a period opened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.core.period_command import PeriodAction, PeriodCommand
from bot.core.periods import default_due, parse_month
from bot.core.reminders import Kind
from storage import reminder_log
from storage.models import Coordinator, Department, Liaison, Period, utcnow
from storage.periods import (
    close_period,
    current_period,
    get_period,
    latest_period,
    open_period,
    set_due,
)
from storage.submissions import State, assignments

SUBMITTED = (State.SUBMITTED, State.SUBMITTED_LATE)


def choose_period(session: Session, month: str | None) -> Period | None:
    """The period a command names; without a month the open one, else the latest one.

    Raises bot.core.periods.PeriodError when the month is not written like 2015-10.
    """
    if month:
        return get_period(session, str(parse_month(month)))
    return current_period(session) or latest_period(session)


@dataclass(frozen=True)
class DepartmentStatus:
    """One department's part of a key work item, as /status shows it."""

    department: str
    state: State
    submitted_at: datetime | None  # UTC; None unless submitted
    submitted_by: str  # the name of whoever submitted, "" if unknown or not submitted
    late: bool  # submitted after the due time, or not submitted and the due time passed


@dataclass(frozen=True)
class ItemStatus:
    number: int  # its row in the document (序号)
    title: str
    departments: list[DepartmentStatus]  # roster order

    @property
    def submitted(self) -> bool:
        """Counted as reported only when every responsible department submitted."""
        return all(d.state in SUBMITTED for d in self.departments)

    @property
    def submitted_late(self) -> bool:
        """Reported, but some department only after the due time."""
        return self.submitted and any(d.state is State.SUBMITTED_LATE for d in self.departments)

    @property
    def submitted_any(self) -> bool:
        """Some department submitted its part (all of them, or not)."""
        return any(d.state in SUBMITTED for d in self.departments)

    @property
    def missing(self) -> list[str]:
        """The departments that have not submitted their part, roster order."""
        return [d.department for d in self.departments if d.state not in SUBMITTED]

    @property
    def overdue(self) -> bool:
        """Not reported, and the due time has passed."""
        return not self.submitted and any(d.late for d in self.departments)


@dataclass(frozen=True)
class PeriodStatus:
    month: str
    due_at: datetime
    is_open: bool
    items: list[ItemStatus]  # document order

    @property
    def submitted(self) -> int:
        return sum(1 for item in self.items if item.submitted)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def submitted_late(self) -> int:
        return sum(1 for item in self.items if item.submitted_late)

    @property
    def on_time(self) -> int:
        return self.submitted - self.submitted_late

    @property
    def missing(self) -> int:
        return self.total - self.submitted

    @property
    def overdue(self) -> int:
        """Items still missing after the due time (a subset of `missing`)."""
        return sum(1 for item in self.items if item.overdue)

    @property
    def pending(self) -> list[ItemStatus]:
        """What to chase: items not fully submitted, overdue ones first, then document
        order."""
        return sorted((i for i in self.items if not i.submitted), key=lambda i: not i.overdue)

    @property
    def done(self) -> list[ItemStatus]:
        return [item for item in self.items if item.submitted]


def _names(session: Session, telegram_ids: set[int]) -> dict[int, str]:
    """Telegram id → the name the roster or the invite gave; liaison names win."""
    if not telegram_ids:
        return {}
    found = {
        c.telegram_id: c.name
        for c in session.exec(
            select(Coordinator).where(col(Coordinator.telegram_id).in_(telegram_ids))
        )
    }
    found.update(
        (person.telegram_id, person.name)
        for person in session.exec(
            select(Liaison).where(col(Liaison.telegram_id).in_(telegram_ids))
        )
    )
    return found


def period_status(session: Session, period: Period, now: datetime) -> PeriodStatus:
    """Every key work item × responsible department with its state, time and lateness."""
    found = assignments(session, period)
    names = _names(
        session,
        {a.submission.submitted_by for a in found if a.submission and a.submission.submitted_by},
    )
    items: dict[int, ItemStatus] = {}
    for assignment in found:
        item = items.setdefault(
            assignment.work_item.id,
            ItemStatus(len(items) + 1, assignment.work_item.title, []),
        )
        sub = assignment.submission if assignment.submitted else None
        by = sub.submitted_by if sub is not None else None
        item.departments.append(
            DepartmentStatus(
                department=assignment.department.name,
                state=assignment.state,
                submitted_at=sub.submitted_at if sub is not None else None,
                submitted_by=names.get(by, "") if by is not None else "",
                late=assignment.late(now),
            )
        )
    assert period.due_at is not None
    return PeriodStatus(period.month, period.due_at, period.is_open, list(items.values()))


def liaisons_to_notify(session: Session, period: Period) -> list[int]:
    """Telegram ids of the active liaisons of the departments that report in the period,
    in roster order."""
    departments = {a.department.id for a in assignments(session, period)}
    rows = session.exec(
        select(Liaison.telegram_id)
        .join(Department, col(Department.id) == col(Liaison.department_id))
        .where(col(Liaison.active), col(Department.active), col(Department.id).in_(departments))
        .order_by(col(Department.position), col(Liaison.id))
    )
    return list(rows)


def queue_open_notice(session: Session, period: Period, reopened: bool, now: datetime) -> None:
    """Queue "the period is open, /report" for every liaison of the period at this moment;
    the running bot's reminder pass sends each once (the chat sends them at once)."""
    assert period.id is not None
    kind = Kind.REOPENED if reopened else Kind.OPENED
    reminder_log.queue(session, period.id, kind, liaisons_to_notify(session, period), now)


class Outcome(StrEnum):
    OPENED = "opened"
    REOPENED = "reopened"
    ALREADY_OPEN = "already_open"
    DUE_CHANGED = "due_changed"
    CLOSED = "closed"
    ALREADY_CLOSED = "already_closed"
    REMINDERS_CHANGED = "reminders_changed"
    UNKNOWN = "unknown"  # no such period (due, close, reopen, remind)


@dataclass(frozen=True)
class PeriodChange:
    outcome: Outcome
    month: str
    period: Period | None  # None only when UNKNOWN

    @property
    def announce(self) -> bool:
        """Liaisons should hear about it: the month opened for reporting."""
        return self.outcome in (Outcome.OPENED, Outcome.REOPENED)


def change_period(
    session: Session, command: PeriodCommand, tz: ZoneInfo, now: datetime | None = None
) -> PeriodChange:
    """Open, re-date, close or reopen a month, as /period and `huibao period` ask.

    Opening an open month only changes its due time when a new one is given; opening a
    closed month reopens it (keeping its due time unless a new one is given); reopening
    keeps the due time. Nothing is ever deleted. Opening and reopening queue the notice
    to the period's liaisons (queue_open_notice), whichever of chat and CLI did it.
    """
    assert command.month is not None and command.action in (
        PeriodAction.OPEN,
        PeriodAction.DUE,
        PeriodAction.CLOSE,
        PeriodAction.REOPEN,
        PeriodAction.REMIND,
    )
    month = str(command.month)
    found = get_period(session, month)
    action = command.action
    if action is PeriodAction.OPEN and found is None:
        due_at = command.due_at or default_due(command.month, tz)
        opened = open_period(session, month, due_at)
        queue_open_notice(session, opened, False, now or utcnow())
        return PeriodChange(Outcome.OPENED, month, opened)
    if found is None:
        return PeriodChange(Outcome.UNKNOWN, month, None)
    if action is PeriodAction.REMIND:
        found.reminder_offsets = command.offsets or None
        session.add(found)
        return PeriodChange(Outcome.REMINDERS_CHANGED, month, found)
    if action is PeriodAction.CLOSE:
        if not found.is_open:
            return PeriodChange(Outcome.ALREADY_CLOSED, month, found)
        close_period(session, found)
        return PeriodChange(Outcome.CLOSED, month, found)
    if action is PeriodAction.DUE or (action is PeriodAction.OPEN and found.is_open):
        if command.due_at is None or (
            action is PeriodAction.OPEN and command.due_at == found.due_at
        ):
            return PeriodChange(Outcome.ALREADY_OPEN, month, found)
        set_due(session, found, command.due_at)
        return PeriodChange(Outcome.DUE_CHANGED, month, found)
    if found.is_open:  # REOPEN
        return PeriodChange(Outcome.ALREADY_OPEN, month, found)
    assert found.due_at is not None
    reopened = open_period(session, month, command.due_at or found.due_at)
    queue_open_notice(session, reopened, True, now or utcnow())
    return PeriodChange(Outcome.REOPENED, month, reopened)
