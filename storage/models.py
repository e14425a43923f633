"""The tables: roster, people, periods, submissions and their history, invites, reminders.

Times are stored as UTC (naive in the database, aware in Python) so SQLite and
PostgreSQL agree; the organisation's time zone is applied only when showing them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from bot.core.periods import DEFAULT_ZONE


def utcnow() -> datetime:
    return datetime.now(UTC)


def table_of(model: type[SQLModel]) -> sa.Table:
    """A model's table, for Core statements on the hot path (no ORM objects loaded)."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    return table


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, naive UTC in the column."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC was expected")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def _time(nullable: bool = True, **kw: Any) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, **kw))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=sa.Column(sa.JSON(), nullable=False))


class Organisation(SQLModel, table=True):
    """One row: the name and time zone the roster file gives."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    timezone: str = DEFAULT_ZONE


class Department(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=64)
    name: str
    position: int = 0
    active: bool = True


class WorkItem(SQLModel, table=True):
    """A key work item (重点工作): one row of the summary table.

    `code` is the roster's optional stable id: with it a changed title is a rename of the
    same item; without it the title is the item's identity.
    """

    __tablename__ = "work_item"
    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, index=True, unique=True, max_length=64)
    title: str = Field(unique=True)
    position: int = 0
    active: bool = True


class WorkItemDepartment(SQLModel, table=True):
    """Which departments report on a key work item, in roster order."""

    __tablename__ = "work_item_department"
    work_item_id: int = Field(foreign_key="work_item.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)
    position: int = 0


class Coordinator(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=sa.Column(sa.BigInteger(), unique=True, nullable=False))
    name: str
    active: bool = True


class Liaison(SQLModel, table=True):
    """A Telegram user bound to a department by an invite."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_column=sa.Column(sa.BigInteger(), unique=True, nullable=False))
    name: str
    department_id: int = Field(foreign_key="department.id", index=True)
    active: bool = True  # False: revoked (left the job); kept for history
    unreachable: bool = False
    joined_at: datetime | None = _time()
    role: str = Field(default="liaison", max_length=16)  # bot.core.people.PersonRole
    last_seen_at: datetime | None = _time()  # when they last wrote (updated at most hourly)
    revoked_at: datetime | None = _time()
    revoked_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))


class UserPreference(SQLModel, table=True):
    """A user's chosen language, for anyone who wrote to the bot."""

    __tablename__ = "user_preference"
    telegram_id: int = Field(sa_column=sa.Column(sa.BigInteger(), primary_key=True))
    language: str = "zh-CN"


