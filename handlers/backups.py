"""Scheduled backups: the job that takes one when due and prunes the old ones, and the
coordinators' notice when one fails.

When is decided by bot/core/backup_plan.py, the file work is storage/backup.py's (the
same backup as `huibao db backup`), the once-a-day notice goes through bot/broadcast.py.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session
from telegram.ext import Application, ContextTypes

from bot import broadcast
from bot.core import backup_plan
from bot.core.reminders import Kind
from handlers.common import Services, in_db_thread, repeat
from handlers.reminders import Deliverer
from storage import backup
from storage.roster import organisation_zone

log = logging.getLogger(__name__)

JOB_ID = "huibao-backups"
INTERVAL = 60.0  # seconds between looks at the clock (a look lists one folder)
STATE = "backups"  # bot_data key of the job's memory
_Due = Callable[[datetime | None], bool]  # is a backup due, given the last one's time


@dataclass
class _Memory:
    """What the job remembers between runs of one process: when it last failed (to wait
    before trying again) and the day it last told the coordinators (the log remembers it
    across restarts too, once a period exists)."""

    failed_at: datetime | None = None
    told: datetime | None = None


@dataclass(frozen=True)
class BackupPass:
    """What one run did: nothing (not due), a backup (and the files it deleted), or a
    failure (and how many coordinators were told)."""

    taken: backup.Taken | None = None
    error: Exception | None = None
    told: int = 0


def _memory(app: Application) -> _Memory:  # type: ignore[type-arg]
    found = app.bot_data.get(STATE)
    if not isinstance(found, _Memory):
        found = app.bot_data[STATE] = _Memory()
    return found


async def run_backup_pass(app: Application) -> BackupPass:  # type: ignore[type-arg]
    """What the job does; tests call it directly with their clock set."""
    svc: Services = app.bot_data["services"]
    memory, now = _memory(app), svc.now()
    where = backup.scheduled_folder(svc.engine, svc.settings.backup_dir)
    tz = await in_db_thread(svc, organisation_zone)
    due: _Due = functools.partial(
        backup_plan.is_due, now=now, at=svc.settings.backup_time, tz=tz,
        last_failure=memory.failed_at,
    )  # fmt: skip
    loop = asyncio.get_running_loop()
    names = await loop.run_in_executor(svc.database, backup.listing, where)
    if not due(backup_plan.newest(names, backup.suffix(svc.engine))):  # most minutes
        return BackupPass()
    try:  # in a database thread: a large database takes a while to copy
        taken = await in_db_thread(svc, functools.partial(_take, svc, where, now, due))
    except (backup.BackupError, OSError) as exc:
        memory.failed_at = now
        log.warning("scheduled backup into %s failed: %s", where, exc)
        return BackupPass(error=exc, told=await _tell(app, memory, exc, where, now, tz))
    if taken is None:
        return BackupPass()
    memory.failed_at = None
    log.info("backed up to %s (%d old backups deleted)", taken.path, len(taken.deleted))
    return BackupPass(taken=taken)


def _take(svc: Services, where: Path, now: datetime, due: _Due, db: Session) -> backup.Taken | None:
    """The backup, in this process's turn, unless another process took it meanwhile."""
    if not backup.my_turn(db):
        return None
    if not due(backup_plan.newest(backup.listing(where), backup.suffix(svc.engine))):
        return None
    return backup.take_scheduled(svc.engine, where, now, svc.settings.backup_keep)


async def _tell(
    app: Application,  # type: ignore[type-arg]
    memory: _Memory,
    error: Exception,
    where: Path,
    now: datetime,
    tz: ZoneInfo,
) -> int:
    """Every coordinator, once per failing day."""
    svc: Services = app.bot_data["services"]
    day = backup_plan.failure_day(now, tz)
    if memory.told == day:
        return 0
    memory.told = day
    fan_out = broadcast.Broadcast(svc.engine, svc.settings, Deliverer(app.bot), svc.database)
    text = functools.partial(_text, error=error, where=str(where))
    report = await fan_out.tell_coordinators(Kind.BACKUP, day, text, now)
    return report.sent


def _text(language: str, *, error: Exception, where: str) -> str:
    return backup_plan.failure_text(language, error, where)


async def _job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await run_backup_pass(context.application)


def start_backups(app: Application) -> None:  # type: ignore[type-arg]
    """Look now (a backup missed while the bot was down is taken at once) and every
    minute; the stable id makes a second call replace the job (handlers/reminders.py)."""
    svc: Services = app.bot_data["services"]
    if svc.settings.backup_schedule == "off":
        log.info("scheduled backups are off (BACKUP_SCHEDULE=off)")
        return
    if not repeat(app, _job, every=INTERVAL, job_id=JOB_ID):
        log.error("no job queue (install python-telegram-bot[job-queue]): backups are off")
