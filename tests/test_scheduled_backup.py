"""Scheduled backups end to end: the real Application, the Bot API double, a fixed clock.

The job is off in the harness; each test runs the pass itself with `run_backup_pass`
at the clock time it sets (as tests/test_reminders.py does), and one test checks the job.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.core.periods import parse_due
from bot.double import FakeUser
from handlers.backups import JOB_ID, BackupPass, run_backup_pass
from storage.db import HEAD, make_engine, session_scope, upgrade
from storage.models import Coordinator
from storage.people import set_language
from storage.periods import open_period
from storage.roster import organisation_zone
from tests.harness import COORDINATOR_ID, Harness
from tests.test_backup import postgres_database  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parent.parent
NIGHT = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)  # 3 December, 03:00 in Shanghai
DAY = timedelta(days=1)
SECOND_COORDINATOR = 555000111


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database at the newest schema, once per backend; on PostgreSQL one of the
    test's own (conftest's schemas share a database, and pg_dump dumps a whole database,
    while other test processes make and drop theirs)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'huibao.db'}"
    else:
        url = request.getfixturevalue("postgres_database")  # skips without pg_dump
    made = make_engine(url)
    upgrade(made)
    yield made
    made.dispose()


async def started(engine: Engine, **settings: Any) -> Harness:
    harness = Harness(engine=engine, roster=ROOT / "examples" / "roster.toml", **settings)
    await harness.start()
    return harness


@pytest.fixture
async def backups(engine: Engine, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot with its backups in the test's folder, keeping 2."""
    harness = await started(engine, backup_dir=tmp_path / "backups", backup_keep=2)
    try:
        yield harness
    finally:
        await harness.close()


async def tick(harness: Harness, at: datetime) -> BackupPass:
    """The clock reads `at` and the job runs once."""
    harness.now = at
    assert harness.app is not None
    done = await run_backup_pass(harness.app)
    await harness.double.settle()
    return done


