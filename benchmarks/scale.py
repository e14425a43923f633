"""Several bot processes on one PostgreSQL: webhook intake and a reminder fan-out.

**Intake.** 1, 2, 3... `huibao run` processes (subprocesses, webhook mode, LOG_FORMAT=json)
on one scratch PostgreSQL database sit behind a round-robin proxy (bot/double/proxy.py);
the Bot API double in this process delivers every update to the proxy. N liaisons at
once each run the intake of benchmarks/load.py — ``/report``, tap their item, the
progress, ✅, the plan block, ✅, 📤 — except that the progress items go as one message
each, sent one right after the other without waiting for the bot (a liaison pasting
line by line; Telegram also splits a paste longer than a message so). Each other update
is sent once the answer to the one before is complete, as in load.py.

Latency: from the update queued in the double to the bot's answer complete (a screen
with its keyboard, and for a tap the callback answer); the answers in a chat are taken
for its updates in the order they were sent. Checks:

- (a) every update handled exactly once: one event line (handlers/events.py) across all
  processes, and one complete answer;
- (b) per-user order: each user's event lines from all processes, sorted by their time,
  carry increasing update ids, none twice — the items sent one right after the other
  are where processes that each keep order only among their own updates differ;
- (c) every submission stored once with the items in the order pasted (load.verify_store).

**Fan-out.** M pending liaisons and the double's ``flood_limits=True`` (about 30 messages
a second overall): N processes (workers of this script) run one reminder pass each at
the same moment on the same database, as fanout.py runs one. The reminder log
(storage/reminder_log.py) lets one process send each reminder; figures: time against the
floor M/30 s, 429s, and whether each liaison got exactly one.

    .venv/bin/python benchmarks/scale.py                      # 1,2,3 processes, 300 / 1000
    .venv/bin/python benchmarks/scale.py --quick              # 1,3: 30 liaisons, 100 reminders
    .venv/bin/python benchmarks/scale.py --processes 2 --liaisons 50 --json out.json
    .venv/bin/python benchmarks/scale.py --database-url postgresql://postgres@127.0.0.1/x
                                        # a scratch database: its public schema is dropped

Without --database-url a database of its own is created on 127.0.0.1 and dropped after.
Exits 1 when a check fails (figures are never a check).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import fanout  # noqa: E402
import load  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import func, select  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.demo.sample_month import SAMPLE_ROWS  # noqa: E402
from bot.double import BotApiDouble  # noqa: E402
from bot.double.fleet import Fleet, check  # noqa: E402
from bot.double.models import Call  # noqa: E402
from bot.double.server import UserState  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers.inbox import inbox_of  # noqa: E402
from handlers.reminders import run_reminder_pass  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.models import ReminderLog  # noqa: E402
from storage.people import create_invite, redeem_invite  # noqa: E402
from storage.periods import open_period  # noqa: E402
from storage.roster import apply_roster, department_by_code  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOKEN = load.TOKEN
Exchange = load.Exchange


# --- the double: each chat's answers taken for its updates in order --------------------


class InOrderDouble(BotApiDouble):
    """The Bot API double, handing each answering request in a chat to the first of
    that chat's updates whose answer is not complete yet."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.waiting: dict[int, list[load.Exchange]] = {}
        self.unattributed: list[str] = []
        self.observers.append(self._observe)

    def _observe(self, call: Call) -> None:
        if call.method not in load.ANSWERING:
            return
        chat_id: Any = call.params.get("chat_id")
        if call.method == "answerCallbackQuery":
            chat_id = self.callback_query_chat(str(call.params.get("callback_query_id")))
        try:
            pending = self.waiting.get(int(chat_id), []) if chat_id is not None else []
        except (TypeError, ValueError):
            pending = []
        # the first update still waiting for its answer, else the last one (a keyboard
        # taken off an older message after the answer was complete)
        exchange = next((ex for ex in pending if ex.done is None), pending[-1] if pending else None)
        if exchange is None:
            self.unattributed.append(f"{call.method} {chat_id}")
            return
        exchange.note(call.method, call.params, call.status, call.time)


# --- the data ------------------------------------------------------------------------------


