"""People (issue 13): /liaisons lists who reports for each department, a coordinator revokes
a liaison's access or invites a successor with its buttons, /coordinators adds and removes
coordinators (never the last), `huibao people list|revoke` does the same at the terminal.
Every change is in the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select
from telegram import InlineKeyboardButton

from bot.cli import _width, main
from bot.core.audit import Action
from bot.core.people import PersonRole
from bot.double import FakeGroup, FakeUser, Replies, SentMessage
from handlers import buttons
from handlers.buttons import (
    AskRemoveCoordinator,
    AskRevoke,
    CancelPeople,
    InviteSuccessor,
    RemoveCoordinator,
    Revoke,
)
from handlers.chunks import SCREEN_CHARS
from handlers.people import BUTTONS_PER_MESSAGE, Part, messages
from storage import audit
from storage.db import make_engine, session_scope
from storage.models import Coordinator, Department, Liaison, WorkItem
from storage.people import create_invite, identify, redeem_invite
from storage.periods import get_period
from storage.reminder_log import set_unreachable
from storage.submissions import submission_for
from storage.summary import build_summary
from tests.harness import COORDINATOR_ID, Harness
from tests.test_console import open_month, report
from tests.test_reminders import MINUS_1D, MINUTE, reminders, tick
from tests.test_report import start_item
from tests.test_roles import snapshot, tap_data

ROOT = Path(__file__).resolve().parent.parent
ORG_ITEM = "团干部队伍建设"  # a key work item of 组织部 only
OTHER_ORG_ITEM = "团的制度建设"  # shared by 办公室 and 组织部
REVOKED = "您的填报权限已被协调员收回"
SEEN = datetime(2015, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def liaison_row(harness: Harness, telegram_id: int) -> Liaison:
    with session_scope(harness.engine) as db:
        return db.exec(select(Liaison).where(Liaison.telegram_id == telegram_id)).one()


async def approver(harness: Harness, dept_code: str, user_id: int, name: str) -> FakeUser:
    """A user who redeemed an approver's invite for the department."""
    with session_scope(harness.engine) as db:
        department = db.exec(select(Department).where(Department.code == dept_code)).one()
        token = create_invite(
            db, department, ttl=timedelta(days=7), created_by="test", role=PersonRole.APPROVER
        )
    user = harness.double.user(user_id, name)
    await user.send(f"/start {token}")
    return user


def actions(harness: Harness) -> list[tuple[str, int | None, str]]:
    with session_scope(harness.engine) as db:
        return [(e.action.value, e.actor.telegram_id, e.subject) for e in audit.entries(db)]


def token_of(message: SentMessage) -> str:
    link = next(word for word in message.text.split() if "?start=" in word)
    return link.split("?start=", 1)[1]


async def forge_in_group(harness: Harness, group: FakeGroup, user: FakeUser, data: str) -> Replies:
    """A tap with this data on the group's latest bot message."""
    message = group.last
    query_id = harness.double.new_callback_query(user.state, message, data)
    body = {
        "callback_query": {
            "id": query_id,
            "from": user.to_json(),
            "message": harness.double.message_json(message),
            "chat_instance": str(group.id),
            "data": data,
        }
    }
    replies = await harness.double.act(group.id, body)
    replies.answer = harness.double.callback_answer(query_id)
    return replies


# --- callback data ------------------------------------------------------------------------


def test_people_buttons_round_trip_and_forged_data_is_none() -> None:
    taps = [
        AskRevoke(7),
        Revoke(7),
        InviteSuccessor(3, PersonRole.LIAISON),
        InviteSuccessor(3, PersonRole.APPROVER),
        AskRemoveCoordinator(2),
        RemoveCoordinator(2),
        CancelPeople(),
    ]
    for tap in taps:
        assert buttons.parse_people(buttons.build_people(tap)) == tap
        assert buttons.parse(buttons.build_people(tap)) == tap
    assert buttons.build_people(Revoke(7)) == "pp:V:7"
    assert buttons.build_people(InviteSuccessor(3, PersonRole.APPROVER)) == "pp:i:3:approver"
    for data in (
        "pp",
        "pp:",
        "pp:v",
        "pp:v:",
        "pp:v:x",
        "pp:v:-1",
        "pp:v:01",
        "pp:v:1:2",
        "pp:q:1",
        "pp:i:3",
        "pp:i:3:boss",
        "pp:i:3:liaison:1",
        "pp:x:1",
        "pp:C:" + "9" * 40,
        "rv:v:1",
    ):
        assert buttons.parse_people(data) is None, data


