"""A coordinator reads a department's report (/show), returns items for revision with a
reason, the liaison revises, and whoever returned it hears of the new version (issue 13)."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from docx import Document
from sqlmodel import select

from bot.core.people import PersonRole
from bot.core.summary import cell_paragraphs
from bot.double import FakeUser, SentMessage
from bot.double.models import Replies
from handlers import buttons
from handlers.reminders import run_reminder_pass
from storage.audit import last_return
from storage.db import session_scope
from storage.models import AuditEvent, Prompt, Submission
from storage.people import create_invite
from storage.periods import get_period
from storage.roster import department_by_code
from tests.harness import Harness
from tests.test_report import DONE, SUBMIT, open_month, start_item, stored

INTL = "港澳台青少年及国际青年交流工作"
CADRES = "团干部队伍建设"  # org's own item (row 3)
ASK = "请输入退回理由"


async def submit_item(user: FakeUser, title: str, progress: str, plan: str) -> None:
    await start_item(user, title)
    sent = await user.send(progress)
    assert DONE in sent.last.buttons, [str(m) for m in user.messages]
    await user.tap(DONE)
    await user.send(plan)
    await user.tap(DONE)
    replies = await user.tap(SUBMIT)
    assert "已提交" in replies[0].text


async def approver(harness: Harness, dept_code: str, user_id: int, name: str) -> FakeUser:
    with session_scope(harness.engine) as db:
        department = department_by_code(db, dept_code)
        assert department is not None
        token = create_invite(
            db, department, ttl=timedelta(days=7), created_by="test", role=PersonRole.APPROVER
        )
    user = harness.double.user(user_id, name, language_code="zh-hans")
    await user.send(f"/start {token}")
    return user


async def forge(user: FakeUser, data: str) -> Replies:
    """A tap with callback data the user's client made up (on some bot message of theirs)."""
    double, message = user.double, user.last
    qid = double.new_callback_query(user.state, message, data)
    body = {
        "callback_query": {
            "id": qid,
            "from": user.state.to_json(),
            "message": double.message_json(message),
            "chat_instance": str(user.chat_id),
            "data": data,
        }
    }
    replies = await double.act(user.chat_id, body)
    replies.answer = double.callback_answer(qid)
    return replies


def rows(harness: Harness) -> list[Any]:
    """What a return could change: submissions, the audit trail, open questions."""
    with session_scope(harness.engine) as db:
        found: list[Any] = []
        for model in (Submission, AuditEvent, Prompt):
            found += [r.model_dump() for r in db.exec(select(model))]
        return found


def button(message: SentMessage, start: str) -> str:
    return next(b for b in message.buttons if b.startswith(start))


def counts(harness: Harness) -> tuple[int, int]:
    double = harness.double
    return len(double.calls_to("sendMessage")), len(double.calls_to("editMessageText"))


async def wait_for_document(chat: FakeUser, timeout: float = 15.0) -> SentMessage:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        documents = [m for m in chat.messages if m.document is not None]
        if documents:
            return documents[-1]
        await asyncio.sleep(0.05)
    raise AssertionError("no document arrived")


# --- /show ------------------------------------------------------------------------


async def test_show_gives_the_cells_as_the_document_does_with_who_when_and_version(
    harness: Harness,
) -> None:
    open_month(harness)
    org = await harness.liaison("org", 3101, "王芳")
    await submit_item(org, CADRES, "1.培训团干部\n2.开展考核", "继续培训")
    coordinator = harness.coordinator()
    replies = await coordinator.send("/show org")
    text = "\n".join(replies.texts)
    assert "组织部 · 2015-10 报送内容" in text
    assert "1. 团的制度建设 —— 未开始" in text
    assert "3. 团干部队伍建设 —— 已提交" in text
    assert "第 1 版 · 王芳 · 2015-11-02 10:00" in text
    for paragraph in [*cell_paragraphs(["培训团干部", "开展考核"]), "继续培训"]:
        assert paragraph in text
    submission = stored(harness, CADRES, "org")
    assert replies.last.buttons == ["↩️ 退回「团干部队伍建设」", "↩️ 全部退回"]
    datas = [b.callback_data for row in replies.last.button_rows for b in row]
    assert buttons.return_item(submission.id or 0, 1) in datas
    # By the department's name too, and for a month named.
    replies = await coordinator.send("/show 组织部 2015-10")
    assert "3. 团干部队伍建设 —— 已提交" in replies.last.text


