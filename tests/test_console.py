"""The coordinator console in chat: /compile, /status, /period (issue: coordinator console)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from sqlalchemy.engine import Engine

from bot.core import document as document_module
from bot.core import texts
from bot.core.document import DEFAULT_TEMPLATE
from bot.core.period_command import PeriodAction, PeriodInputError
from bot.core.period_command import parse_period_command as parse
from bot.core.periods import parse_due
from bot.core.summary import cell_paragraphs
from bot.demo.sample_month import SAMPLE_RAW, SAMPLE_ROWS, SAMPLE_TITLES
from bot.double import FakeGroup, FakeUser, SentMessage
from handlers.chunks import CAPTION_LIMIT, fit_list, pack, visible_length
from handlers.common import Who
from handlers.coordinator import status_blocks
from handlers.reminders import run_reminder_pass
from storage.db import session_scope
from storage.people import identify
from storage.periods import get_period, open_period
from storage.submissions import assignments, submission_for, submit
from tests.harness import COORDINATOR_ID, Harness
from tests.test_summary import rewrite_part

SHANGHAI = ZoneInfo("Asia/Shanghai")
DONE, SUBMIT = texts.plain("zh-CN", "btn_done"), texts.plain("zh-CN", "btn_submit")
MISSING = "（未报送）"
FILENAME = "2015年10月重点工作推进情况汇总表.docx"


def local(text: str) -> datetime:
    return parse_due(text, SHANGHAI)


def open_month(harness: Harness, month: str = "2015-10", due: str = "2015-11-05 17:00") -> None:
    with session_scope(harness.engine) as db:
        open_period(db, month, local(due))
    harness.now = local("2015-11-02 10:00")


async def report(liaison: FakeUser, title: str, progress: str, plan: str) -> None:
    """A liaison reports one key work item through /report, pasting both cells."""
    replies = await liaison.send("/report")
    await liaison.tap(next(b for b in replies.last.buttons if title[:20] in b))
    await liaison.send(progress)
    await liaison.tap(DONE)
    await liaison.send(plan)
    await liaison.tap(DONE)
    replies = await liaison.tap(SUBMIT)
    assert "已提交" in replies[0].text, replies.texts


async def org_reports_rows_1_to_3(harness: Harness) -> FakeUser:
    org = await harness.liaison("org", 3001, "王芳")
    for row in (1, 2, 3):
        await report(org, SAMPLE_TITLES[row - 1], *SAMPLE_RAW[row])
    return org


async def wait_for_document(chat: FakeUser | FakeGroup, timeout: float = 15.0) -> SentMessage:
    """/compile renders off the event loop; wait for the upload rather than a quiet spell."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        documents = [m for m in chat.messages if m.document is not None]
        if documents:
            return documents[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no document arrived; last messages: {chat.messages[-3:]}")


def cell_texts(cell) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in cell.paragraphs]


# --- /compile -------------------------------------------------------------------


async def test_compile_after_rows_1_to_3_were_reported_in_chat(harness: Harness) -> None:
    open_month(harness)
    await org_reports_rows_1_to_3(harness)
    coordinator = harness.coordinator()
    await coordinator.send("/compile")
    sent = await wait_for_document(coordinator)

    assert "upload_document" in coordinator.chat_actions
    assert sent.document is not None
    assert sent.document.filename == FILENAME
    table = Document(io.BytesIO(sent.document.content)).tables[0]
    assert len(table.rows) == 1 + 13
    marks = {1: ["（办公室未报送）"], 2: ["（农村青年工作部未报送）"], 3: []}
    for row in (1, 2, 3):
        cells = table.rows[row].cells
        assert cell_texts(cells[0]) == [str(row)]
        assert cell_texts(cells[1]) == [SAMPLE_TITLES[row - 1], *marks[row]]
        progress, plan = SAMPLE_ROWS[row]
        assert cell_texts(cells[2]) == cell_paragraphs(progress)
        assert cell_texts(cells[3]) == cell_paragraphs(plan)
    assert table.rows[2].cells[2].paragraphs[0].text.startswith("1.在全省下发")
    for row in range(4, 14):
        cells = table.rows[row].cells
        assert cell_texts(cells[1]) == [SAMPLE_TITLES[row - 1]]
        assert cell_texts(cells[2]) == [MISSING] and cell_texts(cells[3]) == [MISSING]

    assert sent.caption is not None
    first, second = sent.caption.split("\n")
    missing = [f"{SAMPLE_TITLES[0]}（办公室）", f"{SAMPLE_TITLES[1]}（农村青年工作部）"]
    assert first == "已报送 1/13 项；未报送：" + "、".join([*missing, *SAMPLE_TITLES[3:]])
    assert second == (
        "（草稿：本期尚未结束，截止 2015-11-05 17:00，尚有 12 项未报送。"
        "结束本期后生成的是正式文本：/period close 2015-10）"
    )

    # A month named explicitly, one that does not exist, one that is not a month.
    replies = await coordinator.send("/compile 2015-10")
    again = await wait_for_document(coordinator)
    assert again.message_id != sent.message_id and again.document is not None
    assert again.document.filename == FILENAME
    replies = await coordinator.send("/compile 2015-09")
    assert "没有 2015-09 的填报期" in replies.last.text and "2015-10" in replies.last.text
    replies = await coordinator.send("/compile 2015-13")
    assert "2015-13" in replies.last.text and "2015-10 这样" in replies.last.text


