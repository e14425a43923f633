"""Backups and restores: SQLite by its online backup API, PostgreSQL by pg_dump/pg_restore
(or, where pg_dump is not installed, a huibao archive: JSON of every row).

A backup is a consistent copy taken while the bot keeps writing; a restore goes into an
empty database only (never over someone's data), and then brings the schema up to date.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core import backup_plan
from bot.core.texts import TerminalError
from storage.archive import has_rows, load_archive, write_archive, write_tables
from storage.db import HEAD, current_revision, refuse_newer, upgrade

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
SCHEDULED_LOCK = 0x68756962  # "huib": the advisory lock of the scheduled backup
log = logging.getLogger(__name__)


class BackupError(TerminalError):
    """A backup or restore that cannot be done; nothing was changed."""


class ToolMissing(BackupError):
    """pg_dump or pg_restore is not installed."""


def backup(engine: Engine, target: Path) -> Path:
    """Write a consistent copy of the database to `target` (which must not exist yet)."""
    if target.exists():
        raise BackupError("backup_exists", path=str(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")  # a failed backup leaves no file
    try:
        if engine.dialect.name == "sqlite":
            try:
                _sqlite_backup(_sqlite_path(engine), partial)
            except sqlite3.Error as exc:  # e.g. "database or disk is full"
                raise BackupError("backup_sqlite_failed", error=str(exc)) from exc
        elif shutil.which("pg_dump") is None:
            write_archive(engine, partial)  # JSON, which `restore` reads as well
        else:
            _pg("pg_dump", engine, ["--format=custom", f"--file={partial}"])
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


@dataclass(frozen=True)
class Taken:
    """A scheduled backup written, and the old ones it made room for."""

    path: Path
    deleted: tuple[Path, ...]


def suffix(engine: Engine) -> str:
    """A scheduled backup's file ending: '.db' for SQLite, '.dump' for pg_dump's format,
    '.json' for the archive `backup` writes on PostgreSQL where pg_dump is missing."""
    if engine.dialect.name == "sqlite":
        return ".db"
    return ".dump" if shutil.which("pg_dump") else ".json"


def scheduled_folder(engine: Engine, chosen: Path | None = None) -> Path:
    """Where scheduled backups go: BACKUP_DIR (`chosen`), else `backups/` next to a SQLite
    database file (data/huibao.db → data/backups/), `./backups` for PostgreSQL."""
    if chosen is not None:
        return chosen.resolve()
    if engine.dialect.name == "sqlite":
        return _sqlite_path(engine).resolve().parent / "backups"
    return Path("backups").resolve()


def listing(folder: Path) -> list[str]:
    """The names of the files in `folder`; none when it does not exist (yet) or is no
    folder (the backup will say why it cannot write there)."""
    if not folder.is_dir():
        return []
    return [entry.name for entry in os.scandir(folder) if entry.is_file()]


def my_turn(session: Session) -> bool:
    """Whether this process may take the scheduled backup now: of several bot processes
    on one PostgreSQL database one at a time (an advisory lock held until the session's
    transaction ends; the others skip this round). SQLite has one process: always."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    locked = session.execute(sa.select(sa.func.pg_try_advisory_xact_lock(SCHEDULED_LOCK)))
    return bool(locked.scalar())


def take_scheduled(engine: Engine, folder: Path, now: datetime, keep: int) -> Taken:
    """Back up into `folder` under a name of the moment, then delete our backups beyond
    the `keep` newest (only files named as ours: anything else in the folder stays)."""
    ending = suffix(engine)
    target = backup(engine, folder / backup_plan.file_name(now, ending))
    deleted = []
    for name in backup_plan.to_delete(listing(folder), ending, keep):
        try:
            (folder / name).unlink(missing_ok=True)
        except OSError as exc:  # the backup is written: an old one left over is no failure
            log.warning("could not delete the old backup %s: %s", folder / name, exc)
        else:
            deleted.append(folder / name)
    return Taken(target, tuple(deleted))


def restore(engine: Engine, source: Path) -> str:
    """Load a backup into an empty database and upgrade it to HEAD; its revision before."""
    kind = kind_of(source)
    if kind == "archive":  # into either kind of database
        data = load_archive(source)
        write_tables(engine, data)
        return data.revision
    wanted = "sqlite" if kind == "sqlite" else "postgresql"
    if engine.dialect.name != wanted:
        raise BackupError("restore_wrong_kind", kind=kind, dialect=engine.dialect.name)
    filled = tables(engine)
    if filled:
        raise BackupError("restore_not_empty", tables=filled)
    if kind == "sqlite":
        revision = _sqlite_revision(source)
        refuse_newer(revision)
        engine.dispose()
        with (
            _closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as origin,
            _closing(sqlite3.connect(_sqlite_path(engine))) as copy,
        ):
            origin.backup(copy)
    else:
        refuse_newer(_dump_revision(source))
        _pg("pg_restore", engine, ["--no-owner", "--single-transaction", str(source)])
    engine.dispose()
    restored = current_revision(engine)
    refuse_newer(restored)
    if restored != HEAD:
        upgrade(engine)
    return restored or ""