# --- /liaisons ----------------------------------------------------------------------------


async def test_liaisons_lists_people_with_last_wrote_and_reachability(harness: Harness) -> None:
    open_month(harness)
    harness.now = SEEN
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    wang = await harness.liaison("org", 3001, "王芳")
    await wang.send("/whoami")  # the first message as a liaison: "last wrote" is noted
    await approver(harness, "org", 3002, "赵强")
    await harness.liaison("office", 3003, "Alex", language_code="en")
    with session_scope(harness.engine) as db:
        set_unreachable(db, 3003, True)

    replies = await coordinator.send("/liaisons")
    [listing] = replies
    text = listing.text
    assert text.startswith("📇 各部门联络员与负责人（11 个部门，其中 9 个尚无联络员）")
    assert (
        "组织部\n· 王芳（联络员）最近发言：2015-11-02 10:00\n· 赵强（负责人）最近发言：从未" in text
    )
    assert "办公室\n· Alex（联络员）最近发言：从未 · ⛔ 无法送达（已屏蔽机器人）" in text
    assert "宣传部 ⚠️ 尚无联络员" in text and "组织部 ⚠️" not in text
    assert text.index("办公室") < text.index("组织部") < text.index("宣传部")  # roster order
    labels = listing.buttons
    for label in ("🚫 收回 王芳", "🚫 收回 赵强", "🚫 收回 Alex"):
        assert label in labels
    assert "➕ 邀请接替者：组织部联络员" in labels and "➕ 邀请接替者：组织部负责人" in labels
    assert "➕ 邀请接替者：宣传部联络员" in labels and "➕ 邀请接替者：宣传部负责人" not in labels

    # in the coordinators' group: the same list, without buttons
    group = harness.double.group(-100, "协调员群")
    replies = await group.send(coordinator, "/liaisons")
    assert "王芳（联络员）" in replies.last.text and replies.last.buttons == []
    # nobody else may see it
    assert "仅供协调员使用" in (await wang.send("/liaisons")).last.text
    stranger = harness.double.user(4242, "路人")
    assert "仅供各部门联络员和协调员使用" in (await stranger.send("/liaisons")).last.text


def test_a_long_list_is_split_between_departments() -> None:
    row = [InlineKeyboardButton("x", callback_data=buttons.build_people(AskRevoke(1)))]
    parts = [Part(f"部门{i}\n" + "· 某人\n" * 60, [row] * 30) for i in range(12)]
    found = messages(parts)
    assert len(found) > 1
    for text, markup in found:
        assert len(text) <= SCREEN_CHARS
        assert markup is not None
        assert sum(len(r) for r in markup.inline_keyboard) <= BUTTONS_PER_MESSAGE
        assert text.count("部门") == len(markup.inline_keyboard) // 30  # whole departments
    assert sum(text.count("部门") for text, _ in found) == 12


# --- revoking -----------------------------------------------------------------------------


