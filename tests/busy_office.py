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
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
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
from bot.double import FakeUser
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
        busy.liaisons = list(
            await asyncio.gather(
                *(
                    harness.liaison(department_code(i), FIRST_LIAISON_ID + i, f"联络员{i:02d}")
                    for i in range(liaisons)
                )
            )
        )
        harness.now = datetime(2015, 11, 2, 2, 0, tzinfo=UTC)
        await _say(busy.coordinator, f"/period open {CLOSED_MONTH} {CLOSED_DUE}", "已开启")
        await asyncio.gather(
            *(report(user, i, CLOSED_MONTH) for i, user in enumerate(busy.liaisons[:by_chat]))
        )
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


async def report(
    user: FakeUser, i: int, month: str, before_submit: asyncio.Event | None = None
) -> None:
    """Liaison `i` reports their item through the chat as on a phone: /report, the item,
    the progress block, done, the plan block, done (the preview), submit. With
    `before_submit`, they wait at the preview until it is set."""
    progress, plan = texts(i, month)
    replies = await user.send("/report", timeout=PATIENCE)
    await user.tap(next(b for b in replies.last.buttons if item_title(i) in b), timeout=PATIENCE)
    await user.send(progress, timeout=PATIENCE)
    await user.tap(DONE, timeout=PATIENCE)
    await user.send(plan, timeout=PATIENCE)
    await user.tap(DONE, timeout=PATIENCE)
    if before_submit is not None:
        await before_submit.wait()
    replies = await user.tap(SUBMIT, timeout=PATIENCE)
    assert "已提交" in replies[0].text, [m.text for m in replies]


async def busy_month(
    busy: Office,
    during: Callable[[], T],
    *,
    after: int = LIAISONS // 2,
    held: int = 5,
) -> T:
    """Every liaison hands in OPEN_MONTH at once; once `after` of them have submitted,
    `during` runs in a worker thread while the others go on. The last `held` liaisons
    wait at their preview until `during` has returned, so whatever it saw is a month
    in the middle: at least `after` and at most all but `held` submissions in. Returns
    what `during` returned, once every liaison has submitted."""
    count = len(busy.liaisons)
    assert 0 <= after <= count - held, "the held liaisons submit only after `during`"
    reached, finished = asyncio.Event(), asyncio.Event()
    submitted = 0

    async def liaison(i: int, user: FakeUser) -> None:
        nonlocal submitted
        await report(user, i, OPEN_MONTH, finished if i >= count - held else None)
        submitted += 1
        if submitted == after:
            reached.set()

    async def meanwhile() -> T:
        if after:
            await reached.wait()
        try:
            return await asyncio.to_thread(during)
        finally:
            finished.set()

    running = asyncio.ensure_future(meanwhile())
    await asyncio.gather(*(liaison(i, user) for i, user in enumerate(busy.liaisons)), running)
    return running.result()


# --- what a user sees of a database ---------------------------------------------------


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
    revisions: int  # handed-in versions kept

    @property
    def whole(self) -> bool:
        """Its status, version and kept revisions agree: never handed in (a draft, no
        revision), or handed in with one revision for each version."""
        if self.status == "draft" and self.revisions == 0:
            return True
        return self.status != "draft" and self.version == self.revisions >= 1


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
    kept = (
        sa.select(sa.func.count())
        .where(revision.c.submission_id == submission.c.id)
        .scalar_subquery()
    )
    department = sa.inspect(Department).local_table
    item = sa.inspect(WorkItem).local_table
    period = sa.inspect(Period).local_table
    query = (
        sa.select(
            department.c.code,
            item.c.title,
            period.c.month,
            submission.c.status,
            submission.c.progress,
            submission.c.plan,
            submission.c.version,
            kept,
        )
        .join(department, department.c.id == submission.c.department_id)
        .join(item, item.c.id == submission.c.work_item_id)
        .join(period, period.c.id == submission.c.period_id)
    )
    return tuple(
        sorted(
            Reported(code, title, month, status, tuple(progress), tuple(plan), version, count)
            for code, title, month, status, progress, plan, version, count in connection.execute(
                query
            )
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
