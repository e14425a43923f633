"""Plain data kept by the Bot API double: messages, chats, files, calls, violations."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Violation:
    """A 4xx answer caused by the bot's own request (not an injected fault)."""

    method: str
    description: str
    params: dict[str, Any]
    status: int = 400

    def __str__(self) -> str:
        shown = json.dumps(self.params, ensure_ascii=False, default=str)
        if len(shown) > 300:
            shown = shown[:300] + "…"
        return f"{self.method}: {self.status} {self.description} params={shown}"


@dataclass(frozen=True)
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    status: int
    description: str | None = None
    injected: bool = False
    time: float = 0.0


@dataclass
class Stats:
    requests: int = 0
    flood_429: int = 0
    forbidden: int = 0
    chat_not_found: int = 0  # sends to users who never wrote to the bot
    # monotonic timestamps of every accepted message send (sendMessage, sendDocument, ...)
    send_times: list[float] = field(default_factory=list)


@dataclass
class Totals:
    """Process-wide counters (a conftest may print them at session end)."""

    requests: int = 0
    violations: int = 0  # by doubles that expect none (the bot's real mistakes)
    expected_violations: int = 0  # provoked on purpose (BotApiDouble(expect_violations=True))
    flood_429: int = 0

    def __str__(self) -> str:
        return (
            f"Bot API double: {self.requests} requests validated, "
            f"{self.violations} violations ({self.expected_violations} more provoked on "
            f"purpose), {self.flood_429} flood 429s"
        )


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    content: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class DocumentInfo:
    filename: str
    content: bytes
    mime_type: str | None
    file_id: str
    caption: str | None = None


@dataclass
class InlineButton:
    text: str
    callback_data: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CallbackAnswer:
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class SentMessage:
    """A message in a chat, as the user currently sees it (mutated on edit/delete).

    ``text`` is the visible text (HTML tags removed, entities decoded) as Telegram reports
    it; ``html`` is the source text exactly as the bot sent it.
    """

    chat_id: int
    message_id: int
    date: int
    from_bot: bool
    text: str = ""
    html: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)
    parse_mode: str | None = None
    caption: str | None = None
    caption_html: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    kind: str = "text"  # text, document, photo, sticker, voice, ...
    document: DocumentInfo | None = None
    media: dict[str, Any] | None = None  # Telegram JSON of the media object
    edit_date: int | None = None
    deleted: bool = False
    history: list[str] = field(default_factory=list)  # previous visible texts/captions
    sender_id: int | None = None
    reply_to_message_id: int | None = None

    @property
    def button_rows(self) -> list[list[InlineButton]]:
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [
            [
                InlineButton(
                    text=str(b.get("text", "")),
                    callback_data=b.get("callback_data"),
                    url=b.get("url"),
                    raw=dict(b),
                )
                for b in row
            ]
            for row in self.reply_markup["inline_keyboard"]
        ]

    @property
    def buttons(self) -> list[str]:
        """Flat list of inline button texts, row by row."""
        return [b.text for row in self.button_rows for b in row]

    @property
    def keyboard(self) -> list[str]:
        """Flat list of reply-keyboard button texts (ReplyKeyboardMarkup), if any."""
        if not self.reply_markup or "keyboard" not in self.reply_markup:
            return []
        return [
            b if isinstance(b, str) else str(b.get("text", ""))
            for row in self.reply_markup["keyboard"]
            for b in row
        ]

    @property
    def content(self) -> str:
        """Text, or caption for media messages."""
        return self.text if self.kind == "text" else (self.caption or "")

    def __str__(self) -> str:
        extra = f" buttons={self.buttons}" if self.buttons else ""
        return f"<#{self.message_id} {self.kind} {self.content!r}{extra}>"


class Replies(list[SentMessage]):
    """Messages the bot sent or edited in a chat while the driver waited.

    ``answer`` is the bot's answerCallbackQuery for a tap (None if it did not answer or the
    action was not a tap).
    """

    answer: CallbackAnswer | None = None

    @property
    def texts(self) -> list[str]:
        return [m.content for m in self]

    @property
    def last(self) -> SentMessage:
        if not self:
            raise AssertionError("the bot did not send or edit any message")
        return self[-1]
