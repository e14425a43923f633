"""A busy office: fifty departments, a closed month and an open one, and fifty liaisons
handing in the open month at once through the chat, so that a test can do something to
the database (a backup, an export, a copy) in the middle of it and then compare.

    async with office(engine, tmp_path) as busy:
        saved = await busy_month(busy, lambda: take_backup(...))
    assert snapshot(restored_url) == snapshot(engine)

The bot is the real Application on the Bot API test double (tests/harness.py); the
comparison (`snapshot`) reads only what a user sees: the submissions by department, item
and month, and every month's compiled document as text, so that two databases with other
ids and timestamps compare equal when they hold the same reports.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from aiolimiter import AsyncLimiter
from docx import Document
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.document import render_summary
from bot.demo.sample_month import SAMPLE_RAW, SAMPLE_ROWS
from bot.double import FakeUser, Replies
from bot.pacing import PacedRateLimiter
from storage.db import make_engine, session_scope
from storage.models import Department, Period, Submission, SubmissionRevision, WorkItem
from storage.periods import all_periods, get_period
from storage.roster import department_by_code
from storage.submissions import submission_for, submit
from storage.summary import build_summary
from tests.harness import COORDINATOR_ID, Harness
from tests.test_report import DONE, SUBMIT

T = TypeVar("T")

LIAISONS = 50
CLOSED_MONTH, CLOSED_DUE = "2015-10", "2015-11-05 17:00"
OPEN_MONTH, OPEN_DUE = "2015-11", "2015-12-04 17:00"
FIRST_LIAISON_ID = 5000  # Telegram ids 5000, 5001, ... (none is the coordinator's)
# An action returns once the whole bot is idle, so with fifty users at once it waits for
# everyone's answers: more than the double's default ten seconds on a loaded machine.
PATIENCE = 120.0


def department_code(i: int) -> str:
    return f"d{i:02d}"


def item_title(i: int) -> str:
    return f"重点工作{i:02d}"


def write_roster(path: Path, departments: int = LIAISONS) -> Path:
    """A roster of `departments` departments with one key work item each, and the
    coordinator of tests/harness.py, in the format of examples/roster.toml."""
    lines = ['[organisation]\nname = "繁忙单位"\ntimezone = "Asia/Shanghai"\n']
    for i in range(departments):
        lines.append(f'[[departments]]\ncode = "{department_code(i)}"\nname = "部门{i:02d}"\n')
    for i in range(departments):
        lines.append(
            f'[[work_items]]\ntitle = "{item_title(i)}"\ndepartments = ["{department_code(i)}"]\n'
        )
    lines.append(f'[[coordinators]]\ntelegram_id = {COORDINATOR_ID}\nname = "李明"\n')
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def sample_row(i: int, month: str) -> int:
    """Which of the sample month's rows liaison `i` reports for `month` (another one each
    month, so that the two months' documents differ)."""
    return (i + (0 if month == OPEN_MONTH else 1)) % 3 + 1


def texts(i: int, month: str) -> tuple[str, str]:
    """The progress and plan blocks liaison `i` pastes for `month`."""
    return SAMPLE_RAW[sample_row(i, month)]


@dataclass
class Office:
    """The running bot and the people of the busy office."""

    harness: Harness
    coordinator: FakeUser
    liaisons: list[FakeUser] = field(default_factory=list)


@asynccontextmanager
async def office(
    engine: Engine, folder: Path, liaisons: int = LIAISONS, by_chat: int = 5
) -> AsyncIterator[Office]:
    """The bot on `engine` (an empty database at the newest schema) with the busy roster,
    `liaisons` liaisons bound by invite, CLOSED_MONTH reported by all of them (the first
    `by_chat` through the chat, the others handed in through storage as the bot does it,
    to save time) and closed by the coordinator, and OPEN_MONTH opened, not reported."""
    harness = Harness(engine=engine, roster=write_roster(folder / "busy-roster.toml", liaisons))
    await harness.start()
    try:
        unpace(harness)
        busy = Office(harness, harness.coordinator())
        busy.liaisons = [
            harness.double.user(FIRST_LIAISON_ID + i, f"联络员{i:02d}", language_code="zh-hans")
            for i in range(liaisons)
        ]
        await asyncio.gather(  # tests/harness.py Harness.liaison, with more patience
            *(
                user.send(f"/start {harness.invite_token(department_code(i))}", timeout=PATIENCE)
                for i, user in enumerate(busy.liaisons)
            )
        )
        harness.now = datetime(2015, 11, 2, 2, 0, tzinfo=UTC)
        await _say(busy.coordinator, f"/period open {CLOSED_MONTH} {CLOSED_DUE}", "已开启")
        await advance(list(enumerate(busy.liaisons[:by_chat])), CLOSED_MONTH, range(STEPS))
        hand_in(harness, CLOSED_MONTH, range(by_chat, liaisons))
        await _say(busy.coordinator, f"/period close {CLOSED_MONTH}", "已结束")
        harness.now = datetime(2015, 12, 1, 2, 0, tzinfo=UTC)
        await _say(busy.coordinator, f"/period open {OPEN_MONTH} {OPEN_DUE}", "已开启")
        yield busy
    finally:
        await harness.close()


