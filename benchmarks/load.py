"""Replies under load: N liaisons each submit a whole report at the same moment.

Every simulated liaison goes through the chat flow of tests/test_report.py: ``/report``,
tap their key work item, paste the progress block, tap "✅ 完成本部分", paste the plan
block, tap "✅ 完成本部分" (the preview), tap "📤 提交" — 7 updates, each sent as soon
as the bot's answer to the previous one is complete (a closed loop without think time,
so N users means up to N updates waiting at once). The real Application long-polls the
Bot API test double (bot/double) on loopback, in this process, exactly as the tests
run it.

The baseline is a bare python-telegram-bot echo bot on the same double (defaults, no
rate limiter, one MessageHandler that sends the text back and one CallbackQueryHandler
that answers), driven by the same N users with the same 7 updates each. ``--bot screens``
is that bot making huibao's requests instead, and nothing else: a tap is answered and its
message edited, typed text gets a new screen with a keyboard and the previous screen loses
its buttons (about 1.9 requests an update against the echo bot's one), through huibao's
client (``--transport``). It is what huibao's replies cost before any of its own work; the
rest of huibao's CPU is its own.

CPU is the process's (the bot, the double and the liaisons share it);
``thread_cpu_ms_per_update`` is the part used by threads other than the event loop's:
huibao's database threads, where its SQL runs.

Timestamps are taken inside the double: an update's latency runs from the moment it
is queued for getUpdates to the bot's first request for that chat (sendMessage,
answerCallbackQuery, ...), observed by overriding the double's request log
(``BotApiDouble.observers``). "done" is when the whole answer is in: the message with
the inline keyboard (and, for a tap, the answerCallbackQuery) — the echo bot's single
request. Checks: every update got exactly one answer (one keyboard message and, for
taps, one callback answer; the echo: one message or one callback answer), no request
failed, no update was left undelivered, and every liaison's submission is stored once,
at version 1, with one revision and the pasted items.

    .venv/bin/python benchmarks/load.py --bot huibao --backend sqlite -n 200
    .venv/bin/python benchmarks/load.py --bot echo -n 200 --json out.json
    .venv/bin/python benchmarks/load.py --bot screens -n 200 --transport httpx
    .venv/bin/python benchmarks/load.py -n 200 --unpaced --transport both --rounds 3

``--transport`` picks huibao's (and the screens bot's) Bot API client: its own on aiohttp
(bot/transport.py) or PTB's HTTPXRequest; ``both`` runs the same load with each,
alternating, one process per run, and prints the figures side by side. ``--unpaced``
takes Telegram's flood pacing (bot/pacing.py) out, which otherwise caps huibao near 30
sends a second whatever the client costs.

Each run is meant to be its own process (benchmarks/run.py starts one per case), so
the resident memory it reports after the run is that case's own.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from aiohttp import web  # noqa: E402
from aiolimiter import AsyncLimiter  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import select  # noqa: E402
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest  # noqa: E402

from bot.app import Transport, build_application, start_polling, stop_polling  # noqa: E402
from bot.core.periods import parse_due  # noqa: E402
from bot.core.roster import CoordinatorSpec, DepartmentSpec, Roster, WorkItemSpec  # noqa: E402
from bot.demo.sample_month import SAMPLE_RAW, SAMPLE_ROWS  # noqa: E402
from bot.double import BotApiDouble, SentMessage  # noqa: E402
from bot.double.models import Call  # noqa: E402
from bot.double.server import UserState  # noqa: E402
from bot.pacing import PacedRateLimiter  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.transport import AiohttpRequest  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.models import Department, Submission, SubmissionRevision  # noqa: E402
from storage.people import create_invite, redeem_invite  # noqa: E402
from storage.periods import open_period  # noqa: E402
from storage.roster import apply_roster, department_by_code  # noqa: E402

TOKEN = "123456:BENCH-token"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "huibao_bench"
FIRST_USER = 5_000_001
SHANGHAI = ZoneInfo("Asia/Shanghai")
DONE, SUBMIT = "✅ 完成本部分", "📤 提交"
TRANSPORTS: dict[str, Transport] = {"aiohttp": AiohttpRequest, "httpx": HTTPXRequest}
ANSWERING = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
        "sendDocument",
        "sendChatAction",
        "deleteMessage",
    }
)


def rss_mb() -> dict[str, float]:
    """This process's resident set now (VmRSS) and at its peak (VmHWM), in MB."""
    found: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