async def test_revoked_liaison_is_refused_not_reminded_and_their_work_stays(
    harness: Harness,
) -> None:
    open_month(harness)
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    wang = await harness.liaison("org", 3001, "王芳")
    office = await harness.liaison("office", 3003, "李雷")
    await report(wang, ORG_ITEM, "1.完成换届", "1.继续培训")
    await start_item(wang, OTHER_ORG_ITEM)  # a draft left open
    await wang.send("写了一半的一项")

    await coordinator.send("/liaisons")
    replies = await coordinator.tap("🚫 收回 王芳")
    assert replies.last.text == "确定收回 王芳（组织部）的填报权限？"
    assert replies.last.buttons == ["确定", "取消"]
    replies = await coordinator.tap("确定")
    assert replies.last.text.startswith("✅ 已收回 王芳（组织部）的填报权限。")
    assert replies.last.buttons == []
    row = liaison_row(harness, wang.id)
    assert not row.active and row.revoked_by == COORDINATOR_ID and row.revoked_at is not None
    assert ("revoke", COORDINATOR_ID, "王芳（组织部）") in actions(harness)
    # their menu is a stranger's now
    menu = {c for c, _ in harness.double.commands(scope_type="chat", chat_id=wang.id)}
    assert "report" not in menu and "start" in menu

    # the open draft is refused (kept read-only for their records), then everything is
    replies = await wang.send("/report")
    assert "这份草稿不能再修改或提交" in replies.last.text and "写了一半的一项" in replies.last.text
    for attempt in ("/report", "还有一项", "/cancel"):
        replies = await wang.send(attempt)
        assert replies.last.text.startswith(REVOKED), attempt

    # a reminder pass reaches the office, not them
    await tick(harness, MINUS_1D + 2 * MINUTE)
    assert reminders(wang) == [] and len(reminders(office)) == 1

    # what they submitted still compiles
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None
        summary, _ = build_summary(db, period)
        item = db.exec(select(WorkItem).where(WorkItem.title == ORG_ITEM)).one()
        department = db.exec(select(Department).where(Department.code == "org")).one()
        kept = submission_for(db, period, item.id or 0, department.id or 0)
    assert kept.status == "submitted" and kept.progress == ["完成换届"]
    [org_row] = [r for r in summary.rows if r.title == ORG_ITEM]
    assert [c.progress for c in org_row.contributions] == [["完成换届"]]

    # the list shows 组织部 without a liaison; a successor (here: the same person) is invited
    replies = await coordinator.send("/liaisons")
    assert "组织部 ⚠️ 尚无联络员" in replies.last.text and "王芳" not in replies.last.text
    replies = await coordinator.tap("➕ 邀请接替者：组织部联络员")
    assert replies.last.text.startswith("组织部联络员邀请链接（7天内有效，仅可使用一次）：")
    assert ("invite", COORDINATOR_ID, "组织部") in actions(harness)
    replies = await wang.send(f"/start {token_of(replies.last)}")
    assert "绑定成功" in replies.last.text
    assert liaison_row(harness, wang.id).active
    replies = await wang.send("/report")
    assert ORG_ITEM in "\n".join(replies.texts)


async def test_an_approver_successor_is_invited_as_an_approver(harness: Harness) -> None:
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    await approver(harness, "org", 3002, "赵强")
    await coordinator.send("/liaisons")
    replies = await coordinator.tap("🚫 收回 赵强")
    await coordinator.tap("确定")
    assert not liaison_row(harness, 3002).active
    await coordinator.send("/liaisons")
    replies = await coordinator.tap("➕ 邀请接替者：组织部负责人")
    assert replies.last.text.startswith("组织部负责人邀请链接")
    successor = harness.double.user(3004, "钱进")
    await successor.send(f"/start {token_of(replies.last)}")
    with session_scope(harness.engine) as db:
        assert identify(db, 3004).is_approver


async def test_cancel_changes_nothing(harness: Harness) -> None:
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    await harness.liaison("org", 3001, "王芳")
    await coordinator.send("/liaisons")
    await coordinator.tap("🚫 收回 王芳")
    before = snapshot(harness)
    replies = await coordinator.tap("取消")
    assert replies.last.text == "已取消，没有做任何更改。" and replies.last.buttons == []
    assert snapshot(harness) == before and liaison_row(harness, 3001).active


