"""The one way the bot sends to many: reminders, overdue digests, /remind and the
"period open" notices, each exactly once.

A pass plans its tasks (bot.core.reminders) from what the database says; for each it
reads the state again, composes, claims the log row (storage.reminder_log: whoever
claims first sends, in any process) and hands a plain `Message` to `deliver`
(handlers/reminders.py sends it with the Bot). Pacing and retries are the bot's rate
limiter's (bot/pacing.py) and nobody else's: `deliver` sends once through it. Everything
is re-read at send time, so a department that submitted in the meantime gets nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core import reminders as core
from bot.core import texts
from bot.core.people import PersonRole
from bot.core.reminders import QUEUED_KINDS, ChatLimits, Delivery, Kind, Message, Task
from bot.settings import Settings
from storage import reminder_log
from storage.calendar import work_calendar
from storage.db import in_thread
from storage.models import Period
from storage.people import language_of
from storage.periods import open_periods
from storage.roster import coordinators, organisation_zone
from storage.submissions import pending_by_department

log = logging.getLogger(__name__)
T = TypeVar("T")

WORKERS = 8  # sends in flight at once, so latency does not eat into the rate
RECORD_BATCH = 30  # outcomes written together (about once a second at full rate)


class Deliver(Protocol):
    """Sends one message, once; says how much a message may carry."""

    limits: ChatLimits

    async def __call__(self, message: Message) -> Delivery: ...


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

    def count(self, delivery: Delivery) -> None:
        name = delivery.name.lower()
        setattr(self, name, getattr(self, name) + 1)


# --- planning -----------------------------------------------------------------------


def _recipients(session: Session, period: Period, kind: Kind) -> Iterable[int]:
    if kind == Kind.REMINDER:
        return reminder_log.reminder_targets(session, period)
    if pending_by_department(session, period):
        return [c.telegram_id for c in coordinators(session)]
    return []


def plan_open_notices(session: Session, period_id: int | None = None) -> tuple[list[Task], int]:
    """The queued "period open" notices of open periods (of one, if given), the newest
    per liaison; the ones they superseded are recorded as skipped. Returns (tasks,
    skipped)."""
    open_ids = {p.id for p in open_periods(session) if p.id is not None}
    queued = reminder_log.queued(session, QUEUED_KINDS)
    tasks, older = core.newest_notices(queued, open_ids, period_id)
    for task in older:
        reminder_log.take(session, task.period_id, task.recipient, task.slot, task.kind,
                          status=reminder_log.SKIPPED)  # fmt: skip
    return tasks, len(older)


def plan_pass(session: Session, settings: Settings, now: datetime) -> tuple[list[Task], int]:
    """Every task due now in every open period: "period open" notices, reminders and
    digests; missed slots are recorded as skipped here. Returns (tasks, skipped)."""
    grace = timedelta(hours=settings.reminder_grace_hours)
    tasks, skipped = plan_open_notices(session)
    tz, calendar = organisation_zone(session), work_calendar(session)
    unknown: list[tuple[int, set[int]]] = []
    for period in open_periods(session):
        assert period.id is not None and period.due_at is not None
        schedule = core.schedule_for(
            settings.reminder_schedule, tz, period.reminder_offsets, period.month, calendar
        )
        unknown.append((period.id, core.unknown_years(schedule, period.due_at)))
        for kind, (due, missed) in core.due_now(schedule, period.due_at, now, grace).items():
            done = reminder_log.claimed(session, period.id, kind, [*due, *missed])
            recipients = _recipients(session, period, kind)
            send, skip = core.choose_slots(recipients, due, missed, done)
            skipped += reminder_log.skip(session, period.id, kind, skip, now=now)
            tasks.extend(Task(period.id, r, slot, kind) for r, slot in send.items())
    tasks.extend(_calendar_notices(session, unknown))
    return tasks, skipped


def _calendar_notices(session: Session, unknown: list[tuple[int, set[int]]]) -> list[Task]:
    """Tell the coordinators, once a year each, of a year nobody knows the holidays of."""
    years = set().union(*(found for _, found in unknown))
    if not years:
        return []
    slots = [core.year_slot(year) for year in years]
    told = reminder_log.claimed_anywhere(session, Kind.CALENDAR, slots)
    recipients = [c.telegram_id for c in coordinators(session)]
    return core.calendar_notices(unknown, recipients, told)


def plan_coordinator_notice(
    session: Session, settings: Settings, kind: Kind, slot: datetime, text: Callable[[str], str],
    now: datetime,
) -> list[tuple[Task | None, Message]]:  # fmt: skip
    """A notice to every active coordinator, once per slot: each claimed under the anchor
    period, so a restart or a second process sends none again. Before any period exists
    nothing can be logged: every coordinator gets it (the caller remembers it in memory)."""
    anchor = reminder_log.anchor_period(session)
    told = set() if anchor is None else reminder_log.claimed_anywhere(session, kind, [slot])
    found: list[tuple[Task | None, Message]] = []
    for person in coordinators(session):
        recipient, task = person.telegram_id, None
        if anchor is not None:
            if (recipient, slot) in told:
                continue
            if not reminder_log.claim(session, anchor, recipient, slot, kind, now=now):
                continue
            task = Task(anchor, recipient, slot, kind)
        language = _language(session, settings, recipient)
        found.append((task, Message(recipient, text(language))))
    return found


def plan_nudge(session: Session, now: datetime) -> list[Task]:
    """A coordinator's /remind: every pending liaison of every open period, now."""
    return [
        Task(period.id or 0, recipient, core.nudge_slot(now), Kind.NUDGE)
        for period in open_periods(session)
        for recipient in reminder_log.reminder_targets(session, period)
    ]