async def test_long_content_splits_between_paragraphs(harness: Harness) -> None:
    open_month(harness)
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None
    sub = stored(harness, CADRES, "org")
    with session_scope(harness.engine) as db:
        found = db.get(Submission, sub.id)
        assert found is not None
        found.progress = [f"第{n}项" + "很长的内容" * 60 for n in range(20)]
        found.plan, found.status, found.version = ["计划"], "submitted", 1
        found.submitted_at = datetime(2015, 11, 2, 2, 0, tzinfo=UTC)
        db.add(found)
    replies = await harness.coordinator().send("/show org")
    assert len(replies) > 1
    assert all(len(m.html) <= 4096 for m in replies)
    assert [bool(m.buttons) for m in replies] == [False] * (len(replies) - 1) + [True]
    text = "\n".join(replies.texts)
    assert all(f"第{n}项" in text for n in range(20))


async def test_unknown_department_names_the_codes(harness: Harness) -> None:
    open_month(harness)
    coordinator = harness.coordinator()
    replies = await coordinator.send("/show nowhere")
    assert len(replies) == 1
    assert "nowhere" in replies.last.text and "org" in replies.last.text
    assert "intl" in replies.last.text
    replies = await coordinator.send("/show")
    assert "用法" in replies.last.text


async def test_others_may_not_show_or_return(harness: Harness) -> None:
    open_month(harness)
    org = await harness.liaison("org", 3102, "王芳")
    await submit_item(org, CADRES, "培训", "计划")
    sub = stored(harness, CADRES, "org")
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        org_dept = department_by_code(db, "org")
        assert period is not None and org_dept is not None
        period_id, dept_id = period.id or 0, org_dept.id or 0
    stranger = harness.double.user(3999, "路人", language_code="zh-hans")
    await stranger.send("/start")
    other_approver = await approver(harness, "intl", 3103, "赵主任")
    before = rows(harness)
    for user in (org, stranger, other_approver):
        replies = await user.send("/show org")
        assert "报送内容" not in replies.last.text
        for data in (
            buttons.return_item(sub.id or 0, 1),
            buttons.return_department(period_id, dept_id),
            buttons.history(sub.id or 0),
            buttons.show_department(period_id, dept_id),
        ):
            replies = await forge(user, data)
            assert replies.answer is not None and replies.answer.text, (user, data)
            assert ASK not in "\n".join(replies.texts)
        await user.send("这是理由")
    assert rows(harness) == before
    # Their own department's approver may not return a version that already counts.
    org_approver = await approver(harness, "org", 3104, "钱主任")
    replies = await forge(org_approver, buttons.return_item(sub.id or 0, 1))
    assert replies.answer is not None and "只有协调员" in (replies.answer.text or "")
    assert rows(harness) == before


# --- the whole cycle --------------------------------------------------------------


