"""Department-head approval (部门负责人审核) end to end: an approver joins by invite; where a
department has one, a liaison's submission waits for them, and counts once approved."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import Session, select

from bot.cli import main
from bot.core.audit import Action, Actor
from bot.core.people import PersonRole
from bot.core.reminders import held_up_by
from bot.core.status import State
from bot.double import FakeUser, Replies
from storage import audit
from storage.db import make_engine, session_scope, upgrade
from storage.models import AuditEvent, Department, Invite, Liaison, table_of
from storage.people import create_invite
from storage.periods import get_period
from storage.submissions import department_list, return_for_revision, submission_for, submit
from storage.summary import build_summary
from tests import test_reminders as reminding
from tests.harness import COORDINATOR_ID, Harness
from tests.test_console import wait_for_document
from tests.test_report import DONE, EDIT, SUBMIT, open_month, start_item, stored
from tests.test_roles import snapshot, tap_data

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"https://t\.me/huibao_test_bot\?start=([A-Za-z0-9_-]+)")
ITEM = "团干部队伍建设"  # a key work item of 组织部 (org) only
APPROVE, RETURN = "✅ 通过", "↩️ 退回"


def approver_token(harness: Harness, dept_code: str) -> str:
    with session_scope(harness.engine) as db:
        department = db.exec(select(Department).where(Department.code == dept_code)).one()
        week = timedelta(days=7)
        return create_invite(db, department, ttl=week, created_by="test", role=PersonRole.APPROVER)


async def approver(harness: Harness, dept_code: str, user_id: int, name: str) -> FakeUser:
    """A user who redeemed an approver's invite for the department."""
    user = harness.double.user(user_id, name, language_code="zh-hans")
    await user.send(f"/start {approver_token(harness, dept_code)}")
    return user


async def submit_item(liaison: FakeUser, title: str, progress: str, plan: str) -> Replies:
    await start_item(liaison, title)
    await liaison.send(progress)
    await liaison.tap(DONE)
    await liaison.send(plan)
    await liaison.tap(DONE)
    return await liaison.tap(SUBMIT)


def audit_rows(harness: Harness) -> list[AuditEvent]:
    with session_scope(harness.engine) as db:
        rows = list(db.exec(select(AuditEvent).order_by(sa.asc(table_of(AuditEvent).c.id))))
        for row in rows:
            db.expunge(row)
        return rows


def approval_requests(user: FakeUser) -> list[object]:
    return [m for m in user.messages if "请审核" in m.text]


# --- joining ---------------------------------------------------------------------------


async def test_invite_an_approver_in_chat_who_joins_with_welcome_help_and_menu(
    harness: Harness,
) -> None:
    coordinator = harness.coordinator()
    replies = await coordinator.send("/invite org approver")
    assert "部门负责人" in replies.last.text and "组织部" in replies.last.text
    match = LINK.search(replies.last.text)
    assert match, replies.last.text
    replies = await coordinator.send("/invite org")
    assert "联络员邀请链接" in replies.last.text
    replies = await coordinator.send("/invite org boss")
    assert "boss" in replies.last.text and "t.me" not in replies.last.text
    replies = await coordinator.send("/invite")
    assert "approver" in replies.last.text

    head = harness.double.user(6001, "赵局")
    replies = await head.send(f"/start {match.group(1)}")
    assert "绑定成功" in replies.last.text
    assert "部门负责人（审核人）" in replies.last.text and "组织部" in replies.last.text
    menu = {c for c, _ in harness.double.commands(scope_type="chat", chat_id=head.id)}
    assert "pending" in menu and "report" not in menu and "compile" not in menu
    help_text = (await head.send("/help")).last.text
    assert "/pending" in help_text and "/report" not in help_text
    whoami = (await head.send("/whoami")).last.text
    assert "组织部" in whoami and "部门负责人" in whoami and "联络员" not in whoami
    assert "仅供" in (await head.send("/report")).last.text  # approvers do not report

    with session_scope(harness.engine) as db:
        person = db.exec(select(Liaison).where(Liaison.telegram_id == head.id)).one()
        assert person.role == PersonRole.APPROVER.value
        invites = [e for e in audit.entries(db) if e.action is Action.INVITE]
    assert [(e.subject, e.detail, e.actor.telegram_id) for e in invites] == [
        ("组织部", {"role": "approver"}, COORDINATOR_ID),
        ("组织部", {"role": "liaison"}, COORDINATOR_ID),
    ]


