"""The roster file (TOML): departments, key work items in document order, coordinators.

Parsing and writing it back, what a load changes (`RosterChange`), the difference of two
rosters by name (`diff_rosters`) and the coordinator's chat edits (`edit_item`,
`edit_department`), each of which makes a new roster; `storage.roster` applies a roster
to the database and reports the change.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tomli_w

from bot.core.audit import Action
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
    ORGANISATION = "organisation"
    TIMEZONE = "timezone"


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


# --- writing it back -------------------------------------------------------------------


def roster_toml(roster: Roster, header: str = "") -> str:
    """The roster as a file `parse_roster` reads back to the same roster, laid out as the
    README shows it (one ``[[table]]`` per entry); `header` becomes comment lines on top."""
    organisation = {"name": roster.organisation}
    if roster.timezone:
        organisation["timezone"] = roster.timezone
    tables: list[tuple[str, dict[str, Any]]] = [
        *(("departments", {"code": d.code, "name": d.name}) for d in roster.departments),
        *(
            (
                "work_items",
                {
                    **({"code": w.code} if w.code else {}),
                    "title": w.title,
                    "departments": list(w.departments),
                },
            )
            for w in roster.work_items
        ),
        *(
            ("coordinators", {"telegram_id": c.telegram_id, "name": c.name})
            for c in roster.coordinators
        ),
    ]
    parts = ["".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())]
    parts.append(tomli_w.dumps({"organisation": organisation}))
    parts += [f"[[{key}]]\n{tomli_w.dumps(table)}" for key, table in tables]
    return "\n".join(part for part in parts if part)


# --- two rosters compared by name -----------------------------------------------------


class DiffKind(StrEnum):
    ADDED = "added"
    RENAMED = "renamed"
    RETIRED = "retired"
    MOVED = "moved"  # a key work item at another place in the document order
    DEPARTMENTS = "departments"  # a key work item reported on by other departments


@dataclass(frozen=True)
class Difference:
    """One thing that differs between two rosters, by name. `before`/`after`: the old and
    new name (RENAMED), number (MOVED) or department names (DEPARTMENTS)."""

    subject: Subject
    kind: DiffKind
    name: str
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


def match_items(old: tuple[WorkItemSpec, ...], new: tuple[WorkItemSpec, ...]) -> list[int | None]:
    """For each new item, the index of the old item it is (None: a new one): by code,
    then by title, as a load matches them."""
    by_code = {w.code: i for i, w in enumerate(old) if w.code}
    matched: list[int | None] = [by_code.get(w.code) if w.code else None for w in new]
    claimed = {i for i in matched if i is not None}
    by_title = {w.title: i for i, w in enumerate(old)}
    for n, spec in enumerate(new):
        found = by_title.get(spec.title)
        if matched[n] is not None or found is None or found in claimed:
            continue
        if spec.code is None or old[found].code is None:
            matched[n] = found
            claimed.add(found)
    return matched


def _kept_in_order(sequence: list[int]) -> set[int]:
    """The longest run of `sequence` that is in increasing order (the items that kept
    their order; the others moved)."""
    runs: list[tuple[int, ...]] = []
    for value in sequence:
        before = [run for run in runs if run[-1] < value]
        longest: tuple[int, ...] = max(before, key=_length) if before else ()
        runs.append((*longest, value))
    best: tuple[int, ...] = max(runs, key=_length) if runs else ()
    return set(best)


def _length(run: tuple[int, ...]) -> int:
    return len(run)


def _named_departments(roster: Roster, codes: tuple[str, ...]) -> tuple[str, ...]:
    names = {d.code: d.name for d in roster.departments}
    return tuple(names.get(code, code) for code in codes)


def _item_differences(
    old: Roster, new: Roster, origins: list[int | None] | None
) -> list[Difference]:
    found = origins if origins is not None else match_items(old.work_items, new.work_items)
    kept = _kept_in_order([i for i in found if i is not None])
    changes: list[Difference] = []
    for number, (spec, origin) in enumerate(zip(new.work_items, found, strict=True), start=1):
        if origin is None:
            changes.append(Difference(Subject.WORK_ITEM, DiffKind.ADDED, spec.title))
            continue
        was = old.work_items[origin]
        if was.title != spec.title:
            changes.append(
                Difference(Subject.WORK_ITEM, DiffKind.RENAMED, spec.title, (was.title,))
            )
        if origin not in kept:
            changes.append(
                Difference(
                    Subject.WORK_ITEM,
                    DiffKind.MOVED,
                    spec.title,
                    (str(origin + 1),),
                    (str(number),),
                )
            )
        if was.departments != spec.departments:
            before = _named_departments(old, was.departments)
            after = _named_departments(new, spec.departments)
            changes.append(
                Difference(Subject.WORK_ITEM, DiffKind.DEPARTMENTS, spec.title, before, after)
            )
    gone = set(range(len(old.work_items))) - {i for i in found if i is not None}
    changes += [
        Difference(Subject.WORK_ITEM, DiffKind.RETIRED, old.work_items[i].title)
        for i in sorted(gone)
    ]
    return changes


def _keyed_differences(
    subject: Subject, old: dict[Any, str], new: dict[Any, str]
) -> list[Difference]:
    """Added, renamed and retired entries of a table keyed by a stable id."""
    changes = [
        Difference(subject, DiffKind.ADDED, name)
        if key not in old
        else Difference(subject, DiffKind.RENAMED, name, (old[key],))
        for key, name in new.items()
        if key not in old or old[key] != name
    ]
    changes += [
        Difference(subject, DiffKind.RETIRED, name) for key, name in old.items() if key not in new
    ]
    return changes


def diff_rosters(
    old: Roster, new: Roster, origins: list[int | None] | None = None
) -> list[Difference]:
    """What `new` changes in `old`, by name: the organisation, departments, key work items
    (added, renamed, moved, other departments, retired) and coordinators. `origins`: the
    old index of each new item when the caller knows it (a chat edit), else items are
    matched by code, then title."""
    changes: list[Difference] = []
    if old.organisation != new.organisation:
        changes.append(
            Difference(
                Subject.ORGANISATION, DiffKind.RENAMED, new.organisation, (old.organisation,)
            )
        )
    if new.timezone and old.timezone != new.timezone:
        changes.append(
            Difference(Subject.TIMEZONE, DiffKind.RENAMED, new.timezone, (old.timezone,))
        )
    changes += _keyed_differences(
        Subject.DEPARTMENT,
        {d.code: d.name for d in old.departments},
        {d.code: d.name for d in new.departments},
    )
    changes += _item_differences(old, new, origins)
    changes += _keyed_differences(
        Subject.COORDINATOR,
        {c.telegram_id: c.name for c in old.coordinators},
        {c.telegram_id: c.name for c in new.coordinators},
    )
    return changes


# --- edits in chat --------------------------------------------------------------------

MAX_TITLE = 200
MAX_NAME = 64
_SEPARATORS = re.compile(r"[\s,，、;；]+")
_PIPE = re.compile(r"[|｜]")


# Why an edit cannot be made: the texts ``roster_edit_<name>``.
EDIT_PROBLEMS = (
    "usage",
    "missing",
    "no_item",
    "no_department",
    "no_departments",
    "no_title",
    "title_too_long",
    "title_taken",
    "unchanged",
    "last_item",
    "bad_position",
    "no_name",
    "name_too_long",
    "name_taken",
    "bad_code",
    "code_taken",
    "department_owns",
    "last_department",
)


class EditError(Exception):
    """A chat edit that cannot be made. `name`: the text that says why
    (``roster_edit_<name>``); `values` fill it; `verb`: whose usage to show."""

    def __init__(self, name: str, verb: str = "", /, **values: Any) -> None:
        assert name in EDIT_PROBLEMS, name
        super().__init__(name)
        self.name, self.verb, self.values = name, verb, values


@dataclass(frozen=True)
class RosterEdit:
    """One chat edit: what it is (the audit's words), and the roster it makes.
    `origins`: for each work item of the new roster, its index in the old one (None: new)."""

    action: Action
    subject: str
    detail: dict[str, Any]
    roster: Roster
    origins: tuple[int | None, ...]


def _same_items(roster: Roster) -> tuple[int | None, ...]:
    return tuple(range(len(roster.work_items)))


def find_item(roster: Roster, ref: str, verb: str) -> int:
    """The index of the item `ref` names: its number in the roster order, or its code."""
    ref = ref.strip()
    if ref.isascii() and ref.isdigit() and 1 <= int(ref) <= len(roster.work_items):
        return int(ref) - 1
    for index, item in enumerate(roster.work_items):
        if item.code is not None and item.code == ref.lower():
            return index
    raise EditError("no_item", verb, ref=ref, count=len(roster.work_items))


def find_departments(roster: Roster, words: str, verb: str) -> tuple[str, ...]:
    """The codes of the departments `words` names (codes or names, any separator)."""
    codes: list[str] = []
    for word in (w for w in _SEPARATORS.split(words) if w):
        found = next(
            (d.code for d in roster.departments if word.lower() == d.code or word == d.name), None
        )
        if found is None:
            raise EditError("no_department", verb, word=word)
        if found not in codes:
            codes.append(found)
    if not codes:
        raise EditError("no_departments", verb)
    return tuple(codes)


def _title(roster: Roster, title: str, verb: str, but: int | None = None) -> str:
    title = " ".join(title.split())
    if not title:
        raise EditError("no_title", verb)
    if len(title) > MAX_TITLE:
        raise EditError("title_too_long", verb, limit=MAX_TITLE)
    if any(w.title == title for i, w in enumerate(roster.work_items) if i != but):
        raise EditError("title_taken", verb, title=title)
    return title


def _with_items(
    roster: Roster, items: list[WorkItemSpec], origins: list[int | None]
) -> tuple[Roster, tuple[int | None, ...]]:
    return Roster(
        roster.organisation,
        roster.timezone,
        roster.departments,
        tuple(items),
        roster.coordinators,
    ), tuple(origins)


def _item_add(roster: Roster, rest: str) -> RosterEdit:
    parts = _PIPE.split(rest, maxsplit=1)
    if len(parts) < 2:
        raise EditError("no_departments", "add")
    title, owners = parts
    title = _title(roster, title, "add")
    codes = find_departments(roster, owners, "add")
    items = [*roster.work_items, WorkItemSpec(title, codes)]
    new, origins = _with_items(roster, items, [*_same_items(roster), None])
    names = list(_named_departments(roster, codes))
    return RosterEdit(Action.ITEM_ADD, title, {"departments": names}, new, origins)


def _item_rename(roster: Roster, rest: str) -> RosterEdit:
    ref, _, title = rest.partition(" ")
    index = find_item(roster, ref, "rename")
    old = roster.work_items[index]
    title = _title(roster, title, "rename", but=index)
    if title == old.title:
        raise EditError("unchanged", "rename")
    items = list(roster.work_items)
    items[index] = WorkItemSpec(title, old.departments, old.code)
    new, origins = _with_items(roster, items, list(_same_items(roster)))
    return RosterEdit(Action.ITEM_RENAME, title, {"old": old.title, "new": title}, new, origins)


def _item_retire(roster: Roster, rest: str) -> RosterEdit:
    index = find_item(roster, rest, "retire")
    if len(roster.work_items) == 1:
        raise EditError("last_item", "retire")
    items = list(roster.work_items)
    origins: list[int | None] = list(_same_items(roster))
    gone = items.pop(index)
    origins.pop(index)
    new, kept = _with_items(roster, items, origins)
    return RosterEdit(Action.ITEM_RETIRE, gone.title, {"code": gone.code or ""}, new, kept)


def _item_move(roster: Roster, rest: str) -> RosterEdit:
    ref, _, to = rest.partition(" ")
    index = find_item(roster, ref, "move")
    to = to.strip()
    count = len(roster.work_items)
    if not (to.isascii() and to.isdigit() and 1 <= int(to) <= count):
        raise EditError("bad_position", "move", position=to, count=count)
    if int(to) - 1 == index:
        raise EditError("unchanged", "move")
    items = list(roster.work_items)
    origins: list[int | None] = list(_same_items(roster))
    item, origin = items.pop(index), origins.pop(index)
    items.insert(int(to) - 1, item)
    origins.insert(int(to) - 1, origin)
    new, kept = _with_items(roster, items, origins)
    detail = {"old": index + 1, "new": int(to)}
    return RosterEdit(Action.ITEM_MOVE, item.title, detail, new, kept)


def _item_departments(roster: Roster, rest: str) -> RosterEdit:
    ref, _, owners = rest.partition(" ")
    index = find_item(roster, ref, "depts")
    old = roster.work_items[index]
    codes = find_departments(roster, owners, "depts")
    if codes == old.departments:
        raise EditError("unchanged", "depts")
    items = list(roster.work_items)
    items[index] = WorkItemSpec(old.title, codes, old.code)
    new, origins = _with_items(roster, items, list(_same_items(roster)))
    detail = {
        "old": list(_named_departments(roster, old.departments)),
        "new": list(_named_departments(roster, codes)),
    }
    return RosterEdit(Action.ITEM_DEPARTMENTS, old.title, detail, new, origins)


def _with_departments(roster: Roster, departments: list[DepartmentSpec]) -> Roster:
    return Roster(
        roster.organisation,
        roster.timezone,
        tuple(departments),
        roster.work_items,
        roster.coordinators,
    )


def _department_name(roster: Roster, name: str, verb: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise EditError("no_name", verb)
    if len(name) > MAX_NAME:
        raise EditError("name_too_long", verb, limit=MAX_NAME)
    if any(d.name == name for d in roster.departments):
        raise EditError("name_taken", verb, name=name)
    return name


def _find_department(roster: Roster, code: str, verb: str) -> int:
    for index, department in enumerate(roster.departments):
        if department.code == code.strip().lower() or department.name == code.strip():
            return index
    raise EditError("no_department", verb, word=code.strip())


def _dept_add(roster: Roster, rest: str) -> RosterEdit:
    code, _, name = rest.partition(" ")
    code = code.strip().lower()
    if not _CODE.match(code):
        raise EditError("bad_code", "add", code=code)
    if any(d.code == code for d in roster.departments):
        raise EditError("code_taken", "add", code=code)
    name = _department_name(roster, name, "add")
    new = _with_departments(roster, [*roster.departments, DepartmentSpec(code, name)])
    return RosterEdit(Action.DEPARTMENT_ADD, name, {"code": code}, new, _same_items(roster))


def _dept_rename(roster: Roster, rest: str) -> RosterEdit:
    code, _, name = rest.partition(" ")
    index = _find_department(roster, code, "rename")
    old = roster.departments[index]
    name = _department_name(roster, name, "rename")
    departments = list(roster.departments)
    departments[index] = DepartmentSpec(old.code, name)
    new = _with_departments(roster, departments)
    detail = {"code": old.code, "old": old.name, "new": name}
    return RosterEdit(Action.DEPARTMENT_RENAME, name, detail, new, _same_items(roster))


def _dept_retire(roster: Roster, rest: str) -> RosterEdit:
    index = _find_department(roster, rest, "retire")
    gone = roster.departments[index]
    owned = [w.title for w in roster.work_items if gone.code in w.departments]
    if owned:
        raise EditError("department_owns", "", department=gone.name, items=owned)
    if len(roster.departments) == 1:
        raise EditError("last_department", "retire")
    departments = [d for d in roster.departments if d.code != gone.code]
    new = _with_departments(roster, departments)
    detail = {"code": gone.code}
    return RosterEdit(Action.DEPARTMENT_RETIRE, gone.name, detail, new, _same_items(roster))


_ITEM_VERBS = {
    "add": _item_add,
    "rename": _item_rename,
    "retire": _item_retire,
    "move": _item_move,
    "depts": _item_departments,
}
_DEPARTMENT_VERBS = {"add": _dept_add, "rename": _dept_rename, "retire": _dept_retire}


def _edit(verbs: dict[str, Any], roster: Roster, text: str) -> RosterEdit:
    verb, _, rest = " ".join(text.split()).partition(" ")
    make = verbs.get(verb.lower())
    if make is None:
        raise EditError("usage", "")
    if not rest.strip():
        raise EditError("missing", verb.lower())
    edit: RosterEdit = make(roster, rest.strip())
    return edit


def edit_item(roster: Roster, text: str) -> RosterEdit:
    """`/item add|rename|retire|move|depts …` (the text after the command)."""
    return _edit(_ITEM_VERBS, roster, text)


def edit_department(roster: Roster, text: str) -> RosterEdit:
    """`/dept add|rename|retire …` (the text after the command)."""
    return _edit(_DEPARTMENT_VERBS, roster, text)
