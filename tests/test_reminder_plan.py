"""bot/core/reminders.py, pure: which slots go out given the log, which notices a newer
(re)opening supersedes, and what the messages say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.core.reminders import (
    ChatLimits,
    Deadline,
    Kind,
    LateDepartment,
    OpenItem,
    OwedItem,
    Task,
    choose_slots,
    compose_digest,
    compose_open_notice,
    compose_reminder,
    due_now,
    in_send_order,
    newest_notices,
    nudge_slot,
)
from bot.core.schedule import ReminderSchedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
SLOT = datetime(2015, 11, 4, 1, 0, tzinfo=UTC)
DUE = datetime(2015, 11, 5, 9, 0, tzinfo=UTC)  # 17:00 Shanghai
PERIOD = Deadline(7, "2015-10", DUE, SHANGHAI)
HOUR = timedelta(hours=1)
LIMITS = ChatLimits(text=4096, buttons=100)


def test_the_newest_due_slot_is_sent_and_the_rest_skipped() -> None:
    older, newer, missed = SLOT - 3 * HOUR, SLOT, SLOT - timedelta(days=1)
    send, skip = choose_slots([1001, 1002], [older, newer], [missed], {(1002, newer)})
    assert send == {1001: newer}
    assert sorted(skip) == sorted([(1001, missed), (1001, older), (1002, missed), (1002, older)])
    assert choose_slots([1001], [], [missed], set()) == ({}, [(1001, missed)])


slots = st.lists(st.integers(0, 200).map(lambda h: SLOT - h * HOUR), unique=True, max_size=6).map(
    sorted
)


@given(
    recipients=st.lists(st.integers(1, 5), unique=True, max_size=5),
    due=slots,
    missed=slots,
    done=st.sets(st.tuples(st.integers(1, 5), st.integers(0, 200).map(lambda h: SLOT - h * HOUR))),
)
def test_each_open_slot_is_sent_or_skipped_once_and_nothing_in_the_log_again(
    recipients: list[int],
    due: list[datetime],
    missed: list[datetime],
    done: set[tuple[int, datetime]],
) -> None:
    missed = [m for m in missed if m not in due]
    send, skip = choose_slots(recipients, due, missed, done)
    chosen = [(r, s) for r, s in send.items()] + skip
    assert len(chosen) == len(set(chosen))  # once each
    assert not set(chosen) & done  # the log is the memory
    expected = {(r, s) for r in recipients for s in [*due, *missed]} - done
    assert set(chosen) == expected  # nothing left undecided
    assert all(s == due[-1] for s in send.values())  # only the newest due one is sent


def test_a_reopening_supersedes_the_older_notice_of_the_same_period() -> None:
    opened = Task(7, 1001, SLOT, Kind.OPENED)
    reopened = Task(7, 1001, SLOT + HOUR, Kind.REOPENED)
    other = Task(7, 1002, SLOT, Kind.OPENED)
    closed = Task(8, 1001, SLOT, Kind.OPENED)  # period 8 is not open
    send, older = newest_notices([opened, other, reopened, closed], {7})
    assert send == [reopened, other] and older == [opened]
    assert newest_notices([opened, other], {7, 8}, period_id=8) == ([], [])


def test_due_now_leaves_out_what_is_neither_due_nor_missed() -> None:
    schedule = ReminderSchedule.parse(SHANGHAI, "-3d,-1d,0d", "09:00", "22:00-08:00")
    assert due_now(schedule, DUE, SLOT - timedelta(days=5), timedelta(hours=12)) == {}
    found = due_now(schedule, DUE, SLOT + timedelta(minutes=1), timedelta(hours=12))
    assert found == {Kind.REMINDER: ([SLOT], [SLOT - timedelta(days=2)])}  # -1d due, -3d missed
    after = due_now(schedule, DUE, DUE + timedelta(minutes=1), timedelta(hours=12))
    assert after[Kind.DIGEST] == ([DUE], [])


def test_digests_go_after_everything_else_and_a_nudge_keeps_its_minute() -> None:
    tasks = [Task(7, 1, SLOT, Kind.DIGEST), Task(7, 2, SLOT, Kind.REMINDER),
             Task(7, 3, SLOT, Kind.OPENED)]  # fmt: skip
    first, last = in_send_order(tasks)
    assert [t.recipient for t in first] == [2, 3] and [t.recipient for t in last] == [1]
    assert nudge_slot(SLOT + timedelta(seconds=42, microseconds=5)) == SLOT


def test_a_reminder_lists_what_is_owed_with_a_button_each() -> None:
    owed = [OwedItem(11, "团的制度建设", True), OwedItem(12, "宣传思想", False)]
    task = Task(7, 3001, SLOT, Kind.REMINDER)
    message = compose_reminder(task, "zh-CN", PERIOD, "王芳", "办公室", 5, owed, SLOT, LIMITS)
    assert message is not None
    assert message.chat_id == 3001 and message.department_id == 5
    assert "团的制度建设" in message.text and "2015-11-05 17:00" in message.text
    assert [b.action for b in message.buttons] == [OpenItem(7, 11), OpenItem(7, 12)]
    assert compose_reminder(task, "zh-CN", PERIOD, "王芳", "办公室", 5, [], SLOT, LIMITS) is None


def test_a_digest_only_once_late_and_only_with_someone_late() -> None:
    late = [LateDepartment("办公室", (OwedItem(11, "团的制度建设", False),), False, ("王芳",), ())]
    task = Task(7, 123, DUE, Kind.DIGEST)
    assert compose_digest(task, "zh-CN", PERIOD, late, DUE, LIMITS) is None
    assert compose_digest(task, "zh-CN", PERIOD, [], DUE + HOUR, LIMITS) is None
    message = compose_digest(task, "en", PERIOD, late, DUE + HOUR, LIMITS)
    assert message is not None and "王芳" in message.text and message.buttons == ()


def test_the_digest_says_what_only_waits_for_the_department_head() -> None:
    owed = (OwedItem(11, "团的制度建设", True, pending=True), OwedItem(12, "团干部队伍建设", False))
    late = [LateDepartment("组织部", owed, False, (), ())]
    task = Task(7, 123, DUE, Kind.DIGEST)
    message = compose_digest(task, "zh-CN", PERIOD, late, DUE + HOUR, LIMITS)
    assert message is not None and "团的制度建设（待审核）、团干部队伍建设" in message.text
    many = tuple(OwedItem(n, f"重点工作{n}" * 10, True, pending=n < 3) for n in range(40))
    compact = [LateDepartment(f"部门{d}", many, False, (), ()) for d in range(5)]
    message = compose_digest(task, "zh-CN", PERIOD, compact, DUE + HOUR, LIMITS)
    assert message is not None and "40 项未报送（其中 3 项待部门负责人审核）" in message.text


def test_a_long_digest_is_compact() -> None:
    many = tuple(OwedItem(n, f"重点工作{n}" * 10, False) for n in range(40))
    late = [LateDepartment(f"部门{d}", many, False, (), ()) for d in range(5)]
    message = compose_digest(
        Task(7, 123, DUE, Kind.DIGEST), "zh-CN", PERIOD, late, DUE + HOUR, LIMITS
    )
    assert message is not None and len(message.text) <= 4096
    assert "重点工作1" not in message.text


def test_the_open_notice_says_whether_it_reopened() -> None:
    opened = compose_open_notice(Task(7, 3001, SLOT, Kind.OPENED), "zh-CN", PERIOD, 5)
    reopened = compose_open_notice(Task(7, 3001, SLOT, Kind.REOPENED), "zh-CN", PERIOD, 5)
    assert opened.text.startswith("📢 2015-10 填报期已开启")
    assert "重新开启" in reopened.text and "重新开启" not in opened.text
