"""The bot's HTTP client for the Bot API, on aiohttp instead of PTB's default httpx.

Under load the bot makes a Bot API request or two for every update, and httpx (with
httpcore and anyio beneath it) spends more CPU per request than aiohttp's client: run
side by side on the same load (``benchmarks/load.py --transport both``, docs/benchmarks.md),
this client took about a third less CPU per update than PTB's HTTPXRequest and answered
1.6 to 1.9 times as many updates a second. PTB keeps everything above the wire (JSON,
error mapping, retries, rate limiting): this class only moves bytes, on public APIs of
both libraries.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.request
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)
DefaultTimeout = Any  # a float, None, or PTB's DEFAULT_NONE sentinel


class AiohttpRequest(BaseRequest):
    """A pool of keep-alive connections to the Bot API server.

    Timeouts mean what they mean for PTB's HTTPXRequest: ``read_timeout`` for the
    answer, ``connect_timeout`` to connect, ``pool_timeout`` to wait for a free
    connection, ``write_timeout`` (``media_write_timeout`` with files) to send.
    """

    def __init__(
        self,
        connection_pool_size: int = 64,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}  # (scheme, host) -> proxy
        self.token_rejected = asyncio.Event()

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                # The environment's proxy comes from environment_proxy, once per server:
                # aiohttp's trust_env would look it up in a worker thread per request.
                trust_env=False,
            )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: DefaultTimeout = BaseRequest.DEFAULT_NONE,
        write_timeout: DefaultTimeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: DefaultTimeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: DefaultTimeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        write = self._pick(
            write_timeout, self._media_write_timeout if files else self._write_timeout
        )
        read = self._pick(read_timeout, self._read_timeout)
        # aiohttp has no separate write timeout: the request may take both together.
        total = None if read is None or write is None else read + write
        timeout = aiohttp.ClientTimeout(
            total=total,
            connect=self._pick(pool_timeout, self._pool_timeout),
            sock_connect=self._pick(connect_timeout, self._connect_timeout),
            sock_read=read,
        )
        body: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            # Raw UTF-8 file names (as httpx sends them): quoting would percent-encode
            # 2015年10月….docx into the name the user sees.
            form = aiohttp.FormData(quote_fields=False)
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mime) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            body = form
        try:
            proxy = self._proxy_for(url)
            async with self._session.request(
                method, url, data=body, timeout=timeout, proxy=proxy
            ) as res:
                if res.status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND):
                    self.token_rejected.set()
                return res.status, await res.read()
        except TimeoutError as err:
            # PTB retries a timed-out getUpdates at once and says so only at DEBUG: without
            # this line a Bot API server that stopped answering would go unnoticed.
            log.warning("no answer from the Bot API to %s in time", url.rsplit("/", 1)[-1])
            raise TimedOut from err
        except (aiohttp.ClientError, OSError) as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err

    def _proxy_for(self, url: str) -> str | None:
        parts = urlsplit(url)
        server = (parts.scheme, parts.hostname or "")
        if server not in self._proxies:
            self._proxies[server] = environment_proxy(*server)
        return self._proxies[server]

    @staticmethod
    def _pick(value: DefaultTimeout, default: float | None) -> float | None:
        if value is BaseRequest.DEFAULT_NONE:
            return default
        return value  # type: ignore[no-any-return]


def environment_proxy(scheme: str, host: str) -> str | None:
    """The proxy the environment names for a server (HTTP_PROXY, HTTPS_PROXY, as httpx
    and aiohttp's trust_env read them), unless NO_PROXY exempts its host: a name, a
    domain (``example.org`` or ``.example.org`` covers its subdomains) or ``*``."""
    proxies = urllib.request.getproxies()  # scheme -> proxy, and "no" -> NO_PROXY
    proxy = proxies.get(scheme)
    if not proxy or _exempt(host.lower(), proxies.get("no", "")):
        return None
    return proxy


def _exempt(host: str, no_proxy: str) -> bool:
    for entry in no_proxy.split(","):
        name = entry.strip().lower().lstrip(".")
        if name.startswith("["):  # [::1] or [::1]:8081
            name = name[1:].partition("]")[0]
        elif name.count(":") == 1:  # host:port (a port is not told apart)
            name = name.partition(":")[0]
        if name == "*" or (name and (host == name or host.endswith("." + name))):
            return True
    return False
