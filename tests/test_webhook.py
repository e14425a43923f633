"""GET /healthz: what the reverse proxy and the container's health check are told; an
update the inbox cannot store: a 503, which Telegram retries."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.exc import OperationalError
from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from bot.webhook import STUCK_AFTER, Webhook
from storage.db import make_engine
from tests.harness import TOKEN
from tests.test_run_modes import free_port


@dataclass
class Progress:
    in_progress: int = 0
    last_progress: float = 0.0


@pytest.fixture
def app() -> Application:  # type: ignore[type-arg]
    """Enough of the bot for /healthz: its update queue (nothing reaches Telegram)."""
    return ApplicationBuilder().token(TOKEN).updater(None).build()


async def never_stored(update: Update, body: str) -> None:
    """The inbox's receive with the database gone."""
    raise OperationalError("INSERT INTO inbox_update", {}, ConnectionRefusedError())


async def health(app: Application, url: str, progress: Progress) -> tuple[int, dict[str, object]]:  # type: ignore[type-arg]
    server = Webhook(
        app,
        path="/hook",
        secret="s3cret",
        engine=make_engine(url),
        progress=progress,
        store=never_stored,
    )
    port = free_port()
    await server.start("127.0.0.1", port)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            return response.status, await response.json()
    finally:
        await server.stop()
        server.engine.dispose()


async def test_healthy_when_the_database_answers_and_nothing_waits(
    app: Application,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    status, body = await health(
        app, f"sqlite:///{tmp_path / 'h.db'}", Progress(0, time.monotonic())
    )
    assert status == 200
    assert body["status"] == "ok" and body["database"] == "ok" and body["waiting_updates"] == 0


async def test_unhealthy_when_the_database_is_down(app: Application) -> None:  # type: ignore[type-arg]
    status, body = await health(app, "postgresql://postgres@127.0.0.1:1/none", Progress())
    assert status == 503
    assert body["status"] == "unhealthy" and body["database"] == "OperationalError"


async def test_unhealthy_when_updates_wait_and_none_moved_for_a_minute(
    app: Application,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    stuck = Progress(in_progress=3, last_progress=time.monotonic() - STUCK_AFTER - 1)
    status, body = await health(app, url, stuck)
    assert status == 503 and body["waiting_updates"] == 3 and body["database"] == "ok"
    busy = Progress(in_progress=3, last_progress=time.monotonic())  # working through them
    assert (await health(app, url, busy))[0] == 200
    quiet = Progress(in_progress=0, last_progress=time.monotonic() - 3600)  # nobody wrote
    assert (await health(app, url, quiet))[0] == 200


async def test_an_update_that_cannot_be_stored_gets_a_503(app: Application) -> None:  # type: ignore[type-arg]
    """Not a 200: Telegram would drop the update. A 503 makes it deliver it again."""
    server = Webhook(
        app,
        path="/hook",
        secret="s3cret",
        engine=make_engine("sqlite://"),
        progress=Progress(),
        store=never_stored,
    )
    port = free_port()
    await server.start("127.0.0.1", port)
    update = {
        "update_id": 1,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "hi"},
    }
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"http://127.0.0.1:{port}/hook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"},
            ) as response,
        ):
            assert response.status == 503
    finally:
        await server.stop()
        server.engine.dispose()
    assert app.update_queue.empty()
