"""`huibao db backup` / `db restore`, and what protects a database across upgrades."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner
from docx import Document

from bot.cli import main
from storage.db import HEAD, _alembic_config, current_revision, make_engine
from tests.conftest import POSTGRES_URL, _postgres_unavailable
from tests.test_word_import import SIMPLE, docx_bytes

TABLES = ("department", "work_item", "period", "submission", "audit_event", "alembic_version")


def rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables that matter, in a stable order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: sorted(
                    (tuple(row) for row in connection.execute(sa.text(f"SELECT * FROM {table}"))),
                    key=repr,
                )
                for table in TABLES
            }
    finally:
        engine.dispose()


def compiled_text(cli: CliRunner, out: Path) -> list[str]:
    result = cli.invoke(main, ["compile", "2015-10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    document = Document(str(out))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return [paragraph.text for paragraph in document.paragraphs] + cells


@pytest.fixture
def filled(roster_cli: CliRunner, tmp_path: Path) -> CliRunner:
    """The example roster and an imported October 2015."""
    path = tmp_path / "十月.docx"
    path.write_bytes(docx_bytes(SIMPLE))
    result = roster_cli.invoke(main, ["import", str(path)])
    assert result.exit_code == 0, result.output
    return roster_cli


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[threading.Event]:
    """Another connection that keeps inserting rows until the test is done."""
    stop, started = threading.Event(), threading.Event()
    connection = sqlite3.connect(tmp_path / "cli.db", timeout=30, check_same_thread=False)
    connection.execute("CREATE TABLE churn (n INTEGER)")
    connection.commit()

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            connection.execute("INSERT INTO churn VALUES (?)", (n,))
            connection.commit()
            n += 1
            if n == 50:
                started.set()

    thread = threading.Thread(target=keep_writing)
    thread.start()
    started.wait()
    yield stop
    stop.set()
    thread.join()
    connection.close()


def test_a_backup_while_another_connection_writes_restores_identically(
    filled: CliRunner, writer: threading.Event, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = f"sqlite:///{tmp_path / 'cli.db'}"
    result = filled.invoke(main, ["db", "backup", str(tmp_path / "saved.db")])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"backed up to {tmp_path / 'saved.db'}"
    writer.set()  # the writer stops; the backup is a copy as of one moment
    assert [p.name for p in tmp_path.glob("saved.db*")] == ["saved.db"]  # one file
    with sqlite3.connect(tmp_path / "saved.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        churned = copy.execute("SELECT count(*), max(n) FROM churn").fetchone()
        assert churned[0] == churned[1] + 1  # every row up to one moment, none missing
    before = compiled_text(filled, tmp_path / "before.docx")

    restored = f"sqlite:///{tmp_path / 'restored' / 'new.db'}"
    monkeypatch.setenv("DATABASE_URL", restored)
    result = filled.invoke(main, ["db", "restore", str(tmp_path / "saved.db")])
    assert result.exit_code == 0, result.output
    assert f"restored from {tmp_path / 'saved.db'} (schema {HEAD} " in result.output
    assert rows(restored) == rows(original)
    assert compiled_text(filled, tmp_path / "after.docx") == before


def test_a_backup_never_overwrites_and_needs_a_database(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "there.db").write_text("mine")
    result = cli.invoke(main, ["db", "backup", str(tmp_path / "there.db")])
    assert result.exit_code == 2
    assert "exists already" in result.output and (tmp_path / "there.db").read_text() == "mine"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'nowhere.db'}")
    result = cli.invoke(main, ["db", "backup", str(tmp_path / "b.db")])
    assert result.exit_code == 2 and "does not exist" in result.output
    assert not (tmp_path / "nowhere.db").exists() and not (tmp_path / "b.db").exists()


def test_a_restore_into_a_database_with_tables_is_refused(
    filled: CliRunner, tmp_path: Path
) -> None:
    assert filled.invoke(main, ["db", "backup", str(tmp_path / "saved.db")]).exit_code == 0
    before = rows(f"sqlite:///{tmp_path / 'cli.db'}")
    result = filled.invoke(main, ["db", "restore", str(tmp_path / "saved.db")])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "not empty" in result.output and "alembic_version" in result.output
    assert rows(f"sqlite:///{tmp_path / 'cli.db'}") == before


def test_a_file_that_is_no_backup_is_refused(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = cli.invoke(main, ["db", "restore", str(tmp_path / "notes.txt")])
    assert result.exit_code == 2 and "is not a huibao backup" in result.output
    monkeypatch.setenv("DATABASE_URL", POSTGRES_URL)
    sqlite3.connect(tmp_path / "other.db").close()
    (tmp_path / "other.db").write_bytes(b"SQLite format 3\x00" + bytes(100))
    result = cli.invoke(main, ["db", "restore", str(tmp_path / "other.db")])
    assert result.exit_code == 2 and "SQLite backup" in result.output


def _stamp(url: str, revision: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


@pytest.mark.parametrize("command", [["run"], ["db", "upgrade"], ["roster", "show"]])
def test_a_database_newer_than_the_code_is_refused(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456:ABCdefGHIjklMNOpqrSTUvwxYZ0123456789")
    _stamp(f"sqlite:///{tmp_path / 'cli.db'}", "0099")
    result = cli.invoke(main, command)
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"the database schema 0099 is newer than this huibao ({HEAD}): upgrade huibao, or "
        "restore a backup made by this version into an empty database with huibao db restore."
    )
    assert current_revision(make_engine(f"sqlite:///{tmp_path / 'cli.db'}")) == "0099"


def at_0005_with_a_department(url: str) -> None:
    """A database as a huibao of migration 0005 left it, holding one department."""
    engine = make_engine(url)
    command.upgrade(_alembic_config(engine), "0005")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO department (code, name, position, active)"
                " VALUES ('o', '办', 0, :active)"
            ),
            {"active": True},
        )
    engine.dispose()


def test_upgrading_an_old_database_with_data_backs_it_up_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    at_0005_with_a_department(url)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    saved = list(tmp_path.glob(f"old.db.before-{HEAD}-*.bak"))
    assert len(saved) == 1
    assert result.stderr.strip() == f"backed up to {saved[0]} before the upgrade"
    with sqlite3.connect(saved[0]) as copy:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchone() == ("0005",)
        assert copy.execute("SELECT code FROM department").fetchall() == [("o",)]
    assert current_revision(make_engine(url)) == HEAD
    # up to date now: the next upgrade has nothing to keep
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0 and "backed up" not in result.output
    assert len(list(tmp_path.glob("*.bak"))) == 1


def test_restoring_an_old_backup_upgrades_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(_alembic_config(old), "0005")
    old.dispose()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    result = CliRunner().invoke(main, ["db", "restore", str(tmp_path / "old.db")])
    assert result.exit_code == 0, result.output
    assert "(schema 0005 when backed up)" in result.output
    assert current_revision(make_engine(f"sqlite:///{tmp_path / 'new.db'}")) == HEAD


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A database of the test's own on the local PostgreSQL, dropped afterwards."""
    with own_postgres_database() as url:
        yield url