def hand_in(harness: Harness, month: str, liaisons: Iterable[int]) -> None:
    """The liaisons' reports for `month` submitted straight into storage (storage's
    submit, as the chat's 📤 calls it), at the harness's clock."""
    with session_scope(harness.engine) as db:
        period = get_period(db, month)
        assert period is not None
        for i in liaisons:
            department = department_by_code(db, department_code(i))
            item = db.exec(select(WorkItem).where(WorkItem.title == item_title(i))).one()
            assert department is not None and item.id is not None and department.id is not None
            found = submission_for(db, period, item.id, department.id)
            progress, plan = SAMPLE_ROWS[sample_row(i, month)]
            submit(
                db,
                found,
                progress=progress,
                plan=plan,
                by=FIRST_LIAISON_ID + i,
                read_version=found.version,
                now=harness.clock(),
            )


def unpace(harness: Harness) -> None:
    """Take out the bot's overall pace (about 30 sends a second, Telegram's flood limit):
    the double has no flood limit, and fifty liaisons' answers would otherwise queue for
    seconds behind it. The harness already takes out the per-chat pace."""
    assert harness.app is not None
    limiter = harness.app.bot.rate_limiter
    if isinstance(limiter, PacedRateLimiter):
        limiter.overall = AsyncLimiter(1_000_000, 1)


async def _say(user: FakeUser, text: str, expected: str) -> None:
    replies = await user.send(text, timeout=PATIENCE)
    assert expected in replies[0].text, [m.text for m in replies]


def _script(user: FakeUser, i: int, month: str) -> list[Callable[[], Awaitable[Replies]]]:
    """Liaison `i` reports their item through the chat as on a phone: /report, the item,
    the progress block, done, the plan block, done (the preview), submit."""
    progress, plan = texts(i, month)
    item = item_title(i)
    return [
        lambda: user.send("/report", timeout=PATIENCE),
        lambda: user.tap(next(b for b in user.last.buttons if item in b), timeout=PATIENCE),
        lambda: user.send(progress, timeout=PATIENCE),
        lambda: user.tap(DONE, timeout=PATIENCE),
        lambda: user.send(plan, timeout=PATIENCE),
        lambda: user.tap(DONE, timeout=PATIENCE),
        lambda: user.tap(SUBMIT, timeout=PATIENCE),
    ]


PREVIEW, STEPS = 6, 7  # the steps of _script before the preview's 📤, and all of them


async def advance(people: Sequence[tuple[int, FakeUser]], month: str, steps: range) -> None:
    """The liaisons (index, user) take `steps` of their report at once, one step at a time
    for all of them. Not each at their own pace: the double answers an action once the
    whole bot is idle, so one who went on at once would keep the others waiting."""
    scripts = [_script(user, i, month) for i, user in people]
    for step in steps:
        answers = await asyncio.gather(*(script[step]() for script in scripts))
        if step == STEPS - 1:
            assert all("已提交" in replies[0].text for replies in answers), answers


