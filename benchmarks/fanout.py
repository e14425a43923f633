"""Benchmark one reminder pass to N pending liaisons against Telegram's flood limits.

The Bot API test double runs with ``flood_limits=True`` (about 30 messages a second
overall, about one a second per chat: more gets 429 Too Many Requests). The real
Application sends one reminder pass; the floor is N/30 seconds.

    .venv/bin/python benchmarks/fanout.py                 # N = 1,000, SQLite
    .venv/bin/python benchmarks/fanout.py --n 300
    .venv/bin/python benchmarks/fanout.py --database-url postgresql://postgres@127.0.0.1/bench
                                        # a scratch database: its public schema is dropped
    .venv/bin/python benchmarks/fanout.py --json benchmarks/fanout.json

Target: within 10% of the floor, zero 429s, every liaison reminded exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.core.roster import Roster, load_roster  # noqa: E402
from bot.double import BotApiDouble  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers.reminders import run_reminder_pass  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.models import Liaison, ReminderLog  # noqa: E402
from storage.periods import open_period  # noqa: E402
from storage.roster import apply_roster, department_by_code  # noqa: E402

TOKEN = "123456:BENCH-token"
RATE = 30.0  # Telegram's overall limit, messages a second
DUE = datetime(2015, 11, 5, 9, 0, tzinfo=UTC)  # 17:00 Shanghai
SLOT = datetime(2015, 11, 4, 1, 0, tzinfo=UTC)  # the -1d reminder, 09:00 Shanghai
DEPARTMENTS = 50


def _roster(n_departments: int) -> Roster:
    """A roster of many departments, one key work item each, from the example's shape."""
    base = load_roster(ROOT / "examples" / "roster.toml")
    toml = ['[organisation]\nname = "基准测试"\ntimezone = "Asia/Shanghai"\n']
    for d in range(n_departments):
        toml.append(f'[[departments]]\ncode = "d{d}"\nname = "部门{d}"\n')
    for d in range(n_departments):
        toml.append(f'[[work_items]]\ntitle = "重点工作{d}"\ndepartments = ["d{d}"]\n')
    for c in base.coordinators:
        toml.append(f'[[coordinators]]\ntelegram_id = {c.telegram_id}\nname = "{c.name}"\n')
    path = Path(tempfile.mkdtemp()) / "roster.toml"
    path.write_text("\n".join(toml), encoding="utf-8")
    return load_roster(path)


def _reset(url: str) -> sa.engine.Engine:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    upgrade(engine)
    return engine


def populate(engine: sa.engine.Engine, n: int) -> None:
    """An open period due on DUE, and N liaisons over up to 50 departments, none
    reminded yet (benchmarks/scale.py runs the same pass in several processes)."""
    departments = min(DEPARTMENTS, n)
    with session_scope(engine) as db:
        apply_roster(db, _roster(departments), "Asia/Shanghai")
        open_period(db, "2015-10", DUE)
        ids = []
        for d in range(departments):
            dept = department_by_code(db, f"d{d}")
            assert dept is not None
            ids.append(dept.id or 0)
        for k in range(n):
            db.add(
                Liaison(telegram_id=10_000 + k, name=f"联络员{k}", department_id=ids[k % len(ids)])
            )


async def bench(n: int, url: str) -> dict[str, Any]:
    engine = _reset(url)
    populate(engine, n)
    double = BotApiDouble(token=TOKEN, flood_limits=True)
    await double.start()
    for k in range(n):
        double.user(10_000 + k, f"联络员{k}", started=True)
    settings = load_settings(
        _env_file=None,
        bot_token=TOKEN,
        bot_api_base_url=double.base_url,
        bot_api_file_url=double.base_file_url,
        database_url=url,
        reminders_enabled=False,
        backup_schedule="off",
    )
    app = build_application(settings, engine)
    app.bot_data["services"].now = lambda: SLOT + timedelta(minutes=1)
    await app.initialize()
    try:
        started = time.perf_counter()
        report = await run_reminder_pass(app)
        seconds = time.perf_counter() - started
    finally:
        await app.shutdown()
        await double.stop()

    with session_scope(engine) as db:
        logged = db.exec(sa.select(sa.func.count()).select_from(ReminderLog)).one()[0]
    engine.dispose()
    sends = [c for c in double.calls_to("sendMessage") if c.status == 200]
    per_chat: dict[Any, int] = {}
    for call in sends:
        per_chat[call.params["chat_id"]] = per_chat.get(call.params["chat_id"], 0) + 1
    floor = n / RATE
    busiest = 0
    times = sorted(double.stats.send_times)
    lo = 0
    for hi, t in enumerate(times):  # the most sends in any one-second window
        while t - times[lo] >= 1.0:
            lo += 1
        busiest = max(busiest, hi - lo + 1)
    return {
        "n": n,
        "database": engine.dialect.name,
        "seconds": round(seconds, 3),
        "floor_seconds": round(floor, 3),
        "ratio": round(seconds / floor, 4),
        "rate_per_second": round(len(sends) / seconds, 2),
        "busiest_second": busiest,
        "sent": report.sent,
        "delivered": len(sends),
        "reminded_once": sum(1 for v in per_chat.values() if v == 1) == n and len(per_chat) == n,
        "flood_429": double.stats.flood_429,
        "failed": report.failed + report.errors,
        "log_rows": logged,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="pending liaisons (default 1000)")
    parser.add_argument(
        "--database-url",
        default="",
        help="default: a fresh SQLite file; a PostgreSQL URL must name a scratch "
        "database (its public schema is dropped)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'fanout.db'}"
    result = asyncio.run(bench(args.n, url))
    print(
        f"{result['n']} liaisons on {result['database']}: {result['seconds']:.2f} s "
        f"(floor {result['floor_seconds']:.2f} s, ratio {result['ratio']:.3f}), "
        f"{result['rate_per_second']}/s, busiest second {result['busiest_second']}, "
        f"429s {result['flood_429']}, delivered {result['delivered']}, "
        f"each once: {result['reminded_once']}, failed {result['failed']}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    ok = result["ratio"] <= 1.10 and result["flood_429"] == 0 and result["reminded_once"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
