"""A liaison reports the month through the chat, as on a phone (issue: intake conversation)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from docx import Document
from sqlmodel import select

from bot.core.document import render_summary
from bot.core.periods import parse_due
from bot.core.summary import cell_paragraphs
from bot.demo.sample_month import SAMPLE_RAW, SAMPLE_ROWS, SAMPLE_TITLES
from bot.double import FakeUser, SentMessage
from storage.db import session_scope
from storage.models import Department, Submission, SubmissionRevision, WorkItem
from storage.periods import close_period, get_period, open_period
from storage.submissions import submission_for
from storage.summary import build_summary
from tests.harness import Harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
DONE, UNDO, EDIT, CANCEL = "✅ 完成本部分", "↩️ 撤销上一项", "✏️ 修改", "✖️ 取消"
SUBMIT, BACK = "📤 提交", "⬅️ 返回"


def open_month(harness: Harness, month: str = "2015-10", due: str = "2015-11-05 17:00") -> None:
    with session_scope(harness.engine) as db:
        open_period(db, month, parse_due(due, SHANGHAI))
    harness.now = datetime(2015, 11, 2, 2, 0, tzinfo=UTC)


def stored(harness: Harness, title: str, dept_code: str, month: str = "2015-10") -> Submission:
    with session_scope(harness.engine) as db:
        period = get_period(db, month)
        item = db.exec(select(WorkItem).where(WorkItem.title == title)).one()
        dept = db.exec(select(Department).where(Department.code == dept_code)).one()
        assert period is not None
        return submission_for(db, period, item.id or 0, dept.id or 0)


def button_for(user: FakeUser, title: str) -> str:
    return next(b for b in user.last.buttons if title in b)


async def start_item(user: FakeUser, title: str) -> None:
    replies = await user.send("/report")
    await user.tap(next(b for b in replies.last.buttons if title in b))


async def test_rows_1_to_3_pasted_as_blocks_are_stored_as_the_sample(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3001, "王芳")
    previews: dict[int, str] = {}
    for row in (1, 2, 3):
        title = SAMPLE_TITLES[row - 1]
        progress_text, plan_text = SAMPLE_RAW[row]
        await start_item(liaison, title)
        replies = await liaison.send(progress_text)
        assert replies.last.buttons[0] == DONE
        await liaison.tap(DONE)
        await liaison.send(plan_text)
        replies = await liaison.tap(DONE)
        previews[row] = "\n".join(m.text for m in replies)
        replies = await liaison.tap(SUBMIT)
        assert "已提交" in replies[0].text

    for row in (1, 2, 3):
        submission = stored(harness, SAMPLE_TITLES[row - 1], "org")
        assert (submission.progress, submission.plan) == SAMPLE_ROWS[row]
        assert submission.status == "submitted"

    # The preview shows each cell exactly as the compiled document does.
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None
        summary, _ = build_summary(db, period)
    document = Document(io.BytesIO(render_summary(summary)))
    table = document.tables[0]
    for row in (1, 3):  # rows whose other departments did not report: cells are this one's
        cells = table.rows[row].cells
        for column in (2, 3):
            cell_text = "\n".join(p.text for p in cells[column].paragraphs)
            assert cell_text in previews[row]
            assert cell_text == "\n".join(cell_paragraphs(SAMPLE_ROWS[row][column - 2]))


async def test_items_sent_one_by_one_with_undo_edit_delete_reorder_insert(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("intl", 3002, "李雷")
    await start_item(liaison, "港澳台")
    for text in ("甲项工作", "乙项工作", "丙项工作", "多余的一项"):
        await liaison.send(text)
    replies = await liaison.tap(UNDO)
    assert "多余的一项" not in replies.last.text and "丙项工作" in replies.last.text

    await liaison.tap(EDIT)
    await liaison.tap("3")
    replies = await liaison.tap("上移")  # 丙 moves above 乙
    await liaison.tap(BACK)
    await liaison.tap("1")
    await liaison.tap("替换")
    await liaison.send("甲项工作（修订）")
    await liaison.tap(EDIT)
    await liaison.tap("3")
    await liaison.tap("删除")  # removes 乙
    await liaison.tap("1")
    await liaison.tap("在后面插入")
    replies = await liaison.send("插入的一项")
    texts = replies.last.text
    assert texts.index("甲项工作（修订）") < texts.index("插入的一项") < texts.index("丙项工作")
    assert "乙项工作" not in texts
    await liaison.tap(DONE)
    await liaison.send("下一步")
    await liaison.tap(DONE)
    await liaison.tap(SUBMIT)
    submission = stored(harness, "港澳台青少年及国际青年交流工作", "intl")
    assert submission.progress == ["甲项工作（修订）", "插入的一项", "丙项工作"]
    assert submission.plan == ["下一步"]


async def test_a_restart_resumes_the_draft_where_it_was(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("rights", 3003, "韩梅")
    await start_item(liaison, "维权")
    await liaison.send("1.第一项\n2.第二项")
    await liaison.tap(DONE)
    await liaison.send("计划一")
    await harness.restart()
    replies = await liaison.send("计划二")
    assert "计划一" in replies.last.text and "计划二" in replies.last.text
    await harness.restart()
    replies = await liaison.send("/report")
    assert "继续填写" in replies.last.text
    replies = await liaison.tap(DONE)
    assert "1.第一项" in "\n".join(replies.texts)
    await liaison.tap(SUBMIT)
    submission = stored(harness, "青少年维权工作", "rights")
    assert submission.progress == ["第一项", "第二项"] and submission.plan == ["计划一", "计划二"]


async def test_cancel_asks_before_discarding(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("volunteer", 3004, "赵敏")
    await start_item(liaison, "志愿服务")
    await liaison.send("一项内容")
    replies = await liaison.tap(CANCEL)
    assert "确定放弃" in replies.last.text
    replies = await liaison.tap("继续填写")
    assert "一项内容" in replies.last.text
    replies = await liaison.send("/cancel")
    assert "确定放弃" in replies.last.text
    replies = await liaison.tap("确认放弃")
    assert "已放弃" in replies.last.text
    replies = await liaison.send("/report")
    assert "未开始" in replies.last.text or "草稿" in replies.last.text
    replies = await liaison.tap(button_for(liaison, "志愿服务"))
    assert "一项内容" not in replies.last.text


async def test_unexpected_input_changes_nothing(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("pioneers", 3005, "林涛")
    await start_item(liaison, "少先队")
    await liaison.send("已有的一项")
    before = stored(harness, "少先队专业化建设工作", "pioneers")

    for attempt, expected in (
        (liaison.send_sticker(), "请发送文字"),
        (liaison.send_photo(), "请发送文字"),
        (liaison.send_voice(), "请发送文字"),
        (liaison.send_document(b"%PDF-1.4", "report.pdf"), "请发送文字"),
        (liaison.send("长" * 5000), "消息太长"),
        (liaison.send("   \u3000  \n  "), "为空"),
        (liaison.send("/nonsense"), "无法识别"),
    ):
        replies = await attempt
        assert expected in replies.last.text

    replies = await liaison.send("/whoami")  # a command mid-flow works and keeps the draft
    assert "少年部" in replies.last.text
    replies = await liaison.send("/report")
    assert "已有的一项" in replies.last.text

    group = harness.double.group(-4001, "协调群")
    replies = await group.send(liaison, "发错地方的内容")
    assert "私聊" in replies.last.text
    replies = await group.send(liaison, "/report")
    assert "私聊" in replies.last.text

    replies = await liaison.send("下一项")
    assert "已有的一项" in replies.last.text and "下一项" in replies.last.text
    after = stored(harness, "少先队专业化建设工作", "pioneers")
    assert after.version == before.version and after.progress == before.progress


async def test_buttons_of_old_messages_are_recognised(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("social", 3006, "吴桐")
    await start_item(liaison, "两新组织")
    first = (await liaison.send("第一项")).last
    old_buttons = first.reply_markup
    await liaison.send("第二项")
    assert not first.buttons  # a superseded screen loses its buttons
    # A client that still shows them (Telegram did not take the removal, say):
    harness.double.chat(liaison.id).messages[first.message_id].reply_markup = old_buttons
    replies = await liaison.tap(UNDO, message=first)  # the undo button of an older message
    assert replies.answer is not None and "失效" in (replies.answer.text or "")
    assert "第二项" in replies.last.text  # nothing was undone; the current draft is shown

    # A button from a period that has since closed.
    listing = await liaison.send("/report")
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None
        close_period(db, period)
    replies = await liaison.tap(listing.last.buttons[0], message=listing.last)
    assert "已结束" in replies[0].text


async def test_carry_forward_from_last_month_with_a_warning_when_unchanged(
    harness: Harness,
) -> None:
    open_month(harness, "2015-09", "2015-10-08 17:00")
    liaison = await harness.liaison("youth", 3007, "郑凯")
    await start_item(liaison, "创新创业")
    await liaison.send("九月推进")
    await liaison.tap(DONE)
    await liaison.send("1.十月计划甲\n2.十月计划乙")
    await liaison.tap(DONE)
    await liaison.tap(SUBMIT)
    with session_scope(harness.engine) as db:
        september = get_period(db, "2015-09")
        assert september is not None
        close_period(db, september)
    open_month(harness)

    replies = await liaison.send("/report")
    replies = await liaison.tap(button_for(liaison, "创新创业"))
    assert "上月" in replies.last.text and "十月计划甲" in replies.last.text
    replies = await liaison.tap("📋 以上月计划为起点")
    assert "十月计划乙" in replies.last.text
    await liaison.tap(DONE)
    await liaison.send("十一月计划")
    replies = await liaison.tap(DONE)
    assert "完全相同" in "\n".join(replies.texts)
    await liaison.tap(SUBMIT)
    carried = stored(harness, "促进青年创新创业就业工作", "youth")
    assert carried.progress == ["十月计划甲", "十月计划乙"]


async def test_revisions_are_kept_and_closed_periods_are_read_only(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("school", 3008, "孙丽")
    await start_item(liaison, "中学")
    await liaison.send("第一版内容")
    await liaison.tap(DONE)
    await liaison.send("计划")
    await liaison.tap(DONE)
    await liaison.tap(SUBMIT)

    replies = await liaison.send("/report")
    replies = await liaison.tap(button_for(liaison, "中学"))
    assert "第 1 版" in replies.last.text and "孙丽" in replies.last.text
    await liaison.tap(EDIT)
    await liaison.tap("修改推进情况")
    await liaison.tap(UNDO)
    await liaison.send("第二版内容")
    await liaison.tap(DONE)
    replies = await liaison.tap(SUBMIT)
    assert "第 2 版" in replies[0].text

    submission = stored(harness, "中学（中职）共青团工作", "school")
    with session_scope(harness.engine) as db:
        history = db.exec(
            select(SubmissionRevision).where(SubmissionRevision.submission_id == submission.id)
        ).all()
    assert [r.progress for r in history] == [["第一版内容"], ["第二版内容"]]
    assert all(r.submitted_by == 3008 for r in history)

    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None
        close_period(db, period)
    replies = await liaison.send("/report")
    assert "没有开放的填报期" in replies.last.text


async def test_the_list_shows_each_items_state_for_the_department_only(harness: Harness) -> None:
    open_month(harness)
    org = await harness.liaison("org", 3011, "王芳")
    office = await harness.liaison("office", 3012, "陈静")  # shares 团的制度建设 with org

    async def fill_and_submit() -> SentMessage:
        await org.send("进展")
        await org.tap(DONE)
        await org.send("计划")
        await org.tap(DONE)
        return (await org.tap(SUBMIT))[0]  # the list follows the submit

    await start_item(org, "团的制度建设")
    await fill_and_submit()
    await start_item(org, "基层服务型")
    await org.send("写了一半")
    harness.now = datetime(2015, 11, 6, 2, 0, tzinfo=UTC)  # past the due time, still open
    await org.tap("📋 返回列表")  # the draft stays
    await org.tap(button_for(org, "团干部队伍"))
    lines = (await fill_and_submit()).text.splitlines()
    assert [line for line in lines if "——" in line] == [
        "1. 团的制度建设 —— 已提交",
        "2. 基层服务型团组织建设 —— 草稿",
        "3. 团干部队伍建设 —— 逾期提交",
    ]
    # Another department's liaison sees its own state of the shared item, and only its items.
    text = (await office.send("/report")).last.text
    assert "团的制度建设 —— 未开始" in text and "团干部队伍建设" not in text


async def test_two_liaisons_of_one_department_do_not_lose_an_update(harness: Harness) -> None:
    open_month(harness)
    first = await harness.liaison("org", 3009, "甲联络员")
    second = await harness.liaison("org", 3010, "乙联络员")
    for user in (first, second):
        await start_item(user, "团干部")
    await first.send("甲的内容")
    await first.tap(DONE)
    await first.send("甲的计划")
    await first.tap(DONE)
    await second.send("乙的内容")
    await second.tap(DONE)
    await second.send("乙的计划")
    await second.tap(DONE)

    await first.tap(SUBMIT)
    replies = await second.tap(SUBMIT)
    text = "\n".join(replies.texts)
    assert "本部门联络员甲联络员已于 2015-11-02 10:00 提交" in text and "甲的内容" in text
    assert stored(harness, "团干部队伍建设", "org").progress == ["甲的内容"]

    replies = await second.tap("采用新版本")
    assert "甲的内容" in replies.last.text
    assert SUBMIT not in replies.last.buttons  # nothing of the liaison's own to submit
    await second.tap("修改推进情况")
    await second.send("乙补充的内容")
    await second.tap(DONE)
    await second.tap(SUBMIT)
    assert stored(harness, "团干部队伍建设", "org").progress == ["甲的内容", "乙补充的内容"]
    assert stored(harness, "团干部队伍建设", "org").version == 2


async def test_english_liaison_reads_english(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("office", 3011, "Amy", language_code="en")
    replies = await liaison.send("/report")
    assert "due 2015-11-05 17:00" in replies.last.text
    replies = await liaison.tap(button_for(liaison, "团的制度建设"))
    assert "one item per message" in replies.last.text


async def test_no_open_period_says_so(harness: Harness) -> None:
    liaison = await harness.liaison("office", 3012, "钱七")
    replies = await liaison.send("/report")
    assert "没有开放的填报期" in replies.last.text
    coordinator = harness.coordinator()
    replies = await coordinator.send("/report")
    assert "仅供各部门联络员" in replies.last.text


async def test_user_text_is_escaped(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("rural", 3013, "冯八")
    await start_item(liaison, "基层服务型")
    replies = await liaison.send("<b>A&B</b> <script>")
    assert "<b>A&B</b> <script>" in replies.last.text


async def test_long_cells_are_split_between_items_never_inside_one(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("publicity", 3014, "褚九")
    await start_item(liaison, "宣传思想")
    items = [f"第{n}项" + "内容" * 600 + f"结束{n}" for n in range(1, 8)]
    for item in items:
        await liaison.send(item)
    before = liaison.last.message_id
    replies = await liaison.send("/report")
    replies = type(replies)(m for m in replies if m.message_id > before)  # the new messages
    assert len(replies) >= 3
    shown = "\n".join(replies.texts)
    for item in items:
        assert item in shown  # every item whole, in one message
        assert sum(item in text for text in replies.texts) == 1
    assert all(len(text) <= 4096 for text in replies.texts)
    assert replies.last.buttons[0] == DONE
