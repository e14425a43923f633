"""Working days end to end: the office's own days (storage, `huibao calendar`, /calendar),
the due day with its weekday and the day-off warning in /period, reminders through the
Bot API double on real holidays, and the once-a-year "unknown year" notice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.cli import main
from bot.core.audit import Action, Actor
from bot.core.periods import parse_due
from bot.core.workdays import Override
from storage import audit
from storage.calendar import clear_day, overrides, set_day, work_calendar
from storage.db import session_scope
from storage.models import ReminderLog
from storage.periods import open_period
from tests.harness import Harness
from tests.test_reminders import digests, reminders, tick

SHANGHAI = ZoneInfo("Asia/Shanghai")
MINUTE = timedelta(minutes=1)
ZH = {"LANG": "zh_CN.UTF-8"}


def at(text: str) -> datetime:
    """A wall-clock time in Shanghai, as UTC."""
    return parse_due(text, SHANGHAI)


def open_month(harness: Harness, month: str, due: str) -> None:
    with session_scope(harness.engine) as db:
        open_period(db, month, at(due))


# --- storage, on both databases --------------------------------------------------------


def test_the_office_sets_and_clears_days_audited(engine: Engine) -> None:
    who = Actor(9001, "李明")
    now = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
    with session_scope(engine) as db:
        change = set_day(db, date(2027, 1, 1), False, "元旦", actor=who, now=now)
        assert change.changed and change.before is None
        set_day(db, date(2027, 2, 20), True, "调休", actor=who, now=now)
    with session_scope(engine) as db:
        assert overrides(db, 2027) == [
            Override(date(2027, 1, 1), False, "元旦"),
            Override(date(2027, 2, 20), True, "调休"),
        ]
        assert overrides(db, 2026) == []
        calendar = work_calendar(db)
        assert not calendar.is_workday(date(2027, 1, 1)) and calendar.covers(2027)
        assert not set_day(db, date(2027, 1, 1), False, "元旦", actor=who).changed  # same
        assert set_day(db, date(2027, 1, 1), True, actor=who).changed  # now a working day
    with session_scope(engine) as db:
        assert clear_day(db, date(2027, 1, 1), actor=who).changed
        assert not clear_day(db, date(2027, 1, 1), actor=who).changed  # nothing to clear
        assert work_calendar(db).is_workday(date(2027, 1, 1))  # a Friday, weekdays again
        trail = [(e.action, e.subject, e.actor.name) for e in audit.entries(db)]
    assert trail == [
        (Action.CALENDAR_HOLIDAY, "2027-01-01", "李明"),
        (Action.CALENDAR_WORKDAY, "2027-02-20", "李明"),
        (Action.CALENDAR_WORKDAY, "2027-01-01", "李明"),
        (Action.CALENDAR_CLEAR, "2027-01-01", "李明"),
    ]


# --- the terminal ----------------------------------------------------------------------


def test_huibao_calendar_lists_sets_and_clears(roster_cli: CliRunner) -> None:
    cli = roster_cli
    listed = cli.invoke(main, ["calendar", "list", "2026"])
    assert listed.exit_code == 0, listed.output
    assert "the holiday library knows this year" in listed.output
    assert "day off  2026-10-01 Thu to 2026-10-07 Wed  National Day" in listed.output
    assert "working  2026-10-10 Sat  National Day" in listed.output
    unknown = cli.invoke(main, ["calendar", "list", "2027"]).output
    assert "does not know this year yet" in unknown and "The office set no days." in unknown

    set_ = cli.invoke(main, ["calendar", "holiday", "2027-01-01", "New", "Year"])
    assert set_.exit_code == 0, set_.output
    assert set_.output.strip() == "2027-01-01 Fri: now a day off (New Year)"
    again = cli.invoke(main, ["calendar", "holiday", "2027-01-01", "New", "Year"])
    assert "nothing changed" in again.output
    assert "2027-01-01 Fri  day off  New Year" in cli.invoke(main, ["calendar", "list"]).output
    zh = cli.invoke(main, ["calendar", "workday", "2027-02-20", "调休"], env=ZH)
    assert zh.output.strip() == "2027-02-20 周六：已设为上班（调休）"
    cleared = cli.invoke(main, ["calendar", "clear", "2027-01-01"])
    assert "withdrawn" in cleared.output and "working day" in cleared.output
    assert "calendar_clear" not in cli.invoke(main, ["audit"]).output
    assert "withdrew a calendar day  2027-01-01" in cli.invoke(main, ["audit"]).output

    bad = cli.invoke(main, ["calendar", "holiday", "2027-02-30"])
    assert bad.exit_code == 2 and "is not a date" in bad.output
    assert cli.invoke(main, ["calendar", "list", "27"]).exit_code == 2


def test_huibao_calendar_says_what_it_moves(roster_cli: CliRunner) -> None:
    cli = roster_cli
    cli.invoke(main, ["period", "open", "2099-12", "--due", "2100-01-05 17:00"])
    moved = cli.invoke(main, ["calendar", "holiday", "2100-01-04"])
    assert moved.exit_code == 0, moved.output
    lines = moved.output.strip().splitlines()
    assert lines[0] == "2100-01-04 Mon: now a day off"
    assert lines[1] == (
        "2099-12 (due 2100-01-05 17:00 Tue): reminders still to come "
        "01-01 09:00, 01-04 09:00, 01-05 09:00 -> 01-01 09:00, 01-05 09:00"
    )
    due_off = cli.invoke(main, ["calendar", "holiday", "2100-01-05"]).output
    assert "the due day is now a day off" in due_off


def test_period_open_takes_the_next_working_day_and_warns_of_a_day_off(
    roster_cli: CliRunner,
) -> None:
    cli = roster_cli
    opened = cli.invoke(main, ["period", "open", "2026-09"])
    assert opened.stdout.strip() == "period 2026-09 is open, due 2026-10-08 17:00 Thu"
    assert "2026-09  due 2026-10-08 17:00 Thu  open" in cli.invoke(main, ["period", "list"]).output
    moved = cli.invoke(main, ["period", "due", "2026-09", "2026-10-03 17:00"])
    assert moved.exit_code == 0
    assert "due 2026-10-03 17:00 Sat" in moved.stdout
    assert "2026-10-03 17:00 (Sat) is on a day off" in moved.stderr
    workday = cli.invoke(main, ["period", "due", "2026-09", "2026-10-10 17:00"])  # 调休
    assert "day off" not in workday.stderr


# --- chat ------------------------------------------------------------------------------


async def test_calendar_in_chat(harness: Harness) -> None:
    harness.now = at("2026-12-02 10:00")
    coordinator = harness.coordinator()
    replies = await coordinator.send("/calendar")  # this year
    text = replies.last.text
    assert "2026 年工作日" in text and "国庆节" in text
    assert "🔴 放假 2026-10-01（周四） 至 2026-10-07（周三） 国庆节" in text
    assert "🔵 调休上班 2026-10-10（周六） 国庆节" in text
    replies = await coordinator.send("/calendar 2027")
    assert "节假日库还没有 2027 年的放假安排" in replies.last.text

    open_month(harness, "2026-12", "2027-01-05 17:00")
    replies = await coordinator.send("/calendar holiday 2027-01-04 元旦调休")
    text = replies.last.text
    assert text.startswith("已将 2027-01-04（周一）设为放假（元旦调休）。")
    assert "2026-12 填报期（截止 2027-01-05 17:00 周二）" in text
    assert "由 01-01 09:00、01-04 09:00、01-05 09:00 改为 01-01 09:00、01-05 09:00" in text
    replies = await coordinator.send("/calendar 2027")
    assert "🔴 放假 2027-01-04（周一） 元旦调休" in replies.last.text
    replies = await coordinator.send("/calendar holiday 2027-01-05")
    assert "截止日现在是休息日" in replies.last.text
    replies = await coordinator.send("/calendar clear 2027-01-05")
    assert "已取消本单位对 2027-01-05（周二）的设置" in replies.last.text
    replies = await coordinator.send("/calendar workday 2027-03-01")
    assert "不受影响" in replies.last.text

    replies = await coordinator.send("/calendar holiday 2027-13-01")
    assert "无法识别日期“2027-13-01”" in replies.last.text
    replies = await coordinator.send("/calendar help")
    assert "/calendar holiday 2027-01-01 元旦" in replies.last.text
    replies = await coordinator.send("/help")
    assert "/calendar" in replies.last.text


async def test_period_shows_the_weekday_and_warns_of_a_day_off(harness: Harness) -> None:
    harness.now = at("2026-09-01 10:00")
    coordinator = harness.coordinator()
    replies = await coordinator.send("/period open 2026-09")  # the 5th is in the holiday
    assert replies[0].text.startswith("🟢 2026-09 填报期已开启，截止 2026-10-08 17:00 周四。")
    assert "休息日" not in replies[0].text
    replies = await coordinator.send("/period")
    assert "2026-09 · 截止 2026-10-08 17:00 周四 · 🟢 填报中" in replies.last.text
    replies = await coordinator.send("/period due 2026-09 2026-10-04 17:00")
    text = replies.last.text
    assert "2026-10-04 17:00 周日" in text
    assert "⚠️ 截止时间 2026-10-04 17:00（周日）是休息日" in text
    replies = await coordinator.send("/period due 2026-09 2026-10-10 12:00")  # 调休 Saturday
    assert "休息日" not in replies.last.text


# --- reminders through the double ------------------------------------------------------


async def test_no_reminder_on_a_holiday_the_one_before_moves_ahead(harness: Harness) -> None:
    # 2026-09 due 2026-10-08 17:00: -3d (10-05) and -1d (10-07) are in the National Day
    # week; both go out once, on 09-30, the last working day before it.
    open_month(harness, "2026-09", "2026-10-08 17:00")
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    office = await harness.liaison("office", 3001, "王芳")
    await tick(harness, at("2026-09-30 09:01"))
    assert len(reminders(office)) == 1
    for holiday in ("2026-10-01", "2026-10-05", "2026-10-07"):
        report = await tick(harness, at(f"{holiday} 09:01"))
        assert report.sent == 0 and report.skipped == 0
    assert len(reminders(office)) == 1  # nothing on the holidays
    await tick(harness, at("2026-10-08 09:01"))  # the due day
    assert len(reminders(office)) == 2
    await tick(harness, at("2026-10-08 17:01"))  # the digest at the due time
    assert len(digests(coordinator)) == 1
    await tick(harness, at("2026-10-10 09:01"))  # the 调休 Saturday: daily while overdue
    assert len(reminders(office)) == 3 and len(digests(coordinator)) == 2
    await tick(harness, at("2026-10-11 09:01"))  # Sunday: none
    assert len(reminders(office)) == 3 and len(digests(coordinator)) == 2
    with session_scope(harness.engine) as db:
        rows = db.exec(select(ReminderLog).where(ReminderLog.kind == "reminder"))
        slots = {row.slot for row in rows if row.status == "sent"}
    assert slots == {
        "reminder:2026-09-30T01:00Z", "reminder:2026-10-08T01:00Z", "reminder:2026-10-10T01:00Z",
    }  # fmt: skip


async def test_an_office_holiday_moves_the_reminder_to_the_day_before(harness: Harness) -> None:
    open_month(harness, "2026-11", "2026-12-07 17:00")  # Monday; -1d is Sunday: Friday
    office = await harness.liaison("office", 3001, "王芳")
    coordinator = harness.coordinator()
    harness.now = at("2026-12-02 10:00")
    replies = await coordinator.send("/calendar holiday 2026-12-04 局里放假")
    assert "由 12-04 09:00、12-07 09:00 改为 12-03 09:00、12-07 09:00" in replies.last.text
    await tick(harness, at("2026-12-03 09:01"))
    assert len(reminders(office)) == 1
    await tick(harness, at("2026-12-04 09:01"))
    assert len(reminders(office)) == 1


async def test_coordinators_hear_once_of_a_year_nobody_knows(harness: Harness) -> None:
    open_month(harness, "2026-12", "2027-01-05 17:00")
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    told = len(coordinator.messages)
    await tick(harness, at("2026-12-02 10:00"))
    await tick(harness, at("2026-12-02 10:01"))  # a second pass: not again
    notices = [m for m in coordinator.messages[told:] if "节假日库还没有 2027 年" in m.text]
    assert len(notices) == 1
    assert "/calendar holiday" in notices[0].text
    await harness.restart()
    await tick(harness, at("2026-12-03 10:00"))  # nor after a restart
    assert [m for m in coordinator.messages[told:] if "2027" in m.text] == notices


async def test_no_notice_once_the_office_covers_the_year(harness: Harness) -> None:
    open_month(harness, "2026-12", "2027-01-05 17:00")
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    harness.now = at("2026-12-02 10:00")
    await coordinator.send("/calendar holiday 2027-01-01 元旦")
    told = len(coordinator.messages)
    await tick(harness, at("2026-12-02 10:01"))
    assert [m for m in coordinator.messages[told:] if "节假日库还没有" in m.text] == []
