"""What awaits a department head's approval (部门负责人审核): the pending versions of a
department's submissions in the open periods, as the approval notices show them."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core.status import SubmissionStatus
from storage.models import Period, PeriodItem, Submission


@dataclass(frozen=True)
class PendingVersion:
    """One handed-in version waiting for the approver."""

    submission_id: int
    version: int
    period_id: int
    department_id: int
    title: str  # as the period has it
    progress: list[str]
    plan: list[str]
    submitted_by: int | None


def pending_version(submission: Submission, title: str) -> PendingVersion:
    return PendingVersion(
        submission.id or 0,
        submission.version,
        submission.period_id,
        submission.department_id,
        title,
        list(submission.progress),
        list(submission.plan),
        submission.submitted_by,
    )


def pending_in(session: Session, department_id: int) -> list[PendingVersion]:
    """The department's versions awaiting approval in open periods, month then document
    order."""
    rows = session.exec(
        select(Submission, PeriodItem.title)
        .join(Period, col(Period.id) == col(Submission.period_id))
        .join(
            PeriodItem,
            sa.and_(
                col(PeriodItem.period_id) == col(Submission.period_id),
                col(PeriodItem.work_item_id) == col(Submission.work_item_id),
            ),
        )
        .where(
            col(Submission.department_id) == department_id,
            col(Submission.status) == SubmissionStatus.PENDING.value,
            col(Period.is_open),
        )
        .order_by(col(Period.month), col(PeriodItem.position))
    )
    return [pending_version(submission, title) for submission, title in rows]