# --- composing, at send time ----------------------------------------------------------


def _language(session: Session, settings: Settings, telegram_id: int) -> str:
    chosen = language_of(session, telegram_id)
    return texts.reader_language(chosen, default=settings.default_language)


def _reminder(
    session: Session, settings: Settings, task: Task, now: datetime, limits: ChatLimits
) -> Message | None:
    """While the period is open and the recipient an active, reachable liaison who has
    not muted it, or an approver (what awaits their approval)."""
    period = reminder_log.open_deadline(session, task.period_id)
    liaison = reminder_log.active_liaison(session, task.recipient)
    if period is None or liaison is None or liaison.unreachable:
        return None
    if liaison.id in reminder_log.muted(session, period.period_id):
        return None
    department, owed = reminder_log.owed_by(session, period, liaison.department_id)
    language = _language(session, settings, task.recipient)
    if liaison.role == PersonRole.APPROVER:
        return core.compose_approver_reminder(
            task, language, period, liaison.name, department, liaison.department_id, owed, now
        )
    return core.compose_reminder(
        task, language, period, liaison.name, department, liaison.department_id, owed, now,
        limits,
    )  # fmt: skip


def _digest(
    session: Session, settings: Settings, task: Task, now: datetime, limits: ChatLimits
) -> Message | None:
    """While the period is open and the recipient an active coordinator."""
    period = reminder_log.open_deadline(session, task.period_id)
    if period is None or not reminder_log.is_active_coordinator(session, task.recipient):
        return None
    late = reminder_log.late_departments(session, period.period_id)
    return core.compose_digest(task, _language(session, settings, task.recipient), period,
                               late, now, limits)  # fmt: skip


def _open_notice(
    session: Session, settings: Settings, task: Task, now: datetime, limits: ChatLimits
) -> Message | None:
    """While the period is open and the recipient an active liaison; sent also to one
    flagged unreachable: they may have unblocked the bot since, and this notice goes
    out once per opening, not daily."""
    period = reminder_log.open_deadline(session, task.period_id)
    liaison = reminder_log.active_liaison(session, task.recipient)
    if period is None or liaison is None:
        return None
    language = _language(session, settings, task.recipient)
    return core.compose_open_notice(task, language, period, liaison.department_id)


def _calendar_notice(
    session: Session, settings: Settings, task: Task, now: datetime, limits: ChatLimits
) -> Message | None:
    """While the recipient is an active coordinator and the year is still unknown."""
    if not reminder_log.is_active_coordinator(session, task.recipient):
        return None
    if work_calendar(session).covers(task.slot.year):
        return None
    return core.compose_calendar_notice(task, _language(session, settings, task.recipient))


_Compose = Callable[[Session, Settings, Task, datetime, ChatLimits], Message | None]
_COMPOSE: dict[Kind, _Compose] = {
    Kind.REMINDER: _reminder,
    Kind.NUDGE: _reminder,
    Kind.DIGEST: _digest,
    Kind.OPENED: _open_notice,
    Kind.REOPENED: _open_notice,
    Kind.CALENDAR: _calendar_notice,
}


def compose(
    session: Session, settings: Settings, task: Task, now: datetime, limits: ChatLimits
) -> Message | None:
    return _COMPOSE[task.kind](session, settings, task, now, limits)


# --- sending --------------------------------------------------------------------------


def _prepare(
    db: Session, settings: Settings, task: Task, now: datetime, limits: ChatLimits
) -> Message | str:
    """Read the state, compose, claim (committed when this returns): the message, or why
    there is none."""
    queued = task.kind in QUEUED_KINDS
    message = compose(db, settings, task, now, limits)
    if message is None:
        if queued:  # nothing to say any more (closed, liaison gone): never later either
            reminder_log.take(db, task.period_id, task.recipient, task.slot, task.kind,
                              status=reminder_log.SKIPPED, now=now)  # fmt: skip
        return "idle"
    claim = reminder_log.take if queued else reminder_log.claim
    if not claim(db, task.period_id, task.recipient, task.slot, task.kind, now=now):
        return "taken"
    return message


_TO_COORDINATORS = (Kind.DIGEST, Kind.CALENDAR, Kind.BACKUP)  # no liaison to flag unreachable