async def test_return_revise_resubmit_cycle(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("intl", 3201, "王芳")
    await submit_item(liaison, "港澳台", "举办交流活动三场", "筹备明年交流营")
    coordinator = harness.coordinator()
    sent_before, edited_before = counts(harness)
    actions = 0

    replies = await coordinator.send("/show intl")
    actions += 1
    assert "举办交流活动三场" in "\n".join(replies.texts)
    replies = await coordinator.tap(button(replies.last, "↩️ 退回「"))
    actions += 1
    assert ASK in replies.last.text and not replies.last.buttons
    replies = await coordinator.send("请补充具体数字")
    actions += 1
    assert "已退回国际联络部" in replies.last.text and "王芳" in replies.last.text

    notice = liaison.last
    assert notice.text == f"【退回修改】2015-10「{INTL}」：请补充具体数字（李明）"
    assert notice.buttons == ["✏️ 修改"]
    submission = stored(harness, INTL, "intl")
    assert submission.status == "returned"
    with session_scope(harness.engine) as db:
        entry = last_return(db, submission.id or 0)
        assert entry is not None and entry.detail["reason"] == "请补充具体数字"
        assert entry.actor.name == "李明"

    status = await coordinator.send("/status")
    assert "国际联络部：↩️ 已退回" in "\n".join(status.texts)
    assert status.last.buttons[:3] == ["办公室", "组织部", "宣传部"]
    listing = await liaison.send("/report")
    assert "港澳台青少年及国际青年交流工作 —— 已退回" in listing.last.text
    await liaison.send("/cancel")  # leave the list as it was

    replies = await liaison.tap("✏️ 修改", message=notice)
    actions += 1
    text = "\n".join(replies.texts)
    assert "退回修改：请补充具体数字" in text and "举办交流活动三场" in text
    assert "📤 提交" in replies.last.buttons
    await liaison.tap("修改推进情况")
    await liaison.send("新增交流活动两场")
    await liaison.tap(DONE)
    replies = await liaison.tap(SUBMIT)
    actions += 4
    assert "第 2 版" in replies[0].text

    resubmitted = coordinator.last
    assert resubmitted.text == f"国际联络部已重新提交「{INTL}」（第 2 版）"
    assert resubmitted.buttons == ["📄 查看国际联络部"]
    sent_after, edited_after = counts(harness)
    print(
        f"one return-and-revise cycle: {actions} user actions (messages and taps), "
        f"{sent_after - sent_before} messages sent, {edited_after - edited_before} edited "
        "(besides /status and /report looked at in between)"
    )
    replies = await coordinator.tap("📄 查看国际联络部")
    assert "第 2 版 · 王芳" in "\n".join(replies.texts)
    assert "🕘 历史" in replies.last.buttons
    replies = await coordinator.tap("🕘 历史")
    history = "\n".join(replies.texts)
    assert history.index("第 1 版") < history.index("请补充具体数字") < history.index("第 2 版")

    await coordinator.send("/compile")
    sent = await wait_for_document(coordinator)
    assert sent.document is not None
    table = Document(io.BytesIO(sent.document.content)).tables[0]
    cells = table.rows[13].cells
    assert [p.text for p in cells[2].paragraphs] == ["1.举办交流活动三场", "2.新增交流活动两场"]


async def test_a_returned_item_is_owed_in_reminders(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("intl", 3301, "王芳")
    await submit_item(liaison, "港澳台", "交流活动", "计划")
    coordinator = harness.coordinator()
    replies = await coordinator.send("/show intl")
    await coordinator.tap(button(replies.last, "↩️ 退回「"))
    await coordinator.send("不够具体")
    harness.now = datetime(2015, 11, 4, 1, 0, tzinfo=UTC)  # the day before the due time
    assert harness.app is not None
    await run_reminder_pass(harness.app)
    await harness.double.settle()
    reminder = liaison.last
    assert INTL in reminder.text
    datas = [b.callback_data or "" for row in reminder.button_rows for b in row]
    assert any(data.startswith("rp:o:") for data in datas)


async def test_whole_department_return(harness: Harness) -> None:
    open_month(harness)
    org = await harness.liaison("org", 3401, "王芳")
    await submit_item(org, CADRES, "培训", "计划")
    await submit_item(org, "基层服务型", "服务", "计划二")
    coordinator = harness.coordinator()
    replies = await coordinator.send("/show org")
    replies = await coordinator.tap("↩️ 全部退回")
    assert "全部 2 项" in replies.last.text
    replies = await coordinator.send("本月请按新格式")
    assert "基层服务型团组织建设" in replies.last.text and CADRES in replies.last.text
    notice = org.last
    assert notice.text.count("【退回修改】") == 2
    assert notice.buttons == ["✏️ 修改「基层服务型团组织建设」", "✏️ 修改「团干部队伍建设」"]
    assert stored(harness, CADRES, "org").status == "returned"
    assert stored(harness, "基层服务型团组织建设", "org").status == "returned"
    replies = await coordinator.send("/show org")
    assert "↩️ 全部退回" not in replies.last.buttons
    assert "↩️ 李明 于" in "\n".join(replies.texts)


async def test_an_old_return_button_after_resubmission_changes_nothing(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("intl", 3501, "王芳")
    await submit_item(liaison, "港澳台", "交流活动", "计划")
    coordinator = harness.coordinator()
    shown = await coordinator.send("/show intl")
    old = shown.last
    # The liaison revises meanwhile: the version on the button is no longer current.
    await liaison.send("/report")
    await liaison.tap(button(liaison.last, "1."))
    await liaison.tap("✏️ 修改")
    await liaison.tap("修改下一步计划")
    await liaison.send("再加一项")
    await liaison.tap(DONE)
    await liaison.tap(SUBMIT)
    before = rows(harness)
    replies = await coordinator.tap(button(old, "↩️ 退回「"), message=old)
    assert replies.answer is not None and "已有变化" in (replies.answer.text or "")
    assert rows(harness) == before


async def test_reason_rules_and_cancel(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("intl", 3601, "王芳")
    await submit_item(liaison, "港澳台", "交流活动", "计划")
    coordinator = harness.coordinator()
    replies = await coordinator.send("/show intl")
    await coordinator.tap(button(replies.last, "↩️ 退回「"))
    replies = await coordinator.send_sticker()
    assert "请用文字" in replies.last.text
    replies = await coordinator.send("太" * 501)
    assert "501" in replies.last.text and "500" in replies.last.text
    assert stored(harness, INTL, "intl").status == "submitted"
    replies = await coordinator.send("/cancel")
    assert "已取消退回" in replies.last.text
    with session_scope(harness.engine) as db:
        assert db.exec(select(Prompt)).first() is None
    replies = await coordinator.send("随便说一句")
    assert "已退回" not in replies.last.text
    assert stored(harness, INTL, "intl").status == "submitted"
    # Asked again, a reason of exactly 500 characters is taken.
    replies = await coordinator.send("/show intl")
    await coordinator.tap(button(replies.last, "↩️ 退回「"))
    replies = await coordinator.send("  " + "好" * 500 + "  ")
    assert "已退回" in replies.last.text
    assert stored(harness, INTL, "intl").status == "returned"


async def test_the_departments_approver_returns_a_pending_version(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("intl", 3701, "王芳")
    await submit_item(liaison, "港澳台", "交流活动", "计划")
    boss = await approver(harness, "intl", 3702, "赵主任")
    sub = stored(harness, INTL, "intl")
    with session_scope(harness.engine) as db:  # as a department with approvers hands in
        found = db.get(Submission, sub.id)
        assert found is not None
        found.status = "pending"
        db.add(found)
    replies = await forge(boss, buttons.return_item(sub.id or 0, 1))
    assert ASK in replies.last.text
    replies = await boss.send("数据有误")
    assert "已退回国际联络部" in replies.last.text
    assert liaison.last.text == f"【退回修改】2015-10「{INTL}」：数据有误（赵主任）"
    assert stored(harness, INTL, "intl").status == "returned"


async def test_a_question_left_unanswered_for_long_is_forgotten(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("intl", 3801, "王芳")
    await submit_item(liaison, "港澳台", "交流活动", "计划")
    coordinator = harness.coordinator()
    replies = await coordinator.send("/show intl")
    await coordinator.tap(button(replies.last, "↩️ 退回「"))
    assert harness.now is not None
    harness.now += timedelta(hours=2)
    replies = await coordinator.send("今天开会吗")
    assert "已退回" not in replies.last.text
    assert stored(harness, INTL, "intl").status == "submitted"
    with session_scope(harness.engine) as db:
        assert db.exec(select(Prompt)).first() is None
