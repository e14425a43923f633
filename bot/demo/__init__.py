"""`huibao demo`: an offline tour of a reporting month, with no token and no network.

The real Application runs against the Bot API test double
(an in-process loopback server), on a throw-away SQLite database.
Simulated people do what they would on their phones: the coordinator invites one
liaison per department and opens October 2015; the liaisons report through /report
(the 组织部 pastes rows 1–3 of the real October 2015 table, the others a short
placeholder item each); the coordinator asks for /status and /compile, and the
document the bot sent is written under ./out/.

The double (`bot.double`), the sample month and the example roster are part of the
package, so the tour runs the same from a checkout and from an installed wheel.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bot.core import texts
from bot.core.periods import DEFAULT_ZONE, parse_due
from bot.core.roster import load_roster
from bot.core.texts import TerminalError, terminal
from bot.settings import load_settings
from storage.db import make_engine, session_scope, upgrade
from storage.roster import apply_roster, coordinators, organisation, organisation_zone, work_items


def _example_roster() -> Path:
    """The example roster that ships with the package (examples/roster.toml links to it)."""
    return Path(str(resources.files("bot.demo") / "roster.toml"))


ROSTER = _example_roster()
TOKEN = "123456:DEMO-token"
MONTH, DUE = "2015-10", "2015-11-05 17:00"
CLOCK = "2015-11-02 10:00"  # the bot's clock during the tour: before the due time
SAMPLE_DEPARTMENT = "org"  # pastes rows 1–3 of the sample; the others leave those rows
LIAISON_NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇", "周婷", "吴刚")
QUIET = 0.01  # the driver's quiet spell; steps also wait for the answer they expect
NOISY_LOGGERS = ("telegram", "httpx", "httpcore", "apscheduler", "aiohttp")


class DemoError(TerminalError):
    """The tour cannot run here; the message says why and what to do."""


@dataclass
class DemoResult:
    path: Path
    caption: str
    rows: int
    lines: list[str] = field(default_factory=list)


async def _until(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise DemoError("demo_no_answer", what=what)
        await asyncio.sleep(0.02)


class Person:
    """A simulated user who waits, as a person would, for the answer before going on."""

    def __init__(self, user: Any) -> None:
        self.user = user

    def newest(self) -> int:
        messages = self.user.messages
        return int(messages[-1].message_id) if messages else 0

    async def step(self, action: Callable[[], Awaitable[Any]], what: str) -> Any:
        """Act, then wait for a message with buttons, new or (after a tap) edited: every
        report screen ends with one."""
        before = self.newest()
        replies = await action()
        await _until(
            lambda: (
                any(m.buttons for m in replies)
                or any(m.message_id > before and m.buttons for m in self.user.messages)
            ),
            what,
        )
        return replies

    async def send(self, text: str, *, expect: int = 1) -> list[str]:
        """Write, then wait for `expect` new messages; return the texts of all new ones."""
        before = self.newest()
        await self.user.send(text, quiet=QUIET)
        await _until(lambda: sum(m.message_id > before for m in self.user.messages) >= expect, text)
        await asyncio.sleep(QUIET)
        return [m.content for m in self.user.messages if m.message_id > before]

    async def report(self, title: str, progress: str, plan: str) -> None:
        """/report → the item → progress → done → plan → done → submit."""
        done = texts.plain("zh-CN", "btn_done")
        submit = texts.plain("zh-CN", "btn_submit")
        await self.step(lambda: self.user.send("/report", quiet=QUIET), "/report")
        button = next(b for b in self.user.last.buttons if title[:20] in b)
        await self.step(lambda: self.user.tap(button, quiet=QUIET), title)
        await self.step(lambda: self.user.send(progress, quiet=QUIET), "progress")
        await self.step(lambda: self.user.tap(done, quiet=QUIET), "done")
        await self.step(lambda: self.user.send(plan, quiet=QUIET), "plan")
        await self.step(lambda: self.user.tap(done, quiet=QUIET), "preview")
        await self.step(lambda: self.user.tap(submit, quiet=QUIET), "submit")
        if not any("已提交" in m.content for m in self.user.messages[-3:]):
            raise DemoError("demo_not_accepted", title=title, answer=self.user.last.content)


async def _tour(out_dir: Path, echo: Callable[[str], None], roster: Path) -> DemoResult:
    from bot import double as botapi  # the Bot API double the tour talks to
    from bot.app import build_application, start_polling, stop_polling  # the real bot
    from bot.demo import sample_month as sample

    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        echo(line)

    with tempfile.TemporaryDirectory(prefix="huibao-demo-") as scratch:
        database = Path(scratch) / "demo.db"
        engine = make_engine(f"sqlite:///{database}")
        upgrade(engine)
        with session_scope(engine) as db:
            parsed = load_roster(roster)
            apply_roster(db, parsed, DEFAULT_ZONE)
            tz = organisation_zone(db)
            org_name = organisation(db).name
            items = [(i.title, [(d.code, d.name) for d in i.departments]) for i in work_items(db)]
            coordinator_row = next(iter(coordinators(db)), None)
        if coordinator_row is None:
            raise DemoError("demo_no_coordinator", roster=str(roster))
        departments = [(d.code, d.name) for d in parsed.departments]
        say(terminal("demo_database", path=str(database)))
        say(
            terminal(
                "demo_roster",
                organisation=org_name,
                departments=len(departments),
                items=len(items),
                coordinator=coordinator_row.name,
            )
        )

        double = botapi.BotApiDouble(token=TOKEN)
        await double.start()
        app = None
        try:
            settings = load_settings(
                _env_file=None,
                bot_token=TOKEN,
                bot_api_base_url=double.base_url,
                bot_api_file_url=double.base_file_url,
                database_url=f"sqlite:///{database}",
                reminders_enabled=False,
                backup_schedule="off",
            )
            clock = parse_due(CLOCK, tz)
            app = build_application(settings, engine)
            app.bot_data["services"].now = lambda: clock
            await start_polling(app)
            say(terminal("demo_bot_started", username=double.bot_username))
            result = await _month(double, sample, say, coordinator_row, departments, items, out_dir)
        finally:
            if app is not None:
                await stop_polling(app)
            await double.stop()
            engine.dispose()
    result.lines = lines
    return result


async def _month(
    double: Any,
    sample: Any,
    say: Callable[[str], None],
    coordinator_row: Any,
    departments: list[tuple[str, str]],
    items: list[tuple[str, list[tuple[str, str]]]],
    out_dir: Path,
) -> DemoResult:
    """The month on the phones: invite, open, report, look at the status, compile."""
    coordinator = Person(double.user(coordinator_row.telegram_id, coordinator_row.name))
    name = coordinator_row.name
    await coordinator.send("/start")
    liaisons = await _invite_liaisons(double, coordinator, departments)
    say(terminal("demo_joined", count=len(liaisons)))
    await _open_month(coordinator, name, say)
    await _report_month(liaisons, items, sample)
    sample_rows = sorted(sample.SAMPLE_RAW)
    org_name = dict(departments).get(SAMPLE_DEPARTMENT, SAMPLE_DEPARTMENT)
    say(terminal("demo_sample", department=org_name, first=sample_rows[0], last=sample_rows[-1]))
    await _show_status(coordinator, name, say)
    sent = await _compile(double, coordinator, name, say)
    return _save(sent, out_dir)


async def _invite_liaisons(
    double: Any, coordinator: Person, departments: list[tuple[str, str]]
) -> dict[str, Person]:
    """One liaison per department, each joining through the link /invite answered."""
    liaisons: dict[str, Person] = {}
    for number, (code, _name) in enumerate(departments):
        answer = "\n".join(await coordinator.send(f"/invite {code}"))
        link = re.search(r"\?start=([A-Za-z0-9_-]+)", answer)
        if link is None:
            raise DemoError("demo_no_link", code=code, answer=answer)
        person = double.user(5001 + number, LIAISON_NAMES[number % len(LIAISON_NAMES)])
        liaisons[code] = Person(person)
        await liaisons[code].send(f"/start {link.group(1)}")
    return liaisons


async def _open_month(coordinator: Person, name: str, say: Callable[[str], None]) -> None:
    say(f"{name}: /period open {MONTH} {DUE}")
    for text in await coordinator.send(f"/period open {MONTH} {DUE}", expect=2):
        say(terminal("demo_bot", text=text))


async def _report_month(
    liaisons: dict[str, Person], items: list[tuple[str, list[tuple[str, str]]]], sample: Any
) -> None:
    """Every department reports on its items, except the sample's rows: there only the
    sample's department reports, with the real month's text."""
    for row, (title, owners) in enumerate(items, 1):
        for code, department in owners:
            if row not in sample.SAMPLE_RAW:
                await liaisons[code].report(title, *_placeholder(department, title))
            elif code == SAMPLE_DEPARTMENT:
                await liaisons[code].report(title, *sample.SAMPLE_RAW[row])


def _placeholder(department: str, title: str) -> tuple[str, str]:
    """A short progress and plan for an item outside the sample."""
    return (
        f"{department}本月围绕“{title}”按计划推进各项工作。",
        f"{department}下月继续推进“{title}”相关工作。",
    )


async def _show_status(coordinator: Person, name: str, say: Callable[[str], None]) -> None:
    say(f"{name}: /status")
    status = await coordinator.send("/status")
    for text in status[0].splitlines()[:2]:
        say(terminal("demo_bot", text=text))


async def _compile(double: Any, coordinator: Person, name: str, say: Callable[[str], None]) -> Any:
    """/compile, waiting for the document; the message that carries it."""
    say(f"{name}: /compile")
    before = coordinator.newest()
    await coordinator.user.send("/compile", quiet=QUIET)
    await _until(
        lambda: any(
            m.message_id > before and m.document is not None for m in coordinator.user.messages
        ),
        "/compile",
        timeout=60.0,
    )
    sent = next(m for m in reversed(coordinator.user.messages) if m.document is not None)
    actions = double.chat(coordinator.user.id).actions
    say(
        terminal(
            "demo_document",
            action=actions[-1] if actions else "-",
            filename=sent.document.filename,
            kb=len(sent.document.content) // 1024,
        )
    )
    for text in (sent.caption or "").splitlines():
        say(terminal("demo_caption", text=text))
    return sent


def _save(sent: Any, out_dir: Path) -> DemoResult:
    """The document the bot sent, written under out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / sent.document.filename
    path.write_bytes(sent.document.content)
    return DemoResult(path=path, caption=sent.caption or "", rows=_data_rows(sent.document.content))


def _data_rows(content: bytes) -> int:
    from docx import Document  # the document libraries load only when a document is read

    table = Document(io.BytesIO(content)).tables[0]
    return len(table.rows) - 1


def run_demo(
    out_dir: Path = Path("out"),
    echo: Callable[[str], None] = print,
    roster: Path = ROSTER,
) -> DemoResult:
    """Run the tour (own event loop); return where the document went and what happened."""
    if not roster.is_file():
        raise DemoError("demo_needs_roster", roster=str(roster))
    levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        return asyncio.run(_tour(out_dir, echo, roster))
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
