"""Reminders and digests end to end: the real Application, the Bot API double, a fixed clock.

The minute job is off in the harness; each test runs the pass itself with
`run_reminder_pass` at the clock time it sets (one test checks the job).
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.app import build_application
from bot.broadcast import PassReport
from bot.core.periods import parse_due
from bot.double import FakeUser, SentMessage
from handlers.reminders import JOB_ID, run_reminder_pass, start_reminders
from storage.db import make_engine, session_scope
from storage.models import Department, Liaison, ReminderLog, ReminderMute, WorkItem
from storage.periods import get_period, open_period
from storage.submissions import department_list, submission_for, submit
from tests.harness import Harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent
DUE = parse_due("2015-11-05 17:00", SHANGHAI)  # 09:00 UTC
MINUS_3D = datetime(2015, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 Shanghai
MINUS_1D = datetime(2015, 11, 4, 1, 0, tzinfo=UTC)
DUE_DAY = datetime(2015, 11, 5, 1, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def open_month(harness: Harness, offsets: str | None = None) -> int:
    with session_scope(harness.engine) as db:
        period = open_period(db, "2015-10", DUE)
        period.reminder_offsets = offsets
        db.add(period)
        return period.id or 0


def submit_everything(harness: Harness, dept_code: str) -> None:
    """The department's liaison submitted all its items (straight into storage)."""
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        dept = db.exec(select(Department).where(Department.code == dept_code)).one()
        assert period is not None
        for item in department_list(db, period, dept.id or 0):
            sub = submission_for(db, period, item.work_item_id, dept.id or 0)
            submit(db, sub, progress=["已完成"], plan=["继续"], by=1, read_version=sub.version,
                   now=MINUS_3D)  # fmt: skip


async def tick(harness: Harness, at: datetime) -> PassReport:
    """The clock reads `at` and the minute job runs once."""
    harness.now = at
    assert harness.app is not None
    report = await run_reminder_pass(harness.app)
    await harness.double.settle()
    return report


def reminders(user: FakeUser) -> list[SentMessage]:
    """The bot's messages to the user that carry report buttons: the reminders."""
    return [
        m
        for m in user.messages
        if any((b.callback_data or "").startswith("rp:o:") for row in m.button_rows for b in row)
    ]


def digests(user: FakeUser) -> list[SentMessage]:
    return [m for m in user.messages if "逾期未报送情况" in m.text or "Overdue reports" in m.text]


def log_rows(harness: Harness) -> list[ReminderLog]:
    with session_scope(harness.engine) as db:
        return list(db.exec(select(ReminderLog)))


def liaison_row(harness: Harness, telegram_id: int) -> Liaison:
    with session_scope(harness.engine) as db:
        return db.exec(select(Liaison).where(Liaison.telegram_id == telegram_id)).one()


async def test_pending_liaisons_are_reminded_once_and_submitted_ones_not(
    harness: Harness,
) -> None:
    period_id = open_month(harness)
    office = await harness.liaison("office", 3001, "王芳")
    publicity = await harness.liaison("publicity", 3002, "李雷")
    submit_everything(harness, "publicity")

    report = await tick(harness, MINUS_1D + 2 * MINUTE)
    assert (report.sent, report.failed) == (1, 0)
    [reminder] = reminders(office)
    assert "团的制度建设" in reminder.text and "办公室" in reminder.text
    assert "2015-11-05 17:00" in reminder.text and "/mute" in reminder.text
    [row] = reminder.button_rows
    assert row[0].text == "📝 团的制度建设"
    with session_scope(harness.engine) as db:
        item = db.exec(select(WorkItem).where(WorkItem.title == "团的制度建设")).one()
    assert row[0].callback_data == f"rp:o:{period_id}:{item.id}"
    assert reminders(publicity) == []
    replies = await office.tap("📝 团的制度建设")  # the intake conversation takes it from here
    assert "团的制度建设" in "\n".join(replies.texts)

    # the next minute, and the one after: nothing new
    await tick(harness, MINUS_1D + 3 * MINUTE)
    await tick(harness, MINUS_1D + 4 * MINUTE)
    assert len(reminders(office)) == 1
    [row_] = [r for r in log_rows(harness) if r.status != "skipped"]
    assert (row_.recipient_id, row_.kind, row_.status) == (3001, "reminder", "sent")
    assert row_.slot == "reminder:2015-11-04T01:00Z"

    # the office submits: the due-day reminder does not come
    submit_everything(harness, "office")
    await tick(harness, DUE_DAY + MINUTE)
    assert len(reminders(office)) == 1


