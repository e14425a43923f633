"""One log line per update, written once the bot has handled it (bot/core/events.py
says what the line holds: never the message text unless LOG_MESSAGE_TEXT)."""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from typing import Any

from telegram import Message, MessageEntity, Update
from telegram.ext import Application, Job

from bot.core.events import Event, command, extension
from bot.logs import redact
from handlers import buttons
from handlers.common import Services

log = logging.getLogger("huibao.events")

# What a message carries besides text, in the order it is named (the first one found).
_CONTENT = ("photo", "sticker", "voice", "video", "video_note", "audio",
            "animation", "contact", "location", "venue", "poll", "dice", "story")  # fmt: skip
# The outcome of the update being handled, set by process_error (same task, or a task
# started from it).
_outcome: ContextVar[list[str] | None] = ContextVar("huibao_update_outcome", default=None)


class EventLog(Application):  # type: ignore[type-arg]
    """The Application, logging each update's event line after its handlers ran.

    `ms` is the time the handlers took; for a block=False handler (/compile, /stats,
    /remind) it is only the time to start it, and its failure is not the line's outcome."""

    async def process_update(self, update: object) -> None:
        if not isinstance(update, Update):
            await super().process_update(update)
            return
        outcome = ["ok"]
        reset = _outcome.set(outcome)
        started = time.perf_counter()
        try:
            await super().process_update(update)
        finally:
            _outcome.reset(reset)
            ms = round((time.perf_counter() - started) * 1000)
            self._log(update, ms, outcome[0])

    async def process_error(
        self,
        update: object | None,
        error: Exception,
        job: Job[Any] | None = None,
        coroutine: Any = None,
    ) -> bool:
        outcome = _outcome.get()
        if outcome is not None:
            outcome[0] = "error"
        return await super().process_error(update, error, job, coroutine)

    def _log(self, update: Update, ms: int, outcome: str) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        svc: Services | None = self.bot_data.get("services")
        with_text = svc is not None and svc.settings.log_message_text
        try:
            event = describe(update, with_text=with_text)
        except Exception:  # the log line must never stop the bot
            log.exception("update=%s: could not describe it", update.update_id)
            return
        event.ms, event.outcome = ms, outcome
        log.info(event.line(), extra=event.fields())


def describe(update: Update, *, with_text: bool = False) -> Event:
    """The update's event: who, where, and what kind of thing they did."""
    user, chat = update.effective_user, update.effective_chat
    kind = next((name for name in Update.ALL_TYPES if getattr(update, name, None)), "update")
    event = Event(
        update.update_id, user.id if user else None, chat.id if chat else None, action=kind
    )
    if update.callback_query is not None:  # its message is the bot's, never logged
        data = update.callback_query.data
        event.action = f"button:{buttons.kind(data)}" if data else "button"
        return event
    message = getattr(update, kind, None)
    if isinstance(message, Message):
        _message(event, message, with_text)
    member = update.my_chat_member or update.chat_member
    if member is not None:
        event.status = member.new_chat_member.status
    return event


def _message(event: Event, message: Message, with_text: bool) -> None:
    """A message's action: a command's name, else what it carries; text by its length."""
    text = message.text or message.caption
    prefix = "" if event.action == "message" else f"{event.action}:"
    name = _command(message)
    if name is not None:
        event.action = prefix + name
    elif message.document is not None:
        event.action = prefix + "document"
        event.ext = extension(message.document.file_name)
        event.size = message.document.file_size
    else:
        what = next((name for name in _CONTENT if getattr(message, name, None)), None)
        event.action = prefix + (what or ("text" if message.text else "message"))
    if text and name is None:
        event.length = len(text)
    if with_text and text:
        event.text = redact(text)


def _command(message: Message) -> str | None:
    """The command the message starts with, as Telegram marked it (arguments left out)."""
    first = message.entities[0] if message.entities else None
    if message.text is None or first is None or first.offset != 0:
        return None
    if first.type != MessageEntity.BOT_COMMAND:
        return None
    return command(message.text[: first.length])
