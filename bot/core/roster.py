"""The roster file (TOML): departments, key work items in document order, coordinators.

Parsing, and what a load changes (`RosterChange`); `storage.roster` applies a parsed
roster to the database and reports the change.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.texts import TerminalError

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class RosterError(TerminalError):
    """The roster file is wrong; the message names the key and what is wrong."""


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str


@dataclass(frozen=True)
class WorkItemSpec:
    title: str
    departments: tuple[str, ...]
    code: str | None = None  # the stable id; without it the title is the identity


@dataclass(frozen=True)
class CoordinatorSpec:
    telegram_id: int
    name: str


@dataclass(frozen=True)
class Roster:
    organisation: str
    timezone: str  # "" when the file does not say: the TIMEZONE setting applies
    departments: tuple[DepartmentSpec, ...]
    work_items: tuple[WorkItemSpec, ...]
    coordinators: tuple[CoordinatorSpec, ...] = field(default=())


def _text(table: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = table.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise RosterError("roster_not_string", where=where, key=key, value=repr(value))
    return value.strip()


def _tables(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise RosterError("roster_not_tables", key=key)
    return value


def parse_roster(text: str) -> Roster:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RosterError("roster_not_toml", error=str(exc)) from None

    org = data.get("organisation", {})
    if not isinstance(org, dict):
        raise RosterError("roster_no_organisation")
    name = _text(org, "name", "organisation", required=False)
    timezone = _text(org, "timezone", "organisation", required=False)
    try:
        if timezone:
            ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise RosterError("roster_bad_timezone", timezone=timezone) from None

    departments: list[DepartmentSpec] = []
    for i, table in enumerate(_tables(data, "departments")):
        where = f"departments[{i}]"
        code = _text(table, "code", where)
        if not _CODE.match(code):
            raise RosterError("roster_bad_code", where=where, code=code)
        if any(d.code == code for d in departments):
            raise RosterError("roster_code_twice", where=where, code=code)
        departments.append(DepartmentSpec(code=code, name=_text(table, "name", where)))
    if not departments:
        raise RosterError("roster_no_departments")
    known = {d.code for d in departments}

    work_items: list[WorkItemSpec] = []
    for i, table in enumerate(_tables(data, "work_items")):
        where = f"work_items[{i}]"
        title = _text(table, "title", where)
        if any(w.title == title for w in work_items):
            raise RosterError("roster_title_twice", where=where, title=title)
        item_code = _text(table, "code", where, required=False) or None
        if item_code is not None and not _CODE.match(item_code):
            raise RosterError("roster_bad_code", where=where, code=item_code)
        if item_code is not None and any(w.code == item_code for w in work_items):
            raise RosterError("roster_code_twice", where=where, code=item_code)
        codes = table.get("departments")
        if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
            raise RosterError("roster_no_department_list", where=where)
        for code in codes:
            if code not in known:
                raise RosterError("roster_unknown_department", where=where, code=code)
        if len(set(codes)) != len(codes):
            raise RosterError("roster_department_twice", where=where)
        work_items.append(WorkItemSpec(title=title, departments=tuple(codes), code=item_code))
    if not work_items:
        raise RosterError("roster_no_work_items")

    coordinators: list[CoordinatorSpec] = []
    for i, table in enumerate(_tables(data, "coordinators")):
        where = f"coordinators[{i}]"
        telegram_id = table.get("telegram_id")
        if not isinstance(telegram_id, int) or isinstance(telegram_id, bool) or telegram_id <= 0:
            raise RosterError("roster_bad_telegram_id", where=where)
        coordinators.append(CoordinatorSpec(telegram_id, _text(table, "name", where)))

    return Roster(name, timezone, tuple(departments), tuple(work_items), tuple(coordinators))


def load_roster(path: Path) -> Roster:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RosterError("roster_unreadable", path=str(path), error=exc.strerror) from None
    return parse_roster(text)


class ChangeKind(StrEnum):
    ADDED = "added"
    RENAMED = "renamed"
    RETIRED = "retired"  # a department deactivated, a key work item or coordinator retired
    RESTORED = "restored"  # back in the roster after being retired


class Subject(StrEnum):
    DEPARTMENT = "department"
    WORK_ITEM = "work_item"
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class NamedChange:
    """One department, key work item or coordinator that a load adds, renames or retires."""

    subject: Subject
    kind: ChangeKind
    name: str
    old_name: str = ""  # RENAMED only


@dataclass(frozen=True)
class Owner:
    """One department's part of one key work item, by name."""

    title: str
    department: str


@dataclass(frozen=True)
class PeriodEffect:
    """What a load does to one open period: who now reports on what, and who no longer."""

    month: str
    added_items: tuple[str, ...] = ()
    removed_items: tuple[str, ...] = ()
    added: tuple[Owner, ...] = ()
    removed: tuple[Owner, ...] = ()  # nothing submitted: the assignment just disappears
    dropped: tuple[Owner, ...] = ()  # submitted work that leaves the period

    @property
    def changes(self) -> bool:
        return bool(
            self.added_items or self.removed_items or self.added or self.removed or self.dropped
        )


@dataclass(frozen=True)
class RosterChange:
    """What a load changed, by name, and what that does to the open periods."""

    added: int
    updated: int
    deactivated: int
    names: tuple[NamedChange, ...] = ()
    periods: tuple[PeriodEffect, ...] = ()

    @property
    def drops_submitted_work(self) -> bool:
        """The load would take submitted work out of an open period: it needs confirming."""
        return any(effect.dropped for effect in self.periods)
