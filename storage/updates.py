"""Which Telegram updates were handled already: one row per update id, kept a week.

Telegram delivers an update again when it cannot know the bot got it (a getUpdates
batch fetched again after a restart, a webhook request that timed out); the bot
records each id before handling it and ignores one it finds recorded. A week is
Telegram's own horizon: after a week without updates its ids start afresh.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.db import make_engine
from storage.models import HandledUpdate, table_of

KEEP = timedelta(days=7)


def claims_engine(engine: Engine, lock_wait: float) -> Engine:
    """Where claims are written: on SQLite, which locks the whole file for a write, an
    engine on the same file whose writes wait at most `lock_wait` seconds for the lock;
    PostgreSQL locks only the row, and the engine itself keeps its usual bound."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine  # (an in-memory database exists only on its own connections)
    return make_engine(engine.url.render_as_string(hide_password=False), lock_timeout=lock_wait)


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose update id is not there yet; how many went in."""
    table = table_of(HandledUpdate)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = pg_insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite_insert(table).on_conflict_do_nothing()
    else:  # any other database: one savepoint a row
        inserted = 0
        for row in rows:
            try:
                with session.begin_nested():
                    session.execute(sa.insert(table), [row])
                inserted += 1
            except IntegrityError:
                pass
        return inserted
    # RETURNING lists only the rows that went in (rowcount is unreliable for many rows)
    return len(session.execute(statement.returning(table.c.update_id), rows).all())


def claim(session: Session, update_id: int, *, now: datetime) -> bool:
    """Record the update as handled; False if it already was."""
    return _insert_new(session, [{"update_id": update_id, "handled_at": now}]) == 1


def record(session: Session, update_ids: Iterable[int], *, now: datetime) -> int:
    """Record updates already handled (those that could not be claimed in time)."""
    return _insert_new(session, [{"update_id": u, "handled_at": now} for u in set(update_ids)])


def prune(session: Session, *, now: datetime) -> int:
    """Forget the updates handled more than KEEP ago; how many rows went."""
    table = table_of(HandledUpdate)
    result = session.execute(sa.delete(table).where(table.c.handled_at < now - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)
