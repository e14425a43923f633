"""`huibao run` as an operator starts it: long polling or webhook, stopped by a signal."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.engine import Engine

from bot.core.roster import load_roster
from bot.double import BotApiDouble
from bot.double.fleet import bot_environment
from bot.logs import MASK
from storage.db import make_engine, session_scope, upgrade
from storage.periods import all_periods
from storage.roster import apply_roster
from tests.harness import COORDINATOR_ID

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-token"
# How long a bot process may take to get somewhere: start-up is well under a second on an
# idle machine, but `make test` runs several test processes on each core.
PATIENCE = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def start_bot(double: BotApiDouble, engine: Engine, **env: str) -> asyncio.subprocess.Process:
    with session_scope(engine) as db:
        apply_roster(db, load_roster(ROOT / "examples" / "roster.toml"), "Asia/Shanghai")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=str(ROOT),
        env={**bot_environment(double, engine.url.render_as_string(hide_password=False)), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """For what does not depend on the database: start-up and Telegram's failures."""
    made = make_engine(f"sqlite:///{tmp_path / 'huibao.db'}")
    upgrade(made)
    yield made
    made.dispose()


async def finish(process: asyncio.subprocess.Process) -> str:
    """The output of a bot that stops by itself (an error at start or later)."""
    output, _ = await asyncio.wait_for(process.communicate(), timeout=PATIENCE)
    return output.decode()


def one_line_naming(output: str, name: str) -> str:
    """The operator's line: names the setting; no traceback, nothing left open."""
    assert "Traceback" not in output, output
    assert "Unclosed" not in output, output
    assert "Task exception was never retrieved" not in output, output
    lines = [line for line in output.splitlines() if name in line and MASK not in line]
    assert len(lines) == 1, output
    return lines[0]


async def wait_for(condition: object, timeout: float = PATIENCE) -> None:
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
    output, _ = await asyncio.wait_for(process.communicate(), timeout=PATIENCE)
    assert process.returncode == 0, output.decode()
    return output.decode()


