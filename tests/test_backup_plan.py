"""When a scheduled backup is due and which old ones go (bot/core/backup_plan.py)."""

from __future__ import annotations

import errno
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core import backup_plan
from bot.core.texts import TerminalError

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = time(3, 0)  # 19:00 UTC the day before
TODAYS = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)  # 3 December, 03:00 Shanghai


def test_file_names_sort_by_time_and_read_back() -> None:
    name = backup_plan.file_name(datetime(2026, 12, 3, 3, 0, 5, tzinfo=UTC), ".db")
    assert name == "huibao-20261203T030005Z.db"
    assert backup_plan.taken_at(name, ".db") == datetime(2026, 12, 3, 3, 0, 5, tzinfo=UTC)
    later = backup_plan.file_name(datetime(2027, 1, 1, tzinfo=UTC), ".db")
    assert sorted([later, name]) == [name, later]


@pytest.mark.parametrize(
    "name",
    [
        "huibao-20261203T030000Z.dump",  # the other database's kind
        "huibao-20261203T030000Z.db.partial",  # a backup under way (or one a crash left)
        "huibao.db",
        "huibao-20261303T030000Z.db",  # no thirteenth month
        "notes-20261203T030000Z.db",
        "huibao-20261203T030000Z.DB",
    ],
)
def test_other_files_are_not_ours(name: str) -> None:
    assert backup_plan.taken_at(name, ".db") is None


def test_first_backup_is_due_at_once() -> None:
    assert backup_plan.is_due(None, TODAYS - timedelta(hours=5), AT, SHANGHAI)


def test_due_at_the_daily_time_and_not_again_that_day() -> None:
    yesterdays = TODAYS - timedelta(days=1)
    assert not backup_plan.is_due(yesterdays, TODAYS - timedelta(minutes=1), AT, SHANGHAI)
    assert backup_plan.is_due(yesterdays, TODAYS, AT, SHANGHAI)
    assert not backup_plan.is_due(TODAYS, TODAYS + timedelta(hours=23), AT, SHANGHAI)


def test_days_of_downtime_mean_one_backup_at_start_not_one_per_day() -> None:
    last = TODAYS - timedelta(days=5)
    start = TODAYS + timedelta(hours=4)
    assert backup_plan.is_due(last, start, AT, SHANGHAI)
    assert not backup_plan.is_due(start, start + timedelta(minutes=1), AT, SHANGHAI)


def test_after_a_failure_the_next_try_waits_an_hour() -> None:
    failed = TODAYS + timedelta(minutes=1)
    assert not backup_plan.is_due(None, failed + timedelta(minutes=59), AT, SHANGHAI, failed)
    assert backup_plan.is_due(None, failed + backup_plan.RETRY, AT, SHANGHAI, failed)


def test_the_daily_time_stays_on_the_wall_clock_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    summer = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)  # 03:00 CEST
    winter = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 03:00 CET
    assert backup_plan.last_slot(summer, AT, berlin) == summer
    assert backup_plan.last_slot(winter, AT, berlin) == winter


def test_keeping_n_deletes_the_oldest_of_ours_only() -> None:
    ours = [backup_plan.file_name(TODAYS + timedelta(days=n), ".db") for n in range(5)]
    others = ["notes.txt", "huibao-20200101T000000Z.dump", "huibao-20200101T000000Z.db.partial"]
    assert backup_plan.to_delete([*others, *reversed(ours)], ".db", 3) == ours[:2]
    assert backup_plan.to_delete(ours, ".db", 5) == []
    assert backup_plan.to_delete(others, ".db", 1) == []


def test_the_failing_day_is_the_organisations() -> None:
    late_evening_utc = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)  # 3 December in Shanghai
    assert backup_plan.failure_day(late_evening_utc, SHANGHAI) == datetime(2026, 12, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (NotADirectoryError(errno.ENOTDIR, "Not a directory"), "not_a_folder"),
        (FileExistsError(errno.EEXIST, "File exists"), "not_a_folder"),
        (PermissionError(errno.EACCES, "Permission denied"), "not_writable"),
        (OSError(errno.EROFS, "Read-only file system"), "not_writable"),
        (OSError(errno.ENOSPC, "No space left on device"), "disk_full"),
        (OSError(errno.EIO, "Input/output error"), "other"),
        (TerminalError("backup_tool_missing", tool="pg_dump"), "backup"),
    ],
)
def test_a_failure_names_its_cause(error: BaseException, cause: str) -> None:
    assert backup_plan.cause(error) == cause


def test_the_notice_says_why_and_what_to_do_in_both_languages() -> None:
    full = OSError(errno.ENOSPC, "No space left on device")
    assert "磁盘已满" in backup_plan.failure_text("zh-CN", full, "/srv/backups")
    assert "is full" in backup_plan.failure_text("en", full, "/srv/backups")
    missing = TerminalError("backup_tool_missing", tool="pg_dump")
    text = backup_plan.failure_text("zh-CN", missing, "/srv/backups")
    assert text.startswith("⚠️ 定时备份失败：未安装 pg_dump") and "postgresql-client" in text
