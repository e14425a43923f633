"""A hundred liaisons reporting through `huibao run` processes that keep being killed
(tests/test_crash_recovery.py): the roster, the liaisons as scripted people, the bot
processes (forked by tests/crash_bot.py), and what the Bot API double saw of the bot's
answers.

A liaison is a person at a phone, not a fixed list of updates: they look at the screen
the bot shows last and do the next thing it asks for (tap their item, paste a block, tap
"✅ 完成本部分", tap "📤 提交"). Each piece of their report is sent once and never again:
if the bot shows a draft without it once every update they sent has its answer (or still
after RETRIES looks), the liaison gives up there ("stuck") and the test reports the
loss. When no answer comes (the bot died after doing the work and before answering, or
lost the update), they wait PATIENCE seconds of the bot being up, then send /report and
carry on from what the bot shows, as a person would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.core.periods import parse_due
from bot.core.roster import CoordinatorSpec, DepartmentSpec, Roster, WorkItemSpec
from bot.demo.sample_month import SAMPLE_RAW, SAMPLE_ROWS
from bot.double import BotApiDouble, SentMessage
from bot.double.fleet import bot_environment
from bot.double.models import Call
from bot.double.server import UserState
from storage import drafts
from storage.db import session_scope
from storage.models import Department, InboxUpdate, Submission, SubmissionRevision, WorkItem
from storage.people import create_invite, redeem_invite
from storage.periods import get_period, open_period
from storage.roster import apply_roster, department_by_code
from tests.harness import COORDINATOR_ID
from tests.test_report import DONE, SUBMIT

ROOT = Path(__file__).resolve().parent.parent
FIRST_ID = 6_000_001  # the liaisons' Telegram ids
MONTH = "2015-10"
# The bot process runs on the real clock: a due date far ahead keeps the month open and
# every submission on time, whenever the test runs.
DUE = "2099-11-05 17:00"
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Seconds of the bot being up without an answer before a liaison sends /report again.
# After the kills a backlog of a hundred liaisons' updates takes a loaded machine several
# seconds (the double delivers webhook updates one at a time): impatient liaisons would
# flood it with /report and each other's late answers.
PATIENCE = 10.0
SETTLE = 1.0  # seconds of the bot up with no further screen: act on what is shown
THINK = (0.1, 1.0)  # seconds a liaison takes to read a screen and act (uniform)
RETRIES = 6  # /report sent again at most this often before a liaison gives up
NO_CHANGE = "本月无新进展"  # the button of a progress part that holds nothing yet
PLAN_PART, PROGRESS_PART = "】下一步推进计划", "】本月份推进情况"
CONFIRMATION = "✅ 已提交"
REMOVALS = frozenset({"editMessageReplyMarkup", "deleteMessage"})  # shown in the timeline


def title(i: int) -> str:
    return f"重点工作{i:03d}"


def code(i: int) -> str:
    return f"d{i:03d}"


def row(i: int) -> int:
    """Which of the sample month's rows liaison i reports (bot.demo.sample_month)."""
    return i % 3 + 1


def roster(n: int) -> Roster:
    """N departments, one key work item each."""
    departments = tuple(DepartmentSpec(code(i), f"部门{i:03d}") for i in range(n))
    items = tuple(WorkItemSpec(title(i), (code(i),)) for i in range(n))
    coordinator = (CoordinatorSpec(COORDINATOR_ID, "协调员"),)
    return Roster("压测单位", "Asia/Shanghai", departments, items, coordinator)


def prepare(engine: Engine, n: int) -> None:
    """The roster, an open month, and N liaisons bound to their departments."""
    with session_scope(engine) as db:
        apply_roster(db, roster(n), "Asia/Shanghai")
        open_period(db, MONTH, parse_due(DUE, SHANGHAI))
    with session_scope(engine) as db:
        for i in range(n):
            department = department_by_code(db, code(i))
            assert department is not None
            token = create_invite(db, department, ttl=timedelta(days=7), created_by="test")
            redeem_invite(db, token, telegram_id=FIRST_ID + i, name=f"联络员{i:03d}")


