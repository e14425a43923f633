"""One office's month with everything of issue 13, end to end through the chat.

September 2015 is reported, closed and compiled. In October the coordinator returns an
item with a reason and the liaison revises it; 组织部 gets a department head (invited in
chat) whose approval a submission waits for, and who returns it once; a liaison is
revoked and hears no more reminders; key work items are added and renamed in chat, then
the roster goes out as roster.toml and comes back edited. September then compiles exactly
as it did, and every change is in the audit trail.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from docx import Document
from sqlmodel import select

from bot.core.audit import Action
from bot.double import FakeUser, SentMessage
from storage.audit import entries
from storage.db import session_scope
from storage.models import Department, Liaison
from storage.periods import get_period
from storage.roster import current_roster
from storage.submissions import assignments
from tests.harness import COORDINATOR_ID, Harness
from tests.test_console import local
from tests.test_history import RIGHTS, TALENT, a_closed_september_and_an_open_october
from tests.test_people import REVOKED, token_of
from tests.test_reminders import MINUS_1D, MINUTE, reminders, tick
from tests.test_report import DONE, SUBMIT, UNDO, stored
from tests.test_review import ASK, button
from tests.test_roster_chat import document_count, documents_after, roster_file

CADRES = "团干部队伍建设"  # 组织部's own key work item
TALENT_RENAMED = "青马工程"
ADDED_IN_CHAT = "网上共青团建设"
ADDED_IN_FILE = "共青团数字化工作"
APPROVE, RETURN = "✅ 通过", "↩️ 退回"
REVISE = "✏️ 修改"
REVISED = "学校部开展十月交流活动，参加人数三百人"  # replaces "十月学校推进"


@dataclass(frozen=True)
class Compiled:
    """A document the coordinator received, read as a reader would."""

    filename: str
    title: str  # the document's title property
    headings: list[str]  # the paragraphs outside the table
    cells: list[list[str]]  # every cell's text, row by row

    def row(self, title: str) -> list[str]:
        return next(row for row in self.cells if row[1].startswith(title))


async def compile_month(coordinator: FakeUser, month: str = "") -> Compiled:
    seen = document_count(coordinator)
    await coordinator.send(f"/compile {month}".strip())
    sent = await documents_after(coordinator, seen)
    assert sent.document is not None
    document = Document(io.BytesIO(sent.document.content))
    return Compiled(
        filename=sent.document.filename or "",
        title=document.core_properties.title or "",
        headings=[p.text for p in document.paragraphs],
        cells=[[cell.text for cell in row.cells] for row in document.tables[0].rows],
    )


def owners(harness: Harness, month: str) -> list[tuple[str, str]]:
    """Each key work item of the month with each department reporting on it, by name."""
    with session_scope(harness.engine) as db:
        period = get_period(db, month)
        assert period is not None
        found = assignments(db, period)
        return [(a.work_item.title, a.department.name) for a in found]


@dataclass
class Cycle:
    """What one return-and-revise cycle took: the bot's messages and the users' actions."""

    sent: int = 0  # new messages from the bot
    edited_texts: int = 0  # messages the bot rewrote
    edited_keyboards: int = 0  # messages whose buttons the bot took off
    taps: int = 0
    messages: int = 0  # typed by the users

    def __str__(self) -> str:
        edited = self.edited_texts + self.edited_keyboards
        return (
            f"{self.sent} messages sent, {edited} edited ({self.edited_texts} texts rewritten, "
            f"{self.edited_keyboards} keyboards taken off); {self.taps} taps and "
            f"{self.messages} messages by the users ({self.taps + self.messages} actions)"
        )


BOT_CALLS = {
    "sent": ("sendMessage", "sendDocument"),
    "edited_texts": ("editMessageText",),
    "edited_keyboards": ("editMessageReplyMarkup",),
}


def bot_counts(harness: Harness) -> dict[str, int]:
    """How many messages the bot has sent and edited so far, by kind."""
    calls = harness.double.calls_to
    return {kind: sum(len(calls(m)) for m in methods) for kind, methods in BOT_CALLS.items()}


def text_of(messages: list[SentMessage]) -> str:
    return "\n".join(m.text for m in messages)


# --- the story, step by step ------------------------------------------------------------


async def a_closed_september(harness: Harness) -> Compiled:
    """Step 0: September reported by four departments and closed; October open."""
    await a_closed_september_and_an_open_october(harness)
    september = await compile_month(harness.coordinator(), "2015-09")
    assert "九月宣传推进" in september.row(TALENT)[2]
    assert "九月维权推进" in september.row(RIGHTS)[2]
    assert september.title == "9月份重点工作推进情况汇总表"
    assert september.filename == "2015年9月重点工作推进情况汇总表.docx"
    assert september.headings[:2] == [september.title, "共青团广东省委员会"]
    return september


async def the_coordinator_returns_an_item(harness: Harness, school: FakeUser) -> Cycle:
    """Step 1: /show, ↩️ 退回 with a reason, the liaison revises from the notice's button."""
    coordinator = harness.coordinator()
    shown = await coordinator.send("/show school")
    assert "十月学校推进" in text_of(shown) and "孙丽" in text_of(shown)

    cycle = Cycle()
    before = bot_counts(harness)
    asked = await coordinator.tap(button(shown.last, "↩️ 退回「"))
    cycle.taps += 1
    assert ASK in asked.last.text and TALENT in asked.last.text
    done = await coordinator.send("请写明参加人数")
    cycle.messages += 1
    assert "已退回学校部" in done.last.text and "孙丽" in done.last.text

    notice = school.last
    assert notice.text == f"【退回修改】2015-10「{TALENT}」：请写明参加人数（李明）"
    assert notice.buttons == [REVISE]
    draft = await school.tap(REVISE, message=notice)
    cycle.taps += 1
    assert "退回修改：请写明参加人数" in text_of(draft)
    assert "十月学校推进" in text_of(draft)  # the draft holds the returned text
    assert SUBMIT in draft.last.buttons
    await school.tap("修改推进情况")
    await school.tap(UNDO)  # the returned line goes, the revised one comes
    await school.send(REVISED)
    await school.tap(DONE)
    submitted = await school.tap(SUBMIT)
    cycle.taps += 4
    cycle.messages += 1
    assert "第 2 版" in submitted[0].text

    told = coordinator.last
    assert told.text == f"学校部已重新提交「{TALENT}」（第 2 版）"
    assert told.buttons == ["📄 查看学校部"]
    after = bot_counts(harness)
    for kind, count in after.items():
        setattr(cycle, kind, count - before[kind])

    october = await compile_month(coordinator)
    cell = october.row(TALENT)[2]
    assert REVISED in cell and "十月学校推进" not in cell  # the new text, not the old
    assert stored(harness, TALENT, "school").progress == [REVISED]
    return cycle