def ours(folder: Path) -> list[str]:
    """The names of the scheduled backups in the folder."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".db", ".dump"))


def second_coordinator(harness: Harness) -> FakeUser:
    """Another coordinator, who reads English."""
    with session_scope(harness.engine) as db:
        db.add(Coordinator(telegram_id=SECOND_COORDINATOR, name="Anna"))
        set_language(db, SECOND_COORDINATOR, "en")
    return harness.double.user(SECOND_COORDINATOR, "Anna", language_code="en", started=True)


async def test_the_daily_backup_appears_after_its_time_and_is_the_database(
    backups: Harness, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    first = await tick(backups, NIGHT - timedelta(hours=2))  # none yet: one at once
    assert first.taken is not None and first.error is None
    assert await tick(backups, NIGHT - timedelta(minutes=1)) == BackupPass()  # not yet
    done = await tick(backups, NIGHT)
    assert done.taken is not None
    suffix = ".db" if backups.engine.dialect.name == "sqlite" else ".dump"
    assert ours(folder) == [f"huibao-20261202T170000Z{suffix}", f"huibao-20261202T190000Z{suffix}"]
    assert await tick(backups, NIGHT + timedelta(hours=20)) == BackupPass()
    if suffix == ".dump":
        assert done.taken.path.read_bytes().startswith(b"PGDMP")
        return
    with sqlite3.connect(done.taken.path) as copy:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == (HEAD,)
        coordinators = copy.execute("SELECT telegram_id FROM coordinator").fetchall()
    assert coordinators == [(COORDINATOR_ID,)]


async def test_keeping_two_deletes_the_oldest_and_nothing_else(
    backups: Harness, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    strangers = ["notes.txt", "huibao-20200101T000000Z.db.partial", "huibao-copy.db"]
    for name in strangers:
        (folder / name).write_text("keep me")
    runs = [await tick(backups, NIGHT + n * DAY + timedelta(minutes=1)) for n in range(3)]
    paths = [run.taken.path for run in runs if run.taken is not None]
    assert len(paths) == 3
    assert [run.taken.deleted for run in runs if run.taken] == [(), (), (paths[0],)]
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([*strangers, paths[1].name, paths[2].name])
    for name in strangers:
        assert (folder / name).read_text() == "keep me"


async def test_a_failing_backup_tells_each_coordinator_once_a_day(
    engine: Engine, tmp_path: Path
) -> None:
    in_the_way = tmp_path / "backups"
    in_the_way.write_text("a file where the folder should be")
    harness = await started(engine, backup_dir=in_the_way)
    try:
        with session_scope(harness.engine) as db:  # the log holds the notice under a period
            open_period(db, "2026-11", parse_due("2026-12-05 17:00", organisation_zone(db)))
        chinese = harness.double.user(COORDINATOR_ID, "李明", started=True)
        english = second_coordinator(harness)
        failed = await tick(harness, NIGHT + timedelta(minutes=1))
        assert isinstance(failed.error, OSError) and failed.told == 2
        [zh] = [m.text for m in chinese.messages]
        assert zh.startswith("⚠️ 定时备份失败：") and f"{in_the_way} 不是文件夹" in zh
        assert "BACKUP_DIR" in zh
        [en] = [m.text for m in english.messages]
        assert en.startswith("⚠️ The scheduled backup failed:") and "is not a folder" in en

        assert await tick(harness, NIGHT + timedelta(minutes=30)) == BackupPass()  # waits
        again = await tick(harness, NIGHT + timedelta(hours=2))  # tried again, failed again
        assert again.error is not None and again.told == 0
        await harness.restart()
        again = await tick(harness, NIGHT + timedelta(hours=4))
        assert again.error is not None and again.told == 0
        assert len(chinese.messages) == 1 and len(english.messages) == 1

        next_day = await tick(harness, NIGHT + DAY)
        assert next_day.told == 2 and len(chinese.messages) == 2
    finally:
        await harness.close()


async def test_off_means_no_job_and_no_file(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    harness = await started(engine, backup_schedule="off", backup_dir=folder)
    try:
        assert harness.app is not None and harness.app.job_queue is not None
        assert harness.app.job_queue.scheduler.get_job(JOB_ID) is None
        assert not folder.exists()
    finally:
        await harness.close()


async def test_the_job_takes_a_missed_backup_at_start_up(engine: Engine, tmp_path: Path) -> None:
    harness = await started(engine, backup_dir=tmp_path / "backups")
    try:
        harness.now = NIGHT
        await harness.stop_bot()
        harness.extra_settings["backup_schedule"] = "daily"
        await harness.start_bot()  # start-up: the job's first run is now
        assert harness.app is not None and harness.app.job_queue is not None
        assert harness.app.job_queue.scheduler.get_job(JOB_ID) is not None
        for _ in range(200):  # until the job's first run has written its file
            if ours(tmp_path / "backups"):
                break
            await asyncio.sleep(0.05)
        assert len(ours(tmp_path / "backups")) == 1
    finally:
        await harness.close()


def test_check_says_how_old_the_newest_backup_is(engine: Engine, tmp_path: Path) -> None:
    from bot.check import backup_line
    from bot.core.backup_plan import file_name
    from bot.core.check import Status
    from bot.settings import load_settings
    from storage.models import utcnow

    folder = tmp_path / "backups"
    settings = load_settings(_env_file=None, backup_dir=folder)
    suffix = ".db" if engine.dialect.name == "sqlite" else ".dump"
    none_yet = backup_line(settings, engine)
    assert none_yet.status is Status.WARN and "none yet" in none_yet.detail
    folder.mkdir()
    (folder / file_name(utcnow() - timedelta(days=3), suffix)).write_bytes(b"")
    stale = backup_line(settings, engine)
    assert stale.status is Status.WARN and "3 days old: the daily backup is failing" in stale.detail
    (folder / file_name(utcnow() - timedelta(hours=5), suffix)).write_bytes(b"")
    fresh = backup_line(settings, engine)
    assert (
        fresh.status is Status.OK
        and fresh.detail == f"daily at 03:00 into {folder}; newest 5 h old"
    )
    off = backup_line(load_settings(_env_file=None, backup_schedule="off"), engine)
    assert off.status is Status.WARN and off.detail.startswith("BACKUP_SCHEDULE=off")


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("backup_at", "25:00", "backup time '25:00' is not a time like 09:00"),
        ("backup_schedule", "weekly", "must be daily or off, not 'weekly'"),
        ("backup_keep", "0", "at least 1"),
    ],
)
def test_bad_backup_settings_are_named(setting: str, value: str, says: str) -> None:
    from bot.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, **{setting: value})
    assert setting.upper() in str(caught.value) and says in str(caught.value)


async def test_of_two_processes_on_one_postgres_one_backs_up(
    backups: Harness, tmp_path: Path
) -> None:
    if backups.engine.dialect.name != "postgresql":
        pytest.skip(reason="several bot processes share a database only on PostgreSQL")
    import sqlalchemy as sa

    from storage.backup import SCHEDULED_LOCK

    with backups.engine.connect() as other_process:  # backing up just now
        other_process.execute(sa.select(sa.func.pg_advisory_lock(SCHEDULED_LOCK)))
        assert await tick(backups, NIGHT) == BackupPass()
        other_process.execute(sa.select(sa.func.pg_advisory_unlock(SCHEDULED_LOCK)))
    assert ours(tmp_path / "backups") == []
    assert (await tick(backups, NIGHT + timedelta(minutes=1))).taken is not None