# --- what the double saw -----------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    """A bot request that shows the liaison a screen: a message sent or edited with an
    inline keyboard. Every update of the report flow is answered by exactly one."""

    at: float
    method: str
    message_id: int


class WatchedDouble(BotApiDouble):
    """The Bot API double, keeping per chat the screens the bot showed and per callback
    query how often the bot tried to answer it (benchmarks/load.py observes it alike)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.screens: defaultdict[int, list[Screen]] = defaultdict(list)
        self.answer_attempts: Counter[str] = Counter()
        self.shown = asyncio.Event()  # set on every screen; liaisons clear it to wait
        self.observers.append(self._observe)

    def _observe(self, call: Call) -> None:
        method, params = call.method, call.params
        if method == "answerCallbackQuery":
            self.answer_attempts[str(params.get("callback_query_id"))] += 1
            return
        if method not in ("sendMessage", "editMessageText") or call.status != 200:
            return
        markup = params.get("reply_markup")
        if not (isinstance(markup, dict) and markup.get("inline_keyboard")):
            return
        chat = int(str(params.get("chat_id")))
        message_id = int(str(params.get("message_id") or self.chat(chat).next_message_id - 1))
        self.screens[chat].append(Screen(time.monotonic(), method, message_id))
        self.shown.set()


# --- the bot process -----------------------------------------------------------------------


@dataclass
class BotState:
    """How long a bot process has been up, added over all processes: the clock of the
    liaisons' patience (nobody expects an answer from a bot that is down)."""

    up_since: float | None = None
    earlier: float = 0.0  # seconds up of the processes that ended

    def up(self) -> None:
        self.up_since = time.monotonic()

    def down(self) -> None:
        if self.up_since is not None:
            self.earlier += time.monotonic() - self.up_since
        self.up_since = None

    def uptime(self) -> float:
        now = 0.0 if self.up_since is None else time.monotonic() - self.up_since
        return self.earlier + now


