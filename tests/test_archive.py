"""`huibao export`, `import-archive` and `db copy`: an office's months leave one database
and arrive in another whole, and compile the same there."""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from docx import Document
from sqlmodel import Session

from bot.archive import compiled, export
from bot.cli import main
from storage.db import HEAD, current_revision, make_engine, upgrade
from tests.conftest import ROOT, bot_on
from tests.harness import Harness
from tests.test_backup import at_0005_with_a_department, postgres_database, writer
from tests.test_history import Huibao, huibao
from tests.test_office_workflow import (
    a_closed_september,
    a_liaison_is_revoked,
    an_approver_returns_then_approves,
    the_coordinator_returns_an_item,
)

__all__ = ["huibao", "postgres_database", "writer"]  # fixtures, used by name


def every_row(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but Alembic's, in a stable order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            metadata = sa.MetaData()
            metadata.reflect(connection)
            return {
                name: sorted((tuple(row) for row in connection.execute(sa.select(table))), key=repr)
                for name, table in metadata.tables.items()
                if name != "alembic_version"
            }
    finally:
        engine.dispose()


def months_compiled(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return compiled(session)
    finally:
        engine.dispose()


def url_of(harness: Harness) -> str:
    return harness.engine.url.render_as_string(hide_password=False)


async def an_office_with_history(harness: Harness) -> None:
    """Two months through the chat: September closed, October with a return, an
    approver's return and approval, and a revoked liaison."""
    await a_closed_september(harness)
    school, publicity, rights = (harness.double.user(i, "") for i in (4002, 4001, 4004))
    await the_coordinator_returns_an_item(harness, school)
    await an_approver_returns_then_approves(harness)
    await a_liaison_is_revoked(harness, rights, publicity)


def cli_on(url: str) -> Any:
    def run(*args: str) -> Any:
        return CliRunner().invoke(main, list(args), env={"DATABASE_URL": url})

    return run


@pytest.fixture
def empty_url(harness: Harness, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A new, empty database of the same kind as the bot's."""
    if harness.engine.dialect.name == "sqlite":
        return f"sqlite:///{tmp_path / 'imported' / 'huibao.db'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


async def test_an_export_holds_everything_and_imports_into_the_same_months(
    harness: Harness, huibao: Huibao, tmp_path: Path, empty_url: str
) -> None:
    await an_office_with_history(harness)
    folder = tmp_path / "export"
    result = huibao("export", str(folder))
    assert result.exit_code == 0, result.output
    before = every_row(url_of(harness))
    rows = sum(len(found) for found in before.values())
    assert f"exported to {folder}: {rows} rows in {len(before)} tables, 2 monthly" in result.output

    archive = json.loads((folder / "huibao-archive.json").read_text(encoding="utf-8"))
    assert archive["format"] == "huibao-archive" and archive["revision"] == HEAD
    assert set(archive["tables"]) == set(before)
    revisions = archive["tables"]["submission_revision"]
    assert {"submitted_at", "submitted_by", "progress", "plan"} <= set(revisions["columns"])
    assert {"return", "approve"} <= {
        row[archive["tables"]["audit_event"]["columns"].index("action")]
        for row in archive["tables"]["audit_event"]["rows"]
    }
    with (folder / "csv" / "submission.csv").open(encoding="utf-8-sig", newline="") as file:
        table = list(csv.reader(file))
    assert len(table) == len(before["submission"]) + 1  # the header, then one row each
    assert any("九月宣传推进" in cell for row in table for cell in row)
    assert sorted(p.name for p in (folder / "csv").iterdir()) == sorted(f"{t}.csv" for t in before)
    with (folder / "reports.csv").open(encoding="utf-8-sig", newline="") as file:
        reports = list(csv.reader(file))
    assert reports[0][:3] == ["month", "department", "key work item"]
    assert len(reports) == len(before["submission_revision"]) + 1
    [first] = [row for row in reports if row[-2] == "九月宣传推进"]
    assert first[:4] == ["2015-09", "宣传部", "青年马克思主义者培养工程", "1"]
    assert first[5] == "周宣 (4001)" and first[4].startswith("2015-10-02 10:")
    documents = sorted(p.name for p in (folder / "documents").iterdir())
    assert documents == [
        "2015年10月重点工作推进情况汇总表.docx",
        "2015年9月重点工作推进情况汇总表.docx",
    ]
    september = Document(str(folder / "documents" / documents[1]))
    assert any("九月宣传推进" in cell.text for cell in september.tables[0]._cells)

    assert cli_on(empty_url)("db", "upgrade").exit_code == 0  # empty tables are no data
    result = cli_on(empty_url)("import-archive", str(folder))
    assert result.exit_code == 0, result.output
    assert f"imported {folder}: {rows} rows in {len(before)} tables" in result.output
    assert every_row(empty_url) == before
    assert months_compiled(empty_url) == months_compiled(url_of(harness))
    again = cli_on(empty_url)("import-archive", str(folder))
    assert again.exit_code == 2 and "already holds data, nothing written" in again.output
    assert every_row(empty_url) == before


async def test_a_copy_from_sqlite_to_postgresql_runs_the_bot_there(
    sqlite_harness: Harness, tmp_path: Path, postgres_database: str
) -> None:
    harness = sqlite_harness
    await an_office_with_history(harness)
    source = url_of(harness)
    result = cli_on(source)("db", "copy", "--to", postgres_database)
    assert result.exit_code == 0, result.output
    assert "all 2 months compile identically on both" in result.output
    assert every_row(postgres_database) == every_row(source)
    assert months_compiled(postgres_database) == months_compiled(source)
    assert cli_on(source)("db", "copy", "--to", postgres_database).exit_code == 2  # not empty

    # the bot then runs on PostgreSQL: new rows get ids past the copied ones
    await harness.stop_bot()
    harness.engine = make_engine(postgres_database)
    try:
        await harness.start_bot()
        replies = await harness.coordinator().send("/period open 2015-11 2015-12-07 17:00")
        assert "2015-11" in replies[0].text
        assert replies.last.text == "已通知 5 位联络员。"  # their notices logged there
        replies = await harness.coordinator().send("/status 2015-10")
        assert "2015" in replies.last.text
        assert sorted(months_compiled(postgres_database)) == ["2015-09", "2015-10", "2015-11"]
    finally:
        await harness.stop_bot()
        harness.engine.dispose()


@pytest.fixture
async def sqlite_harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot on a SQLite file, whichever database the test's other fixtures use."""
    engine = make_engine(f"sqlite:///{tmp_path / 'office.db'}")
    upgrade(engine)
    try:
        async with bot_on(engine) as running:
            yield running
    finally:
        engine.dispose()


def test_an_export_while_another_connection_writes_is_one_moment(
    roster_cli: CliRunner, writer: threading.Event, tmp_path: Path
) -> None:
    result = roster_cli.invoke(main, ["export", str(tmp_path / "export")])
    assert result.exit_code == 0, result.output
    writer.set()
    archive = json.loads((tmp_path / "export" / "huibao-archive.json").read_text("utf-8"))
    churned = [row[0] for row in archive["tables"]["churn"]["rows"]]
    assert churned == list(range(len(churned)))  # every row up to one moment, none missing


def test_an_old_archive_is_imported_at_its_schema_and_upgraded(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = f"sqlite:///{tmp_path / 'old.db'}"
    at_0005_with_a_department(old)
    engine = make_engine(old)
    export(engine, tmp_path / "old-export")
    engine.dispose()
    new = f"sqlite:///{tmp_path / 'new.db'}"
    result = cli.invoke(
        main, ["import-archive", str(tmp_path / "old-export")], env={"DATABASE_URL": new}
    )
    assert result.exit_code == 0, result.output
    engine = make_engine(new)
    assert current_revision(engine) == HEAD
    engine.dispose()
    assert every_row(new)["department"] == every_row(old)["department"]


def test_refusals_say_why_and_change_nothing(roster_cli: CliRunner, tmp_path: Path) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    result = roster_cli.invoke(main, ["export", str(full)])
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == f"{full} is not an empty folder and was left alone: name a new folder."
    )
    assert [p.name for p in full.iterdir()] == ["keep.txt"]

    junk = tmp_path / "junk.json"
    junk.write_text('{"format": "something else"}')
    result = roster_cli.invoke(
        main, ["import-archive", str(junk)], env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    )
    assert result.exit_code == 2 and "is not a huibao export" in result.output

    assert roster_cli.invoke(main, ["export", str(tmp_path / "e")]).exit_code == 0
    result = roster_cli.invoke(main, ["import-archive", str(tmp_path / "e")])  # its own data
    assert result.exit_code == 2 and "already holds data, nothing written" in result.output
    archive = tmp_path / "e" / "huibao-archive.json"
    content = json.loads(archive.read_text("utf-8"))
    content["revision"] = "0099"
    archive.write_text(json.dumps(content), "utf-8")
    fresh = f"sqlite:///{tmp_path / 'y.db'}"
    result = roster_cli.invoke(main, ["import-archive", str(archive)], env={"DATABASE_URL": fresh})
    assert result.exit_code == 2 and "0099 is newer than this huibao" in result.output
    with sqlite3.connect(tmp_path / "y.db") as connection:
        assert connection.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)

    same = roster_cli.invoke(main, ["db", "copy", "--to", f"sqlite:///{tmp_path / 'cli.db'}"])
    assert same.exit_code == 2 and "already uses" in same.output


@pytest.mark.parametrize("command", [["export"], ["import-archive"], ["db", "copy"]])
def test_the_commands_have_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_without_pg_dump_a_postgresql_backup_is_an_archive_that_restores(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_database: str
) -> None:
    office = cli_on(postgres_database)
    assert office("db", "upgrade").exit_code == 0
    assert office("roster", "load", str(ROOT / "examples" / "roster.toml")).exit_code == 0
    assert office("period", "open", "2026-11").exit_code == 0
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no pg_dump, no pg_restore
    result = office("db", "backup", str(tmp_path / "saved.dump"))
    assert result.exit_code == 0, result.output
    assert "pg_dump is not installed, so this backup is a huibao archive" in result.output
    # an archive restores into either kind of database: here a SQLite file
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    result = cli_on(restored)("db", "restore", str(tmp_path / "saved.dump"))
    assert result.exit_code == 0, result.output
    assert every_row(restored) == every_row(postgres_database)
    assert months_compiled(restored) == months_compiled(postgres_database)