async def test_restart_between_two_reminders_sends_no_duplicate(harness: Harness) -> None:
    open_month(harness)
    office = await harness.liaison("office", 3001, "王芳")
    await tick(harness, MINUS_3D + MINUTE)
    assert len(reminders(office)) == 1
    await harness.restart()
    await tick(harness, MINUS_3D + 5 * MINUTE)
    assert len(reminders(office)) == 1
    await tick(harness, MINUS_1D)
    assert len(reminders(office)) == 2
    await harness.restart()
    await tick(harness, MINUS_1D + 10 * MINUTE)
    assert len(reminders(office)) == 2


async def test_downtime_across_a_reminder_sends_exactly_one_catch_up(harness: Harness) -> None:
    open_month(harness)
    office = await harness.liaison("office", 3001, "王芳")
    await tick(harness, MINUS_3D + MINUTE)
    await harness.stop_bot()  # down from before the -1d reminder ...
    harness.now = MINUS_1D + timedelta(hours=6)  # ... to six hours after it
    await harness.start_bot()
    report = await tick(harness, MINUS_1D + timedelta(hours=6))
    await tick(harness, MINUS_1D + timedelta(hours=6, minutes=1))
    assert report.sent == 1
    assert len(reminders(office)) == 2  # -3d and the one catch-up


async def test_a_reminder_missed_beyond_the_grace_is_skipped_for_good(harness: Harness) -> None:
    open_month(harness)
    office = await harness.liaison("office", 3001, "王芳")
    await harness.stop_bot()
    harness.now = MINUS_1D + timedelta(hours=13)  # grace is 12 hours
    await harness.start_bot()
    report = await tick(harness, MINUS_1D + timedelta(hours=13))
    assert report.sent == 0 and report.skipped >= 1
    assert reminders(office) == []
    skipped = [r for r in log_rows(harness) if r.status == "skipped"]
    assert "reminder:2015-11-04T01:00Z" in {r.slot for r in skipped}

    # even a bot restarted with a longer grace does not send it later
    harness.extra_settings["reminder_grace_hours"] = 48
    await harness.restart()
    await tick(harness, MINUS_1D + timedelta(hours=14))
    assert reminders(office) == []
    # the next one comes as usual
    await tick(harness, DUE_DAY + MINUTE)
    assert len(reminders(office)) == 1


async def test_down_over_two_slots_within_the_grace_sends_only_the_newest(
    harness: Harness,
) -> None:
    open_month(harness, offsets="-3h,-2h,-1h")
    org = await harness.liaison("org", 3005, "张伟")
    report = await tick(harness, DUE - timedelta(minutes=30))
    assert report.sent == 1 and report.skipped == 2
    [reminder] = reminders(org)
    assert "团干部队伍建设" in reminder.text and len(reminder.buttons) == 3
    slots = {r.slot: r.status for r in log_rows(harness)}
    assert slots == {
        "reminder:2015-11-05T06:00Z": "skipped",
        "reminder:2015-11-05T07:00Z": "skipped",
        "reminder:2015-11-05T08:00Z": "sent",
    }


async def test_blocked_liaison_is_marked_unreachable_listed_in_the_digest_and_comes_back(
    harness: Harness,
) -> None:
    open_month(harness)
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    office = await harness.liaison("office", 3001, "王芳")
    rights = await harness.liaison("rights", 3003, "韩梅")
    await harness.liaison("org", 3005, "张伟")
    replies = await rights.send("/mute")
    assert "不再提醒" in replies.last.text
    harness.double.inject("sendMessage", status=403, chat_id=office.id)

    report = await tick(harness, DUE + MINUTE)  # the due-day reminder (8h ago) and the digest
    assert report.blocked == 1 and report.sent == 2  # org's reminder, the digest
    assert liaison_row(harness, office.id).unreachable
    assert reminders(rights) == []  # muted
    [digest] = digests(coordinator)
    text = digest.text
    assert "办公室" in text and "无法送达" in text and "王芳" in text
    assert "权益部" in text and "已关闭本期提醒" in text and "韩梅" in text
    assert "组织部" in text and "团干部队伍建设" in text
    assert "尚无联络员" in text  # e.g. 宣传部: nobody was ever invited
    assert "少年部" in text

    # unreachable liaisons are not retried on the next slot
    calls = len(harness.double.calls_to("sendMessage"))
    await tick(harness, DUE + timedelta(days=1))
    sent_to = [c.params.get("chat_id") for c in harness.double.calls_to("sendMessage")[calls:]]
    assert office.id not in sent_to and 3005 in sent_to and coordinator.id in sent_to

    # the liaison writes again: reachable again
    await office.send("/start")
    assert not liaison_row(harness, office.id).unreachable
    await tick(harness, DUE + timedelta(days=4))  # Monday: the weekend has no reminders
    assert len(reminders(office)) == 1


