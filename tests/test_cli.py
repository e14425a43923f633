"""The `huibao` command as an operator uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from docx import Document
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from bot.cli import main
from bot.core.document import DEFAULT_TEMPLATE
from storage.db import current_revision, head_revision, make_engine, upgrade
from tests.test_summary import rewrite_part

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["db"],
        ["db", "upgrade"],
        ["roster"],
        ["roster", "load"],
        ["roster", "show"],
        ["invite"],
        ["period"],
        ["period", "remind"],
        ["period", "open"],
        ["period", "close"],
        ["period", "due"],
        ["period", "reopen"],
        ["period", "list"],
        ["compile"],
        ["stats"],
        ["demo"],
        ["audit"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_roster_load_show_invite_and_periods(cli: CliRunner) -> None:
    result = cli.invoke(main, ["roster", "load", str(ROOT / "examples" / "roster.toml")])
    assert result.exit_code == 0, result.output
    assert "13 key work items" in result.output
    shown = cli.invoke(main, ["roster", "show"]).output
    assert "团的制度建设  —  办公室、组织部" in shown

    link = cli.invoke(main, ["invite", "org"])
    assert link.exit_code == 0
    assert link.output.startswith("https://t.me/huibao_test_bot?start=")
    assert cli.invoke(main, ["invite", "nope"]).exit_code == 2

    opened = cli.invoke(main, ["period", "open", "2015-10", "--due", "2015-11-05 17:00"])
    assert "due 2015-11-05 17:00" in opened.output
    assert "2015-10  due 2015-11-05 17:00 Thu  open" in cli.invoke(main, ["period", "list"]).output
    assert cli.invoke(main, ["period", "close", "2015-10"]).exit_code == 0
    assert "closed" in cli.invoke(main, ["period", "list"]).output


def test_bad_input_is_one_clear_line(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[departments]]\ncode = "A B"\nname = "x"\n', encoding="utf-8")
    result = cli.invoke(main, ["roster", "load", str(bad)])
    assert result.exit_code == 2 and "departments[0].code" in result.output
    result = cli.invoke(main, ["period", "open", "2015-13"])
    assert result.exit_code == 2 and "2015-10" in result.output
    result = cli.invoke(main, ["period", "open", "2015-10", "--due", "tomorrow"])
    assert result.exit_code == 2 and "2015-11-05 17:00" in result.output


def test_a_database_of_another_version_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    import sqlalchemy as sa

    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f00d'"))
    result = cli.invoke(main, ["roster", "show"])
    assert result.exit_code == 2
    assert "huibao db upgrade" in result.output or "f00d" in result.output


def test_period_due_and_reopen_match_the_chat(cli: CliRunner) -> None:
    cli.invoke(main, ["roster", "load", str(ROOT / "examples" / "roster.toml")])
    cli.invoke(main, ["period", "open", "2015-10", "--due", "2015-11-05 17:00"])
    result = cli.invoke(main, ["period", "open", "2015-10"])
    assert result.output.strip() == "period 2015-10 is already open, due 2015-11-05 17:00 Thu"
    result = cli.invoke(main, ["period", "due", "2015-10", "2015-11-06 17:30"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "period 2015-10 is now due 2015-11-06 17:30 Fri"
    assert result.stderr.strip() == (
        "⚠ that time has passed, so every submission from now on counts as late."
    )
    assert cli.invoke(main, ["period", "close", "2015-10"]).exit_code == 0
    result = cli.invoke(main, ["period", "close", "2015-10"])
    assert result.output.strip() == "period 2015-10 is already closed"
    result = cli.invoke(main, ["period", "reopen", "2015-10"])
    assert result.stdout.strip() == "period 2015-10 is open again, due 2015-11-06 17:30 Fri"
    assert "counts as late" in result.stderr
    assert "2015-10  due 2015-11-06 17:30 Fri  open" in cli.invoke(main, ["period", "list"]).output

    for args, expected in (
        (["period", "reopen", "2015-09"], "there is no period 2015-09"),
        (["period", "due", "2015-09", "2015-10-05 17:00"], "there is no period 2015-09"),
        (["period", "due", "2015-10", "next friday"], "2015-11-05 17:00"),
        (["period", "close", "15-10"], "2015-10"),
    ):
        result = cli.invoke(main, args)
        assert result.exit_code == 2 and expected in result.output, (args, result.output)


def test_compile_writes_the_summary(cli: CliRunner, tmp_path: Path) -> None:
    cli.invoke(main, ["roster", "load", str(ROOT / "examples" / "roster.toml")])
    cli.invoke(main, ["period", "open", "2015-10", "--due", "2015-11-05 17:00"])
    out = tmp_path / "reports" / "october.docx"
    result = cli.invoke(main, ["compile", "2015-10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    path_line, tally_line = result.output.strip().splitlines()
    assert path_line == str(out)
    assert tally_line.startswith("submitted 0/13 key work items; not submitted: 团的制度建设、")
    assert tally_line.endswith("(draft)")
    table = Document(str(out)).tables[0]
    assert len(table.rows) == 1 + 13
    assert [p.text for p in table.rows[13].cells[2].paragraphs] == ["（未报送）"]

    default = cli.invoke(main, ["compile", "2015-10"])  # ./out/<the document's name>
    assert default.exit_code == 0, default.output
    written = tmp_path / "out" / "2015年10月重点工作推进情况汇总表.docx"
    assert default.output.splitlines()[0] == str(Path("out") / written.name)
    assert Document(str(written)).tables[0].rows[1].cells[1].text == "团的制度建设"
    into_folder = cli.invoke(main, ["compile", "2015-10", "--out", str(tmp_path / "reports")])
    assert (tmp_path / "reports" / written.name).is_file(), into_folder.output


def test_compile_refuses_unknown_months_and_broken_templates(
    cli: CliRunner, tmp_path: Path
) -> None:
    cli.invoke(main, ["roster", "load", str(ROOT / "examples" / "roster.toml")])
    cli.invoke(main, ["period", "open", "2015-10"])
    result = cli.invoke(main, ["compile", "2015-09"])
    assert result.exit_code == 2 and "there is no period 2015-09" in result.output
    result = cli.invoke(main, ["compile", "October"])
    assert result.exit_code == 2 and "2015-10" in result.output
    broken = tmp_path / "broken.docx"
    rewrite_part(DEFAULT_TEMPLATE, broken, "word/document.xml", "{{ r.title }}", "{{ r.titel }}")
    result = cli.invoke(main, ["compile", "2015-10", "--template", str(broken)])
    assert result.exit_code == 2 and "r.titel" in result.output
    assert not (tmp_path / "out").exists()


def test_period_reminder_offsets(cli: CliRunner) -> None:
    cli.invoke(main, ["roster", "load", str(ROOT / "examples" / "roster.toml")])
    cli.invoke(main, ["period", "open", "2015-10"])
    result = cli.invoke(main, ["period", "remind", "2015-10", "--offsets", "-2d,-4h,0d"])
    assert result.exit_code == 0 and "reminds at -2d,-4h,0d" in result.output
    result = cli.invoke(main, ["period", "remind", "2015-10", "--offsets", "-3w"])
    assert result.exit_code == 2 and "-3d,-1d,0d" in result.output
    result = cli.invoke(main, ["period", "remind", "2015-10", "--offsets", "default"])
    assert "default offsets" in result.output


def test_the_command_speaks_chinese_on_a_chinese_or_plain_terminal(
    cli: CliRunner, tmp_path: Path
) -> None:
    for env in ({"LANG": "zh_CN.UTF-8"}, {"LANG": "C.UTF-8"}):
        result = cli.invoke(
            main, ["roster", "load", str(ROOT / "examples" / "roster.toml")], env=env
        )
        assert result.exit_code == 0 and result.output.startswith("名册已载入："), result.output
    zh = {"LANG": "zh_CN.UTF-8"}
    opened = cli.invoke(main, ["period", "open", "2015-10", "--due", "2015-11-05 17:00"], env=zh)
    assert opened.stdout.strip() == "2015-10 填报期已开放，截止时间 2015-11-05 17:00 周四"
    assert opened.stderr.strip() == (
        "⚠ 截止时间已过，此后的提交都会记为逾期。"
        '如需延期：huibao period due 2015-10 "年-月-日 时:分"'
    )
    listed = cli.invoke(main, ["period", "list"], env=zh).output
    assert listed.strip() == "2015-10  截止 2015-11-05 17:00 周四  开放"
    compiled = cli.invoke(main, ["compile", "2015-10"], env=zh)
    assert compiled.output.splitlines()[1].startswith(
        "已报送 0/13 项重点工作；未报送：团的制度建设、"
    )

    bad = tmp_path / "bad.toml"
    bad.write_text('[[departments]]\ncode = "A B"\nname = "x"\n', encoding="utf-8")
    result = cli.invoke(main, ["roster", "load", str(bad)], env=zh)
    assert result.exit_code == 2
    assert result.output.strip() == "departments[0].code：“A B”只能由小写字母、数字、_ 或 - 组成"
    result = cli.invoke(main, ["period", "close", "2015-13"], env=zh)
    assert (
        result.exit_code == 2 and result.output.strip() == "月份格式应为 2015-10，而不是“2015-13”"
    )
    result = cli.invoke(main, ["invite", "nope"], env=zh)
    assert result.exit_code == 2 and "没有代码为“nope”的在用部门" in result.output
    result = cli.invoke(main, ["run"], env={**zh, "BOT_TOKEN": ""})
    assert (
        result.exit_code == 2
        and "未设置 BOT_TOKEN" in result.output
        and "@BotFather" in result.output
    )


async def _invite(tmp_path: Path, **env: str) -> tuple[int, str]:
    """`huibao invite org` in a terminal, with the example roster loaded."""
    import asyncio

    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    full = {
        **clean,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'invite.db'}",
        **env,
    }
    roster = str(ROOT / "examples" / "roster.toml")
    for args in (["db", "upgrade"], ["roster", "load", roster], ["invite", "org"]):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            *args,
            cwd=str(tmp_path),
            env=full,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_invite_with_a_rejected_token_says_so_without_the_token(
    tmp_path: Path, level: str
) -> None:
    from bot.double import BotApiDouble

    wrong = "555:WRONG-token-value"
    async with BotApiDouble(token="123456:TEST-token", expect_violations=True) as double:
        code, output = await _invite(
            tmp_path, BOT_TOKEN=wrong, BOT_API_BASE_URL=double.base_url, LOG_LEVEL=level
        )
    assert code == 2, output
    assert wrong not in output
    assert "Traceback" not in output and "Unclosed" not in output
    assert [line for line in output.splitlines() if line.startswith("BOT_TOKEN")] == [
        terminal_line("token_rejected")
    ]


async def test_invite_without_network_names_bot_username(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    code, output = await _invite(
        tmp_path, BOT_TOKEN="123456:TEST-token", BOT_API_BASE_URL=f"http://127.0.0.1:{closed}/bot"
    )
    assert code == 2, output
    assert "123456:TEST-token" not in output
    assert "Traceback" not in output and "Unclosed" not in output
    assert len(output.strip().splitlines()) == 1, output
    assert "BOT_USERNAME" in output and "HTTPS_PROXY" in output


def terminal_line(name: str) -> str:
    from bot.core.texts import terminal

    return terminal(name)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database with nothing in it yet, once per backend."""
    from tests.conftest import _fresh_postgres, _postgres_unavailable

    if request.param == "postgres":
        reason = _postgres_unavailable()
        if reason:
            pytest.skip(reason=reason)
        made = _fresh_postgres()
    else:
        made = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    yield made
    made.dispose()