@contextmanager
def own_postgres_database(suffix: str = "") -> Iterator[str]:
    """A database of its own on the local PostgreSQL (another `suffix` for another one in
    the same test), dropped afterwards; skips when PostgreSQL, pg_dump or pg_restore is
    missing."""
    reason = _postgres_unavailable()
    if reason:
        pytest.skip(reason=reason)
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip(reason="pg_dump and pg_restore are not on PATH")
    name = f"huibao_restore_{threading.get_native_id()}{suffix}"
    admin = sa.create_engine(
        "postgresql+psycopg://" + POSTGRES_URL.split("://", 1)[1].split("?")[0],
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    base = POSTGRES_URL.split("?")[0].rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def test_postgresql_round_trip_with_pg_dump(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_database: str
) -> None:
    """pg_dump of a database of its own, emptied, then pg_restore into it: every row back."""
    first = postgres_database
    monkeypatch.setenv("DATABASE_URL", first)
    filled = cli
    roster = Path(__file__).resolve().parent.parent / "examples" / "roster.toml"
    assert filled.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert filled.invoke(main, ["roster", "load", str(roster)]).exit_code == 0
    path = tmp_path / "十月.docx"
    path.write_bytes(docx_bytes(SIMPLE))
    assert filled.invoke(main, ["import", str(path)]).exit_code == 0
    before = rows(first)
    result = filled.invoke(main, ["db", "backup", str(tmp_path / "saved.dump")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "saved.dump").read_bytes().startswith(b"PGDMP")
    # the same database, emptied, takes the dump back
    engine = make_engine(first)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    result = filled.invoke(main, ["db", "restore", str(tmp_path / "saved.dump")])
    assert result.exit_code == 0, result.output
    assert rows(first) == before
    result = filled.invoke(main, ["db", "restore", str(tmp_path / "saved.dump")])
    assert result.exit_code == 2 and "not empty" in result.output
    # a dump of a newer huibao's database is refused before anything is restored
    _stamp(first, "0099")
    assert filled.invoke(main, ["db", "backup", str(tmp_path / "newer.dump")]).exit_code == 0
    engine = make_engine(first)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    result = filled.invoke(main, ["db", "restore", str(tmp_path / "newer.dump")])
    assert result.exit_code == 2 and "0099 is newer than this huibao" in result.output
    engine = make_engine(first)
    with engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == []
    engine.dispose()


@pytest.mark.parametrize("command", [["db", "backup"], ["db", "restore"]])
def test_the_commands_have_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output and "FILE" in result.output


def test_a_failed_pg_dump_says_why_leaves_no_file_and_no_password(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not shutil.which("pg_dump"):
        pytest.skip(reason="pg_dump is not on PATH")
    monkeypatch.setenv("DATABASE_URL", "postgresql://huibao:s3cret-pw@127.0.0.1:1/huibao")
    result = cli.invoke(main, ["db", "backup", str(tmp_path / "x.dump")])
    assert result.exit_code == 2
    assert result.output.startswith("pg_dump failed: ") and "port 1" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "s3cret-pw" not in result.output
    assert list(tmp_path.glob("x.dump*")) == []


def test_upgrading_an_old_postgresql_database_dumps_it_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_database: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", postgres_database)
    at_0005_with_a_department(postgres_database)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    name = postgres_database.rsplit("/", 1)[1]
    saved = list(tmp_path.glob(f"{name}.before-{HEAD}-*.dump"))
    assert len(saved) == 1 and saved[0].read_bytes().startswith(b"PGDMP")
    assert result.stderr.strip() == f"backed up to {saved[0]} before the upgrade"
    assert current_revision(make_engine(postgres_database)) == HEAD
