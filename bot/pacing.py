"""Sending under Telegram's flood limits: wait before a send, rather than after a 429.

Telegram allows about 30 messages a second overall and about one a second per chat
(short bursts tolerated); a request over either is answered 429, and
python-telegram-bot's AIORateLimiter then halts *every* request of the bot for the
retry_after. So sends are paced here before they go out: overall by a bucket a little
smaller than Telegram's (the margin absorbs the jitter between leaving here and
arriving there), per chat by a bucket of three refilled a little under once a second.
A lone reply is never delayed. AIORateLimiter still keeps groups to 20 a minute and
waits out a 429 if one happens anyway.

This is the bot's one pacing and one retry layer, for replies and broadcasts alike
(bot/broadcast.py sends each message once through it): a 429 is waited out and retried
(MAX_RETRIES) for every request; a network error is retried, with backoff, only for a
request that asks with `rate_limit_args=<retries>` (a reminder; a reply is not resent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter, BaseRateLimiter

log = logging.getLogger(__name__)

JSON = bool | dict[str, Any] | list[dict[str, Any]]

OVERALL_BURST = 20  # Telegram's bucket holds about 30
OVERALL_RATE = 30.0  # a second
CHAT_BURST = 3
CHAT_PERIOD = 3.3  # seconds to refill CHAT_BURST: a little under one a second
MAX_RETRIES = 3  # after a 429 all the same
BACKOFF = (0.5, 1.0, 2.0, 4.0)  # seconds before retrying after a network error
IDLE_CHATS = 1024  # per-chat buckets kept before the full (idle) ones are dropped

# Methods that put a new message in a chat (what Telegram's flood limits count).
_SENDS = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})


def is_send(endpoint: str) -> bool:
    return endpoint in _SENDS or (endpoint.startswith("send") and endpoint != "sendChatAction")


def is_answer(endpoint: str) -> bool:
    """A request a user sees: a message, an edit, a deletion, a tap's answer."""
    if endpoint in _NOT_ANSWERS:
        return False
    return is_send(endpoint) or endpoint.startswith(("edit", "delete", "answer"))


_NOT_ANSWERS = frozenset({"deleteMyCommands", "deleteWebhook", "deleteStickerSet"})


class PacedRateLimiter(BaseRateLimiter[int]):
    """Overall and per-chat pacing of sends, then AIORateLimiter for groups and 429s;
    `rate_limit_args`: how often to retry a network error (default never)."""

    def __init__(self, chat_period: float = CHAT_PERIOD) -> None:
        self.chat_period = chat_period  # tests against a server without flood limits shorten it
        self.overall = AsyncLimiter(OVERALL_BURST, OVERALL_BURST / OVERALL_RATE)
        self.processes = 1  # bot processes sharing Telegram's overall limit (share)
        self.chats: dict[str, AsyncLimiter] = {}
        self.groups = AIORateLimiter(overall_max_rate=0, max_retries=MAX_RETRIES)
        # Awaited before each answer goes out (handlers/inbox.py: an update answered is
        # marked handled, so a restart never answers it twice).
        self.before_answer: Callable[[], Awaitable[None]] | None = None

    def share(self, processes: int) -> None:
        """Several bot processes on one database (handlers/inbox.py counts them): each
        sends at its share of the overall rate, so that together they keep under it."""
        if processes == self.processes:
            return
        self.processes = processes
        self.overall = AsyncLimiter(
            max(1.0, OVERALL_BURST / processes), OVERALL_BURST / OVERALL_RATE
        )
        log.info(
            "%d bot processes: this one sends up to %.1f a second",
            processes,
            OVERALL_RATE / processes,
        )

    async def initialize(self) -> None:
        await self.groups.initialize()

    async def shutdown(self) -> None:
        await self.groups.shutdown()

    def _chat(self, chat_id: object) -> AsyncLimiter:
        key = str(chat_id)
        found = self.chats.get(key)
        if found is None:
            if len(self.chats) >= IDLE_CHATS:
                self.chats = {k: v for k, v in self.chats.items() if not v.has_capacity(CHAT_BURST)}
            found = self.chats[key] = AsyncLimiter(CHAT_BURST, self.chat_period)
        return found

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        if self.before_answer is not None and is_answer(endpoint):
            await self.before_answer()
        paced = data.get("chat_id") is not None and is_send(endpoint)
        attempt = 0
        while True:
            if paced:
                await self._chat(data["chat_id"]).acquire()
                await self.overall.acquire()
            try:
                return await self.groups.process_request(
                    callback, args, kwargs, endpoint, data, None
                )
            except BadRequest:  # a NetworkError subclass, but retrying cannot help
                raise
            except NetworkError as exc:  # includes TimedOut
                if attempt >= (rate_limit_args or 0):
                    raise
                log.info("%s: %s, retrying", endpoint, exc.message)
                await asyncio.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
                attempt += 1
