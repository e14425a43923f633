"""Logs a deployer can use: one line per update with its user and action, never what a
liaison wrote (unless LOG_MESSAGE_TEXT), never the token; LOG_FORMAT=json for collectors
(issue 16, item 6)."""

from __future__ import annotations

import io
import json
import logging
import signal
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from telegram import (
    Chat,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberUpdated,
    Message,
    PhotoSize,
    Update,
    User,
)

from bot.core.events import Event, command, extension
from bot.double import BotApiDouble
from bot.logs import _secrets, setup_logging
from bot.settings import SettingsError, load_settings
from handlers import buttons, onboarding
from handlers.events import describe
from storage.db import make_engine, upgrade
from tests.harness import TOKEN, Harness
from tests.test_report import DONE, open_month, start_item
from tests.test_run_modes import PATIENCE, start_bot, stop, wait_for

ROOT = Path(__file__).resolve().parent.parent
REPORT_TEXT = "与市教育局联合开展青少年心理健康调研，覆盖十二所学校"
FILE_NAME = "组织部内部通报.txt"


@pytest.fixture
def events(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="huibao.events")
    return caplog


def event_lines(caplog: pytest.LogCaptureFixture, user: int) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == "huibao.events" and getattr(record, "user", None) == user
    ]


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured line and every field a JSON line would show."""
    fields = [str(value) for record in caplog.records for value in vars(record).values()]
    return caplog.text + "\n".join(fields)


async def report_as_liaison(harness: Harness) -> int:
    """A liaison opens the report, writes an item, taps ✅, sends a sticker and a file."""
    open_month(harness)
    liaison = await harness.liaison("org", 3901, "王芳")
    await start_item(liaison, "团的制度建设")
    await liaison.send(REPORT_TEXT)
    await liaison.tap(DONE)
    await liaison.send_sticker()
    await liaison.send_document(b"not a report" * 10, FILE_NAME)
    return liaison.id


async def test_one_line_per_update_names_user_and_action_never_the_text(
    harness: Harness, events: pytest.LogCaptureFixture
) -> None:
    user = await report_as_liaison(harness)
    lines = event_lines(events, user)
    actions = [vars(record)["action"] for record in lines]
    assert actions == [
        "/start",
        "/report",
        "button:open_item",
        "text",
        "button:draft_done",
        "sticker",
        "document",
    ]
    assert len({vars(record)["update"] for record in lines}) == len(lines)
    for record in lines:
        message = record.getMessage()
        assert message.startswith(f"update={vars(record)['update']} user={user} chat={user} ")
        assert vars(record)["outcome"] == "ok" and isinstance(vars(record)["ms"], int)
    text_line = lines[actions.index("text")]
    assert vars(text_line)["length"] == len(REPORT_TEXT)
    assert f"action=text length={len(REPORT_TEXT)} " in text_line.getMessage()
    document = lines[actions.index("document")]
    assert (vars(document)["ext"], vars(document)["size"]) == (".txt", 120)
    logged = everything_logged(events)
    assert REPORT_TEXT not in logged
    assert FILE_NAME not in logged and "内部通报" not in logged


@pytest.fixture
async def staging(engine: Engine) -> AsyncIterator[Harness]:
    """The bot with LOG_MESSAGE_TEXT=true, as a staging copy might run it."""
    running = Harness(
        engine=engine, roster=ROOT / "examples" / "roster.toml", log_message_text=True
    )
    await running.start()
    try:
        yield running
    finally:
        await running.close()


async def test_log_message_text_adds_the_text(
    staging: Harness, events: pytest.LogCaptureFixture
) -> None:
    user = await report_as_liaison(staging)
    lines = {vars(record)["action"]: record for record in event_lines(events, user)}
    assert vars(lines["text"])["text"] == REPORT_TEXT
    assert f'text="{REPORT_TEXT}"' in lines["text"].getMessage()
    assert vars(lines["/report"])["text"] == "/report"


async def test_a_failed_update_says_so(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, events: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("a bug in /whoami")

    monkeypatch.setattr(onboarding, "reply", broken)
    running = Harness(engine=engine, roster=ROOT / "examples" / "roster.toml")
    await running.start()
    try:
        coordinator = running.coordinator()
        await coordinator.send("/whoami")
        await coordinator.send("/status")
    finally:
        await running.close()
    lines = event_lines(events, coordinator.id)
    outcomes = [(vars(r)["action"], vars(r)["outcome"]) for r in lines]
    assert outcomes == [("/whoami", "error"), ("/status", "ok")]


def test_an_update_text_carrying_the_token_is_masked() -> None:
    """Even with LOG_MESSAGE_TEXT, a pasted token does not reach the log."""
    user = User(7, "A", is_bot=False)
    text = f"my token is {TOKEN}"
    message = Message(1, datetime.now(UTC), Chat(7, "private"), from_user=user, text=text)
    with logging_restored():
        setup_logging("INFO", TOKEN)
        event = describe(Update(5, message=message), with_text=True)
    assert event.text == "my token is <BOT_TOKEN>"
    assert event.length == len(text)


def test_other_kinds_of_update_are_named_by_their_kind() -> None:
    user, chat = User(7, "A", is_bot=False), Chat(7, "private")
    now = datetime.now(UTC)
    edited = Message(2, now, chat, from_user=user, text=REPORT_TEXT, edit_date=now)
    event = describe(Update(6, edited_message=edited))
    assert (event.action, event.length, event.text) == ("edited_message:text", 26, None)
    photo = Message(3, now, chat, from_user=user, caption=REPORT_TEXT,
                    photo=(PhotoSize("f", "u", 80, 60),))  # fmt: skip
    event = describe(Update(7, message=photo))
    assert (event.action, event.length, event.text) == ("photo", 26, None)
    blocked = ChatMemberUpdated(
        chat, user, now, ChatMemberMember(User(1, "bot", is_bot=True)),
        ChatMemberBanned(User(1, "bot", is_bot=True), until_date=now),
    )  # fmt: skip
    event = describe(Update(8, my_chat_member=blocked))
    assert (event.action, event.status, event.user) == ("my_chat_member", "kicked", 7)


def test_event_line_and_fields() -> None:
    event = Event(10, 3901, -100, action="text", length=42, ms=7, outcome="ok")
    assert event.line() == "update=10 user=3901 chat=-100 action=text length=42 ms=7 outcome=ok"
    assert list(event.fields()) == ["update", "user", "chat", "action", "length", "ms", "outcome"]
    quoted = Event(1, None, None, action="text", text='两行\n"引号"')
    assert quoted.line() == 'update=1 action=text text="两行\\n\\"引号\\""'
    assert command("/report@HuibaoBot 2015-10") == "/report"
    assert command("/Status") == "/status"
    assert command("/etc/passwd") is None and command("汇报") is None
    assert extension("组织部 10月.DOCX") == ".docx"
    assert extension("no extension") is None and extension(None) is None


def test_button_kinds_name_the_tap_never_its_ids() -> None:
    assert buttons.kind(buttons.open_item(12, 34)) == "open_item"
    assert buttons.kind(buttons.revise_item(12, 34)) == "revise_item"
    assert buttons.kind(buttons.on_draft(5, buttons.Action.SUBMIT)) == "draft_submit"
    assert buttons.kind(buttons.approve(9, 2)) == "approve"
    assert buttons.kind(buttons.choose_language("en")) == "choose_language"
    assert buttons.kind(buttons.import_file("ab" * 8, apply=True)) == "import_file"
    assert buttons.kind(buttons.submit_filed(1, 2, 3)) == "submit_filed"
    assert buttons.kind(buttons.open_history(1, 2)) == "history_tap"
    assert buttons.kind("rp:o:1:2; DROP TABLE") == "unknown"
    assert buttons.kind("some free text") == "unknown"


# --- LOG_FORMAT ------------------------------------------------------------------------


class logging_restored:
    """setup_logging changes the process's logging; put it back after a test."""

    def __enter__(self) -> None:
        root = logging.getLogger()
        self.saved = (root.level, list(root.handlers), list(_secrets))
        self.filters = {handler: list(handler.filters) for handler in root.handlers}
        self.hooks = (sys.excepthook, threading.excepthook)

    def __exit__(self, *_: object) -> None:
        root = logging.getLogger()
        level, handlers, secrets = self.saved
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        for handler, filters in self.filters.items():
            handler.filters[:] = filters
        root.setLevel(level)
        _secrets[:] = secrets
        sys.excepthook, threading.excepthook = self.hooks


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    with logging_restored():
        setup_logging("INFO", TOKEN, "json", stream=stream)
        yield stream


