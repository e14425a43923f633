"""The inbox: an update is stored before Telegram is told it arrived, handled from
there one sender at a time, and marked handled in the transaction of its work."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Update

from handlers.inbox import Inbox
from storage import inbox
from storage.db import make_engine, session_scope, upgrade
from storage.inbox import HANDLING, Handling
from storage.models import CalendarDay, InboxLease, InboxUpdate
from tests.harness import Harness
from tests.test_report import DONE, SUBMIT, open_month, start_item, stored
from tests.test_run_modes import wait_for

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def receive(engine: Engine, update_id: int, sender: str, worker: int) -> inbox.Receipt:
    with session_scope(engine) as db:
        arrival = inbox.Arrival(update_id, sender, "{}")
        return inbox.receive_many(db, [arrival], worker=worker, now=NOW)[0]


def finish(db: Session, update_id: int, sender: str, worker: int) -> inbox.Waiting | None:
    done = inbox.Done(update_id, sender, marked=False)
    return inbox.finish_many(db, [done], worker=worker, now=NOW).get(sender)


def handled_at(engine: Engine, update_id: int) -> datetime | None:
    with session_scope(engine) as db:
        row = db.get(InboxUpdate, update_id)
        assert row is not None
        return row.handled_at


def test_a_repeated_delivery_is_recognised(engine: Engine) -> None:
    first = receive(engine, 1, "user:7", worker=1)
    assert first.new and first.next == inbox.Waiting(1, "{}")
    assert receive(engine, 1, "user:7", worker=1) == inbox.Receipt(new=False, next=None)


def test_a_senders_updates_go_one_at_a_time_in_order_to_the_lease_holder(engine: Engine) -> None:
    worker, alive = inbox.register(engine)
    other, other_alive = inbox.register(engine)
    if alive is None:  # SQLite: one bot process, whose worker alone lives
        other = worker
    try:
        assert receive(engine, 10, "user:7", worker).next == inbox.Waiting(10, "{}")
        # Stored by another process while the first is handled: only stored.
        assert receive(engine, 11, "user:7", other).next is None
        assert receive(engine, 12, "user:7", worker).next is None  # busy with 10 already
        assert receive(engine, 13, "user:8", other).next == inbox.Waiting(13, "{}")
        with session_scope(engine) as db:
            assert finish(db, 10, "user:7", worker) == (inbox.Waiting(11, "{}"))
        with session_scope(engine) as db:
            next_one = finish(db, 11, "user:7", worker)
        assert next_one == inbox.Waiting(12, "{}")
        with session_scope(engine) as db:
            assert finish(db, 12, "user:7", worker) is None
            assert db.get(InboxLease, "user:7") is None
        assert all(handled_at(engine, u) == NOW for u in (10, 11, 12))
        assert handled_at(engine, 13) is None
    finally:
        for connection in (alive, other_alive):
            if connection is not None:
                inbox.retire(connection)


def test_a_batch_is_stored_at_once_and_each_sender_handled_from_its_first(
    engine: Engine,
) -> None:
    """A getUpdates batch: one sender's two updates, another's one, a repeat of the
    first inside the batch and one of an update stored before."""
    receive(engine, 50, "user:1", worker=1)
    batch = [
        inbox.Arrival(51, "user:2", '{"a": 51}'),
        inbox.Arrival(52, "user:3", '{"a": 52}'),
        inbox.Arrival(51, "user:2", '{"a": 51}'),
        inbox.Arrival(53, "user:2", '{"a": 53}'),
        inbox.Arrival(50, "user:1", "{}"),
    ]
    with session_scope(engine) as db:
        receipts = inbox.receive_many(db, batch, worker=1, now=NOW)
    assert receipts == [
        inbox.Receipt(new=True, next=inbox.Waiting(51, '{"a": 51}')),
        inbox.Receipt(new=True, next=inbox.Waiting(52, '{"a": 52}')),
        inbox.Receipt(new=False, next=None),
        inbox.Receipt(new=True, next=None),  # behind 51, which holds user:2's lease
        inbox.Receipt(new=False, next=None),
    ]
    # Finished together: user:2 goes on with 53, user:1's and user:3's leases are free.
    with session_scope(engine) as db:  # 52's work marked it in its own commit
        inbox.mark(db, 52, now=NOW - timedelta(minutes=1))
    done = [
        inbox.Done(50, "user:1", marked=False),
        inbox.Done(51, "user:2", marked=False),
        inbox.Done(52, "user:3", marked=True),
    ]
    with session_scope(engine) as db:
        found = inbox.finish_many(db, done, worker=1, now=NOW)
    assert found == {"user:2": inbox.Waiting(53, '{"a": 53}')}
    with session_scope(engine) as db:
        assert db.execute(sa.select(InboxLease.sender)).scalars().all() == ["user:2"]
    assert handled_at(engine, 50) == handled_at(engine, 51) == NOW
    assert handled_at(engine, 52) == NOW - timedelta(minutes=1)  # by its work, not finish
    assert handled_at(engine, 53) is None


def test_the_lease_of_a_worker_that_is_gone_is_taken_over(engine: Engine) -> None:
    """On PostgreSQL a worker lives while its advisory lock's connection does (kill -9
    ends it); on SQLite only the current process's worker lives."""
    dead, dead_alive = inbox.register(engine)
    assert receive(engine, 20, "user:9", dead).next is not None
    survivor, survivor_alive = inbox.register(engine)
    try:
        with session_scope(engine) as db:
            if dead_alive is not None:  # PostgreSQL: still alive, so not taken
                assert inbox.take(db, "user:9", worker=survivor, now=NOW) is None
        if dead_alive is not None:
            inbox.retire(dead_alive)
        with session_scope(engine) as db:
            assert inbox.take(db, "user:9", worker=survivor, now=NOW) == inbox.Waiting(20, "{}")
            assert db.get(InboxLease, "user:9").worker == survivor  # type: ignore[union-attr]
    finally:
        if survivor_alive is not None:
            inbox.retire(survivor_alive)


