"""The bot as production runs it, pointed at the Bot API test double.

Tests act as users through the double's driver; the harness only starts,
restarts and stops the real Application and prepares the roster.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from telegram.ext import Application

from bot.app import build_application, start_polling, stop_polling
from bot.core.people import PersonRole
from bot.core.roster import load_roster
from bot.double import BotApiDouble, FakeUser
from bot.pacing import PacedRateLimiter
from bot.settings import Settings, load_settings
from storage.db import session_scope
from storage.models import utcnow
from storage.people import create_invite
from storage.roster import apply_roster, department_by_code

COORDINATOR_ID = 123456789  # the coordinator of examples/roster.toml
TOKEN = "123456:TEST-token"
UNPACED_CHAT = 0.001  # seconds to refill a chat's burst when a test does not pace chats


class Harness:
    def __init__(self, *, engine: Engine, roster: Path, **settings: Any) -> None:
        self.engine = engine
        self.roster = roster
        self.double = BotApiDouble(token=TOKEN)
        # The minute reminder job is off unless a test asks for it (reminders_enabled=True):
        # with a fixed clock it would otherwise send reminders in the middle of other tests.
        # Scheduled backups likewise (tests/test_scheduled_backup.py turns them on).
        self.extra_settings = {"reminders_enabled": False, "backup_schedule": "off", **settings}
        # Telegram's per-chat pace (about a message a second) makes a test that sends many
        # messages to one chat take minutes; the double checks no flood limit unless a test
        # turns it on, so tests pace chats only when they ask (tests/test_pacing.py does).
        self.pace_chats = False
        self.now: datetime | None = None  # a fixed clock for the bot; None = real time
        self.app: Application | None = None  # type: ignore[type-arg]
        self.settings: Settings | None = None

    async def start(self) -> None:
        await self.double.start()
        with session_scope(self.engine) as db:
            apply_roster(db, load_roster(self.roster), "Asia/Shanghai")
        await self.start_bot()

    def make_settings(self) -> Settings:
        return load_settings(
            _env_file=None,
            bot_token=TOKEN,
            bot_api_base_url=self.double.base_url,
            bot_api_file_url=self.double.base_file_url,
            database_url=self.engine.url.render_as_string(hide_password=False),
            **self.extra_settings,
        )

    async def start_bot(self) -> None:
        """Start the Application as `huibao run` does (long polling)."""
        self.settings = self.make_settings()
        app = build_application(self.settings, self.engine)
        app.bot_data["services"].now = self.clock
        limiter = app.bot.rate_limiter
        if not self.pace_chats and isinstance(limiter, PacedRateLimiter):
            limiter.chat_period = UNPACED_CHAT
        self._track_handling(app)
        await start_polling(app)
        self.app = app

    def _track_handling(self, app: Application) -> None:  # type: ignore[type-arg]
        """Tell the double when the bot has finished with each update and whether work is
        left in its tasks, so that a test's action returns once the bot is done rather than
        after a guessed quiet spell. Concurrent updates, handlers with block=False and the
        bot's own background work all run as Application.create_task tasks."""
        create_task = app.create_task
        running: set[asyncio.Task[Any]] = set()

        def create_and_track(
            coroutine: Coroutine[Any, Any, Any], update: object = None, *, name: str | None = None
        ) -> asyncio.Task[Any]:
            task = create_task(coroutine, update, name=name)
            running.add(task)
            task.add_done_callback(running.discard)
            return task

        setattr(app, "create_task", create_and_track)  # noqa: B010 (a method, not a field)
        self.double.watch(app, busy=lambda: bool(running))
        # A repeated delivery stops at the inbox, before the Application sees it.
        app.bot_data["services"].inbox.on_repeat = self.double.handled

    def clock(self) -> datetime:
        return self.now or utcnow()

    async def stop_bot(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        await stop_polling(app)
        self.double.forget_unhandled()

    async def restart(self) -> None:
        """A bot restart: a new Application on the same database and Bot API server."""
        await self.stop_bot()
        await self.start_bot()

    async def close(self) -> None:
        try:
            await self.stop_bot()
        finally:
            await self.double.stop()
        assert not self.double.violations, f"Bot API spec violations: {self.double.violations}"

    # --- people -------------------------------------------------------------

    def coordinator(self, language_code: str = "zh-hans") -> FakeUser:
        return self.double.user(COORDINATOR_ID, "李明", language_code=language_code)

    def invite_token(
        self,
        dept_code: str,
        ttl: timedelta = timedelta(days=7),
        role: PersonRole = PersonRole.LIAISON,
    ) -> str:
        with session_scope(self.engine) as db:
            department = department_by_code(db, dept_code)
            assert department is not None
            return create_invite(db, department, ttl=ttl, created_by="test", role=role)

    async def liaison(
        self,
        dept_code: str,
        user_id: int,
        name: str,
        language_code: str = "zh-hans",
        role: PersonRole = PersonRole.LIAISON,
    ) -> FakeUser:
        """A user who redeemed an invite for the department (as a liaison, or an approver)."""
        user = self.double.user(user_id, name, language_code=language_code)
        await user.send(f"/start {self.invite_token(dept_code, role=role)}")
        return user
