"""A Telegram Bot API test double for end-to-end tests of the bot.

Usage::

    async with running_double() as double:
        alice = double.user(1001, "Alice")
        app = (ApplicationBuilder().token(double.token).base_url(double.base_url)
               .base_file_url(double.base_file_url).build())
        ...
        replies = await alice.send("/start")
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from .driver import ButtonNotFound, FakeGroup, FakeUser
from .html import HtmlParseError, ParsedText, parse_html, utf16_len, visible_length
from .models import (
    Call,
    CallbackAnswer,
    DocumentInfo,
    InlineButton,
    Replies,
    SentMessage,
    Stats,
    StoredFile,
    Totals,
    Violation,
)
from .server import DEFAULT_TOKEN, TOTALS, BotApiDouble
from .spec import ApiError, load_spec, validate_params

__all__ = [
    "DEFAULT_TOKEN",
    "TOTALS",
    "ApiError",
    "BotApiDouble",
    "ButtonNotFound",
    "Call",
    "CallbackAnswer",
    "DocumentInfo",
    "FakeGroup",
    "FakeUser",
    "HtmlParseError",
    "InlineButton",
    "ParsedText",
    "Replies",
    "SentMessage",
    "Stats",
    "StoredFile",
    "Totals",
    "Violation",
    "load_spec",
    "parse_html",
    "running_double",
    "utf16_len",
    "validate_params",
    "visible_length",
]


@asynccontextmanager
async def running_double(*, strict: bool = True, **kw: Any) -> AsyncIterator[BotApiDouble]:
    """Start a BotApiDouble (keyword arguments go to its constructor), stop it at exit.

    With ``strict=True`` a clean exit raises AssertionError listing any violations the bot
    caused; pass ``strict=False`` when a test provokes violations and inspects them itself.
    """
    double = BotApiDouble(**kw)
    await double.start()
    try:
        yield double
    finally:
        await double.stop()
    if strict and double.violations:
        listing = "\n".join(f"  - {v}" for v in double.violations)
        raise AssertionError(
            f"the bot made {len(double.violations)} invalid Bot API request(s):\n{listing}"
        )