def other_threads_cpu() -> float:
    """CPU seconds used so far by this process's threads other than the event loop's:
    the database threads, where huibao's SQL runs."""
    here = threading.get_ident()
    total = 0.0
    for thread in threading.enumerate():
        if thread.ident is None or thread.ident == here:
            continue
        try:
            total += time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
        except OSError:  # it ended meanwhile
            continue
    return total


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --- the double, observed -------------------------------------------------------------


@dataclass
class Exchange:
    """One update and the bot's answer to it."""

    kind: str  # "message" or "tap"
    complete: Callable[[Exchange], bool]
    queued: float = 0.0
    first: float | None = None  # first answering request for the chat
    done: float | None = None  # the answer is complete
    sends: int = 0  # messages sent or edited
    screens: int = 0  # of which carry an inline keyboard (the last message of a screen)
    answers: int = 0  # answerCallbackQuery
    failed: list[str] = field(default_factory=list)
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def note(self, method: str, params: dict[str, Any], status: int, at: float) -> None:
        if self.first is None:
            self.first = at
        if status != 200:
            self.failed.append(f"{method} {status}")
        if method == "answerCallbackQuery":
            self.answers += 1
        elif method in ("sendMessage", "editMessageText", "sendDocument"):
            self.sends += 1
            markup = params.get("reply_markup")
            if isinstance(markup, dict) and markup.get("inline_keyboard"):
                self.screens += 1
        if self.done is None and self.complete(self):
            self.done = at
            self.event.set()


def bot_complete(ex: Exchange) -> bool:
    return ex.screens >= 1 and (ex.kind != "tap" or ex.answers >= 1)


def bot_exactly_once(ex: Exchange) -> bool:
    return ex.screens == 1 and ex.answers == (1 if ex.kind == "tap" else 0)


def echo_complete(ex: Exchange) -> bool:
    return ex.answers >= 1 if ex.kind == "tap" else ex.sends >= 1


def echo_exactly_once(ex: Exchange) -> bool:
    return (ex.answers, ex.sends) == ((1, 0) if ex.kind == "tap" else (0, 1))


