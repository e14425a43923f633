"""bot/core/schedule.py: offsets, reminder hour, quiet hours, overdue dailies, digests, zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.reminders import schedule_for
from bot.core.schedule import (
    Offset,
    QuietHours,
    ReminderSchedule,
    digest_slots,
    parse_clock,
    parse_offsets,
    parse_quiet,
    reminder_slots,
    split_due,
)
from bot.core.workdays import LIBRARY, WorkCalendar
from bot.settings import SettingsError, load_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)  # type: ignore[misc]


def slots(
    due: datetime,
    *,
    tz: ZoneInfo = SHANGHAI,
    offsets: str = "-3d,-1d,0d",
    hour: str = "09:00",
    quiet: str = "22:00-08:00",
    days_after: int = 3,
    calendar: WorkCalendar = LIBRARY,
) -> list[datetime]:
    schedule = ReminderSchedule.parse(tz, offsets, hour, quiet)
    until = due + timedelta(days=days_after)
    return reminder_slots(
        due, schedule.tz, schedule.offsets, schedule.hour, schedule.quiet, until, calendar
    )


def shown(found: list[datetime], tz: ZoneInfo = SHANGHAI) -> list[str]:
    return [s.astimezone(tz).strftime("%m-%d %H:%M") for s in found]


# --- parsing --------------------------------------------------------------------------


def test_offsets_parse_days_hours_minutes() -> None:
    assert parse_offsets("-3d, -1d,0d") == (
        Offset(-3 * 1440, True),
        Offset(-1440, True),
        Offset(0, True),
    )
    assert parse_offsets("-90m,-2h,+1h") == (
        Offset(-90, False),
        Offset(-120, False),
        Offset(60, False),
    )
    assert parse_offsets("-1d,-1d") == (Offset(-1440, True),)


@pytest.mark.parametrize("bad", ["-3x", "3 days", "-1.5d", "d", "--1d", "-3d,,0d", "", " "])
def test_bad_offsets_name_the_piece(bad: str) -> None:
    with pytest.raises(ValueError, match="offset") as caught:
        parse_offsets(bad)
    piece = next((p.strip() for p in bad.split(",") if p.strip()), "")
    if piece and "," not in bad:
        assert repr(piece) in str(caught.value)


def test_clock_and_quiet_hours_parse() -> None:
    assert parse_clock("9:05") == time(9, 5)
    assert parse_quiet("22:00-08:00") == QuietHours(time(22), time(8))
    assert parse_quiet("off") is None and parse_quiet("") is None
    for bad in ("24:00", "9", "09:60", "nine"):
        with pytest.raises(ValueError, match=repr(bad)):
            parse_clock(bad, "reminder hour")
    for bad in ("22:00", "22:00-22:00", "22-08", "22:00-08:00-09:00"):
        with pytest.raises(ValueError, match="quiet hours"):
            parse_quiet(bad)


def test_settings_refuse_bad_schedule_naming_the_setting() -> None:
    with pytest.raises(SettingsError, match=r"REMINDER_OFFSETS.*'-3w'"):
        load_settings(_env_file=None, reminder_offsets="-3w,0d")
    with pytest.raises(SettingsError, match="REMINDER_HOUR"):
        load_settings(_env_file=None, reminder_hour="25:00")
    with pytest.raises(SettingsError, match="QUIET_HOURS"):
        load_settings(_env_file=None, quiet_hours="22:00")
    assert load_settings(_env_file=None, quiet_hours="off").quiet_hours == "off"


def test_quiet_hours_spanning_midnight_and_not() -> None:
    night = QuietHours(time(22), time(8))
    assert night.contains(time(23)) and night.contains(time(2)) and night.contains(time(22))
    assert not night.contains(time(8)) and not night.contains(time(21, 59))
    moved = night.push_out(datetime(2015, 11, 4, 23, 30, tzinfo=SHANGHAI))
    assert moved == datetime(2015, 11, 5, 8, 0, tzinfo=SHANGHAI)
    moved = night.push_out(datetime(2015, 11, 5, 3, 0, tzinfo=SHANGHAI))
    assert moved == datetime(2015, 11, 5, 8, 0, tzinfo=SHANGHAI)
    lunch = QuietHours(time(12), time(13, 30))
    moved = lunch.push_out(datetime(2015, 11, 5, 12, 10, tzinfo=SHANGHAI))
    assert moved == datetime(2015, 11, 5, 13, 30, tzinfo=SHANGHAI)


# --- reminder slots -------------------------------------------------------------------


def test_default_schedule_then_daily_while_overdue() -> None:
    due = local(SHANGHAI, 2015, 11, 5, 17, 0)
    found = slots(due)
    assert shown(found) == [
        "11-02 09:00", "11-04 09:00", "11-05 09:00",  # -3d, -1d, the due day
        "11-06 09:00",  # daily while overdue: on working days, the weekend has none
    ]  # fmt: skip
    assert all(s.tzinfo is UTC for s in found)
    assert found == sorted(set(found))


def test_until_cuts_the_list() -> None:
    due = local(SHANGHAI, 2015, 11, 5, 17, 0)
    schedule = ReminderSchedule.parse(SHANGHAI, "-3d,-1d,0d", "09:00", "22:00-08:00")
    until = local(SHANGHAI, 2015, 11, 4, 9, 0)
    found = reminder_slots(due, schedule.tz, schedule.offsets, schedule.hour, schedule.quiet, until)
    assert shown(found) == ["11-02 09:00", "11-04 09:00"]


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        # across a month end, and a leap day (-3d is Saturday 02-27: Friday before)
        ((2016, 3, 1, 17, 0), ["02-26 09:00", "02-29 09:00", "03-01 09:00", "03-02 09:00"]),
        # due on a Sunday: 0d moves to Saturday 02-28, a 调休 working day, as -1d: once
        ((2015, 3, 1, 17, 0), ["02-26 09:00", "02-28 09:00", "03-02 09:00"]),
        # across a year end: New Year's Day has no overdue reminder
        ((2015, 12, 31, 17, 0), ["12-28 09:00", "12-30 09:00", "12-31 09:00"]),
    ],
)
def test_month_and_year_ends(due: tuple[int, ...], expected: list[str]) -> None:
    assert shown(slots(local(SHANGHAI, *due), days_after=1)) == expected


def test_due_just_before_midnight() -> None:
    due = local(SHANGHAI, 2015, 11, 5, 23, 59)
    assert shown(slots(due, days_after=1)) == [
        "11-02 09:00", "11-04 09:00", "11-05 09:00", "11-06 09:00",
    ]  # fmt: skip


def test_due_at_midnight_drops_the_due_day_reminder_after_the_deadline() -> None:
    # 0d would be 09:00 on the due day, nine hours late: the first overdue one takes over
    due = local(SHANGHAI, 2015, 11, 5, 0, 0)
    assert shown(slots(due, days_after=1)) == ["11-02 09:00", "11-04 09:00", "11-05 09:00"]
    due = local(SHANGHAI, 2015, 11, 5, 8, 30)
    assert shown(slots(due, days_after=1)) == ["11-02 09:00", "11-04 09:00", "11-05 09:00"]


def test_hour_and_minute_offsets_are_exact_and_respect_quiet_hours() -> None:
    due = local(SHANGHAI, 2015, 11, 5, 17, 0)
    assert shown(slots(due, offsets="-2h,-90m,0m", days_after=0)) == [
        "11-05 15:00", "11-05 15:30", "11-05 17:00",
    ]  # fmt: skip
    # -10h from 09:00 is 23:00 the day before: quiet, so it waits until 08:00
    due = local(SHANGHAI, 2015, 11, 5, 9, 0)
    assert shown(slots(due, offsets="-10h", days_after=0)) == ["11-05 08:00"]
    # -90m from 00:30 is 23:00; the end of the quiet hours is after the deadline: dropped
    due = local(SHANGHAI, 2015, 11, 5, 0, 30)
    assert shown(slots(due, offsets="-90m,-2d", days_after=0)) == ["11-03 09:00"]


def test_reminder_hour_inside_quiet_hours_moves_to_their_end() -> None:
    due = local(SHANGHAI, 2015, 11, 5, 17, 0)
    assert shown(slots(due, hour="07:00", offsets="-1d", days_after=1)) == [
        "11-04 08:00", "11-06 08:00",
    ]  # fmt: skip
    assert shown(slots(due, hour="07:00", offsets="-1d", quiet="off", days_after=1)) == [
        "11-04 07:00", "11-06 07:00",
    ]  # fmt: skip


def test_berlin_spring_forward_keeps_the_wall_clock() -> None:
    # 2015-03-29 02:00 CET → 03:00 CEST; -1d is that Sunday: Friday, with -3d
    due = local(BERLIN, 2015, 3, 30, 17, 0)
    found = slots(due, tz=BERLIN, days_after=1)
    assert shown(found, BERLIN) == ["03-27 09:00", "03-30 09:00", "03-31 09:00"]
    assert [s.hour for s in found] == [8, 7, 7]  # UTC: CET is +1, CEST +2


def test_berlin_fall_back_keeps_the_wall_clock() -> None:
    # 2015-10-25 03:00 CEST → 02:00 CET
    due = local(BERLIN, 2015, 10, 26, 17, 0)
    found = slots(due, tz=BERLIN, days_after=1)
    assert shown(found, BERLIN) == ["10-23 09:00", "10-26 09:00", "10-27 09:00"]
    assert [s.hour for s in found] == [7, 8, 8]


def test_berlin_exact_offsets_count_real_time_across_dst() -> None:
    due = local(BERLIN, 2015, 3, 30, 12, 0)  # Monday, 10:00 UTC, CEST
    found = slots(due, tz=BERLIN, offsets="-72h", quiet="off", days_after=0)
    assert found == [due - timedelta(hours=72)]
    assert shown(found, BERLIN) == ["03-27 11:00"]  # wall clock moved 73h back


def test_reminder_hour_in_the_dst_gap_still_gives_one_time_that_day() -> None:
    due = local(BERLIN, 2015, 3, 30, 17, 0)
    sunday_worked = WorkCalendar({date(2015, 3, 29): True})  # the gap is on a Sunday
    found = slots(
        due, tz=BERLIN, hour="02:30", offsets="-1d", quiet="off", days_after=0,
        calendar=sunday_worked,
    )  # fmt: skip
    assert len(found) == 1
    assert found[0].astimezone(BERLIN).date().isoformat() == "2015-03-29"


def test_per_period_offsets_override_the_settings() -> None:
    settings = load_settings(_env_file=None)
    base = settings.reminder_schedule
    assert base is settings.reminder_schedule  # parsed once, not on every pass
    assert [o.days for o in schedule_for(base, BERLIN, None).offsets] == [-3, -1, 0]
    assert schedule_for(base, BERLIN, None).tz == BERLIN  # the organisation's zone
    assert [o.days for o in schedule_for(base, SHANGHAI, "-2d,0d").offsets] == [-2, 0]
    assert [o.days for o in schedule_for(base, SHANGHAI, "nonsense", "2015-10").offsets] == [
        -3,
        -1,
        0,
    ]


# --- digests and the grace ------------------------------------------------------------


def test_digest_at_the_deadline_then_daily() -> None:
    schedule = ReminderSchedule.parse(SHANGHAI, "0d", "09:00", "22:00-08:00")
    due = local(SHANGHAI, 2015, 11, 5, 17, 0)
    found = digest_slots(due, schedule.tz, schedule.hour, schedule.quiet, due + timedelta(days=2))
    assert shown(found) == ["11-05 17:00", "11-06 09:00"]  # Saturday 11-07: none
    assert (
        digest_slots(due, schedule.tz, schedule.hour, schedule.quiet, due - timedelta(minutes=1))
        == []
    )


def test_digest_for_a_late_night_deadline_waits_and_does_not_double_up() -> None:
    schedule = ReminderSchedule.parse(SHANGHAI, "0d", "09:00", "22:00-08:00")
    due = local(SHANGHAI, 2015, 11, 5, 23, 0)
    found = digest_slots(due, schedule.tz, schedule.hour, schedule.quiet, due + timedelta(days=4))
    assert shown(found) == ["11-06 08:00", "11-09 09:00"]  # then Monday, past the weekend


def test_split_due_by_grace_and_lookback() -> None:
    base = datetime(2015, 11, 5, 1, 0, tzinfo=UTC)
    times = [base - timedelta(days=3), base - timedelta(hours=13), base - timedelta(hours=2),
             base, base + timedelta(minutes=1)]  # fmt: skip
    due, missed = split_due(times, base, timedelta(hours=12), timedelta(days=2))
    assert due == [base - timedelta(hours=2), base]
    assert missed == [base - timedelta(hours=13)]
