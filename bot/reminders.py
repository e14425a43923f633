"""Deadline reminders and overdue digests: who gets what, when, exactly once.

The core knows nothing of Telegram: it plans a pass from the database, and for
each recipient reads the current state, claims the log row and hands a plain
`Message` to a `deliver` callable (handlers/reminders.py sends it with the Bot).
Everything is re-read at send time, so a department that submitted in the
meantime gets nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.core import texts
from bot.core.periods import local_text
from bot.core.schedule import Plan, digest_slots, reminder_slots, split_due
from bot.settings import Settings
from storage import reminders as reminder_log
from storage.db import session_scope
from storage.models import Coordinator, Liaison, Period
from storage.people import language_of, liaisons_of
from storage.periods import open_periods
from storage.roster import coordinators, organisation_zone
from storage.submissions import Assignment, pending_by_department

log = logging.getLogger(__name__)
T = TypeVar("T")

REMINDER, DIGEST, NUDGE = "reminder", "digest", "nudge"
OPENED, REOPENED = reminder_log.OPENED, reminder_log.REOPENED  # queued when a period opens
QUEUED_KINDS = (OPENED, REOPENED)
SEND_RATE = 30.0  # messages a second, overall (Telegram's broadcast limit)
WORKERS = 8  # sends in flight at once, so latency does not eat into the rate
RECORD_BATCH = 30  # outcomes written together (about once a second at full rate)
LOOKBACK = timedelta(days=2)  # how far beyond the grace missed slots are recorded as skipped
MAX_BUTTONS = 90  # Telegram allows about 100 a keyboard
TEXT_LIMIT = 4096


class Outcome(Enum):
    SENT = reminder_log.SENT
    FAILED = reminder_log.FAILED
    BLOCKED = reminder_log.BLOCKED


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Message:
    chat_id: int
    text: str
    buttons: tuple[Button, ...] = ()
    department_id: int | None = None


Deliver = Callable[[Message], Awaitable[Outcome]]


@dataclass(frozen=True)
class Task:
    """One (period, recipient, slot) to claim and send."""

    period_id: int
    recipient: int
    slot: datetime
    kind: str


@dataclass
class PassReport:
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0  # missed beyond the grace (or superseded), recorded, never sent
    idle: int = 0  # nothing to say any more at send time (submitted, muted, closed)
    taken: int = 0  # already claimed by another pass or process
    errors: int = 0
    departments: set[int] = field(default_factory=set)
    seconds: float = 0.0

    def count(self, outcome: Outcome) -> None:
        name = outcome.name.lower()
        setattr(self, name, getattr(self, name) + 1)


class Pacer:
    """About `rate` sends a second, shared by every fan-out of the process.

    Releases follow a fixed grid, so small delays (the loop busy with the database) do not
    add up; one waiter at a time and never two within half an interval, so a late release
    is not followed by a burst; after a longer stall the grid restarts instead of
    catching up. AIORateLimiter alone lets 30 go at once, and the double then answers 429.
    """

    def __init__(self, rate: float = SEND_RATE) -> None:
        self.interval = 1.0 / rate
        self._next = self._last = float("-inf")
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        async with self._lock:
            delay = max(self._next, self._last + self.interval / 2) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = self._last = loop.time()
            if now - self._next > self.interval:
                self._next = now
            self._next += self.interval


# --- planning -----------------------------------------------------------------------


def plan_for(settings: Settings, period: Period, tz: ZoneInfo) -> Plan:
    """The settings' schedule in the organisation's zone, with the period's own offsets
    when a coordinator set them."""
    offsets = settings.reminder_offsets
    if period.reminder_offsets:
        try:
            Plan.parse(tz, period.reminder_offsets, settings.reminder_hour, "off")
            offsets = period.reminder_offsets
        except ValueError:
            log.warning(
                "period %s: ignoring bad reminder offsets %r", period.month, period.reminder_offsets
            )
    return Plan.parse(tz, offsets, settings.reminder_hour, settings.quiet_hours)


def reminder_targets(session: Session, period: Period) -> dict[int, int]:
    """Telegram id → department id of every liaison to remind now: their department owes
    something, and they are active, reachable and not muted."""
    silenced = reminder_log.muted(session, period.id or 0)
    found: dict[int, int] = {}
    for department_id in pending_by_department(session, period):
        for liaison in liaisons_of(session, department_id):
            if not liaison.unreachable and liaison.id not in silenced:
                found[liaison.telegram_id] = department_id
    return found


def plan_open_notices(session: Session, period_id: int | None = None) -> tuple[list[Task], int]:
    """The queued "period open" notices of open periods (of one, if given): per liaison
    and period only the newest; older ones (an opening a reopening superseded) are
    recorded as skipped. Returns (tasks, skipped)."""
    open_ids = {p.id for p in open_periods(session)}
    newest: dict[tuple[int, int], Task] = {}
    older: list[Task] = []
    for found_period, recipient, kind, slot in reminder_log.queued(session, QUEUED_KINDS):
        if found_period not in open_ids or period_id not in (None, found_period):
            continue
        previous = newest.get((found_period, recipient))
        if previous is not None:
            older.append(previous)
        newest[(found_period, recipient)] = Task(found_period, recipient, slot, kind)
    for task in older:
        reminder_log.take(session, task.period_id, task.recipient, task.slot, task.kind,
                          status=reminder_log.SKIPPED)  # fmt: skip
    return list(newest.values()), len(older)


def plan_pass(session: Session, settings: Settings, now: datetime) -> tuple[list[Task], int]:
    """Every task due now in every open period: "period open" notices, then reminders,
    then digests; missed slots are recorded as skipped here. Returns (tasks, skipped)."""
    grace = timedelta(hours=settings.reminder_grace_hours)
    notices, skipped = plan_open_notices(session)
    reminders: list[Task] = []
    digests: list[Task] = []
    tz = organisation_zone(session)
    for period in open_periods(session):
        assert period.id is not None and period.due_at is not None
        plan = plan_for(settings, period, tz)
        slots = reminder_slots(period.due_at, plan.tz, plan.offsets, plan.hour, plan.quiet, now)
        digest = digest_slots(period.due_at, plan.tz, plan.hour, plan.quiet, now)
        for kind, times, into in ((REMINDER, slots, reminders), (DIGEST, digest, digests)):
            due, missed = split_due(times, now, grace, LOOKBACK)
            if not due and not missed:
                continue
            if kind == REMINDER:
                recipients: Iterable[int] = reminder_targets(session, period)
            elif pending_by_department(session, period):
                recipients = [c.telegram_id for c in coordinators(session)]
            else:
                recipients = []
            send, skip = reminder_log.due_slots(session, period.id, kind, recipients, due, missed)
            skipped += reminder_log.skip(session, period.id, kind, skip, now=now)
            into.extend(Task(period.id, r, s, kind) for r, s in send.items())
    return notices + reminders + digests, skipped


def plan_nudge(session: Session, now: datetime) -> list[Task]:
    """A coordinator's /remind: every pending liaison of every open period, now."""
    slot = now.replace(second=0, microsecond=0)
    return [
        Task(period.id or 0, recipient, slot, NUDGE)
        for period in open_periods(session)
        for recipient in reminder_targets(session, period)
    ]


