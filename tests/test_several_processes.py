"""Two `huibao run` processes on one PostgreSQL, webhook mode behind a round-robin proxy:
every update handled exactly once, and each liaison's updates handled in their order
whichever process took them (bot/double/fleet.py reads the processes' event lines).

Each liaison sends their progress items one message each, right after one another (as a
paste Telegram splits, or items typed quickly), so the proxy hands one liaison's
updates to both processes at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.core.roster import CoordinatorSpec, DepartmentSpec, Roster, WorkItemSpec
from bot.double import BotApiDouble
from bot.double.fleet import Fleet, check
from bot.double.server import UserState
from storage.db import session_scope
from storage.models import Department, Submission
from storage.people import create_invite, redeem_invite
from storage.periods import open_period
from storage.roster import apply_roster, department_by_code
from tests.test_run_modes import PATIENCE, TOKEN

LIAISONS = 20
ITEMS = 3  # progress items a liaison sends one right after the other
FIRST = 7_000_001
DONE, SUBMIT = "✅ 完成本部分", "📤 提交"


def progress(i: int) -> list[str]:
    return [f"第{i}部门的第{j}项进展：完成调研并形成报告" for j in range(1, ITEMS + 1)]


def prepare(engine: Engine) -> None:
    """A department and a key work item per liaison, the liaisons bound, a month open
    and due in a week (the processes run on the real clock)."""
    codes = [f"d{i:02d}" for i in range(LIAISONS)]
    roster = Roster(
        "多进程单位",
        "Asia/Shanghai",
        tuple(DepartmentSpec(code, f"部门{code}") for code in codes),
        tuple(WorkItemSpec(f"重点工作{code}", (code,)) for code in codes),
        (CoordinatorSpec(123456789, "协调员"),),
    )
    now = datetime.now(UTC)
    with session_scope(engine) as db:
        apply_roster(db, roster, "Asia/Shanghai")
        open_period(
            db, (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m"), now + timedelta(days=7)
        )
    with session_scope(engine) as db:
        for i, code in enumerate(codes):
            department = department_by_code(db, code)
            assert department is not None
            token = create_invite(db, department, ttl=timedelta(days=1), created_by="test")
            redeem_invite(db, token, telegram_id=FIRST + i, name=f"联络员{i}")


class Chat:
    """One liaison: sends updates and waits for the bot's screens (messages or edits
    with a keyboard) and callback answers in their chat to reach the expected count."""

    def __init__(self, double: BotApiDouble, state: UserState) -> None:
        self.double, self.state = double, state
        self.sent: list[int] = []
        self.screens = 0  # expected so far
        self.queries: set[str] = set()

    def _seen(self) -> tuple[int, int]:
        screens = answers = 0
        for call in self.double.calls:
            params = call.params
            if call.method == "answerCallbackQuery":
                answers += params.get("callback_query_id") in self.queries
            elif call.method in ("sendMessage", "editMessageText"):
                markup = params.get("reply_markup")
                keyboard = isinstance(markup, dict) and markup.get("inline_keyboard")
                screens += bool(keyboard) and str(params.get("chat_id")) == str(self.state.id)
        return screens, answers

    async def _wait(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(PATIENCE):
            while not done():
                await asyncio.sleep(0.05)

    async def send(self, *texts: str) -> None:
        for text in texts:
            body = {"message": self.double.user_message(self.state.id, self.state, {"text": text})}
            self.sent.append(self.double.queue_update(body))
        self.screens += len(texts)
        await self._wait(lambda: self._seen()[0] >= self.screens)

    async def tap(self, label: str) -> None:
        found = next(
            (
                (m, b.callback_data)
                for m in reversed(self.double.messages_in(self.state.id))
                for row in m.button_rows
                for b in row
                if label in b.text and b.callback_data
            ),
            None,
        )
        assert found is not None, f"chat {self.state.id}: no button {label!r}"
        message, data = found
        qid, body = self.double.tap_update(self.state, message, data)
        self.queries.add(qid)
        self.sent.append(self.double.queue_update(body))
        self.screens += 1
        await self._wait(self._answered)

    def _answered(self) -> bool:
        screens, answers = self._seen()
        return screens >= self.screens and answers >= len(self.queries)


async def report(chat: Chat, i: int) -> None:
    await chat.send("/report")
    await chat.tap(f"重点工作d{i:02d}")
    await chat.send(*progress(i))  # at once: the next is sent before the bot answered
    await chat.tap(DONE)
    await chat.send("下一步继续推进重点工作")
    await chat.tap(DONE)
    await chat.tap(SUBMIT)


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
async def test_two_processes_handle_each_update_once_and_each_users_in_order(
    engine: Engine, tmp_path: Path
) -> None:
    prepare(engine)
    url = engine.url.render_as_string(hide_password=False)
    async with BotApiDouble(token=TOKEN) as double:
        fleet = Fleet(double, url, 2, tmp_path, env={"REMINDERS_ENABLED": "false"})
        chats = [Chat(double, double.user(FIRST + i, f"联络员{i}").state) for i in range(LIAISONS)]
        try:
            await fleet.start(patience=PATIENCE)
            outcomes = await asyncio.gather(
                *(report(chat, i) for i, chat in enumerate(chats)), return_exceptions=True
            )
        finally:
            codes = await fleet.stop(patience=PATIENCE)
        assert codes == [0, 0], [bot.log.read_text()[-2000:] for bot in fleet.bots]
        found = check(fleet.lines(), {chat.state.id: chat.sent for chat in chats})
        assert found["per_process"][0] and found["per_process"][1], found  # both took some
        summary = {k: v for k, v in found.items() if k != "examples"}
        assert found["ok"], f"{summary}, e.g. {found['examples'][:4]}"
        assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
        assert not double.violations, double.violations[:3]
    with session_scope(engine) as db:
        codes_of = {d.id: d.code for d in db.exec(select(Department))}
        stored = {codes_of[s.department_id]: s.progress for s in db.exec(select(Submission))}
    assert stored == {f"d{i:02d}": progress(i) for i in range(LIAISONS)}
