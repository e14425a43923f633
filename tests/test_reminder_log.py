"""storage/reminder_log.py on SQLite and PostgreSQL: claims, marks, queues, what is in the
log already, mutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.reminders import Kind, Task
from bot.core.roster import load_roster
from storage import reminder_log as rl
from storage.db import session_scope
from storage.models import Liaison, Period, ReminderLog
from storage.periods import open_period
from storage.roster import apply_roster, department_by_code

ROSTER = Path(__file__).resolve().parent.parent / "examples" / "roster.toml"
DUE = datetime(2015, 11, 5, 9, 0, tzinfo=UTC)
SLOT = datetime(2015, 11, 4, 1, 0, tzinfo=UTC)


def _period(db: Session) -> Period:
    return open_period(db, "2015-10", DUE)


def test_claim_once_and_the_session_survives(engine: Engine) -> None:
    with session_scope(engine) as db:
        pid = _period(db).id or 0
        assert rl.claim(db, pid, 1001, SLOT, "reminder")
        assert not rl.claim(db, pid, 1001, SLOT, "reminder")
        assert rl.claim(db, pid, 1002, SLOT, "reminder")  # same transaction, still usable
        assert rl.claim(db, pid, 1001, SLOT, "digest")  # another kind, same minute
    with session_scope(engine) as db:  # a restart: the log is the memory
        assert not rl.claim(db, pid, 1001, SLOT, "reminder")
        assert not rl.claim(db, pid, 1001, SLOT + timedelta(seconds=30), "reminder")
        assert rl.claim(db, pid, 1001, SLOT + timedelta(minutes=1), "reminder")
        rows = db.exec(select(ReminderLog)).all()
    assert len(rows) == 4
    assert {r.slot for r in rows} >= {"reminder:2015-11-04T01:00Z", "digest:2015-11-04T01:00Z"}
    assert all(len(r.slot) <= 40 for r in rows)


def test_mark_records_the_outcome(engine: Engine) -> None:
    with session_scope(engine) as db:
        pid = _period(db).id or 0
        rl.claim(db, pid, 1001, SLOT, "reminder")
        rl.claim(db, pid, 1002, SLOT, "reminder")
    with session_scope(engine) as db:
        rl.mark(
            db,
            [
                (pid, 1001, SLOT, "reminder", rl.SENT),
                (pid, 1002, SLOT, "reminder", rl.BLOCKED),
                (pid, 1003, SLOT, "reminder", rl.SENT),  # never claimed: ignored
            ],
            now=SLOT,
        )
    with session_scope(engine) as db:
        rows = {r.recipient_id: r for r in db.exec(select(ReminderLog))}
    assert rows[1001].status == "sent" and rows[1001].sent_at == SLOT
    assert rows[1002].status == "blocked" and rows[1002].sent_at is None
    assert 1003 not in rows


def test_claimed_lists_what_the_log_holds_for_the_slots(engine: Engine) -> None:
    older, newer = SLOT - timedelta(hours=3), SLOT
    with session_scope(engine) as db:
        pid = _period(db).id or 0
        rl.claim(db, pid, 1002, newer, "reminder")
        rl.skip(db, pid, "reminder", [(1001, older)])
        rl.claim(db, pid, 1003, newer, "digest")  # another kind: not this one's
        assert rl.claimed(db, pid, "reminder", [older, newer]) == {(1002, newer), (1001, older)}
        assert rl.claimed(db, pid, "reminder", []) == set()


def test_queued_notices_come_back_as_tasks_and_are_taken_once(engine: Engine) -> None:
    with session_scope(engine) as db:
        pid = _period(db).id or 0
        assert rl.queue(db, pid, Kind.OPENED, [1001, 1002], SLOT) == 2
        assert rl.queue(db, pid, Kind.OPENED, [1001], SLOT) == 0
        found = rl.queued(db, [Kind.OPENED, Kind.REOPENED])
        assert found == [Task(pid, 1001, SLOT, Kind.OPENED), Task(pid, 1002, SLOT, Kind.OPENED)]
        assert rl.take(db, pid, 1001, SLOT, Kind.OPENED)
        assert not rl.take(db, pid, 1001, SLOT, Kind.OPENED)
        assert rl.queued(db, [Kind.OPENED]) == [Task(pid, 1002, SLOT, Kind.OPENED)]


def test_mutes_and_unreachable(engine: Engine) -> None:
    with session_scope(engine) as db:
        apply_roster(db, load_roster(ROSTER), "Asia/Shanghai")
        department = department_by_code(db, "office")
        assert department is not None
        liaison = Liaison(telegram_id=3001, name="王芳", department_id=department.id or 0)
        db.add(liaison)
        db.flush()
        pid, lid = _period(db).id or 0, liaison.id or 0
        assert rl.mute(db, pid, lid) and not rl.mute(db, pid, lid)
        assert rl.muted(db, pid) == {lid}
    with session_scope(engine) as db:
        assert rl.unmute(db, pid, lid) and not rl.unmute(db, pid, lid)
        assert rl.muted(db, pid) == set()
        assert rl.set_unreachable(db, 3001, True)
        assert not rl.set_unreachable(db, 3001, True)
        assert not rl.set_unreachable(db, 9999, True)
    with session_scope(engine) as db:
        found = db.exec(select(Liaison).where(Liaison.telegram_id == 3001)).one()
        assert found.unreachable
        assert rl.set_unreachable(db, 3001, False)


def test_skip_records_many_at_once_and_keeps_existing_rows(engine: Engine) -> None:
    with session_scope(engine) as db:
        pid = _period(db).id or 0
        rl.claim(db, pid, 1001, SLOT, "reminder")  # sent earlier: stays "claimed"
        pairs = [(1001, SLOT), (1002, SLOT), (1003, SLOT - timedelta(days=1))]
        assert rl.skip(db, pid, "reminder", pairs, now=SLOT) == 2
        assert rl.skip(db, pid, "reminder", pairs, now=SLOT) == 0
        assert rl.skip(db, pid, "reminder", []) == 0
    with session_scope(engine) as db:
        rows = {(r.recipient_id, r.slot): r for r in db.exec(select(ReminderLog))}
        assert not rl.claim(db, pid, 1002, SLOT, "reminder")
    assert rows[(1001, "reminder:2015-11-04T01:00Z")].status == "claimed"
    assert rows[(1002, "reminder:2015-11-04T01:00Z")].status == "skipped"
    assert rows[(1003, "reminder:2015-11-03T01:00Z")].claimed_at == SLOT