# --- composing, at send time ----------------------------------------------------------


def _language(session: Session, settings: Settings, telegram_id: int) -> str:
    return language_of(session, telegram_id) or settings.default_language


def _open_period_and_liaison(
    session: Session, task: Task
) -> tuple[Period | None, Liaison | None]:
    """The task's period while it is open, and its recipient while an active liaison."""
    period = session.get(Period, task.period_id)
    if period is None or not period.is_open:
        return None, None
    liaison = session.exec(
        select(Liaison).where(Liaison.telegram_id == task.recipient, col(Liaison.active))
    ).first()
    return period, liaison


def _item(assignment: Assignment) -> dict[str, object]:
    return {"title": assignment.work_item.title, "draft": assignment.submission is not None}


def compose_reminder(
    session: Session, settings: Settings, task: Task, now: datetime
) -> Message | None:
    """What the liaison still owes, with a button per item; None if nothing (any more)."""
    period, liaison = _open_period_and_liaison(session, task)
    if period is None or period.due_at is None:
        return None
    if liaison is None or liaison.unreachable:
        return None
    if liaison.id in reminder_log.muted(session, period.id or 0):
        return None
    owed = reminder_log.owed_by(session, period, liaison.department_id)
    if not owed:
        return None
    language = _language(session, settings, task.recipient)
    text = texts.text(
        language,
        "reminder_text",
        name=liaison.name,
        department=owed[0].department.name,
        month=period.month,
        due=local_text(period.due_at, organisation_zone(session)),
        overdue=now > period.due_at,
        items=[_item(a) for a in owed],
    )
    buttons = tuple(
        Button(
            texts.plain(language, "reminder_button", title=a.work_item.title),
            f"rp:o:{period.id}:{a.work_item.id}",
        )
        for a in owed[:MAX_BUTTONS]
    )
    return Message(task.recipient, text, buttons, liaison.department_id)


