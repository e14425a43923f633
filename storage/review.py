"""Reading a department's report for a coordinator (/show) and a submission's history."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core.audit import AuditEntry
from bot.core.review import DepartmentReport, ReviewItem, RevisionEntry, match_department
from bot.core.status import DepartmentView, SubmissionStatus, state_of
from storage import audit
from storage.models import Department, Period, PeriodItem, Submission
from storage.snapshots import period_work_items
from storage.submissions import revisions, submitter_name


def departments(session: Session, period_id: int) -> list[DepartmentView]:
    """The departments that report in the period, as it knows them, in roster order."""
    found: dict[int, DepartmentView] = {}
    for item in period_work_items(session, period_id):
        for department in item.departments:
            found.setdefault(department.id, department)
    if not found:
        return []
    positions = dict(
        session.exec(
            select(Department.id, Department.position).where(col(Department.id).in_(found))
        ).all()
    )
    return sorted(found.values(), key=lambda d: (positions.get(d.id, 0), d.id))


def find_department(session: Session, period_id: int, wanted: str) -> DepartmentView | None:
    """The period's department whose code or name is `wanted` (case-insensitive code)."""
    return match_department(departments(session, period_id), wanted)


def _returns(session: Session, submission_ids: list[int]) -> dict[int, AuditEntry]:
    """The latest return of each of these submissions that was ever returned (a
    department has a handful of items)."""
    found = {sid: audit.last_return(session, sid) for sid in submission_ids}
    return {sid: entry for sid, entry in found.items() if entry is not None}


def _names(session: Session, telegram_ids: set[int]) -> dict[int, str]:
    return {tid: submitter_name(session, tid) or "" for tid in telegram_ids}


def department_report(session: Session, period: Period, department_id: int) -> DepartmentReport:
    """Every key work item the department reports on in the period, document order, with
    its submission, who submitted it and its latest return."""
    assert period.due_at is not None and period.id is not None
    items = period_work_items(session, period.id)
    mine = [
        (number, item)
        for number, item in enumerate(items, 1)
        if any(d.id == department_id for d in item.departments)
    ]
    name = next((d.name for _, item in mine for d in item.departments if d.id == department_id), "")
    submissions = {
        s.work_item_id: s
        for s in session.exec(
            select(Submission).where(
                Submission.period_id == period.id, Submission.department_id == department_id
            )
        )
    }
    names = _names(session, {s.submitted_by for s in submissions.values() if s.submitted_by})
    returns = _returns(session, [s.id for s in submissions.values() if s.id is not None])
    shown = []
    for number, item in mine:
        sub = submissions.get(item.id)
        if sub is None:
            shown.append(
                ReviewItem(number, item.id, item.title, state_of(None, None, period.due_at))
            )
            continue
        shown.append(
            ReviewItem(
                number,
                item.id,
                item.title,
                state_of(sub.status, sub.submitted_at, period.due_at),
                sub.id,
                SubmissionStatus(sub.status),
                sub.version,
                list(sub.progress),
                list(sub.plan),
                sub.submitted_at,
                names.get(sub.submitted_by or 0, ""),
                returns.get(sub.id or 0),
            )
        )
    return DepartmentReport(period.id, period.month, department_id, name, shown)


def history(
    session: Session, submission: Submission
) -> tuple[list[RevisionEntry], list[AuditEntry]]:
    """Every handed-in version of the submission, and its returns and approvals."""
    found = revisions(session, submission)
    names = _names(session, {r.submitted_by for r in found if r.submitted_by})
    entries = [
        RevisionEntry(
            r.version,
            r.submitted_at,  # type: ignore[arg-type]
            names.get(r.submitted_by or 0, ""),
            list(r.progress),
            list(r.plan),
        )
        for r in found
        if r.submitted_at is not None
    ]
    return entries, audit.of_submission(session, submission.id or 0)


def handed_in(session: Session, period_id: int, department_id: int) -> list[Submission]:
    """The department's versions awaiting approval or counting in the period, in document
    order: what a whole-department return sends back."""
    statuses = [SubmissionStatus.SUBMITTED.value, SubmissionStatus.PENDING.value]
    return list(
        session.exec(
            select(Submission)
            .join(
                PeriodItem,
                sa.and_(
                    col(PeriodItem.period_id) == col(Submission.period_id),
                    col(PeriodItem.work_item_id) == col(Submission.work_item_id),
                ),
            )
            .where(
                Submission.period_id == period_id,
                Submission.department_id == department_id,
                col(Submission.status).in_(statuses),
            )
            .order_by(col(PeriodItem.position))
        )
    )