class ObservedDouble(BotApiDouble):
    """The Bot API double, telling the exchange in progress in a chat about each request."""

    def __init__(self, rtt: float = 0.0, **kw: Any) -> None:
        super().__init__(**kw)
        self.watch: dict[int, Exchange] = {}
        self.unattributed: list[str] = []
        self.rtt = rtt  # simulated network round trip between the bot and the Bot API
        self.observers.append(self._observe)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Half the round trip on the way in, half on the way out."""
        if not self.rtt:
            return await super()._handle(request)
        await asyncio.sleep(self.rtt / 2)
        response = await super()._handle(request)
        await asyncio.sleep(self.rtt / 2)
        return response

    def _observe(self, call: Call) -> None:
        if call.method not in ANSWERING:
            return
        chat_id: Any = call.params.get("chat_id")
        if call.method == "answerCallbackQuery":
            chat_id = self.callback_query_chat(str(call.params.get("callback_query_id")))
        try:
            exchange = self.watch.get(int(chat_id)) if chat_id is not None else None
        except (TypeError, ValueError):
            exchange = None
        if exchange is None:
            self.unattributed.append(f"{call.method} {chat_id}")
            return
        exchange.note(call.method, call.params, call.status, call.time)


# --- the data: N departments, one key work item each, one liaison each ----------------


def bench_roster(n: int) -> Roster:
    departments = tuple(DepartmentSpec(f"d{i:04d}", f"部门{i:04d}") for i in range(n))
    items = tuple(WorkItemSpec(f"重点工作{i:04d}", (f"d{i:04d}",)) for i in range(n))
    return Roster(
        "压测单位", "Asia/Shanghai", departments, items, (CoordinatorSpec(123456789, "协调员"),)
    )


def title_of(i: int) -> str:
    return f"重点工作{i:04d}"


def sample_row(i: int) -> int:
    return i % 3 + 1


def postgres_engine() -> tuple[Engine | None, str]:
    """A fresh schema of our own on the test server, or (None, why not)."""
    try:
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            connection.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        admin.dispose()
    except Exception as exc:
        return None, f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.__class__.__name__}"
    separator = "&" if "?" in POSTGRES_URL else "?"
    return make_engine(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{SCHEMA}"), ""


def drop_postgres_schema() -> None:
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    admin.dispose()


def prepare(engine: Engine, n: int) -> None:
    """Schema, roster, an open October 2015, and N liaisons bound without any chat."""
    upgrade(engine)
    with session_scope(engine) as db:
        apply_roster(db, bench_roster(n), "Asia/Shanghai")
        open_period(db, "2015-10", parse_due("2015-11-05 17:00", SHANGHAI))
    with session_scope(engine) as db:
        for i in range(n):
            department = department_by_code(db, f"d{i:04d}")
            assert department is not None
            token = create_invite(db, department, ttl=_week(), created_by="bench")
            redeem_invite(db, token, telegram_id=FIRST_USER + i, name=f"联络员{i:04d}")


def _week() -> Any:
    from datetime import timedelta

    return timedelta(days=7)


def verify_store(engine: Engine, n: int) -> list[str]:
    """Every liaison's submission stored exactly once, at version 1, with their items."""
    problems: list[str] = []
    with session_scope(engine) as db:
        submissions = db.exec(select(Submission)).all()
        revisions = db.exec(select(SubmissionRevision)).all()
        codes = {d.id: d.code for d in db.exec(select(Department))}
    if len(submissions) != n:
        problems.append(f"{len(submissions)} submissions stored, expected {n}")
    if len(revisions) != n:
        problems.append(f"{len(revisions)} revisions stored, expected {n}")
    seen: set[int] = set()
    for s in submissions:
        i = int(codes[s.department_id][1:])
        if i in seen:
            problems.append(f"department {i} has two submissions")
        seen.add(i)
        progress, plan = SAMPLE_ROWS[sample_row(i)]
        if (s.status, s.version) != ("submitted", 1):
            problems.append(f"department {i}: {s.status} version {s.version}")
        if (s.progress, s.plan) != (progress, plan):
            problems.append(f"department {i}: stored items differ from the pasted blocks")
    if any(r.version != 1 for r in revisions):
        problems.append("a revision other than version 1 was stored")
    return problems[:10]


# --- the bots ---------------------------------------------------------------------------


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert update.effective_chat is not None and message is not None
    await update.effective_chat.send_message(message.text or "?")


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.callback_query is not None
    await update.callback_query.answer()


def build_echo(double: BotApiDouble) -> Application:  # type: ignore[type-arg]
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(double.base_url)
        .base_file_url(double.base_file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    app.add_handler(CallbackQueryHandler(_answer))
    return app


# Huibao's Bot API requests without anything else: a tap is answered and its message
# edited, typed text gets a new screen and the previous one loses its buttons.
SCREEN_KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("继续", callback_data="tap")]])


async def _screen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.effective_message, update.effective_chat
    assert chat is not None and message is not None and context.chat_data is not None
    previous = context.chat_data.get("screen")
    if previous is not None:
        await context.bot.edit_message_reply_markup(chat.id, previous, reply_markup=None)
    sent = await chat.send_message(message.text or "?", reply_markup=SCREEN_KEYBOARD)
    context.chat_data["screen"] = sent.message_id


async def _tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and isinstance(query.message, Message)
    assert context.chat_data is not None
    await query.answer()
    taps = context.chat_data["taps"] = context.chat_data.get("taps", 0) + 1
    text = f"{taps}. {query.message.text}"  # a screen that changes, as huibao's do
    await query.edit_message_text(text, reply_markup=SCREEN_KEYBOARD)


