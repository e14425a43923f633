"""Opening, closing and finding reporting periods, and who hears that one opened.

What a change does is decided in bot.core.period_change; this module applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core.audit import TERMINAL, Action, Actor
from bot.core.period_change import PeriodAction, PeriodOutcome, decide
from bot.core.periods import Month, PeriodView, parse_month
from bot.core.reminders import Kind
from storage import audit, reminder_log
from storage.calendar import work_calendar
from storage.models import (
    Department,
    Liaison,
    Period,
    PeriodItem,
    PeriodOwner,
    WorkItem,
    table_of,
    utcnow,
)
from storage.snapshots import take_snapshot


def _period_and_title() -> sa.Select[Any]:
    period, item, kept = table_of(Period), table_of(WorkItem), table_of(PeriodItem)
    work_item_id: sa.BindParameter[int] = sa.bindparam("work_item_id")
    return (
        sa.select(
            period.c.id,
            period.c.month,
            period.c.due_at,
            period.c.is_open,
            sa.func.coalesce(kept.c.title, item.c.title),
        )
        .outerjoin(
            kept, sa.and_(kept.c.period_id == period.c.id, kept.c.work_item_id == work_item_id)
        )
        .outerjoin(item, item.c.id == work_item_id)
        .where(period.c.id == sa.bindparam("period_id"))
    )


# Every step of a liaison's report needs both: one Core statement, built once.
_PERIOD_AND_TITLE = _period_and_title()


_BY_MONTH = select(Period).where(Period.month == sa.bindparam("month"))
_OPEN = select(Period).where(col(Period.is_open)).order_by(col(Period.month))


def get_period(session: Session, month: str) -> Period | None:
    return session.exec(_BY_MONTH, params={"month": month}).first()


def period_and_title(
    session: Session, period_id: int, work_item_id: int
) -> tuple[PeriodView | None, str]:
    """A draft's period and the title of its key work item as the period has it ("?" if
    the item is gone)."""
    row = (
        session.connection()
        .execute(_PERIOD_AND_TITLE, {"period_id": period_id, "work_item_id": work_item_id})
        .first()
    )
    if row is None:
        return None, "?"
    id_, month, due_at, is_open, title = row
    return PeriodView(id_, month, due_at, is_open), title or "?"


def open_period(session: Session, month: str, due_at: datetime) -> Period:
    """Open (or reopen) a month. A new month takes the roster as it is now; a reopened one
    keeps its submissions and the key work items it had (a roster load while it is open
    then updates it like any open month)."""
    found = get_period(session, month)
    period = found or Period(month=month, due_at=due_at)
    period.due_at, period.is_open, period.closed_at = due_at, True, None
    period.opened_at = period.opened_at or utcnow()
    session.add(period)
    session.flush()
    if found is None:
        take_snapshot(session, period.id or 0)
    return period


def close_period(session: Session, period: Period) -> None:
    period.is_open, period.closed_at = False, utcnow()
    session.add(period)


def set_due(session: Session, period: Period, due_at: datetime) -> None:
    period.due_at = due_at
    session.add(period)


def open_periods(session: Session) -> list[Period]:
    return list(session.exec(_OPEN))


def current_period(session: Session) -> Period | None:
    """The open period liaisons report into: the earliest open month."""
    periods = open_periods(session)
    return periods[0] if periods else None


def latest_period(session: Session) -> Period | None:
    return session.exec(select(Period).order_by(col(Period.month).desc())).first()


def all_periods(session: Session) -> list[Period]:
    return list(session.exec(select(Period).order_by(col(Period.month))))


def period_views(session: Session) -> list[PeriodView]:
    """Every month, in order: what the period list shows."""
    return [
        PeriodView(p.id or 0, p.month, p.due_at, p.is_open)
        for p in all_periods(session)
        if p.due_at is not None
    ]


def choose_period(session: Session, month: str | None) -> Period | None:
    """The period a command names; without a month the open one, else the latest one.

    Raises bot.core.periods.PeriodError when the month is not written like 2015-10.
    """
    if month:
        return get_period(session, str(parse_month(month)))
    return current_period(session) or latest_period(session)


# The departments that report in a period: its own copy of the roster.
_REPORTING = (
    select(PeriodOwner.department_id)
    .join(
        PeriodItem,
        sa.and_(
            col(PeriodItem.period_id) == col(PeriodOwner.period_id),
            col(PeriodItem.work_item_id) == col(PeriodOwner.work_item_id),
        ),
    )
    .where(PeriodOwner.period_id == sa.bindparam("period_id"))
)
_TO_NOTIFY = (
    select(Liaison.telegram_id)
    .join(Department, col(Department.id) == col(Liaison.department_id))
    .where(col(Liaison.active), col(Department.active), col(Department.id).in_(_REPORTING))
    .order_by(col(Department.position), col(Liaison.id))
)


def liaisons_to_notify(session: Session, period: Period) -> list[int]:
    """Telegram ids of the active liaisons of the departments that report in the period,
    in roster order."""
    return list(session.exec(_TO_NOTIFY, params={"period_id": period.id}))


def queue_open_notice(session: Session, period: Period, reopened: bool, now: datetime) -> None:
    """Queue "the period is open, /report" for every liaison of the period at this moment;
    the running bot's reminder pass sends each once (the chat sends them at once)."""
    assert period.id is not None
    kind = Kind.REOPENED if reopened else Kind.OPENED
    reminder_log.queue(session, period.id, kind, liaisons_to_notify(session, period), now)


