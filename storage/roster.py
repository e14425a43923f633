"""Apply a parsed roster to the database: idempotent, updates by code, never deletes.

Departments are matched by code; key work items by code when the roster gives one, else
by title. The open periods take the new roster; closed ones keep what they had.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import Session, col, delete, select

from bot.core.periods import DEFAULT_ZONE
from bot.core.roster import (
    ChangeKind,
    NamedChange,
    Owner,
    PeriodEffect,
    Roster,
    RosterChange,
    RosterError,
    Subject,
    WorkItemSpec,
)
from bot.core.status import SubmissionStatus, WorkItemView
from storage.models import (
    Coordinator,
    Department,
    Organisation,
    Period,
    Submission,
    WorkItem,
    WorkItemDepartment,
)
from storage.snapshots import period_work_items, roster_work_items, take_snapshot

__all__ = [
    "active_departments",
    "apply_roster",
    "coordinators",
    "department_by_code",
    "organisation",
    "organisation_zone",
    "work_items",
]


class _Tally:
    """Counts and named changes, collected while a roster is applied."""

    def __init__(self) -> None:
        self.added = self.updated = self.deactivated = 0
        self.names: list[NamedChange] = []

    def name(self, subject: Subject, kind: ChangeKind, name: str, old_name: str = "") -> None:
        self.names.append(NamedChange(subject, kind, name, old_name))
        if kind is ChangeKind.ADDED:
            self.added += 1
        elif kind is ChangeKind.RETIRED:
            self.deactivated += 1
        else:
            self.updated += 1


def _apply_departments(session: Session, roster: Roster, tally: _Tally) -> dict[str, Department]:
    departments = {d.code: d for d in session.exec(select(Department))}
    for position, spec in enumerate(roster.departments):
        dept = departments.get(spec.code)
        if dept is None:
            dept = Department(code=spec.code, name=spec.name, position=position)
            departments[spec.code] = dept
            tally.name(Subject.DEPARTMENT, ChangeKind.ADDED, spec.name)
        elif not dept.active:
            tally.name(Subject.DEPARTMENT, ChangeKind.RESTORED, spec.name)
        elif dept.name != spec.name:
            tally.name(Subject.DEPARTMENT, ChangeKind.RENAMED, spec.name, dept.name)
        elif dept.position != position:
            tally.updated += 1
        dept.name, dept.position, dept.active = spec.name, position, True
        session.add(dept)
    wanted = {spec.code for spec in roster.departments}
    for code, dept in departments.items():
        if code not in wanted and dept.active:
            dept.active = False
            session.add(dept)
            tally.name(Subject.DEPARTMENT, ChangeKind.RETIRED, dept.name)
    session.flush()
    return departments


def _match_items(
    existing: list[WorkItem], specs: tuple[WorkItemSpec, ...]
) -> list[WorkItem | None]:
    """The stored item each roster entry is: by code first, then by title (an entry with a
    code takes over a code-less item of its title, so codes can be added to a roster)."""
    by_code = {w.code: w for w in existing if w.code}
    matched: list[WorkItem | None] = [
        by_code.get(spec.code) if spec.code else None for spec in specs
    ]
    claimed = {id(w) for w in matched if w is not None}
    by_title = {w.title: w for w in existing}
    for i, spec in enumerate(specs):
        if matched[i] is not None:
            continue
        found = by_title.get(spec.title)
        if found is None or id(found) in claimed:
            continue
        if spec.code is None or found.code is None:
            matched[i] = found
            claimed.add(id(found))
    return matched


def _apply_work_items(session: Session, roster: Roster, tally: _Tally) -> dict[str, WorkItem]:
    """Roster title → its stored item, after adding, renaming, retiring and reordering."""
    existing = list(session.exec(select(WorkItem)))
    matched = _match_items(existing, roster.work_items)
    kept = {id(w) for w in matched if w is not None}
    holders = {w.title: w for w in existing if id(w) not in kept}
    for i, (spec, item) in enumerate(zip(roster.work_items, matched, strict=True)):
        holder = holders.get(spec.title)
        if holder is not None and (item is None or item.title != spec.title):
            raise RosterError(
                "roster_title_taken",
                where=f"work_items[{i}]",
                title=spec.title,
                code=holder.code or "",
            )
    # Titles are unique: renames go through a placeholder so two items can swap titles.
    pairs = list(zip(roster.work_items, matched, strict=True))
    old_titles = {id(w): w.title for s, w in pairs if w is not None and w.title != s.title}
    for _, item in pairs:
        if item is not None and id(item) in old_titles:
            item.title = f"(renaming #{item.id})"
            session.add(item)
    session.flush()

    items: dict[str, WorkItem] = {}
    for position, (spec, found) in enumerate(pairs):
        if found is None:
            item = WorkItem(code=spec.code, title=spec.title, position=position)
            tally.name(Subject.WORK_ITEM, ChangeKind.ADDED, spec.title)
        else:
            item = found
            if not item.active:
                tally.name(Subject.WORK_ITEM, ChangeKind.RESTORED, spec.title)
            elif id(item) in old_titles:
                tally.name(Subject.WORK_ITEM, ChangeKind.RENAMED, spec.title, old_titles[id(item)])
            elif (item.position, item.code) != (position, spec.code):
                tally.updated += 1
            item.code, item.title, item.position = spec.code, spec.title, position
            item.active = True
        items[spec.title] = item
        session.add(item)
    for item in existing:
        if id(item) not in kept and item.active:
            item.active = False
            session.add(item)
            tally.name(Subject.WORK_ITEM, ChangeKind.RETIRED, item.title)
    session.flush()
    return items


def _apply_coordinators(session: Session, roster: Roster, tally: _Tally) -> None:
    coordinators = {c.telegram_id: c for c in session.exec(select(Coordinator))}
    for person in roster.coordinators:
        coordinator = coordinators.get(person.telegram_id)
        if coordinator is None:
            session.add(Coordinator(telegram_id=person.telegram_id, name=person.name))
            tally.name(Subject.COORDINATOR, ChangeKind.ADDED, person.name)
        elif not coordinator.active:
            tally.name(Subject.COORDINATOR, ChangeKind.RESTORED, person.name)
        elif coordinator.name != person.name:
            tally.name(Subject.COORDINATOR, ChangeKind.RENAMED, person.name, coordinator.name)
        if coordinator is not None:
            coordinator.name, coordinator.active = person.name, True
            session.add(coordinator)
    listed = {c.telegram_id for c in roster.coordinators}
    for telegram_id, coordinator in coordinators.items():
        if telegram_id not in listed and coordinator.active:
            coordinator.active = False
            session.add(coordinator)
            tally.name(Subject.COORDINATOR, ChangeKind.RETIRED, coordinator.name)
    session.flush()


def _owners(items: list[WorkItemView]) -> dict[tuple[int, int], Owner]:
    return {
        (item.id, dept.id): Owner(item.title, dept.name)
        for item in items
        for dept in item.departments
    }


def _refresh_open_period(session: Session, period: Period) -> PeriodEffect:
    """Give an open period the new roster, and say what that did to it."""
    period_id = period.id or 0
    before = period_work_items(session, period_id)
    take_snapshot(session, period_id)
    after = period_work_items(session, period_id)
    submitted = {
        (s.work_item_id, s.department_id)
        for s in session.exec(
            select(Submission).where(
                Submission.period_id == period_id, Submission.status == SubmissionStatus.SUBMITTED
            )
        )
    }
    had, has = _owners(before), _owners(after)
    items_before, items_after = {i.id for i in before}, {i.id for i in after}
    gone = [key for key in had if key not in has]
    return PeriodEffect(
        month=period.month,
        added_items=tuple(i.title for i in after if i.id not in items_before),
        removed_items=tuple(i.title for i in before if i.id not in items_after),
        added=tuple(owner for key, owner in has.items() if key not in had),
        removed=tuple(had[key] for key in gone if key not in submitted),
        dropped=tuple(had[key] for key in gone if key in submitted),
    )


def apply_roster(session: Session, roster: Roster, default_timezone: str) -> RosterChange:
    """Bring the database to the roster and refresh the open periods; closed periods keep
    their own copy. The change says by name what changed; a caller that must not drop
    submitted work from an open period checks `drops_submitted_work` and rolls back."""
    tally = _Tally()
    org = session.exec(select(Organisation)).first() or Organisation()
    org.name, org.timezone = roster.organisation, roster.timezone or default_timezone
    session.add(org)

    departments = _apply_departments(session, roster, tally)
    items = _apply_work_items(session, roster, tally)
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
    session.flush()
    _apply_coordinators(session, roster, tally)

    open_periods = list(session.exec(select(Period).where(col(Period.is_open))))
    effects = tuple(_refresh_open_period(session, period) for period in open_periods)
    return RosterChange(tally.added, tally.updated, tally.deactivated, tuple(tally.names), effects)


def active_departments(session: Session) -> list[Department]:
    query = select(Department).where(col(Department.active)).order_by(col(Department.position))
    return list(session.exec(query))


def department_by_code(session: Session, code: str) -> Department | None:
    return session.exec(select(Department).where(Department.code == code)).first()


def work_items(session: Session) -> list[WorkItemView]:
    """The roster now: active key work items in document order, each with its departments
    in roster order. What a period reports on is its own copy (storage.snapshots)."""
    return roster_work_items(session)


def organisation(session: Session) -> Organisation:
    return session.exec(select(Organisation)).first() or Organisation()


def organisation_zone(session: Session) -> ZoneInfo:
    """The zone every due time and reminder is shown and scheduled in."""
    return ZoneInfo(organisation(session).timezone or DEFAULT_ZONE)


def coordinators(session: Session) -> list[Coordinator]:
    return list(session.exec(select(Coordinator).where(col(Coordinator.active))))
