"""Several `huibao run` processes on one database, in webhook mode behind the proxy.

A deployment that outgrows one process runs several on one PostgreSQL behind a reverse
proxy (bot/double/proxy.py here). Tests and benchmarks start them as subprocesses
against the Bot API double, with LOG_FORMAT=json to a file each, and then read the one
event line per handled update (handlers/events.py) to check what the processes did
together: every update handled exactly once, and each user's updates handled in the
order Telegram numbered them, whichever process took them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import IO, Any

from bot.double.proxy import RoundRobinProxy
from bot.double.server import BotApiDouble

ROOT = Path(__file__).resolve().parent.parent.parent
EVENTS = "huibao.events"  # the logger of the one line per update
REPEATS = "handlers.inbox"  # "update N delivered again: ignored" (no event line then)
SECRET = "fleet-s3cret-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class BotProcess:
    """One `huibao run` subprocess: its webhook port and its log file (JSON lines)."""

    process: asyncio.subprocess.Process
    port: int
    log: Path
    output: IO[bytes]  # the log file, open for the process to write

    def cpu_seconds(self) -> float:
        """CPU time the process used so far (user + system; 0 once it has ended)."""
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text(encoding="ascii")
        except OSError:
            return 0.0
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def lines(self) -> list[dict[str, Any]]:
        """Its log as JSON objects (lines that are not JSON are left out)."""
        found: list[dict[str, Any]] = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                found.append(value)
        return found


def bot_environment(double: BotApiDouble, database_url: str) -> dict[str, str]:
    """The environment of a `huibao run` against the double, from this process's without
    its own bot and webhook settings; no scheduled backups (it runs in the checkout)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "WEBHOOK_"))}
    return {
        **clean,
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": double.token,
        "BOT_API_BASE_URL": double.base_url,
        "BOT_API_FILE_URL": double.base_file_url,
        "DATABASE_URL": database_url,
        "BACKUP_SCHEDULE": "off",
    }


async def start_one(
    double: BotApiDouble,
    database_url: str,
    hook_url: str,
    port: int,
    log: Path,
    env: Mapping[str, str],
) -> BotProcess:
    """`python -m bot.cli run` in webhook mode on `port`, logging JSON lines to `log`;
    Telegram (the double) is told to deliver to `hook_url`."""
    out = log.open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=str(ROOT),
        env={
            **bot_environment(double, database_url),
            "WEBHOOK_URL": hook_url,
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_PORT": str(port),
            "WEBHOOK_LISTEN": "127.0.0.1",
            "LOG_FORMAT": "json",
            **env,
        },
        stdout=out,
        stderr=asyncio.subprocess.STDOUT,
    )
    return BotProcess(process, port, log, out)