def build_screens(double: BotApiDouble, transport: str) -> Application:  # type: ignore[type-arg]
    """The echo bot making huibao's requests through huibao's client (or PTB's): what
    huibao's replies cost before any of its own work."""
    client = TRANSPORTS[transport]
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(double.base_url)
        .base_file_url(double.base_file_url)
        .request(client(connection_pool_size=64))
        .get_updates_request(client(connection_pool_size=1))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, _screen))
    app.add_handler(CallbackQueryHandler(_tapped))
    return app


def build_huibao(  # type: ignore[type-arg]
    double: BotApiDouble, engine: Engine, transport: str = "aiohttp", paced: bool = True
) -> Application:
    settings = load_settings(
        _env_file=None,
        bot_token=TOKEN,
        bot_api_base_url=double.base_url,
        bot_api_file_url=double.base_file_url,
        database_url=engine.url.render_as_string(hide_password=False),
        reminders_enabled=False,
        backup_schedule="off",
        log_level="WARNING",
    )
    app = build_application(settings, engine, TRANSPORTS[transport])
    fixed = datetime(2015, 11, 2, 2, 0, tzinfo=UTC)  # as tests/test_report.py: before the due
    app.bot_data["services"].now = lambda: fixed
    limiter = app.bot.rate_limiter
    if not paced and isinstance(limiter, PacedRateLimiter):
        limiter.chat_period = 0.001
        limiter.overall = AsyncLimiter(1_000_000, 1)
    return app


# --- the liaisons -----------------------------------------------------------------------


def script(i: int) -> list[tuple[str, str]]:
    progress, plan = SAMPLE_RAW[sample_row(i)]
    return [
        ("message", "/report"),
        ("tap", title_of(i)),
        ("message", progress),
        ("tap", DONE),
        ("message", plan),
        ("tap", DONE),
        ("tap", SUBMIT),
    ]


def _button(messages: list[SentMessage], label: str) -> tuple[SentMessage, str] | None:
    for m in reversed(messages):
        for row in m.button_rows:
            for b in row:
                if label in b.text and b.callback_data:
                    return m, b.callback_data
    return None


class Stuck(Exception):
    pass


async def liaison(
    double: ObservedDouble,
    state: UserState,
    steps: list[tuple[str, str]],
    complete: Callable[[Exchange], bool],
    timeout: float,
    out: list[Exchange],
    echo: bool,
) -> None:
    chat_id = state.id
    for kind, payload in steps:
        if kind == "message":
            body: dict[str, Any] = {
                "message": double.user_message(chat_id, state, {"text": payload})
            }
        else:
            messages = double.messages_in(chat_id)
            if echo:
                if not messages:
                    raise Stuck(f"chat {chat_id}: no message to tap on")
                target, data = messages[-1], "tap"
            else:
                found = _button(messages, payload)
                if found is None:
                    last = messages[-1].text[:80] if messages else "nothing"
                    raise Stuck(f"chat {chat_id}: no button {payload!r}; last: {last!r}")
                target, data = found
            _, body = double.tap_update(state, target, data)
        exchange = Exchange(kind, complete)
        double.watch[chat_id] = exchange
        exchange.queued = time.monotonic()
        double.queue_update(body)
        out.append(exchange)
        try:
            await asyncio.wait_for(exchange.event.wait(), timeout)
        except TimeoutError:
            raise Stuck(f"chat {chat_id}: no complete answer to a {kind} in {timeout}s") from None


# --- one case -----------------------------------------------------------------------------