async def test_forged_or_old_people_taps_are_refused_and_change_nothing(
    harness: Harness,
) -> None:
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    wang = await harness.liaison("org", 3001, "王芳")
    await harness.liaison("office", 3003, "李雷")
    wang_id = liaison_row(harness, wang.id).id
    await wang.send("/whoami")  # "last wrote" noted now, not during the taps below
    await coordinator.send("/liaisons")
    with session_scope(harness.engine) as db:
        [me] = db.exec(select(Coordinator)).all()
        org = db.exec(select(Department).where(Department.code == "org")).one()
    before, trail = snapshot(harness), actions(harness)

    # a liaison forging a coordinator's button: the refusal, on the tap
    for data in (f"pp:V:{wang_id}", f"pp:i:{org.id}:liaison", f"pp:C:{me.id}"):
        replies = await tap_data(wang, harness, data)
        assert replies.answer is not None and "仅供协调员使用" in (replies.answer.text or "")
    # a coordinator's taps on data for nobody, malformed data, a tap in a group
    answers = {
        "pp:V:999999": "找不到这个人",
        "pp:v:999999": "找不到这个人",
        "pp:i:999999:liaison": "这个部门已不在名册中",
        "pp:C:999999": "这位已不是协调员",
        "pp:i:1:boss": "这个按钮已失效",
    }
    for data, answer in answers.items():
        replies = await tap_data(coordinator, harness, data)
        assert replies.answer is not None and answer in (replies.answer.text or ""), data
    group = harness.double.group(-100, "协调员群")
    await group.send(coordinator, "/liaisons")
    replies = await forge_in_group(harness, group, coordinator, f"pp:V:{wang_id}")
    assert replies.answer is not None and "私聊" in (replies.answer.text or "")
    assert snapshot(harness) == before and actions(harness) == trail

    # two confirmations; the second is old once the first revoked
    await coordinator.tap("🚫 收回 王芳")
    first = coordinator.last
    await coordinator.send("/liaisons")
    await coordinator.tap("🚫 收回 王芳")
    await coordinator.tap("确定")
    after, trail = snapshot(harness), actions(harness)
    replies = await coordinator.tap("确定", message=first)
    assert replies.answer is not None and "已经收回" in (replies.answer.text or "")
    assert snapshot(harness) == after and actions(harness) == trail


# --- coordinators -------------------------------------------------------------------------


async def test_coordinators_are_added_and_removed_but_never_the_last(harness: Harness) -> None:
    li = harness.coordinator()
    await li.send("/start")
    zhang = harness.double.user(7001, "张三")
    await zhang.send("/start")  # has written to the bot before: gets a welcome when added

    replies = await li.send("/coordinators")
    assert "李明（Telegram ID 123456789） ← 您" in replies.last.text
    before = snapshot(harness)
    replies = await li.tap("🚫 移除 李明")
    assert replies.answer is not None and "最后一位协调员" in (replies.answer.text or "")
    assert snapshot(harness) == before

    for wrong in ("/coordinators add", "/coordinators add abc 张三", "/coordinators add 7001"):
        assert (await li.send(wrong)).last.text.startswith("用法：/coordinators"), wrong
    replies = await li.send("/coordinators add 7001 张三")
    assert replies.last.text.startswith("✅ 已添加协调员 张三（Telegram ID 7001）")
    assert zhang.last.text.startswith("张三，您好！您已被添加为协调员")
    menu = {c for c, _ in harness.double.commands(scope_type="chat", chat_id=7001)}
    assert {"liaisons", "coordinators", "status"} <= menu
    assert "已经是协调员" in (await li.send("/coordinators add 7001 张三")).last.text
    assert "/liaisons" in (await zhang.send("/help")).last.text

    # 李明 removes himself: he is not the last now
    await li.send("/coordinators")
    replies = await li.tap("🚫 移除 李明")
    assert replies.last.text == "确定移除协调员 李明（您自己）？"
    replies = await li.tap("确定")
    assert replies.last.text == "✅ 已移除协调员 李明。"
    assert "仅供各部门联络员和协调员使用" in (await li.send("/coordinators")).last.text

    # 张三 is the last one now: the button refuses, and so does an old confirmation
    await zhang.send("/coordinators")
    replies = await zhang.tap("🚫 移除 张三")
    assert replies.answer is not None and "最后一位协调员" in (replies.answer.text or "")
    with session_scope(harness.engine) as db:
        zhang_row = db.exec(select(Coordinator).where(Coordinator.telegram_id == 7001)).one()
    replies = await tap_data(zhang, harness, f"pp:C:{zhang_row.id}")
    assert replies.answer is not None and "最后一位协调员" in (replies.answer.text or "")
    with session_scope(harness.engine) as db:
        assert [c.telegram_id for c in db.exec(select(Coordinator)) if c.active] == [7001]
    trail = actions(harness)
    assert ("coordinator_add", COORDINATOR_ID, "张三") in trail
    assert ("coordinator_remove", COORDINATOR_ID, "李明") in trail


