"""How long an unrelated user's /whoami waits while another process write-locks the database.

Another process holds SQLite's write lock (BEGIN IMMEDIATE) for 4 s; meanwhile liaison A
changes their language (a write, which must wait for the lock) and liaison B sends
/whoami (a read). Prints B's wait and A's, from the moment both updates are queued to the
bot's answer, as the real Application (long polling the Bot API test double) gives them.

    .venv/bin/python benchmarks/lock_wait.py [--hold 4]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.double import FakeUser  # noqa: E402
from storage.db import make_engine, upgrade  # noqa: E402
from tests.harness import Harness  # noqa: E402


async def answered(user: FakeUser, before: int, started: float) -> float:
    while len(user.messages) <= before:
        await asyncio.sleep(0.005)
    return time.monotonic() - started


async def measure(hold: float) -> tuple[float, float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "huibao.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        harness = Harness(engine=engine, roster=ROOT / "examples" / "roster.toml")
        await harness.start()
        try:
            writer = await harness.liaison("office", 7001, "甲")
            reader = await harness.liaison("org", 7002, "乙")
            before_w, before_r = len(writer.messages), len(reader.messages)
            other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
            # Released from a thread: the event loop may be the thing that is stuck.
            threading.Timer(hold, lambda: other.execute("ROLLBACK")).start()
            started = time.monotonic()
            for user, text in ((writer, "/lang en"), (reader, "/whoami")):
                message = harness.double.user_message(user.id, user.state, {"text": text})
                harness.double.queue_update({"message": message})
            waits = await asyncio.gather(
                answered(reader, before_r, started), answered(writer, before_w, started)
            )
            await harness.double.settle(timeout=60)
            other.close()
            return waits[0], waits[1], writer.last.text
        finally:
            await harness.close()
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=4.0, help="seconds the lock is held")
    args = parser.parse_args()
    reader, writer, text = asyncio.run(measure(args.hold))
    print(f"write lock held {args.hold:.1f} s by another process (SQLite)")
    print(f"  B /whoami (read) answered after {reader:.2f} s")
    print(f"  A /lang en (write) answered after {writer:.2f} s: {text[:60]!r}")


if __name__ == "__main__":
    main()
