"""Updates Telegram delivers twice: how many the bot handles, and how long it takes.

500 updates (/whoami from 50 users, 10 each), every one queued twice with the same
update_id on the Bot API test double (as a getUpdates batch fetched again delivers
them), all at once; the real Application long-polls the double. Prints how many were
handled (answered: expect 500, one per update) and the time to the last answer.

    .venv/bin/python benchmarks/duplicates.py [--backend sqlite|postgres] [-n 500]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from storage.db import make_engine, upgrade  # noqa: E402
from tests.harness import Harness  # noqa: E402

USERS = 50
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA = "huibao_bench_duplicates"


def _engine(backend: str, tmp: str) -> sa.engine.Engine:
    if backend == "sqlite":
        return make_engine(f"sqlite:///{tmp}/huibao.db")
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    return make_engine(f"{POSTGRES_URL}?options=-csearch_path%3D{SCHEMA}")


async def measure(backend: str, updates: int) -> tuple[int, int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = _engine(backend, tmp)
        upgrade(engine)
        harness = Harness(engine=engine, roster=ROOT / "examples" / "roster.toml")
        await harness.start()
        try:
            users = [harness.double.user(9000 + i, f"用户{i}") for i in range(USERS)]
            before = len(harness.double.calls_to("sendMessage"))
            started = time.monotonic()
            for i in range(updates):
                user = users[i % USERS]
                message = harness.double.user_message(user.id, user.state, {"text": "/whoami"})
                harness.double.queue_update({"message": message}, deliveries=2)
            await harness.double.settle(timeout=300)
            seconds = time.monotonic() - started
            handled = len(harness.double.calls_to("sendMessage")) - before
            return handled, 2 * updates, seconds
        finally:
            await harness.close()
            engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("-n", type=int, default=500, help="updates, each delivered twice")
    args = parser.parse_args()
    handled, delivered, seconds = asyncio.run(measure(args.backend, args.n))
    print(
        f"{args.backend}: {delivered} deliveries of {args.n} updates -> {handled} handled "
        f"(expected {args.n}) in {seconds:.2f} s ({delivered / seconds:.0f} deliveries/s)"
    )


if __name__ == "__main__":
    main()
