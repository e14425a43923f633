"""The `huibao` command as an operator uses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BOT_USERNAME", "huibao_test_bot")
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    return runner


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
        ["period", "open"],
        ["period", "close"],
        ["period", "list"],
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
    assert "2015-10  due 2015-11-05 17:00  open" in cli.invoke(main, ["period", "list"]).output
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
