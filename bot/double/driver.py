"""Users acting against the Bot API double: writing, uploading, tapping buttons.

Every action queues one update, waits until the bot fetched it and settled, and returns
the bot's messages sent or edited in that chat meanwhile (:class:`Replies`). With a
harness that reports handled updates (BotApiDouble.track_handling) "settled" means the bot
finished the update; ``quiet=`` matters only for a bot the double cannot watch.
"""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING, Any

from .models import InlineButton, Replies, SentMessage
from .server import DEFAULT_QUIET

if TYPE_CHECKING:
    from .server import BotApiDouble, UserState

DEFAULT_TIMEOUT = 10.0


class ButtonNotFound(AssertionError):
    """The button a test tried to tap is not on any (matching) bot message."""


def _describe_buttons(messages: list[SentMessage]) -> str:
    shown = [f"#{m.message_id}: {m.buttons}" for m in messages[-5:] if m.buttons]
    return "; ".join(shown) if shown else "no bot message with inline buttons"


def _find_button(
    messages: list[SentMessage], text: str | None, data: str | None
) -> tuple[SentMessage, InlineButton] | None:
    for m in reversed(messages):
        for row in m.button_rows:
            for b in row:
                if (text is None or b.text == text) and (data is None or b.callback_data == data):
                    return m, b
    return None


class _Actor:
    """Shared behaviour of a chat (private or group) as seen by the test."""

    def __init__(self, double: BotApiDouble, chat_id: int) -> None:
        self.double = double
        self.chat_id = chat_id

    @property
    def messages(self) -> list[SentMessage]:
        """Every message the bot sent to this chat, oldest first, current state."""
        return self.double.messages_in(self.chat_id)

    @property
    def last(self) -> SentMessage:
        msgs = self.messages
        if not msgs:
            raise AssertionError(f"the bot has sent no message to chat {self.chat_id}")
        return msgs[-1]

    @property
    def chat_actions(self) -> list[str]:
        return list(self.double.chat(self.chat_id).actions)

    async def _say(
        self,
        sender: UserState,
        fields: dict[str, Any],
        reply_to: SentMessage | None,
        quiet: float,
        timeout: float,
        deliveries: int = 1,
    ) -> Replies:
        msg = self.double.user_message(self.chat_id, sender, fields, reply_to=reply_to)
        return await self.double.act(
            self.chat_id, {"message": msg}, quiet=quiet, timeout=timeout, deliveries=deliveries
        )

    async def _tap(
        self,
        sender: UserState,
        text: str | None,
        data: str | None,
        message: SentMessage | None,
        quiet: float,
        timeout: float,
        deliveries: int = 1,
    ) -> Replies:
        if text is None and data is None:
            raise ValueError("tap() needs the button text or data=")
        if message is not None:
            current = self.double.chat(self.chat_id).messages.get(message.message_id)
            if current is None or current.deleted or not current.from_bot:
                raise ButtonNotFound(
                    f"message #{message.message_id} is not a bot message "
                    f"in chat {self.chat_id} (deleted?)"
                )
            pool = [current]
        else:
            pool = self.messages
        found = _find_button(pool, text, data)
        if found is None:
            raise ButtonNotFound(
                f"no inline button text={text!r} data={data!r} in chat {self.chat_id}; "
                f"{_describe_buttons(pool)}"
            )
        m, button = found
        if button.callback_data is None:
            kind = next((k for k in button.raw if k != "text"), "unknown")
            raise ButtonNotFound(
                f"button {button.text!r} is a {kind} button, not a callback button"
            )
        qid, body = self.double.tap_update(sender, m, button.callback_data)
        replies = await self.double.act(
            self.chat_id, body, quiet=quiet, timeout=timeout, deliveries=deliveries
        )
        replies.answer = self.double.callback_answer(qid)
        return replies

    def _file_fields(
        self, kind: str, content: bytes, file_name: str | None, mime_type: str | None
    ) -> dict[str, Any]:
        stored = self.double.register_file(content, file_name, mime_type, kind)
        base: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if kind == "document":
            base["file_name"] = file_name
            if mime_type:
                base["mime_type"] = mime_type
        return base


