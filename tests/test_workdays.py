"""Working days on real dates: China's public holidays and 调休 (chinese-calendar) plus the
office's own days, and what they do to reminders, digests and the default due day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.calendar_command import (
    CalendarAction,
    CalendarInputError,
    OpenMonth,
    moved,
    parse_calendar_command,
)
from bot.core.periods import Month, default_due
from bot.core.reminders import calendar_notices, schedule_for, unknown_years, year_slot
from bot.core.schedule import Offset, ReminderSchedule, digest_slots, reminder_slots
from bot.core.workdays import LIBRARY, WorkCalendar, library_runs

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
D = date


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)  # type: ignore[misc]


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# --- the library's facts, on the real weeks --------------------------------------------

# (days off, 调休 working days) of the four long weeks, as the State Council set them.
WEEKS = {
    "2025 Spring Festival": (days(D(2025, 1, 28), D(2025, 2, 4)), [D(2025, 1, 26), D(2025, 2, 8)]),
    "2025 National Day": (days(D(2025, 10, 1), D(2025, 10, 8)), [D(2025, 9, 28), D(2025, 10, 11)]),
    "2026 Spring Festival": (
        days(D(2026, 2, 15), D(2026, 2, 23)),
        [D(2026, 2, 14), D(2026, 2, 28)],
    ),
    "2026 National Day": (days(D(2026, 10, 1), D(2026, 10, 7)), [D(2026, 9, 20), D(2026, 10, 10)]),
}


@pytest.mark.parametrize("week", WEEKS)
def test_the_long_weeks_and_their_tiaoxiu_days(week: str) -> None:
    off, worked = WEEKS[week]
    assert not any(LIBRARY.is_workday(day) for day in off)
    assert all(LIBRARY.is_workday(day) for day in worked)
    assert all(day.weekday() >= 5 for day in worked)  # the 调休 days are weekend days
    # the days around: the working day before the week, the one after
    assert LIBRARY.is_workday(off[0] - timedelta(days=1)) or off[0] - timedelta(days=1) in worked
    assert LIBRARY.on_or_after(off[0]) == off[-1] + timedelta(days=1)


def test_ordinary_weekends_and_weekdays() -> None:
    assert not LIBRARY.is_workday(D(2026, 11, 28))  # a Saturday
    assert not LIBRARY.is_workday(D(2026, 11, 29))  # a Sunday
    assert LIBRARY.is_workday(D(2026, 11, 30))  # a Monday


def test_searching_for_the_working_day_before_and_after() -> None:
    assert LIBRARY.on_or_before(D(2026, 10, 7)) == D(2026, 9, 30)
    assert LIBRARY.on_or_before(D(2026, 10, 11)) == D(2026, 10, 10)  # the 调休 Saturday
    assert LIBRARY.on_or_before(D(2026, 2, 23)) == D(2026, 2, 14)  # the 调休 Saturday
    assert LIBRARY.on_or_after(D(2026, 10, 3)) == D(2026, 10, 8)
    assert LIBRARY.on_or_before(D(2026, 9, 30)) == D(2026, 9, 30)


def test_a_year_the_library_does_not_know_counts_weekdays() -> None:
    assert LIBRARY.library_knows(2026) and not LIBRARY.library_knows(2027)
    assert not LIBRARY.covers(2027)
    assert LIBRARY.is_workday(D(2027, 1, 1))  # a Friday: New Year's Day, unknown yet
    assert not LIBRARY.is_workday(D(2027, 1, 2))  # a Saturday
    office = WorkCalendar({D(2027, 1, 1): False})
    assert not office.is_workday(D(2027, 1, 1)) and office.covers(2027)
    assert office.on_or_after(D(2027, 1, 1)) == D(2027, 1, 4)


def test_the_office_overrides_the_library() -> None:
    office = WorkCalendar({D(2026, 10, 8): False, D(2026, 10, 3): True})
    assert not office.is_workday(D(2026, 10, 8))  # a local holiday
    assert office.is_workday(D(2026, 10, 3))  # worked, though the library says off
    assert office.on_or_after(D(2026, 10, 4)) == D(2026, 10, 9)


def test_no_working_day_for_two_months_keeps_the_day() -> None:
    everything_off = WorkCalendar({D(2027, 3, 1) + timedelta(days=n): False for n in range(90)})
    assert everything_off.on_or_after(D(2027, 3, 10)) == D(2027, 3, 10)
    assert everything_off.on_or_before(D(2027, 5, 20)) == D(2027, 5, 20)


def test_the_year_listing_groups_each_holiday() -> None:
    runs = {(r.first, r.last, r.working) for r in library_runs(2026)}
    assert (D(2026, 10, 1), D(2026, 10, 7), False) in runs
    assert (D(2026, 10, 10), D(2026, 10, 10), True) in runs
    assert (D(2026, 2, 15), D(2026, 2, 23), False) in runs
    assert library_runs(2027) == []


# --- the default due day ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "due"),
    [
        (Month(2025, 10), datetime(2025, 11, 5, 17, 0)),  # a Wednesday: as it is
        (Month(2026, 9), datetime(2026, 10, 8, 17, 0)),  # 10-05 is in the National Day week
        (Month(2025, 9), datetime(2025, 10, 9, 17, 0)),  # 10-05 … 10-08 off
        (Month(2024, 12), datetime(2025, 1, 6, 17, 0)),  # 2025-01-05 is a Sunday
        (Month(2026, 4), datetime(2026, 5, 6, 17, 0)),  # Labour Day 05-01 … 05-05
        (Month(2026, 1), datetime(2026, 2, 5, 17, 0)),  # before the Spring Festival: as it is
        (Month(2026, 12), datetime(2027, 1, 5, 17, 0)),  # 2027, unknown: a Tuesday
        (Month(2027, 8), datetime(2027, 9, 6, 17, 0)),  # 2027-09-05 is a Sunday
    ],
)
def test_default_due_moves_to_the_next_working_day(month: Month, due: datetime) -> None:
    assert default_due(month, SHANGHAI) == due.replace(tzinfo=SHANGHAI).astimezone(UTC)


def test_default_due_follows_the_office() -> None:
    office = WorkCalendar({D(2027, 1, 5): False})
    expected = datetime(2027, 1, 6, 17, 0, tzinfo=SHANGHAI)
    assert default_due(Month(2026, 12), SHANGHAI, office) == expected


def test_default_due_in_a_zone_with_dst() -> None:
    # Berlin: 2026-03-05 17:00 CET is 16:00 UTC; 2026-04-05 is a Sunday in the Qingming
    # days (04-04 … 04-06): 04-07 17:00 CEST, 15:00 UTC, across the change of 03-29.
    assert default_due(Month(2026, 2), BERLIN) == datetime(2026, 3, 5, 16, 0, tzinfo=UTC)
    assert default_due(Month(2026, 3), BERLIN) == datetime(2026, 4, 7, 15, 0, tzinfo=UTC)


# --- reminders and digests near the holidays -------------------------------------------


def reminders(due: datetime, offsets: str = "-3d,-1d,0d", days_after: int = 0,
              calendar: WorkCalendar = LIBRARY, tz: ZoneInfo = SHANGHAI) -> list[str]:  # fmt: skip
    schedule = ReminderSchedule.parse(tz, offsets, "09:00", "22:00-08:00")
    until = due + timedelta(days=days_after)
    found = reminder_slots(
        due, tz, schedule.offsets, schedule.hour, schedule.quiet, until, calendar
    )
    return [s.astimezone(tz).strftime("%m-%d %H:%M") for s in found]


def test_due_after_national_day_reminds_before_the_week() -> None:
    # 2026-10-08 (2026-09's default due): -3d and -1d are in the week: both on 09-30
    due = local(SHANGHAI, 2026, 10, 8, 17, 0)
    assert reminders(due, days_after=5) == [
        "09-30 09:00", "10-08 09:00",  # before due, collapsed to one on 09-30
        "10-09 09:00", "10-10 09:00",  # overdue: the 调休 Saturday too, not Sunday
        "10-12 09:00", "10-13 09:00",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        # Monday after the 2025 week: -1d (Sunday) goes out on the 调休 Saturday 10-11
        ((2025, 10, 13), ["10-10 09:00", "10-11 09:00", "10-13 09:00"]),
        # and after the 2026 week, on the 调休 Saturday 10-10
        ((2026, 10, 12), ["10-09 09:00", "10-10 09:00", "10-12 09:00"]),
    ],
)
def test_the_day_before_moves_to_the_tiaoxiu_saturday(
    due: tuple[int, int, int], expected: list[str]
) -> None:
    assert reminders(local(SHANGHAI, *due, 17, 0)) == expected


def test_spring_festival_reminders_go_out_before_the_week() -> None:
    # 2026: due the first working day after (02-24): -3d and -1d both on the 调休 02-14
    assert reminders(local(SHANGHAI, 2026, 2, 24, 17, 0)) == ["02-14 09:00", "02-24 09:00"]
    # 2025: due 02-05: both on Monday 01-27, the last working day before 除夕
    assert reminders(local(SHANGHAI, 2025, 2, 5, 17, 0)) == ["01-27 09:00", "02-05 09:00"]


def test_a_due_day_on_a_sunday() -> None:
    # an explicit due on Sunday 2026-11-29: -1d and 0d both go out on Friday 11-27
    due = local(SHANGHAI, 2026, 11, 29, 17, 0)
    assert reminders(due, days_after=1) == ["11-26 09:00", "11-27 09:00", "11-30 09:00"]
    # an exact offset before it too goes out on Friday, at the reminder hour
    assert reminders(due, offsets="-2h") == ["11-27 09:00"]


def test_a_year_the_library_does_not_know_reminds_on_weekdays() -> None:
    due = local(SHANGHAI, 2027, 1, 5, 17, 0)  # Tuesday
    assert reminders(due, days_after=5) == [
        "01-01 09:00", "01-04 09:00", "01-05 09:00",  # -3d is Saturday: Friday 01-01
        "01-06 09:00", "01-07 09:00", "01-08 09:00",
    ]  # fmt: skip
    office = WorkCalendar({D(2027, 1, 1): False})  # the office adds New Year's Day
    assert reminders(due, calendar=office)[0] == "12-31 09:00"


def test_digests_on_working_days_except_the_one_at_the_due_time() -> None:
    due = local(SHANGHAI, 2026, 9, 30, 17, 0)
    found = digest_slots(due, SHANGHAI, time(9), None, due + timedelta(days=11))
    shown = [s.astimezone(SHANGHAI).strftime("%m-%d %H:%M") for s in found]
    assert shown == ["09-30 17:00", "10-08 09:00", "10-09 09:00", "10-10 09:00"]
    on_holiday = local(SHANGHAI, 2026, 10, 3, 17, 0)  # an explicit due on a holiday
    first = digest_slots(on_holiday, SHANGHAI, time(9), None, on_holiday)
    assert first == [on_holiday]


def test_reminders_in_berlin_keep_the_wall_clock_across_dst_and_skip_holidays() -> None:
    # due Tuesday 2026-04-07 (Qingming 04-04 … 04-06); the clocks change on 03-29.
    # -10d is Saturday 03-28: Friday 03-27; -3d and -1d are in Qingming: Friday 04-03.
    due = local(BERLIN, 2026, 4, 7, 17, 0)
    schedule = ReminderSchedule.parse(BERLIN, "-10d,-3d,-1d", "09:00", "off")
    found = reminder_slots(due, BERLIN, schedule.offsets, schedule.hour, None, due)
    shown = [s.astimezone(BERLIN).strftime("%m-%d %H:%M") for s in found]
    assert shown == ["03-27 09:00", "04-03 09:00"]
    assert [s.hour for s in found] == [8, 7]  # UTC: CET +1, then CEST +2


# --- the properties --------------------------------------------------------------------

DUE_DAYS = st.dates(min_value=D(2005, 1, 1), max_value=D(2028, 12, 31))
DAY_OFFSETS = st.lists(st.integers(-15, 0), min_size=1, max_size=4)
EXACT = st.lists(st.integers(-3000, 0), max_size=2)
OVERRIDES = st.dictionaries(DUE_DAYS, st.booleans(), max_size=5)


@given(DUE_DAYS, st.integers(0, 23), DAY_OFFSETS, EXACT, OVERRIDES, st.integers(0, 12))
def test_every_reminder_is_on_a_working_day_and_none_after_due(
    day: date,
    hour: int,
    day_offsets: list[int],
    exact: list[int],
    overrides: dict[date, bool],
    days_after: int,
) -> None:
    calendar = WorkCalendar(overrides)
    due = datetime.combine(day, time(hour), SHANGHAI).astimezone(UTC)
    offsets = tuple(Offset(d * 1440, True) for d in day_offsets) + tuple(
        Offset(m, False) for m in exact
    )
    until = due + timedelta(days=days_after)
    found = reminder_slots(due, SHANGHAI, offsets, time(9), None, until, calendar)
    assert all(calendar.is_workday(s.astimezone(SHANGHAI).date()) for s in found)
    assert len(found) == len(set(found))
    before = reminder_slots(due, SHANGHAI, offsets, time(9), None, due, calendar)
    assert all(s <= due for s in before)


@given(st.integers(2005, 2028), st.integers(1, 12), OVERRIDES)
def test_the_default_due_is_the_first_working_day_from_the_fifth(
    year: int, month: int, overrides: dict[date, bool]
) -> None:
    calendar = WorkCalendar(overrides)
    due = default_due(Month(year, month), SHANGHAI, calendar).astimezone(SHANGHAI)
    fifth = D(year + month // 12, month % 12 + 1, 5)
    assert due.time() == time(17) and calendar.is_workday(due.date())
    assert all(not calendar.is_workday(d) for d in days(fifth, due.date())[:-1])


@given(DUE_DAYS, OVERRIDES)
def test_the_working_day_before_is_the_last_one(day: date, overrides: dict[date, bool]) -> None:
    calendar = WorkCalendar(overrides)
    found = calendar.on_or_before(day)
    assert found <= day and calendar.is_workday(found)
    assert all(not calendar.is_workday(d) for d in days(found, day)[1:])


# --- the unknown-year notice, planned once per year ------------------------------------


def test_unknown_years_of_a_period() -> None:
    base = ReminderSchedule.parse(SHANGHAI, "-3d,-1d,0d", "09:00", "off")
    due_2026 = local(SHANGHAI, 2026, 11, 5, 17, 0)
    assert unknown_years(schedule_for(base, SHANGHAI, None), due_2026) == set()
    due_2027 = local(SHANGHAI, 2027, 1, 5, 17, 0)
    assert unknown_years(schedule_for(base, SHANGHAI, None), due_2027) == {2027}
    office = WorkCalendar({D(2027, 1, 1): False})
    assert unknown_years(schedule_for(base, SHANGHAI, None, calendar=office), due_2027) == set()
    # a due day early in January reads December's days for its reminders: both years
    early = local(SHANGHAI, 2027, 1, 1, 17, 0)
    assert unknown_years(schedule_for(base, SHANGHAI, None), early) == {2027}


def test_the_notice_goes_once_per_coordinator_and_year() -> None:
    tasks = calendar_notices([(1, {2027}), (2, {2027, 2028})], [10, 11], set())
    assert {(t.period_id, t.recipient, t.slot.year) for t in tasks} == {
        (1, 10, 2027), (1, 11, 2027), (2, 10, 2028), (2, 11, 2028),
    }  # fmt: skip
    told = {(10, year_slot(2027))}
    assert {
        (t.recipient, t.slot.year) for t in calendar_notices([(1, {2027})], [10, 11], told)
    } == {(11, 2027)}


# --- /calendar's words and what a change moves -----------------------------------------


def test_reading_the_calendar_command() -> None:
    assert parse_calendar_command([]).action is CalendarAction.LIST
    assert parse_calendar_command(["2027"]).year == 2027
    command = parse_calendar_command(["holiday", "2027-01-01", "元旦"])
    assert (command.action, command.day, command.note) == (
        CalendarAction.HOLIDAY, D(2027, 1, 1), "元旦",
    )  # fmt: skip
    assert parse_calendar_command(["上班", "2027/2/20", "调休"]).action is CalendarAction.WORKDAY
    assert parse_calendar_command(["clear", "2027年1月1日"]).day == D(2027, 1, 1)
    for words, kind in [
        (["holiday", "2027-02-30"], "day"),
        (["holiday", "tomorrow"], "day"),
        (["holiday"], "usage"),
        (["list", "27"], "year"),
        (["bogus"], "usage"),
        (["clear", "2027-01-01", "extra"], "usage"),
    ]:
        with pytest.raises(CalendarInputError) as error:
            parse_calendar_command(words)
        assert error.value.kind == kind


def test_what_a_change_moves_in_the_open_month() -> None:
    base = ReminderSchedule.parse(SHANGHAI, "-3d,-1d,0d", "09:00", "off")
    due = local(SHANGHAI, 2027, 1, 5, 17, 0)
    month = OpenMonth("2026-12", due, schedule_for(base, SHANGHAI, None))
    now = local(SHANGHAI, 2026, 12, 2, 12, 0)
    office = WorkCalendar({D(2027, 1, 4): False})
    [found] = moved([month], LIBRARY, office, now)
    assert [s.astimezone(SHANGHAI).day for s in found.before] == [1, 4, 5]
    assert [s.astimezone(SHANGHAI).day for s in found.after] == [1, 5]  # -1d joins -3d
    assert found.reminders_moved and not found.due_off
    due_off = WorkCalendar({D(2027, 1, 5): False})
    [found] = moved([month], LIBRARY, due_off, now)
    assert found.due_off
    assert moved([month], LIBRARY, WorkCalendar({D(2027, 3, 1): False}), now) == []
