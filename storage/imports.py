"""Apply a past month's summary table read from Word (bot.core.word): the month becomes a
closed period with the roster's snapshot, and each matched row that department's submitted
report, marked with the file it came from (``submission.source``).

Importing the same file again changes nothing. A month that is open, or that has reports
made in the bot, is never touched. A key work item with several departments gets the whole
row as its first department's report, unless the row's 责任部门 cell names another of them:
the file does not say which department wrote which line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core.audit import TERMINAL, Action, Actor
from bot.core.periods import Month, default_due
from bot.core.status import DepartmentView, SubmissionStatus, WorkItemView
from bot.core.texts import TerminalError
from bot.core.word import ReadRow, ReadTable, Unmatched, Why, match_items
from storage import audit
from storage.calendar import work_calendar
from storage.models import (
    Department,
    Period,
    PeriodItem,
    PeriodOwner,
    Submission,
    SubmissionRevision,
    WorkItem,
    WorkItemDepartment,
    utcnow,
)
from storage.periods import get_period
from storage.snapshots import roster_work_items, take_snapshot

SOURCE_PREFIX = "import:"


class ImportRefused(TerminalError):
    """The month cannot take an import (texts ``import_*`` in templates/cli/import)."""


class Stored(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ImportedRow:
    title: str  # the key work item's title
    department: str
    state: Stored
    added: bool = False  # a new key work item made from the row (--add-items)


@dataclass
class ImportOutcome:
    month: str
    created: bool  # the period was made by this import
    rows: list[ImportedRow] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return sum(1 for r in self.rows if r.state is not Stored.UNCHANGED)

    @property
    def unchanged(self) -> int:
        return sum(1 for r in self.rows if r.state is Stored.UNCHANGED)


def source_of(filename: str) -> str:
    return (SOURCE_PREFIX + filename)[:255]


def _check_period(session: Session, month: Month) -> Period | None:
    """The month's period if an import may write into it; ImportRefused if not."""
    found = get_period(session, str(month))
    if found is None:
        return None
    if found.is_open:
        raise ImportRefused("import_period_open", month=str(month))
    from_bot = session.exec(
        select(Submission.id).where(
            Submission.period_id == found.id, col(Submission.source).is_(None)
        )
    ).first()
    if from_bot is not None:
        raise ImportRefused("import_period_reported", month=str(month))
    return found


def departments_by_code(session: Session, codes: list[str]) -> list[Department]:
    """The departments --add-items names, in that order; ImportRefused for an unknown code."""
    found: list[Department] = []
    for code in codes:
        department = session.exec(
            select(Department).where(Department.code == code, col(Department.active))
        ).first()
        if department is None:
            raise ImportRefused("import_bad_department", code=code)
        found.append(department)
    return found


def _add_item(
    session: Session, row: ReadRow, owners: list[Department], actor: Actor, now: datetime
) -> WorkItemView:
    """A new key work item from an unmatched row, at the end of the roster."""
    last = session.exec(select(sa.func.max(WorkItem.position))).one()
    item = WorkItem(title=row.title, position=(last or 0) + 1)
    session.add(item)
    session.flush()
    for rank, department in enumerate(owners):
        session.add(
            WorkItemDepartment(
                work_item_id=item.id or 0, department_id=department.id or 0, position=rank
            )
        )
    audit.record(
        session,
        Action.ITEM_ADD,
        actor,
        row.title,
        detail={"departments": [d.code for d in owners]},
        now=now,
    )
    views = [DepartmentView(d.id or 0, d.name, d.code) for d in owners]
    return WorkItemView(item.id or 0, item.title, views)


def _department(item: WorkItemView, named: str) -> DepartmentView:
    """The row's department: one of the item's that the 责任部门 cell names, else its first."""
    for department in item.departments:
        if department.name and department.name in named:
            return department
        if department.code and department.code in named:
            return department
    return item.departments[0]