async def test_a_burst_of_429s_still_delivers_once(harness: Harness) -> None:
    open_month(harness)
    office = await harness.liaison("office", 3001, "王芳")
    harness.double.inject("sendMessage", status=429, retry_after=1, times=3, chat_id=office.id)
    report = await tick(harness, MINUS_1D + MINUTE)
    assert report.sent == 1 and len(reminders(office)) == 1
    to_office = [
        c for c in harness.double.calls_to("sendMessage") if str(c.params["chat_id"]) == "3001"
    ]
    assert [c.status for c in to_office[-4:]] == [429, 429, 429, 200]
    # as Telegram sees it: each retry came no sooner than its 429's retry_after (1 s)
    assert all(b.time - a.time >= 0.95 for a, b in itertools.pairwise(to_office[-4:]))


async def test_mute_and_unmute(harness: Harness) -> None:
    open_month(harness)
    office = await harness.liaison("office", 3001, "王芳")
    stranger = harness.double.user(5001, "路人")
    replies = await stranger.send("/mute")
    assert "权限" in replies.last.text
    replies = await office.send("/mute")
    assert "2015年10月" in replies.last.text and "/mute off" in replies.last.text
    await tick(harness, MINUS_1D + MINUTE)
    assert reminders(office) == []
    with session_scope(harness.engine) as db:
        assert len(db.exec(select(ReminderMute)).all()) == 1
    replies = await office.send("/mute off")
    assert "已恢复" in replies.last.text
    await tick(harness, DUE_DAY + MINUTE)
    assert len(reminders(office)) == 1


async def test_mute_without_an_open_period(harness: Harness) -> None:
    office = await harness.liaison("office", 3001, "王芳")
    replies = await office.send("/mute")
    assert "没有开放的填报期" in replies.last.text


async def test_remind_nudges_pending_liaisons_now_and_is_logged(harness: Harness) -> None:
    coordinator = harness.coordinator()
    replies = await coordinator.send("/remind")
    assert "没有开放的填报期" in replies.last.text
    open_month(harness)
    harness.now = datetime(2015, 10, 20, 3, 0, tzinfo=UTC)  # no reminder is due
    office = await harness.liaison("office", 3001, "王芳")
    org = await harness.liaison("org", 3005, "张伟")
    org2 = await harness.liaison("org", 3006, "刘洋")
    publicity = await harness.liaison("publicity", 3002, "李雷")
    submit_everything(harness, "publicity")

    replies = await office.send("/remind")
    assert "仅供协调员" in replies.last.text
    replies = await coordinator.send("/remind")
    assert "已提醒 2 个部门的 3 位联络员" in replies.last.text
    assert [len(reminders(u)) for u in (office, org, org2, publicity)] == [1, 1, 1, 0]
    nudges = [r for r in log_rows(harness) if r.kind == "nudge"]
    assert len(nudges) == 3 and {r.status for r in nudges} == {"sent"}

    # a second tap in the same minute reminds nobody twice
    replies = await coordinator.send("/remind")
    assert "没有需要提醒" in replies.last.text
    assert [len(reminders(u)) for u in (office, org, org2)] == [1, 1, 1]


async def test_english_liaison_reads_an_english_reminder(harness: Harness) -> None:
    open_month(harness)
    intl = await harness.liaison("intl", 3011, "Alex", language_code="en")  # no /lang needed
    await tick(harness, MINUS_1D + MINUTE)
    [reminder] = reminders(intl)
    assert "Reminder" in reminder.text and "has not yet submitted" in reminder.text
    assert "港澳台青少年及国际青年交流工作" in reminder.text


async def test_per_period_offsets_replace_the_settings(harness: Harness) -> None:
    open_month(harness, offsets="-2d,0d")
    office = await harness.liaison("office", 3001, "王芳")
    await tick(harness, datetime(2015, 11, 2, 1, 1, tzinfo=UTC))  # -3d is not in its list
    assert reminders(office) == []
    await tick(harness, datetime(2015, 11, 3, 1, 1, tzinfo=UTC))  # -2d is
    assert len(reminders(office)) == 1
    await tick(harness, MINUS_1D + MINUTE)  # -1d is not
    assert len(reminders(office)) == 1