def test_cli_invite_with_the_approver_role(roster_cli: CliRunner, tmp_path: Path) -> None:
    shown = " ".join(roster_cli.invoke(main, ["invite", "--help"]).output.split())
    assert "--role" in shown and "approver" in shown and "default: liaison" in shown
    made = roster_cli.invoke(main, ["invite", "org", "--role", "approver"])
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith("https://t.me/huibao_test_bot?start=")
    assert "approver" in made.stderr and "组织部" in made.stderr
    assert roster_cli.invoke(main, ["invite", "org"]).exit_code == 0
    assert roster_cli.invoke(main, ["invite", "org", "--role", "boss"]).exit_code == 2
    trail_text = roster_cli.invoke(main, ["audit"]).output
    assert "made an invite link  组织部  role: approver" in trail_text

    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    upgrade(engine)
    with Session(engine) as db:
        roles = [i.role for i in db.exec(select(Invite).order_by(sa.asc(table_of(Invite).c.id)))]
        trail = [(e.subject, e.detail, e.actor.telegram_id) for e in audit.entries(db)]
    engine.dispose()
    assert roles == ["approver", "liaison"]
    invites = [t for t in trail if t[1].get("role")]
    assert invites == [
        ("组织部", {"role": "approver"}, None),
        ("组织部", {"role": "liaison"}, None),
    ]


# --- submitting and approving ------------------------------------------------------------


async def test_a_submission_waits_for_the_approver_and_counts_once_approved(
    harness: Harness,
) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 6101, "王芳")
    head = await approver(harness, "org", 6102, "赵局")
    coordinator = harness.coordinator()

    replies = await submit_item(liaison, ITEM, "开展团干部培训", "继续培训")
    assert "等待部门负责人审核" in replies[0].text
    assert f"{ITEM} —— 待审核" in "\n".join(replies.texts)  # the list shows it
    submission = stored(harness, ITEM, "org")
    assert submission.status == "pending"
    status = (await coordinator.send("/status")).texts
    assert any("待审核" in text for text in status)
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None
        _, tally = build_summary(db, period)
    assert ITEM in tally.missing
    await coordinator.send("/compile")
    caption = (await wait_for_document(coordinator)).caption or ""
    assert caption.startswith("已报送 0/13 项") and "其中 1 项待审核" in caption

    request = head.last
    assert "王芳" in request.text and ITEM in request.text and "第 1 版" in request.text
    assert "开展团干部培训" in request.text and "继续培训" in request.text
    assert request.buttons == [APPROVE, RETURN]
    datas = [b.callback_data for row in request.button_rows for b in row]
    assert datas == [f"rv:a:{submission.id}:1", f"rv:r:{submission.id}:1"]

    await head.tap(APPROVE)
    assert "已通过" in head.last.text and head.last.buttons == []
    assert "已通过部门负责人审核" in liaison.last.text and ITEM in liaison.last.text
    assert stored(harness, ITEM, "org").status == "submitted"
    status = (await coordinator.send("/status")).texts
    assert not any("待审核" in text for text in status)
    with session_scope(harness.engine) as db:
        approvals = [e for e in audit.entries(db) if e.action is Action.APPROVE]
    assert [(e.actor.telegram_id, e.submission_id, e.detail) for e in approvals] == [
        (head.id, submission.id, {"version": 1})
    ]


async def test_only_the_departments_approver_may_approve(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 6201, "王芳")
    head = await approver(harness, "org", 6202, "赵局")
    other_head = await approver(harness, "office", 6203, "钱主任")
    coordinator = harness.coordinator()
    for user in (liaison, head, other_head, coordinator):
        await user.send("/whoami")
    await submit_item(liaison, ITEM, "开展团干部培训", "继续培训")
    submission = stored(harness, ITEM, "org")
    data = f"rv:a:{submission.id}:{submission.version}"
    before = snapshot(harness), audit_rows_key(harness)

    for user in (liaison, coordinator, other_head):
        replies = await tap_data(user, harness, data)
        assert replies.answer is not None and "部门负责人" in (replies.answer.text or "")
    for forged in (f"rv:a:{submission.id + 999}:1", "rv:a:x:1", f"rv:a:{submission.id}"):
        replies = await tap_data(head, harness, forged)
        assert replies.answer is not None and "已失效" in (replies.answer.text or "")
    assert (snapshot(harness), audit_rows_key(harness)) == before
    assert stored(harness, ITEM, "org").status == "pending"


def audit_rows_key(harness: Harness) -> list[tuple[object, ...]]:
    return [(r.id, r.action, r.actor_id, r.subject) for r in audit_rows(harness)]