def test_json_format_writes_one_object_a_line_with_the_token_masked(
    json_lines: io.StringIO,
) -> None:
    log = logging.getLogger("huibao.events")
    event = Event(10, 3901, 3901, action="/report", ms=3, outcome="ok")
    log.info(event.line(), extra=event.fields())
    logging.getLogger("huibao").warning("request to /bot%s/getMe failed", TOKEN)
    logging.getLogger("huibao").info("pasted", extra={"text": f"token {TOKEN}"})
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe")
    except RuntimeError:
        logging.getLogger("huibao").exception("could not reach Telegram")
    output = json_lines.getvalue()
    assert TOKEN not in output
    lines = [json.loads(line) for line in output.splitlines()]
    assert len(lines) == 4
    first = lines[0]
    assert list(first)[:4] == ["timestamp", "level", "logger", "message"]
    assert first["timestamp"].endswith("+00:00")
    assert (first["level"], first["logger"]) == ("INFO", "huibao.events")
    assert first["message"] == "update=10 user=3901 chat=3901 action=/report ms=3 outcome=ok"
    assert {key: first[key] for key in event.fields()} == event.fields()
    assert lines[1]["message"] == "request to /bot<BOT_TOKEN>/getMe failed"
    assert lines[2]["text"] == "token <BOT_TOKEN>"
    assert (
        "RuntimeError: POST https://api.telegram.org/bot<BOT_TOKEN>/getMe"
        in (lines[3]["exception"])
    )


