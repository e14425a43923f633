"""The round-robin proxy in front of several webhooks (bot/double/proxy.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from bot.double.fleet import free_port
from bot.double.proxy import RoundRobinProxy

SECRET = "X-Telegram-Bot-Api-Secret-Token"


@asynccontextmanager
async def backend(name: str, seen: list[tuple[str, str, str, bytes]]) -> AsyncIterator[int]:
    """A webhook that notes what reached it and answers with its own name."""

    async def hook(request: web.Request) -> web.Response:
        seen.append((name, request.path_qs, request.headers.get(SECRET, ""), await request.read()))
        return web.Response(status=201, text=name)

    server = web.Application()
    server.router.add_post("/{path:.*}", hook)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def post(http: aiohttp.ClientSession, url: str, body: bytes) -> tuple[int, str]:
    async with http.post(url, data=body, headers={SECRET: "s3cret"}) as answer:
        return answer.status, await answer.text()


async def test_round_robin_forwards_and_skips_a_refusing_backend() -> None:
    seen: list[tuple[str, str, str, bytes]] = []
    dead = free_port()  # nothing listens there: the connection is refused
    async with (
        backend("a", seen) as a,
        backend("b", seen) as b,
        RoundRobinProxy([a, dead, b]) as proxy,
        aiohttp.ClientSession() as http,
    ):
        answers = [await post(http, proxy.url("/hook?x=1"), b"u%d" % i) for i in range(4)]
    # a, (dead: skipped to) b, b, a: every delivery answered, none lost
    assert answers == [(201, "a"), (201, "b"), (201, "b"), (201, "a")]
    assert [s[0] for s in seen] == ["a", "b", "b", "a"]
    assert {s[1] for s in seen} == {"/hook?x=1"}
    assert {s[2] for s in seen} == {"s3cret"}  # the secret header goes through
    assert [s[3] for s in seen] == [b"u0", b"u1", b"u2", b"u3"]
    assert proxy.refused[dead] == 1 and proxy.forwarded == {a: 2, b: 2}


async def test_all_backends_down_is_502() -> None:
    async with (
        RoundRobinProxy([free_port(), free_port()]) as proxy,
        aiohttp.ClientSession() as http,
    ):
        assert (await post(http, proxy.url("/hook"), b"{}"))[0] == 502
    assert proxy.unavailable == 1
