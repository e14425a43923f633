"""`huibao check` against the Bot API double: all ✓, then each failure made on purpose
gives its ✗ line (cause and fix) and a non-zero exit, never the token or a traceback."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from bot.check import NAMES
from bot.cli import main
from bot.core import document
from bot.core.check import Line, Status, exit_code, next_reminder
from bot.core.schedule import ReminderSchedule
from bot.core.texts import terminal
from bot.double import BotApiDouble
from storage.db import HEAD
from storage.models import utcnow

TOKEN = "123456:TEST-token"


@pytest.fixture
async def double() -> AsyncIterator[BotApiDouble]:
    async with BotApiDouble(token=TOKEN, expect_violations=True) as running:
        yield running


@pytest.fixture
def ready(
    roster_cli: CliRunner, double: BotApiDouble, monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    """A deployment with nothing wrong: the token, the roster, this month open."""
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("BOT_API_BASE_URL", double.base_url)
    due = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%d 17:00")
    month = utcnow().strftime("%Y-%m")
    opened = roster_cli.invoke(main, ["period", "open", month, "--due", due])
    assert opened.exit_code == 0, opened.output
    return roster_cli


async def check(cli: CliRunner) -> Result:
    """`huibao check` (it runs its own event loop, so in a thread beside the double's)."""
    return await asyncio.to_thread(cli.invoke, main, ["check"])


def marked(result: Result, mark: str) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith(mark)]


def named(name: str) -> str:
    return terminal(NAMES[name])


def assert_clean(result: Result) -> None:
    assert TOKEN not in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


async def test_all_good_against_the_double(ready: CliRunner) -> None:
    result = await check(ready)
    assert result.exit_code == 0, result.output
    assert marked(result, "✗") == []
    assert_clean(result)
    shown = {line.split(" ", 1)[1].split(":")[0] for line in marked(result, "✓")}
    wanted = ["settings", "telegram", "token", "database", "migration", "roster", "period"]
    assert {named(name) for name in [*wanted, "reminders", "template"]} <= shown
    assert "next for" in result.output and HEAD in result.output


