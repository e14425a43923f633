"""Engine, sessions and schema migrations."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import importlib
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from bot.core.texts import TerminalError

if TYPE_CHECKING:
    from alembic.config import Config

T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# How long a statement waits for another connection's lock before giving up (SQLite's busy
# timeout, PostgreSQL's lock_timeout): the user is told the system is busy instead of
# waiting indefinitely, and the transaction is rolled back.
LOCK_TIMEOUT = 5.0
# Database threads of a bot process (bot.app runs handlers' work in them): about as many as
# updates run at once (PerUserOrder), so one user's statement waiting for a lock holds up
# only that user.
DATABASE_THREADS = 15
# The pool keeps a connection open for each database thread. A smaller pool makes every
# busy minute open and close connections (on PostgreSQL a server process each); up to 10
# more serve work in asyncio's default threads while all of them are busy.
POOL = {"pool_size": DATABASE_THREADS, "max_overflow": 10}


class SchemaError(TerminalError):
    """The database schema is not the one this code expects."""


def make_engine(url: str, *, lock_timeout: float = LOCK_TIMEOUT) -> Engine:
    """An engine set up for a bot: on SQLite WAL, foreign keys and a busy timeout; on both
    a bound on lock waits (`lock_timeout` seconds)."""
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        in_memory = path in (None, "", ":memory:")  # one connection per thread, no pool
        if path and not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": lock_timeout},
            **({} if in_memory else POOL),
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    engine = sa.create_engine(url, pool_pre_ping=True, **POOL)
    if engine.dialect.name == "postgresql":

        @sa.event.listens_for(engine, "connect")
        def _lock_timeout(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET lock_timeout = {int(lock_timeout * 1000)}")
            cursor.close()
            dbapi_connection.commit()

    return engine


class SecondProcess(TerminalError):
    """Another bot process runs on this SQLite file."""


@contextmanager
def only_bot_process(engine: Engine) -> Iterator[None]:
    """Hold the SQLite file's lock (`<file>.lock`) while the bot runs. Two bots on one
    SQLite file would fight over its single writer and over Telegram's updates; several
    processes need PostgreSQL. The operating system drops the lock when the process ends,
    however it ends. Other databases: nothing to hold."""
    from filelock import FileLock, Timeout

    path = engine.url.database if engine.dialect.name == "sqlite" else None
    if not path or path == ":memory:":
        yield
        return
    lock = FileLock(f"{path}.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise SecondProcess("sqlite_second_process", path=path) from None
    try:
        yield
    finally:
        lock.release()


def upsert_insert(session: Session, table: sa.Table) -> Any | None:
    """INSERT with ON CONFLICT for the session's database (PostgreSQL, SQLite), None for
    another. The dialect's module loads on first use: a SQLite bot never loads
    PostgreSQL's."""
    name = session.get_bind().dialect.name
    if name not in ("postgresql", "sqlite"):
        return None
    dialect = importlib.import_module(f"sqlalchemy.dialects.{name}")
    return dialect.insert(table)


def is_busy(error: BaseException | None) -> bool:
    """The statement gave up waiting for another connection's lock (LOCK_TIMEOUT)."""
    if not isinstance(error, sa.exc.OperationalError):
        return False
    # SQLite: "database is locked"; PostgreSQL: lock_not_available (55P03)
    return "database is locked" in str(error.orig) or getattr(error.orig, "sqlstate", "") == "55P03"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _migration_engine(engine: Engine) -> Engine:
    """An engine whose transactions include DDL, for the migrations.

    pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so each CREATE TABLE
    commits by itself and a kill half-way leaves half a schema that every later upgrade
    trips over. Here every transaction starts with BEGIN IMMEDIATE, so a whole upgrade
    commits at once or not at all. PostgreSQL runs DDL in transactions anyway.
    """
    return _sqlite_beginning_with(engine, "BEGIN IMMEDIATE", timeout=30)