def prepare(engine: Engine, n: int) -> None:
    """load.prepare's roster and bound liaisons, with the period due a week from now:
    the bot processes run on the real clock."""
    upgrade(engine)
    now = datetime.now(UTC)
    with session_scope(engine) as db:
        apply_roster(db, load.bench_roster(n), "Asia/Shanghai")
        month = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        open_period(db, month, now + timedelta(days=7))
    with session_scope(engine) as db:
        for i in range(n):
            department = department_by_code(db, f"d{i:04d}")
            assert department is not None
            token = create_invite(db, department, ttl=timedelta(days=7), created_by="bench")
            redeem_invite(db, token, telegram_id=load.FIRST_USER + i, name=f"联络员{i:04d}")


def script(i: int) -> list[tuple[str, list[str]]]:
    """load.script(i) with the progress block as one message an item, sent at once."""
    steps = [(kind, [payload]) for kind, payload in load.script(i)]
    assert steps[2][0] == "message", steps[2]  # /report, the item, then the progress
    steps[2] = ("message", list(SAMPLE_ROWS[load.sample_row(i)][0]))
    return steps


def _body(double: InOrderDouble, state: UserState, kind: str, payload: str) -> dict[str, Any]:
    chat_id = state.id
    if kind != "tap":
        return {"message": double.user_message(chat_id, state, {"text": payload})}
    found = load._button(double.messages_in(chat_id), payload)
    if found is None:
        messages = double.messages_in(chat_id)
        last = messages[-1].text[:80] if messages else "nothing"
        raise load.Stuck(f"chat {chat_id}: no button {payload!r}; last: {last!r}")
    target, data = found
    return double.tap_update(state, target, data)[1]


async def liaison(
    double: InOrderDouble,
    state: UserState,
    steps: list[tuple[str, list[str]]],
    timeout: float,
    out: list[load.Exchange],
    sent: list[int],
) -> None:
    """Each step's updates queued at once; the next step once all their answers are in."""
    pending = double.waiting.setdefault(state.id, [])
    for kind, payloads in steps:
        batch = []
        for payload in payloads:
            body = _body(double, state, kind, payload)
            exchange = load.Exchange("tap" if kind == "tap" else "message", load.bot_complete)
            exchange.queued = time.monotonic()
            pending.append(exchange)
            sent.append(double.queue_update(body))
            batch.append(exchange)
        out.extend(batch)
        try:
            async with asyncio.timeout(timeout):
                for exchange in batch:
                    await exchange.event.wait()
        except TimeoutError:
            raise load.Stuck(
                f"chat {state.id}: no complete answer to a {kind} in {timeout}s"
            ) from None


# --- intake through N processes -------------------------------------------------------------


def reset(url: str) -> Engine:
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    return engine


async def intake(processes: int, n: int, url: str, timeout: float) -> dict[str, Any]:
    engine = reset(url)
    prepare(engine, n)
    double = InOrderDouble(token=TOKEN, flood_limits=False)
    await double.start()
    users = [double.user(load.FIRST_USER + i, f"联络员{i:04d}") for i in range(n)]
    logs = tempfile.TemporaryDirectory(prefix="huibao-scale-")
    fleet = Fleet(double, url, processes, Path(logs.name), env={"REMINDERS_ENABLED": "false"})
    exchanges: list[list[load.Exchange]] = [[] for _ in range(n)]
    sent: list[list[int]] = [[] for _ in range(n)]
    try:
        await fleet.start()
        await double.settle(quiet=0.2)
        cpu0 = [bot.cpu_seconds() for bot in fleet.bots]
        t0 = time.monotonic()
        outcomes = await asyncio.gather(
            *(
                liaison(double, u.state, script(i), timeout, exchanges[i], sent[i])
                for i, u in enumerate(users)
            ),
            return_exceptions=True,
        )
        wall = time.monotonic() - t0
        await double.settle(quiet=0.5, timeout=60)  # late or repeated answers show up now
    finally:
        codes = await fleet.stop()
        await double.stop()
    lines = fleet.lines()
    logs.cleanup()
    assert fleet.proxy is not None
    by_user = {u.state.id: ids for u, ids in zip(users, sent, strict=True)}
    order = check(lines, by_user)
    problems = [str(o) for o in outcomes if isinstance(o, BaseException)][:10]
    every = [ex for per_user in exchanges for ex in per_user]
    answered = [ex for ex in every if ex.done is not None]
    not_once = [ex for ex in every if not load.bot_exactly_once(ex)]
    if len(answered) != len(every):
        problems.append(f"{len(every) - len(answered)} of {len(every)} updates not answered")
    if not_once:
        problems.append(f"{len(not_once)} updates not answered exactly once")
    if double.unattributed:
        shown = double.unattributed[:3]
        problems.append(f"{len(double.unattributed)} unexpected requests, e.g. {shown}")
    if double.violations:
        problems.append(f"{len(double.violations)} Bot API violations, e.g. {double.violations[0]}")
    if any(code != 0 for code in codes):
        problems.append(f"exit codes {codes}")
    stored = load.verify_store(engine, n)
    engine.dispose()
    latencies = [(ex.done or 0) - ex.queued for ex in answered]
    ms = 1000.0
    return {
        "processes": processes,
        "liaisons": n,
        "updates": len(every),
        "answered": len(answered),
        "wall_s": round(wall, 2),
        "updates_per_s": round(len(answered) / wall, 1) if wall else None,
        "p50_ms": round(load.percentile(latencies, 50) * ms, 1) if latencies else None,
        "p99_ms": round(load.percentile(latencies, 99) * ms, 1) if latencies else None,
        "forwarded": sorted(fleet.proxy.forwarded.values()),
        # the bot processes' CPU from the first update to their stop, per update
        "cpu_ms_per_update": round((sum(fleet.cpu) - sum(cpu0)) / max(len(answered), 1) * ms, 2),
        "exactly_once": order["missing"] == 0 and order["twice"] == 0,
        "answered_once": not not_once and len(answered) == len(every),
        "in_order": order["out_of_order"] == 0,
        "stored": not stored,
        "order": order,
        "store_problems": stored,
        "problems": problems,
        "ok": order["ok"] and not stored and not problems,
    }


