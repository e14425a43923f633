"""The Bot API client on aiohttp: what PTB expects of a transport.

Real Bot calls against the Bot API test double show that fields and files arrive as
Telegram reads them; a loopback server stands in for a slow, absent or proxied
server. Everything else (JSON, 429/403 handling, retries) is PTB's and is exercised end
to end through the double.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut

from bot.double import BotApiDouble, FakeUser
from bot.transport import AiohttpRequest, environment_proxy
from tests.test_run_modes import free_port

TOKEN = "123456:TEST-token"
Received = list[dict[str, str]]


@pytest.fixture
async def bot() -> AsyncIterator[tuple[Bot, FakeUser]]:
    """A Bot on AiohttpRequest, talking to the double, and a user who started it."""
    double = BotApiDouble(token=TOKEN)
    await double.start()
    user = double.user(42, "张伟", started=True)
    client = Bot(TOKEN, base_url=double.base_url, request=AiohttpRequest())
    try:
        async with client:
            yield client, user
    finally:
        await double.stop()
    assert not double.violations


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Received]]:
    received: Received = []

    async def echo(request: web.Request) -> web.Response:
        received.append({"user-agent": request.headers.get("User-Agent", "")})
        return web.json_response({"ok": True, "result": True}, status=200)

    async def proxied(request: web.Request) -> web.Response:
        # A proxy is asked for the whole URL of another server.
        received.append({"host": request.host, "path": request.path})
        return web.json_response({"ok": True, "result": True})

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/echo", echo)
    app.router.add_post("/slow", slow)
    app.router.add_post("/bot123:T/getMe", proxied)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        await runner.cleanup()


async def test_form_fields_reach_the_server(bot: tuple[Bot, FakeUser]) -> None:
    client, user = bot
    await client.send_message(user.id, "你好 <b>")
    assert user.last.text == "你好 <b>"


async def test_files_go_as_multipart_with_their_chinese_name(bot: tuple[Bot, FakeUser]) -> None:
    client, user = bot
    document = InputFile(b"PK-docx-bytes", filename="2015年10月重点工作推进情况汇总表.docx")
    await client.send_document(user.id, document, caption="10月")
    sent = user.last
    assert sent.document is not None and sent.caption == "10月"
    assert sent.document.filename == "2015年10月重点工作推进情况汇总表.docx"
    assert sent.document.content == b"PK-docx-bytes"


async def test_a_server_that_is_down_is_a_network_error() -> None:
    async with AiohttpRequest(connect_timeout=1) as request:
        with pytest.raises(NetworkError):
            await request.do_request(f"http://127.0.0.1:{free_port()}/x", "POST")


async def test_a_server_that_does_not_answer_in_time_is_a_timeout(
    server: tuple[str, Received],
) -> None:
    base, _ = server
    async with AiohttpRequest(read_timeout=0.2) as request:
        with pytest.raises(TimedOut):
            await request.do_request(f"{base}/slow", "POST")
        # A longer per-call read timeout (as getUpdates' long poll passes) is honoured.
        status, _ = await request.do_request(f"{base}/slow", "POST", read_timeout=5)
    assert status == 200


async def test_requests_before_initialize_are_refused() -> None:
    with pytest.raises(RuntimeError):
        await AiohttpRequest().do_request("http://127.0.0.1:1/x", "POST")


async def test_the_environments_proxy_is_used_and_no_proxy_honoured(
    server: tuple[str, Received], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where Telegram is reachable only through a proxy, HTTP(S)_PROXY says which."""
    base, received = server
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", base)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with AiohttpRequest(connect_timeout=2) as request:
        status, _ = await request.do_request("http://api.telegram.invalid/bot123:T/getMe", "POST")
        assert status == 200
        assert received == [{"host": "api.telegram.invalid", "path": "/bot123:T/getMe"}]
        # The server itself is in NO_PROXY: reached directly.
        status, _ = await request.do_request(f"{base}/echo", "POST")
    assert status == 200 and received[-1]["user-agent"].startswith("python-telegram-bot")


@pytest.mark.parametrize(
    ("no_proxy", "host", "proxied"),
    [
        ("", "api.telegram.org", True),
        ("127.0.0.1,localhost", "api.telegram.org", True),
        ("telegram.org", "api.telegram.org", False),
        (".telegram.org", "api.telegram.org", False),
        ("api.telegram.org:443", "api.telegram.org", False),
        ("legram.org", "api.telegram.org", True),
        ("*", "api.telegram.org", False),
        ("[::1]:8081", "::1", False),
        (" LOCALHOST ", "localhost", False),
    ],
)
def test_no_proxy_exempts_names_domains_and_everything(
    monkeypatch: pytest.MonkeyPatch, no_proxy: str, host: str, proxied: bool
) -> None:
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    expected = "http://proxy.example:3128" if proxied else None
    assert environment_proxy("https", host) == expected
    assert environment_proxy("ftp", host) is None  # no proxy named for the scheme