async def an_approver_returns_then_approves(harness: Harness) -> None:
    """Step 2: 组织部's head, invited in chat, returns a submission once, then approves it."""
    coordinator = harness.coordinator()
    invited = await coordinator.send("/invite org approver")
    assert "部门负责人" in invited.last.text and "组织部" in invited.last.text
    head = harness.double.user(5101, "赵局", language_code="zh-hans")
    joined = await head.send(f"/start {token_of(invited.last)}")
    assert "绑定成功" in joined.last.text and "部门负责人" in joined.last.text

    org = await harness.liaison("org", 5102, "王芳")
    await org.send("/report")
    await org.tap(next(b for b in org.last.buttons if CADRES in b))
    await org.send("开展团干部培训")
    await org.tap(DONE)
    await org.send("继续培训")
    await org.tap(DONE)
    handed = await org.tap(SUBMIT)
    assert "等待部门负责人审核" in handed[0].text

    request = head.last
    assert "王芳" in request.text and CADRES in request.text and "第 1 版" in request.text
    assert "开展团干部培训" in request.text and "继续培训" in request.text
    assert request.buttons == [APPROVE, RETURN]
    asked = await head.tap(RETURN, message=request)
    assert ASK in asked.last.text
    done = await head.send("请补充培训人数")
    assert "已退回组织部" in done.last.text and "王芳" in done.last.text
    notice = org.last
    assert notice.text == f"【退回修改】2015-10「{CADRES}」：请补充培训人数（赵局）"
    assert notice.buttons == [REVISE]
    assert stored(harness, CADRES, "org").status == "returned"

    draft = await org.tap(REVISE, message=notice)
    assert "退回修改：请补充培训人数" in text_of(draft) and "开展团干部培训" in text_of(draft)
    await org.tap("修改推进情况")
    await org.send("培训团干部一百二十人")
    await org.tap(DONE)
    handed = await org.tap(SUBMIT)
    assert "等待部门负责人审核" in handed[0].text and "第 2 版" in handed[0].text
    assert stored(harness, CADRES, "org").status == "pending"

    # The head reads the new version in a new request; no notice with a /show button that
    # is for coordinators only.
    assert not any("已重新提交" in m.text for m in head.messages)
    request = head.last
    assert "第 2 版" in request.text and "培训团干部一百二十人" in request.text
    assert request.buttons == [APPROVE, RETURN]
    await head.tap(APPROVE, message=request)
    assert "已通过" in head.last.text
    assert "已通过部门负责人审核" in org.last.text and CADRES in org.last.text
    assert stored(harness, CADRES, "org").status == "submitted"

    lines = text_of(await coordinator.send("/status")).splitlines()
    assert lines[1].startswith("已报送 1/13 项"), lines  # 学校部's shared item is half in
    submitted = lines.index(next(line for line in lines if line.startswith("✅ 已报送")))
    assert any(
        line.startswith(f"3. {CADRES}：组织部") and "王芳" in line for line in lines[submitted:]
    ), lines
    assert not any("待审核" in line for line in lines)
    cell = (await compile_month(coordinator)).row(CADRES)[2]
    assert "开展团干部培训" in cell and "培训团干部一百二十人" in cell


