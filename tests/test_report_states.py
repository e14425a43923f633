"""What the liaison is told about shared items, colleagues, late and closed periods."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.double import FakeUser
from storage.db import session_scope
from storage.periods import close_period, get_period
from tests.harness import Harness
from tests.test_report import (
    CANCEL,
    DONE,
    EDIT,
    SUBMIT,
    button_for,
    open_month,
    start_item,
    stored,
)


async def report(user: FakeUser, title: str, progress: str, plan: str) -> None:
    await start_item(user, title)
    await user.send(progress)
    await user.tap(DONE)
    await user.send(plan)
    await user.tap(DONE)
    await user.tap(SUBMIT)


async def test_no_new_progress_is_one_tap_and_counts_as_submitted(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("volunteer", 3701, "赵无")
    await start_item(liaison, "志愿服务")
    replies = await liaison.tap("本月无新进展")
    assert "下一步推进计划" in replies.last.text
    await liaison.send("继续推进")
    replies = await liaison.tap(DONE)
    assert "本月无新进展" in replies.last.text  # the preview shows the text
    replies = await liaison.tap(SUBMIT)
    assert "已提交" in replies[0].text
    submission = stored(harness, "志愿服务重点工作", "volunteer")
    assert submission.status == "submitted" and submission.progress == ["本月无新进展"]


async def test_the_preview_of_a_shared_item_says_where_the_part_lands(harness: Harness) -> None:
    open_month(harness)
    office = await harness.liaison("office", 3702, "陈共")
    org = await harness.liaison("org", 3703, "王共")
    await report(office, "团的制度建设", "1.办公室甲\n2.办公室乙", "计划")
    await start_item(org, "团的制度建设")
    await org.send("1.组织部甲\n2.组织部乙\n3.组织部丙")
    await org.tap(DONE)
    await org.send("计划")
    preview = "\n".join((await org.tap(DONE)).texts)
    assert "与办公室共同负责" in preview and "第 3–5 项" in preview


async def test_a_colleagues_submission_opens_read_only_with_who_and_when(
    harness: Harness,
) -> None:
    open_month(harness)
    first = await harness.liaison("school", 3704, "孙甲")
    second = await harness.liaison("school", 3705, "孙乙")
    await report(first, "中学", "甲的进展", "甲的计划")
    await second.send("/report")
    replies = await second.tap(button_for(second, "中学"))
    text = replies.last.text
    assert "已由孙甲于 2015-11-02 10:00 提交" in text and "甲的进展" in text
    assert replies.last.buttons == [EDIT, "📋 返回列表"]  # 修改 explicitly, no draft begun
    replies = await second.tap("📋 返回列表")
    assert "中学（中职）共青团工作 —— 已提交" in replies.last.text
    await second.tap(button_for(second, "中学"))
    replies = await second.tap(EDIT)
    assert SUBMIT not in replies.last.buttons  # nothing changed yet
    await second.tap("修改下一步计划")
    await second.send("乙补充的计划")
    await second.tap(DONE)
    replies = await second.tap(SUBMIT)
    assert "第 2 版" in replies[0].text


async def test_a_discarded_draft_is_not_shown_as_a_draft(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("pioneers", 3706, "林弃")
    await start_item(liaison, "少先队")
    await liaison.send("写了又不要")
    await liaison.tap(CANCEL)
    await liaison.tap("确认放弃")
    replies = await liaison.send("/report")
    assert "少先队专业化建设工作 —— 未开始" in replies.last.text


async def test_a_late_submission_is_confirmed_truthfully(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("social", 3707, "吴迟")
    harness.now = datetime(2015, 11, 6, 2, 0, tzinfo=UTC)  # past the due time, still open
    await report(liaison, "两新组织", "进展", "计划")
    text = liaison.last.text
    assert "逾期" in text and "截止前仍可修改" not in text


async def test_after_the_period_closed_the_last_one_can_be_read(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("rural", 3708, "冯读")
    await report(liaison, "基层服务型", "十月的进展", "十月的计划")
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None
        close_period(db, period)
    replies = await liaison.send("/report")
    assert "没有开放的填报期" in replies.last.text and "2015-10" in replies.last.text
    replies = await liaison.tap(button_for(liaison, "基层服务型"))
    assert "只读" in replies.last.text and "十月的进展" in replies.last.text
    assert not replies.last.buttons


async def test_a_liaison_joining_an_open_period_is_told_what_is_due(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3709, "王新")
    text = liaison.last.text
    assert "2015-10 填报期正在进行" in text and "截止 2015-11-05 17:00" in text
    assert "3 项" in text