async def test_compile_is_for_coordinators_only(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3001, "王芳")
    stranger = harness.double.user(4242, "路人")
    replies = await liaison.send("/compile")
    assert "仅供协调员使用" in replies.last.text
    replies = await stranger.send("/compile 2015-10")
    assert "仅供各部门联络员和协调员使用" in replies.last.text
    for user in (liaison, stranger):
        assert not [m for m in user.messages if m.document is not None]
        assert "upload_document" not in user.chat_actions

    group = harness.double.group(-100, "协调员群")
    replies = await group.send(liaison, "/compile")
    assert "仅供协调员使用" in replies.last.text
    replies = await group.send(stranger, "/status")
    assert "仅供协调员使用" in replies.last.text
    assert not [m for m in group.messages if m.document is not None]

    await group.send(harness.coordinator(), "/compile@huibao_test_bot")
    sent = await wait_for_document(group)
    assert sent.document is not None and sent.document.filename == FILENAME
    assert "upload_document" in group.chat_actions
    assert sent.caption is not None and sent.caption.startswith("已报送 0/13 项；未报送：")


async def test_a_broken_template_gets_a_clear_answer(
    harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_month(harness)
    broken = tmp_path / "summary.docx"
    rewrite_part(
        DEFAULT_TEMPLATE,
        broken,
        "word/document.xml",
        "{%p for p in r.progress %}",
        "{%p for p in [] %}",
    )
    monkeypatch.setattr(document_module, "DEFAULT_TEMPLATE", broken)
    coordinator = harness.coordinator()
    replies = await coordinator.send("/compile")
    assert "Word 模板" in replies.last.text and "r.progress" in replies.last.text
    assert "缺少字段" in replies.last.text  # the problem too, in the coordinator's language
    assert not [m for m in coordinator.messages if m.document is not None]
    replies = await coordinator.send("/status")  # still answering
    assert "已报送 0/13 项" in replies[0].text


def test_a_long_list_of_missing_items_is_shortened_to_fit_a_caption() -> None:
    titles = [f"第{n}项非常非常长的重点工作名称，用来把说明文字撑满" for n in range(1, 201)]

    entries = [{"title": title, "departments": []} for title in titles]
    draft = {"draft": True, "month": "2015-10", "due": "2015-11-05 17:00", "overdue": False}

    def render(shown: list[dict[str, object]], more: int) -> str:
        return texts.text(
            "zh-CN",
            "compile_caption",
            submitted=3,
            total=203,
            missing=shown,
            more=more,
            unreported=200,
            **draft,
        )

    caption = fit_list(render, entries)
    assert visible_length(caption) <= CAPTION_LIMIT
    assert caption.startswith("已报送 3/203 项；未报送：第1项")
    assert "等 200 项" in caption
    assert visible_length(fit_list(render, entries[:2])) < CAPTION_LIMIT
    assert "等" not in fit_list(render, entries[:2])
    english = fit_list(
        lambda shown, more: texts.text(
            "en",
            "compile_caption",
            submitted=3,
            total=203,
            missing=shown,
            more=more,
            unreported=200,
            **{**draft, "draft": False},
        ),
        entries,
    )
    assert visible_length(english) <= CAPTION_LIMIT and "more" in english


# --- /status --------------------------------------------------------------------


async def test_status_shows_states_times_and_lateness(harness: Harness) -> None:
    open_month(harness)
    coordinator = harness.coordinator()
    replies = await coordinator.send("/status")
    assert replies[0].text.splitlines()[:2] == [
        "📋 2015-10 报送情况（截止 2015-11-05 17:00，填报中）",
        "已报送 0/13 项（按时 0 项，逾期提交 0 项）；未报送 13 项",
    ]

    org = await harness.liaison("org", 3001, "王芳")
    office = await harness.liaison("office", 3002, "张三")
    await report(office, SAMPLE_TITLES[0], "办公室的推进情况", "办公室的计划")
    await report(org, SAMPLE_TITLES[0], *SAMPLE_RAW[1])
    await report(org, SAMPLE_TITLES[1], *SAMPLE_RAW[2])
    replies = await org.send("/report")  # a draft for row 3, not submitted yet
    await org.tap(next(b for b in replies.last.buttons if SAMPLE_TITLES[2] in b))
    await org.send("草稿里的一项")

    harness.now = local("2015-11-06 09:30")  # after the due time
    replies = await coordinator.send("/status")
    lines = "\n".join(replies.texts).splitlines()
    assert lines[1] == "已报送 1/13 项（按时 1 项，逾期提交 0 项）；未报送 12 项，其中已逾期 12 项"
    assert lines[2].startswith("👉 待催报：")
    # What is pending first, with every department of the item; then what is in.
    pending, done = lines.index("⏳ 未报送（12 项）"), lines.index("✅ 已报送（1 项）")
    assert pending < lines.index("2. 基层服务型团组织建设") < done
    assert "· 组织部：✅ 已提交 2015-11-02 10:00 王芳" in lines[pending:done]
    assert "· 农村青年工作部：⬜ 未开始（已逾期）" in lines[pending:done]
    assert "· 组织部：📝 草稿（已逾期）" in lines[pending:done]
    assert "· 国际联络部：⬜ 未开始（已逾期）" in lines[pending:done]
    assert lines[done + 1 :] == [
        "1. 团的制度建设：办公室 2015-11-02 10:00 张三；组织部 2015-11-02 10:00 王芳"
    ]

    replies = await org.send("/report")  # resumes the draft
    assert "草稿里的一项" in replies.last.text
    await org.tap(DONE)
    await org.send("计划")
    await org.tap(DONE)
    await org.tap(SUBMIT)
    replies = await coordinator.send("/status 2015-10")
    lines = "\n".join(replies.texts).splitlines()
    assert lines[1] == "已报送 2/13 项（按时 1 项，逾期提交 1 项）；未报送 11 项，其中已逾期 11 项"
    assert f"3. {SAMPLE_TITLES[2]}：⚠️逾期 组织部 2015-11-06 09:30 王芳" in lines

    # In English, and refused to others.
    await coordinator.send("/lang en")
    replies = await coordinator.send("/status")
    english = "\n".join(replies.texts)
    assert "Submitted 2/13 (1 on time, 1 late); missing 11, 11 of them overdue" in english
    assert "⚠️late 组织部 2015-11-06 09:30 by 王芳" in english
    replies = await org.send("/status")
    assert "仅供协调员使用" in replies.last.text
    replies = await coordinator.send("/status 2016-01")
    assert "There is no 2016-01 period" in replies.last.text


async def test_long_status_is_split_between_items(harness: Harness) -> None:
    open_month(harness)
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None
        sender = Who(identify(db, COORDINATOR_ID), "zh-CN", "李明", SHANGHAI, private=True)
        blocks = status_blocks(sender, db, period, local("2015-11-02 10:00"))
    messages = pack(blocks, limit=120)
    assert len(messages) >= 4
    for message in messages[1:]:
        # starts with an item (or the heading of the items that follow)
        assert re.match(r"(<b>⏳ 未报送（13 项）</b>\n)?<b>\d+\. ", message.strip()), message
    assert sum(m.count("· ") for m in messages) == 16  # every department of every item


# --- /period --------------------------------------------------------------------


async def test_period_round_trip_and_liaisons_told(harness: Harness) -> None:
    harness.now = local("2015-11-02 10:00")
    coordinator = harness.coordinator()
    replies = await coordinator.send("/period")
    assert "还没有任何填报期" in replies.last.text
    org = await harness.liaison("org", 3001, "王芳")
    rights = await harness.liaison("rights", 3003, "韩梅")
    rights.block()

    replies = await coordinator.send("/period open 2015-10 2015-11-05 17:00")
    assert replies[0].text == "🟢 2015-10 填报期已开启，截止 2015-11-05 17:00 周四。"
    assert "已通知 1 位联络员" in replies[1].text and "1 位联络员无法送达" in replies[1].text
    assert org.last.text.startswith("📢 2015-10 填报期已开启，截止 2015-11-05 17:00")
    assert "/report" in org.last.text
    rights.unblock()

    replies = await coordinator.send("/period")
    assert "2015-10 · 截止 2015-11-05 17:00 周四 · 🟢 填报中" in replies.last.text
    replies = await coordinator.send("/period open 2015-10")
    assert "本来就是开启的" in replies.last.text

    replies = await coordinator.send("/period due 2015-10 2015-11-06 17:30")
    assert "截止时间已改为 2015-11-06 17:30" in replies.last.text
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None and period.due_at == local("2015-11-06 17:30")

    told = len(org.messages)
    replies = await coordinator.send("/period close 2015-10")
    assert "2015-10 填报期已结束（已报送 0/13 项）" in replies.last.text
    assert len(org.messages) == told  # closing is not announced
    replies = await coordinator.send("/period close 2015-10")
    assert "本来就已结束" in replies.last.text
    replies = await coordinator.send("/period")
    assert "2015-10 · 截止 2015-11-06 17:30 周五 · ⚪ 已结束" in replies.last.text

    replies = await coordinator.send("/period reopen 2015-10")
    assert "2015-10 填报期已重新开启，截止 2015-11-06 17:30" in replies[0].text
    assert "已通知 2 位联络员" in replies[1].text
    assert "重新开启" in org.last.text and "重新开启" in rights.last.text
    replies = await coordinator.send("/period reopen 2015-10")
    assert "本来就是开启的" in replies.last.text

    replies = await coordinator.send("/period open 2015-12")  # default due: the 5th, 17:00
    assert "2015-12 填报期已开启，截止 2016-01-05 17:00" in replies[0].text

    harness.now = local("2015-11-07 10:00")
    replies = await coordinator.send("/period due 2015-10 2015-11-06 18:00")
    assert "已经过去" in replies.last.text


async def test_period_bad_input_changes_nothing(harness: Harness) -> None:
    open_month(harness)
    coordinator = harness.coordinator()
    cases = {
        "/period open 2015-13": "月份“2015-13”的格式不对",
        "/period open 2015-11 tomorrow": "截止时间“tomorrow”的格式不对",
        "/period due 2015-10": "没看懂",
        "/period due 2015-10 2015-11-31 17:00": "截止时间“2015-11-31 17:00”的格式不对",
        "/period frob 2015-10": "没看懂",
        "/period close": "没看懂",
        "/period close 2015-10 now": "没看懂",
        "/period remind 2015-10 -3w": "提醒时间“-3w”的格式不对",
        "/period remind 2015-10": "没看懂",
    }
    for command, expected in cases.items():
        replies = await coordinator.send(command)
        assert expected in replies.last.text, command
        assert "/period open 2015-10 2015-11-05 17:00" in replies.last.text  # the usage
    replies = await coordinator.send("/period close 2015-09")
    assert "没有 2015-09 的填报期" in replies.last.text
    replies = await coordinator.send("/period help")
    assert "用法" in replies.last.text
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None and period.is_open
        assert period.due_at == local("2015-11-05 17:00")
        assert get_period(db, "2015-11") is None

    replies = await coordinator.send("/period remind 2015-10 -2d, -4h, 0d")
    assert "-2d,-4h,0d" in replies.last.text
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None and period.reminder_offsets == "-2d,-4h,0d"
    replies = await coordinator.send("/period remind 2015-10 default")
    assert "恢复为默认" in replies.last.text

    liaison = await harness.liaison("org", 3001, "王芳")
    replies = await liaison.send("/period close 2015-10")
    assert "仅供协调员使用" in replies.last.text
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None and period.is_open


def test_parse_period_command() -> None:
    assert parse([], SHANGHAI).action is PeriodAction.LIST
    opened = parse(["open", "2015-9", "2015-10-05", "17:00"], SHANGHAI)
    assert str(opened.month) == "2015-09"
    assert opened.due_at == datetime(2015, 10, 5, 9, 0, tzinfo=UTC)
    assert parse(["OPEN", "2015-10"], SHANGHAI).due_at is None
    for words, kind in (
        (["open"], "usage"),
        (["open", "10-2015"], "month"),
        (["due", "2015-10", "5th"], "due"),
        (["reopen", "2015-10", "x"], "usage"),
        (["delete", "2015-10"], "usage"),
    ):
        with pytest.raises(PeriodInputError) as err:
            parse(words, SHANGHAI)
        assert err.value.kind == kind


# --- a small office: the final document, honest counts, names with markup -----------

SMALL_ROSTER = """
[organisation]
name = "共青团某市委员会"
timezone = "Asia/Shanghai"

[[departments]]
code = "office"
name = '{office}'

[[departments]]
code = "org"
name = '{org}'

[[departments]]
code = "publicity"
name = '{publicity}'

[[work_items]]
title = '{system}'
departments = ["office", "org"]

[[work_items]]
title = '{youth}'
departments = ["org", "publicity"]

[[work_items]]
title = "少先队工作"
departments = ["office"]

[[work_items]]
title = "志愿服务"
departments = ["publicity"]

[[coordinators]]
telegram_id = 123456789
name = "李明"
"""
PLAIN_NAMES = {
    "office": "办公室",
    "org": "组织部",
    "publicity": "宣传部",
    "system": "团的制度建设",
    "youth": "青年发展",
}


@contextlib.asynccontextmanager
async def small_office(
    engine: Engine, tmp_path: Path, names: dict[str, str] = PLAIN_NAMES
) -> AsyncIterator[Harness]:
    """Three departments, four key work items, one of them shared by 组织部 and 宣传部."""
    roster = tmp_path / "small.toml"
    roster.write_text(SMALL_ROSTER.format(**names), encoding="utf-8")
    running = Harness(engine=engine, roster=roster)
    await running.start()
    try:
        yield running
    finally:
        await running.close()


def every_text_of(document: bytes) -> str:
    """Every text a reader can see in a .docx: body, table, headers, footers, properties."""
    doc = Document(io.BytesIO(document))
    parts = [p.text for p in doc.paragraphs]
    parts += [p.text for t in doc.tables for row in t.rows for c in row.cells for p in c.paragraphs]
    for section in doc.sections:
        for part in (
            section.header,
            section.even_page_header,
            section.first_page_header,
            section.footer,
            section.even_page_footer,
            section.first_page_footer,
        ):
            parts += [p.text for p in part.paragraphs]
    props = doc.core_properties
    parts += [props.title or "", props.subject or "", props.comments or "", props.keywords or ""]
    return "\n".join(parts)


async def test_a_closed_month_compiles_as_the_final_document(
    engine: Engine, tmp_path: Path
) -> None:
    async with small_office(engine, tmp_path) as harness:
        open_month(harness)
        office = await harness.liaison("office", 3001, "张三")
        org = await harness.liaison("org", 3002, "王芳")
        await report(office, "团的制度建设", "办公室的推进", "办公室的计划")
        await report(org, "团的制度建设", "组织部的推进", "组织部的计划")
        await report(org, "青年发展", "组织部的青年发展", "组织部的青年计划")
        await report(office, "少先队工作", "少先队推进", "少先队计划")
        coordinator = harness.coordinator()

        # Open: a draft, and the mark says why.
        await coordinator.send("/compile")
        sent = await wait_for_document(coordinator)
        assert sent.document is not None and sent.caption is not None
        document = Document(io.BytesIO(sent.document.content))
        assert document.paragraphs[0].text == "10月份重点工作推进情况汇总表（草稿）"
        section = document.sections[0]
        assert section.header.paragraphs[0].text == (
            "草稿：本期尚未结束（截止 2015-11-05 17:00），尚有 2 项未报送"
        )
        assert sent.caption.split("\n") == [
            "已报送 2/4 项；未报送：青年发展（宣传部）、志愿服务",
            "（草稿：本期尚未结束，截止 2015-11-05 17:00，尚有 2 项未报送。"
            "结束本期后生成的是正式文本：/period close 2015-10）",
        ]

        # Closed with 宣传部 never reporting: the final document.
        harness.now = local("2015-11-06 09:00")
        await coordinator.send("/period close 2015-10")
        await coordinator.send("/compile 2015-10")
        final = await wait_for_document(coordinator)
        assert final.message_id != sent.message_id
        assert final.document is not None and final.caption is not None
        assert "草稿" not in every_text_of(final.document.content)
        assert final.caption == "已报送 2/4 项；未报送：青年发展（宣传部）、志愿服务"
        table = Document(io.BytesIO(final.document.content)).tables[0]
        assert cell_texts(table.rows[2].cells[1]) == ["青年发展", "（宣传部未报送）"]
        assert cell_texts(table.rows[2].cells[2]) == ["组织部的青年发展"]
        assert cell_texts(table.rows[4].cells[1]) == ["志愿服务"]
        assert cell_texts(table.rows[4].cells[2]) == [MISSING]
        assert cell_texts(table.rows[4].cells[3]) == [MISSING]


async def test_status_counts_on_time_late_and_missing_apart(engine: Engine, tmp_path: Path) -> None:
    async with small_office(engine, tmp_path) as harness:
        open_month(harness)
        office = await harness.liaison("office", 3001, "张三")
        org = await harness.liaison("org", 3002, "王芳")
        await report(office, "团的制度建设", "办公室的推进", "办公室的计划")
        await report(org, "团的制度建设", "组织部的推进", "组织部的计划")
        await report(org, "青年发展", "组织部的青年发展", "组织部的青年计划")
        harness.now = local("2015-11-06 09:30")  # after the due time
        await report(office, "少先队工作", "少先队推进", "少先队计划")

        replies = await harness.coordinator().send("/status")
        assert len(replies) == 1
        assert replies[0].text.splitlines() == [
            "📋 2015-10 报送情况（截止 2015-11-05 17:00，填报中）",
            "已报送 2/4 项（按时 1 项，逾期提交 1 项）；未报送 2 项，其中已逾期 2 项",
            "👉 待催报：宣传部 2 项",
            "",
            "⏳ 未报送（2 项）",
            "2. 青年发展",
            "· 组织部：✅ 已提交 2015-11-02 10:00 王芳",
            "· 宣传部：⬜ 未开始（已逾期）",
            "",
            "4. 志愿服务",
            "· 宣传部：⬜ 未开始（已逾期）",
            "",
            "✅ 已报送（2 项）",
            "1. 团的制度建设：办公室 2015-11-02 10:00 张三；组织部 2015-11-02 10:00 王芳",
            "3. 少先队工作：⚠️逾期 办公室 2015-11-06 09:30 张三",
        ]


MARKUP_NAMES = {
    "office": '办公室<综合>&"文秘"',
    "org": "组织部 & <b>党建</b>",
    "publicity": '宣传部 "新媒体"',
    "system": '团的<制度>建设 & "规范"',
    "youth": "青年&lt;发展&gt;",
}


async def test_names_with_markup_read_literally_on_coordinator_screens(
    engine: Engine, tmp_path: Path
) -> None:
    """Roster names holding <, & and " show exactly as written, escaped once."""
    names = MARKUP_NAMES
    async with small_office(engine, tmp_path, names) as harness:
        open_month(harness)
        liaison = await harness.liaison("org", 3002, '王<芳>&"')
        with session_scope(harness.engine) as db:
            period = get_period(db, "2015-10")
            assert period is not None
            for found in assignments(db, period):
                if found.department.name == names["org"]:
                    draft = submission_for(db, period, found.work_item.id, found.department.id or 0)
                    submit(db, draft, progress=["推进"], plan=["计划"], by=3002, read_version=0,
                           now=local("2015-11-02 10:00"))  # fmt: skip
        coordinator = harness.coordinator()
        harness.now = local("2015-11-06 09:00")

        status = "\n".join((await coordinator.send("/status")).texts)
        assert f"👉 待催报：{names['office']} 2 项、{names['publicity']} 2 项" in status
        assert f"2. {names['youth']}" in status
        assert f'· {names["org"]}：✅ 已提交 2015-11-02 10:00 王<芳>&"' in status
        assert f"· {names['publicity']}：⬜ 未开始（已逾期）" in status

        await coordinator.send("/compile")
        sent = await wait_for_document(coordinator)
        assert sent.caption is not None
        assert sent.caption.startswith(
            f"已报送 0/4 项；未报送：{names['system']}（{names['office']}）、"
            f"{names['youth']}（{names['publicity']}）、少先队工作、志愿服务"
        )

        # The digest of who is late, sent to the coordinators by the reminder pass.
        await run_reminder_pass(harness.app)
        digest = next(m.text for m in coordinator.messages if "逾期未报送情况" in m.text)
        assert f"• {names['office']}：{names['system']}、少先队工作" in digest
        assert f"• {names['publicity']}：{names['youth']}、志愿服务" in digest
        assert liaison.messages
