"""Submissions: who owes what in a period and how it stands, drafts, submitting, and the
revision history. The rules (state, lateness, the month's status) are bot.core.status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core.audit import Action, Actor
from bot.core.people import PersonRole
from bot.core.periods import PeriodView, parse_month
from bot.core.status import (
    Assignment,
    PeriodStatus,
    State,
    SubmissionStatus,
    SubmissionView,
    owed,
    state_of,
    submitters,
)
from bot.core.status import period_status as status_of
from storage import audit
from storage.models import (
    Coordinator,
    Department,
    Liaison,
    Period,
    PeriodItem,
    PeriodOwner,
    Submission,
    SubmissionRevision,
    table_of,
    utcnow,
)
from storage.snapshots import period_work_items

# Built once: the summary, /status and every opened item read submissions like this.
_PERIOD_SUBMISSIONS = select(Submission).where(Submission.period_id == sa.bindparam("period_id"))
_ONE_SUBMISSION = _PERIOD_SUBMISSIONS.where(
    Submission.department_id == sa.bindparam("department_id"),
    Submission.work_item_id == sa.bindparam("work_item_id"),
)


# One liaison opening one key work item: the period, the item's title as the period has
# it if the department shares in it there, and its submission if any.
_OWNED = (
    select(Period, PeriodItem.title, Submission)
    .select_from(Period)
    .join(
        PeriodItem,
        sa.and_(
            col(PeriodItem.period_id) == col(Period.id),
            col(PeriodItem.work_item_id) == sa.bindparam("work_item_id"),
        ),
    )
    .join(
        PeriodOwner,
        sa.and_(
            col(PeriodOwner.period_id) == col(Period.id),
            col(PeriodOwner.work_item_id) == col(PeriodItem.work_item_id),
            col(PeriodOwner.department_id) == sa.bindparam("department_id"),
        ),
    )
    .outerjoin(
        Submission,
        sa.and_(
            col(Submission.period_id) == col(Period.id),
            col(Submission.work_item_id) == col(PeriodItem.work_item_id),
            col(Submission.department_id) == col(PeriodOwner.department_id),
        ),
    )
    .where(col(Period.id) == sa.bindparam("period_id"))
)
# Last month's submission of the same item (by identity, whatever its title was then) by
# the same department.
_PREVIOUS = (
    select(Submission)
    .join(Period, col(Period.id) == col(Submission.period_id))
    .where(
        Period.month == sa.bindparam("month"),
        Submission.work_item_id == sa.bindparam("work_item_id"),
        Submission.department_id == sa.bindparam("department_id"),
        Submission.status == SubmissionStatus.SUBMITTED,
    )
)


def submission_view(submission: Submission) -> SubmissionView:
    """A stored submission as the rules read it."""
    return SubmissionView(
        status=SubmissionStatus(submission.status),
        progress=list(submission.progress),
        plan=list(submission.plan),
        version=submission.version,
        submitted_at=submission.submitted_at,
        submitted_by=submission.submitted_by,
    )


def is_submitted(submission: Submission | None) -> bool:
    """Whether a version of the submission was submitted (it may be revised since)."""
    return submission is not None and submission.status == SubmissionStatus.SUBMITTED


def is_pending(submission: Submission | None) -> bool:
    """Whether the handed-in version awaits the department's approver."""
    return submission is not None and submission.status == SubmissionStatus.PENDING


def assignments(session: Session, period: Period) -> list[Assignment]:
    """Every key work item × responsible department as the period has them (titles and
    department names included), in document then roster order."""
    rows = session.exec(_PERIOD_SUBMISSIONS, params={"period_id": period.id})
    submissions = {(s.work_item_id, s.department_id): submission_view(s) for s in rows}
    assert period.due_at is not None
    return [
        Assignment(item, department, submissions.get((item.id, department.id)), period.due_at)
        for item in period_work_items(session, period.id or 0)
        for department in item.departments
    ]


@dataclass(frozen=True)
class ListedItem:
    """One line of a liaison's item list."""

    work_item_id: int
    title: str
    state: State


def _department_list() -> sa.Select[Any]:
    item, owner, submission = table_of(PeriodItem), table_of(PeriodOwner), table_of(Submission)
    department_id: sa.BindParameter[int] = sa.bindparam("department_id")
    period_id: sa.BindParameter[int] = sa.bindparam("period_id")
    return (
        sa.select(item.c.work_item_id, item.c.title, submission.c.status, submission.c.submitted_at)
        .join(
            owner,
            sa.and_(
                owner.c.period_id == item.c.period_id,
                owner.c.work_item_id == item.c.work_item_id,
                owner.c.department_id == department_id,
            ),
        )
        .outerjoin(
            submission,
            sa.and_(
                submission.c.period_id == item.c.period_id,
                submission.c.work_item_id == item.c.work_item_id,
                submission.c.department_id == department_id,
            ),
        )
        .where(item.c.period_id == period_id)
        .order_by(item.c.position)
    )


