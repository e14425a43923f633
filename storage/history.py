"""A department's past reports on one key work item (/history), newest month first.

Every month counts, open or closed, reported in the bot or imported from Word; a month
shows the version that counts (bot.core.history.counted_version): a pending or returned
version is not history. An item is the same across months by its id (a rename keeps it),
a department by its id; each month gives the item's title as that month had it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core.audit import Action
from bot.core.history import PastMonth, counted_version
from bot.core.status import DepartmentView, SubmissionStatus, WorkItemView
from storage import audit
from storage.models import Department, Period, PeriodItem, Submission, WorkItem
from storage.snapshots import roster_work_items
from storage.submissions import revisions

_HANDED_IN = [s.value for s in (SubmissionStatus.SUBMITTED, SubmissionStatus.PENDING,
                                SubmissionStatus.RETURNED)]  # fmt: skip

_MONTHS = (
    select(Submission, Period.month, Period.is_open, PeriodItem.title)
    .join(Period, col(Period.id) == col(Submission.period_id))
    .outerjoin(
        PeriodItem,
        sa.and_(
            col(PeriodItem.period_id) == col(Submission.period_id),
            col(PeriodItem.work_item_id) == col(Submission.work_item_id),
        ),
    )
    .where(
        Submission.department_id == sa.bindparam("department_id"),
        Submission.work_item_id == sa.bindparam("work_item_id"),
        col(Submission.status).in_(_HANDED_IN),
    )
    .order_by(col(Period.month).desc())
)


def _counted(session: Session, submission: Submission, title: str, month: str, is_open: bool
             ) -> PastMonth | None:  # fmt: skip
    """The month as history: the submission's counted version, if it has one."""
    status = SubmissionStatus(submission.status)
    if status is SubmissionStatus.SUBMITTED:
        progress, plan = list(submission.progress), list(submission.plan)
        return PastMonth(month, title, progress, plan, submission.version, submission.source,
                         is_open)  # fmt: skip
    found = {r.version: r for r in revisions(session, submission)}
    events = audit.of_submission(session, submission.id or 0)
    approved = {e.detail.get("version") for e in events if e.action is Action.APPROVE}
    returned = {e.detail.get("version") for e in events if e.action is Action.RETURN}
    version = counted_version(
        status,
        submission.version,
        list(found),
        {v for v in approved if isinstance(v, int)},
        {v for v in returned if isinstance(v, int)},
    )
    if version is None:
        return None
    kept = found[version]
    return PastMonth(month, title, list(kept.progress), list(kept.plan), version,
                     submission.source, is_open)  # fmt: skip


def item_history(session: Session, department_id: int, work_item_id: int) -> list[PastMonth]:
    """Every month the department handed in a counted version for the item, newest first."""
    rows = session.exec(
        _MONTHS, params={"department_id": department_id, "work_item_id": work_item_id}
    ).all()
    now = item_title(session, work_item_id) or ""
    months = []
    for submission, month, is_open, title in rows:
        past = _counted(session, submission, title or now, month, is_open)
        if past is not None:
            months.append(past)
    return months


_PAST_ITEMS = (
    select(WorkItem, sa.func.max(Period.month))
    .join(Submission, col(Submission.work_item_id) == col(WorkItem.id))
    .join(Period, col(Period.id) == col(Submission.period_id))
    .where(
        Submission.department_id == sa.bindparam("department_id"),
        col(Submission.status).in_(_HANDED_IN),
    )
    .group_by(col(WorkItem.id))
    .order_by(sa.func.max(Period.month).desc(), col(WorkItem.id))
)


def department_items(session: Session, department_id: int) -> list[WorkItemView]:
    """The key work items the department reports on now, in document order: the list
    /report numbers while a month is open (a period takes the roster as it is); then those
    it handed in once and no longer reports on (retired, or moved to another department),
    the most recent first, so their history stays within reach."""
    current = [
        item
        for item in roster_work_items(session)
        if any(d.id == department_id for d in item.departments)
    ]
    known = {item.id for item in current}
    found = session.exec(_PAST_ITEMS, params={"department_id": department_id}).all()
    past = [
        WorkItemView(item.id or 0, item.title, [], item.code)
        for item, _ in found
        if (item.id or 0) not in known
    ]
    return current + past


def has_history(session: Session, department_id: int, work_item_id: int) -> bool:
    """The department handed in something for the item once (it may no longer own it)."""
    found = session.exec(
        select(Submission.id).where(
            Submission.department_id == department_id,
            Submission.work_item_id == work_item_id,
            col(Submission.status).in_(_HANDED_IN),
        )
    ).first()
    return found is not None


def item_title(session: Session, work_item_id: int) -> str | None:
    """The item's title now, or None when there is no such item."""
    item = session.get(WorkItem, work_item_id)
    return item.title if item is not None else None


def all_departments(session: Session) -> list[DepartmentView]:
    """Every department under its name now, roster order; the retired ones last (their
    history is kept)."""
    found = session.exec(
        select(Department).order_by(col(Department.active).desc(), col(Department.position))
    ).all()
    return [DepartmentView(d.id or 0, d.name, d.code) for d in found]


def department(session: Session, department_id: int) -> DepartmentView | None:
    found = session.get(Department, department_id)
    return DepartmentView(found.id or 0, found.name, found.code) if found is not None else None