# --- the reminder pass in N processes ---------------------------------------------------------


async def worker(url: str, base_url: str, file_url: str) -> None:
    """One process's reminder pass (fanout.py's), started when a line comes on stdin."""
    engine = make_engine(url)
    settings = load_settings(
        _env_file=None,
        bot_token=TOKEN,
        bot_api_base_url=base_url,
        bot_api_file_url=file_url,
        database_url=url,
        reminders_enabled=False,
        backup_schedule="off",
    )
    app = build_application(settings, engine)
    app.bot_data["services"].now = lambda: fanout.SLOT + timedelta(minutes=1)
    await app.initialize()
    inbox = inbox_of(app)
    await inbox.start()  # a worker of the inbox, as `huibao run` is: counted for pacing
    try:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        await inbox.sweep()  # every worker is up now: each paces to its share
        started = time.perf_counter()
        report = await run_reminder_pass(app)
        seconds = time.perf_counter() - started
    finally:
        inbox.close()
        await app.shutdown()
        engine.dispose()
    figures = {"seconds": seconds, "sent": report.sent, "taken": report.taken}
    print(json.dumps({**figures, "failed": report.failed + report.errors}), flush=True)


async def fan_out(processes: int, m: int, url: str) -> dict[str, Any]:
    engine = reset(url)
    upgrade(engine)
    fanout.populate(engine, m)
    double = BotApiDouble(token=TOKEN, flood_limits=True)
    await double.start()
    for k in range(m):
        double.user(10_000 + k, f"联络员{k}", started=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", url]
    command += [double.base_url, double.base_file_url]
    workers = [
        await asyncio.create_subprocess_exec(
            *command, cwd=str(ROOT), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        for _ in range(processes)
    ]
    try:
        for w in workers:
            assert w.stdout is not None
            ready = await asyncio.wait_for(w.stdout.readline(), 120)
            if ready.strip() != b"ready":
                raise RuntimeError(f"a reminder worker did not start: {ready!r}")
        started = time.perf_counter()
        for w in workers:
            assert w.stdin is not None
            w.stdin.write(b"go\n")
            await w.stdin.drain()
        outputs = [await asyncio.wait_for(w.communicate(), 600) for w in workers]
        seconds = time.perf_counter() - started
    finally:
        for w in workers:
            if w.returncode is None:
                w.kill()
                await w.wait()
        await double.stop()
    reports = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]
    with session_scope(engine) as db:
        logged = db.exec(select(func.count()).select_from(ReminderLog)).one()
    engine.dispose()
    sends = [c for c in double.calls_to("sendMessage") if c.status == 200]
    per_chat: dict[Any, int] = {}
    for call in sends:
        per_chat[call.params["chat_id"]] = per_chat.get(call.params["chat_id"], 0) + 1
    floor = m / fanout.RATE
    once = len(per_chat) == m and all(v == 1 for v in per_chat.values())
    return {
        "processes": processes,
        "reminders": m,
        "seconds": round(seconds, 2),
        "floor_seconds": round(floor, 2),
        "ratio": round(seconds / floor, 3),
        "sent_per_process": [r["sent"] for r in reports],
        "delivered": len(sends),
        "reminded_once": once,
        "flood_429": double.stats.flood_429,
        "failed": sum(r["failed"] for r in reports),
        "log_rows": logged,
        "ok": once and sum(r["failed"] for r in reports) == 0,
    }


# --- the database, the runs, the table -------------------------------------------------------


def scratch_database() -> tuple[str, Callable[[], None]]:
    """A database of its own on the test server, and how to drop it."""
    name = f"huibao_scale_{os.getpid()}"
    admin = make_engine(ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return str(sa.make_url(ADMIN_URL).set(database=name)), drop


def show(result: dict[str, Any]) -> str:
    if "reminders" in result:
        return (
            f"fan-out  {result['processes']} process(es): {result['reminders']} reminders in "
            f"{result['seconds']:.2f} s (floor {result['floor_seconds']:.2f} s, ratio "
            f"{result['ratio']:.2f}), 429s {result['flood_429']}, sent per process "
            f"{result['sent_per_process']}, each once: {result['reminded_once']}, "
            f"failed {result['failed']} [{result.get('case_s')} s in all]"
        )
    order = result["order"]
    return (
        f"intake   {result['processes']} process(es): {result['updates']} updates of "
        f"{result['liaisons']} liaisons, {result['updates_per_s']}/s, p50 "
        f"{result['p50_ms']} ms, p99 {result['p99_ms']} ms; (a) exactly once "
        f"{result['exactly_once']} (answered once {result['answered_once']}), "
        f"(b) in order {result['in_order']} "
        f"({order['users_out_of_order']} users, {order['out_of_order']} inversions), "
        f"(c) stored {result['stored']}; per process {order['per_process']}, bot CPU "
        f"{result['cpu_ms_per_update']} ms/update "
        f"[{result.get('case_s')} s in all]"
    )


async def run(args: argparse.Namespace, url: str) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for processes in args.processes if args.liaisons else ():
        began = time.monotonic()
        case = await intake(processes, args.liaisons, url, args.timeout)
        case["case_s"] = round(time.monotonic() - began, 1)
        print(show(case), flush=True)
        for problem in [*case["order"]["examples"][:5], *case["store_problems"][:3]]:
            print(f"    {problem}")
        for problem in case["problems"][:5]:
            print(f"    {problem}")
        results.append(case)
    for processes in args.processes if args.reminders else ():
        began = time.monotonic()
        case = await fan_out(processes, args.reminders, url)
        case["case_s"] = round(time.monotonic() - began, 1)
        print(show(case), flush=True)
        results.append(case)
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        asyncio.run(worker(*argv[1:4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--processes", default="", help="process counts (default 1,2,3; --quick: 1,3)"
    )
    parser.add_argument("--liaisons", type=int, default=300)
    parser.add_argument("--reminders", type=int, default=1000, help="0: no fan-out")
    parser.add_argument("--timeout", type=float, default=120.0, help="per step, seconds")
    parser.add_argument(
        "--quick", action="store_true", help="30 liaisons, 100 reminders, 1 and 3 processes"
    )
    parser.add_argument("--database-url", default="", help="a scratch PostgreSQL database")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.liaisons, args.reminders, args.timeout = 30, 100, 15.0
    chosen = args.processes or ("1,3" if args.quick else "1,2,3")
    args.processes = [int(p) for p in chosen.split(",") if p]
    logging.basicConfig(level=logging.WARNING)
    drop: Callable[[], None] = lambda: None  # noqa: E731
    url = args.database_url
    if not url:
        try:
            url, drop = scratch_database()
        except sa.exc.OperationalError as exc:
            print(f"no PostgreSQL at {ADMIN_URL}: {type(exc.orig).__name__}", file=sys.stderr)
            return 2
    try:
        results = asyncio.run(run(args, url))
    finally:
        drop()
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