async def test_an_old_approve_button_after_a_resubmission_says_it_changed(
    harness: Harness,
) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 6301, "王芳")
    head = await approver(harness, "org", 6302, "赵局")
    await submit_item(liaison, ITEM, "开展团干部培训", "继续培训")
    first = head.last

    replies = await liaison.send("/report")
    await liaison.tap(next(b for b in replies.last.buttons if ITEM[:6] in b))
    await liaison.tap(EDIT)  # revise the pending version: its preview
    await liaison.tap("修改推进情况")
    await liaison.send("补充一项")
    await liaison.tap(DONE)
    replies = await liaison.tap(SUBMIT)
    assert "等待部门负责人审核" in replies[0].text
    submission = stored(harness, ITEM, "org")
    assert (submission.status, submission.version) == ("pending", 2)
    second = head.last
    assert second.message_id != first.message_id and "第 2 版" in second.text

    replies = await head.tap(APPROVE, message=first)
    assert replies.answer is not None and "改动" in (replies.answer.text or "")
    assert stored(harness, ITEM, "org").status == "pending"
    await head.tap(APPROVE, message=second)
    assert stored(harness, ITEM, "org").status == "submitted"
    replies = await tap_data(head, harness, f"rv:a:{submission.id}:2")
    assert replies.answer is not None and "已经审核过" in (replies.answer.text or "")


async def test_a_department_without_approvers_submits_as_before(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 6401, "王芳")
    head = await approver(harness, "office", 6402, "钱主任")  # another department's head
    replies = await submit_item(liaison, ITEM, "开展团干部培训", "继续培训")
    assert "已提交" in replies[0].text and "审核" not in replies[0].text
    assert stored(harness, ITEM, "org").status == "submitted"
    assert approval_requests(head) == []
    assert "没有待您审核" in (await head.send("/pending")).last.text


async def test_pending_sends_the_approval_requests_again(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 6501, "王芳")
    head = await approver(harness, "org", 6502, "赵局")
    await submit_item(liaison, ITEM, "开展团干部培训", "继续培训")
    replies = await head.send("/pending")
    assert "共有 1 项待审核" in replies[0].text
    assert replies.last.buttons == [APPROVE, RETURN] and ITEM in replies.last.text
    await head.tap(APPROVE, message=replies.last)
    assert stored(harness, ITEM, "org").status == "submitted"
    assert "仅供" in (await liaison.send("/pending")).last.text


# --- reminders ---------------------------------------------------------------------------


def hand_in_everything(harness: Harness, dept_code: str) -> None:
    """The department's liaison submitted all its items, awaiting approval (in storage)."""
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        dept = db.exec(select(Department).where(Department.code == dept_code)).one()
        assert period is not None
        for item in department_list(db, period, dept.id or 0):
            sub = submission_for(db, period, item.work_item_id, dept.id or 0)
            submit(db, sub, progress=["已完成"], plan=["继续"], by=1, read_version=sub.version,
                   now=reminding.MINUS_3D, needs_approval=True)  # fmt: skip


async def test_reminders_go_to_whoever_holds_it_up(harness: Harness) -> None:
    reminding.open_month(harness)
    liaison = await harness.liaison("org", 6601, "王芳")
    head = await approver(harness, "org", 6602, "赵局")
    office = await harness.liaison("office", 6603, "刘洋")
    office_head = await approver(harness, "office", 6604, "钱主任")
    hand_in_everything(harness, "org")  # org: everything awaits its head

    await reminding.tick(harness, reminding.MINUS_3D)
    assert reminding.reminders(liaison) == []
    told = [m for m in head.messages if "等待您审核" in m.text]
    assert len(told) == 1 and "/pending" in told[0].text and ITEM in told[0].text
    assert told[0].buttons == []  # approvers do not report: no item buttons
    assert len(reminding.reminders(office)) == 1  # office owes: its liaison hears
    assert not any("等待您审核" in m.text for m in office_head.messages)

    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None
        org = db.exec(select(Department).where(Department.code == "org")).one()
        first = department_list(db, period, org.id or 0)[0]
        sub = submission_for(db, period, first.work_item_id, org.id or 0)
        by = Actor(head.id, "赵局")
        return_for_revision(db, sub, version=sub.version, reason="补充数据", actor=by,
                            subject="", now=reminding.MINUS_3D)  # fmt: skip
    await reminding.tick(harness, reminding.MINUS_1D)  # org: one returned, the rest pending
    assert len(reminding.reminders(liaison)) == 1
    assert len([m for m in head.messages if "等待您审核" in m.text]) == 2


def test_who_a_departments_reminder_goes_to() -> None:
    liaison, approver_ = PersonRole.LIAISON, PersonRole.APPROVER
    pending, draft, returned = State.PENDING, State.DRAFT, State.RETURNED
    assert held_up_by([pending, pending], has_approvers=True) == {approver_}
    assert held_up_by([pending, draft], has_approvers=True) == {liaison, approver_}
    assert held_up_by([returned], has_approvers=True) == {liaison}
    assert held_up_by([pending], has_approvers=False) == {liaison}  # the head left: resubmit
