"""/history: how long a page takes to read and lay out, and how many pages a long history
makes.

A SQLite database with the example roster; 组织部 handed in 团干部队伍建设 in MONTHS months
(closed), each month three progress items and one plan item of about 400 characters, one
month in five a pending newer version (the earlier, counted one is shown). Timed: the
storage read (storage.history.item_history) and the whole first and last page as the
handler builds it (handlers.history.page_screen: read, render, lay out), best of REPEAT.

    .venv/bin/python benchmarks/history.py
    .venv/bin/python benchmarks/history.py --months 240
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlmodel import Session, select  # noqa: E402

from bot.core.roster import load_roster  # noqa: E402
from bot.core.status import DepartmentView  # noqa: E402
from handlers.common import Who  # noqa: E402
from handlers.history import page_screen  # noqa: E402
from storage import history as store  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.models import Department, WorkItem  # noqa: E402
from storage.people import Identity  # noqa: E402
from storage.periods import close_period, open_period  # noqa: E402
from storage.roster import apply_roster  # noqa: E402
from storage.submissions import submission_for, submit  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
ITEM = "团干部队伍建设"
REPEAT = 5


def month_name(n: int) -> str:
    return f"{2000 + n // 12}-{n % 12 + 1:02d}"


def fill(session: Session, months: int) -> tuple[int, int]:
    from datetime import datetime

    item = session.exec(select(WorkItem).where(WorkItem.title == ITEM)).one()
    org = session.exec(select(Department).where(Department.code == "org")).one()
    for n in range(months):
        month = month_name(n)
        period = open_period(session, month, datetime(2000 + n // 12, n % 12 + 1, 28, tzinfo=ZONE))
        sub = submission_for(session, period, item.id or 0, org.id or 0)
        progress = [f"{month} 第{i}项：" + "推进团干部队伍建设，" * 40 for i in range(3)]
        submit(session, sub, progress=progress, plan=["继续" * 200], by=1, read_version=0)
        if n % 5 == 4:
            submit(session, sub, progress=["待审核"], plan=["待审核"], by=1, read_version=1,
                   needs_approval=True)  # fmt: skip
        close_period(session, period)
    return org.id or 0, item.id or 0


def best(work: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--months", type=int, default=120)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        with session_scope(engine) as db:
            apply_roster(db, load_roster(ROOT / "examples" / "roster.toml"), "Asia/Shanghai")
        with session_scope(engine) as db:
            org_id, item_id = fill(db, args.months)
        sender = Who(Identity(1, None, None, None), "zh-CN", "bench", ZONE, True)
        org = DepartmentView(org_id, "组织部", "org")
        with session_scope(engine) as db:
            months = store.item_history(db, org_id, item_id)
            read = best(lambda: store.item_history(db, org_id, item_id))
            first = best(lambda: page_screen(sender, db, org, item_id, 0))
            last = best(lambda: page_screen(sender, db, org, item_id, 10**6))
            shown = page_screen(sender, db, org, item_id, 0)
        pages = shown.text.splitlines()[0]
        print(f"months handed in: {args.months}, shown: {len(months)} ({pages})")
        print(f"storage read:     {read * 1000:8.1f} ms")
        print(f"first page:       {first * 1000:8.1f} ms  ({len(shown.text)} characters)")
        print(f"last page:        {last * 1000:8.1f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