async def test_a_coordinator_added_before_they_ever_wrote_is_one_when_they_do(
    harness: Harness,
) -> None:
    li = harness.coordinator()
    await li.send("/start")
    replies = await li.send("/coordinators add 7002 王五")
    assert replies.last.text.startswith("✅ 已添加协调员 王五")
    newcomer = harness.double.user(7002, "王五")
    replies = await newcomer.send("/start")
    assert "您是协调员" in replies.last.text
    menu = {c for c, _ in harness.double.commands(scope_type="chat", chat_id=7002)}
    assert "coordinators" in menu


# --- the terminal -------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["people"], ["people", "list"], ["people", "revoke"]])
def test_people_commands_have_help(command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_people_list_and_revoke_at_the_terminal(roster_cli: CliRunner, tmp_path: Path) -> None:
    assert "no liaison or approver yet" in roster_cli.invoke(main, ["people", "list"]).output
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with session_scope(engine) as db:
        for code, user_id, name, role in (
            ("org", 3001, "王芳", PersonRole.LIAISON),
            ("org", 3002, "赵强", PersonRole.APPROVER),
            ("office", 3003, "Alex", PersonRole.LIAISON),
        ):
            department = db.exec(select(Department).where(Department.code == code)).one()
            token = create_invite(db, department, ttl=timedelta(days=1), created_by="t", role=role)
            redeem_invite(db, token, telegram_id=user_id, name=name)
        set_unreachable(db, 3003, True)
        wang = db.exec(select(Liaison).where(Liaison.telegram_id == 3001)).one()
        wang.last_seen_at = SEEN
        db.add(wang)

    listed = roster_cli.invoke(main, ["people", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split() == [
        "department", "name", "role", "telegram", "id", "last", "wrote", "reachable", "revoked"
    ]  # fmt: skip
    assert lines[1].split() == ["办公室", "Alex", "liaison", "3003", "never", "no"]
    assert lines[2].split() == ["组织部", "王芳", "liaison", "3001", "2015-11-02", "10:00", "yes"]
    assert lines[3].split() == ["组织部", "赵强", "approver", "3002", "never", "yes"]
    columns = [_width(line[: line.index("liaison")]) for line in lines[1:3]]
    assert columns[0] == columns[1]  # aligned, a Chinese character two columns wide

    done = roster_cli.invoke(main, ["people", "revoke", "3001"])
    assert (done.exit_code, done.output) == (0, "revoked the access of 王芳 (组织部)\n")
    again = roster_cli.invoke(main, ["people", "revoke", "3001"])
    assert again.exit_code == 0 and "revoked already" in again.output
    unknown = roster_cli.invoke(main, ["people", "revoke", "42"])
    assert unknown.exit_code == 2 and len(unknown.output.splitlines()) == 1
    assert "no liaison or approver has Telegram ID 42" in unknown.output
    revoked_line = roster_cli.invoke(main, ["people", "list"]).output.splitlines()[2]
    assert revoked_line.split()[:3] == ["组织部", "王芳", "liaison"]
    assert len(revoked_line.split()) == 9  # the time it was revoked, at the end

    with session_scope(engine) as db:
        entries = audit.entries(db)
        assert not db.exec(select(Liaison).where(Liaison.telegram_id == 3001)).one().active
    engine.dispose()
    revocations = [e for e in entries if e.action is Action.REVOKE]  # the roster load too
    assert [(e.action, e.actor.telegram_id, e.subject) for e in revocations] == [
        (Action.REVOKE, None, "王芳（组织部）")
    ]
