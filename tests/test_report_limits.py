"""The largest input the bot accepts never makes a screen Telegram refuses, at any step."""

from __future__ import annotations

from telegram.constants import MessageLimit

from bot.core.draft import MAX_ITEM_CHARS
from bot.double import FakeUser, Replies
from storage.db import session_scope
from storage.periods import close_period, get_period
from tests.harness import Harness
from tests.test_report import DONE, EDIT, SUBMIT, button_for, open_month, start_item, stored

TITLE = "宣传思想"
FULL_TITLE = "共青团宣传思想工作"


def block(seed: str) -> str:
    """One message as long as Telegram allows: two numbered items, with markup characters."""
    half = (MessageLimit.MAX_TEXT_LENGTH - len("1.\n2.")) // 2
    body = (seed + '<&>"') * MessageLimit.MAX_TEXT_LENGTH
    first, second = body[:half], body[half : MessageLimit.MAX_TEXT_LENGTH - len("1.\n2.")]
    text = f"1.{first}\n2.{second}"
    assert len(text) == MessageLimit.MAX_TEXT_LENGTH
    return text


def longest_item(seed: str) -> str:
    return (seed + "&<b>") * (MAX_ITEM_CHARS // (len(seed) + 4)) + seed * (
        MAX_ITEM_CHARS % (len(seed) + 4)
    )


def fits(replies: Replies) -> None:
    for message in replies:
        assert 0 < len(message.text) <= MessageLimit.MAX_TEXT_LENGTH


async def test_maximal_inputs_at_every_step_are_shown_and_can_be_submitted(
    harness: Harness,
) -> None:
    open_month(harness)
    liaison = await harness.liaison("publicity", 3201, "褚满")
    await start_item(liaison, TITLE)
    fits(await liaison.send(block("甲")))
    item = longest_item("乙")
    assert len(item) == MAX_ITEM_CHARS
    fits(await liaison.send(item))
    fits(await liaison.tap(EDIT))
    fits(await liaison.tap("3"))
    fits(await liaison.tap("替换"))
    fits(await liaison.send(longest_item("丙")))
    fits(await liaison.tap(DONE))
    fits(await liaison.send(block("丁")))
    fits(await liaison.send(longest_item("戊")))
    preview = await liaison.tap(DONE)
    fits(preview)
    assert len(preview) >= 3 and SUBMIT in preview.last.buttons
    shown = "\n".join(preview.texts)
    assert longest_item("丙") in shown and longest_item("戊") in shown

    # A colleague submits a maximal version meanwhile: the conflict screen fits too.
    colleague = await harness.liaison("publicity", 3202, "卫满")
    await start_item(colleague, TITLE)
    await colleague.send(block("己"))
    await colleague.tap(DONE)
    await colleague.send(block("庚"))
    await colleague.tap(DONE)
    fits(await colleague.tap(SUBMIT))
    conflict = await liaison.tap(SUBMIT)
    fits(conflict)
    assert "卫满" in "\n".join(conflict.texts)
    fits(await liaison.tap("用我的版本提交"))
    submission = stored(harness, FULL_TITLE, "publicity")
    assert submission.progress[2] == longest_item("丙") and submission.submitted_by == 3201

    # Read-only, after the period closed.
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None
        close_period(db, period)
    fits(await liaison.send("/report"))
    view = await liaison.tap(button_for(liaison, TITLE))
    fits(view)
    assert longest_item("戊") in "\n".join(view.texts)


async def test_the_submitted_view_of_a_maximal_item_fits(harness: Harness) -> None:
    open_month(harness)
    liaison: FakeUser = await harness.liaison("youth", 3203, "蒋满")
    await start_item(liaison, "创新创业")
    for seed in "甲乙丙":
        await liaison.send(longest_item(seed))
    await liaison.tap(DONE)
    await liaison.send(block("丁"))
    await liaison.tap(DONE)
    fits(await liaison.tap(SUBMIT))
    await liaison.send("/report")
    fits(await liaison.tap(button_for(liaison, "创新创业")))
    fits(await liaison.tap(EDIT))