def before_upgrade(engine: Engine, now: datetime | None = None) -> Path | None:
    """Before migrating a database that holds data and is behind HEAD, back it up next to
    the database (PostgreSQL: in the working folder); None when there is nothing to keep."""
    current = current_revision(engine)
    refuse_newer(current)
    if current is None or current == HEAD or not has_rows(engine):
        return None
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    if engine.dialect.name == "sqlite":
        path = _sqlite_path(engine)
        return backup(engine, path.with_name(f"{path.name}.before-{HEAD}-{stamp}.bak"))
    name = engine.url.database or "huibao"
    return backup(engine, Path(f"{name}.before-{HEAD}-{stamp}.dump").resolve())


def tables(engine: Engine) -> list[str]:
    """The tables the database holds (an empty database holds none)."""
    with engine.connect() as connection:
        return sorted(sa.inspect(connection).get_table_names())


class _closing:
    """sqlite3's connection as a context manager commits but does not close: this closes."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *_exc: object) -> None:
        self.connection.close()


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("backup_no_file")
    return Path(database)


def _sqlite_backup(source: Path, target: Path) -> None:
    """One step of the backup API: the copy is the database as of one moment, even while
    the bot writes (WAL lets it go on meanwhile)."""
    if not source.is_file():
        raise BackupError("backup_no_database", path=str(source))
    with (
        _closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)) as origin,
        _closing(sqlite3.connect(target)) as copy,
    ):
        origin.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # the backup is one file, not three


def kind_of(source: Path) -> str:
    """What made the file: "sqlite" (a database file), "pg_dump" (its custom format) or
    "archive" (huibao's JSON of every row)."""
    try:
        with source.open("rb") as file:
            start = file.read(len(SQLITE_MAGIC))
    except OSError:
        raise BackupError("restore_not_a_backup", path=str(source)) from None
    if start == SQLITE_MAGIC:
        return "sqlite"
    if start.startswith(PG_DUMP_MAGIC):
        return "pg_dump"
    if start.lstrip().startswith(b"{"):
        return "archive"
    raise BackupError("restore_not_a_backup", path=str(source))


def _sqlite_revision(source: Path) -> str | None:
    uri = f"{source.resolve().as_uri()}?mode=ro"
    try:
        with _closing(sqlite3.connect(uri, uri=True)) as connection:
            found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        raise BackupError("restore_not_a_backup", path=str(source)) from None
    if found is None:
        raise BackupError("restore_not_a_backup", path=str(source))
    return str(found[0])


def _pg(tool: str, engine: Engine, arguments: list[str]) -> None:
    """Run pg_dump or pg_restore on the engine's database; the password goes through the
    environment (PGPASSWORD), never on the command line where `ps` shows it."""
    program = shutil.which(tool)
    if program is None:
        raise ToolMissing("backup_tool_missing", tool=tool)
    url = engine.url.set(drivername="postgresql", password=None)
    environment = dict(os.environ)
    if engine.url.password is not None:
        environment["PGPASSWORD"] = str(engine.url.password)
    target = "--dbname=" + url.render_as_string(hide_password=False)
    done = subprocess.run(
        [program, target, *arguments], env=environment, capture_output=True, text=True
    )
    if done.returncode != 0:
        # the tool's own first line, not what a wrapper (Debian's pg_wrapper) said first
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        own = [line for line in lines if line.startswith(f"{tool}: ")] or lines[-1:]
        error = own[0].removeprefix(f"{tool}: ").removeprefix("error: ") if own else ""
        error = error or f"exit status {done.returncode}"
        if engine.url.password:
            error = error.replace(str(engine.url.password), "***")
        raise BackupError("backup_tool_failed", tool=tool, error=error)


def _dump_revision(source: Path) -> str | None:
    """The schema revision a pg_dump file holds, read by pg_restore without a database."""
    program = shutil.which("pg_restore")
    if program is None:
        raise ToolMissing("backup_tool_missing", tool="pg_restore")
    arguments = ["--data-only", "--table=alembic_version", "--file=-", str(source)]
    done = subprocess.run([program, *arguments], capture_output=True, text=True)
    lines = done.stdout.splitlines()
    for number, line in enumerate(lines[:-1]):
        if line.startswith("COPY ") and "alembic_version" in line:
            return lines[number + 1].strip() or None
    return None