async def busy_month(
    busy: Office,
    during: Callable[[], T],
    *,
    after: int = LIAISONS // 2,
    held: int = 5,
) -> T:
    """Every liaison reports OPEN_MONTH through the chat, all at once: the first `after`
    submit, then `during` runs in a worker thread while all but the last `held` submit
    at once; the `held` ones are halfway through their report meanwhile and go on once
    `during` has returned. So whatever `during` saw is a month in the middle: at least
    `after` and at most all but `held` submissions in, others being written. Returns what
    `during` returned, once every liaison has submitted."""
    people = list(enumerate(busy.liaisons))
    assert 0 <= after <= len(people) - held, "the held liaisons submit only after `during`"
    split = len(people) - held
    first, rest, last = people[:after], people[after:split], people[split:]
    halfway = PREVIEW // 2
    await advance(people, OPEN_MONTH, range(halfway))
    await advance(first + rest, OPEN_MONTH, range(halfway, PREVIEW))
    await advance(first, OPEN_MONTH, range(PREVIEW, STEPS))
    saw, _ = await asyncio.gather(
        asyncio.to_thread(during), advance(rest, OPEN_MONTH, range(PREVIEW, STEPS))
    )
    await advance(last, OPEN_MONTH, range(halfway, STEPS))
    return saw


# --- what a user sees of a database ---------------------------------------------------


@dataclass(frozen=True, order=True)
class Revision:
    """One handed-in version of a submission, kept forever."""

    version: int
    progress: tuple[str, ...]
    plan: tuple[str, ...]
    by: int | None  # the Telegram id of who handed it in


@dataclass(frozen=True, order=True)
class Reported:
    """One department's report on one item in one month, as stored."""

    department: str  # the department's code
    item: str  # the key work item's title
    month: str
    status: str
    progress: tuple[str, ...]
    plan: tuple[str, ...]
    version: int
    kept: tuple[Revision, ...]  # its handed-in versions, oldest first

    @property
    def revisions(self) -> int:
        return len(self.kept)

    @property
    def whole(self) -> bool:
        """Its status, version and kept revisions agree: never handed in (a draft, no
        revision), or one revision for each version, the last one what it holds now."""
        if self.status == "draft" and not self.kept:
            return True
        return (
            self.status != "draft"
            and [r.version for r in self.kept] == list(range(1, self.version + 1))
            and (self.kept[-1].progress, self.kept[-1].plan) == (self.progress, self.plan)
        )


@dataclass(frozen=True)
class Snapshot:
    """Every submission and every month's compiled document (as text) of a database."""

    submissions: tuple[Reported, ...]
    documents: Mapping[str, tuple[str, ...]]  # month -> paragraphs, then table cells

    def of(self, month: str) -> list[Reported]:
        return [r for r in self.submissions if r.month == month]

    def submitted(self, month: str) -> list[Reported]:
        return [r for r in self.of(month) if r.status != "draft"]


def snapshot(database: Engine | str) -> Snapshot:
    """What a user sees of the database (an engine, or a URL opened and closed here)."""
    engine = make_engine(database) if isinstance(database, str) else database
    try:
        with session_scope(engine) as db:
            return Snapshot(_submissions(db.connection()), _documents(db))
    finally:
        if isinstance(database, str):
            engine.dispose()


def _submissions(connection: sa.Connection) -> tuple[Reported, ...]:
    submission = sa.inspect(Submission).local_table
    revision = sa.inspect(SubmissionRevision).local_table
    department = sa.inspect(Department).local_table
    item = sa.inspect(WorkItem).local_table
    period = sa.inspect(Period).local_table
    kept: dict[int, list[Revision]] = {}
    for row in connection.execute(
        sa.select(revision).order_by(revision.c.submission_id, revision.c.version)
    ):
        kept.setdefault(row.submission_id, []).append(
            Revision(row.version, tuple(row.progress), tuple(row.plan), row.submitted_by)
        )
    query = (
        sa.select(
            submission.c.id,
            department.c.code,
            item.c.title,
            period.c.month,
            submission.c.status,
            submission.c.progress,
            submission.c.plan,
            submission.c.version,
        )
        .join(department, department.c.id == submission.c.department_id)
        .join(item, item.c.id == submission.c.work_item_id)
        .join(period, period.c.id == submission.c.period_id)
    )
    return tuple(
        sorted(
            Reported(
                row.code,
                row.title,
                row.month,
                row.status,
                tuple(row.progress),
                tuple(row.plan),
                row.version,
                tuple(kept.get(row.id, ())),
            )
            for row in connection.execute(query)
        )
    )


def _documents(db: Session) -> dict[str, tuple[str, ...]]:
    documents = {}
    for period in all_periods(db):
        summary, _ = build_summary(db, period)
        document = Document(io.BytesIO(render_summary(summary)))
        paragraphs = [paragraph.text for paragraph in document.paragraphs]
        cells = [c.text for table in document.tables for row in table.rows for c in row.cells]
        documents[period.month] = tuple(paragraphs + cells)
    return documents