async def a_liaison_is_revoked(harness: Harness, rights: FakeUser, publicity: FakeUser) -> None:
    """Step 3: revoked through /liaisons; no reminder reaches them and /report refuses."""
    coordinator = harness.coordinator()
    listed = await coordinator.send("/liaisons")
    assert "钱维（联络员）" in text_of(listed)
    asked = await coordinator.tap("🚫 收回 钱维")
    assert asked.last.text == "确定收回 钱维（权益部）的填报权限？"
    done = await coordinator.tap("确定")
    assert done.last.text.startswith("✅ 已收回 钱维（权益部）的填报权限。")
    with session_scope(harness.engine) as db:
        row = db.exec(select(Liaison).where(Liaison.telegram_id == rights.id)).one()
        assert not row.active and row.revoked_by == COORDINATOR_ID

    before = len(rights.messages), len(reminders(publicity))
    await tick(harness, MINUS_1D + 2 * MINUTE)
    assert len(rights.messages) == before[0]  # nothing at all
    assert len(reminders(publicity)) == before[1] + 1  # the pass ran: 宣传部 owes October
    assert TALENT in reminders(publicity)[-1].text
    refused = await rights.send("/report")
    assert refused.last.text.startswith(REVOKED)


async def the_roster_changes_in_chat(
    harness: Harness, publicity: FakeUser, office: FakeUser
) -> None:
    """Step 4: an item added and one renamed in chat, then roster.toml edited and sent back."""
    coordinator = harness.coordinator()
    added = await coordinator.send(f"/item add {ADDED_IN_CHAT} | 宣传部")
    assert f"新增重点工作：{ADDED_IN_CHAT}" in text_of(added)
    renamed = await coordinator.send(f"/item rename youth_talent {TALENT_RENAMED}")
    assert f"重点工作改名：{TALENT} → {TALENT_RENAMED}" in text_of(renamed)
    listed = await publicity.send("/report")
    labels = listed.last.buttons
    assert any(ADDED_IN_CHAT in b for b in labels) and any(TALENT_RENAMED in b for b in labels)
    assert not any(TALENT in b for b in labels), labels
    await publicity.send("/cancel")

    text = await roster_file(coordinator)
    assert ADDED_IN_CHAT in text and TALENT_RENAMED in text
    for old, new in (
        ('name = "办公室"', 'name = "办公厅"'),
        (
            "[[coordinators]]",
            f'[[work_items]]\ntitle = "{ADDED_IN_FILE}"\ndepartments = ["office"]\n\n'
            "[[coordinators]]",
        ),
    ):
        assert old in text, old
        text = text.replace(old, new)
    preview = await coordinator.send_document(text.encode("utf-8"), "roster.toml")
    shown = text_of(preview)
    assert "部门改名：办公室 → 办公厅" in shown and f"新增重点工作：{ADDED_IN_FILE}" in shown
    assert preview.last.buttons == ["✅ 应用", "✖️ 取消"]
    applied = await coordinator.tap("✅ 应用", message=preview.last)
    assert "名单文件已应用" in applied.last.text

    with session_scope(harness.engine) as db:
        roster = current_roster(db)
        renamed = db.exec(select(Department).where(Department.code == "office")).one()
    assert renamed.name == "办公厅"
    titles = [w.title for w in roster.work_items]
    assert titles[-2:] == [ADDED_IN_CHAT, ADDED_IN_FILE] and TALENT_RENAMED in titles
    items = text_of(await coordinator.send("/items"))
    assert f"15. {ADDED_IN_FILE} — 办公厅" in items and f"14. {ADDED_IN_CHAT} — 宣传部" in items
    listed = await office.send("/report")  # the open month follows the file too
    assert "办公厅" in text_of(listed) and any(ADDED_IN_FILE in b for b in listed.last.buttons)


