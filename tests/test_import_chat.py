"""A coordinator sends a past month's summary table in chat: previewed by name, imported
on ✅, an old or forged button imports nothing; a liaison's .docx stays their section."""

from __future__ import annotations

import hashlib

from sqlmodel import select

from bot.core.audit import Action
from handlers import buttons
from storage import audit
from storage.db import session_scope
from storage.models import Period, Submission
from tests.harness import Harness
from tests.test_roles import tap_data
from tests.test_word_import import docx_bytes

SEPTEMBER = docx_bytes(
    [
        ["1", "促进青年创新创业就业工作", "九月推进", "1.十月计划甲\n2.十月计划乙"],
        ["2", "没有这一项", "甲", "乙"],
    ],
    title="9月份重点工作推进情况汇总表",
)


def counts(harness: Harness) -> tuple[int, int, int]:
    with session_scope(harness.engine) as db:
        return (
            len(db.exec(select(Period)).all()),
            len(db.exec(select(Submission)).all()),
            len(audit.entries(db)),
        )


async def test_a_coordinator_imports_a_summary_in_chat(harness: Harness) -> None:
    coordinator = harness.coordinator()
    before = counts(harness)
    replies = await coordinator.send_document(SEPTEMBER, "九月.docx", caption="2015-09")
    preview = replies.last
    digest = hashlib.sha256(SEPTEMBER).hexdigest()
    assert "2015-09" in preview.text and "促进青年创新创业就业工作 → 青年发展部" in preview.text
    assert "没有这一项" in preview.text  # the row that matched nothing, and why
    assert counts(harness) == before  # a preview stores nothing
    replies = await coordinator.tap("✅ 导入")
    assert "已导入" in replies.last.text and "保存 1 项" in replies.last.text
    with session_scope(harness.engine) as db:
        period = db.exec(select(Period).where(Period.month == "2015-09")).one()
        assert not period.is_open
        found = db.exec(select(Submission).where(Submission.period_id == period.id)).all()
        assert [s.plan for s in found] == [["十月计划甲", "十月计划乙"]]
        entry = audit.entries(db)[-1]
        assert entry.action is Action.IMPORT and entry.actor.telegram_id == coordinator.id
    # The preview's button again, and a second import of the same file: nothing changes.
    after = counts(harness)
    replies = await tap_data(coordinator, harness, buttons.import_file(digest, apply=True))
    assert counts(harness) == after  # the preview's own button, once it was used
    replies = await tap_data(coordinator, harness, "im:a:" + "0" * 16)  # forged
    assert counts(harness) == after
    replies = await coordinator.send_document(SEPTEMBER, "九月.docx", caption="2015-09")
    assert "未变 1 项" in replies.last.text
    replies = await coordinator.tap("✅ 导入")
    assert counts(harness) == after


async def test_what_cannot_be_imported_says_why_and_changes_nothing(harness: Harness) -> None:
    coordinator = harness.coordinator()
    before = counts(harness)
    replies = await coordinator.send_document(b"PK not really", "坏.docx")
    assert "没有导入" in replies.last.text
    replies = await coordinator.send_document(SEPTEMBER, "九月.docx", caption="九月")
    assert "不是月份" in replies.last.text
    replies = await coordinator.send_document(SEPTEMBER, "九月.docx", caption="2015-09")
    replies = await coordinator.tap("✖️ 取消")
    assert "没有导入" in replies.last.text or "已取消" in replies.last.text
    assert counts(harness) == before


async def test_a_liaison_sending_a_summary_is_not_importing(harness: Harness) -> None:
    liaison = await harness.liaison("youth", 3007, "郑凯")
    before = counts(harness)
    replies = await liaison.send_document(SEPTEMBER, "九月.docx", caption="2015-09")
    assert not any("导入" in m.text for m in replies)
    assert counts(harness) == before


async def test_after_importing_september_in_chat_octobers_report_offers_its_plan(
    harness: Harness,
) -> None:
    coordinator = harness.coordinator()
    await coordinator.send_document(SEPTEMBER, "九月.docx")  # the month from the title
    await coordinator.tap("✅ 导入")
    await coordinator.send("/period open 2015-10 2015-11-05 17:00")
    liaison = await harness.liaison("youth", 3007, "郑凯")
    replies = await liaison.send("/report")
    replies = await liaison.tap(next(b for b in replies.last.buttons if "创新创业" in b))
    assert "上月" in replies.last.text and "十月计划甲" in replies.last.text
    replies = await liaison.tap("📋 以上月计划为起点")
    assert "十月计划乙" in replies.last.text