@dataclass(frozen=True)
class PeriodChange:
    outcome: PeriodOutcome
    month: str
    period: Period | None  # None only when UNKNOWN


def change_period(
    session: Session,
    action: PeriodAction,
    month: Month,
    tz: ZoneInfo,
    *,
    due_at: datetime | None = None,
    offsets: str | None = None,
    now: datetime | None = None,
    actor: Actor = TERMINAL,
) -> PeriodChange:
    """Open, re-date, close or reopen a month, or set its reminder offsets, as /period
    and `huibao period` ask (the rules: bot.core.period_change.decide). Opening and
    reopening queue the notice to the period's liaisons, whichever of chat and CLI did it;
    every change is audited.
    """
    found = get_period(session, str(month))
    stored = None
    if found is not None:
        assert found.due_at is not None
        stored = (found.is_open, found.due_at)
    decision = decide(action, month, tz, stored, due_at, work_calendar(session))
    outcome = decision.outcome
    if outcome in (PeriodOutcome.OPENED, PeriodOutcome.REOPENED):
        assert decision.due_at is not None
        found = open_period(session, str(month), decision.due_at)
        queue_open_notice(session, found, outcome is PeriodOutcome.REOPENED, now or utcnow())
    elif found is None:
        pass  # UNKNOWN
    elif outcome is PeriodOutcome.CLOSED:
        close_period(session, found)
    elif outcome is PeriodOutcome.DUE_CHANGED:
        assert decision.due_at is not None
        set_due(session, found, decision.due_at)
    elif outcome is PeriodOutcome.REMINDERS_CHANGED:
        found.reminder_offsets = offsets or None
        session.add(found)
    audited = _AUDITED.get(outcome)
    if audited is not None and found is not None:
        detail = {"due_at": found.due_at.isoformat() if found.due_at else None}
        if outcome is PeriodOutcome.REMINDERS_CHANGED:
            detail = {"offsets": found.reminder_offsets}
        audit.record(
            session, audited, actor, str(month), detail=detail, period_id=found.id, now=now
        )
    return PeriodChange(outcome, str(month), found)


# The changes the audit keeps (the others changed nothing).
_AUDITED = {
    PeriodOutcome.OPENED: Action.PERIOD_OPEN,
    PeriodOutcome.REOPENED: Action.PERIOD_REOPEN,
    PeriodOutcome.CLOSED: Action.PERIOD_CLOSE,
    PeriodOutcome.DUE_CHANGED: Action.PERIOD_EXTEND,
    PeriodOutcome.REMINDERS_CHANGED: Action.PERIOD_REMINDERS,
}