def _ensure_in_snapshot(session: Session, period: Period, item: WorkItemView) -> None:
    """An item the period's snapshot lacks (added by this import) joins it at the end."""
    have = session.get(PeriodItem, (period.id, item.id))
    if have is not None:
        return
    last = session.exec(
        select(sa.func.max(PeriodItem.position)).where(PeriodItem.period_id == period.id)
    ).one()
    session.add(
        PeriodItem(
            period_id=period.id or 0,
            work_item_id=item.id,
            title=item.title,
            position=(last or 0) + 1,
        )
    )
    for rank, department in enumerate(item.departments):
        session.add(
            PeriodOwner(
                period_id=period.id or 0,
                work_item_id=item.id,
                department_id=department.id,
                department_name=department.name,
                position=rank,
            )
        )
    session.flush()


def _store(
    session: Session,
    period: Period,
    item: WorkItemView,
    department: DepartmentView,
    row: ReadRow,
    source: str,
    now: datetime,
) -> Stored:
    """The row as the department's submitted report; unchanged when it is so already."""
    found = session.exec(
        select(Submission).where(
            Submission.period_id == period.id,
            Submission.work_item_id == item.id,
            Submission.department_id == department.id,
        )
    ).first()
    progress, plan = list(row.progress), list(row.plan)
    if (
        found is not None
        and found.status == SubmissionStatus.SUBMITTED
        and list(found.progress) == progress
        and list(found.plan) == plan
    ):
        return Stored.UNCHANGED
    state = Stored.NEW if found is None else Stored.UPDATED
    submission = found or Submission(
        period_id=period.id or 0, work_item_id=item.id, department_id=department.id
    )
    submission.progress, submission.plan = progress, plan
    submission.status = SubmissionStatus.SUBMITTED
    submission.version += 1
    submission.updated_at = now
    submission.submitted_at = period.due_at  # on time: the month as the office closed it
    submission.submitted_by = None
    submission.source = source
    session.add(submission)
    session.flush()
    session.add(
        SubmissionRevision(
            submission_id=submission.id or 0,
            version=submission.version,
            progress=progress,
            plan=plan,
            submitted_at=period.due_at or now,
            submitted_by=None,
        )
    )
    session.flush()
    return state


def import_month(
    session: Session,
    table: ReadTable,
    month: Month,
    filename: str,
    tz: ZoneInfo,
    *,
    add_items: list[str] | None = None,
    actor: Actor = TERMINAL,
    now: datetime | None = None,
) -> ImportOutcome:
    """Import the table into `month` (see the module docstring). The caller commits, or
    rolls back for a dry run."""
    now = now or utcnow()
    period = _check_period(session, month)
    owners = departments_by_code(session, add_items or [])
    matching = match_items(table.rows, roster_work_items(session))
    added: list[tuple[ReadRow, WorkItemView]] = []
    unmatched: list[Unmatched] = []
    for missed in matching.unmatched:
        if owners and missed.why is Why.UNKNOWN:
            added.append((missed.row, _add_item(session, missed.row, owners, actor, now)))
        else:
            unmatched.append(missed)
    created = period is None
    if period is None:
        due = default_due(month, tz, work_calendar(session))
        period = Period(month=str(month), due_at=due, is_open=False, closed_at=now)
        session.add(period)
        session.flush()
        take_snapshot(session, period.id or 0)
    outcome = ImportOutcome(str(month), created, unmatched=unmatched)
    source = source_of(filename)
    pairs = [(r, i, False) for r, i in matching.matched] + [(r, i, True) for r, i in added]
    for row, item, is_new in pairs:
        if not item.departments:
            outcome.unmatched.append(Unmatched(row, Why.NO_DEPARTMENT, item.title))
            continue
        _ensure_in_snapshot(session, period, item)
        department = _department(item, row.departments)
        state = _store(session, period, item, department, row, source, now)
        outcome.rows.append(ImportedRow(item.title, department.name, state, is_new))
    if created or outcome.stored:
        audit.record(
            session,
            Action.IMPORT,
            actor,
            str(month),
            detail={"file": filename, "summary": f"{filename}: {outcome.stored}"},
            period_id=period.id,
            now=now,
        )
    return outcome
