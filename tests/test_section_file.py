"""A liaison sends their department's section as a file: drafts at the preview, one
📤 提交 per item; files it cannot read change nothing (issue 14, part 4)."""

from __future__ import annotations

from sqlmodel import select

from bot.core.status import SubmissionStatus
from bot.double import FakeUser, SentMessage
from storage.db import session_scope
from storage.drafts import load
from storage.models import Submission
from tests.harness import Harness
from tests.section_docs import docx_bytes, merged_table_docx
from tests.test_report import SUBMIT, open_month, stored

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SECTION = [
    "组织部2015年10月份重点工作推进情况",
    "一、团的制度建设",
    "（一）本月份推进情况",
    "1.修订制度。",
    "2.开展调研，",
    "  形成报告。",
    "（二）下一步推进计划",
    "1.印发制度。",
    "二、团干部\n队伍建设",
    "【本月工作】",
    "1.开展培训。",
    "【下月计划】",
    "1.继续培训。",
    "2.总结。",
]


def preview_of(user: FakeUser, title: str) -> SentMessage:
    """The newest preview of an item that carries its 📤 提交."""
    return next(m for m in reversed(user.messages) if title in m.content and SUBMIT in m.buttons)


def submissions(harness: Harness) -> list[tuple[int, str, list[str]]]:
    with session_scope(harness.engine) as db:
        rows = db.exec(select(Submission)).all()
        return sorted((r.work_item_id, r.status, list(r.progress)) for r in rows)


async def test_a_section_as_headings_is_submitted_with_one_tap_per_item(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3001, "王芳")
    replies = await liaison.send_document(docx_bytes(SECTION), "组织部.docx", mime_type=DOCX)
    text = "\n".join(replies.texts)
    assert "2 项重点工作已填入草稿" in text
    assert "组织部2015年10月份重点工作推进情况" in text  # not placed, shown
    assert "typing" in liaison.chat_actions
    for title in ("团的制度建设", "团干部队伍建设"):
        assert stored(harness, title, "org").status == SubmissionStatus.DRAFT
    first = preview_of(liaison, "团的制度建设")
    assert "形成报告" in first.content
    await liaison.tap(SUBMIT, message=first)
    done = stored(harness, "团的制度建设", "org")
    assert done.status == SubmissionStatus.SUBMITTED
    assert done.progress == ["修订制度。", "开展调研，\n形成报告。"]
    assert done.plan == ["印发制度。"]
    assert stored(harness, "团干部队伍建设", "org").status == SubmissionStatus.DRAFT
    await liaison.tap(SUBMIT, message=preview_of(liaison, "团干部队伍建设"))
    second = stored(harness, "团干部队伍建设", "org")
    assert second.status == SubmissionStatus.SUBMITTED
    assert (second.progress, second.plan) == (["开展培训。"], ["继续培训。", "总结。"])
    # Each preview's button is spent once its item is submitted.
    shown = {m.message_id: m for m in liaison.messages}
    assert SUBMIT not in shown[first.message_id].buttons


async def test_a_section_as_a_table_with_automatic_numbering(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3001, "王芳")
    table = [
        ["序号", "重点工作", "本月份推进情况", "下一步推进计划", "责任部门"],
        ["§2.0§", "团的制度建设", "1.修订制度。", "1.印发制度。", "组织部"],
    ]
    paragraphs = [
        "§1.0§团干部队伍建设",
        "本月份推进情况",
        "§1.1§开展培训。",
        "§1.1§完成考核。",
        "下一步推进计划",
        "§1.1§继续培训。",
    ]
    await liaison.send_document(docx_bytes(paragraphs, [table]), "section.docx")
    await liaison.tap(SUBMIT, message=preview_of(liaison, "团干部队伍建设"))
    await liaison.tap(SUBMIT, message=preview_of(liaison, "团的制度建设"))
    cadres = stored(harness, "团干部队伍建设", "org")
    assert (cadres.progress, cadres.plan) == (["开展培训。", "完成考核。"], ["继续培训。"])
    rules = stored(harness, "团的制度建设", "org")
    assert (rules.status, rules.progress) == (SubmissionStatus.SUBMITTED, ["修订制度。"])


