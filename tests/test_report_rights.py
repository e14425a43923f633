"""A liaison who is moved or revoked loses every right on their drafts at once."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.core.draft import Draft
from bot.core.roster import load_roster
from bot.double import FakeUser
from storage import drafts
from storage.db import session_scope
from storage.models import Liaison, SubmissionRevision
from storage.roster import apply_roster
from tests.harness import Harness
from tests.test_report import DONE, SUBMIT, button_for, open_month, start_item, stored

SHARED = "团的制度建设"  # office and org report on it
SHARED_FULL = "团的制度建设"


async def to_preview(liaison: FakeUser, title: str) -> None:
    await start_item(liaison, title)
    await liaison.send("甲部门的进展")
    await liaison.tap(DONE)
    await liaison.send("甲部门的计划")
    await liaison.tap(DONE)


def revisions_of(harness: Harness, title: str, dept: str) -> list[SubmissionRevision]:
    submission = stored(harness, title, dept)
    with session_scope(harness.engine) as db:
        return list(
            db.exec(
                select(SubmissionRevision).where(SubmissionRevision.submission_id == submission.id)
            )
        )


def kept_read_only(harness: Harness, telegram_id: int) -> dict[tuple[int, int], Draft]:
    with session_scope(harness.engine) as db:
        return drafts.load(db, telegram_id).readonly


async def test_a_liaison_moved_to_another_department_cannot_submit_the_old_draft(
    harness: Harness,
) -> None:
    open_month(harness)
    liaison = await harness.liaison("office", 3101, "周移")
    await to_preview(liaison, SHARED)
    preview = liaison.last
    assert SUBMIT in preview.buttons

    # The liaison is moved: they redeem an invite of the organisation department.
    await liaison.send(f"/start {harness.invite_token('org')}")
    replies = await liaison.tap(SUBMIT, message=preview)
    shown = "\n".join(replies.texts)
    assert "不再负责" in shown and "甲部门的进展" in shown  # told, and shown the draft
    assert revisions_of(harness, SHARED_FULL, "office") == []
    assert stored(harness, SHARED_FULL, "office").status != "submitted"
    assert kept_read_only(harness, 3101)  # kept, read-only
    assert all(not m.buttons or SUBMIT not in m.buttons for m in liaison.messages)

    # Opening the item again starts the organisation department's own, empty draft.
    await liaison.send("/report")
    replies = await liaison.tap(button_for(liaison, "团的制度建设"))
    assert "甲部门的进展" not in replies.last.text


async def test_every_kind_of_action_checks_the_current_department(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("office", 3102, "吴动")
    await start_item(liaison, SHARED)
    await liaison.send("第一项")
    await harness.liaison("org", 3102, "吴动")  # moved meanwhile
    replies = await liaison.tap(DONE)  # a button of the draft
    assert "不再负责" in replies.last.text and "第一项" in replies.last.text
    assert not replies.last.buttons
    assert kept_read_only(harness, 3102)
    replies = await liaison.send("新的一项")  # the draft is out of the flow
    assert "新的一项" not in "\n".join(replies.texts)
    replies = await liaison.send("/report")
    assert "组织部" in replies.last.text and "第一项" not in replies.last.text


async def test_a_typed_message_and_report_check_it_too(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("office", 3105, "冯动")
    await start_item(liaison, SHARED)
    await liaison.send("第一项")
    await harness.liaison("org", 3105, "冯动")
    replies = await liaison.send("第二项")
    assert "不再负责" in replies.last.text and "第二项" not in replies.last.text

    other = await harness.liaison("office", 3106, "褚动")
    await start_item(other, SHARED)
    await other.send("甲")
    await harness.liaison("org", 3106, "褚动")
    replies = await other.send("/report")
    assert "不再负责" in "\n".join(replies.texts)


async def test_a_department_taken_off_a_shared_item_cannot_submit(
    harness: Harness, tmp_path: Path
) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3103, "郑减")
    await to_preview(liaison, SHARED)
    roster = harness.roster.read_text(encoding="utf-8").replace(
        'departments = ["office", "org"]', 'departments = ["office"]', 1
    )
    changed = tmp_path / "roster.toml"
    changed.write_text(roster, encoding="utf-8")
    with session_scope(harness.engine) as db:
        apply_roster(db, load_roster(changed), "Asia/Shanghai")

    replies = await liaison.tap(SUBMIT)
    assert "不再负责" in "\n".join(replies.texts)
    assert revisions_of(harness, SHARED_FULL, "org") == []


async def test_a_revoked_liaison_can_do_nothing_with_the_draft(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("youth", 3104, "钱撤")
    await to_preview(liaison, "创新创业")
    with session_scope(harness.engine) as db:
        row = db.exec(select(Liaison).where(Liaison.telegram_id == 3104)).one()
        row.active = False
        db.add(row)
    replies = await liaison.tap(SUBMIT)
    assert replies.answer is not None
    assert "不再负责" in "\n".join(replies.texts)
    assert revisions_of(harness, "促进青年创新创业就业工作", "youth") == []
    assert kept_read_only(harness, 3104)
    replies = await liaison.send("再加一项")
    assert "再加一项" not in "\n".join(replies.texts)
    assert not any(SUBMIT in m.buttons for m in liaison.messages)  # none left anywhere


async def test_a_revoked_liaison_typing_into_the_draft_is_told_once(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("youth", 3107, "钱写")
    await start_item(liaison, "创新创业")
    await liaison.send("已有的一项")
    with session_scope(harness.engine) as db:
        row = db.exec(select(Liaison).where(Liaison.telegram_id == 3107)).one()
        row.active = False
        db.add(row)
    replies = await liaison.send("再加一项")
    assert "不再负责" in replies.last.text and "已有的一项" in replies.last.text
    assert "再加一项" not in replies.last.text
    assert not any(m.buttons for m in liaison.messages)