async def test_digest_goes_to_coordinators_once_per_slot(harness: Harness) -> None:
    open_month(harness)
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    await harness.liaison("office", 3001, "王芳")
    await tick(harness, DUE - MINUTE)
    assert digests(coordinator) == []  # not late yet
    await tick(harness, DUE + MINUTE)
    await tick(harness, DUE + 2 * MINUTE)
    assert len(digests(coordinator)) == 1
    await tick(harness, datetime(2015, 11, 6, 1, 0, tzinfo=UTC))
    assert len(digests(coordinator)) == 2
    for code in ("office", "org", "publicity", "youth", "school", "pioneers", "social",
                 "rights", "rural", "volunteer", "intl"):  # fmt: skip
        submit_everything(harness, code)
    await tick(harness, datetime(2015, 11, 9, 1, 0, tzinfo=UTC))  # Monday's slot
    assert len(digests(coordinator)) == 2  # nobody late: no digest


async def test_the_job_runs_at_start_up_and_has_one_stable_id(engine: Engine) -> None:
    harness = Harness(engine=engine, roster=ROOT / "examples" / "roster.toml",
                      reminders_enabled=True)  # fmt: skip
    await harness.start()
    try:
        open_month(harness)
        office = await harness.liaison("office", 3001, "王芳")
        harness.now = MINUS_1D + timedelta(hours=1)
        await harness.restart()  # start-up: the catch-up pass runs by itself
        for _ in range(100):
            if reminders(office):
                break
            await asyncio.sleep(0.05)
        assert len(reminders(office)) == 1
        assert harness.app is not None and harness.app.job_queue is not None
        scheduler = harness.app.job_queue.scheduler
        ran = asyncio.Event()
        loop = asyncio.get_running_loop()
        scheduler.add_listener(lambda _: loop.call_soon_threadsafe(ran.set), EVENT_JOB_EXECUTED)
        start_reminders(harness.app)
        start_reminders(harness.app)
        jobs = scheduler.get_jobs()
        assert [j.id for j in jobs if j.id == JOB_ID] == [JOB_ID]
        await asyncio.wait_for(ran.wait(), 10)  # the replaced job's immediate pass ran
        await harness.double.settle()
        assert len(reminders(office)) == 1
    finally:
        await harness.close()


async def test_two_processes_on_one_postgres_send_each_reminder_once(
    harness: Harness,
) -> None:
    if harness.engine.dialect.name != "postgresql":
        pytest.skip("several bot processes share a database only on PostgreSQL; "
                    "a SQLite deployment is one process")  # fmt: skip
    open_month(harness)
    users = [
        await harness.liaison(code, 4000 + n, f"联络员{n}")
        for n, code in enumerate(["office", "org", "youth", "school", "pioneers", "social",
                                  "rights", "rural", "volunteer", "intl"] * 2)
    ]  # fmt: skip
    harness.now = MINUS_1D + MINUTE
    url = harness.engine.url.render_as_string(hide_password=False)
    settings = harness.make_settings()

    def other_process() -> PassReport:
        async def main() -> PassReport:
            engine = make_engine(url)
            app = build_application(settings, engine)
            app.bot_data["services"].now = harness.clock
            await app.initialize()
            try:
                return await run_reminder_pass(app)
            finally:
                await app.shutdown()
                engine.dispose()

        return asyncio.run(main())

    assert harness.app is not None
    mine, theirs = await asyncio.gather(
        run_reminder_pass(harness.app), asyncio.to_thread(other_process)
    )
    await harness.double.settle()
    assert mine.sent + theirs.sent == len(users)
    assert mine.failed + theirs.failed + mine.errors + theirs.errors == 0
    assert [len(reminders(u)) for u in users] == [1] * len(users)
    assert len([r for r in log_rows(harness) if r.status == "sent"]) == len(users)


async def test_the_bots_default_zone_is_the_one_reminders_use(harness: Harness) -> None:
    """The roster's zone, not TIMEZONE: PTB's defaults agree with the reminder schedule."""
    settings = harness.make_settings().model_copy(update={"timezone": "Europe/Berlin"})
    app = build_application(settings, harness.engine)
    assert app.bot.defaults is not None
    assert app.bot.defaults.tzinfo == SHANGHAI  # examples/roster.toml names Asia/Shanghai
