"""One slow database holds up nobody else: while another process holds the write lock,
an unrelated user is answered, and the user whose write cannot get the lock within the
bound is told the system is busy instead of waiting."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.core.periods import parse_due
from bot.double import FakeUser
from handlers.reminders import run_reminder_pass
from storage.db import make_engine, session_scope
from storage.people import language_of
from storage.periods import open_period
from tests.conftest import ROOT
from tests.harness import Harness

LOCK_BOUND = 0.5  # seconds; production waits storage.db.LOCK_TIMEOUT
LONG_BOUND = 60.0


async def _bound(engine: Engine, seconds: float) -> AsyncIterator[Harness]:
    bounded = make_engine(engine.url.render_as_string(hide_password=False), lock_timeout=seconds)
    running = Harness(engine=bounded, roster=ROOT / "examples" / "roster.toml")
    await running.start()
    try:
        yield running
    finally:
        await running.close()
        bounded.dispose()


@pytest.fixture
async def short_bound(engine: Engine) -> AsyncIterator[Harness]:
    """The bot on the test database with a short bound on lock waits."""
    async for running in _bound(engine, LOCK_BOUND):
        yield running


@pytest.fixture
async def long_bound(engine: Engine) -> AsyncIterator[Harness]:
    """The bot with a bound on lock waits longer than any test holds a lock: a waiting
    write is still waiting whenever the test looks."""
    async for running in _bound(engine, LONG_BOUND):
        yield running


@contextmanager
def write_locked(engine: Engine) -> Iterator[None]:
    """Another process holds the database's write lock (on PostgreSQL: of the table of
    users' languages and of the reminder log, which a plain SELECT still reads)."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        assert path is not None
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    with engine.connect() as other:
        # Should the bot block the event loop, this test could never release the lock: the
        # server ends the holder's transaction after a while, and the test fails instead.
        other.execute(sa.text("SET idle_in_transaction_session_timeout = '15s'"))
        other.execute(sa.text("LOCK TABLE user_preference, reminder_log IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            other.rollback()


async def until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        await asyncio.sleep(0.01)


def write(harness: Harness, user: FakeUser, text: str) -> None:
    """The user sends a message; the test does not wait for the answer."""
    message = harness.double.user_message(user.id, user.state, {"text": text})
    harness.double.queue_update({"message": message})


async def test_a_locked_database_holds_up_only_the_writer(short_bound: Harness) -> None:
    harness = short_bound
    if harness.engine.dialect.name == "sqlite":
        pytest.skip(reason="SQLite locks the whole file: every update waits (next test)")
    writer = await harness.liaison("office", 7001, "甲")
    reader = await harness.liaison("org", 7002, "乙")
    before_writer, before_reader = len(writer.messages), len(reader.messages)
    with write_locked(harness.engine):
        write(harness, writer, "/lang en")  # a write: waits for the lock
        write(harness, reader, "/whoami")  # a read
        await until(lambda: len(reader.messages) > before_reader, "the reader's answer")
        assert "组织部" in reader.last.text
        await until(lambda: len(writer.messages) > before_writer, "the writer's answer")
        assert "系统繁忙" in writer.last.text and "没有生效" in writer.last.text
    await harness.double.settle()
    with session_scope(harness.engine) as db:
        assert language_of(db, writer.id) == "zh-CN"  # rolled back, as the text says
    replies = await writer.send("/lang en")
    assert "English" in replies.last.text


async def test_on_sqlite_updates_wait_for_another_process_lock_and_none_is_lost(
    short_bound: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Every update is stored before Telegram is told it arrived, and storing is a write:
    while another process holds SQLite's write lock, nothing is confirmed and nobody is
    answered; once the lock is free, every update is stored and handled, the write too."""
    harness = short_bound
    if harness.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks rows and tables, never the whole database")
    writer = await harness.liaison("office", 7001, "甲")
    reader = await harness.liaison("org", 7002, "乙")
    before_writer, before_reader = len(writer.messages), len(reader.messages)
    with write_locked(harness.engine):
        write(harness, writer, "/lang en")
        write(harness, reader, "/whoami")
        await until(lambda: "could not store" in caplog.text, "a try to store")
        assert (len(writer.messages), len(reader.messages)) == (before_writer, before_reader)
    await harness.double.settle(timeout=30)
    assert "组织部" in reader.last.text
    assert "English" in writer.last.text
    with session_scope(harness.engine) as db:
        assert language_of(db, writer.id) == "en"


async def test_a_reminder_pass_waiting_for_the_lock_holds_up_nobody(long_bound: Harness) -> None:
    """The minute job claims each reminder (a write) before sending it: while the lock is
    held that waits, in a thread, and a liaison's /whoami is answered meanwhile."""
    harness = long_bound
    if harness.engine.dialect.name == "sqlite":
        pytest.skip(reason="SQLite locks the whole file: every update waits to be stored")
    reader = await harness.liaison("org", 7003, "丙")
    for number in range(5):  # departments with items owed, each to be reminded
        await harness.liaison(
            ("office", "intl", "rights", "youth", "school")[number],
            7010 + number,
            f"联络员{number}",
        )
    with session_scope(harness.engine) as db:
        open_period(db, "2015-10", parse_due("2015-11-05 17:00", ZoneInfo("Asia/Shanghai")))
    harness.now = datetime(2015, 11, 2, 1, 0, tzinfo=UTC)  # the -3d reminder, 09:00 Shanghai
    assert harness.app is not None
    before = len(reader.messages)
    with write_locked(harness.engine):
        reminders = asyncio.ensure_future(run_reminder_pass(harness.app))
        write(harness, reader, "/whoami")
        await until(lambda: len(reader.messages) > before, "the reader's answer")
        assert "组织部" in reader.last.text
        assert not reminders.done()  # still waiting for the lock
    report = await reminders
    await harness.double.settle()
    assert report.sent == 6 and report.errors == 0  # the lock gone, every claim went through
