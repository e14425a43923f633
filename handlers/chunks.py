"""Fitting what the bot says into Telegram's limits (telegram.constants.MessageLimit): a
long screen split into messages between whole blocks, a list shortened to fit a
caption, a message too long to be one of the liaison's.

The core (bot.core) knows no Telegram and no limit of it; the handlers apply them here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from telegram.constants import InlineKeyboardMarkupLimit, MessageLimit

from bot.core.draft import Rejection
from bot.core.reminders import ChatLimits

__all__ = [
    "CAPTION_LIMIT",
    "REMINDER_LIMITS",
    "SCREEN_CHARS",
    "fit_list",
    "pack",
    "too_long",
    "visible_length",
]

#: Telegram's limit for a document caption, in UTF-16 code units without markup.
CAPTION_LIMIT = int(MessageLimit.CAPTION_LENGTH)
#: What one message of a screen holds, in characters of its HTML source: 3800, a margin
#: under Telegram's 4096 (MessageLimit.MAX_TEXT_LENGTH), which counts UTF-16 code units
#: (an emoji is two) where len() counts characters.
SCREEN_CHARS = int(MessageLimit.MAX_TEXT_LENGTH) - 296
#: A reminder or digest is one message with at most one keyboard.
REMINDER_LIMITS = ChatLimits(
    text=int(MessageLimit.MAX_TEXT_LENGTH),
    buttons=int(InlineKeyboardMarkupLimit.TOTAL_BUTTON_NUMBER),
)

_TAG = re.compile(r"<[^>]*>")
T = TypeVar("T")


def pack(blocks: list[str], limit: int = SCREEN_CHARS, separator: str = "\n") -> list[str]:
    """Join blocks into messages under `limit` characters, never splitting a block.

    Blocks are whole items (already rendered), so a long list is split between
    items. A block is at most bot.core.draft.MAX_ITEM_CHARS plus markup, well under
    the limit.
    """
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}{separator}{block}" if current else block
        if current and len(candidate) > limit:
            messages.append(current)
            current = block
        else:
            current = candidate
    if current:
        messages.append(current)
    return messages


def too_long(text: str) -> Rejection | None:
    """A liaison's message longer than a chat message may be is refused whole, before
    the draft reads it."""
    return Rejection.TOO_LONG if len(text) > MessageLimit.MAX_TEXT_LENGTH else None


def visible_length(text: str) -> int:
    """What Telegram counts against a limit: UTF-16 units of the text without HTML tags."""
    return len(html.unescape(_TAG.sub("", text)).encode("utf-16-le")) // 2


def fit_list(
    render: Callable[[list[T], int], str], names: Sequence[T], limit: int = CAPTION_LIMIT
) -> str:
    """The rendering that shows as many of `names` (or any entries) as fit in `limit`.

    `render(shown, more)` makes the text with the first names and a count of the rest
    ("…等 N 项"). The longest fitting prefix is found by bisection; if even none fits,
    the text with none is cut to the limit so the send never fails.
    """
    names = list(names)
    full = render(names, 0)
    if visible_length(full) <= limit:
        return full
    low, high = 0, len(names) - 1  # the answer is in [low, high]; `low` names may not fit
    while low < high:
        middle = (low + high + 1) // 2
        if visible_length(render(names[:middle], len(names) - middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    text = render(names[:low], len(names) - low)
    if visible_length(text) <= limit:
        return text
    units = html.unescape(_TAG.sub("", text)).encode("utf-16-le")[: 2 * (limit - 1)]
    return html.escape(units.decode("utf-16-le", errors="ignore") + "…", quote=False)
