"""`huibao run` as an operator starts it: long polling or webhook, stopped by a signal."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
from sqlalchemy.engine import Engine

from bot.roster import load_roster
from storage.db import session_scope
from storage.roster import apply_roster
from tests.botapi import BotApiDouble

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def start_bot(double: BotApiDouble, engine: Engine, **env: str) -> asyncio.subprocess.Process:
    with session_scope(engine) as db:
        apply_roster(db, load_roster(ROOT / "examples" / "roster.toml"), "Asia/Shanghai")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "WEBHOOK_"))}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=str(ROOT),
        env={
            **clean,
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": TOKEN,
            "BOT_API_BASE_URL": double.base_url,
            "BOT_API_FILE_URL": double.base_file_url,
            "DATABASE_URL": engine.url.render_as_string(hide_password=False),
            **env,
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def wait_for(condition: object, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the bot did not get there in time")
        await asyncio.sleep(0.05)


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def stop(process: asyncio.subprocess.Process, sig: int) -> str:
    process.send_signal(sig)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_polling_answers_and_stops_cleanly_on_sigint(engine: Engine) -> None:
    async with BotApiDouble(token=TOKEN) as double:
        process = await start_bot(double, engine)
        try:
            await wait_for(lambda: double.calls_to("getUpdates"))
            stranger = double.user(9001, "访客")
            replies = await stranger.send("你好", timeout=20)
            assert "仅供" in replies.last.text
        finally:
            log = await stop(process, signal.SIGINT)
        assert TOKEN not in log
        assert not double.violations


async def test_webhook_needs_the_secret_and_stops_cleanly_on_sigterm(engine: Engine) -> None:
    port = free_port()
    async with BotApiDouble(token=TOKEN) as double:
        url = f"http://127.0.0.1:{port}/hook"
        process = await start_bot(
            double,
            engine,
            WEBHOOK_URL=url,
            WEBHOOK_SECRET="s3cret-token",
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
        )
        try:
            await wait_for(lambda: double.calls_to("setWebhook"))
            # PTB registers the webhook a moment before its server listens (Telegram retries).
            await wait_for(lambda: listening(port))
            assert double.calls_to("setWebhook")[-1].params["url"] == url
            stranger = double.user(9002, "访客")
            message = double.user_message(9002, stranger.state, {"text": "你好"})
            update = {"update_id": 1, "message": message}
            async with aiohttp.ClientSession() as http:
                for headers, expected in (
                    ({}, 403),
                    ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, 403),
                    ({"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}, 200),
                ):
                    async with http.post(
                        url,
                        data=json.dumps(update),
                        headers={"Content-Type": "application/json", **headers},
                    ) as response:
                        assert response.status == expected
            await wait_for(lambda: double.messages_in(9002))
            assert "仅供" in double.messages_in(9002)[-1].text
            assert not double.calls_to("getUpdates")
        finally:
            log = await stop(process, signal.SIGTERM)
        assert TOKEN not in log
        assert not double.violations