def snapshot_engine(engine: Engine) -> Engine:
    """An engine whose transactions read one moment of the database from their first
    statement on, for an export while the bot writes: on SQLite a deferred BEGIN, which
    pysqlite would not issue before a SELECT (writers go on meanwhile, WAL); PostgreSQL's
    transactions need only their isolation level (storage/archive.py)."""
    return _sqlite_beginning_with(engine, "BEGIN", timeout=LOCK_TIMEOUT)


def _sqlite_beginning_with(engine: Engine, begin: str, *, timeout: float) -> Engine:
    """On SQLite, a new engine on the same file with the driver's own transaction
    handling off and every transaction started by `begin` (SQLAlchemy's pysqlite
    recipe); on other databases `engine` itself."""
    if engine.dialect.name != "sqlite":
        return engine
    beginning = sa.create_engine(
        engine.url,
        connect_args={"check_same_thread": False, "timeout": timeout},
        poolclass=sa.pool.NullPool,
    )

    @sa.event.listens_for(beginning, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        _sqlite_pragmas(dbapi_connection, record)
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(beginning, "begin")
    def _begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql(begin)

    return beginning


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


async def in_thread(threads: Executor | None, engine: Engine, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction in one of `threads` (None: asyncio's default pool),
    with the caller's context variables; the event loop goes on meanwhile."""

    def job() -> T:
        with session_scope(engine) as db:
            return work(db)

    call = functools.partial(contextvars.copy_context().run, job)
    return await asyncio.get_running_loop().run_in_executor(threads, call)


# The newest migration. The bot checks it at every start without loading Alembic (a fifth
# of the start-up); tests/test_storage.py fails when a new migration is not named here.
HEAD = "0007"
# Every migration this code knows (file names start with the revision): a database at any
# other revision was made by a newer huibao, and no migration here can go from there.
KNOWN = frozenset(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration, as Alembic reads the migrations."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(sa.create_engine("sqlite://")))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's migration (Alembic's version table, read with plain SQL)."""
    with engine.connect() as connection:
        return revision_in(connection)


def revision_in(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    found = connection.execute(sa.text("SELECT version_num FROM alembic_version")).first()
    return None if found is None else str(found[0])


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to the newest migration (or to `revision`), in one transaction:
    all or nothing."""
    from alembic import command

    migrating = _migration_engine(engine)
    try:
        _clear_half_made_schema(migrating)
        command.upgrade(_alembic_config(migrating), revision)
    finally:
        if migrating is not engine:
            migrating.dispose()


def _clear_half_made_schema(engine: Engine) -> None:
    """Before upgrades were atomic, a first start killed while creating the schema left
    some tables and no revision, and every later upgrade failed on them ("table ...
    already exists"). Such tables hold nothing: drop them so the upgrade starts over.
    Tables with rows are never dropped; the operator is told which."""
    import storage.models  # noqa: F401  (registers the tables)

    with engine.begin() as connection:
        if revision_in(connection) is not None:
            return
        inspector = sa.inspect(connection)
        present = [t for t in SQLModel.metadata.sorted_tables if inspector.has_table(t.name)]
        if not present:
            return
        filled = [
            t.name
            for t in present
            if connection.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()
        ]
        if filled:
            raise SchemaError("schema_half_made", tables=filled)
        for table in reversed(present):
            table.drop(connection)


def ensure_schema(engine: Engine, *, auto_upgrade: bool) -> None:
    """Refuse to run against a schema other than the newest one."""
    current, head = current_revision(engine), HEAD
    if current == head:
        return
    refuse_newer(current)
    if auto_upgrade:
        upgrade(engine)
        return
    raise SchemaError("schema_mismatch", current=current, head=head)


def refuse_newer(current: str | None) -> None:
    """A database made by a newer huibao: no migration here knows its revision."""
    if current is not None and current not in KNOWN:
        raise SchemaError("schema_newer", current=current, head=HEAD)
