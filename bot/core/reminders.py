"""Reminders, overdue digests and "period open" notices: which are due, and what they say.

Pure: the schedule, what the log already holds and the facts of a period come in as
values; tasks and messages come out. Reading those values, claiming and sending is
bot/broadcast.py's job; the words are in templates/messages.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import Enum, StrEnum
from zoneinfo import ZoneInfo

from bot.core import texts
from bot.core.people import PersonRole
from bot.core.periods import local_text
from bot.core.schedule import (
    Offset,
    ReminderSchedule,
    digest_slots,
    parse_offsets,
    reminder_days,
    reminder_slots,
    split_due,
)
from bot.core.status import State
from bot.core.workdays import LIBRARY, WorkCalendar

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=2)  # how far beyond the grace missed slots are recorded as skipped


class Kind(StrEnum):
    """What a log row is for (stored as its value)."""

    REMINDER = "reminder"  # to a liaison whose department owes something, on the schedule
    DIGEST = "digest"  # to the coordinators, who is late, once overdue
    NUDGE = "nudge"  # a coordinator's /remind
    OPENED = "opened"  # "the period is open", queued when it opens
    REOPENED = "reopened"
    CALENDAR = "calendar"  # to the coordinators, once a year: the holiday library does not
    # know a year the open period needs (its slot: that year's 1 January, 00:00 UTC)
    BACKUP = "backup"  # to the coordinators, once a day: the scheduled backup failed (its
    # slot: the organisation's day as that date's midnight UTC; bot.core.backup_plan)


QUEUED_KINDS = (Kind.OPENED, Kind.REOPENED)  # recipients fixed when queued, not at send time


class Delivery(Enum):
    """How one send ended (stored as the log row's status)."""

    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"  # the recipient blocked the bot


@dataclass(frozen=True)
class Task:
    """One (period, recipient, slot) to claim and send."""

    period_id: int
    recipient: int
    slot: datetime
    kind: Kind


@dataclass(frozen=True)
class OpenItem:
    """A button's action: open one key work item of a period for reporting."""

    period_id: int
    work_item_id: int


@dataclass(frozen=True)
class Button:
    label: str
    action: OpenItem


@dataclass(frozen=True)
class ChatLimits:
    """How much one chat message may carry: the numbers are Telegram's, handed in by the
    handlers (handlers/chunks.py), since the core knows no Telegram."""

    text: int  # characters of a message
    buttons: int  # buttons of one inline keyboard


@dataclass(frozen=True)
class Message:
    chat_id: int
    text: str
    buttons: tuple[Button, ...] = ()
    department_id: int | None = None  # the department reminded, for /remind's count


# --- planning -----------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _period_offsets(text: str) -> tuple[Offset, ...]:
    """A period's own offsets, parsed once per distinct text (every pass asks)."""
    return parse_offsets(text)


def schedule_for(
    base: ReminderSchedule,
    tz: ZoneInfo,
    period_offsets: str | None,
    month: str = "",
    calendar: WorkCalendar = LIBRARY,
) -> ReminderSchedule:
    """The settings' schedule in the organisation's zone and on its working days, with
    the period's own offsets when a coordinator set them (bad ones are ignored, with a
    warning)."""
    schedule = replace(base, tz=tz, calendar=calendar)
    if not period_offsets:
        return schedule
    try:
        return replace(schedule, offsets=_period_offsets(period_offsets))
    except ValueError:
        log.warning("period %s: ignoring bad reminder offsets %r", month, period_offsets)
        return schedule


def due_now(
    schedule: ReminderSchedule, due_at: datetime, now: datetime, grace: timedelta
) -> dict[Kind, tuple[list[datetime], list[datetime]]]:
    """Per scheduled kind, (slots due now, newest last; slots missed beyond the grace but
    within LOOKBACK), leaving out a kind with neither."""
    times = {
        Kind.REMINDER: reminder_slots(
            due_at,
            schedule.tz,
            schedule.offsets,
            schedule.hour,
            schedule.quiet,
            now,
            schedule.calendar,
        ),
        Kind.DIGEST: digest_slots(
            due_at, schedule.tz, schedule.hour, schedule.quiet, now, schedule.calendar
        ),
    }
    found = {kind: split_due(slots, now, grace, LOOKBACK) for kind, slots in times.items()}
    return {kind: (due, missed) for kind, (due, missed) in found.items() if due or missed}


def year_slot(year: int) -> datetime:
    """The log's slot of the once-a-year "unknown year" notice."""
    return datetime(year, 1, 1, tzinfo=UTC)


def unknown_years(schedule: ReminderSchedule, due_at: datetime) -> set[int]:
    """The years of the due day and the reminder days whose holidays nobody knows: not
    the library, and the office set no day of them (then weekdays count as working)."""
    days = reminder_days(due_at, schedule.tz, schedule.offsets)
    return {day.year for day in days if not schedule.calendar.covers(day.year)}


def calendar_notices(
    years_by_period: Iterable[tuple[int, set[int]]],
    coordinators: Iterable[int],
    told: set[tuple[int, datetime]],
) -> list[Task]:
    """The "unknown year" notice per coordinator and year, once: under the first period
    (in order) that needs the year, unless the log has it for that person (`told`:
    (recipient, year slot) pairs, whichever period)."""
    first: dict[int, int] = {}
    for period_id, years in years_by_period:
        for year in sorted(years):
            first.setdefault(year, period_id)
    recipients = list(coordinators)
    return [
        Task(period_id, recipient, year_slot(year), Kind.CALENDAR)
        for year, period_id in sorted(first.items())
        for recipient in recipients
        if (recipient, year_slot(year)) not in told
    ]


def compose_calendar_notice(task: Task, language: str) -> Message:
    """ "The holidays of YEAR are not known yet: weekdays count as working days"."""
    return Message(
        task.recipient, texts.text(language, "calendar_unknown_year", year=task.slot.year)
    )


def choose_slots(
    recipients: Iterable[int],
    due: Sequence[datetime],
    missed: Sequence[datetime],
    done: set[tuple[int, datetime]],
) -> tuple[dict[int, datetime], list[tuple[int, datetime]]]:
    """Per recipient, the newest due slot not in the log yet (`done`: (recipient, slot)
    pairs already there); and every (recipient, slot) to record as skipped: missed beyond
    the grace, or older than the one being sent. Nobody gets two at once."""
    send: dict[int, datetime] = {}
    skip: list[tuple[int, datetime]] = []
    for recipient in recipients:
        open_slots = [s for s in [*missed, *due] if (recipient, s) not in done]
        if due and due[-1] in open_slots:
            send[recipient] = due[-1]
            open_slots.remove(due[-1])
        skip.extend((recipient, s) for s in open_slots)
    return send, skip


def newest_notices(
    queued: Iterable[Task], open_ids: set[int], period_id: int | None = None
) -> tuple[list[Task], list[Task]]:
    """Of the queued notices (oldest first) of open periods (of one, if given): per
    liaison and period the newest to send, and the older ones a later (re)opening
    superseded, to record as skipped."""
    newest: dict[tuple[int, int], Task] = {}
    older: list[Task] = []
    for task in queued:
        if task.period_id not in open_ids or period_id not in (None, task.period_id):
            continue
        previous = newest.get((task.period_id, task.recipient))
        if previous is not None:
            older.append(previous)
        newest[(task.period_id, task.recipient)] = task
    return list(newest.values()), older


def nudge_slot(now: datetime) -> datetime:
    """A /remind's slot: its minute (two /remind in one minute send once)."""
    return now.replace(second=0, microsecond=0)


def in_send_order(tasks: Iterable[Task]) -> tuple[list[Task], list[Task]]:
    """Everything but digests first, so a digest sees who turned out unreachable."""
    tasks = list(tasks)
    return [t for t in tasks if t.kind != Kind.DIGEST], [t for t in tasks if t.kind == Kind.DIGEST]


# --- content --------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """An open period as its messages show it."""

    period_id: int
    month: str
    due_at: datetime
    tz: ZoneInfo  # the organisation's

    @property
    def due(self) -> str:
        return local_text(self.due_at, self.tz)


@dataclass(frozen=True)
class OwedItem:
    """A key work item a department has not submitted."""

    work_item_id: int
    title: str
    draft: bool  # a draft exists
    pending: bool = False  # handed in, awaiting the department's approver


def held_up_by(owed: Iterable[State], has_approvers: bool) -> set[PersonRole]:
    """Who a department's reminder goes to: its liaisons while something is not handed
    in, its approvers while something awaits them (its liaisons, who may hand it in again,
    when it has no approver any more)."""
    states = set(owed)
    roles = {PersonRole.LIAISON} if states - {State.PENDING} else set()
    if State.PENDING in states:
        roles.add(PersonRole.APPROVER if has_approvers else PersonRole.LIAISON)
    return roles


@dataclass(frozen=True)
class LateDepartment:
    department: str
    owed: tuple[OwedItem, ...]
    no_liaison: bool
    unreachable: tuple[str, ...]  # liaisons' names
    muted: tuple[str, ...]


def _item(item: OwedItem) -> dict[str, object]:
    return {"title": item.title, "draft": item.draft, "pending": item.pending}


def compose_reminder(
    task: Task,
    language: str,
    period: Deadline,
    name: str,
    department: str,
    department_id: int,
    owed: Sequence[OwedItem],
    now: datetime,
    limits: ChatLimits,
) -> Message | None:
    """What the liaison still owes, with a button per item; None if nothing (any more)."""
    if not owed:
        return None
    text = _owed_text(language, "reminder_text", name, department, period, owed, now)
    buttons = tuple(
        Button(
            texts.plain(language, "reminder_button", title=item.title),
            OpenItem(period.period_id, item.work_item_id),
        )
        for item in owed[: limits.buttons]
    )
    return Message(task.recipient, text, buttons, department_id)


def compose_approver_reminder(
    task: Task,
    language: str,
    period: Deadline,
    name: str,
    department: str,
    department_id: int,
    owed: Sequence[OwedItem],
    now: datetime,
) -> Message | None:
    """What awaits the approver's approval, without buttons (they do not report: /pending
    shows the previews); None if nothing (any more)."""
    pending = [item for item in owed if item.pending]
    if not pending:
        return None
    text = _owed_text(language, "reminder_approver", name, department, period, pending, now)
    return Message(task.recipient, text, department_id=department_id)


def _owed_text(
    language: str,
    name_of_text: str,
    name: str,
    department: str,
    period: Deadline,
    owed: Sequence[OwedItem],
    now: datetime,
) -> str:
    """A reminder's words: to whom, for which department and month, what is owed."""
    return texts.text(
        language,
        name_of_text,
        name=name,
        department=department,
        month=period.month,
        due=period.due,
        overdue=now > period.due_at,
        items=[_item(item) for item in owed],
    )


def compose_digest(
    task: Task,
    language: str,
    period: Deadline,
    late: Sequence[LateDepartment],
    now: datetime,
    limits: ChatLimits,
) -> Message | None:
    """Who is late with what, who cannot be reached, who muted; None before the deadline
    or if nobody is late. Compact (no items) when the full one is too long to send."""
    if now <= period.due_at or not late:
        return None
    values: dict[str, object] = {
        "month": period.month,
        "due": period.due,
        "late": [
            {
                "department": d.department,
                "owed": [_item(item) for item in d.owed],
                "no_liaison": d.no_liaison,
                "unreachable": list(d.unreachable),
                "muted": list(d.muted),
            }
            for d in late
        ],
    }
    text = texts.text(language, "digest_text", compact=False, **values)
    if len(text) > limits.text:
        text = texts.text(language, "digest_text", compact=True, **values)
    return Message(task.recipient, text)


def compose_open_notice(task: Task, language: str, period: Deadline, department_id: int) -> Message:
    """The notice "the period is open, due …, /report"."""
    text = texts.text(
        language,
        "period_open_notice",
        month=period.month,
        due=period.due,
        reopened=task.kind == Kind.REOPENED,
    )
    return Message(task.recipient, text, department_id=department_id)
