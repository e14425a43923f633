"""The office's data as plain tables: read from one database, written into an empty one.

One routine serves `huibao export` / `import-archive` (through JSON, bot/archive.py) and
`huibao db copy` (database to database, SQLite to PostgreSQL): every table the schema
has, every row, in foreign-key order. Tables are read from the database itself, not
from the models, so an archive made by an older huibao is written at its own schema
revision and then migrated like any old database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.core.texts import TerminalError
from storage.db import HEAD, refuse_newer, revision_in, snapshot_engine, upgrade

FORMAT = "huibao-archive"  # an archive's JSON says so, with its VERSION
VERSION = 1
VERSION_TABLE = "alembic_version"  # Alembic's; the revision travels beside the tables
BATCH = 500  # rows per INSERT


class ArchiveError(TerminalError):
    """An archive or a copy that cannot be written; the target was left as it was."""


@dataclass(frozen=True)
class Table:
    """One table's rows, in primary-key order; values as the database driver gives them
    (datetimes naive UTC, JSON columns as lists and dicts)."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Tables:
    revision: str
    tables: tuple[Table, ...]

    def counts(self) -> dict[str, int]:
        return {table.name: len(table.rows) for table in self.tables}


@contextmanager
def snapshot(engine: Engine) -> Iterator[sa.Connection]:
    """A connection whose reads all see one moment of the database while the bot goes
    on writing (read only: rolled back at the end). PostgreSQL needs REPEATABLE READ for
    that; SQLite's deferred BEGIN (storage.db.snapshot_engine) holds it by itself."""
    reader = snapshot_engine(engine)
    try:
        with reader.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
                )
            try:
                yield connection
            finally:
                connection.rollback()
    finally:
        if reader is not engine:
            reader.dispose()


def read_tables(connection: sa.Connection) -> Tables:
    """Every row of every table (a `snapshot` connection gives one moment's copy)."""
    revision = revision_in(connection)
    if revision is None:
        raise ArchiveError("archive_no_schema")
    tables = tuple(
        Table(table.name, tuple(table.columns.keys()), _rows(connection, table))
        for table in _reflect(connection).sorted_tables
        if table.name != VERSION_TABLE
    )
    return Tables(revision, tables)


def write_tables(engine: Engine, data: Tables) -> dict[str, int]:
    """Write `data` into a database that holds no rows, at the data's own revision, then
    migrate it to HEAD; the rows written, per table. All rows go in one transaction."""
    refuse_newer(data.revision)
    if has_rows(engine):
        raise ArchiveError("archive_target_not_empty", url=repr(engine.url))
    _drop_empty_tables(engine)
    upgrade(engine, data.revision)
    with engine.begin() as connection:
        metadata = _reflect(connection)
        for table in data.tables:
            target = metadata.tables.get(table.name)
            if target is None:
                raise ArchiveError("archive_unknown_table", table=table.name)
            _insert(connection, target, table)
        if connection.dialect.name == "postgresql":
            _advance_sequences(connection, metadata)
    if data.revision != HEAD:
        upgrade(engine)
    return data.counts()


def has_rows(engine: Engine) -> bool:
    """Whether any table other than Alembic's holds a row."""
    with engine.connect() as connection:
        metadata = _reflect(connection)
        return any(
            connection.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
            for name, table in metadata.tables.items()
            if name != VERSION_TABLE
        )


def _reflect(connection: sa.Connection) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(connection)
    return metadata


def _rows(connection: sa.Connection, table: sa.Table) -> tuple[tuple[Any, ...], ...]:
    order = list(table.primary_key.columns) or list(table.columns)
    return tuple(tuple(row) for row in connection.execute(sa.select(table).order_by(*order)))


def _insert(connection: sa.Connection, target: sa.Table, table: Table) -> None:
    unknown = [name for name in table.columns if name not in target.columns]
    if unknown:
        raise ArchiveError("archive_unknown_column", table=table.name, column=unknown[0])
    types = [target.columns[name].type for name in table.columns]
    for start in range(0, len(table.rows), BATCH):
        batch = [
            {
                name: from_json(value, kind)
                for name, value, kind in zip(table.columns, row, types, strict=True)
            }
            for row in table.rows[start : start + BATCH]
        ]
        connection.execute(target.insert(), batch)


def _advance_sequences(connection: sa.Connection, metadata: sa.MetaData) -> None:
    """Rows came with their ids: move each id sequence past them, or the next new row
    would collide with a copied one."""
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            sequence = connection.execute(
                sa.select(sa.func.pg_get_serial_sequence(table.name, column.name))
            ).scalar()
            if sequence is None:
                continue
            highest = connection.execute(sa.select(sa.func.max(column))).scalar()
            if highest is not None:
                connection.execute(sa.select(sa.func.setval(sequence, highest)))


def _drop_empty_tables(engine: Engine) -> None:
    """An empty database may already have been migrated (`huibao db upgrade`) to another
    revision than the data's: its empty tables are dropped so the data's own schema can
    be built. Only called once has_rows said there is nothing in them."""
    with engine.begin() as connection:
        _reflect(connection).drop_all(connection)


# --- values to and from JSON -----------------------------------------------------------


def to_json(value: Any) -> Any:
    """A column's value as JSON holds it: times and days in ISO 8601 (times are UTC)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def from_json(value: Any, column_type: sa.types.TypeEngine[Any]) -> Any:
    """A value as the column wants it: ISO text (from an archive) back to a time or day."""
    if isinstance(value, str) and isinstance(column_type, sa.DateTime):
        return datetime.fromisoformat(value)
    if isinstance(value, str) and isinstance(column_type, sa.Date):
        return date.fromisoformat(value)
    return value


def archive_json(data: Tables) -> str:
    """The tables as an archive's JSON: complete, and what `load_archive` reads back."""
    content: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "revision": data.revision,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "times": "UTC",
        "tables": {
            table.name: {
                "columns": list(table.columns),
                "rows": [[to_json(value) for value in row] for row in table.rows],
            }
            for table in data.tables
        },
    }
    return json.dumps(content, ensure_ascii=False)  # no indent: C speed (years of rows)


def load_archive(path: Path) -> Tables:
    """An archive's tables (values as JSON has them: write_tables types them)."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
        if content.get("format") != FORMAT:
            raise ValueError("not an archive")
        if content.get("version") != VERSION:
            raise ArchiveError("archive_version", version=content.get("version"))
        tables = tuple(
            Table(name, tuple(table["columns"]), tuple(tuple(row) for row in table["rows"]))
            for name, table in content["tables"].items()
        )
        return Tables(str(content["revision"]), tables)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
        raise ArchiveError("not_an_archive", path=str(path)) from None


def write_archive(engine: Engine, target: Path) -> None:
    """The whole database as one archive file (a backup where pg_dump is missing)."""
    with snapshot(engine) as connection:
        data = read_tables(connection)
    target.write_text(archive_json(data), encoding="utf-8")
