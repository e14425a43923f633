"""Apply a parsed roster to the database: idempotent, updates by code, never deletes."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, delete, select

from bot.roster import Roster
from storage.models import Coordinator, Department, Organisation, WorkItem, WorkItemDepartment


@dataclass(frozen=True)
class RosterChange:
    added: int
    updated: int
    deactivated: int


def apply_roster(session: Session, roster: Roster, default_timezone: str) -> RosterChange:
    added = updated = deactivated = 0

    org = session.exec(select(Organisation)).first() or Organisation()
    org.name, org.timezone = roster.organisation, roster.timezone or default_timezone
    session.add(org)

    departments = {d.code: d for d in session.exec(select(Department))}
    for position, spec in enumerate(roster.departments):
        dept = departments.get(spec.code)
        if dept is None:
            dept = Department(code=spec.code, name=spec.name, position=position)
            departments[spec.code] = dept
            added += 1
        elif (dept.name, dept.position, dept.active) != (spec.name, position, True):
            dept.name, dept.position, dept.active = spec.name, position, True
            updated += 1
        session.add(dept)
    wanted = {spec.code for spec in roster.departments}
    for code, dept in departments.items():
        if code not in wanted and dept.active:
            dept.active = False
            session.add(dept)
            deactivated += 1
    session.flush()

    items = {w.title: w for w in session.exec(select(WorkItem))}
    for position, item_spec in enumerate(roster.work_items):
        item = items.get(item_spec.title)
        if item is None:
            item = WorkItem(title=item_spec.title, position=position)
            items[item_spec.title] = item
            added += 1
        elif (item.position, item.active) != (position, True):
            item.position, item.active = position, True
            updated += 1
        session.add(item)
    titles = {w.title for w in roster.work_items}
    for title, item in items.items():
        if title not in titles and item.active:
            item.active = False
            session.add(item)
            deactivated += 1
    session.flush()

    session.exec(delete(WorkItemDepartment))  # type: ignore[call-overload]
    for item_spec in roster.work_items:
        for position, code in enumerate(item_spec.departments):
            session.add(
                WorkItemDepartment(
                    work_item_id=items[item_spec.title].id or 0,
                    department_id=departments[code].id or 0,
                    position=position,
                )
            )

    coordinators = {c.telegram_id: c for c in session.exec(select(Coordinator))}
    for person in roster.coordinators:
        coordinator = coordinators.get(person.telegram_id)
        if coordinator is None:
            session.add(Coordinator(telegram_id=person.telegram_id, name=person.name))
            added += 1
        elif (coordinator.name, coordinator.active) != (person.name, True):
            coordinator.name, coordinator.active = person.name, True
            session.add(coordinator)
            updated += 1
    listed = {c.telegram_id for c in roster.coordinators}
    for telegram_id, coordinator in coordinators.items():
        if telegram_id not in listed and coordinator.active:
            coordinator.active = False
            session.add(coordinator)
            deactivated += 1
    session.flush()
    return RosterChange(added, updated, deactivated)


@dataclass(frozen=True)
class WorkItemView:
    id: int
    title: str
    departments: list[Department]


def active_departments(session: Session) -> list[Department]:
    query = select(Department).where(col(Department.active)).order_by(col(Department.position))
    return list(session.exec(query))


def department_by_code(session: Session, code: str) -> Department | None:
    return session.exec(select(Department).where(Department.code == code)).first()


# Built once: the summary, /status and every reminder pass read these.
_ITEMS = select(WorkItem).where(col(WorkItem.active)).order_by(col(WorkItem.position))
_LINKS = (
    select(WorkItemDepartment, Department)
    .join(Department, col(Department.id) == col(WorkItemDepartment.department_id))
    .where(col(Department.active))
    .order_by(col(WorkItemDepartment.position))
)


def work_items(session: Session) -> list[WorkItemView]:
    """Active key work items in document order, each with its departments in roster order."""
    items = session.exec(_ITEMS).all()
    links = session.exec(_LINKS).all()
    by_item: dict[int, list[Department]] = {}
    for link, dept in links:
        by_item.setdefault(link.work_item_id, []).append(dept)
    return [WorkItemView(i.id or 0, i.title, by_item.get(i.id or 0, [])) for i in items]


def organisation(session: Session) -> Organisation:
    return session.exec(select(Organisation)).first() or Organisation()


def organisation_zone(session: Session) -> ZoneInfo:
    """The zone every due time and reminder is shown and scheduled in."""
    return ZoneInfo(organisation(session).timezone or "Asia/Shanghai")


def coordinators(session: Session) -> list[Coordinator]:
    return list(session.exec(select(Coordinator).where(col(Coordinator.active))))
