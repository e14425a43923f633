"""A busy bot keeps its database connections open: every database thread busy at once,
round after round, opens no connection beyond the first of each thread (on PostgreSQL each
one is a server process started and ended)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.db import DATABASE_THREADS, in_thread

ROUNDS = 5


async def test_busy_threads_reuse_their_connections(engine: Engine) -> None:
    opened: list[object] = []
    sa.event.listen(engine, "connect", lambda connection, _record: opened.append(connection))
    everyone = threading.Barrier(DATABASE_THREADS, timeout=30)

    def work(db: Session) -> None:
        db.execute(sa.text("SELECT 1"))
        everyone.wait()  # every thread holds a connection at this moment

    with ThreadPoolExecutor(DATABASE_THREADS) as threads:
        for _ in range(ROUNDS):
            jobs = [in_thread(threads, engine, work) for _ in range(DATABASE_THREADS)]
            await asyncio.gather(*jobs)
    assert len(opened) <= DATABASE_THREADS
