"""bot/core/status.py and the summary assembly: states, lateness, a month's status, the
tally. Pure rules, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.periods import Month
from bot.core.status import (
    Assignment,
    DepartmentView,
    State,
    SubmissionStatus,
    SubmissionView,
    WorkItemView,
    owed,
    period_status,
    state_of,
    submitters,
)
from bot.core.summary import Contribution, Draft, SummaryRow, assemble_summary

DUE = datetime(2015, 11, 5, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
BEFORE, AFTER = DUE - timedelta(hours=1), DUE + timedelta(hours=1)
OFFICE, YOUTH = DepartmentView(1, "办公室", "office"), DepartmentView(2, "团委", "youth")
SHARED = WorkItemView(10, "团的制度建设", [OFFICE, YOUTH])
ALONE = WorkItemView(11, "宣传工作", [OFFICE])


def submitted(at: datetime, by: int = 7) -> SubmissionView:
    return SubmissionView(SubmissionStatus.SUBMITTED, ["推进"], ["计划"], 1, at, by)


DRAFT = SubmissionView(SubmissionStatus.DRAFT, ["草稿"], [])


@pytest.mark.parametrize(
    ("status", "at", "state"),
    [
        (None, None, State.NOT_STARTED),
        ("draft", None, State.DRAFT),
        ("draft", BEFORE, State.DRAFT),
        ("submitted", None, State.DRAFT),
        ("submitted", BEFORE, State.SUBMITTED),
        ("submitted", DUE, State.SUBMITTED),  # on the minute is on time
        ("submitted", AFTER, State.SUBMITTED_LATE),
    ],
)
def test_state_of_a_submission(status: str | None, at: datetime | None, state: State) -> None:
    assert state_of(status, at, DUE) is state


def test_submission_status_is_the_stored_string() -> None:
    assert SubmissionStatus.SUBMITTED == "submitted" and SubmissionStatus.DRAFT == "draft"


@pytest.mark.parametrize(
    ("submission", "now", "late"),
    [
        (None, BEFORE, False),  # not started, still time
        (None, AFTER, True),  # not started, the due time passed
        (DRAFT, AFTER, True),  # a draft is not a report
        (submitted(BEFORE), AFTER, False),  # on time stays on time
        (submitted(AFTER), AFTER, True),  # late stays late
    ],
)
def test_lateness(submission: SubmissionView | None, now: datetime, late: bool) -> None:
    assignment = Assignment(ALONE, OFFICE, submission, DUE)
    assert assignment.late(now) is late
    assert assignment.submitted is (submission is not None and submission.submitted_at is not None)


def _month(office_shared: SubmissionView | None) -> list[Assignment]:
    return [
        Assignment(SHARED, OFFICE, office_shared, DUE),
        Assignment(SHARED, YOUTH, submitted(AFTER, by=8), DUE),
        Assignment(ALONE, OFFICE, submitted(BEFORE), DUE),
    ]


def test_a_shared_item_counts_once_every_department_submitted() -> None:
    status = period_status("2015-10", DUE, True, _month(DRAFT), {8: "李四"}, AFTER)
    shared, alone = status.items
    assert (shared.number, alone.number) == (1, 2)
    assert not shared.submitted and shared.submitted_any and shared.missing == ["办公室"]
    assert shared.overdue and not alone.overdue
    assert shared.departments[1].submitted_by == "李四"
    assert (status.submitted, status.total, status.missing, status.overdue) == (1, 2, 1, 1)
    assert status.pending == [shared] and status.done == [alone]

    late = period_status("2015-10", DUE, False, _month(submitted(BEFORE)), {}, AFTER)
    assert (late.submitted, late.submitted_late, late.on_time) == (2, 1, 1)
    assert late.items[0].submitted_late


def test_pending_puts_overdue_items_first() -> None:
    later = WorkItemView(12, "新项目", [YOUTH])
    found = [
        Assignment(later, YOUTH, None, DUE + timedelta(days=9)),  # its own, later due time
        Assignment(SHARED, OFFICE, None, DUE),
        Assignment(ALONE, OFFICE, submitted(AFTER), DUE),  # late, but done
    ]
    status = period_status("2015-10", DUE, True, found, {}, AFTER)
    assert [item.title for item in status.pending] == ["团的制度建设", "新项目"]
    assert [item.number for item in status.pending] == [2, 1]


def test_owed_and_submitters() -> None:
    found = _month(None)
    assert {d: [a.work_item.id for a in owes] for d, owes in owed(found).items()} == {1: [10]}
    assert submitters(found) == {7, 8}


def test_the_summary_and_its_tally() -> None:
    summary, tally = assemble_summary(
        Month(2015, 10), "团委", _month(DRAFT), is_open=True, due_at=DUE,
        tz=ZoneInfo("Asia/Shanghai"),
    )  # fmt: skip
    reported = Contribution("团委", ["推进"], ["计划"])
    assert summary.rows == [
        SummaryRow("团的制度建设", [Contribution("办公室", [], []), reported], SHARED.id),
        SummaryRow("宣传工作", [Contribution("办公室", ["推进"], ["计划"])], ALONE.id),
    ]
    assert (tally.submitted, tally.total, tally.missing) == (1, 2, ["团的制度建设"])
    assert summary.draft == Draft("2015-11-05 17:00", 1)
    assert (summary.year, summary.month, summary.organisation) == (2015, 10, "团委")

    nobody = [Assignment(ALONE, OFFICE, DRAFT, DUE)]
    closed, _ = assemble_summary(Month(2015, 10), "", nobody, is_open=False, due_at=DUE, tz=UTC)
    assert closed.rows == [SummaryRow("宣传工作", [], ALONE.id)] and closed.draft is None