class Forker:
    """tests/crash_bot.py: one process that imported the bot, forking a `huibao run`
    child on demand."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lock = asyncio.Lock()

    async def ask(self, command: str) -> str:
        assert self.process.stdin is not None and self.process.stdout is not None
        async with self.lock:
            self.process.stdin.write(f"{command}\n".encode())
            await self.process.stdin.drain()
            answer = await self.process.stdout.readline()
        assert answer, "tests/crash_bot.py ended"
        return answer.decode().strip()

    async def go(self, log: Path) -> BotProcess:
        pid = int((await self.ask(f"go {log}")).split()[1])
        return BotProcess(self, pid, log)

    async def close(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            await self.process.wait()


class BotProcess:
    """One `huibao run` child of the Forker, its output in `log`."""

    def __init__(self, forker: Forker, pid: int, log: Path) -> None:
        self.forker, self.pid, self.log = forker, pid, log
        self.ended: int | None = None

    async def started(self, timeout: float) -> None:
        """Wait for python-telegram-bot's "Application started" in the log."""
        deadline = time.monotonic() + timeout
        while not (self.log.exists() and b"Application started" in self.log.read_bytes()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not start; see {self.log}")
            await asyncio.sleep(0.02)

    async def end(self, sig: int, timeout: float = 30.0) -> int:
        """Send the signal and wait for the process to end; its exit status."""
        if self.ended is None:
            os.kill(self.pid, sig)
            answer = await asyncio.wait_for(self.forker.ask(f"wait {self.pid}"), timeout)
            self.ended = int(answer.split()[2])
        return self.ended


async def forker(double: BotApiDouble, engine: Engine, **env: str) -> Forker:
    """tests/crash_bot.py against the double, with tests/test_run_modes.py's environment
    for `huibao run`; no roster loaded (the database has its own)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.crash_bot",
        cwd=str(ROOT),
        env={
            **bot_environment(double, engine.url.render_as_string(hide_password=False)),
            "REMINDERS_ENABLED": "false",
            "LOG_LEVEL": "INFO",
            **env,
        },
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    return Forker(process)


# --- the liaisons ------------------------------------------------------------------------


class Stop(Enum):
    """Where a liaison who does not submit leaves their draft."""

    PROGRESS = "progress sent"
    NEXT = "progress done"
    PLAN = "plan sent"
    PREVIEW = "at the preview"


def stop_of(i: int) -> Stop | None:
    """One liaison in five stops before submitting, at each of the four places in turn."""
    stops = list(Stop)
    return stops[(i // 5) % len(stops)] if i % 5 == 0 else None


@dataclass(frozen=True)
class Sent:
    """An update a liaison sent."""

    update_id: int
    what: str  # the text, or the label of the button tapped
    at: float
    up: float  # BotState.uptime() when sent
    query: str | None = None  # a tap's callback query id


@dataclass
class Liaison:
    i: int
    double: WatchedDouble
    bot: BotState
    rng: random.Random  # their think times
    state: UserState = field(init=False)
    stop: Stop | None = field(init=False)
    sent: list[Sent] = field(default_factory=list)
    outcome: str = ""  # "submitted", "stopped: <where>", "stuck: <why>"
    retries: int = 0
    progress_sent: bool = False
    plan_sent: bool = False
    seen: int = 0  # screens taken in so far
    # Whether the screens so far are as many as the updates sent (each answered): a screen
    # that leaves some unanswered may be the late answer to an older update, the answer
    # to the newest still to come.
    complete: bool = False

    def __post_init__(self) -> None:
        self.state = self.double.user(self.id, f"联络员{self.i:03d}").state
        self.stop = stop_of(self.i)

    @property
    def id(self) -> int:
        return FIRST_ID + self.i

    @property
    def raw(self) -> tuple[str, str]:
        return SAMPLE_RAW[row(self.i)]

    def write(self, text: str) -> None:
        body = {"message": self.double.user_message(self.id, self.state, {"text": text})}
        uid = self.double.queue_update(body)
        self.sent.append(Sent(uid, text, time.monotonic(), self.bot.uptime()))

    def tap(self, screen: SentMessage, label: str) -> None:
        button = next(b for r in screen.button_rows for b in r if label in b.text)
        assert button.callback_data is not None
        query, body = self.double.tap_update(self.state, screen, button.callback_data)
        uid = self.double.queue_update(body)
        self.sent.append(Sent(uid, button.text, time.monotonic(), self.bot.uptime(), query))

    def live(self) -> SentMessage | None:
        """The bot's message with the live keyboard: the newest with buttons."""
        return next((m for m in reversed(self.double.messages_in(self.id)) if m.buttons), None)

    @property
    def waiting(self) -> bool:
        """Whether some update this liaison sent has no answer (yet)."""
        return not self.outcome and len(self.double.screens[self.id]) < len(self.sent)

    async def answer(self) -> SentMessage | None:
        """The live screen once every update sent has its answer, or once SETTLE seconds
        of the bot being up brought no further screen after a new one; None when no new
        screen came in PATIENCE seconds of the bot being up."""
        sent_up, shown, shown_up = self.sent[-1].up, self.seen, self.bot.uptime()
        while True:
            screens = len(self.double.screens[self.id])
            if screens != shown:
                shown, shown_up = screens, self.bot.uptime()
            self.complete = screens >= len(self.sent)
            if self.complete or (screens > self.seen and self.bot.uptime() - shown_up >= SETTLE):
                self.seen = screens
                return self.live()
            if screens == self.seen and self.bot.uptime() - sent_up >= PATIENCE:
                return None
            self.double.shown.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.double.shown.wait(), 0.1)

    async def report(self) -> None:
        """From /report to the submission (or to where this liaison stops)."""
        self.write("/report")
        while not self.outcome:
            screen = await self.answer()
            if screen is None:
                self.again("no answer")
                continue
            await asyncio.sleep(self.rng.uniform(*THINK))
            self.act(screen)

    def again(self, why: str) -> None:
        """Send /report once more, or give up after RETRIES times."""
        if self.retries >= RETRIES:
            self.outcome = f"stuck: {why} after {RETRIES} times /report"
        else:
            self.retries += 1
            self.write("/report")

    def act(self, screen: SentMessage) -> None:
        """Do what the screen asks for, or end (submitted, stopped, stuck)."""
        text, buttons = screen.text, screen.buttons
        if any(SUBMIT in b for b in buttons):
            self.tap_or_stop(screen, SUBMIT, Stop.PREVIEW)
        elif text.startswith(CONFIRMATION) or any(self.done_in(b) for b in buttons):
            self.outcome = "submitted"
        elif any(DONE in b for b in buttons):
            in_plan = part_of(text) == PLAN_PART
            self.tap_or_stop(screen, DONE, Stop.PLAN if in_plan else Stop.PROGRESS)
        elif NO_CHANGE in buttons:
            self.send_part(self.progress_sent, self.raw[0], "progress")
            self.progress_sent = True
        elif part_of(text) == PLAN_PART:
            if self.stop is Stop.NEXT:
                self.outcome = f"stopped: {Stop.NEXT.value}"
                return
            self.send_part(self.plan_sent, self.raw[1], "plan")
            self.plan_sent = True
        elif any(title(self.i) in b for b in buttons):
            self.tap(screen, title(self.i))
        else:
            self.again(f"a screen the liaison cannot read: {text[:80]!r}")

    def done_in(self, button: str) -> bool:
        """The month's list shows this liaison's item as submitted."""
        return title(self.i) in button and "已提交" in button

    def tap_or_stop(self, screen: SentMessage, label: str, here: Stop) -> None:
        if self.stop is here:
            self.outcome = f"stopped: {here.value}"
        else:
            self.tap(screen, label)

    def send_part(self, already: bool, text: str, part: str) -> None:
        if already:
            first = next(s.update_id for s in self.sent if s.what == text)
            missing = f"the bot asks again for the {part} sent as update {first}"
            if self.complete:  # never sent twice: the bot lost it
                self.outcome = f"stuck: {missing}"
            else:  # perhaps the late answer to an older update: look again
                self.again(missing)
        else:
            self.write(text)


