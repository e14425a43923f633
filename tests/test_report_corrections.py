"""Correcting an item the way Telegram users do: editing the sent message, or replying."""

from __future__ import annotations

import time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.double import FakeUser, Replies, SentMessage
from tests.harness import Harness
from tests.test_report import DONE, SUBMIT, open_month, start_item, stored

TITLE, FULL_TITLE = "维权", "青少年维权工作"


def last_own_message(harness: Harness, user: FakeUser) -> dict[str, Any]:
    chat = harness.double.chat(user.id)
    return chat.user_messages[max(chat.user_messages)]


async def edit(harness: Harness, user: FakeUser, original: dict[str, Any], text: str) -> Replies:
    """The user edits a message they sent (Telegram's edit)."""
    edited = {**original, "text": text, "edit_date": int(time.time())}
    harness.double.chat(user.id).user_messages[original["message_id"]] = edited
    return await harness.double.act(user.id, {"edited_message": edited})


async def reply(
    harness: Harness,
    user: FakeUser,
    text: str,
    *,
    to_own: dict[str, Any] | None = None,
    to_bot: SentMessage | None = None,
    quote: str | None = None,
) -> Replies:
    """The user replies to one of their messages or to a bot message (quoting part of it)."""
    message = harness.double.user_message(user.id, user.state, {"text": text}, reply_to=to_bot)
    if to_own is not None:
        message["reply_to_message"] = to_own
    if quote is not None:
        message["quote"] = {"text": quote, "position": 0}
    return await harness.double.act(user.id, {"message": message})


async def test_an_edited_message_replaces_its_item_while_the_draft_is_open(
    harness: Harness,
) -> None:
    open_month(harness)
    liaison = await harness.liaison("rights", 3601, "韩改")
    await start_item(liaison, TITLE)
    await liaison.send("甲项工作有错字")
    first = last_own_message(harness, liaison)
    await liaison.send("乙项工作")
    replies = await edit(harness, liaison, first, "甲项工作")
    text = replies.last.text
    assert "已按您修改后的消息更新" in text
    assert "1. 甲项工作" in text and "2. 乙项工作" in text and "错字" not in text
    assert text.count("甲项工作") == 1  # replaced, not appended

    # A pasted block edited into three items replaces its two.
    await liaison.tap(DONE)
    await liaison.send("1.计划一\n2.计划二")
    block = last_own_message(harness, liaison)
    replies = await edit(harness, liaison, block, "1.计划一\n2.计划二（改）\n3.计划三")
    assert "1. 计划一" in replies.last.text and "3. 计划三" in replies.last.text
    await liaison.tap(DONE)
    await liaison.tap(SUBMIT)
    submission = stored(harness, FULL_TITLE, "rights")
    assert submission.progress == ["甲项工作", "乙项工作"]
    assert submission.plan == ["计划一", "计划二（改）", "计划三"]

    # After the submit an edit changes nothing and says how to revise.
    replies = await edit(harness, liaison, first, "甲项工作再改")
    assert "/report" in replies.last.text and "修改" in replies.last.text
    assert stored(harness, FULL_TITLE, "rights").progress == ["甲项工作", "乙项工作"]


async def test_a_reply_to_an_item_replaces_it(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("rights", 3602, "韩回")
    await start_item(liaison, TITLE)
    await liaison.send("甲项")
    own = last_own_message(harness, liaison)
    echo_of_b = (await liaison.send("乙项")).last
    await liaison.send("丙项")

    replies = await reply(harness, liaison, "甲项（改）", to_own=own)  # to their own message
    assert "1. 甲项（改）" in replies.last.text and "4." not in replies.last.text
    replies = await reply(harness, liaison, "乙项（改）", to_bot=echo_of_b)  # to the echo of it
    assert "2. 乙项（改）" in replies.last.text and "4." not in replies.last.text
    screen = liaison.last
    replies = await reply(harness, liaison, "丙项（改）", to_bot=screen, quote="3. 丙项")
    assert "已替换第 3 项" in replies.last.text and "3. 丙项（改）" in replies.last.text
    assert "4." not in replies.last.text
    await liaison.tap(DONE)
    await liaison.send("计划")
    await liaison.tap(DONE)
    await liaison.tap(SUBMIT)
    progress = stored(harness, FULL_TITLE, "rights").progress
    assert progress == ["甲项（改）", "乙项（改）", "丙项（改）"]


def test_a_draft_stored_before_origins_were_kept_still_loads() -> None:
    from bot.core.draft import Draft

    stored_earlier = Draft(1, 2, 3, 0, progress=["甲"]).to_dict()
    del stored_earlier["origins"]
    draft = Draft.from_dict(stored_earlier)
    assert draft.progress == ["甲"] and draft.retake(7, "乙") is None


@given(
    before=st.lists(st.text(min_size=1, max_size=20).filter(str.strip), max_size=5),
    text=st.text(max_size=60),
)
def test_a_correction_replaces_only_the_items_of_its_message(before: list[str], text: str) -> None:
    from bot.core.draft import Draft, Rejection, accept

    draft = Draft(1, 2, 3, 0)
    for item in before:
        draft.take(item)
    draft.take("原来的一项")
    draft.note_origin(42, ["原来的一项"])
    kept = list(draft.progress[:-1])
    result = draft.retake(42, text)
    expected = accept(text)
    if isinstance(expected, Rejection) or len(kept) + len(expected) > 30:
        assert isinstance(result, Rejection) and draft.progress[-1] == "原来的一项"
    else:
        assert result == len(expected) and draft.progress == kept + expected
