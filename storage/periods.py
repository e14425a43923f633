"""Opening, closing and finding reporting periods."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Period, utcnow


def get_period(session: Session, month: str) -> Period | None:
    return session.exec(select(Period).where(Period.month == month)).first()


def open_period(session: Session, month: str, due_at: datetime) -> Period:
    """Open (or reopen) a month; a reopened month keeps its submissions."""
    period = get_period(session, month) or Period(month=month, due_at=due_at)
    period.due_at, period.is_open, period.closed_at = due_at, True, None
    period.opened_at = period.opened_at or utcnow()
    session.add(period)
    session.flush()
    return period


def close_period(session: Session, period: Period) -> None:
    period.is_open, period.closed_at = False, utcnow()
    session.add(period)


def set_due(session: Session, period: Period, due_at: datetime) -> None:
    period.due_at = due_at
    session.add(period)


def open_periods(session: Session) -> list[Period]:
    return list(session.exec(select(Period).where(col(Period.is_open)).order_by(col(Period.month))))


def current_period(session: Session) -> Period | None:
    """The open period liaisons report into: the earliest open month."""
    periods = open_periods(session)
    return periods[0] if periods else None


def latest_period(session: Session) -> Period | None:
    return session.exec(select(Period).order_by(col(Period.month).desc())).first()


def all_periods(session: Session) -> list[Period]:
    return list(session.exec(select(Period).order_by(col(Period.month))))
