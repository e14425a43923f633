"""Tests of the Bot API test double itself (bot/double)."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html as std_html
import json
import time
import warnings
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.double import (
    TOTALS,
    BotApiDouble,
    ButtonNotFound,
    HtmlParseError,
    parse_html,
    running_double,
    utf16_len,
)

# raising RetryAfter at all triggers PTB 22's deprecation warning about its int form
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

# ---------------------------------------------------------------------------- fixtures


@pytest.fixture
async def double() -> AsyncIterator[BotApiDouble]:
    """A double whose violations must stay empty."""
    async with running_double() as d:
        yield d


@pytest.fixture
async def lax_double() -> AsyncIterator[BotApiDouble]:
    """A double for tests that provoke violations and inspect them."""
    async with running_double(strict=False, expect_violations=True) as d:
        yield d


@pytest.fixture
async def bot(double: BotApiDouble) -> AsyncIterator[Bot]:
    async with Bot(double.token, base_url=double.base_url, base_file_url=double.base_file_url) as b:
        yield b


@pytest.fixture
async def lax_bot(lax_double: BotApiDouble) -> AsyncIterator[Bot]:
    async with Bot(
        lax_double.token, base_url=lax_double.base_url, base_file_url=lax_double.base_file_url
    ) as b:
        yield b


async def raw(
    double: BotApiDouble,
    method: str,
    *,
    form: dict[str, str] | None = None,
    json_body: dict[str, Any] | None = None,
    token: str | None = None,
    timeout: float = 10,
) -> tuple[int, dict[str, Any]]:
    url = f"{double.base_url}{token or double.token}/{method}"
    async with (
        aiohttp.ClientSession() as s,
        s.post(url, data=form, json=json_body, timeout=aiohttp.ClientTimeout(total=timeout)) as r,
    ):
        return r.status, await r.json()


def seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 deprecates the int form of retry_after
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# ---------------------------------------------------------------------------- basics


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "huibao_test_bot"
    assert me.id == 7000001
    assert me.is_bot
    assert me.first_name == "Huibao Test"


async def test_unknown_method_is_404(lax_double: BotApiDouble) -> None:
    status, body = await raw(lax_double, "sendTelepathy", form={"chat_id": "1"})
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_method_names_are_case_insensitive(double: BotApiDouble) -> None:
    status, body = await raw(double, "getme")
    assert status == 200 and body["result"]["username"] == "huibao_test_bot"


async def test_bad_token_is_401(lax_double: BotApiDouble) -> None:
    status, body = await raw(lax_double, "getMe", token="999:wrong")
    assert status == 401
    assert body["description"] == "Unauthorized"


async def test_other_spec_method_answers_true_and_is_recorded(double: BotApiDouble) -> None:
    status, body = await raw(double, "setMyDescription", form={"description": "hi"})
    assert (status, body) == (200, {"ok": True, "result": True})
    assert double.calls_to("setMyDescription")[0].params == {"description": "hi"}


async def test_unknown_parameter_is_400_and_recorded(lax_double: BotApiDouble) -> None:
    lax_double.user(1001, "Alice", started=True)
    status, body = await raw(
        lax_double, "sendMessage", form={"chat_id": "1001", "text": "hi", "colour": "red"}
    )
    assert status == 400
    assert body["description"] == "Bad Request: unknown parameter colour"
    assert [v.description for v in lax_double.violations] == [body["description"]]
    assert lax_double.violations[0].method == "sendMessage"


async def test_missing_required_parameter(lax_double: BotApiDouble) -> None:
    status, body = await raw(lax_double, "sendMessage", form={"chat_id": "1001"})
    assert status == 400
    assert body["description"] == "Bad Request: parameter text is required"
    assert len(lax_double.violations) == 1


async def test_json_and_form_bodies_are_both_accepted(double: BotApiDouble) -> None:
    double.user(1001, "Alice", started=True)
    s1, _ = await raw(double, "sendMessage", json_body={"chat_id": 1001, "text": "json"})
    s2, _ = await raw(
        double,
        "sendMessage",
        form={"chat_id": "1001", "text": "form", "disable_notification": "true"},
    )
    assert (s1, s2) == (200, 200)
    assert [m.text for m in double.messages_in(1001)] == ["json", "form"]


@pytest.mark.parametrize(
    ("form", "fragment"),
    [
        ({"chat_id": "1001", "message_id": "abc"}, 'parameter "message_id" must be of type'),
        ({"chat_id": "1001", "message_id": "1.5"}, 'parameter "message_id"'),
    ],
)
async def test_bad_scalar_types(
    lax_double: BotApiDouble, form: dict[str, str], fragment: str
) -> None:
    lax_double.user(1001, "Alice", started=True)
    status, body = await raw(lax_double, "deleteMessage", form=form)
    assert status == 400
    assert fragment in body["description"]


@pytest.mark.parametrize(
    ("markup", "fragment"),
    [
        (
            {"inline_keyboard": [[{"text": "x", "callback_data": "a", "colour": 1}]]},
            "unknown field",
        ),
        ({"inline_keyboard": [[{"callback_data": "a"}]]}, '.text" is required'),
        ({"inline_keyboard": [[{"text": 5, "callback_data": "a"}]]}, "must be of type String"),
        ({"inline_keyboard": {"text": "x"}}, "must be an Array"),
        ({"inline_keyboard": [[{"text": "x"}]]}, "Text buttons are unallowed"),
        ({"inline_keyboard": [[{"text": " ", "callback_data": "a"}]]}, "BUTTON_TEXT_EMPTY"),
    ],
)
async def test_nested_objects_are_validated(
    lax_double: BotApiDouble, markup: dict[str, Any], fragment: str
) -> None:
    lax_double.user(1001, "Alice", started=True)
    status, body = await raw(
        lax_double,
        "sendMessage",
        form={"chat_id": "1001", "text": "hi", "reply_markup": json.dumps(markup)},
    )
    assert status == 400, body
    assert fragment in body["description"]
    assert len(lax_double.violations) == 1


async def test_unparsable_json_parameter(lax_double: BotApiDouble) -> None:
    lax_double.user(1001, "Alice", started=True)
    status, body = await raw(
        lax_double, "sendMessage", form={"chat_id": "1001", "text": "hi", "reply_markup": "{nope"}
    )
    assert status == 400
    assert "can't parse reply_markup JSON object" in body["description"]


async def test_bot_command_scope_is_validated_by_discriminator(
    lax_double: BotApiDouble,
) -> None:
    status, body = await raw(
        lax_double,
        "setMyCommands",
        form={
            "commands": json.dumps([{"command": "start", "description": "go"}]),
            "scope": json.dumps({"type": "chat"}),
        },
    )
    assert status == 400
    assert "chat_id" in body["description"] and "required" in body["description"]


# ---------------------------------------------------------------------------- text limits


async def test_text_length_limits(lax_double: BotApiDouble, lax_bot: Bot) -> None:
    lax_double.user(1001, "Alice", started=True)
    await lax_bot.send_message(1001, "a" * 4096)
    await lax_bot.send_message(1001, "😀" * 2048)  # 4096 UTF-16 code units
    await lax_bot.send_message(1001, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    assert lax_double.violations == []
    with pytest.raises(BadRequest, match="Message is too long"):
        await lax_bot.send_message(1001, "a" * 4097)
    with pytest.raises(BadRequest, match="Message is too long"):
        await lax_bot.send_message(1001, "😀" * 2048 + "a")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await lax_bot.send_message(1001, "<b> </b>", parse_mode="HTML")
    _, body = await raw(lax_double, "sendMessage", form={"chat_id": "1001", "text": ""})
    assert body["description"] == "Bad Request: message text is empty"
    assert len(lax_double.violations) == 4


async def test_caption_limit(lax_double: BotApiDouble, lax_bot: Bot) -> None:
    lax_double.user(1001, "Alice", started=True)
    await lax_bot.send_document(1001, b"x", filename="a.txt", caption="c" * 1024)
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await lax_bot.send_document(1001, b"x", filename="a.txt", caption="c" * 1025)


async def test_invalid_html_is_rejected(lax_double: BotApiDouble, lax_bot: Bot) -> None:
    lax_double.user(1001, "Alice", started=True)
    for bad in ("<b>unclosed", "a < b", "<div>x</div>", "Tom & Jerry", "<b><i>x</b></i>"):
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await lax_bot.send_message(1001, bad, parse_mode="HTML")
    assert len(lax_double.violations) == 5
    assert all("can't parse entities" in v.description for v in lax_double.violations)


async def test_html_entities_are_reported(bot: Bot, double: BotApiDouble) -> None:
    double.user(1001, "Alice", started=True)
    msg = await bot.send_message(
        1001, '<b>粗</b> &amp; <a href="https://x.org">链接</a>', parse_mode="HTML"
    )
    assert msg.text == "粗 & 链接"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [
        ("bold", 0, 1),
        ("text_link", 4, 2),
    ]
    assert msg.text_html == '<b>粗</b> &amp; <a href="https://x.org">链接</a>'
    assert double.messages_in(1001)[0].html.startswith("<b>")


@pytest.mark.parametrize(
    "good",
    [
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>i</ins>",
        '<s>s</s><strike>s</strike><del>d</del><span class="tg-spoiler">x</span>',
        '<tg-spoiler>x</tg-spoiler><a href="tg://user?id=1">m</a><code>c</code>',
        '<pre><code class="language-python">x = 1</code></pre>',
        "<blockquote>q</blockquote><blockquote expandable>e</blockquote>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &lt;&gt;&quot;&#39;&#x41;',
        "a > b",
    ],
)
def test_valid_html(good: str) -> None:
    parse_html(good)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag"),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("<span>x</span>", 'Unsupported start tag "span"'),
        ("<p>x</p>", 'Unsupported start tag "p"'),
        ("1 < 2", "Unsupported start tag"),
        ("a &nbsp; b", "Unsupported HTML entity"),
        ("a & b", "ampersand"),
        ("<b x", "Unclosed start tag"),
        ("<blockquote><blockquote>x</blockquote></blockquote>", "nested"),
    ],
)
def test_invalid_html(bad: str, reason: str) -> None:
    with pytest.raises(HtmlParseError, match=reason.replace("(", r"\(")):
        parse_html(bad)


@given(st.text())
def test_escaped_text_parses_to_itself(text: str) -> None:
    parsed = parse_html(std_html.escape(text, quote=False))
    assert parsed.text == text
    assert parsed.length == utf16_len(text) == len(text.encode("utf-16-le")) // 2


def test_html_entity_offsets_are_utf16() -> None:
    parsed = parse_html("😀<b>x</b>")
    assert parsed.entities == [{"type": "bold", "offset": 2, "length": 1}]


# ---------------------------------------------------------------------------- keyboards/edits


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d)] for d in data])


async def test_callback_data_is_limited_to_64_bytes(lax_double: BotApiDouble, lax_bot: Bot) -> None:
    lax_double.user(1001, "Alice", started=True)
    await lax_bot.send_message(1001, "ok", reply_markup=keyboard("汉" * 21 + "a"))  # 64 B
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await lax_bot.send_message(1001, "no", reply_markup=keyboard("汉" * 21 + "ab"))  # 65 B
    assert [v.description for v in lax_double.violations] == ["Bad Request: BUTTON_DATA_INVALID"]


async def test_keyboard_size_limits(lax_double: BotApiDouble, lax_bot: Bot) -> None:
    lax_double.user(1001, "Alice", started=True)
    nine = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(i), callback_data=str(i)) for i in range(9)]]
    )
    with pytest.raises(BadRequest):
        await lax_bot.send_message(1001, "row", reply_markup=nine)
    many = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
    )
    with pytest.raises(BadRequest):
        await lax_bot.send_message(1001, "many", reply_markup=many)
    assert len(lax_double.violations) == 2


async def test_message_not_modified(lax_double: BotApiDouble, lax_bot: Bot) -> None:
    lax_double.user(1001, "Alice", started=True)
    m = await lax_bot.send_message(1001, "<b>v1</b>", parse_mode="HTML", reply_markup=keyboard("a"))
    await lax_bot.edit_message_text(
        "<b>v2</b>", 1001, m.message_id, parse_mode="HTML", reply_markup=keyboard("a")
    )
    with pytest.raises(BadRequest, match="Message is not modified"):
        await lax_bot.edit_message_text(
            "<b>v2</b>", 1001, m.message_id, parse_mode="HTML", reply_markup=keyboard("a")
        )
    with pytest.raises(BadRequest, match="Message is not modified"):
        await lax_bot.edit_message_reply_markup(1001, m.message_id, reply_markup=keyboard("a"))
    # dropping the keyboard is a modification
    await lax_bot.edit_message_text("<b>v2</b>", 1001, m.message_id, parse_mode="HTML")
    current = lax_double.messages_in(1001)[0]
    assert (current.text, current.buttons, current.history) == ("v2", [], ["v1", "v2"])
    assert len(lax_double.violations) == 2


async def test_edit_and_delete_missing_messages(lax_double: BotApiDouble, lax_bot: Bot) -> None:
    lax_double.user(1001, "Alice", started=True)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await lax_bot.edit_message_text("x", 1001, 42)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await lax_bot.delete_message(1001, 42)
    m = await lax_bot.send_message(1001, "bye")
    assert await lax_bot.delete_message(1001, m.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await lax_bot.delete_message(1001, m.message_id)
    assert lax_double.messages_in(1001) == []


async def test_unknown_chat_and_blocked_user(lax_double: BotApiDouble, lax_bot: Bot) -> None:
    alice = lax_double.user(1001, "Alice")
    with pytest.raises(BadRequest, match="Chat not found"):
        await lax_bot.send_message(1001, "hi")  # alice never wrote to the bot
    # Like a 403 for a blocked user, not a malformed request: counted, not a violation.
    assert lax_double.stats.chat_not_found == 1
    lax_double.user(1002, "Bob", started=True).block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await lax_bot.send_message(1002, "hi")
    assert lax_double.stats.forbidden == 1
    assert lax_double.violations == []
    assert alice.messages == []


async def test_answer_unknown_callback_query(lax_double: BotApiDouble, lax_bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Query is too old"):
        await lax_bot.answer_callback_query("12345")


# ---------------------------------------------------------------------------- faults


async def test_injected_429_is_retry_after(double: BotApiDouble, bot: Bot) -> None:
    double.user(1001, "Alice", started=True)
    double.inject("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(1001, "hi")
    assert seconds(info.value) == 7
    await bot.send_message(1001, "again")  # only the next call failed
    assert double.violations == []
    assert [c.status for c in double.calls_to("sendMessage")] == [429, 200]


async def test_injected_403_and_5xx(double: BotApiDouble, bot: Bot) -> None:
    double.user(1001, "Alice", started=True)
    double.user(1002, "Bob", started=True)
    double.inject("sendMessage", status=403, chat_id=1002, times=2)
    await bot.send_message(1001, "alice is fine")
    for _ in range(2):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(1002, "hi")
    await bot.send_message(1002, "now it works")
    double.inject("getMe", status=502)
    with pytest.raises(Exception, match="Bad Gateway"):
        await bot.get_me()
    double.inject("getMe", status=500)
    with pytest.raises(Exception, match="Internal Server Error"):
        await bot.get_me()
    assert double.violations == []


async def test_flood_limits(lax_double: BotApiDouble, lax_bot: Bot) -> None:
    lax_double.flood_limits = True
    lax_double.user(1001, "Alice", started=True)
    for i in range(3):  # burst of 3 is fine
        await lax_bot.send_message(1001, f"m{i}")
    with pytest.raises(RetryAfter) as info:
        await lax_bot.send_message(1001, "too fast")
    assert seconds(info.value) >= 1
    assert lax_double.stats.flood_429 == 1
    assert len(lax_double.stats.send_times) == 3
    assert lax_double.violations == []


async def test_group_flood_limit(double: BotApiDouble, bot: Bot) -> None:
    double.flood_limits = True
    group = double.group(-2001, "协调员群")
    chat = double.chat(group.id)
    now = time.monotonic()
    chat.minute_sends.extend(now - 1 for _ in range(20))  # 20 sends within the last minute
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(group.id, "hi")
    assert seconds(info.value) >= 55


# ---------------------------------------------------------------------------- updates


async def test_get_updates_offset_and_long_poll(double: BotApiDouble) -> None:
    alice = double.user(1001, "Alice")
    first = double.queue_update(
        {"message": double.user_message(1001, alice.state, {"text": "one"})}
    )
    _, body = await raw(double, "getUpdates", form={"timeout": "0"})
    assert [u["update_id"] for u in body["result"]] == [first]
    # not confirmed yet: returned again
    _, body = await raw(double, "getUpdates", form={"timeout": "0"})
    assert [u["update_id"] for u in body["result"]] == [first]
    # confirmed: not returned again; a long poll returns as soon as an update arrives
    poll = asyncio.create_task(
        raw(double, "getUpdates", form={"offset": str(first + 1), "timeout": "30"})
    )
    await raw(double, "getMe")  # a request made after the poll was answered first
    assert not poll.done()
    second = double.queue_update(
        {"message": double.user_message(1001, alice.state, {"text": "two"})}
    )
    _, body = await asyncio.wait_for(poll, 10)  # long before its 30 s
    assert [u["update_id"] for u in body["result"]] == [second]
    assert body["result"][0]["message"]["text"] == "two"
    assert body["result"][0]["message"]["message_id"] == 2
    # an empty long poll waits, then times out with []
    poll = asyncio.create_task(
        raw(double, "getUpdates", form={"offset": str(second + 1), "timeout": "1"})
    )
    await raw(double, "getMe")
    assert not poll.done()
    _, body = await poll
    assert body["result"] == []


async def test_get_updates_limit_and_allowed_updates(double: BotApiDouble) -> None:
    alice = double.user(1001, "Alice")
    ids = [
        double.queue_update({"message": double.user_message(1001, alice.state, {"text": str(i)})})
        for i in range(3)
    ]
    _, body = await raw(
        double,
        "getUpdates",
        form={"limit": "2", "allowed_updates": json.dumps(["message", "callback_query"])},
    )
    assert [u["update_id"] for u in body["result"]] == ids[:2]


async def test_updates_parse_in_ptb(double: BotApiDouble, bot: Bot) -> None:
    alice = double.user(1001, "Alice", username="alice")
    group = double.group(-2001, "协调员群")
    double.queue_update({"message": double.user_message(1001, alice.state, {"text": "/start abc"})})
    double.queue_update(
        {
            "message": double.user_message(
                -2001, alice.state, {"text": "/compile@huibao_test_bot now"}
            )
        }
    )
    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 2
    private, in_group = updates
    assert private.effective_user is not None and private.effective_user.language_code == "zh-hans"
    assert private.message is not None and private.message.text == "/start abc"
    assert private.message.entities[0].type == "bot_command"
    assert private.message.entities[0].length == len("/start")
    assert in_group.effective_chat is not None and in_group.effective_chat.type == "group"
    assert in_group.effective_chat.title == group.title
    assert in_group.message is not None
    assert in_group.message.entities[0].length == len("/compile@huibao_test_bot")
    assert updates[0].update_id < updates[1].update_id


async def test_webhook_blocks_get_updates_and_delivers(lax_double: BotApiDouble) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        lax_double.handled(received[-1][1]["update_id"])  # the receiver is the bot
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        status, _ = await raw(
            lax_double,
            "setWebhook",
            form={"url": "https://bot.example.org/hook", "secret_token": "s3cret"},
        )
        assert status == 200
        lax_double.webhook_target(f"http://127.0.0.1:{port}/hook")
        status, body = await raw(lax_double, "getUpdates")
        assert status == 409
        assert body["description"].startswith("Conflict: can't use getUpdates method")
        alice = lax_double.user(1001, "Alice")
        lax_double.track_handling()
        await alice.send("hello")
        assert received[0][0] == "s3cret"
        assert received[0][1]["message"]["text"] == "hello"
        _, info = await raw(lax_double, "getWebhookInfo")
        assert info["result"]["url"] == "https://bot.example.org/hook"
        assert info["result"]["pending_update_count"] == 0
        await raw(lax_double, "deleteWebhook")
        status, _ = await raw(lax_double, "getUpdates")
        assert status == 200
    finally:
        await runner.cleanup()


# ---------------------------------------------------------------------------- files/commands


async def test_send_document_and_get_file(double: BotApiDouble, bot: Bot) -> None:
    double.user(1001, "Alice", started=True)
    payload = "汇报 2025-05\n".encode() * 1000
    msg = await bot.send_document(
        1001, payload, filename="汇总表.docx", caption="<b>五月</b>", parse_mode="HTML"
    )
    assert msg.document is not None and msg.document.file_name == "汇总表.docx"
    assert msg.caption == "五月"
    stored = double.messages_in(1001)[0]
    assert stored.document is not None
    assert stored.document.content == payload
    assert stored.document.filename == "汇总表.docx"
    assert stored.document.caption == "五月"
    assert stored.kind == "document"
    file = await bot.get_file(msg.document.file_id)
    assert bytes(await file.download_as_bytearray()) == payload
    # the file_id can be reused
    again = await bot.send_document(1001, msg.document.file_id)
    assert again.document is not None and again.document.file_id == msg.document.file_id


async def test_commands_per_scope(double: BotApiDouble, bot: Bot) -> None:
    from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

    double.user(1001, "Alice", started=True)
    await bot.set_my_commands([BotCommand("start", "开始"), BotCommand("report", "提交汇报")])
    await bot.set_my_commands(
        [BotCommand("start", "Start")], language_code="en", scope=BotCommandScopeAllPrivateChats()
    )
    await bot.set_my_commands([BotCommand("compile", "汇总")], scope=BotCommandScopeChat(1001))
    assert double.commands() == [("start", "开始"), ("report", "提交汇报")]
    assert double.commands("all_private_chats", language_code="en") == [("start", "Start")]
    assert double.commands("chat", chat_id=1001) == [("compile", "汇总")]
    got = await bot.get_my_commands(scope=BotCommandScopeChat(1001))
    assert [c.command for c in got] == ["compile"]
    await bot.delete_my_commands()
    assert double.commands() == []


async def test_invalid_command_name(lax_double: BotApiDouble, lax_bot: Bot) -> None:
    from telegram import BotCommand

    with pytest.raises(BadRequest):
        await lax_bot.set_my_commands([BotCommand("Start-Now", "x")])
    assert len(lax_double.violations) == 1


# ---------------------------------------------------------------------------- application


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    args = " ".join(context.args or [])
    await update.message.reply_html(
        f"<b>你好</b> {args}".strip(),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("确认", callback_data="cb:ok"),
                    InlineKeyboardButton("取消", callback_data="cb:no"),
                ],
                [InlineKeyboardButton("帮助", url="https://example.org/help")],
            ]
        ),
    )


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer("收到")
    await query.edit_message_text(f"已选择 {query.data}")


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.effective_chat is not None
    if update.message.document is not None:
        file = await update.message.document.get_file()
        data = await file.download_as_bytearray()
        await update.message.reply_text(f"收到文件 {len(data)} 字节")
        return
    await update.message.reply_text(f"echo: {update.message.text}")


@pytest.fixture
async def app(double: BotApiDouble) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    application = (
        ApplicationBuilder()
        .token(double.token)
        .base_url(double.base_url)
        .base_file_url(double.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(CallbackQueryHandler(_button))
    application.add_handler(MessageHandler(filters.TEXT | filters.Document.ALL, _echo))
    double.watch(application)  # an action returns once its update is handled
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(timeout=5)
        yield application
        await application.updater.stop()
        await application.stop()


async def test_application_round_trip(
    double: BotApiDouble, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    alice = double.user(1001, "Alice", username="alice")
    replies = await alice.send("/start abc")
    assert [m.text for m in replies] == ["你好 abc"]
    assert replies[0].parse_mode == "HTML"
    assert replies[0].buttons == ["确认", "取消", "帮助"]
    assert alice.last is replies[0]

    replies = await alice.tap("确认")
    assert [m.text for m in replies] == ["已选择 cb:ok"]
    assert replies.answer is not None and replies.answer.text == "收到"
    assert alice.last.buttons == []  # the edit dropped the keyboard
    assert len(alice.messages) == 1

    with pytest.raises(ButtonNotFound):
        await alice.tap("确认")  # the keyboard is gone
    with pytest.raises(ButtonNotFound, match="not a callback button"):
        await (await _fresh_keyboard(alice)).tap("帮助")

    replies = await alice.send_document(b"x" * 1234, "五月汇报.docx")
    assert replies.texts == ["收到文件 1234 字节"]

    bob = double.user(1002, "Bob", language_code="en")
    group = double.group(-2001, "协调员群")
    replies = await group.send(bob, "hi all")
    assert replies.texts == ["echo: hi all"]
    assert group.last.text == "echo: hi all"
    assert bob.messages == []

    replies = await alice.send_sticker()
    assert replies == []
    assert double.violations == []
    assert double.unanswered_callback_queries == []


async def _fresh_keyboard(alice: Any) -> Any:
    await alice.send("/start")
    return alice


async def test_tap_by_data_and_on_specific_message(
    double: BotApiDouble, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    alice = double.user(1001, "Alice")
    first = (await alice.send("/start one")).last
    await alice.send("/start two")
    replies = await alice.tap("取消", message=first)
    assert replies.last is first and first.text == "已选择 cb:no"
    replies = await alice.tap(data="cb:ok")
    assert replies.last.text == "已选择 cb:ok"
    with pytest.raises(ButtonNotFound):
        await alice.tap(data="cb:missing")


async def test_send_times_out_without_a_polling_bot(double: BotApiDouble) -> None:
    alice = double.user(1001, "Alice")
    with pytest.raises(TimeoutError, match="did not fetch updates"):
        await alice.send("anyone?", timeout=0.3)


async def test_running_double_strict_raises_on_violations() -> None:
    with pytest.raises(AssertionError, match="unknown parameter"):
        async with running_double(expect_violations=True) as d:
            await raw(d, "getMe", form={"bogus": "1"})
    assert TOTALS.requests > 0 and TOTALS.expected_violations > 0


async def test_reply_keyboard_tap_sends_the_text(
    double: BotApiDouble, bot: Bot, app: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    alice = double.user(1001, "Alice", started=True)
    await bot.send_message(1001, "选一个", reply_markup=ReplyKeyboardMarkup([["甲", "乙"]]))
    assert alice.last.keyboard == ["甲", "乙"]
    replies = await alice.tap("乙")
    assert replies.texts == ["echo: 乙"]


async def test_user_media_updates_parse_in_ptb(double: BotApiDouble, bot: Bot) -> None:
    double.track_handling()  # the test is the bot: it says when it is done with an update
    alice = double.user(1001, "Alice")
    sending = asyncio.create_task(alice.send_photo(caption="图", timeout=5))
    updates = list(await bot.get_updates(timeout=3))
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    double.handled(updates[-1].update_id)
    assert await sending == []
    assert updates[0].message is not None and updates[0].message.photo
    assert updates[0].message.caption == "图"
    for action in (alice.send_voice, alice.send_sticker):
        sending = asyncio.create_task(action(timeout=5))
        (update,) = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=3)
        double.handled(update.update_id)
        await sending
        assert update.message is not None
        assert update.message.voice or update.message.sticker
        updates = [update]
    assert [m.message_id for m in (u.message for u in updates) if m] == [3]
