"""What each period reports on: its own copy of the key work items, titles, owners and order.

A period takes the roster as it is when it opens; a roster load refreshes the open periods
and never a closed one, so a closed month compiles the same forever and a rename or a
retired item changes only the open and future months. Every reader of "who owes what in
a period" goes through `period_work_items`.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, delete, select

from bot.core.status import DepartmentView, WorkItemView
from storage.models import (
    Department,
    PeriodItem,
    PeriodOwner,
    WorkItem,
    WorkItemDepartment,
)

# Built once: the summary, /status and every reminder pass read these.
_ITEMS = (
    select(PeriodItem.work_item_id, PeriodItem.title)
    .where(PeriodItem.period_id == sa.bindparam("period_id"))
    .order_by(col(PeriodItem.position))
)
_OWNERS = (
    select(PeriodOwner.work_item_id, PeriodOwner.department_name, Department.id, Department.code)
    .join(Department, col(Department.id) == col(PeriodOwner.department_id))
    .where(PeriodOwner.period_id == sa.bindparam("period_id"))
    .order_by(col(PeriodOwner.position))
)
_ROSTER_ITEMS = select(WorkItem).where(col(WorkItem.active)).order_by(col(WorkItem.position))
_ROSTER_LINKS = (
    select(WorkItemDepartment, Department)
    .join(Department, col(Department.id) == col(WorkItemDepartment.department_id))
    .where(col(Department.active))
    .order_by(col(WorkItemDepartment.position))
)


def as_named(department: Department, name: str) -> DepartmentView:
    """The department under the name a period knows it by."""
    return DepartmentView(department.id or 0, name, department.code)


def roster_work_items(session: Session) -> list[WorkItemView]:
    """The roster as it is now: active key work items in document order, each with its
    active departments in roster order."""
    items = session.exec(_ROSTER_ITEMS).all()
    by_item: dict[int, list[DepartmentView]] = {}
    for link, dept in session.exec(_ROSTER_LINKS).all():
        by_item.setdefault(link.work_item_id, []).append(as_named(dept, dept.name))
    return [WorkItemView(i.id or 0, i.title, by_item.get(i.id or 0, []), i.code) for i in items]


def period_work_items(session: Session, period_id: int) -> list[WorkItemView]:
    """The key work items of one period, as it has them, in its document order."""
    items = session.exec(_ITEMS, params={"period_id": period_id}).all()
    by_item: dict[int, list[DepartmentView]] = {}
    for item_id, name, dept_id, code in session.exec(_OWNERS, params={"period_id": period_id}):
        by_item.setdefault(item_id, []).append(DepartmentView(dept_id or 0, name, code))
    return [WorkItemView(item_id, title, by_item.get(item_id, [])) for item_id, title in items]


def take_snapshot(session: Session, period_id: int) -> None:
    """Give the period the roster as it is now (on opening, and on a roster load while open)."""
    session.exec(delete(PeriodOwner).where(col(PeriodOwner.period_id) == period_id))  # type: ignore[call-overload]
    session.exec(delete(PeriodItem).where(col(PeriodItem.period_id) == period_id))  # type: ignore[call-overload]
    for position, item in enumerate(roster_work_items(session)):
        session.add(
            PeriodItem(
                period_id=period_id, work_item_id=item.id, title=item.title, position=position
            )
        )
        for rank, dept in enumerate(item.departments):
            session.add(
                PeriodOwner(
                    period_id=period_id,
                    work_item_id=item.id,
                    department_id=dept.id,
                    department_name=dept.name,
                    position=rank,
                )
            )
    session.flush()