class Invite(SQLModel, table=True):
    """A single-use deep-link token; only its SHA-256 is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    department_id: int = Field(foreign_key="department.id", index=True)
    created_at: datetime | None = _time(nullable=False)
    expires_at: datetime | None = _time(nullable=False)
    created_by: str = ""
    used_at: datetime | None = _time()
    used_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    role: str = Field(default="liaison", max_length=16)  # what the invitee becomes


class Period(SQLModel, table=True):
    """A reporting month with its due time."""

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(unique=True, max_length=7)  # "2015-10"
    due_at: datetime | None = _time(nullable=False)
    is_open: bool = True
    opened_at: datetime | None = _time()
    closed_at: datetime | None = _time()
    reminder_offsets: str | None = None  # per-period override of the settings


class PeriodItem(SQLModel, table=True):
    """A key work item as one period has it (title, document order).

    Taken when the period opens and refreshed by a roster load while the period is open,
    never after it closed: a closed month compiles the same forever.
    """

    __tablename__ = "period_item"
    period_id: int = Field(foreign_key="period.id", primary_key=True)
    work_item_id: int = Field(foreign_key="work_item.id", primary_key=True)
    title: str
    position: int = 0


class PeriodOwner(SQLModel, table=True):
    """A department reporting on a key work item in one period, under the name it had then."""

    __tablename__ = "period_owner"
    period_id: int = Field(foreign_key="period.id", primary_key=True)
    work_item_id: int = Field(foreign_key="work_item.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)
    department_name: str
    position: int = 0


class Submission(SQLModel, table=True):
    """What one department reports for one key work item in one period.

    `progress` and `plan` hold the current items (no numbering). `version`
    increases on every change so two editors cannot overwrite each other.
    """

    __table_args__ = (sa.UniqueConstraint("period_id", "work_item_id", "department_id"),)
    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", index=True)
    work_item_id: int = Field(foreign_key="work_item.id")
    department_id: int = Field(foreign_key="department.id")
    progress: list[str] = _json(list)
    plan: list[str] = _json(list)
    status: str = "draft"  # bot.core.status.SubmissionStatus
    version: int = 0
    updated_at: datetime | None = _time()
    submitted_at: datetime | None = _time()
    submitted_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    # None: reported in the bot; "import:<file name>": read from a past month's table
    source: str | None = Field(default=None, max_length=255)


class SubmissionRevision(SQLModel, table=True):
    """Every submitted version, kept forever."""

    __tablename__ = "submission_revision"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    version: int
    progress: list[str] = _json(list)
    plan: list[str] = _json(list)
    submitted_at: datetime | None = _time(nullable=False)
    submitted_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))


class ConversationState(SQLModel, table=True):
    """Where a user is in a chat flow, written with every accepted message."""

    __tablename__ = "conversation_state"
    telegram_id: int = Field(sa_column=sa.Column(sa.BigInteger(), primary_key=True))
    flow: str = ""
    data: dict[str, Any] = _json(dict)
    updated_at: datetime | None = _time()


class ReminderLog(SQLModel, table=True):
    """One row per reminder sent (or claimed) so each goes out once."""

    __tablename__ = "reminder_log"
    __table_args__ = (sa.UniqueConstraint("period_id", "recipient_id", "slot"),)
    id: int | None = Field(default=None, primary_key=True)
    period_id: int = Field(foreign_key="period.id", index=True)
    recipient_id: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    kind: str = "reminder"  # reminder | digest
    slot: str = Field(max_length=40)  # the scheduled time, ISO, UTC
    claimed_at: datetime | None = _time()
    sent_at: datetime | None = _time()
    status: str = "claimed"  # claimed | sent | failed | blocked


class ReminderMute(SQLModel, table=True):
    """A liaison who asked for no more reminders this period."""

    __tablename__ = "reminder_mute"
    period_id: int = Field(foreign_key="period.id", primary_key=True)
    liaison_id: int = Field(foreign_key="liaison.id", primary_key=True)
    muted_at: datetime | None = _time()


class InboxUpdate(SQLModel, table=True):
    """A Telegram update as received, written before Telegram is told it arrived (the
    next getUpdates offset, the webhook's 200) and marked handled in the transaction of
    the work it caused (storage/inbox.py). Kept INBOX_KEEP_DAYS once handled."""

    __tablename__ = "inbox_update"
    __table_args__ = (
        # The updates not yet handled, per sender in order. The migration (0007) makes it
        # partial, `WHERE handled_at IS NULL`: a small part of the table. (Said here, the
        # predicate would load PostgreSQL's dialect into every SQLite bot.)
        sa.Index("ix_inbox_update_waiting", "sender", "update_id"),
    )
    update_id: int = Field(
        sa_column=sa.Column(sa.BigInteger(), primary_key=True, autoincrement=False)
    )
    sender: str = Field(sa_column=sa.Column(sa.String(40), nullable=False))
    body: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    received_at: datetime | None = _time(nullable=False)
    handled_at: datetime | None = _time(index=True)


class InboxLease(SQLModel, table=True):
    """The bot process handling a sender's updates now: one at a time, in update order,
    whichever process received them."""

    __tablename__ = "inbox_lease"
    sender: str = Field(sa_column=sa.Column(sa.String(40), primary_key=True))
    worker: int = Field(sa_column=sa.Column(sa.Integer(), nullable=False))
    since: datetime | None = _time(nullable=False)


class AuditEvent(SQLModel, table=True):
    """One change a coordinator (or an approver, or the terminal) made, kept forever:
    periods, roster, people, returns and approvals (bot.core.audit.Action)."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime | None = _time(nullable=False, index=True)
    actor_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))  # None: CLI
    actor_name: str = ""
    action: str = Field(max_length=40)
    subject: str = ""  # what it was done to, by name (a month, a department, an item)
    detail: dict[str, Any] = _json(dict)  # the reason of a return, a rename's old name, ...
    period_id: int | None = Field(default=None, index=True)
    submission_id: int | None = Field(default=None, index=True)


class Prompt(SQLModel, table=True):
    """A question the bot asked and waits for a typed answer to (a return's reason): the
    user's next private text message answers it (handlers/prompts.py)."""

    telegram_id: int = Field(sa_column=sa.Column(sa.BigInteger(), primary_key=True))
    kind: str = Field(max_length=40)
    data: dict[str, Any] = _json(dict)
    asked_at: datetime | None = _time()


class CalendarDay(SQLModel, table=True):
    """A day the office set itself (bot.core.workdays.Override): a local holiday, or a
    working day the holiday library does not know (a year it has no data for yet)."""

    __tablename__ = "calendar_day"
    day: date = Field(sa_column=sa.Column(sa.Date(), primary_key=True, autoincrement=False))
    working: bool
    note: str = Field(default="", max_length=200)
    created_by: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    created_at: datetime | None = _time()
