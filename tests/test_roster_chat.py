"""The roster in chat (handlers/roster.py): a coordinator adds, renames, moves and retires
key work items and departments from a phone, or downloads roster.toml, edits it and sends
it back; the open month follows, a closed month never changes, every change is audited."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from sqlmodel import select

from bot.cli import main
from bot.core.audit import Action
from bot.core.roster import (
    DiffKind,
    EditError,
    Subject,
    diff_rosters,
    edit_department,
    edit_item,
    load_roster,
    parse_roster,
    roster_toml,
)
from bot.double import FakeUser, Replies, SentMessage
from handlers import buttons
from storage.audit import entries
from storage.db import session_scope
from storage.models import WorkItem
from storage.roster import current_roster
from tests.harness import COORDINATOR_ID, Harness
from tests.test_console import open_month, report
from tests.test_history import RIGHTS, TALENT, a_closed_september_and_an_open_october

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "roster.toml"
FIRST = "团的制度建设"  # item 1: no code, 办公室 and 组织部
ADDED = "网上共青团建设"


def roster_now(harness: Harness):  # type: ignore[no-untyped-def]
    with session_scope(harness.engine) as db:
        return current_roster(db)


def audited(harness: Harness) -> list[tuple[Action, str, int | None]]:
    with session_scope(harness.engine) as db:
        return [(e.action, e.subject, e.actor.telegram_id) for e in entries(db)]


async def documents_after(user: FakeUser, seen: int, timeout: float = 15.0) -> SentMessage:
    """The next document the bot sends (after `seen` documents); /compile renders in a
    thread, so wait for it rather than for a quiet spell."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        documents = [m for m in user.messages if m.document is not None]
        if len(documents) > seen:
            return documents[seen]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no document arrived; last messages: {user.messages[-3:]}")


def document_count(user: FakeUser) -> int:
    return sum(1 for m in user.messages if m.document is not None)


async def compiled_cells(user: FakeUser, month: str) -> list[list[str]]:
    seen = document_count(user)
    await user.send(f"/compile {month}")
    sent = await documents_after(user, seen)
    assert sent.document is not None
    table = Document(io.BytesIO(sent.document.content)).tables[0]
    return [[cell.text for cell in row.cells] for row in table.rows]


async def roster_file(user: FakeUser) -> str:
    seen = document_count(user)
    await user.send("/roster")
    sent = await documents_after(user, seen)
    assert sent.document is not None and sent.document.filename == "roster.toml"
    return sent.document.content.decode("utf-8")


def one_text(replies: Replies) -> str:
    return "\n".join(replies.texts)


# --- edits in chat ------------------------------------------------------------------


async def test_an_item_added_in_chat_is_in_the_open_month(harness: Harness) -> None:
    open_month(harness)
    coordinator = harness.coordinator()
    replies = await coordinator.send(f"/item add {ADDED} | 宣传部 org")
    text = one_text(replies)
    assert f"新增重点工作：{ADDED}" in text, text
    assert "本月填报期（2015-10）随之更新：新增 1 项" in text

    publicity = await harness.liaison("publicity", 4001, "周宣")
    listed = await publicity.send("/report")
    assert any(ADDED in b for b in listed.last.buttons), listed.last.buttons
    cells = await compiled_cells(coordinator, "2015-10")
    assert len(cells) == 1 + 14 and cells[14][1].startswith(ADDED)

    items = one_text(await coordinator.send("/items"))
    assert f"14. {ADDED} — 宣传部、组织部" in items
    assert (Action.ITEM_ADD, ADDED, COORDINATOR_ID) in audited(harness)