def _upgrade_in_a_terminal(engine: Engine) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    url = engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        env={**env, "PYTHONPATH": str(ROOT), "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_upgrade_that_dies_half_way_leaves_nothing_behind(empty_database: Engine) -> None:
    """The first start is killed while creating the schema (here: the sixth CREATE TABLE
    fails): the database stays as it was, and the next `huibao db upgrade` succeeds."""
    created: list[str] = []

    def die_on_the_sixth_table(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            created.append(statement)
            if len(created) == 6:
                raise RuntimeError("killed")

    sa.event.listen(sa.Engine, "before_cursor_execute", die_on_the_sixth_table)
    try:
        with pytest.raises(RuntimeError, match="killed"):
            upgrade(empty_database)
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", die_on_the_sixth_table)
    assert len(created) == 6
    with empty_database.connect() as connection:
        assert sa.inspect(connection).get_table_names() == []

    result = _upgrade_in_a_terminal(empty_database)
    assert result.returncode == 0, result.stderr
    assert current_revision(empty_database) == head_revision()


def test_a_half_made_schema_of_an_older_version_is_finished(empty_database: Engine) -> None:
    """What a kill left before upgrades were atomic: some empty tables, no revision."""
    with empty_database.begin() as connection:
        for table in list(SQLModel.metadata.sorted_tables)[:5]:
            table.create(connection)
        connection.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
    result = _upgrade_in_a_terminal(empty_database)
    assert result.returncode == 0, result.stderr
    assert current_revision(empty_database) == head_revision()


def test_tables_with_data_but_no_revision_are_never_dropped(empty_database: Engine) -> None:
    department = SQLModel.metadata.tables["department"]
    with empty_database.begin() as connection:
        department.create(connection)
        connection.execute(
            department.insert().values(code="office", name="办公室", position=0, active=True)
        )
    result = _upgrade_in_a_terminal(empty_database)
    assert result.returncode == 2
    assert "department" in result.stderr and "DATABASE_URL" in result.stderr
    with empty_database.connect() as connection:
        assert connection.execute(sa.select(department.c.code)).scalars().all() == ["office"]


def test_period_open_warns_when_the_due_time_has_passed(cli: CliRunner) -> None:
    """The chat warns that every submission will be late; so does the terminal."""
    cli.invoke(main, ["roster", "load", str(ROOT / "examples" / "roster.toml")])
    past = cli.invoke(main, ["period", "open", "2015-10", "--due", "2015-11-05 17:00"])
    assert past.exit_code == 0
    assert past.stdout.strip() == "period 2015-10 is open, due 2015-11-05 17:00 Thu"
    assert past.stderr.strip() == (
        "⚠ the due time has passed, so every submission from now on counts as late. "
        'To extend it: huibao period due 2015-10 "YYYY-MM-DD HH:MM"'
    )
    future = cli.invoke(main, ["period", "open", "2099-10", "--due", "2099-11-05 17:00"])
    assert future.exit_code == 0 and future.stderr == ""
    assert cli.invoke(main, ["period", "due", "2099-10", "2099-11-06 17:00"]).stderr == ""
