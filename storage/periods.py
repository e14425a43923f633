"""Opening, closing and finding reporting periods."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.models import Period, PeriodItem, WorkItem, table_of, utcnow
from storage.snapshots import take_snapshot


@dataclass(frozen=True)
class PeriodView:
    """What a step of a liaison's report needs to know of its period."""

    id: int
    month: str
    due_at: datetime
    is_open: bool


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
