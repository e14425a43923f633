"""What a coordinator reads of one department's report (/show) and the rules of a return
(退回修改): who may send a version back, and what a reason may be.

Pure core: storage/review.py reads the rows into these views; handlers/review.py words them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from bot.core.audit import AuditEntry
from bot.core.status import DepartmentView, State, SubmissionStatus

MAX_REASON_CHARS = 500  # a reason is read on a phone, in one message with its title

# A question about a return is answered soon after it is asked; a message long after is
# not taken as its reason (the question is forgotten then).
PROMPT_TTL = timedelta(hours=1)

HANDED_IN = frozenset({SubmissionStatus.SUBMITTED, SubmissionStatus.PENDING})


def match_department(departments: Iterable[DepartmentView], wanted: str) -> DepartmentView | None:
    """The department whose code (any case) or name is `wanted`: how a coordinator names
    one (/show, /history)."""
    wanted = wanted.strip()
    for department in departments:
        if wanted.lower() == department.code.lower() or wanted == department.name:
            return department
    return None


@dataclass(frozen=True)
class ReviewItem:
    """One key work item of the department in the period, as /show shows it."""

    number: int  # its row in the document (序号)
    work_item_id: int
    title: str
    state: State
    submission_id: int | None = None
    status: SubmissionStatus | None = None
    version: int = 0
    progress: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    submitted_at: datetime | None = None  # UTC
    submitted_by: str = ""  # the submitter's name
    last_return: AuditEntry | None = None  # the latest return, if it was ever returned

    @property
    def handed_in(self) -> bool:
        """A version awaits approval or counts: it may be returned."""
        return self.status in HANDED_IN

    @property
    def has_history(self) -> bool:
        """More than one revision, or a return: worth a 历史 button."""
        return self.version > 1 or self.last_return is not None


@dataclass(frozen=True)
class DepartmentReport:
    """A department's part of a period's report (/show)."""

    period_id: int
    month: str
    department_id: int
    department: str  # the name the period knows it by
    items: list[ReviewItem]

    @property
    def handed_in(self) -> list[ReviewItem]:
        return [item for item in self.items if item.handed_in]


class Returner(Enum):
    """Who may send a version back, and the statuses they may send back."""

    COORDINATOR = "coordinator"
    APPROVER = "approver"


_MAY_RETURN: dict[Returner, frozenset[SubmissionStatus]] = {
    Returner.COORDINATOR: HANDED_IN,
    Returner.APPROVER: frozenset({SubmissionStatus.PENDING}),  # before it counts
}


def may_return(returner: Returner | None, status: SubmissionStatus) -> bool:
    """Whether this returner may send back a version in this status."""
    return returner is not None and status in _MAY_RETURN[returner]


def prompt_expired(asked_at: datetime | None, now: datetime) -> bool:
    """Too long since the question was asked for a message to be its answer."""
    return asked_at is None or now - asked_at > PROMPT_TTL


class ReasonProblem(Enum):
    """Why a typed reason is not taken (texts: ``reason_<value>``)."""

    EMPTY = "empty"
    TOO_LONG = "too_long"


def reason_problem(text: str) -> ReasonProblem | None:
    """A reason is 1..MAX_REASON_CHARS characters once stripped."""
    reason = text.strip()
    if not reason:
        return ReasonProblem.EMPTY
    return ReasonProblem.TOO_LONG if len(reason) > MAX_REASON_CHARS else None


@dataclass(frozen=True)
class RevisionEntry:
    """One handed-in version of a submission (history)."""

    version: int
    at: datetime  # UTC
    by: str
    progress: list[str]
    plan: list[str]


HistoryEntry = RevisionEntry | AuditEntry


def history_order(revisions: list[RevisionEntry], events: list[AuditEntry]) -> list[HistoryEntry]:
    """Revisions and returns/approvals in the order they happened: each version, then
    what was done to it (an event names its version; times only break ties)."""
    keyed: list[tuple[int, int, datetime, HistoryEntry]] = [
        (r.version, 0, r.at, r) for r in revisions
    ]
    keyed += [(int(e.detail.get("version", 0)), 1, e.at, e) for e in events]
    return [entry for *_, entry in sorted(keyed, key=lambda k: (k[0], k[1], k[2]))]
