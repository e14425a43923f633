"""Callback data: built and parsed in one module, byte-identical to what buttons already in
chats carry, and never an exception for data a client (or a forger) sends."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from handlers import buttons
from handlers.buttons import (
    Action,
    Approve,
    ChooseLanguage,
    History,
    OnDraft,
    OpenItem,
    ReturnDepartment,
    ReturnItem,
    ShowDepartment,
    ShowList,
)

ids = st.integers(min_value=0, max_value=2**63 - 1)


def test_the_data_is_what_earlier_versions_sent() -> None:
    assert buttons.open_item(3, 17) == "rp:o:3:17"
    assert buttons.revise_item(3, 17) == "rp:r:3:17"
    assert buttons.show_list() == "rp:l"
    assert buttons.on_draft(5, Action.DONE) == "rp:5:done"
    assert buttons.on_draft(5, Action.PICK, 2) == "rp:5:pick:2"
    assert buttons.on_draft(0, Action.NO_PROGRESS) == "rp:0:none"
    assert buttons.choose_language("zh-CN") == "lang:zh-CN"


def test_old_buttons_parse() -> None:
    assert buttons.parse("rp:o:3:17") == OpenItem(3, 17)
    assert buttons.parse("rp:r:3:17") == OpenItem(3, 17, revise=True)
    assert buttons.parse("rp:l") == ShowList()
    assert buttons.parse("rp:12:change:1") == OnDraft(12, Action.CHANGE, 1)
    assert buttons.parse("rp:12:chatter_ignore") == OnDraft(12, Action.CHATTER_IGNORE)
    assert buttons.parse("lang:en") == ChooseLanguage("en")


def test_unknown_or_forged_data_is_none() -> None:
    for data in (
        "",
        "rp",
        "rp:",
        "rp:5",
        "rp:5:",
        "rp:5:show",  # an internal event, not a button
        "rp:5:text",
        "rp:5:nonsense",
        "rp:x:done",
        "rp:-1:done",
        "rp:²:done",
        "rp:5:pick:x",
        "rp:5:done:1:2",
        "rp:o:3",
        "rp:o:3:x",
        "rp:o:3:17:1",
        "rp:l:1",
        "lang:",
        "lang:fr",
        "lang",
        "language:en",
        "rp:" + "9" * 40 + ":done",
    ):
        assert buttons.parse(data) is None, data


taps = st.one_of(
    st.builds(OpenItem, ids, ids, st.booleans()),
    st.just(ShowList()),
    st.builds(OnDraft, ids, st.sampled_from(Action), st.none() | ids),
    st.builds(ChooseLanguage, st.sampled_from(["zh-CN", "en"])),
    st.builds(ShowDepartment, ids, ids),
    st.builds(History, ids),
    st.builds(ReturnItem, ids, ids),
    st.builds(ReturnDepartment, ids, ids),
    st.builds(Approve, ids, ids),
)


@given(taps)
def test_what_is_built_parses_back(
    tap: buttons.ReportTap | ChooseLanguage | buttons.ReviewTap,
) -> None:
    data = buttons.build(tap)
    assert buttons.parse(data) == tap
    assert len(data.encode()) <= 64  # Telegram's limit on callback data


@given(st.text())
def test_parsing_never_raises(data: str) -> None:
    buttons.parse(data)


@given(st.from_regex(re.compile(r"(rp|lang|rv):[a-zA-Z0-9_:\-²]{0,30}"), fullmatch=True))
def test_data_that_parses_is_exactly_what_the_bot_builds(data: str) -> None:
    found = buttons.parse(data)
    assert found is None or buttons.build(found) == data


def test_every_button_action_does_something() -> None:
    from handlers.report import _ACTIONS

    assert set(Action) <= set(_ACTIONS)


def test_a_reminder_button_opens_its_item() -> None:
    from bot.core import reminders
    from handlers.reminders import callback_data

    data = callback_data(reminders.OpenItem(3, 17))
    assert data == "rp:o:3:17" and buttons.parse(data) == OpenItem(3, 17)


def test_review_data_is_stable() -> None:
    assert buttons.show_department(3, 4) == "rv:s:3:4"
    assert buttons.history(9) == "rv:h:9"
    assert buttons.return_item(9, 2) == "rv:r:9:2"
    assert buttons.return_department(3, 4) == "rv:R:3:4"
    assert buttons.parse("rv:r:9:2") == ReturnItem(9, 2)
    assert buttons.parse("rv:R:3:4") == ReturnDepartment(3, 4)
    for data in ("rv:h:9:2", "rv:r:9", "rv:R:3", "rv:x:1:2", "rv:r:-1:2", "rv:s:03:4"):
        assert buttons.parse(data) is None, data