def part_of(text: str) -> str:
    """Which part a draft screen is on: the first part header it names."""
    found = [(text.find(p), p) for p in (PLAN_PART, PROGRESS_PART) if p in text]
    return min(found)[1] if found else ""


async def start_later(liaison: Liaison, delay: float) -> None:
    await asyncio.sleep(delay)
    await liaison.report()


# --- what must hold afterwards -------------------------------------------------------------


def stored_problems(engine: Engine, liaisons: list[Liaison]) -> list[str]:
    """Every submitter's report stored once (version 1, one revision, the items in order);
    every other liaison's draft holds exactly what they sent, nothing submitted."""
    problems: list[str] = []
    with session_scope(engine) as db:
        period = get_period(db, MONTH)
        assert period is not None
        items = {w.title: w.id for w in db.exec(select(WorkItem))}
        departments = {d.id: d.code for d in db.exec(select(Department))}
        submissions = {departments[s.department_id]: s for s in db.exec(select(Submission))}
        revisions = Counter(r.submission_id for r in db.exec(select(SubmissionRevision)))
        versions = {r.submission_id: r.version for r in db.exec(select(SubmissionRevision))}
        for liaison in liaisons:
            i = liaison.i
            found = submissions.get(code(i))
            if liaison.stop is None:
                problems += submitted_problems(i, found, revisions, versions)
                continue
            if found is not None and found.status != "draft":
                problems.append(f"liaison {i} stopped {liaison.stop.value} but {found.status}")
            draft = drafts.load(db, liaison.id).draft_for(period.id or 0, items[title(i)] or 0)
            got = (draft.progress, draft.plan) if draft else None
            if got != expected_draft(i, liaison.stop):
                problems.append(f"liaison {i} ({liaison.stop.value}): draft {got}")
    return problems


