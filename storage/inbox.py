"""The inbox: every Telegram update stored before Telegram is told it arrived, handled
from here one sender at a time, in order, by whichever bot process holds the sender's
lease.

Why: python-telegram-bot confirms a getUpdates batch and answers a webhook's 200 before
the updates are handled; a crash in between loses them, and Telegram does not send them
again. Stored first, an update outlives any crash: the bot handles what it finds waiting
when it starts. Its id is the key, so a delivery Telegram repeats is recognised.

Handled is marked in the transaction of the work the update caused (`HANDLING`, and the
session hooks at the end), so after a crash an update was either handled with its work,
or not at all and is handled again. An update that changed nothing is marked by
`finish`, after its handler.

Several processes on one PostgreSQL database: a sender's updates go to the process that
holds the sender's lease (`inbox_lease`); the others only store them. A lease is taken
when free, or when its worker is gone: each process holds an advisory lock under its
worker number while it lives (`register`), which PostgreSQL drops the moment the
process's connection ends, kill -9 included. On SQLite there is one bot process
(storage.db.only_bot_process): every worker but the current one is gone.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from storage.db import upsert_insert
from storage.models import InboxLease, InboxUpdate, table_of, utcnow

# The first key of every worker's advisory lock: from the schema, so that bots on other
# schemas of the same database (tests run side by side so) are not counted as workers.
WORKERS_KEY = "(('x' || substr(md5(current_schema()), 1, 7))::bit(28)::int)"
_WORKERS = (
    "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 "
    f"AND classid = {WORKERS_KEY}::oid AND granted AND database = "
    "(SELECT oid FROM pg_database WHERE datname = current_database())"
)
INBOX = table_of(InboxUpdate)
LEASE = table_of(InboxLease)


@dataclass(frozen=True)
class Waiting:
    """An update stored and not handled: the next one of its sender."""

    update_id: int
    body: str


@dataclass(frozen=True)
class Receipt:
    new: bool  # False: a repeated delivery of an update stored already
    next: Waiting | None  # what this worker is to handle now (it took the sender's lease)


@dataclass
class Handling:
    """The update the current task is handling; `marked` once a commit marked it."""

    update_id: int
    marked: bool = False


HANDLING: ContextVar[Handling | None] = ContextVar("huibao_handling", default=None)


# --- workers ------------------------------------------------------------------------------


def register(engine: Engine) -> tuple[int, Connection | None]:
    """A worker number for this process, and on PostgreSQL the connection whose advisory
    lock says it lives (keep it open while the process runs)."""
    while True:
        worker = secrets.randbelow(2**31 - 2) + 1
        if engine.dialect.name != "postgresql":
            return worker, None
        connection = engine.connect()
        locked = connection.execute(
            sa.select(sa.func.pg_try_advisory_lock(sa.literal_column(WORKERS_KEY), worker))
        ).scalar_one()
        connection.commit()
        if locked:
            return worker, connection
        connection.close()  # the number is taken by a live worker: draw again


def retire(alive: Connection) -> None:
    """This worker stops: its connection (and lock) ends, not back into the pool."""
    alive.invalidate()
    alive.close()


def live_workers(session: Session) -> int:
    """How many bot processes work on this database now (each paces its sends to its
    share of Telegram's overall limit)."""
    if session.get_bind().dialect.name != "postgresql":
        return 1
    found = session.execute(sa.text(f"SELECT count(*) FROM ({_WORKERS}) AS live")).scalar_one()
    return max(1, int(found))


def _gone(session: Session, worker: int) -> sa.ColumnElement[bool]:
    """The lease's worker no longer runs."""
    if session.get_bind().dialect.name != "postgresql":
        return LEASE.c.worker != worker
    live = sa.text(_WORKERS).columns(sa.column("objid", sa.BigInteger()))
    return sa.cast(LEASE.c.worker, sa.BigInteger).not_in(sa.select(live.subquery().c.objid))


# --- receiving, handling, finishing ---------------------------------------------------------


def _insert(session: Session, table: sa.Table) -> Any:
    insert = upsert_insert(session, table)
    if insert is None:
        raise NotImplementedError("the inbox needs PostgreSQL or SQLite")
    return insert


@dataclass(frozen=True)
class Arrival:
    """An update as received: its id, whose it is (for the order), its JSON."""

    update_id: int
    sender: str
    body: str


@dataclass(frozen=True)
class Done:
    """An update handled; `marked` if its work's commit marked it so already."""

    update_id: int
    sender: str
    marked: bool


def receive_many(
    session: Session, arrivals: Sequence[Arrival], *, worker: int, now: datetime
) -> list[Receipt]:
    """Store updates (a repeat is recognised by its id); take each sender's lease if it is
    free, and then say which of the sender's updates to handle first: a receipt for each
    arrival, and the `next` of a sender in the receipt of its first new update.

    Two statements for a whole getUpdates batch in the usual case. A sender with updates
    waiting always has a lease row (finish and take delete it only when none waits):
    when the row is new, the sender's first update stored here is the first waiting."""
    rows = [
        {"update_id": a.update_id, "sender": a.sender, "body": a.body, "received_at": now}
        for a in arrivals
    ]
    insert = _insert(session, INBOX).values(rows).on_conflict_do_nothing()
    stored = set(session.execute(insert.returning(INBOX.c.update_id)).scalars())
    fresh = sorted(
        {a.update_id: a for a in arrivals if a.update_id in stored}.values(),
        key=lambda a: a.update_id,
    )
    senders = sorted({a.sender for a in fresh})  # rows locked in one order by every process
    leased: set[str] = set()
    if senders:
        leases = [{"sender": s, "worker": worker, "since": now} for s in senders]
        insert = _insert(session, LEASE).values(leases).on_conflict_do_nothing()
        leased = set(session.execute(insert.returning(LEASE.c.sender)).scalars())
    firsts: dict[str, Arrival] = {}  # each sender's first new update
    for arrival in fresh:
        firsts.setdefault(arrival.sender, arrival)
    first: dict[int, Waiting | None] = {
        a.update_id: (
            Waiting(a.update_id, a.body)
            if sender in leased
            else take(session, sender, worker=worker, now=now)
        )
        for sender, a in sorted(firsts.items())  # leases locked in one order, as in finish
    }
    receipts: list[Receipt] = []
    for arrival in arrivals:
        new = arrival.update_id in stored
        stored.discard(arrival.update_id)  # the same update twice in a batch: new once
        receipts.append(Receipt(new=new, next=first.pop(arrival.update_id, None)))
    return receipts


def take(
    session: Session, sender: str, *, worker: int, now: datetime, mine_too: bool = False
) -> Waiting | None:
    """The sender's first waiting update, if this worker got the lease: free, or held by
    a worker that is gone (or, `mine_too`, by this one: a sweep for a sender it has
    nothing queued for). None if another live worker (or this one) is on it."""
    takeable = _gone(session, worker)
    if mine_too:
        takeable = sa.or_(takeable, LEASE.c.worker == worker)
    statement = (
        _insert(session, LEASE)
        .values(sender=sender, worker=worker, since=now)
        .on_conflict_do_update(
            index_elements=[LEASE.c.sender],
            set_={"worker": worker, "since": now},
            where=takeable,
        )
        .returning(LEASE.c.sender)
    )
    if session.execute(statement).first() is None:
        return None
    found = first_waiting(session, [sender]).get(sender)
    if found is None:  # handled meanwhile by the worker that was gone
        session.execute(sa.delete(LEASE).where(LEASE.c.sender == sender, LEASE.c.worker == worker))
    return found


def first_waiting(session: Session, senders: Sequence[str]) -> dict[str, Waiting]:
    """Each sender's first update stored and not handled, for those that have one."""
    if not senders:
        return {}
    firsts = (
        sa.select(sa.func.min(INBOX.c.update_id))
        .where(INBOX.c.sender.in_(senders), INBOX.c.handled_at.is_(None))
        .group_by(INBOX.c.sender)
    )
    rows = session.execute(
        sa.select(INBOX.c.update_id, INBOX.c.sender, INBOX.c.body).where(
            INBOX.c.update_id.in_(firsts)
        )
    )
    return {row.sender: Waiting(row.update_id, row.body) for row in rows}


def mark(session: Session, update_id: int, *, now: datetime) -> None:
    mark_all(session, [update_id], now=now)


def mark_all(session: Session, update_ids: Sequence[int], *, now: datetime) -> None:
    session.execute(
        sa.update(INBOX)
        .where(INBOX.c.update_id.in_(update_ids), INBOX.c.handled_at.is_(None))
        .values(handled_at=now)
    )


def finish_many(
    session: Session, done: Sequence[Done], *, worker: int, now: datetime
) -> dict[str, Waiting]:
    """The updates were handled: mark them (those whose work did not), then keep each
    sender's lease for its next waiting update, or give the lease back. Returns the next
    update of each sender whose lease this worker keeps.

    PostgreSQL: the lease rows are locked first, and the waiting updates read by a later
    statement, so a process storing one of the senders' updates meanwhile either
    committed before that read (and its update is returned here) or finds the lease gone
    and takes it. A lease taken over (this worker was counted as gone: its lock's
    connection broke) is left to its new worker. SQLite has one writer at a time: the
    write comes first, so that the transaction never has to turn from reader to writer."""
    unmarked = [d.update_id for d in done if not d.marked]
    if unmarked:
        mark_all(session, unmarked, now=now)
    senders = sorted({d.sender for d in done})
    mine = LEASE.c.worker == worker, LEASE.c.sender.in_(senders)
    if session.get_bind().dialect.name == "sqlite":  # one process: every lease is this one's
        waits = sa.exists().where(INBOX.c.sender == LEASE.c.sender, INBOX.c.handled_at.is_(None))
        released = session.execute(
            sa.delete(LEASE).where(*mine, ~waits).returning(LEASE.c.sender)
        ).scalars()
        return first_waiting(session, sorted(set(senders) - set(released)))
    locked = sa.select(LEASE.c.sender).where(*mine).order_by(LEASE.c.sender).with_for_update()
    kept = session.execute(locked).scalars().all()
    found = first_waiting(session, kept)
    free = [sender for sender in kept if sender not in found]
    if free:
        session.execute(sa.delete(LEASE).where(LEASE.c.worker == worker, LEASE.c.sender.in_(free)))
    return found


def waiting_senders(session: Session) -> list[str]:
    """Senders with updates stored and not handled, the longest-waiting first."""
    first = sa.func.min(INBOX.c.update_id)
    rows = session.execute(
        sa.select(INBOX.c.sender)
        .where(INBOX.c.handled_at.is_(None))
        .group_by(INBOX.c.sender)
        .order_by(first)
    )
    return [sender for (sender,) in rows]


def prune(session: Session, *, now: datetime, keep: timedelta) -> int:
    """Forget the updates handled more than `keep` ago; never one still waiting."""
    result = session.execute(sa.delete(INBOX).where(INBOX.c.handled_at < now - keep))
    return int(getattr(result, "rowcount", 0) or 0)


# --- marking handled in the work's own transaction ---------------------------------------


def _wrote(session: Session) -> bool:
    return bool(session.info.get("wrote") or session.new or session.dirty or session.deleted)


def _note_write(state: sa.orm.ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


def _note_flush(session: Session, _context: Any) -> None:
    session.info["wrote"] = True


def _before_commit(session: Session) -> None:
    handling = HANDLING.get()
    if handling is None or handling.marked or not _wrote(session):
        return
    mark(session, handling.update_id, now=utcnow())
    session.info["marks"] = handling


def _after_commit(session: Session) -> None:
    handling = session.info.pop("marks", None)
    if isinstance(handling, Handling):
        handling.marked = True
    session.info.pop("wrote", None)


def _after_rollback(session: Session) -> None:
    session.info.pop("marks", None)
    session.info.pop("wrote", None)


sa.event.listen(Session, "do_orm_execute", _note_write)
sa.event.listen(Session, "after_flush", _note_flush)
sa.event.listen(Session, "before_commit", _before_commit)
sa.event.listen(Session, "after_commit", _after_commit)
sa.event.listen(Session, "after_soft_rollback", lambda session, _previous: _after_rollback(session))