def _late_departments(session: Session, period: Period) -> list[dict[str, object]]:
    silenced = reminder_log.muted(session, period.id or 0)
    late = []
    for department_id, owed in pending_by_department(session, period).items():
        people = liaisons_of(session, department_id)
        late.append(
            {
                "department": owed[0].department.name,
                "owed": [_item(a) for a in owed],
                "no_liaison": not people,
                "unreachable": [p.name for p in people if p.unreachable],
                "muted": [p.name for p in people if p.id in silenced and not p.unreachable],
            }
        )
    return late


def compose_digest(
    session: Session, settings: Settings, task: Task, now: datetime
) -> Message | None:
    """Who is late with what, who cannot be reached, who muted; None if nobody is late."""
    period = session.get(Period, task.period_id)
    if period is None or not period.is_open or period.due_at is None or now <= period.due_at:
        return None
    coordinator = session.exec(
        select(Coordinator).where(
            Coordinator.telegram_id == task.recipient, col(Coordinator.active)
        )
    ).first()
    late = _late_departments(session, period)
    if coordinator is None or not late:
        return None
    language = _language(session, settings, task.recipient)
    values: dict[str, object] = {
        "month": period.month,
        "due": local_text(period.due_at, organisation_zone(session)),
        "late": late,
    }
    text = texts.text(language, "digest_text", compact=False, **values)
    if len(text) > TEXT_LIMIT:
        text = texts.text(language, "digest_text", compact=True, **values)
    return Message(task.recipient, text)


def compose_open_notice(
    session: Session, settings: Settings, task: Task, now: datetime
) -> Message | None:
    """The notice "the period is open, due …, /report", while open and the liaison active.

    Sent also to a liaison flagged unreachable: they may have unblocked the bot since,
    and this notice goes out once per opening, not daily."""
    period, liaison = _open_period_and_liaison(session, task)
    if period is None or period.due_at is None:
        return None
    if liaison is None:
        return None
    text = texts.text(
        _language(session, settings, task.recipient),
        "period_open_notice",
        month=period.month,
        due=local_text(period.due_at, organisation_zone(session)),
        reopened=task.kind == REOPENED,
    )
    return Message(task.recipient, text, department_id=liaison.department_id)


def compose(session: Session, settings: Settings, task: Task, now: datetime) -> Message | None:
    if task.kind == DIGEST:
        return compose_digest(session, settings, task, now)
    if task.kind in QUEUED_KINDS:
        return compose_open_notice(session, settings, task, now)
    return compose_reminder(session, settings, task, now)


# --- sending --------------------------------------------------------------------------


def _prepare(engine: Engine, settings: Settings, task: Task, now: datetime) -> Message | str:
    """Read the state, compose, claim, commit: the message, or why there is none."""
    queued = task.kind in QUEUED_KINDS
    with session_scope(engine) as db:
        message = compose(db, settings, task, now)
        if message is None:
            if queued:  # nothing to say any more (closed, liaison gone): never later either
                reminder_log.take(db, task.period_id, task.recipient, task.slot, task.kind,
                                  status=reminder_log.SKIPPED, now=now)  # fmt: skip
            return "idle"
        claim = reminder_log.take if queued else reminder_log.claim
        if not claim(db, task.period_id, task.recipient, task.slot, task.kind, now=now):
            return "taken"
    return message  # committed: from here on nobody else sends this one