async def test_a_merged_table_and_a_txt_in_english(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3001, "Wang", language_code="en")
    replies = await liaison.send_document(merged_table_docx(), "table.docx")
    text = "\n".join(replies.texts)
    assert "1 key work item(s) filled" in text and "别的部门的工作" in text
    txt = "团的制度建设\n本月份推进情况\n1.修订制度。\n下一步推进计划\n1.印发制度。\n"
    await liaison.send_document(txt.encode("gb18030"), "section.txt")
    await liaison.tap("📤 Submit", message=preview_of_en(liaison, "团的制度建设"))
    assert stored(harness, "团的制度建设", "org").status == SubmissionStatus.SUBMITTED
    assert stored(harness, "团干部队伍建设", "org").status == SubmissionStatus.DRAFT


def preview_of_en(user: FakeUser, title: str) -> SentMessage:
    return next(
        m for m in reversed(user.messages) if title in m.content and "📤 Submit" in m.buttons
    )


async def test_a_draft_the_file_replaces_says_so(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3001, "王芳")
    replies = await liaison.send("/report")
    await liaison.tap(next(b for b in replies.last.buttons if "团的制度建设" in b))
    await liaison.send("1.手工输入的一项。")
    replies = await liaison.send_document(docx_bytes(SECTION), "组织部.docx")
    assert "原有草稿已被文件内容替换" in "\n".join(replies.texts)
    await liaison.tap(SUBMIT, message=preview_of(liaison, "团的制度建设"))
    assert stored(harness, "团的制度建设", "org").progress == [
        "修订制度。",
        "开展调研，\n形成报告。",
    ]


async def test_files_it_cannot_read_change_nothing(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3001, "王芳")
    before = submissions(harness)
    cases = [
        (b"PK\x03\x04 broken", "组织部.docx", "无法打开这个文件"),
        (b"%PDF-1.7", "组织部.pdf", "只能读取 Word（.docx）或文本（.txt）文件"),
        (b"\xff\xd8\xff", "photo.jpg", "只能读取"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "组织部.doc", "请另存为 .docx 后再发送"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "组织部.docx", "设有密码"),
        (b"x" * (2 * 1024 * 1024 + 1), "big.docx", "超过 2 MB"),
    ]
    for data, name, answer in cases:
        replies = await liaison.send_document(data, name)
        assert answer in replies.last.content, name
    assert submissions(harness) == before
    with session_scope(harness.engine) as db:
        assert load(db, 3001).drafts == {}


async def test_others_sending_a_docx_get_what_any_message_gets(harness: Harness) -> None:
    open_month(harness)
    stranger = harness.double.user(4242, "路人")
    replies = await stranger.send_document(docx_bytes(SECTION), "组织部.docx")
    assert replies and "已填入草稿" not in "\n".join(replies.texts)
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    replies = await coordinator.send_document(docx_bytes(SECTION), "组织部.docx")
    assert "已填入草稿" not in "\n".join(replies.texts)
    assert submissions(harness) == []


async def test_no_open_month(harness: Harness) -> None:
    liaison = await harness.liaison("org", 3001, "王芳")
    replies = await liaison.send_document(docx_bytes(SECTION), "组织部.docx")
    assert "目前没有开放填报的月份" in replies.last.content


async def test_a_preview_the_file_sent_again_replaced_submits_nothing(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3001, "王芳")
    await liaison.send_document(docx_bytes(SECTION), "组织部.docx")
    old = preview_of(liaison, "团的制度建设")
    await liaison.send_document(docx_bytes(SECTION), "组织部.docx")
    replies = await liaison.tap(SUBMIT, message=old)
    assert replies.answer is not None and "已失效" in (replies.answer.text or "")
    assert stored(harness, "团的制度建设", "org").status == SubmissionStatus.DRAFT
    await liaison.tap(SUBMIT, message=preview_of(liaison, "团的制度建设"))
    assert stored(harness, "团的制度建设", "org").status == SubmissionStatus.SUBMITTED
