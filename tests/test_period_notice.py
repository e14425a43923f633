"""Liaisons hear that a period opened once, whether the chat or `huibao period open`
opened it: the open queues the notice, the running bot sends it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.double import FakeUser
from handlers.reminders import run_reminder_pass
from tests.harness import Harness
from tests.test_console import local


def notices(liaison: FakeUser, month: str) -> list[str]:
    return [m.text for m in liaison.messages if m.text.startswith(f"📢 {month} 填报期")]


def cli_opens(harness: Harness, month: str, due: str) -> str:
    """`huibao period open` in a terminal, against the running bot's database."""
    result = CliRunner().invoke(main, ["period", "open", month, "--due", due])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def terminal(harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    monkeypatch.setenv("DATABASE_URL", harness.engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("BOT_TOKEN", raising=False)


@pytest.mark.usefixtures("terminal")
async def test_a_period_opened_from_the_cli_is_announced_once(harness: Harness) -> None:
    harness.now = local("2015-10-20 10:00")  # long before any reminder is due
    org = await harness.liaison("org", 3001, "王芳")
    office = await harness.liaison("office", 3002, "张三")

    assert "2015-10" in cli_opens(harness, "2015-10", "2015-11-05 17:00")
    late = await harness.liaison("rural", 3003, "李雷")  # joined after the opening
    # the running bot's minute job; two passes at once still send each notice once
    await asyncio.gather(run_reminder_pass(harness.app), run_reminder_pass(harness.app))
    for liaison in (org, office):
        assert notices(liaison, "2015-10") == [
            "📢 2015-10 填报期已开启，截止 2015-11-05 17:00。"
            "发送 /report 填报本部门的重点工作推进情况。"
        ]
    assert notices(late, "2015-10") == []  # the welcome tells them, not this

    await run_reminder_pass(harness.app)
    await harness.restart()
    await run_reminder_pass(harness.app)
    for liaison in (org, office):
        assert len(notices(liaison, "2015-10")) == 1

    # Closed, then reopened from the terminal: told once more, that it is open again.
    CliRunner().invoke(main, ["period", "close", "2015-10"])
    CliRunner().invoke(main, ["period", "reopen", "2015-10"])
    await run_reminder_pass(harness.app)
    await run_reminder_pass(harness.app)
    for liaison in (org, office):
        assert len(notices(liaison, "2015-10")) == 2
        assert "重新开启" in notices(liaison, "2015-10")[-1]


async def test_a_period_opened_in_chat_is_announced_once(harness: Harness) -> None:
    harness.now = local("2015-10-20 10:00")
    org = await harness.liaison("org", 3001, "王芳")
    office = await harness.liaison("office", 3002, "张三")
    coordinator = harness.coordinator()

    replies = await coordinator.send("/period open 2015-10 2015-11-05 17:00")
    assert "已通知 2 位联络员" in replies.last.text
    await run_reminder_pass(harness.app)
    await harness.restart()
    await run_reminder_pass(harness.app)
    for liaison in (org, office):
        assert len(notices(liaison, "2015-10")) == 1


@pytest.mark.usefixtures("terminal")
async def test_a_period_opened_while_the_bot_was_down_is_announced_on_start(
    harness: Harness,
) -> None:
    harness.now = local("2015-10-20 10:00")
    org = await harness.liaison("org", 3001, "王芳")
    await harness.stop_bot()
    cli_opens(harness, "2015-10", "2015-11-05 17:00")
    await harness.start_bot()
    await run_reminder_pass(harness.app)  # what start-up runs first
    assert len(notices(org, "2015-10")) == 1