async def test_all_good_on_each_backend(
    engine: Engine, double: BotApiDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("BOT_API_BASE_URL", double.base_url)
    runner = CliRunner()
    roster = Path(__file__).resolve().parent.parent / "examples" / "roster.toml"
    assert runner.invoke(main, ["roster", "load", str(roster)]).exit_code == 0
    result = await check(runner)
    assert result.exit_code == 0, result.output
    assert marked(result, f"✓ {named('database')}: {engine.url.drivername}")
    assert marked(result, f"✓ {named('roster')}")


async def test_a_template_that_lost_a_field(
    ready: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from docx import Document

    copy = Document(str(document.DEFAULT_TEMPLATE))
    for table in copy.tables:
        for row in table.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    for run in paragraph.runs:
                        run.text = run.text.replace("r.title", "r.titel")
    broken = tmp_path / "summary.docx"
    copy.save(str(broken))
    monkeypatch.setattr(document, "DEFAULT_TEMPLATE", broken)
    result = await check(ready)
    assert result.exit_code != 0
    failed = marked(result, "✗")
    assert len(failed) == 1 and "r.title" in failed[0] and "r.titel" in failed[0], result.output


async def test_webhook_info_when_a_webhook_is_configured(
    ready: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://example.org/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret")
    result = await check(ready)
    line = [row for row in result.output.splitlines() if row[2:].startswith(named("webhook"))]
    assert len(line) == 1 and "not registered" in line[0] and "pending" in line[0], result.output
    assert line[0].startswith("!")  # registered by `huibao run`: a warning, not a failure
    assert result.exit_code == 0, result.output


async def test_a_webhook_without_its_secret(
    ready: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://example.org/hook")
    result = await check(ready)
    assert result.exit_code != 0
    assert marked(result, "✗") == [f"✗ {named('webhook')}: {terminal('webhook_needs_secret')}"]


async def test_the_proxy_is_named_without_its_password(
    ready: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through HTTPS_PROXY when set (aiohttp's trust_env): here a proxy that is not
    there, so the server cannot be reached, and the line says so."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://user:pr0xypass@127.0.0.1:{closed}")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("no_proxy", raising=False)
    result = await check(ready)
    assert result.exit_code != 0
    failed = marked(result, "✗")
    assert len(failed) == 1 and named("telegram") in failed[0], result.output
    assert "pr0xypass" not in result.output


async def test_a_bad_token(ready: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "555:WRONG-token-value"
    monkeypatch.setenv("BOT_TOKEN", wrong)
    result = await check(ready)
    assert result.exit_code != 0
    assert marked(result, "✗") == [f"✗ {named('token')}: {terminal('token_rejected')}"]
    assert wrong not in result.output
    assert_clean(result)


async def test_no_token(ready: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_TOKEN")
    result = await check(ready)
    assert result.exit_code != 0
    assert marked(result, "✗") == [f"✗ {named('token')}: {terminal('token_missing')}"]


async def test_telegram_unreachable(ready: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    monkeypatch.setenv("BOT_API_BASE_URL", f"http://127.0.0.1:{closed}/bot")
    result = await check(ready)
    assert result.exit_code != 0
    failed = marked(result, "✗")
    assert len(failed) == 1 and named("telegram") in failed[0], result.output
    assert "HTTPS_PROXY" in failed[0]
    assert_clean(result)
    assert marked(result, f"✓ {named('database')}")  # the rest is still checked


async def test_database_unreachable_sqlite(
    ready: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}")  # a folder: cannot be opened
    result = await check(ready)
    assert result.exit_code != 0
    failed = marked(result, "✗")
    assert len(failed) == 1 and named("database") in failed[0], result.output
    assert "DATABASE_URL" in failed[0]
    assert_clean(result)


async def test_no_sqlite_file_yet(
    ready: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'nowhere' / 'huibao.db'}")
    result = await check(ready)
    assert result.exit_code != 0
    failed = marked(result, "✗")
    assert len(failed) == 1 and "huibao db upgrade" in failed[0], result.output
    assert not (tmp_path / "nowhere").exists()  # a check makes nothing


async def test_database_unreachable_postgres(
    ready: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    url = f"postgresql://huibao:pa55word@127.0.0.1:{closed}/huibao"
    monkeypatch.setenv("DATABASE_URL", url)
    result = await check(ready)
    assert result.exit_code != 0
    failed = marked(result, "✗")
    assert len(failed) == 1 and named("database") in failed[0], result.output
    assert "pa55word" not in result.output
    assert_clean(result)


async def test_migration_behind(ready: CliRunner, tmp_path: Path) -> None:
    engine = sa.create_engine(os.environ["DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0005'"))
    engine.dispose()
    result = await check(ready)
    assert result.exit_code != 0
    expected = terminal("schema_mismatch", current="0005", head=HEAD)
    assert marked(result, "✗") == [f"✗ {named('migration')}: {expected}"]
    assert "huibao db upgrade" in expected


async def test_template_broken(
    ready: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "summary.docx"
    broken.write_bytes(b"not a Word document")
    monkeypatch.setattr(document, "DEFAULT_TEMPLATE", broken)
    result = await check(ready)
    assert result.exit_code != 0
    failed = marked(result, "✗")
    assert len(failed) == 1 and named("template") in failed[0], result.output
    assert "summary.docx" in failed[0] and "templates/document/" in failed[0]


async def test_no_roster_and_no_period(
    cli: CliRunner, double: BotApiDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("BOT_API_BASE_URL", double.base_url)
    result = await check(cli)
    assert result.exit_code != 0
    assert marked(result, "✗") == [f"✗ {named('roster')}: {terminal('check_roster_none')}"]
    assert marked(result, f"! {named('period')}")  # between months: a warning


async def test_bad_settings_are_one_line(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMEZONE", "Mars/Olympus")
    result = await check(cli)
    assert result.exit_code != 0
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(f"✗ {named('settings')}") and "TIMEZONE" in result.output


async def test_chinese_terminal(ready: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    result = await check(ready)
    assert result.exit_code == 0, result.output
    assert "✓ 令牌：@" in result.output


def test_help() -> None:
    result = CliRunner().invoke(main, ["check", "--help"])
    assert result.exit_code == 0
    assert "✓" in result.output


# --- the pure core -----------------------------------------------------------------


def test_warnings_do_not_fail() -> None:
    assert exit_code([Line("a", Status.OK), Line("b", Status.WARN)]) == 0
    assert exit_code([Line("a", Status.OK), Line("b", Status.FAIL, "why")]) == 1
    assert exit_code([]) == 0


def test_next_reminder_is_the_first_slot_after_now() -> None:
    schedule = ReminderSchedule.parse("Asia/Shanghai", "-3d,-1d,0d", "09:00", "off")
    due = utcnow().replace(second=0, microsecond=0) + timedelta(days=20)
    found = next_reminder(schedule, due, utcnow())
    assert found is not None and utcnow() < found < due
    overdue = next_reminder(schedule, utcnow() - timedelta(days=2), utcnow())
    assert overdue is not None and utcnow() < overdue <= utcnow() + timedelta(days=8)
