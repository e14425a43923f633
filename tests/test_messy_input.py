"""Liaisons send what they have, as a real office did: their own numbers on items sent
one by one, sub-lists inside an item, both parts in one paste, and chat in between."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from docx import Document
from sqlmodel import select

from bot.core.document import render_summary
from bot.core.periods import parse_due
from storage.db import session_scope
from storage.models import Department, Submission, WorkItem
from storage.periods import get_period, open_period
from storage.submissions import submission_for
from storage.summary import build_summary
from tests.harness import Harness
from tests.test_report import start_item

SHANGHAI = ZoneInfo("Asia/Shanghai")
DONE, SUBMIT, UNDO = "✅ 完成本部分", "📤 提交", "↩️ 撤销上一项"
FILL_BOTH, NO_SPLIT = "✅ 分别填入两部分", "✖️ 不拆分，都作为本部分条目"
ADD, IGNORE = "✅ 添加为一项", "✖️ 忽略"


def open_month(harness: Harness) -> None:
    with session_scope(harness.engine) as db:
        open_period(db, "2015-10", parse_due("2015-11-05 17:00", SHANGHAI))
    harness.now = datetime(2015, 11, 2, 2, 0, tzinfo=UTC)


def stored(harness: Harness, title: str, dept_code: str) -> Submission:
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        item = db.exec(select(WorkItem).where(WorkItem.title == title)).one()
        dept = db.exec(select(Department).where(Department.code == dept_code)).one()
        assert period is not None
        return submission_for(db, period, item.id or 0, dept.id or 0)


def document_cells(harness: Harness, row: int) -> tuple[list[str], list[str]]:
    """The compiled document's two cells of one row (1-based), paragraph by paragraph."""
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None
        summary, _ = build_summary(db, period)
    cells = Document(io.BytesIO(render_summary(summary))).tables[0].rows[row].cells
    return [p.text for p in cells[2].paragraphs], [p.text for p in cells[3].paragraphs]


async def test_items_sent_one_per_message_are_not_numbered_twice(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 4001, "王芳")
    await start_item(liaison, "团干部队伍建设")
    for text in (
        "1.举办第三期全省团干主体培训班",
        "（2）开展团干部大讨论活动",
        "3.12月18日召开全省组织工作座谈会",
        "12月18日，团省委党组开展专题研讨",
    ):
        replies = await liaison.send(text)
    echo = replies.last.text
    assert "（2）" not in echo and "3.12月18日" not in echo
    assert "12月18日召开全省组织工作座谈会" in echo
    # A second pasted block that goes on from the liaison's item 4.
    await liaison.send("5.督导各级配齐班子\n6.2017年以来累计培训1148360名团员")
    await liaison.tap(DONE)
    await liaison.send("1.落实培训班实施方案")
    await liaison.send("二、完善团干培训师资库")
    preview = "\n".join((await liaison.tap(DONE)).texts)
    assert "2.开展团干部大讨论活动" in preview and "2.（2）" not in preview
    assert "3.12月18日召开全省组织工作座谈会" in preview and "3.3." not in preview
    assert "4.12月18日，团省委党组开展专题研讨" in preview
    assert "6.2017年以来累计培训1148360名团员" in preview
    await liaison.tap(SUBMIT)

    submission = stored(harness, "团干部队伍建设", "org")
    assert submission.progress == [
        "举办第三期全省团干主体培训班",
        "开展团干部大讨论活动",
        "12月18日召开全省组织工作座谈会",
        "12月18日，团省委党组开展专题研讨",
        "督导各级配齐班子",
        "2017年以来累计培训1148360名团员",
    ]
    assert submission.plan == ["落实培训班实施方案", "完善团干培训师资库"]
    progress, plan = document_cells(harness, 3)
    assert progress[1] == "2.开展团干部大讨论活动" and plan == [
        "1.落实培训班实施方案",
        "2.完善团干培训师资库",
    ]