async def run_case(
    bot: str,
    backend: str,
    n: int,
    timeout: float,
    rtt_ms: float = 0.0,
    transport: str = "aiohttp",
    paced: bool = True,
) -> dict[str, Any]:
    result: dict[str, Any] = {"bot": bot, "backend": backend, "liaisons": n, "rtt_ms": rtt_ms}
    if bot != "echo":
        result.update(transport=transport, paced=paced if bot == "huibao" else False)
    engine: Engine | None = None
    tmp = tempfile.TemporaryDirectory(prefix="huibao-bench-")
    if bot == "huibao":
        if backend == "postgres":
            engine, reason = postgres_engine()
            if engine is None:
                return {**result, "skipped": reason}
        else:
            engine = make_engine(f"sqlite:///{Path(tmp.name) / 'bench.db'}")
        prepare(engine, n)

    statements = [0]
    if engine is not None:

        @sa.event.listens_for(engine, "before_cursor_execute")
        def _count(*_: Any) -> None:
            statements[0] += 1

    double = ObservedDouble(rtt=rtt_ms / 1000, token=TOKEN, flood_limits=False)
    await double.start()
    users = [double.user(FIRST_USER + i, f"联络员{i:04d}") for i in range(n)]
    gc.collect()
    rss_before = rss_mb()
    if bot == "huibao":
        assert engine is not None
        app = build_huibao(double, engine, transport, paced)
        complete, once = bot_complete, bot_exactly_once
    elif bot == "screens":
        app = build_screens(double, transport)
        complete, once = bot_complete, bot_exactly_once
    else:
        app = build_echo(double)
        complete, once = echo_complete, echo_exactly_once
    await start_polling(app)
    await double.settle(quiet=0.2)

    exchanges: list[list[Exchange]] = [[] for _ in range(n)]
    statements[0] = 0
    cpu0, threads0 = resource.getrusage(resource.RUSAGE_SELF), other_threads_cpu()
    t0 = time.monotonic()
    outcomes = await asyncio.gather(
        *(
            liaison(double, u.state, script(i), complete, timeout, exchanges[i], bot != "huibao")
            for i, u in enumerate(users)
        ),
        return_exceptions=True,
    )
    t1 = time.monotonic()
    cpu1, threads1 = resource.getrusage(resource.RUSAGE_SELF), other_threads_cpu()
    sql = statements[0]
    await double.settle(quiet=0.5, timeout=60)  # late or duplicate answers show up now
    await stop_polling(app)
    gc.collect()
    rss_after = rss_mb()
    await double.stop()

    problems = [str(o) for o in outcomes if isinstance(o, BaseException)][:10]
    every = [ex for per_user in exchanges for ex in per_user]
    answered = [ex for ex in every if ex.first is not None and ex.done is not None]
    expected = n * 7
    not_once = [ex for ex in every if not once(ex)]
    failed = [f for ex in every for f in ex.failed]
    if len(answered) != expected:
        problems.append(f"{expected - len(answered)} of {expected} updates not answered")
    if not_once:
        problems.append(f"{len(not_once)} updates not answered exactly once")
    if failed:
        problems.append(f"{len(failed)} failed requests, e.g. {failed[:3]}")
    if double.unattributed:
        problems.append(
            f"{len(double.unattributed)} unexpected requests: {double.unattributed[:3]}"
        )
    if double.violations:
        problems.append(f"{len(double.violations)} Bot API violations: {double.violations[:2]}")
    if bot == "huibao":
        assert engine is not None
        problems += verify_store(engine, n)
        engine.dispose()
        if backend == "postgres":
            drop_postgres_schema()
    tmp.cleanup()

    latencies = [(ex.first or 0) - ex.queued for ex in answered]
    complete_latencies = [(ex.done or 0) - ex.queued for ex in answered]
    wall = t1 - t0
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    ms = 1000.0
    result.update(
        {
            "updates": len(every),
            "answered": len(answered),
            "wall_s": round(wall, 3),
            "updates_per_s": round(len(answered) / wall, 1) if wall > 0 else None,
            "cpu_s": round(cpu, 2),
            "cpu_ms_per_update": round(cpu / max(len(every), 1) * ms, 2),
            "thread_cpu_ms_per_update": round((threads1 - threads0) / max(len(every), 1) * ms, 2),
            "requests": double.stats.requests,
            "polls": len(double.calls_to("getUpdates")),
            "sql_per_update": round(sql / max(len(every), 1), 1) if engine is not None else 0,
        }
    )
    if latencies:
        result["latency_ms"] = {
            "p50": round(percentile(latencies, 50) * ms, 1),
            "p95": round(percentile(latencies, 95) * ms, 1),
            "p99": round(percentile(latencies, 99) * ms, 1),
            "max": round(max(latencies) * ms, 1),
        }
        result["complete_ms"] = {
            "p50": round(percentile(complete_latencies, 50) * ms, 1),
            "p99": round(percentile(complete_latencies, 99) * ms, 1),
        }
    result["rss_mb"] = {
        "before_bot": rss_before.get("VmRSS"),
        "after_run": rss_after.get("VmRSS"),
        "peak": rss_after.get("VmHWM"),
    }
    result["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    result["ok"] = not problems
    result["problems"] = problems
    return result


# --- both Bot API clients, side by side ---------------------------------------------------

COMPARED = ("updates_per_s", "cpu_ms_per_update", "p50_ms", "p95_ms")


def _figures(result: dict[str, Any]) -> dict[str, Any]:
    latency = result.get("latency_ms", {})
    return {
        "updates_per_s": result.get("updates_per_s"),
        "cpu_ms_per_update": result.get("cpu_ms_per_update"),
        "p50_ms": latency.get("p50"),
        "p95_ms": latency.get("p95"),
        "ok": result.get("ok"),
        "problems": result.get("problems", []),
    }


def _one_process(args: argparse.Namespace, transport: str) -> dict[str, Any]:
    """One run in a process of its own (its resident memory is its own, as run.py's)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--bot", "huibao"]
    command += ["--backend", args.backend, "-n", str(args.liaisons), "--transport", transport]
    command += ["--timeout", str(args.timeout), "--rtt-ms", str(args.rtt_ms)]
    command += ["--unpaced"] if args.unpaced else []
    with tempfile.TemporaryDirectory(prefix="huibao-bench-") as tmp:
        out = Path(tmp) / "out.json"
        subprocess.run([*command, "--json", str(out)], cwd=ROOT, check=True, capture_output=True)
        figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return figures


def compare_transports(args: argparse.Namespace) -> dict[str, Any]:
    """The same load with each client, alternating round by round so that the machine's
    drift between minutes falls on both alike; medians of the rounds."""
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in TRANSPORTS}
    for round_no in range(1, args.rounds + 1):
        for name in TRANSPORTS:
            figures = _figures(_one_process(args, name))
            rounds[name].append(figures)
            shown = "  ".join(f"{k} {figures[k]}" for k in COMPARED)
            verdict = "ok" if figures["ok"] else f"PROBLEMS {figures['problems']}"
            print(f"round {round_no} {name:<8} {shown}  {verdict}", flush=True)
    medians = {
        name: {k: statistics.median(r[k] for r in runs) for k in COMPARED}
        for name, runs in rounds.items()
    }
    for name, figures in medians.items():
        print(f"median  {name:<8} " + "  ".join(f"{k} {figures[k]}" for k in COMPARED))
    return {
        "liaisons": args.liaisons,
        "backend": args.backend,
        "paced": not args.unpaced,
        "rounds": rounds,
        "medians": medians,
        "ok": all(r["ok"] for runs in rounds.values() for r in runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--bot", choices=("huibao", "echo", "screens"), default="huibao")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("-n", "--liaisons", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=120.0, help="per update, seconds")
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=0.0,
        help="simulated network round trip of every Bot API request (default 0: loopback)",
    )
    parser.add_argument(
        "--transport", choices=(*TRANSPORTS, "both"), default="aiohttp", help="huibao's client"
    )
    parser.add_argument("--rounds", type=int, default=3, help="with --transport both")
    parser.add_argument("--unpaced", action="store_true", help="no flood pacing (bot/pacing.py)")
    parser.add_argument("--json", metavar="PATH", type=Path, help="write the figures here")
    parser.add_argument("--profile", metavar="PATH", type=Path, help="cProfile stats here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.transport == "both":
        compared = compare_transports(args)
        if args.json:
            args.json.write_text(json.dumps(compared, ensure_ascii=False) + "\n", "utf-8")
        return 0 if compared["ok"] else 1

    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    case = run_case(
        args.bot,
        args.backend,
        args.liaisons,
        args.timeout,
        args.rtt_ms,
        args.transport,
        paced=not args.unpaced,
    )
    result = asyncio.run(case)
    if args.profile:
        profiler.disable()
        profiler.dump_stats(str(args.profile))
    text = json.dumps(result, ensure_ascii=False)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