def submitted_problems(
    i: int, found: Submission | None, revisions: Counter[int], versions: dict[int, int]
) -> list[str]:
    if found is None or found.status != "submitted":
        return [f"liaison {i}: not submitted ({found.status if found else 'nothing stored'})"]
    problems = []
    sid = found.id or 0
    if found.version != 1 or revisions[sid] != 1 or versions.get(sid) != 1:
        problems.append(f"liaison {i}: version {found.version}, {revisions[sid]} revisions")
    if (found.progress, found.plan) != SAMPLE_ROWS[row(i)]:
        problems.append(f"liaison {i}: stored {found.progress} / {found.plan}")
    return problems


def unhandled(engine: Engine, liaisons: list[Liaison]) -> list[int]:
    """The updates the liaisons sent that the bot's inbox (storage/inbox.py) does not hold
    as handled: lost, or still to be handled."""
    sent = {s.update_id for x in liaisons for s in x.sent}
    with session_scope(engine) as db:
        stored = select(InboxUpdate.update_id).where(col(InboxUpdate.handled_at).is_not(None))
        handled = db.exec(stored)
        return sorted(sent - set(handled))


def expected_draft(i: int, stop: Stop) -> tuple[list[str], list[str]]:
    progress, plan = SAMPLE_ROWS[row(i)]
    return (progress, plan) if stop in (Stop.PLAN, Stop.PREVIEW) else (progress, [])


def answer_problems(double: WatchedDouble, liaisons: list[Liaison]) -> list[str]:
    """No update answered twice (tests/test_crash_recovery.py says what that means)."""
    problems = [
        f"callback query {q} answered {n} times" for q, n in double.answer_attempts.items() if n > 1
    ]
    for liaison in liaisons:
        screens = double.screens[liaison.id]
        for k, screen in enumerate(screens):
            queued = [s for s in liaison.sent if s.at < screen.at]
            if len(queued) <= k:
                ids = [s.update_id for s in liaison.sent]
                problems.append(
                    f"liaison {liaison.i}: screen {k + 1} ({screen.method} #{screen.message_id})"
                    f" with only {len(queued)} updates sent before it; updates {ids}"
                )
                break
        confirmations = [
            m for m in double.messages_in(liaison.id) if m.text.startswith(CONFIRMATION)
        ]
        if len(confirmations) > 1:
            problems.append(f"liaison {liaison.i}: {len(confirmations)} submission confirmations")
    return problems


def write_timeline(path: Path, double: WatchedDouble, liaisons: list[Liaison]) -> None:
    """Per liaison, what they sent and the screens the bot showed, in order (seconds from
    the first update), and the bot's log lines about them: to read a failure by."""
    logs = sorted(path.parent.glob("bot-*.log"))
    lines_of: defaultdict[str, list[str]] = defaultdict(list)
    for log in logs:
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if " user=" in line:
                user = line.split(" user=", 1)[1].split()[0]
                lines_of[user].append(f"{log.stem}: {line}")
    first = min((s.at for x in liaisons for s in x.sent), default=0.0)
    with path.open("w", encoding="utf-8") as out:
        for violation in double.violations:
            out.write(f"violation: {violation}\n")
        for x in liaisons:
            out.write(f"liaison {x.i} (id {x.id}, stop: {x.stop}): {x.outcome}\n")
            events = [(s.at, f"sent {s.update_id} {s.what[:20]!r}") for s in x.sent]
            events += [(s.at, f"  screen {s.method} #{s.message_id}") for s in double.screens[x.id]]
            events += [
                (c.time, f"  {c.method} {c.status} #{c.params.get('message_id', '')}")
                for c in double.calls
                if c.method in REMOVALS and str(c.params.get("chat_id")) == str(x.id)
            ]
            for at, what in sorted(events):
                out.write(f"  {at - first:8.3f} {what}\n")
            for line in lines_of[str(x.id)]:
                out.write(f"    {line}\n")