async def test_a_rename_reaches_the_open_month_and_never_a_closed_one(harness: Harness) -> None:
    await a_closed_september_and_an_open_october(harness)
    coordinator = harness.coordinator()
    september = await compiled_cells(coordinator, "2015-09")
    with session_scope(harness.engine) as db:
        ids = sorted(w.id or 0 for w in db.exec(select(WorkItem)))

    replies = await coordinator.send("/item rename 1 团的制度建设与规范化")
    text = one_text(replies)
    assert f"重点工作改名：{FIRST} → 团的制度建设与规范化" in text, text
    assert "本月填报期（2015-10）随之更新" in text

    assert await compiled_cells(coordinator, "2015-09") == september  # every cell as it was
    october = await compiled_cells(coordinator, "2015-10")
    assert october[1][1].startswith("团的制度建设与规范化")
    status = one_text(await coordinator.send("/status 2015-10"))
    assert "团的制度建设与规范化" in status
    with session_scope(harness.engine) as db:  # the same item renamed, not a new one
        assert sorted(w.id or 0 for w in db.exec(select(WorkItem))) == ids
    assert (Action.ITEM_RENAME, "团的制度建设与规范化", COORDINATOR_ID) in audited(harness)

    # Moved and given other departments: the closed month still as it was.
    replies = await coordinator.send("/item move 1 3")
    assert "调整顺序：团的制度建设与规范化（第 1 项 → 第 3 项）" in one_text(replies)
    replies = await coordinator.send("/item depts 3 office")
    assert "改由 办公室 负责（原为 办公室、组织部）" in one_text(replies)
    assert await compiled_cells(coordinator, "2015-09") == september
    items = one_text(await coordinator.send("/items"))
    assert "3. 团的制度建设与规范化 — 办公室" in items


async def test_retiring_an_item_with_handed_in_work_asks_first(harness: Harness) -> None:
    open_month(harness)
    school = await harness.liaison("school", 4002, "孙丽")
    await report(school, TALENT, "十月学校推进", "学校十一月计划")
    coordinator = harness.coordinator()

    replies = await coordinator.send("/item retire youth_talent")
    assert "学校部" in replies.last.text and replies.last.buttons == ["✅ 仍然停用", "✖️ 不停用"]
    assert any(w.title == TALENT for w in roster_now(harness).work_items)
    replies = await coordinator.tap("✖️ 不停用")
    assert "没有停用" in replies.last.text
    assert any(w.title == TALENT for w in roster_now(harness).work_items)

    asked = await coordinator.send("/item retire youth_talent")
    twice = await coordinator.send("/item retire youth_talent")
    replies = await coordinator.tap("✅ 仍然停用", message=asked.last)
    assert f"停用重点工作：{TALENT}" in replies.last.text, replies.texts
    assert not any(w.title == TALENT for w in roster_now(harness).work_items)
    assert (Action.ITEM_RETIRE, TALENT, COORDINATOR_ID) in audited(harness)

    again = await coordinator.tap("✅ 仍然停用", message=twice.last)  # retired already
    assert "已失效" in again.last.text
    assert len(roster_now(harness).work_items) == 12
    assert [a for a, _, _ in audited(harness)].count(Action.ITEM_RETIRE) == 1

    # Without handed-in work an item is retired at once.
    replies = await coordinator.send(f"/item retire {_number(harness, RIGHTS)}")
    assert f"停用重点工作：{RIGHTS}" in replies.last.text and not replies.last.buttons


def _number(harness: Harness, title: str) -> int:
    titles = [w.title for w in roster_now(harness).work_items]
    return titles.index(title) + 1


async def test_departments_in_chat(harness: Harness) -> None:
    open_month(harness)
    coordinator = harness.coordinator()
    replies = await coordinator.send("/dept add net 网络部")
    assert "新增部门：网络部" in replies.last.text
    assert "net 网络部（负责 0 项）" in (await coordinator.send("/depts")).last.text
    replies = await coordinator.send("/dept rename net 网信部")
    assert "部门改名：网络部 → 网信部" in replies.last.text
    replies = await coordinator.send(f"/item add {ADDED} | 网信部")
    assert "新增 1 项" in replies.last.text

    replies = await coordinator.send("/dept retire net")
    assert ADDED in replies.last.text and "不能停用" in replies.last.text
    replies = await coordinator.send(f"/item retire {_number(harness, ADDED)}")
    replies = await coordinator.send("/dept retire net")
    assert "停用部门：网信部" in replies.last.text
    assert "net" not in [d.code for d in roster_now(harness).departments]
    actions = [a for a, _, _ in audited(harness)]
    for action in (Action.DEPARTMENT_ADD, Action.DEPARTMENT_RENAME, Action.DEPARTMENT_RETIRE):
        assert action in actions


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("/item rename 99 新标题", "没有序号或代码为“99”的重点工作"),
        ("/item add 新工作 | 火星部", "没有代码或名称为“火星部”的部门"),
        ("/item add 新工作", "请写明负责的部门"),
        (f"/item add {FIRST} | office", f"已经有一项重点工作叫“{FIRST}”"),
        ("/item move 1 40", "位置“40”不对"),
        ("/item fly 1", "没有看懂这条命令"),
        ("/dept add Bad! 坏部", "部门代码“bad!”不能用"),
        ("/dept add office 另一个", "已经有代码为“office”的部门"),
    ],
)
async def test_bad_input_says_what_is_wrong_and_how(
    harness: Harness, command: str, says: str
) -> None:
    before = roster_now(harness)
    replies = await harness.coordinator().send(command)
    assert says in replies.last.text, replies.last.text
    assert "用法" in replies.last.text
    assert roster_now(harness) == before