class _Outcomes:
    """How the sends ended, written in batches: the claim already made each send
    exactly-once, so the status can trail by a second."""

    def __init__(self, engine: Engine, now: datetime) -> None:
        self.engine, self.now = engine, now
        self.pending: list[tuple[Task, Outcome]] = []

    async def add(self, task: Task, outcome: Outcome) -> None:
        self.pending.append((task, outcome))
        if len(self.pending) >= RECORD_BATCH:
            await self.flush()

    async def flush(self) -> None:
        await asyncio.to_thread(self._write)

    def _write(self) -> None:
        done, self.pending = self.pending, []
        if not done:
            return
        with session_scope(self.engine) as db:
            reminder_log.mark(
                db,
                [(t.period_id, t.recipient, t.slot, t.kind, o.value) for t, o in done],
                now=self.now,
            )
            for task, outcome in done:
                if outcome is Outcome.BLOCKED and task.kind != DIGEST:
                    reminder_log.set_unreachable(db, task.recipient, True)


async def _run_task(
    engine: Engine,
    settings: Settings,
    task: Task,
    now: datetime,
    deliver: Deliver,
    pacer: Pacer,
    report: PassReport,
    outcomes: _Outcomes,
) -> None:
    """Database work in a thread: a slow statement or another process's lock must not stall
    the event loop (every user's replies) for the length of the wait."""
    prepared = await asyncio.to_thread(_prepare, engine, settings, task, now)
    if isinstance(prepared, str):
        setattr(report, prepared, getattr(report, prepared) + 1)
        return
    await pacer.wait()
    outcome = await deliver(prepared)
    report.count(outcome)
    if outcome is Outcome.SENT and prepared.department_id is not None:
        report.departments.add(prepared.department_id)
    await outcomes.add(task, outcome)


async def send_all(
    engine: Engine,
    settings: Settings,
    tasks: list[Task],
    now: datetime,
    deliver: Deliver,
    pacer: Pacer,
    report: PassReport,
) -> None:
    """Reminders first (so the digest sees who turned out unreachable), then digests;
    a few in flight at once, paced; one failure never stops the others."""
    outcomes = _Outcomes(engine, now)
    for kind_first in (True, False):
        batch = iter([t for t in tasks if (t.kind != DIGEST) is kind_first])

        async def worker(batch: Iterable[Task] = batch) -> None:
            for task in batch:
                try:
                    await _run_task(engine, settings, task, now, deliver, pacer, report, outcomes)
                except Exception:
                    report.errors += 1
                    log.exception("reminder %s to %s failed", task.kind, task.recipient)

        try:
            await asyncio.gather(*(worker() for _ in range(WORKERS)))
        finally:
            await outcomes.flush()


def _in_session(engine: Engine, plan: Callable[..., T], *args: object) -> T:
    with session_scope(engine) as db:
        return plan(db, *args)


async def run_pass(
    engine: Engine, settings: Settings, now: datetime, deliver: Deliver, pacer: Pacer
) -> PassReport:
    """One scheduled pass: everything due now, each once."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    tasks, skipped = await asyncio.to_thread(_in_session, engine, plan_pass, settings, now)
    report = PassReport(skipped=skipped)
    await send_all(engine, settings, tasks, now, deliver, pacer, report)
    report.seconds = loop.time() - started
    if tasks or skipped:
        log.info("reminder pass: %s", report)
    return report


async def run_open_notices(
    engine: Engine,
    settings: Settings,
    period_id: int,
    now: datetime,
    deliver: Deliver,
    pacer: Pacer,
) -> PassReport:
    """A period just opened in chat: its queued notices now, rather than at the next
    minute's pass (whichever comes first sends each, once)."""
    with session_scope(engine) as db:
        tasks, skipped = plan_open_notices(db, period_id)
    report = PassReport(skipped=skipped)
    await send_all(engine, settings, tasks, now, deliver, pacer, report)
    return report


async def run_nudge(
    engine: Engine, settings: Settings, now: datetime, deliver: Deliver, pacer: Pacer
) -> PassReport:
    """A coordinator's /remind: the pending liaisons, now, still logged."""
    tasks = await asyncio.to_thread(_in_session, engine, plan_nudge, now)
    report = PassReport()
    await send_all(engine, settings, tasks, now, deliver, pacer, report)
    return report