class FakeUser(_Actor):
    """A Telegram user; ``id`` is also their private chat's id."""

    def __init__(self, double: BotApiDouble, state: UserState) -> None:
        super().__init__(double, state.id)
        self.state = state
        self.keyboard: list[str] = []  # current reply keyboard (ReplyKeyboardMarkup)

    def __repr__(self) -> str:
        return f"FakeUser({self.id}, {self.first_name!r})"

    @property
    def id(self) -> int:
        return self.state.id

    @property
    def first_name(self) -> str:
        return self.state.first_name

    @property
    def username(self) -> str | None:
        return self.state.username

    @property
    def language_code(self) -> str | None:
        return self.state.language_code

    @property
    def blocked(self) -> bool:
        return self.state.blocked

    @blocked.setter
    def blocked(self, value: bool) -> None:
        self.state.blocked = value

    def block(self) -> None:
        """The user blocks the bot: sends to them answer 403 from now on."""
        self.state.blocked = True

    def unblock(self) -> None:
        self.state.blocked = False

    def to_json(self) -> dict[str, Any]:
        return self.state.to_json()

    def note_markup(self, markup: dict[str, Any]) -> None:
        """Called by the double when the bot sends a reply markup to this user."""
        if "keyboard" in markup:
            self.keyboard = [
                b if isinstance(b, str) else str(b.get("text", ""))
                for row in markup["keyboard"]
                for b in row
            ]
        elif markup.get("remove_keyboard"):
            self.keyboard = []

    async def send(
        self,
        text: str,
        *,
        reply_to: SentMessage | None = None,
        quiet: float = DEFAULT_QUIET,
        timeout: float = DEFAULT_TIMEOUT,
        deliveries: int = 1,
    ) -> Replies:
        """Write ``text`` to the bot; return what the bot sent/edited in reply. With
        ``deliveries=2`` Telegram delivers the update twice (same update_id)."""
        return await self._say(
            self.state, {"text": text}, reply_to, quiet, timeout, deliveries=deliveries
        )

    async def tap(
        self,
        text: str | None = None,
        *,
        data: str | None = None,
        message: SentMessage | None = None,
        quiet: float = DEFAULT_QUIET,
        timeout: float = DEFAULT_TIMEOUT,
        deliveries: int = 1,
    ) -> Replies:
        """Tap an inline button by exact text (and/or callback data) on the most recent bot
        message that has it (or on ``message``). A button of the current reply keyboard is
        pressed by sending its text. Raises ButtonNotFound if there is no such button.
        ``deliveries=2``: the tap's update is delivered twice (same update_id)."""
        if (
            message is None
            and data is None
            and text is not None
            and _find_button(self.messages, text, None) is None
            and text in self.keyboard
        ):
            return await self.send(text, quiet=quiet, timeout=timeout, deliveries=deliveries)
        return await self._tap(
            self.state, text, data, message, quiet, timeout, deliveries=deliveries
        )

    async def send_sticker(
        self,
        emoji: str = "👍",
        *,
        quiet: float = DEFAULT_QUIET,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Replies:
        sticker = {
            **self._file_fields("sticker", b"RIFF-sticker", None, "image/webp"),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return await self._say(self.state, {"sticker": sticker}, None, quiet, timeout)

    async def send_photo(
        self,
        content: bytes = b"\xff\xd8\xff-photo",
        *,
        caption: str | None = None,
        quiet: float = DEFAULT_QUIET,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Replies:
        photo = {
            **self._file_fields("photo", content, None, "image/jpeg"),
            "width": 800,
            "height": 600,
        }
        fields: dict[str, Any] = {"photo": [photo]}
        if caption is not None:
            fields["caption"] = caption
        return await self._say(self.state, fields, None, quiet, timeout)

    async def send_voice(
        self,
        content: bytes = b"OggS-voice",
        *,
        duration: int = 2,
        quiet: float = DEFAULT_QUIET,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Replies:
        voice = {
            **self._file_fields("voice", content, None, "audio/ogg"),
            "duration": duration,
            "mime_type": "audio/ogg",
        }
        return await self._say(self.state, {"voice": voice}, None, quiet, timeout)

    async def send_document(
        self,
        content: bytes,
        filename: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        quiet: float = DEFAULT_QUIET,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Replies:
        """Upload a document; the bot can getFile and download it."""
        mime = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        fields: dict[str, Any] = {
            "document": self._file_fields("document", content, filename, mime)
        }
        if caption is not None:
            fields["caption"] = caption
        return await self._say(self.state, fields, None, quiet, timeout)


class FakeGroup(_Actor):
    """A group chat (negative id) the bot is a member of; members write via send()."""

    def __init__(self, double: BotApiDouble, chat_id: int, title: str) -> None:
        super().__init__(double, chat_id)
        self.title = title

    def __repr__(self) -> str:
        return f"FakeGroup({self.id}, {self.title!r})"

    @property
    def id(self) -> int:
        return self.chat_id

    def kick_bot(self) -> None:
        """The bot is removed: sends here answer 403 from now on."""
        self.double.chat(self.chat_id).bot_member = False

    async def send(
        self,
        user: FakeUser,
        text: str,
        *,
        reply_to: SentMessage | None = None,
        quiet: float = DEFAULT_QUIET,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Replies:
        """``user`` writes ``text`` in the group."""
        return await self._say(user.state, {"text": text}, reply_to, quiet, timeout)

    async def tap(
        self,
        user: FakeUser,
        text: str | None = None,
        *,
        data: str | None = None,
        message: SentMessage | None = None,
        quiet: float = DEFAULT_QUIET,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Replies:
        return await self._tap(user.state, text, data, message, quiet, timeout)
