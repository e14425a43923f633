"""Scheduled backups: when one is due, which old files go, and what a failure tells the
coordinators. Pure: names, times and errors come in, decisions and texts come out.

The backups are their own record: a file's name carries the moment it was taken
(`huibao-20261203T030000Z.db`), so the newest name says when the last backup succeeded
and no table remembers it.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core import texts

PREFIX = "huibao-"
STAMP = "%Y%m%dT%H%M%SZ"
SUFFIXES = (".db", ".dump", ".json")  # SQLite's file, pg_dump's format, an archive
_NAME = re.compile(r"^huibao-(\d{8}T\d{6}Z)(\.db|\.dump|\.json)$")
RETRY = timedelta(hours=1)  # after a failed backup, the next try
STALE = timedelta(days=2)  # `huibao check` warns of a newest backup older than this


def file_name(taken_at: datetime, suffix: str) -> str:
    """'huibao-20261203T030000Z.db': sorts by time, and says whose it is."""
    return f"{PREFIX}{taken_at.astimezone(UTC).strftime(STAMP)}{suffix}"


def taken_at(name: str, suffix: str) -> datetime | None:
    """When the backup named `name` was taken; None for any file that is not one of ours
    with this suffix (those are never counted, nor deleted)."""
    match = _NAME.match(name)
    if match is None or match.group(2) != suffix:
        return None
    try:
        return datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC)
    except ValueError:  # twenty-fifth hour, thirteenth month: not ours either
        return None


def newest(names: Iterable[str], suffix: str) -> datetime | None:
    """When the newest of our backups was taken, None when there is none."""
    return max((t for t in (taken_at(n, suffix) for n in names) if t is not None), default=None)


def last_slot(now: datetime, at: time, tz: ZoneInfo) -> datetime:
    """The latest moment at or before `now` when the clock in `tz` read `at` (today's, or
    yesterday's when today's is still to come), in UTC."""
    day = now.astimezone(tz).date()
    slot = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
    if slot > now:
        slot = datetime.combine(day - timedelta(days=1), at, tzinfo=tz).astimezone(UTC)
    return slot


def is_due(
    last_success: datetime | None,
    now: datetime,
    at: time,
    tz: ZoneInfo,
    last_failure: datetime | None = None,
) -> bool:
    """A backup is due when none was taken since the latest daily time: so after days of
    downtime the bot takes one at start-up, not one per missed day. After a failure the
    next try waits RETRY (a full disk is not helped by trying every minute)."""
    if last_failure is not None and now - last_failure < RETRY:
        return False
    return last_success is None or last_success < last_slot(now, at, tz)


def to_delete(names: Iterable[str], suffix: str, keep: int) -> list[str]:
    """Our backups beyond the `keep` newest, oldest first; any other file stays."""
    ours = sorted(
        ((when, name) for name in names if (when := taken_at(name, suffix)) is not None),
        reverse=True,
    )
    return [name for _, name in reversed(ours[max(keep, 1) :])]


def failure_day(now: datetime, tz: ZoneInfo) -> datetime:
    """The log's slot of the once-a-day "backup failed" notice: the organisation's day,
    written as that date's midnight UTC."""
    day: date = now.astimezone(tz).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def cause(error: BaseException) -> str:
    """What went wrong, as the notice names it."""
    if isinstance(error, texts.TerminalError):
        return "backup"  # its own text says why (pg_dump missing or failing, no database)
    if isinstance(error, (NotADirectoryError, FileExistsError)):
        return "not_a_folder"
    if isinstance(error, PermissionError) or getattr(error, "errno", None) == errno.EROFS:
        return "not_writable"
    if getattr(error, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
        return "disk_full"
    return "other"


def failure_text(language: str, error: BaseException, folder: str) -> str:
    """The coordinators' notice: the cause and what to do about it, in one line."""
    if isinstance(error, texts.TerminalError):
        detail = error.explain(language)
    elif isinstance(error, OSError) and error.strerror:
        detail = error.strerror
    else:
        detail = str(error) or error.__class__.__name__
    return texts.text(language, "backup_failed", cause=cause(error), folder=folder, detail=detail)


def age(last_success: datetime | None, now: datetime) -> timedelta | None:
    """How old the newest backup is; None when there is none."""
    return None if last_success is None else max(now - last_success, timedelta(0))