# Built once, run outside the ORM: every /report and every submit lists the items.
_DEPARTMENT_LIST = _department_list()


def department_list(
    session: Session, period: Period | PeriodView, department_id: int
) -> list[ListedItem]:
    """The key work items one department reports on, in document order, with the state of
    its submission for each: a liaison's /report in one query."""
    assert period.due_at is not None
    rows = session.connection().execute(
        _DEPARTMENT_LIST, {"period_id": period.id, "department_id": department_id}
    )
    return [
        ListedItem(id_, title, state_of(status, submitted_at, period.due_at))
        for id_, title, status, submitted_at in rows
    ]


def owned_item(
    session: Session, period_id: int, work_item_id: int, department_id: int
) -> tuple[Period, str, Submission | None] | None:
    """The period, the item's title and the department's submission, or None when the
    period is gone or the department does not (or no longer) report on the item."""
    row = session.exec(
        _OWNED,
        params={
            "period_id": period_id,
            "work_item_id": work_item_id,
            "department_id": department_id,
        },
    ).first()
    return (row[0], row[1], row[2]) if row else None


def pending_by_department(session: Session, period: Period) -> dict[int, list[Assignment]]:
    """Departments that still owe items, with what they owe."""
    return owed(assignments(session, period))


def period_status(session: Session, period: Period, now: datetime) -> PeriodStatus:
    """Every key work item × responsible department with its state, time and lateness."""
    found = assignments(session, period)
    assert period.due_at is not None
    names = _names(session, submitters(found))
    return status_of(period.month, period.due_at, period.is_open, found, names, now)


def submission_for(
    session: Session, period: Period | PeriodView, work_item_id: int, department_id: int
) -> Submission:
    """The department's submission for the item, created empty on first use."""
    found = session.exec(
        _ONE_SUBMISSION,
        params={
            "period_id": period.id,
            "work_item_id": work_item_id,
            "department_id": department_id,
        },
    ).first()
    if found is None:
        found = Submission(
            period_id=period.id or 0,
            work_item_id=work_item_id,
            department_id=department_id,
            updated_at=utcnow(),
        )
        session.add(found)
        session.flush()
    return found


class Conflict(Exception):
    """Someone else saved this submission since it was read."""

    def __init__(self, current: Submission) -> None:
        super().__init__("the submission changed since it was read")
        self.current = current


def submit(
    session: Session,
    submission: Submission,
    *,
    progress: list[str],
    plan: list[str],
    by: int,
    read_version: int,
    now: datetime | None = None,
    needs_approval: bool = False,
) -> Submission:
    """Store a new handed-in version, unless another editor saved one since `read_version`.
    It counts at once, or (`needs_approval`: the department has approvers) once approved."""
    session.refresh(submission, with_for_update=True)
    if submission.version != read_version:
        raise Conflict(submission)
    now = now or utcnow()
    submission.progress, submission.plan = list(progress), list(plan)
    submission.status = SubmissionStatus.PENDING if needs_approval else SubmissionStatus.SUBMITTED
    submission.version += 1
    submission.updated_at = submission.submitted_at = now
    submission.submitted_by = by
    session.add(submission)
    session.add(
        SubmissionRevision(
            submission_id=submission.id or 0,
            version=submission.version,
            progress=list(progress),
            plan=list(plan),
            submitted_at=now,
            submitted_by=by,
        )
    )
    session.flush()
    return submission


class NotPending(Exception):
    """The version to approve or return is not the one awaiting it (revised, approved or
    returned meanwhile): an old button."""


def _locked(
    session: Session, submission: Submission, version: int, states: set[SubmissionStatus]
) -> None:
    session.refresh(submission, with_for_update=True)
    if submission.version != version or SubmissionStatus(submission.status) not in states:
        raise NotPending


def approve(
    session: Session,
    submission: Submission,
    *,
    version: int,
    actor: Actor,
    subject: str,
    now: datetime,
) -> Submission:
    """The approver lets the pending `version` count (as submitted at the approval);
    `subject` names it in the audit trail as a return names what it sent back."""
    _locked(session, submission, version, {SubmissionStatus.PENDING})
    submission.status = SubmissionStatus.SUBMITTED
    submission.updated_at = submission.submitted_at = now
    session.add(submission)
    audit.record(
        session,
        Action.APPROVE,
        actor,
        subject,
        detail={"version": version},
        period_id=submission.period_id,
        submission_id=submission.id,
        now=now,
    )
    return submission