# --- the roster file ----------------------------------------------------------------


async def test_the_roster_file_reads_back_as_the_roster(harness: Harness) -> None:
    text = await roster_file(harness.coordinator())
    assert text.startswith("# ")
    assert parse_roster(text) == roster_now(harness) == load_roster(EXAMPLE)


def edited(text: str) -> str:
    """Rename the item with a code, add one, retire 青少年维权工作, rename a department."""
    changes = [
        (f'title = "{TALENT}"', 'title = "青马工程"'),
        (f'[[work_items]]\ntitle = "{RIGHTS}"\ndepartments = [\n    "rights",\n]\n\n', ""),
        ('name = "办公室"', 'name = "办公厅"'),
        (
            "[[coordinators]]",
            f'[[work_items]]\ntitle = "{ADDED}"\ndepartments = ["publicity"]\n\n[[coordinators]]',
        ),
    ]
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return text


async def test_an_edited_file_is_previewed_by_name_then_applied(harness: Harness) -> None:
    open_month(harness)
    coordinator = harness.coordinator()
    text = edited(await roster_file(coordinator))

    older = await coordinator.send_document(text.encode("utf-8"), "roster.toml")
    preview = await coordinator.send_document(text.encode("utf-8"), "roster.toml")
    shown = preview.last.text
    for line in (
        f"重点工作改名：{TALENT} → 青马工程",
        f"新增重点工作：{ADDED}",
        f"停用重点工作：{RIGHTS}",
        "部门改名：办公室 → 办公厅",
        "本月填报期（2015-10）随之更新：新增 1 项；移出 1 项",
    ):
        assert line in shown, shown
    assert preview.last.buttons == ["✅ 应用", "✖️ 取消"]
    assert roster_now(harness) == load_roster(EXAMPLE)  # nothing applied yet

    replies = await coordinator.tap("✅ 应用", message=preview.last)
    assert "名单文件已应用" in replies.last.text
    assert roster_now(harness) == parse_roster(text)
    assert (Action.ROSTER_LOAD, "roster.toml", COORDINATOR_ID) in audited(harness)
    publicity = await harness.liaison("publicity", 4001, "周宣")
    listed = await publicity.send("/report")
    assert any(ADDED in b for b in listed.last.buttons)

    # The same file's older preview: applied already, nothing changes.
    replies = await coordinator.tap("✅ 应用", message=older.last)
    assert "已失效" in replies.last.text
    assert [a for a, _, _ in audited(harness)].count(Action.ROSTER_LOAD) == 1


async def test_cancel_and_an_older_preview_change_nothing(harness: Harness) -> None:
    coordinator = harness.coordinator()
    text = edited(await roster_file(coordinator))
    first = await coordinator.send_document(text.encode("utf-8"), "roster.toml")
    other = text.replace('name = "办公厅"', 'name = "综合办"')
    await coordinator.send_document(other.encode("utf-8"), "roster.toml")

    replies = await coordinator.tap("✅ 应用", message=first.last)  # a newer file was sent
    assert "已失效" in replies.last.text
    replies = await coordinator.tap("✖️ 取消")
    assert "已取消" in replies.last.text
    assert roster_now(harness) == load_roster(EXAMPLE)
    assert Action.ROSTER_LOAD not in [a for a, _, _ in audited(harness)]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (
            'departments = ["office"]'.join(["", ""]) + "[[departments]\n",
            "TOML",
        ),
        ("\xff\xfe".encode("latin-1") + b"[organisation]", "UTF-8"),
        (b"#" * (256 * 1024 + 1), "太大"),
    ],
)
async def test_a_file_that_cannot_be_read_says_why(
    harness: Harness, content: str | bytes, says: str
) -> None:
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    replies = await harness.coordinator().send_document(data, "roster.toml")
    assert says in replies.last.text, replies.last.text
    assert roster_now(harness) == load_roster(EXAMPLE)