def _record(db: Session, done: list[tuple[Task, Delivery]], now: datetime) -> None:
    reminder_log.mark(
        db, [(t.period_id, t.recipient, t.slot, t.kind, d.value) for t, d in done], now=now
    )
    for task, delivery in done:
        if delivery is Delivery.BLOCKED and task.kind not in _TO_COORDINATORS:
            reminder_log.set_unreachable(db, task.recipient, True)


class _Deliveries:
    """How the sends ended, written in batches: the claim already made each send
    exactly-once, so the status can trail by a second."""

    def __init__(self, engine: Engine, now: datetime, threads: Executor | None) -> None:
        self.engine, self.now, self.threads = engine, now, threads
        self.pending: list[tuple[Task, Delivery]] = []

    async def add(self, task: Task, delivery: Delivery) -> None:
        self.pending.append((task, delivery))
        if len(self.pending) >= RECORD_BATCH:
            await self.flush()

    async def flush(self) -> None:
        done, self.pending = self.pending, []
        if done:
            await in_thread(self.threads, self.engine, lambda db: _record(db, done, self.now))


@dataclass(frozen=True)
class Broadcast:
    """What every fan-out needs: the database and the threads its work runs in (the bot's
    database threads; None: asyncio's default pool), the settings, and who delivers."""

    engine: Engine
    settings: Settings
    deliver: Deliver
    threads: Executor | None = None

    async def scheduled(self, now: datetime) -> PassReport:
        """One scheduled pass: everything due now, each once."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        tasks, skipped = await self._plan(plan_pass, self.settings, now)
        report = await _Pass(self, now, PassReport(skipped=skipped)).send_all(tasks)
        report.seconds = loop.time() - started
        if tasks or skipped:
            log.info("reminder pass: %s", report)
        return report

    async def open_notices(self, period_id: int, now: datetime) -> PassReport:
        """A period just opened in chat: its queued notices now, rather than at the next
        minute's pass (whichever comes first sends each, once)."""
        tasks, skipped = await self._plan(plan_open_notices, period_id)
        return await _Pass(self, now, PassReport(skipped=skipped)).send_all(tasks)

    async def nudge(self, now: datetime) -> PassReport:
        """A coordinator's /remind: the pending liaisons, now, still logged."""
        tasks = await self._plan(plan_nudge, now)
        return await _Pass(self, now, PassReport()).send_all(tasks)

    async def tell_coordinators(
        self, kind: Kind, slot: datetime, text: Callable[[str], str], now: datetime
    ) -> PassReport:
        """Something the coordinators must hear (`text` in each one's language), once per
        slot whoever else tries: few recipients, sent one after another."""
        planned = await self._plan(plan_coordinator_notice, self.settings, kind, slot, text, now)
        report = PassReport()
        deliveries = _Deliveries(self.engine, now, self.threads)
        try:
            for task, message in planned:
                delivery = await self.deliver(message)
                report.count(delivery)
                if task is not None:
                    await deliveries.add(task, delivery)
        finally:
            await deliveries.flush()
        return report

    async def _plan(self, planner: Callable[..., T], *args: object) -> T:
        """Database work in the bot's database threads: a pass waiting for a lock must
        not take asyncio's default pool, where the Bot API client resolves addresses."""
        return await in_thread(self.threads, self.engine, lambda db: planner(db, *args))


@dataclass
class _Pass:
    """One fan-out under way: what it counts."""

    broadcast: Broadcast
    now: datetime
    report: PassReport

    async def run(self, task: Task, deliveries: _Deliveries) -> None:
        """Database work in a thread: a slow statement or another process's lock must not
        stall the event loop (every user's replies) for the length of the wait."""
        b = self.broadcast
        prepared = await in_thread(
            b.threads,
            b.engine,
            lambda db: _prepare(db, b.settings, task, self.now, b.deliver.limits),
        )  # committed: from here on nobody else sends this one
        if isinstance(prepared, str):
            setattr(self.report, prepared, getattr(self.report, prepared) + 1)
            return
        delivery = await b.deliver(prepared)
        self.report.count(delivery)
        if delivery is Delivery.SENT and prepared.department_id is not None:
            self.report.departments.add(prepared.department_id)
        await deliveries.add(task, delivery)

    async def send_all(self, tasks: list[Task]) -> PassReport:
        """Reminders and notices first (so a digest sees who turned out unreachable), then
        digests; a few in flight at once; one failure never stops the others."""
        deliveries = _Deliveries(self.broadcast.engine, self.now, self.broadcast.threads)
        for batch in core.in_send_order(tasks):
            queue = iter(batch)

            async def worker(queue: Iterable[Task] = queue) -> None:
                for task in queue:
                    try:
                        await self.run(task, deliveries)
                    except Exception:
                        self.report.errors += 1
                        log.exception("%s to %s failed", task.kind, task.recipient)

            try:
                await asyncio.gather(*(worker() for _ in range(WORKERS)))
            finally:
                await deliveries.flush()
        return self.report
