"""Schema migrations and the storage conventions every table relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage.db import (
    HEAD,
    SchemaError,
    current_revision,
    ensure_schema,
    head_revision,
    make_engine,
    session_scope,
)
from storage.models import Period


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_the_newest_migration_is_the_one_the_bot_checks_at_start() -> None:
    assert head_revision() == HEAD, "a new migration: name it in storage.db.HEAD"


def test_out_of_date_schema_is_refused_or_upgraded(tmp_path: Path) -> None:
    empty = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with pytest.raises(SchemaError, match="huibao db upgrade"):
        ensure_schema(empty, auto_upgrade=False)
    ensure_schema(empty, auto_upgrade=True)
    assert current_revision(empty) == head_revision()


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    made = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with made.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_times_come_back_as_the_same_utc_moment(engine: Engine) -> None:
    due = datetime(2015, 11, 5, 17, 0, tzinfo=timezone(timedelta(hours=8)))
    with session_scope(engine) as db:
        db.add(Period(month="2015-10", due_at=due))
    with session_scope(engine) as db:
        stored = db.get(Period, 1)
        assert stored is not None and stored.due_at == due
        assert stored.due_at.tzinfo == UTC
