"""Apply a parsed roster to the database: idempotent, updates by code, never deletes.

Departments are matched by code; key work items by code when the roster gives one, else
by title (or by the stored item a chat edit names). The open periods take the new roster;
closed ones keep what they had. `huibao roster load`, a file sent in chat and every chat
edit (/item, /dept) come through `apply_roster`, so the rules live here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, delete, select

from bot.core.periods import DEFAULT_ZONE
from bot.core.roster import (
    ChangeKind,
    CoordinatorSpec,
    DepartmentSpec,
    NamedChange,
    Owner,
    PeriodEffect,
    Roster,
    RosterChange,
    RosterError,
    Subject,
    WorkItemSpec,
)
from bot.core.status import WorkItemView, has_version
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
    "current_roster",
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


Row = TypeVar("Row", Department, WorkItem, Coordinator)


@dataclass(frozen=True)
class _Wanted(Generic[Row]):
    """One roster entry: the stored row it is (None: new), the fields the roster gives
    it, and its name in the roster."""

    found: Row | None
    fields: dict[str, Any]
    name: str
    stored_name: str | None = None  # the stored name, when the row holds a placeholder


def _upsert(
    session: Session,
    tally: _Tally,
    subject: Subject,
    model: type[Row],
    wanted: list[_Wanted[Row]],
    stored: list[Row],
) -> list[Row]:
    """Add, restore, rename or update each wanted row and retire the stored rows the
    roster no longer lists (never delete); the rows in roster order."""
    rows: list[Row] = []
    for entry in wanted:
        row = entry.found
        if row is None:
            row = model(**entry.fields)
            tally.name(subject, ChangeKind.ADDED, entry.name)
        else:
            if not row.active:
                tally.name(subject, ChangeKind.RESTORED, entry.name)
            elif (old := entry.stored_name or _name(row)) != entry.name:
                tally.name(subject, ChangeKind.RENAMED, entry.name, old)
            elif any(getattr(row, key) != value for key, value in entry.fields.items()):
                tally.updated += 1
            for key, value in entry.fields.items():
                setattr(row, key, value)
            row.active = True
        session.add(row)
        rows.append(row)
    kept = {id(entry.found) for entry in wanted if entry.found is not None}
    for row in stored:
        if id(row) not in kept and row.active:
            row.active = False
            session.add(row)
            tally.name(subject, ChangeKind.RETIRED, _name(row))
    session.flush()
    return rows


def _name(row: Department | WorkItem | Coordinator) -> str:
    return row.title if isinstance(row, WorkItem) else row.name


def _apply_departments(session: Session, roster: Roster, tally: _Tally) -> dict[str, Department]:
    stored = list(session.exec(select(Department)))
    by_code = {d.code: d for d in stored}
    wanted = [
        _Wanted(
            by_code.get(spec.code), {"code": spec.code, "name": spec.name, "position": i}, spec.name
        )
        for i, spec in enumerate(roster.departments)
    ]
    rows = _upsert(session, tally, Subject.DEPARTMENT, Department, wanted, stored)
    return {dept.code: dept for dept in rows}


def _match_items(
    existing: list[WorkItem], specs: tuple[WorkItemSpec, ...], ids: Sequence[int | None] | None
) -> list[WorkItem | None]:
    """The stored item each roster entry is: the one `ids` names (a chat edit knows it),
    else by code, then by title (an entry with a code takes over a code-less item of its
    title, so codes can be added to a roster)."""
    by_id = {w.id: w for w in existing}
    by_code = {w.code: w for w in existing if w.code}
    pinned = [by_id.get(i) if i is not None else None for i in ids or [None] * len(specs)]
    matched: list[WorkItem | None] = [
        pinned[n] or (by_code.get(spec.code) if spec.code else None) for n, spec in enumerate(specs)
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


def _apply_work_items(
    session: Session, roster: Roster, tally: _Tally, ids: Sequence[int | None] | None
) -> dict[str, WorkItem]:
    """Roster title → its stored item, after adding, renaming, retiring and reordering."""
    existing = list(session.exec(select(WorkItem)))
    matched = _match_items(existing, roster.work_items, ids)
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

    wanted = [
        _Wanted(
            found,
            {"code": spec.code, "title": spec.title, "position": position},
            spec.title,
            old_titles.get(id(found)),
        )
        for position, (spec, found) in enumerate(pairs)
    ]
    rows = _upsert(session, tally, Subject.WORK_ITEM, WorkItem, wanted, existing)
    return {item.title: item for item in rows}


def _apply_coordinators(session: Session, roster: Roster, tally: _Tally) -> None:
    stored = list(session.exec(select(Coordinator)))
    by_id = {c.telegram_id: c for c in stored}
    wanted = [
        _Wanted(by_id.get(p.telegram_id), {"telegram_id": p.telegram_id, "name": p.name}, p.name)
        for p in roster.coordinators
    ]
    _upsert(session, tally, Subject.COORDINATOR, Coordinator, wanted, stored)


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
    submitted = {  # handed in: submitted, awaiting approval or returned
        (s.work_item_id, s.department_id)
        for s in session.exec(select(Submission).where(Submission.period_id == period_id))
        if has_version(s.status)
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


def apply_roster(
    session: Session,
    roster: Roster,
    default_timezone: str,
    *,
    item_ids: Sequence[int | None] | None = None,
) -> RosterChange:
    """Bring the database to the roster and refresh the open periods; closed periods keep
    their own copy. The change says by name what changed; a caller that must not drop
    submitted work from an open period checks `drops_submitted_work` and rolls back.

    `item_ids`: the stored key work item each roster entry is (None: match by code or
    title), for a chat edit that renames an item without a code."""
    tally = _Tally()
    org = session.exec(select(Organisation)).first() or Organisation()
    org.name, org.timezone = roster.organisation, roster.timezone or default_timezone
    session.add(org)

    departments = _apply_departments(session, roster, tally)
    items = _apply_work_items(session, roster, tally, item_ids)
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


def current_roster(session: Session) -> Roster:
    """The roster as the database has it now, in the form a roster file gives it: what
    /roster sends, and what each chat edit changes (its items in `work_items` order)."""
    org = organisation(session)
    return Roster(
        org.name,
        org.timezone,
        tuple(DepartmentSpec(d.code, d.name) for d in active_departments(session)),
        tuple(
            WorkItemSpec(item.title, tuple(d.code for d in item.departments), item.code)
            for item in work_items(session)
        ),
        tuple(
            CoordinatorSpec(c.telegram_id, c.name)
            for c in sorted(coordinators(session), key=lambda c: c.id or 0)
        ),
    )
