"""Updates of different users at the same time, each user's strictly in order.

python-telegram-bot processes one update at a time by default: every reply waits for
the Bot API round trips of all the updates before it, whoever sent them. Its
``concurrent_updates`` runs them side by side with no regard to who sent them, and a
liaison's draft (storage.drafts) must see their messages in the order they were
written. This processor does both: one asyncio.Lock per user (per chat for updates
without a user), taken before anything else can run, so a user's updates run one after
the other in arrival order while other users' run meanwhile.

Why the order holds: the Application starts one task per update in arrival order
(asyncio runs new tasks first-in first-out), and nothing between a task's start and
``lock.acquire()`` yields to the loop — the base class's semaphore is sized so it is
never contended. asyncio.Lock hands itself to waiters first-in first-out. How many
updates run at once is bounded by our own semaphore, taken only after the user's lock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# The base class's semaphore: large enough never to make a task wait (waiting there
# could let a user's later update overtake an earlier one).
_UNBOUNDED = 2**31 - 1


class PerUserOrder(BaseUpdateProcessor):
    """At most ``max_running`` updates at once; one user's (or chat's) one at a time."""

    def __init__(self, max_running: int = 16) -> None:
        super().__init__(_UNBOUNDED)
        self.max_running = max_running
        self._running = asyncio.Semaphore(max_running)
        self._locks: dict[tuple[str, int], tuple[asyncio.Lock, int]] = {}
        # For /healthz (bot/webhook.py): updates taken and not finished, and when one last
        # started or finished (time.monotonic()).
        self.in_progress = 0
        self.last_progress = time.monotonic()

    @staticmethod
    def key(update: object) -> tuple[str, int] | None:
        if isinstance(update, Update):
            if update.effective_user is not None:
                return ("user", update.effective_user.id)
            if update.effective_chat is not None:
                return ("chat", update.effective_chat.id)
        return None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self.in_progress += 1
        try:
            await self._in_order(update, coroutine)
        finally:
            self.in_progress -= 1
            self.last_progress = time.monotonic()

    async def _in_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self.key(update)
        if key is None:
            async with self._running:
                self.last_progress = time.monotonic()
                await coroutine
            return
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock, self._running:
                self.last_progress = time.monotonic()
                await coroutine
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""
