"""Reading a range of months for /stats: every department's part of every key work item
as the periods have them, with how its submission came in. The rules: bot.core.stats."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from bot.core.audit import Action
from bot.core.periods import MonthRange
from bot.core.stats import ItemRecord, Stats, default_range, tally
from storage.models import (
    AuditEvent,
    Department,
    Period,
    PeriodItem,
    PeriodOwner,
    Submission,
    SubmissionRevision,
    table_of,
)


def _records() -> sa.Select[Any]:
    """One row per period × key work item × department (the period's own copy of the
    roster, as period_work_items reads it), in one statement for the whole range: the
    submission's status, its first handed-in version and whether it was ever returned."""
    period, kept, owner = table_of(Period), table_of(PeriodItem), table_of(PeriodOwner)
    sub, rev, event = table_of(Submission), table_of(SubmissionRevision), table_of(AuditEvent)
    first = (
        sa.select(sa.func.min(rev.c.submitted_at))
        .where(rev.c.submission_id == sub.c.id)
        .scalar_subquery()
    )
    returned = sa.exists().where(
        event.c.submission_id == sub.c.id, event.c.action == Action.RETURN.value
    )
    return (
        sa.select(
            period.c.month,
            period.c.due_at,
            period.c.is_open,
            owner.c.department_id,
            owner.c.department_name,
            sub.c.status,
            sa.func.coalesce(first, sub.c.submitted_at).label("first"),
            returned.label("returned"),
        )
        .select_from(owner)
        .join(
            kept,
            sa.and_(
                kept.c.period_id == owner.c.period_id, kept.c.work_item_id == owner.c.work_item_id
            ),
        )
        .join(period, period.c.id == owner.c.period_id)
        .outerjoin(
            sub,
            sa.and_(
                sub.c.period_id == owner.c.period_id,
                sub.c.work_item_id == owner.c.work_item_id,
                sub.c.department_id == owner.c.department_id,
            ),
        )
        .where(period.c.month >= sa.bindparam("first"), period.c.month <= sa.bindparam("last"))
    )


_RECORDS = _records()
_POSITIONS = sa.select(table_of(Department).c.id, table_of(Department).c.position)
_MONTHS = sa.select(table_of(Period).c.month)


def records(session: Session, wanted: MonthRange) -> list[ItemRecord]:
    rows = session.connection().execute(
        _RECORDS, {"first": str(wanted.first), "last": str(wanted.last)}
    )
    return [
        ItemRecord(month, due_at, bool(is_open), dept, name, status, first, bool(returned))
        for month, due_at, is_open, dept, name, status, first, returned in rows
    ]


def stats_range(session: Session) -> MonthRange | None:
    """The default range: the newest twelve months that have periods."""
    return default_range(session.connection().execute(_MONTHS).scalars())


def read_stats(session: Session, wanted: MonthRange | None, now: datetime) -> Stats | None:
    """The range's tally (default: stats_range); None when the range has no period."""
    wanted = wanted or stats_range(session)
    if wanted is None:
        return None
    found = records(session, wanted)
    if not found:
        return None
    positions = {id_: position for id_, position in session.connection().execute(_POSITIONS)}
    return tally(wanted, found, now, positions)