async def test_polling_answers_and_stops_cleanly_on_sigint(engine: Engine) -> None:
    async with BotApiDouble(token=TOKEN) as double:
        process = await start_bot(double, engine, LOG_LEVEL="DEBUG")  # the token never shows
        try:
            await wait_for(lambda: double.calls_to("getUpdates"))
            stranger = double.user(9001, "访客")
            replies = await stranger.send("你好", timeout=PATIENCE)
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
            assert listening(port)  # the webhook is registered once the server listens
            assert double.calls_to("setWebhook")[-1].params["url"] == url
            # A forged update claiming to be the coordinator, without the right secret.
            coordinator = double.user(COORDINATOR_ID, "李明")
            forged = double.user_message(
                COORDINATOR_ID, coordinator.state, {"text": "/period open 2015-10"}
            )
            stranger = double.user(9002, "访客")
            message = double.user_message(9002, stranger.state, {"text": "你好"})
            async with aiohttp.ClientSession() as http:
                for update_id, body, headers, expected in (
                    (1, forged, {}, 403),
                    (2, forged, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}, 403),
                    (3, message, {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}, 200),
                ):
                    update = {"update_id": update_id, "message": body}
                    async with http.post(
                        url,
                        data=json.dumps(update),
                        headers={"Content-Type": "application/json", **headers},
                    ) as response:
                        assert response.status == expected
                secret = {"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}
                for body, expected in (
                    (b'{"update_id": 4, "message": ', 400),  # broken JSON
                    (b"[1, 2, 3]", 400),  # JSON, but no update
                    (b'{"message": {}}', 400),  # no update_id
                    (b"x" * 2_000_000, 413),  # 2 MB of junk
                ):
                    async with http.post(url, data=body, headers=secret) as response:
                        assert response.status == expected, body[:40]
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    assert response.status == 200
                    assert (await response.json())["status"] == "ok"
            await wait_for(lambda: double.messages_in(9002))
            assert "仅供" in double.messages_in(9002)[-1].text
            assert not double.calls_to("getUpdates")
            assert not double.messages_in(COORDINATOR_ID)
            with session_scope(engine) as db:
                assert all_periods(db) == []
        finally:
            log = await stop(process, signal.SIGTERM)
        assert TOKEN not in log
        assert "Traceback" not in log and "CRITICAL" not in log, log
        assert not double.violations


async def test_webhook_without_a_secret_is_refused(sqlite_engine: Engine) -> None:
    port = free_port()
    async with BotApiDouble(token=TOKEN) as double:
        process = await start_bot(
            double,
            sqlite_engine,
            WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
            WEBHOOK_SECRET="",  # as .env.example ships it: not set
            WEBHOOK_PORT=str(port),
        )
        output = await finish(process)
        assert process.returncode == 2, output
        assert "token_urlsafe" in one_line_naming(output, "WEBHOOK_SECRET")
        assert not double.calls_to("setWebhook")
        assert not listening(port)


async def test_a_rejected_token_is_one_line_without_the_token(sqlite_engine: Engine) -> None:
    wrong = "555:WRONG-token-value"
    async with BotApiDouble(token=TOKEN, expect_violations=True) as double:
        for level in ("INFO", "DEBUG"):
            process = await start_bot(double, sqlite_engine, BOT_TOKEN=wrong, LOG_LEVEL=level)
            output = await finish(process)
            assert process.returncode == 2, output
            assert wrong not in output
            assert "@BotFather" in one_line_naming(output, "BOT_TOKEN")


async def test_no_network_at_start_is_one_line(sqlite_engine: Engine) -> None:
    closed = free_port()
    async with BotApiDouble(token=TOKEN) as double:
        process = await start_bot(
            double,
            sqlite_engine,
            BOT_API_BASE_URL=f"http://127.0.0.1:{closed}/bot",
            LOG_LEVEL="DEBUG",
        )
        output = await finish(process)
    assert process.returncode == 2, output
    assert TOKEN not in output
    line = one_line_naming(output, "HTTPS_PROXY")
    assert f"127.0.0.1:{closed}" in line


async def test_a_token_rejected_while_polling_stops_the_bot(sqlite_engine: Engine) -> None:
    """After logOut (or a proxy's 401) PTB's polling gives up; the process must not stay
    alive deaf: it exits non-zero so a supervisor or an operator notices."""
    async with BotApiDouble(token=TOKEN) as double:
        process = await start_bot(double, sqlite_engine)
        try:
            await wait_for(lambda: double.calls_to("getUpdates"))
            double.inject("getUpdates", 401, times=1000)
            output = await finish(process)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 2, output
        assert TOKEN not in output
        assert "@BotFather" in one_line_naming(output, "BOT_TOKEN")


async def test_bad_gateways_while_polling_are_retried_and_logged(sqlite_engine: Engine) -> None:
    async with BotApiDouble(token=TOKEN) as double:
        process = await start_bot(double, sqlite_engine)
        try:
            await wait_for(lambda: double.calls_to("getUpdates"))
            double.inject("getUpdates", 502, times=2)
            await wait_for(lambda: len([c for c in double.calls if c.injected]) == 2)
            stranger = double.user(9003, "访客")
            replies = await stranger.send("你好", timeout=PATIENCE)
            assert "仅供" in replies.last.text
        finally:
            log = await stop(process, signal.SIGTERM)
        assert log.count("getUpdates failed (NetworkError: Bad Gateway); retrying") == 2, log
        assert "Traceback" not in log


async def test_a_webhook_port_in_use_is_one_line(sqlite_engine: Engine) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with BotApiDouble(token=TOKEN) as double:
            process = await start_bot(
                double,
                sqlite_engine,
                WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
                WEBHOOK_SECRET="s3cret-token",
                WEBHOOK_PORT=str(port),
            )
            output = await finish(process)
    assert process.returncode == 2, output
    assert f"127.0.0.1:{port}" in one_line_naming(output, "WEBHOOK_PORT")


async def test_a_bot_api_that_stops_answering_is_logged(sqlite_engine: Engine) -> None:
    """Between the bot and the double, a proxy that holds getUpdates unanswered for a
    while (a network that drops packets): the bot says so, keeps trying, and answers
    once the network is back."""
    hang = asyncio.Event()
    async with BotApiDouble(token=TOKEN) as double, aiohttp.ClientSession() as http:

        async def forward(request: web.Request) -> web.Response:
            while hang.is_set() and request.path.endswith("/getUpdates"):
                await asyncio.sleep(0.1)
            async with http.request(
                request.method,
                f"http://{double.host}:{double.port}{request.path_qs}",
                data=await request.read(),
                headers={"Content-Type": request.headers.get("Content-Type", "")},
            ) as answer:
                return web.Response(
                    status=answer.status,
                    body=await answer.read(),
                    headers={"Content-Type": answer.headers.get("Content-Type", "")},
                )

        proxy = web.Application()
        proxy.router.add_route("*", "/{path:.*}", forward)
        runner = web.AppRunner(proxy, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        hang.set()
        process = await start_bot(
            double, sqlite_engine, BOT_API_BASE_URL=f"http://127.0.0.1:{port}/bot"
        )
        try:
            assert process.stdout is not None
            seen = ""
            while "no answer from the Bot API to getUpdates in time" not in seen:
                line = await asyncio.wait_for(process.stdout.readline(), timeout=PATIENCE)
                assert line, seen
                seen += line.decode()
            hang.clear()
            replies = await double.user(9004, "访客").send("你好", timeout=PATIENCE)
            assert "仅供" in replies.last.text
        finally:
            log = await stop(process, signal.SIGTERM)
            await runner.cleanup()
        assert TOKEN not in seen + log


async def started(process: asyncio.subprocess.Process) -> None:
    """Read the bot's log until python-telegram-bot says the Application started."""
    assert process.stdout is not None
    while b"Application started" not in await asyncio.wait_for(
        process.stdout.readline(), timeout=PATIENCE
    ):
        assert not process.stdout.at_eof(), "the bot ended before it started"


async def test_a_second_bot_on_one_sqlite_file_is_refused(sqlite_engine: Engine) -> None:
    """SQLite serves one bot process; the lock goes with its process, however it ends."""
    async with BotApiDouble(token=TOKEN) as double:
        first = await start_bot(double, sqlite_engine)
        try:
            await wait_for(lambda: double.calls_to("getUpdates"))
            second = await start_bot(double, sqlite_engine)
            line = one_line_naming(await finish(second), "already running on")
            assert second.returncode == 2
            assert "SQLite serves one bot process" in line and "PostgreSQL" in line
        finally:
            first.kill()  # SIGKILL: no chance to let go of anything
            await first.wait()
        third = await start_bot(double, sqlite_engine)
        try:
            await started(third)  # past the lock: the killed bot's went with it
        finally:
            await stop(third, signal.SIGTERM)


async def test_sigterm_stops_at_once_and_the_queued_updates_wait_in_the_inbox(
    engine: Engine,
) -> None:
    """A chat gets about one message a second: twelve /whoami in a row are minutes of work
    to a bot that would answer them all before it stops. It stops at once instead; what it
    had not started is stored, and the next start answers each of them once."""
    async with BotApiDouble(token=TOKEN) as double:
        process = await start_bot(double, engine)
        coordinator = double.user(COORDINATOR_ID, "李明")
        for _ in range(12):
            message = double.user_message(COORDINATOR_ID, coordinator.state, {"text": "/whoami"})
            double.queue_update({"message": message})
        await wait_for(lambda: len(double.messages_in(COORDINATOR_ID)) >= 1)
        started = asyncio.get_running_loop().time()
        await stop(process, signal.SIGTERM)
        assert asyncio.get_running_loop().time() - started < 5
        assert len(double.messages_in(COORDINATOR_ID)) < 12
        process = await start_bot(double, engine)
        try:
            await wait_for(lambda: len(double.messages_in(COORDINATOR_ID)) >= 12, timeout=60)
            await double.settle()
        finally:
            await stop(process, signal.SIGTERM)
        assert len(double.messages_in(COORDINATOR_ID)) == 12
        assert not double.violations
