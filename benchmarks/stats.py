"""Benchmark /stats: a year of generated history, read (storage.stats.read_stats) and drawn
(bot.chart.draw), into a fresh SQLite database.

    .venv/bin/python benchmarks/stats.py
    .venv/bin/python benchmarks/stats.py --departments 20 --items 40 --out docs/stats-example.png
    .venv/bin/python benchmarks/stats.py --quick --json benchmarks/stats.json

The history goes in directly through storage's tables (bulk inserts: seconds, not the
minutes the chat would take): 12 months, the newest open and not yet due, each department
with `--items` parts a month, handed in on time, late or not at all after the department's
habit, some returned and handed in again. ``query ms`` is the best of three reads of the
range; ``draw ms`` the first drawing in the process (matplotlib loaded, the font found)
and ``warm ms`` the best of three more; ``png bytes`` the picture's size.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from bot.core.periods import Month, default_due  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    AuditEvent,
    Department,
    Period,
    PeriodItem,
    PeriodOwner,
    Submission,
    SubmissionRevision,
    WorkItem,
    table_of,
)
from storage.stats import read_stats  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
NAMES = [
    "办公室", "组织部", "宣传部", "统战部", "青年发展部", "学校部", "社会联络部",
    "权益部", "基层组织建设处", "志愿者工作指导中心", "少年部", "青少年宫管理中心",
    "网络新闻信息中心（新媒体中心）", "机关党委", "财务处", "人事处", "研究室",
    "青年创新创业服务中心", "国际交流处", "老干部处",
]  # fmt: skip
FIRST = Month(2015, 1)


def _months(count: int) -> list[Month]:
    found, month = [], FIRST
    for _ in range(count):
        found.append(month)
        month = month.next()
    return found


def make_history(engine: Engine, departments: int, items: int, months: int = 12) -> datetime:
    """`departments` × `items` parts a month for `months` months; the moment to read them
    at (the newest month open and before its due time)."""
    rng = random.Random(2015)
    habit = [rng.uniform(0.55, 0.98) for _ in range(departments)]  # chance of on time
    dept_rows = [
        {"id": d + 1, "code": f"d{d + 1}", "name": NAMES[d % len(NAMES)] + ("" if d < len(NAMES)
         else str(d)), "position": d, "active": True}
        for d in range(departments)
    ]  # fmt: skip
    item_rows = [
        {"id": i + 1, "code": f"w{i + 1}", "title": f"第{i + 1}项重点工作", "position": i,
         "active": True}
        for i in range(items)
    ]  # fmt: skip
    periods, kept, owners, subs, revs, events = [], [], [], [], [], []
    every = _months(months)
    newest_due = default_due(every[-1], ZONE)
    now = newest_due - timedelta(days=2)
    sub_id = 0
    for number, month in enumerate(every, 1):
        due = default_due(month, ZONE)
        is_open = number == len(every)
        periods.append({"id": number, "month": str(month), "due_at": due, "is_open": is_open})
        kept += [
            {"period_id": number, "work_item_id": i + 1, "title": f"第{i + 1}项重点工作",
             "position": i}
            for i in range(items)
        ]  # fmt: skip
        for d in range(departments):
            for i in range(items):
                owners.append(
                    {"period_id": number, "work_item_id": i + 1, "department_id": d + 1,
                     "department_name": dept_rows[d]["name"], "position": 0}
                )  # fmt: skip
                roll = rng.random()
                if is_open and roll > 0.5:
                    continue  # not handed in yet, not due yet
                if not is_open and roll > habit[d] + (1 - habit[d]) * 0.7:
                    continue  # never handed in
                sub_id += 1
                first = due - timedelta(days=rng.uniform(0.1, 5))
                if roll > habit[d]:
                    first = due + timedelta(days=rng.uniform(0.1, 4))
                returned = rng.random() < 0.08
                status = "returned" if returned and rng.random() < 0.3 else "submitted"
                last = first + timedelta(days=1) if returned else first
                subs.append(
                    {"id": sub_id, "period_id": number, "work_item_id": i + 1,
                     "department_id": d + 1, "progress": ["推进"], "plan": ["计划"],
                     "status": status, "version": 2 if returned else 1, "updated_at": last,
                     "submitted_at": last, "submitted_by": 1000 + d}
                )  # fmt: skip
                for version, at in enumerate([first, last] if returned else [first], 1):
                    revs.append(
                        {"submission_id": sub_id, "version": version, "progress": ["推进"],
                         "plan": ["计划"], "submitted_at": at, "submitted_by": 1000 + d}
                    )  # fmt: skip
                if returned:
                    events.append(
                        {"at": first + timedelta(hours=3), "actor_id": 1, "actor_name": "李明",
                         "action": "return", "subject": "", "detail": {"reason": "补充数据"},
                         "period_id": number, "submission_id": sub_id}
                    )  # fmt: skip
    with engine.begin() as db:
        for model, rows in (
            (Department, dept_rows),
            (WorkItem, item_rows),
            (Period, periods),
            (PeriodItem, kept),
            (PeriodOwner, owners),
            (Submission, subs),
            (SubmissionRevision, revs),
            (AuditEvent, events),
        ):
            if rows:
                db.execute(sa.insert(table_of(model)), rows)
    return now


def run(departments: int, items: int, out: Path | None) -> dict[str, Any]:
    from bot.chart import draw

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        start = time.perf_counter()
        now = make_history(engine, departments, items)
        made = time.perf_counter() - start
        queries = []
        for _ in range(3):
            start = time.perf_counter()
            with session_scope(engine) as db:
                stats = read_stats(db, None, now)
            queries.append(time.perf_counter() - start)
        engine.dispose()
    assert stats is not None
    start = time.perf_counter()
    png = draw(stats, "zh-CN")
    cold = time.perf_counter() - start
    warm = []
    for _ in range(3):
        start = time.perf_counter()
        draw(stats, "zh-CN")
        warm.append(time.perf_counter() - start)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(png)
    return {
        "departments": departments,
        "items": items,
        "parts": stats.office.total,
        "generate_s": round(made, 2),
        "query_ms": round(min(queries) * 1000, 1),
        "draw_ms": round(cold * 1000, 1),
        "warm_ms": round(min(warm) * 1000, 1),
        "png_bytes": len(png),
        "rate": round((stats.rate or 0) * 100, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument("--items", type=int, default=40, help="parts a department a month")
    parser.add_argument("--out", type=Path, help="write the PNG here")
    parser.add_argument("--quick", action="store_true", help="10 items a department (run.py)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.departments, 10 if args.quick else args.items, args.out)
    print(
        f"{result['departments']} departments x {result['items']} items x 12 months "
        f"({result['parts']} parts): query {result['query_ms']} ms, "
        f"draw {result['draw_ms']} ms (warm {result['warm_ms']} ms), "
        f"PNG {result['png_bytes']} bytes"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
