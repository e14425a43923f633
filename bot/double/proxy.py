"""A loopback round-robin HTTP proxy in front of several bot processes' webhooks.

Telegram delivers a bot's updates to one URL; several bot processes on one database sit
behind a reverse proxy that spreads the deliveries over them (nginx's ``upstream``).
This is that proxy for tests and benchmarks: each POST (path, headers, body) goes to
the next backend port in turn, and the backend's status and body go back to the caller
(the Bot API double's webhook delivery).

A backend that refuses the connection never saw the request, so it is safe to try the
next one, as nginx does: a stopped process costs no delivery, and 502 comes back only
when every backend refuses. A backend that took the request and then failed (reset,
timeout) is not retried, since it may have handled the update (nginx does not pass a
POST on to the next server once it was sent either); the caller gets 502 and delivers
again, as Telegram would.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from http import HTTPStatus
from types import TracebackType

import aiohttp
from aiohttp import web

# Headers that describe one hop's connection, not the request: never forwarded.
_HOP = frozenset(
    {"host", "connection", "keep-alive", "content-length", "transfer-encoding", "upgrade"}
)


class RoundRobinProxy:
    """POST /<any path> forwarded to ``backends`` (ports on ``host``) in turn."""

    def __init__(
        self, backends: Sequence[int], *, host: str = "127.0.0.1", timeout: float = 30.0
    ) -> None:
        if not backends:
            raise ValueError("a proxy needs at least one backend port")
        self.backends = list(backends)
        self.host = host
        self.port = 0  # the proxy's own, once started
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.forwarded: Counter[int] = Counter()  # answered requests, by backend port
        self.refused: Counter[int] = Counter()  # refused connections, by backend port
        self.unavailable = 0  # requests answered 502 by the proxy itself
        self._next = 0
        self._client: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}/{path.lstrip('/')}"

    async def start(self) -> None:
        server = web.Application(client_max_size=8 * 1024 * 1024)
        server.router.add_post("/{path:.*}", self._forward)
        self._runner = web.AppRunner(server, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._client = aiohttp.ClientSession(timeout=self.timeout)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def __aenter__(self) -> RoundRobinProxy:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.stop()

    def _order(self) -> list[int]:
        """The backends starting from the next one in turn (and the turn moves on)."""
        first = self._next
        self._next = (self._next + 1) % len(self.backends)
        return self.backends[first:] + self.backends[:first]

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None, "the proxy is not started"
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        for port in self._order():
            url = f"http://{self.host}:{port}{request.path_qs}"
            try:
                async with self._client.post(url, data=body, headers=headers) as answer:
                    content = await answer.read()
                    self.forwarded[port] += 1
                    kept = {"Content-Type": answer.headers.get("Content-Type", "text/plain")}
                    return web.Response(status=answer.status, body=content, headers=kept)
            except aiohttp.ClientConnectorError:  # refused: the request never left
                self.refused[port] += 1
            except (aiohttp.ClientError, TimeoutError):  # sent, maybe handled: no retry
                break
        self.unavailable += 1
        return web.Response(status=HTTPStatus.BAD_GATEWAY, text=HTTPStatus.BAD_GATEWAY.phrase)
