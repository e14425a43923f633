"""On a phone the report is quiet: a tap edits its message, one keyboard is live."""

from __future__ import annotations

from bot.demo.sample_month import SAMPLE_RAW, SAMPLE_TITLES
from bot.double import FakeUser
from tests.harness import Harness
from tests.test_report import DONE, SUBMIT, button_for, open_month, start_item


def new_messages(harness: Harness, user: FakeUser) -> int:
    return sum(
        1
        for call in harness.double.calls_to("sendMessage")
        if str(call.params.get("chat_id")) == str(user.id) and call.status == 200
    )


def live_keyboards(user: FakeUser) -> int:
    return sum(1 for m in user.messages if m.buttons)


async def report_row(user: FakeUser, row: int, *, first: bool) -> None:
    progress, plan = SAMPLE_RAW[row]
    if first:
        await start_item(user, SAMPLE_TITLES[row - 1])
    else:  # from the list under the previous confirmation
        await user.tap(button_for(user, SAMPLE_TITLES[row - 1]))
    for action in (progress, DONE, plan, DONE, SUBMIT):
        if action in (DONE, SUBMIT):
            await user.tap(action)
        else:
            await user.send(action)
        assert live_keyboards(user) == 1


async def test_one_item_from_two_pasted_blocks_is_at_most_four_messages(
    harness: Harness,
) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3301, "王静")
    before = new_messages(harness, liaison)
    await report_row(liaison, 1, first=True)
    assert new_messages(harness, liaison) - before <= 4
    assert "已提交" in liaison.last.text
    assert harness.double.unanswered_callback_queries == []


async def test_a_department_with_three_items_is_at_most_twelve_messages(
    harness: Harness,
) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3302, "王静")
    before = new_messages(harness, liaison)
    for row in (1, 2, 3):
        await report_row(liaison, row, first=row == 1)
    assert new_messages(harness, liaison) - before <= 12
    confirmations = [m for m in liaison.messages if "✅ 已提交" in m.text]
    assert len(confirmations) == 3  # each kept, only the last with live buttons
    assert [bool(m.buttons) for m in confirmations] == [False, False, True]
    assert harness.double.unanswered_callback_queries == []


async def test_a_tap_that_changes_nothing_is_answered_quietly(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("rights", 3303, "韩静")
    await start_item(liaison, "维权")
    await liaison.send("一项")
    await liaison.send("二项")
    await liaison.tap("✏️ 修改")
    await liaison.tap("1")
    before = new_messages(harness, liaison)
    edits = len(harness.double.calls_to("editMessageText"))
    replies = await liaison.tap("上移")  # the first item cannot move up: the same screen
    assert replies.answer is not None  # answered, and the screen left as it is
    assert len(harness.double.calls_to("editMessageText")) == edits
    assert new_messages(harness, liaison) == before
    assert "出了问题" not in liaison.last.text and live_keyboards(liaison) == 1
    replies = await liaison.tap("下移")
    assert "第 2 项" in replies.last.text and "一项" in replies.last.text


async def test_telegram_saying_not_modified_is_taken_quietly(harness: Harness) -> None:
    """Two quick taps race: Telegram answers the second edit 'message is not modified'."""
    open_month(harness)
    liaison = await harness.liaison("rights", 3304, "韩快")
    await start_item(liaison, "维权")
    await liaison.send("一项")
    harness.double.inject(
        "editMessageText",
        400,
        chat_id=liaison.id,
        description="Bad Request: message is not modified: specified new message content "
        "and reply markup are exactly the same as a current content and reply markup",
    )
    before = new_messages(harness, liaison)
    replies = await liaison.tap(DONE)
    assert replies.answer is not None
    assert new_messages(harness, liaison) == before  # no error message, nothing re-sent