def return_for_revision(
    session: Session,
    submission: Submission,
    *,
    version: int,
    reason: str,
    actor: Actor,
    subject: str,
    now: datetime,
) -> Submission:
    """Send the handed-in `version` back (退回修改): it no longer counts until handed in
    again; its text stays, the start of the revision."""
    handed_in = {SubmissionStatus.SUBMITTED, SubmissionStatus.PENDING}
    _locked(session, submission, version, handed_in)
    submission.status = SubmissionStatus.RETURNED
    submission.updated_at = now
    session.add(submission)
    audit.record(
        session,
        Action.RETURN,
        actor,
        subject,
        detail={"version": version, "reason": reason},
        period_id=submission.period_id,
        submission_id=submission.id,
        now=now,
    )
    return submission


def revisions(session: Session, submission: Submission) -> list[SubmissionRevision]:
    return list(
        session.exec(
            select(SubmissionRevision)
            .where(SubmissionRevision.submission_id == submission.id)
            .order_by(col(SubmissionRevision.version))
        )
    )


def previous_plan(
    session: Session, period: Period, work_item_id: int, department_id: int
) -> list[str]:
    """Last month's next-step items for the same key work item: this month's starting point."""
    found = session.exec(
        _PREVIOUS,
        params={
            "month": str(parse_month(period.month).previous()),
            "work_item_id": work_item_id,
            "department_id": department_id,
        },
    ).first()
    return list(found.plan) if found else []


# --- a liaison's rights on a draft, checked with every write ----------------------

# The liaison's row is locked (FOR SHARE on PostgreSQL) until the write commits, so a move
# or revocation made meanwhile waits for it rather than slipping in between check and write.
_MAY_REPORT = (
    select(Liaison.id)
    .join(Department, col(Department.id) == col(Liaison.department_id))
    .join(
        PeriodOwner,
        sa.and_(
            col(PeriodOwner.department_id) == col(Department.id),
            col(PeriodOwner.period_id) == sa.bindparam("period_id"),
            col(PeriodOwner.work_item_id) == sa.bindparam("work_item_id"),
        ),
    )
    .where(
        Liaison.telegram_id == sa.bindparam("telegram_id"),
        col(Liaison.active),
        Liaison.role == PersonRole.LIAISON.value,
        col(Department.active),
        Department.id == sa.bindparam("department_id"),
    )
    .with_for_update(read=True, of=Liaison)  # type: ignore[arg-type]
)


def may_report(
    session: Session, telegram_id: int, period_id: int, work_item_id: int, department_id: int
) -> bool:
    """Whether the user is now an active liaison of the department and the department
    reports on the item in this period (its own roster); holds the liaison's row until the
    transaction ends."""
    found = session.exec(
        _MAY_REPORT,
        params={
            "telegram_id": telegram_id,
            "period_id": period_id,
            "work_item_id": work_item_id,
            "department_id": department_id,
        },
    ).first()
    return found is not None


def find_submission(
    session: Session, period_id: int, work_item_id: int, department_id: int
) -> Submission | None:
    """The department's submission for the item, if there is one (never creates it)."""
    found: Submission | None = session.exec(
        _ONE_SUBMISSION,
        params={
            "period_id": period_id,
            "work_item_id": work_item_id,
            "department_id": department_id,
        },
    ).first()
    return found


def _names(session: Session, telegram_ids: set[int]) -> dict[int, str]:
    """Telegram id → the name the roster or the invite gave; liaison names win."""
    if not telegram_ids:
        return {}
    found = {
        c.telegram_id: c.name
        for c in session.exec(
            select(Coordinator).where(col(Coordinator.telegram_id).in_(telegram_ids))
        )
    }
    found.update(
        (person.telegram_id, person.name)
        for person in session.exec(
            select(Liaison).where(col(Liaison.telegram_id).in_(telegram_ids))
        )
    )
    return found


def submitter_name(session: Session, telegram_id: int | None) -> str | None:
    """The name of whoever submitted a version (a liaison, or a coordinator on their behalf)."""
    if telegram_id is None:
        return None
    return _names(session, {telegram_id}).get(telegram_id)


def forget_unsubmitted(
    session: Session, period_id: int, work_item_id: int, department_id: int
) -> None:
    """A draft was given up before anything was submitted: the department's empty row goes,
    so no list or /status shows a draft that no longer exists."""
    session.execute(
        sa.delete(table_of(Submission)).where(
            table_of(Submission).c.period_id == period_id,
            table_of(Submission).c.work_item_id == work_item_id,
            table_of(Submission).c.department_id == department_id,
            table_of(Submission).c.status == SubmissionStatus.DRAFT,
            table_of(Submission).c.version == 0,
        )
    )