async def test_a_sub_list_stays_inside_its_item_in_the_preview_and_the_document(
    harness: Harness,
) -> None:
    open_month(harness)
    liaison = await harness.liaison("publicity", 4002, "褚九")
    await start_item(liaison, "宣传思想")
    await liaison.send("1.召开全省宣传工作会议")
    replies = await liaison.send(
        "2.依托新媒体开设专栏：\n1.推出图文报道12期；\n2.其中阅读量最高的一期达10万次。"
    )
    assert "\n3. " not in replies.last.text and "\n2. 依托" in replies.last.text  # two items
    await liaison.send("3.举办网络文化节")
    for text in ("4.开展青年网络文明志愿行动：", "1.招募志愿者；", "2.开展培训"):
        await liaison.send(text)  # a sub-list sent one line per message
    replies = await liaison.tap(UNDO)  # takes back that line, not the whole item
    assert "招募志愿者" in replies.last.text and "开展培训" not in replies.last.text
    await liaison.send("2.开展培训。")
    await liaison.tap(DONE)
    await liaison.send("加强新媒体矩阵建设")
    preview = "\n".join((await liaison.tap(DONE)).texts)
    expected = [
        "1.召开全省宣传工作会议",
        "2.依托新媒体开设专栏：",
        "（1）推出图文报道12期；",
        "（2）其中阅读量最高的一期达10万次。",
        "3.举办网络文化节",
        "4.开展青年网络文明志愿行动：",
        "（1）招募志愿者；",
        "（2）开展培训。",
    ]
    assert "\n".join(expected) in preview
    await liaison.tap(SUBMIT)
    assert len(stored(harness, "共青团宣传思想工作", "publicity").progress) == 4
    progress, _ = document_cells(harness, 4)
    assert progress == expected  # the document reads as the preview did


