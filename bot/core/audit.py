"""The audit trail's words: what was done (Action), by whom (Actor), and one entry as read.

Every change a coordinator makes (periods, roster, people) and every return and approval
is recorded (storage/audit.py); `huibao audit` and /show read it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    """What was done (texts: ``audit_<value>``)."""

    PERIOD_OPEN = "period_open"
    PERIOD_CLOSE = "period_close"
    PERIOD_REOPEN = "period_reopen"
    PERIOD_EXTEND = "period_extend"  # its due time changed
    PERIOD_REMINDERS = "period_reminders"  # its reminder offsets changed
    ROSTER_LOAD = "roster_load"
    ITEM_ADD = "item_add"
    ITEM_RENAME = "item_rename"
    ITEM_RETIRE = "item_retire"
    ITEM_MOVE = "item_move"
    ITEM_DEPARTMENTS = "item_departments"
    DEPARTMENT_ADD = "department_add"
    DEPARTMENT_RENAME = "department_rename"
    DEPARTMENT_RETIRE = "department_retire"
    INVITE = "invite"
    REVOKE = "revoke"
    COORDINATOR_ADD = "coordinator_add"
    COORDINATOR_REMOVE = "coordinator_remove"
    RETURN = "return"  # a submission sent back for revision, with a reason
    APPROVE = "approve"  # an approver let a submission count
    IMPORT = "import"  # a past month's summary table read from Word (huibao import)
    CALENDAR_HOLIDAY = "calendar_holiday"  # the office made a day a day off
    CALENDAR_WORKDAY = "calendar_workday"  # the office made a day a working day
    CALENDAR_CLEAR = "calendar_clear"  # the office's word on a day withdrawn


@dataclass(frozen=True)
class Actor:
    """Who did it: a Telegram user, or the terminal (telegram_id None)."""

    telegram_id: int | None
    name: str


TERMINAL = Actor(None, "")


def submission_subject(month: str, department: str, title: str) -> str:
    """How the trail names a department's part of a key work item in a month."""
    return f"{month} {department}「{title}」"


@dataclass(frozen=True)
class AuditEntry:
    at: datetime  # UTC
    actor: Actor
    action: Action
    subject: str
    detail: dict[str, Any] = field(default_factory=dict)
    period_id: int | None = None
    submission_id: int | None = None