class Fleet:
    """N bot processes behind one RoundRobinProxy; the double delivers to the proxy."""

    def __init__(
        self,
        double: BotApiDouble,
        database_url: str,
        processes: int,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.double = double
        self.database_url = database_url
        self.count = processes
        self.log_dir = log_dir
        self.env = dict(env or {})
        self.bots: list[BotProcess] = []
        self.proxy: RoundRobinProxy | None = None
        self.cpu: list[float] = []  # each process's CPU seconds when it was stopped

    async def start(self, patience: float = 60.0) -> None:
        """Start the proxy and the processes; back once every one listens and has
        registered the webhook."""
        ports = [free_port() for _ in range(self.count)]
        self.proxy = RoundRobinProxy(ports)
        await self.proxy.start()
        hook = self.proxy.url("/hook")
        registered = len(self.double.calls_to("setWebhook"))
        for k, port in enumerate(ports):
            log = self.log_dir / f"bot{k}.log"
            bot = await start_one(self.double, self.database_url, hook, port, log, self.env)
            self.bots.append(bot)
        deadline = asyncio.get_running_loop().time() + patience
        while len(self.double.calls_to("setWebhook")) < registered + self.count or not all(
            listening(b.port) for b in self.bots
        ):
            ended = [b for b in self.bots if b.process.returncode is not None]
            if ended:
                raise RuntimeError(f"a bot process ended at start: {ended[0].log.read_text()}")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{self.count} bot processes did not start in {patience} s")
            await asyncio.sleep(0.05)

    async def stop(self, patience: float = 60.0) -> list[int | None]:
        """SIGTERM each process and wait for it; their exit codes."""
        self.cpu = [bot.cpu_seconds() for bot in self.bots]
        for bot in self.bots:
            if bot.process.returncode is None:
                bot.process.send_signal(signal.SIGTERM)
        codes: list[int | None] = []
        for bot in self.bots:
            try:
                codes.append(await asyncio.wait_for(bot.process.wait(), patience))
            except TimeoutError:
                bot.process.kill()
                codes.append(await bot.process.wait())
            bot.output.close()
        if self.proxy is not None:
            await self.proxy.stop()
        return codes

    def lines(self) -> list[list[dict[str, Any]]]:
        return [bot.lines() for bot in self.bots]


@dataclass(frozen=True)
class Handled:
    """One event line: which process handled which update of whom, and when."""

    process: int
    update: int
    user: int | None
    at: datetime  # the line's timestamp (written once the update's handlers finished)


def handled(logs: Iterable[list[dict[str, Any]]]) -> tuple[list[Handled], Counter[int]]:
    """The event lines of every process, and how often each update id was delivered
    again and ignored by the inbox (no event line for those)."""
    lines: list[Handled] = []
    ignored: Counter[int] = Counter()
    for k, log in enumerate(logs):
        for line in log:
            if line.get("logger") == EVENTS and isinstance(line.get("update"), int):
                at = datetime.fromisoformat(str(line["timestamp"]))
                lines.append(Handled(k, line["update"], line.get("user"), at))
            elif line.get("logger") == REPEATS and "delivered again" in str(line.get("message")):
                ignored[int(str(line["message"]).split()[1])] += 1
    return lines, ignored


def check(
    logs: Iterable[list[dict[str, Any]]], sent: Mapping[int, list[int]], limit: int = 10
) -> dict[str, Any]:
    """Exactly once and per-user order, from the processes' event lines.

    `sent`: each user's update ids as queued. An update is handled once when it has
    exactly one event line, whatever process wrote it. Order: each
    user's event lines, sorted by their time across all processes, must carry strictly
    increasing update ids (a line is written once the update's handlers finished)."""
    lines, ignored = handled(logs)
    count = Counter(h.update for h in lines)
    expected = {u for ids in sent.values() for u in ids}
    missing = sorted(u for u in expected if count[u] < 1)
    twice = sorted(u for u in expected if count[u] > 1)
    unknown = sorted(u for u in count if u not in expected)
    by_user: dict[int, list[Handled]] = {}
    for h in lines:
        if h.user is not None:
            by_user.setdefault(h.user, []).append(h)
    out_of_order: list[str] = []
    users_out_of_order = 0
    for user, seen in by_user.items():
        seen.sort(key=lambda h: h.at)
        bad = [
            f"user {user}: update {b.update} (process {b.process}, {b.at:%H:%M:%S.%f}) "
            f"after {a.update} (process {a.process}, {a.at:%H:%M:%S.%f})"
            for a, b in pairwise(seen)
            if b.update <= a.update
        ]
        users_out_of_order += bool(bad)
        out_of_order += bad
    per_process = Counter(h.process for h in lines)
    users = {u for u, ids in sent.items() if ids}
    return {
        "lines": len(lines),
        "per_process": [per_process[k] for k in range(max(per_process, default=-1) + 1)],
        "repeats_ignored": sum(ignored.values()),
        "missing": len(missing),
        "twice": len(twice),
        "unknown": len(unknown),
        "users": len(users),
        "users_out_of_order": users_out_of_order,
        "out_of_order": len(out_of_order),
        "examples": (
            [f"update {u} not handled" for u in missing[:limit]]
            + [f"update {u} handled more than once" for u in twice[:limit]]
            + out_of_order[:limit]
        ),
        "ok": not (missing or twice or unknown or out_of_order),
    }