def test_handled_is_marked_by_the_commit_of_the_work_and_only_then(engine: Engine) -> None:
    receive(engine, 30, "user:7", worker=1)
    handling = Handling(30)
    token = HANDLING.set(handling)
    try:
        with pytest.raises(RuntimeError), session_scope(engine) as db:
            db.add(CalendarDay(day=date(2027, 1, 1), working=False, note="rolled back"))
            raise RuntimeError
        with session_scope(engine) as db:
            db.exec(sa.select(CalendarDay))  # type: ignore[call-overload]
        assert not handling.marked and handled_at(engine, 30) is None
        with session_scope(engine) as db:
            db.add(CalendarDay(day=date(2027, 1, 1), working=False, note="元旦"))
        assert handling.marked
        assert handled_at(engine, 30) is not None
    finally:
        HANDLING.reset(token)


def test_pruning_keeps_what_waits(engine: Engine) -> None:
    receive(engine, 40, "user:7", worker=1)
    receive(engine, 41, "user:8", worker=1)
    with session_scope(engine) as db:
        inbox.mark(db, 40, now=NOW - timedelta(days=8))
    with session_scope(engine) as db:
        assert inbox.prune(db, now=NOW, keep=timedelta(days=7)) == 1
    with session_scope(engine) as db:
        assert db.get(InboxUpdate, 40) is None
        assert db.get(InboxUpdate, 41) is not None
        assert inbox.waiting_senders(db) == ["user:8"]


def test_the_upgrade_keeps_the_handled_update_ids(tmp_path: object) -> None:
    made = make_engine(f"sqlite:///{tmp_path}/old.db")
    try:
        upgrade(made, "0006")
        with made.begin() as connection:
            connection.execute(
                sa.text("INSERT INTO handled_update (update_id, handled_at) VALUES (5, :at)"),
                {"at": datetime(2026, 12, 1, 8, 0)},
            )
        upgrade(made)
        assert handled_at(made, 5) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    finally:
        made.dispose()


async def test_what_a_crashed_bot_stored_is_handled_first_and_in_order(harness: Harness) -> None:
    """The bot died after storing two lines a liaison pasted and before handling them:
    the next start handles both, in the order they were sent, before anything new."""
    open_month(harness)
    liaison = await harness.liaison("org", 6101, "王芳")
    await start_item(liaison, "团的制度建设")
    await harness.stop_bot()
    ids = []
    for text in ("上报团中央的制度汇编", "完成团校课程修订"):
        update_id = harness.double.reserve_update_id()
        message = harness.double.user_message(liaison.id, liaison.state, {"text": text})
        body = json.dumps({"update_id": update_id, "message": message})
        with session_scope(harness.engine) as db:
            arrival = inbox.Arrival(update_id, f"user:{liaison.id}", body)
            inbox.receive_many(db, [arrival], worker=1, now=NOW)
        ids.append(update_id)
    await harness.start_bot()
    await wait_for(lambda: all(handled_at(harness.engine, u) is not None for u in ids))
    await harness.double.settle()
    await liaison.tap(DONE)
    await liaison.send("收集兄弟省市的做法")
    await liaison.tap(DONE)
    await liaison.tap(SUBMIT)
    submission = stored(harness, "团的制度建设", "org")
    assert submission.progress == ["上报团中央的制度汇编", "完成团校课程修订"]
    assert submission.plan == ["收集兄弟省市的做法"]


async def test_every_update_is_in_the_inbox_and_marked_handled(harness: Harness) -> None:
    coordinator = harness.coordinator()
    await coordinator.send("/whoami")
    update_id = harness.double.last_update_id
    with session_scope(harness.engine) as db:
        row = db.get(InboxUpdate, update_id)
        assert row is not None and row.handled_at is not None
        assert row.sender == f"user:{coordinator.id}"
        assert json.loads(row.body)["message"]["text"] == "/whoami"


async def test_an_update_is_marked_handled_before_its_answer_goes_out(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/whoami changes nothing; it is marked handled before the answer is sent, so a bot
    killed after answering does not answer it again when it restarts."""
    at_finish: dict[int, datetime | None] = {}
    finish = Inbox.finish

    async def finishing(self: Inbox, update: Update, handling: Handling) -> None:
        at_finish[update.update_id] = handled_at(harness.engine, update.update_id)
        await finish(self, update, handling)

    monkeypatch.setattr(Inbox, "finish", finishing)
    await harness.coordinator().send("/whoami")
    assert at_finish[harness.double.last_update_id] is not None


def test_only_the_workers_of_this_schema_count(engine: Engine) -> None:
    """Bots of another schema in the same PostgreSQL database (another office, or tests
    side by side) are no workers of this one: they take no share of its pacing."""
    if engine.dialect.name != "postgresql":  # one bot process, whose worker alone counts
        with session_scope(engine) as db:
            assert inbox.live_workers(db) == 1
        return
    schema = f"other_{secrets.token_hex(4)}"
    with engine.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    other = make_engine(
        engine.url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    )
    try:
        _, mine_alive = inbox.register(engine)
        _, theirs_alive = inbox.register(other)
        with session_scope(engine) as db:
            assert inbox.live_workers(db) == 1
        with session_scope(other) as db:
            assert inbox.live_workers(db) == 1
        for alive in (mine_alive, theirs_alive):
            assert alive is not None
            inbox.retire(alive)
    finally:
        other.dispose()
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
