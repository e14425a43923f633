"""A backup taken while fifty liaisons submit through the chat, restored into an empty
database (issue 16, "Done when"): what the backup holds is whole, and a backup taken once
they are done brings back every submission with every month compiling identically."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from bot.cli import main
from storage.backup import backup
from storage.db import make_engine, upgrade
from tests.busy_office import (
    CLOSED_MONTH,
    LIAISONS,
    OPEN_MONTH,
    busy_month,
    item_title,
    office,
    snapshot,
)
from tests.test_backup import own_postgres_database

AFTER, HELD = 20, 5  # the mid-flight backup starts after 20 submissions; 5 wait for it


@dataclass
class Backend:
    """The live database and a way to get empty ones, on one kind of database."""

    url: str
    empty: Callable[[str], str]  # a name -> the URL of an empty database of its own

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A deployer's database: a SQLite file, or a PostgreSQL database of its own (pg_dump
    takes a whole database, so not a schema of a shared one as the `engine` fixture has)."""
    with ExitStack() as stack:
        if request.param == "postgres":
            url = stack.enter_context(own_postgres_database())
            yield Backend(url, lambda name: stack.enter_context(own_postgres_database(f"_{name}")))
        else:
            yield Backend(
                f"sqlite:///{tmp_path / 'live' / 'huibao.db'}",
                lambda name: f"sqlite:///{tmp_path / name / 'huibao.db'}",
            )


def backup_midway(url: str, target: Path) -> Path:
    """What `huibao db backup FILE` does (bot/cli.py db_backup), on an engine of its own.
    Not the command in a process of its own: one takes seconds to start, and by then
    the liaisons would be done."""
    engine = make_engine(url)
    try:
        return backup(engine, target)
    finally:
        engine.dispose()


def backup_command(monkeypatch: pytest.MonkeyPatch, url: str, target: Path) -> Path:
    """`huibao db backup FILE` of the database at `url`."""
    with monkeypatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        result = CliRunner().invoke(main, ["db", "backup", str(target)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"backed up to {target}"
    return target


def restore_command(monkeypatch: pytest.MonkeyPatch, url: str, source: Path) -> None:
    """`huibao db restore FILE` into the empty database at `url`."""
    with monkeypatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        result = CliRunner().invoke(main, ["db", "restore", str(source)])
    assert result.exit_code == 0, result.output


def integrity(path: Path) -> str:
    with closing(sqlite3.connect(path)) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def sqlite_file(url: str) -> Path:
    return Path(sa.engine.make_url(url).database or "")


async def test_a_backup_while_fifty_liaisons_submit_restores_whole_and_after_them_all(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(backend.url)
    upgrade(engine)
    suffix = "db" if backend.is_sqlite else "dump"
    async with office(engine, tmp_path) as busy:
        midway = await busy_month(
            busy,
            lambda: backup_midway(backend.url, tmp_path / f"midway.{suffix}"),
            after=AFTER,
            held=HELD,
        )
        done = backup_command(monkeypatch, backend.url, tmp_path / f"done.{suffix}")
        live = snapshot(engine)
    engine.dispose()
    assert len(live.submitted(CLOSED_MONTH)) == len(live.submitted(OPEN_MONTH)) == LIAISONS
    for month in (CLOSED_MONTH, OPEN_MONTH):  # each document has every department's row
        text = "\n".join(live.documents[month])
        assert all(item_title(i) in text for i in range(LIAISONS))
    if backend.is_sqlite:
        assert integrity(midway) == integrity(done) == "ok"

    # The mid-flight backup: the month as of one moment, each submission in it whole.
    restored = backend.empty("midway")
    restore_command(monkeypatch, restored, midway)
    if backend.is_sqlite:
        assert integrity(sqlite_file(restored)) == "ok"
    then = snapshot(restored)
    assert then.of(CLOSED_MONTH) == live.of(CLOSED_MONTH)
    assert then.documents[CLOSED_MONTH] == live.documents[CLOSED_MONTH]
    assert all(report.whole for report in then.submissions)
    handed_in = then.submitted(OPEN_MONTH)
    assert AFTER <= len(handed_in) <= LIAISONS - HELD
    assert set(handed_in) <= set(live.submitted(OPEN_MONTH))  # each exactly as it stands now

    # After all fifty: every submission there, every month compiling identically.
    restored = backend.empty("done")
    restore_command(monkeypatch, restored, done)
    if backend.is_sqlite:
        assert integrity(sqlite_file(restored)) == "ok"
    assert snapshot(restored) == live