async def test_both_parts_in_one_paste_fill_both_after_a_check(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("youth", 4003, "郑凯")
    await start_item(liaison, "创新创业")
    replies = await liaison.send(
        "一、本月工作进展\n1.举办创新创业大赛\n2.开展青年就业见习\n"
        "二、下一步工作打算\n1.总结大赛成果\n2.扩大见习岗位"
    )
    shown = replies.last.text
    assert shown.index("本月份推进情况") < shown.index("举办创新创业大赛")
    assert shown.index("下一步推进计划") < shown.index("总结大赛成果")
    assert replies.last.buttons == [FILL_BOTH, NO_SPLIT]
    replies = await liaison.tap(FILL_BOTH)
    assert replies.last.buttons[0] == SUBMIT  # straight to the preview
    await liaison.tap(SUBMIT)
    submission = stored(harness, "促进青年创新创业就业工作", "youth")
    assert submission.progress == ["举办创新创业大赛", "开展青年就业见习"]
    assert submission.plan == ["总结大赛成果", "扩大见习岗位"]


async def test_a_paste_with_headings_can_still_go_in_as_it_is(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("rights", 4004, "韩梅")
    await start_item(liaison, "维权")
    # The heading of the part being filled is not an item.
    replies = await liaison.send("【本月完成情况】\n1.开展普法宣传\n2.受理青少年来信")
    assert "本月完成情况" not in replies.last.text and "2. 受理青少年来信" in replies.last.text
    replies = await liaison.send("本月份推进情况：举办维权培训。下一步推进计划：开展专项调研。")
    assert replies.last.buttons == [FILL_BOTH, NO_SPLIT]
    replies = await liaison.tap(NO_SPLIT)
    assert replies.last.buttons[0] == DONE
    await liaison.tap(DONE)
    await liaison.send("跟进来信办理")
    await liaison.tap(DONE)
    await liaison.tap(SUBMIT)
    submission = stored(harness, "青少年维权工作", "rights")
    assert submission.progress == [
        "开展普法宣传",
        "受理青少年来信",
        "本月份推进情况：举办维权培训。下一步推进计划：开展专项调研。",
    ]
    assert submission.plan == ["跟进来信办理"]


async def test_chat_while_collecting_is_asked_about_not_added(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("volunteer", 4005, "赵敏")
    await start_item(liaison, "志愿服务")
    await liaison.send("1.开展志愿服务月活动")
    replies = await liaison.send("好的收到")
    assert "不像工作条目" in replies.last.text and "好的收到" in replies.last.text
    assert replies.last.buttons == [ADD, IGNORE]
    replies = await liaison.send("再发一项")  # a message instead of an answer changes nothing
    assert "按钮" in replies.last.text
    replies = await liaison.tap(IGNORE)
    assert "好的收到" not in replies.last.text and "开展志愿服务月活动" in replies.last.text

    await liaison.send("谢谢！")
    await harness.restart()  # the question and its text survive a restart
    replies = await liaison.send("/report")
    assert "谢谢！" in replies.last.text and replies.last.buttons == [ADD, IGNORE]
    replies = await liaison.tap(ADD)
    assert "2. 谢谢！" in replies.last.text

    replies = await liaison.send("暂无")  # short, but an item: taken at once
    assert "3. 暂无" in replies.last.text
    await liaison.tap(DONE)
    await liaison.send("继续开展志愿服务")
    await liaison.tap(DONE)
    await liaison.tap(SUBMIT)
    assert stored(harness, "志愿服务重点工作", "volunteer").progress == [
        "开展志愿服务月活动",
        "谢谢！",
        "暂无",
    ]


async def test_english_liaison_is_asked_in_english(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("intl", 4006, "Amy", language_code="en")
    await start_item(liaison, "港澳台")
    replies = await liaison.send("ok thanks")
    assert "does not look like a work item" in replies.last.text
    replies = await liaison.tap("✖️ Ignore")
    assert "ok thanks" not in replies.last.text
    replies = await liaison.send("Progress this month:\nHosted a youth forum\nNext steps:\nA visit")
    assert replies.last.buttons == ["✅ Fill both parts", "✖️ No, all items of this part"]


async def test_both_parts_typed_on_one_line_survive_a_restart_before_the_answer(
    harness: Harness,
) -> None:
    open_month(harness)
    liaison = await harness.liaison("school", 4007, "孙丽")
    await start_item(liaison, "中学")
    await liaison.send("开展中学团课")  # progress already under way
    await liaison.send(
        "本月份推进情况：1.召开中学团建会 2.开展团课评比 下一步推进计划：1.总结评比 2.推广经验"
    )
    await harness.restart()
    replies = await liaison.send("/report")
    assert replies.last.buttons == [FILL_BOTH, NO_SPLIT]
    replies = await liaison.tap(FILL_BOTH)
    preview = "\n".join(replies.texts)
    assert "1.开展中学团课\n2.召开中学团建会\n3.开展团课评比" in preview
    assert "1.总结评比\n2.推广经验" in preview
    await liaison.tap(SUBMIT)
    submission = stored(harness, "中学（中职）共青团工作", "school")
    assert submission.progress == ["开展中学团课", "召开中学团建会", "开展团课评比"]
    assert submission.plan == ["总结评比", "推广经验"]


async def test_a_plan_heading_moves_on_to_the_plan(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("pioneers", 4008, "林涛")
    await start_item(liaison, "少先队")
    await liaison.send("一、本月工作进展")
    replies = await liaison.send("1.召开少代会筹备会\n2.开展队前教育")
    assert "本月工作进展" not in replies.last.text
    replies = await liaison.send("二、下一步工作打算")
    assert "下一步推进计划" in replies.last.text and "召开少代会筹备会" not in replies.last.text
    await liaison.send("1.召开少代会")
    await liaison.tap(DONE)
    await liaison.tap(SUBMIT)
    submission = stored(harness, "少先队专业化建设工作", "pioneers")
    assert submission.progress == ["召开少代会筹备会", "开展队前教育"]
    assert submission.plan == ["召开少代会"]