async def test_a_broken_file_names_the_key(harness: Harness) -> None:
    coordinator = harness.coordinator()
    text = (await roster_file(coordinator)).replace('"rights",', '"nowhere",')
    replies = await coordinator.send_document(text.encode("utf-8"), "roster.toml")
    assert "departments" in replies.last.text and "nowhere" in replies.last.text
    assert not replies.last.buttons


async def test_liaisons_may_not_change_the_roster(harness: Harness) -> None:
    liaison = await harness.liaison("org", 3001, "王芳")
    refusal = "抱歉，这个命令仅供协调员使用。"
    for command in (f"/item add {ADDED} | org", "/dept add net 网络部", "/items", "/roster"):
        replies = await liaison.send(command)
        assert replies.last.text == refusal, command
    text = edited(roster_toml(load_roster(EXAMPLE)))
    replies = await liaison.send_document(text.encode("utf-8"), "roster.toml")
    assert replies.last.text == refusal
    assert roster_now(harness) == load_roster(EXAMPLE)
    assert audited(harness) == []


async def test_the_terminal_load_is_audited(harness: Harness, tmp_path: Path) -> None:
    changed = tmp_path / "changed.toml"
    changed.write_text(edited(roster_toml(load_roster(EXAMPLE))), encoding="utf-8")
    url = harness.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(main, ["roster", "load", str(changed)], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert audited(harness) == [(Action.ROSTER_LOAD, "changed.toml", None)]


# --- the rules, without the bot -------------------------------------------------------


def test_edits_make_rosters_and_the_difference_names_them() -> None:
    roster = load_roster(EXAMPLE)
    moved = edit_item(roster, "move 13 1")
    assert moved.roster.work_items[0] == roster.work_items[12]
    differences = diff_rosters(roster, moved.roster)
    assert [(d.kind, d.before, d.after) for d in differences] == [(DiffKind.MOVED, ("13",), ("1",))]
    renamed = edit_department(roster, "rename office 办公厅")
    assert [(d.subject, d.kind) for d in diff_rosters(roster, renamed.roster)] == [
        (Subject.DEPARTMENT, DiffKind.RENAMED)
    ]
    owners = edit_item(roster, "depts 1 org, 宣传部")
    (change,) = diff_rosters(roster, owners.roster)
    assert change.after == ("组织部", "宣传部") and change.kind is DiffKind.DEPARTMENTS
    with pytest.raises(EditError) as error:
        edit_department(roster, "retire org")
    assert error.value.name == "department_owns" and FIRST in error.value.values["items"]
    assert parse_roster(roster_toml(owners.roster)) == owners.roster


def test_roster_buttons_parse_back_and_forged_ones_do_not() -> None:
    digest = "0123456789abcdef" * 4
    for data in (
        buttons.apply_roster(digest),
        buttons.apply_roster(digest, drops=True),
        buttons.cancel_roster(digest),
        buttons.retire_item(17),
        buttons.keep_item(),
    ):
        tap = buttons.parse(data)
        assert tap is not None and buttons.build(tap) == data
    for forged in ("ro:a:xyz", "ro:a:0123", "ro:x:-1", "ro:x:01", "ro:q", "ro:n:1", "ro:"):
        assert buttons.parse(forged) is None, forged


async def test_a_long_preview_is_split_with_the_buttons_under_its_end(harness: Harness) -> None:
    coordinator = harness.coordinator()
    text = await roster_file(coordinator)
    added = "".join(
        f'[[work_items]]\ntitle = "新增的第{n}项重点工作（篇幅较长的标题）"\n'
        'departments = ["org"]\n\n'
        for n in range(150)
    )
    text = text.replace("[[coordinators]]", added + "[[coordinators]]")
    replies = await coordinator.send_document(text.encode("utf-8"), "roster.toml")
    assert len(replies) >= 2 and all(len(m.text) <= 4096 for m in replies)
    assert replies.last.buttons == ["✅ 应用", "✖️ 取消"]
    assert not any(m.buttons for m in replies[:-1])
    applied = await coordinator.tap("✅ 应用")
    assert "名单文件已应用" in applied[0].text and len(applied) >= 2
    assert len(roster_now(harness).work_items) == 13 + 150