def the_trail_has_every_change(harness: Harness, head_id: int) -> None:
    """Step 6: the audit trail names who returned, approved, revoked and changed the roster,
    and what, at the bot's time."""
    with session_scope(harness.engine) as db:
        trail = entries(db)
    found = [(e.action, e.actor.telegram_id, e.subject, e.detail) for e in trail]
    expected = [
        (Action.INVITE, COORDINATOR_ID, "组织部", {"role": "approver"}),
        (
            Action.RETURN,
            COORDINATOR_ID,
            f"2015-10 学校部「{TALENT}」",
            {"version": 1, "reason": "请写明参加人数"},
        ),
        (
            Action.RETURN,
            head_id,
            f"2015-10 组织部「{CADRES}」",
            {"version": 1, "reason": "请补充培训人数"},
        ),
        (Action.APPROVE, head_id, f"2015-10 组织部「{CADRES}」", {"version": 2}),
        (Action.REVOKE, COORDINATOR_ID, "钱维（权益部）", {"telegram_id": 4004, "role": "liaison"}),
        (Action.ITEM_ADD, COORDINATOR_ID, ADDED_IN_CHAT, {"departments": ["宣传部"]}),
        (
            Action.ITEM_RENAME,
            COORDINATOR_ID,
            TALENT_RENAMED,
            {"old": TALENT, "new": TALENT_RENAMED},
        ),
    ]
    for entry in expected:
        assert entry in found, (entry, found)
    [load] = [e for e in trail if e.action is Action.ROSTER_LOAD]
    assert (load.actor.telegram_id, load.subject) == (COORDINATOR_ID, "roster.toml")
    assert load.detail["changes"] == [
        "department renamed: 办公厅",
        f"work_item added: {ADDED_IN_FILE}",
    ]
    assert harness.now is not None
    assert all(local("2015-10-01 00:00") <= e.at <= harness.now for e in trail)  # the bot's clock


# --- the test ---------------------------------------------------------------------------


async def test_an_office_month_with_returns_approval_revocation_and_roster_changes(
    harness: Harness,
) -> None:
    september = await a_closed_september(harness)
    september_owners = owners(harness, "2015-09")
    double = harness.double
    school, publicity, office, rights = (double.user(i, "") for i in (4002, 4001, 4003, 4004))
    assert harness.now == local("2015-11-02 10:00")

    cycle = await the_coordinator_returns_an_item(harness, school)
    print(f"return-and-revise cycle: {cycle}")
    await an_approver_returns_then_approves(harness)
    await a_liaison_is_revoked(harness, rights, publicity)
    await the_roster_changes_in_chat(harness, publicity, office)

    again = await compile_month(harness.coordinator(), "2015-09")
    assert again == september  # the same title, headings and every cell, exactly
    assert owners(harness, "2015-09") == september_owners
    assert ("团的制度建设", "办公室") in september_owners
    assert all(TALENT_RENAMED not in title for title, _ in september_owners)
    the_trail_has_every_change(harness, head_id=5101)