def test_text_format_reads_key_value() -> None:
    stream = io.StringIO()
    with logging_restored():
        setup_logging("INFO", TOKEN, "text", stream=stream)
        event = Event(10, 3901, 3901, action="/report")
        logging.getLogger("huibao.events").info(event.line(), extra=event.fields())
    line = stream.getvalue().strip()
    assert line.endswith(" INFO huibao.events: update=10 user=3901 chat=3901 action=/report")


def test_log_format_is_checked() -> None:
    with pytest.raises(SettingsError, match="LOG_FORMAT") as raised:
        load_settings(_env_file=None, log_format="xml")
    assert len(str(raised.value).splitlines()) == 1
    assert load_settings(_env_file=None, log_format=" JSON ").log_format == "json"
    assert load_settings(_env_file=None).log_format == "text"
    assert load_settings(_env_file=None).log_message_text is False


async def test_huibao_run_with_json_logs_writes_only_json_lines(tmp_path: Path) -> None:
    """The deployer's view: `huibao run` with LOG_FORMAT=json, a stranger writes, and every
    line the process wrote parses, the event's fields among them."""
    engine = make_engine(f"sqlite:///{tmp_path / 'huibao.db'}")
    upgrade(engine)
    try:
        async with BotApiDouble(token=TOKEN) as double:
            process = await start_bot(double, engine, LOG_FORMAT="json")
            try:
                await wait_for(lambda: double.calls_to("getUpdates"))
                stranger = double.user(9001, "访客")
                await stranger.send(REPORT_TEXT, timeout=PATIENCE)
            finally:
                output = await stop(process, signal.SIGTERM)
    finally:
        engine.dispose()
    assert TOKEN not in output and REPORT_TEXT not in output
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    events = [line for line in lines if line["logger"] == "huibao.events"]
    assert [(e["user"], e["action"], e["length"]) for e in events] == [(9001, "text", 26)]
