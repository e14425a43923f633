"""Who owes what in a period, and how it stands: a submission's state and lateness, each
department's part of a key work item, and a month's status as /status and /compile show it.

Pure core: storage reads the rows and hands over these views; the rules are here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum


class SubmissionStatus(StrEnum):
    """A stored submission's status (the column holds these strings)."""

    DRAFT = "draft"
    PENDING = "pending"  # submitted by the liaison, awaiting the department's approver
    SUBMITTED = "submitted"  # counts: approved, or a department without approvers
    RETURNED = "returned"  # sent back for revision (by a coordinator or an approver)


class State(Enum):
    """How one department's part of a key work item stands (texts: ``state_<value>``)."""

    NOT_STARTED = "not_started"
    DRAFT = "draft"
    PENDING = "pending"  # 待审核
    RETURNED = "returned"  # 已退回
    SUBMITTED = "submitted"
    SUBMITTED_LATE = "submitted_late"


SUBMITTED = (State.SUBMITTED, State.SUBMITTED_LATE)


def state_of(status: str | None, submitted_at: datetime | None, due_at: datetime) -> State:
    """A submission's state (status None: no submission yet); submitted after the due time
    counts as late."""
    if status is None:
        return State.NOT_STARTED
    if status == SubmissionStatus.SUBMITTED and submitted_at is not None:
        return State.SUBMITTED_LATE if submitted_at > due_at else State.SUBMITTED
    return _UNCOUNTED.get(status, State.DRAFT)


_UNCOUNTED: dict[str, State] = {
    SubmissionStatus.PENDING: State.PENDING,
    SubmissionStatus.RETURNED: State.RETURNED,
}


def has_version(status: str | None) -> bool:
    """A version was handed in (counted, awaiting approval or returned): a revision starts
    from its text."""
    return status in _HANDED_IN


_HANDED_IN = {SubmissionStatus.SUBMITTED, SubmissionStatus.PENDING, SubmissionStatus.RETURNED}


@dataclass(frozen=True)
class DepartmentView:
    """A department under the name the period (or the roster) knows it by."""

    id: int
    name: str
    code: str = ""


@dataclass(frozen=True)
class WorkItemView:
    """A key work item with its departments in roster order (names as the period has them)."""

    id: int
    title: str
    departments: list[DepartmentView]
    code: str | None = None  # the roster's stable id, where it gives one


@dataclass(frozen=True)
class SubmissionView:
    """A department's stored submission for one key work item, as read."""

    status: SubmissionStatus
    progress: list[str]
    plan: list[str]
    version: int = 0
    submitted_at: datetime | None = None  # UTC
    submitted_by: int | None = None  # Telegram id


@dataclass(frozen=True)
class Assignment:
    """One department's part of one key work item in a period."""

    work_item: WorkItemView
    department: DepartmentView
    submission: SubmissionView | None
    due_at: datetime

    @property
    def state(self) -> State:
        sub = self.submission
        if sub is None:
            return State.NOT_STARTED
        return state_of(sub.status, sub.submitted_at, self.due_at)

    @property
    def submitted(self) -> bool:
        return self.state in SUBMITTED

    def late(self, now: datetime) -> bool:
        """Submitted after the due time, or not submitted and the due time passed."""
        if self.submitted:
            return self.state is State.SUBMITTED_LATE
        return now > self.due_at


def owed(found: Iterable[Assignment]) -> dict[int, list[Assignment]]:
    """Departments that still owe items, with what they owe (in the order given)."""
    owed: dict[int, list[Assignment]] = {}
    for assignment in found:
        if not assignment.submitted:
            owed.setdefault(assignment.department.id, []).append(assignment)
    return owed


# --- a month's status, as /status and the /compile caption show it -------------------


@dataclass(frozen=True)
class DepartmentStatus:
    """One department's part of a key work item, as /status shows it."""

    department: str
    state: State
    submitted_at: datetime | None  # UTC; None unless submitted
    submitted_by: str  # the name of whoever submitted, "" if unknown or not submitted
    late: bool  # submitted after the due time, or not submitted and the due time passed


@dataclass(frozen=True)
class ItemStatus:
    number: int  # its row in the document (序号)
    title: str
    departments: list[DepartmentStatus]  # roster order

    @property
    def submitted(self) -> bool:
        """Counted as reported only when every responsible department submitted."""
        return all(d.state in SUBMITTED for d in self.departments)

    @property
    def submitted_late(self) -> bool:
        """Reported, but some department only after the due time."""
        return self.submitted and any(d.state is State.SUBMITTED_LATE for d in self.departments)

    @property
    def submitted_any(self) -> bool:
        """Some department submitted its part (all of them, or not)."""
        return any(d.state in SUBMITTED for d in self.departments)

    @property
    def awaiting_approval(self) -> bool:
        """Some department's part waits for its approver (待审核)."""
        return any(d.state is State.PENDING for d in self.departments)

    @property
    def missing(self) -> list[str]:
        """The departments that have not submitted their part, roster order."""
        return [d.department for d in self.departments if d.state not in SUBMITTED]

    @property
    def overdue(self) -> bool:
        """Not reported, and the due time has passed."""
        return not self.submitted and any(d.late for d in self.departments)


@dataclass(frozen=True)
class PeriodStatus:
    month: str
    due_at: datetime
    is_open: bool
    items: list[ItemStatus]  # document order

    @property
    def submitted(self) -> int:
        return sum(1 for item in self.items if item.submitted)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def submitted_late(self) -> int:
        return sum(1 for item in self.items if item.submitted_late)

    @property
    def on_time(self) -> int:
        return self.submitted - self.submitted_late

    @property
    def missing(self) -> int:
        return self.total - self.submitted

    @property
    def overdue(self) -> int:
        """Items still missing after the due time (a subset of `missing`)."""
        return sum(1 for item in self.items if item.overdue)

    @property
    def pending(self) -> list[ItemStatus]:
        """What to chase: items not fully submitted, overdue ones first, then document
        order."""
        return sorted((i for i in self.items if not i.submitted), key=lambda i: not i.overdue)

    @property
    def done(self) -> list[ItemStatus]:
        return [item for item in self.items if item.submitted]


def submitters(found: Iterable[Assignment]) -> set[int]:
    """Telegram ids of whoever submitted a part: the names /status must look up."""
    return {a.submission.submitted_by for a in found if a.submission and a.submission.submitted_by}


def _department_status(
    assignment: Assignment, names: Mapping[int, str], now: datetime
) -> DepartmentStatus:
    sub = assignment.submission if assignment.submitted else None
    by = sub.submitted_by if sub is not None else None
    return DepartmentStatus(
        department=assignment.department.name,
        state=assignment.state,
        submitted_at=sub.submitted_at if sub is not None else None,
        submitted_by=names.get(by, "") if by is not None else "",
        late=assignment.late(now),
    )


def period_status(
    month: str,
    due_at: datetime,
    is_open: bool,
    found: Iterable[Assignment],
    names: Mapping[int, str],
    now: datetime,
) -> PeriodStatus:
    """Every key work item × responsible department with its state, time and lateness;
    `found` in document then roster order, `names` the submitters' names by Telegram id."""
    items: dict[int, ItemStatus] = {}
    for assignment in found:
        item = items.setdefault(
            assignment.work_item.id,
            ItemStatus(len(items) + 1, assignment.work_item.title, []),
        )
        item.departments.append(_department_status(assignment, names, now))
    return PeriodStatus(month, due_at, is_open, list(items.values()))
