"""Engine, sessions and schema migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.texts import TerminalError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# How long a statement waits for another connection's lock before giving up (SQLite's busy
# timeout, PostgreSQL's lock_timeout): the user is told the system is busy instead of
# waiting indefinitely, and the transaction is rolled back.
LOCK_TIMEOUT = 5.0


class SchemaError(TerminalError):
    """The database schema is not the one this code expects."""


def make_engine(url: str, *, lock_timeout: float = LOCK_TIMEOUT) -> Engine:
    """An engine set up for a bot: on SQLite WAL, foreign keys and a busy timeout; on both
    a bound on lock waits (`lock_timeout` seconds)."""
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": lock_timeout}
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = sa.create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "postgresql":

        @sa.event.listens_for(engine, "connect")
        def _lock_timeout(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET lock_timeout = {int(lock_timeout * 1000)}")
            cursor.close()
            dbapi_connection.commit()

    return engine


def is_busy(error: BaseException | None) -> bool:
    """The statement gave up waiting for another connection's lock (LOCK_TIMEOUT)."""
    if not isinstance(error, sa.exc.OperationalError):
        return False
    # SQLite: "database is locked"; PostgreSQL: lock_not_available (55P03)
    return "database is locked" in str(error.orig) or getattr(error.orig, "sqlstate", "") == "55P03"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    script = ScriptDirectory.from_config(_alembic_config(sa.create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    command.upgrade(_alembic_config(engine), "head")


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> None:
    """Refuse to run against a schema other than the newest one."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    if auto_upgrade:
        upgrade(engine)
        return
    raise SchemaError("schema_mismatch", current=current, head=head)
