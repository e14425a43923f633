"""The webhook server: Telegram's updates (through the reverse proxy) into the bot, and
`GET /healthz` for the proxy and the container's health check.

Ours rather than python-telegram-bot's (Updater.start_webhook), in the bot's event loop
(the Application runs without its updater here), so that the secret is checked before
anything else is read, a body that is no update gets a 4xx (PTB's answered 500 to broken
JSON, which Telegram retries, and logged a CRITICAL traceback for a JSON array), and the
webhook is registered with Telegram only once the server listens. An update is stored
in the inbox before the 200 (a 503 if the database cannot take it: Telegram retries).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Protocol

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import Engine
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
MAX_BODY = 1024 * 1024  # bytes; an update is a few kB, a document's is its file_id only
DATABASE_PATIENCE = 5.0  # seconds /healthz waits for `SELECT 1`
STUCK_AFTER = 60.0  # seconds with updates waiting and none started: handling is stuck


class Progress(Protocol):
    """What the update processor (bot.ordering.PerUserOrder) tells of its work."""

    in_progress: int  # updates taken from the queue and not finished
    last_progress: float  # time.monotonic() when one last started or finished


@dataclass(frozen=True)
class Health:
    database: str  # "ok", or what went wrong
    waiting: int  # updates received and not finished
    idle_for: float  # seconds since an update last started or finished

    @property
    def ok(self) -> bool:
        return self.database == "ok" and (self.waiting == 0 or self.idle_for < STUCK_AFTER)


Store = Callable[[Update, str], Awaitable[object]]  # the inbox's receive (handlers/inbox.py)


class Webhook:
    """POST <path>: an update, with Telegram's secret; GET /healthz: can the bot work."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        *,
        path: str,
        secret: str,
        engine: Engine,
        progress: Progress,
        store: Store,
    ) -> None:
        self.app = app
        self.store = store
        self.secret = secret.encode()
        self.engine = engine
        self.progress = progress
        server = web.Application(client_max_size=MAX_BODY)
        server.router.add_post("/" + path.lstrip("/"), self.receive)
        server.router.add_get(HEALTH_PATH, self.health)
        self.runner = web.AppRunner(server, access_log=None, handle_signals=False)

    async def start(self, listen: str, port: int) -> None:
        """Listen; OSError when the address is taken or not this machine's."""
        await self.runner.setup()
        try:
            await web.TCPSite(self.runner, listen, port).start()
        except OSError:
            await self.runner.cleanup()
            raise

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return _status(HTTPStatus.FORBIDDEN)  # nothing read, nothing logged of it
        if (request.content_length or 0) > MAX_BODY:
            return _status(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _status(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        update = self._update(body)
        if update is None:
            log.warning("webhook: a body that is no update (%d bytes) refused", len(body))
            return _status(HTTPStatus.BAD_REQUEST)
        try:  # stored before the 200: Telegram sends it again until it is
            await self.store(update, body.decode())
        except sa.exc.SQLAlchemyError as exc:
            log.warning("webhook: could not store update %s (%s)", update.update_id, exc)
            return _status(HTTPStatus.SERVICE_UNAVAILABLE)
        return _status(HTTPStatus.OK)

    def _update(self, body: bytes) -> Update | None:
        try:
            data: Any = json.loads(body)
        except ValueError:  # broken JSON, or not UTF-8
            return None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return None
        try:
            return Update.de_json(data, self.app.bot)
        except (TypeError, ValueError, KeyError, AttributeError):  # fields of the wrong shape
            return None

    async def health(self, _request: web.Request) -> web.Response:
        found = await self.check()
        body = {
            "status": "ok" if found.ok else "unhealthy",
            "database": found.database,
            "waiting_updates": found.waiting,
            "idle_seconds": round(found.idle_for, 1),
        }
        status = HTTPStatus.OK if found.ok else HTTPStatus.SERVICE_UNAVAILABLE
        return web.json_response(body, status=status)

    async def check(self) -> Health:
        try:
            await asyncio.wait_for(asyncio.to_thread(self._select_one), DATABASE_PATIENCE)
            database = "ok"
        except TimeoutError:
            database = f"no answer in {DATABASE_PATIENCE:.0f} s"
        except sa.exc.SQLAlchemyError as exc:
            database = type(getattr(exc, "orig", None) or exc).__name__
        waiting = self.app.update_queue.qsize() + self.progress.in_progress
        return Health(database, waiting, time.monotonic() - self.progress.last_progress)

    def _select_one(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(sa.select(sa.literal(1)))


def _status(status: HTTPStatus) -> web.Response:
    return web.Response(status=status, text=status.phrase)
