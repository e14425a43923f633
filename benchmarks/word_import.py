"""Benchmark importing a past month's summary table (huibao import): reading a 200-row
.docx (bot.core.word.read_summary) and storing it (storage.imports.import_month) into a
fresh SQLite database whose roster has the 200 key work items.

    .venv/bin/python benchmarks/word_import.py
    .venv/bin/python benchmarks/word_import.py --rows 2000 --json benchmarks/word_import.json

The table is one huibao compiles (5 items a cell, two departments a row), so every row
matches. ``read s`` is the best of three reads; ``import s`` is one import into an empty
month (a second import, which finds everything unchanged, is ``again s``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.core.document import render_summary  # noqa: E402
from bot.core.periods import Month  # noqa: E402
from bot.core.summary import Contribution, Summary, SummaryRow  # noqa: E402
from bot.core.word import read_summary  # noqa: E402
from bot.demo.sample_month import SAMPLE_ROWS  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.imports import import_month  # noqa: E402
from storage.models import Department, WorkItem, WorkItemDepartment  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")


def make_summary(rows: int, items: int) -> Summary:
    progress_pool = [i for p, _ in SAMPLE_ROWS.values() for i in p]
    plan_pool = [i for _, p in SAMPLE_ROWS.values() for i in p]
    out = []
    for r in range(rows):
        progress = [progress_pool[(r + k) % len(progress_pool)] for k in range(items)]
        plan = [plan_pool[(r + k) % len(plan_pool)] for k in range(items)]
        out.append(SummaryRow(f"第{r + 1}项重点工作", [Contribution("办公室", progress, plan)]))
    return Summary(2015, 10, "共青团广东省委员会", out, draft=False)


def run(rows: int, items: int) -> dict[str, Any]:
    data = render_summary(make_summary(rows, items))
    reads = []
    for _ in range(3):
        start = time.perf_counter()
        table = read_summary(data)
        reads.append(time.perf_counter() - start)
    assert len(table.rows) == rows
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)
        with session_scope(engine) as db:
            office = Department(code="office", name="办公室")
            db.add(office)
            db.flush()
            for n in range(rows):
                item = WorkItem(title=f"第{n + 1}项重点工作", position=n)
                db.add(item)
                db.flush()
                db.add(WorkItemDepartment(work_item_id=item.id or 0, department_id=office.id or 0))
        timings = []
        for _ in range(2):
            start = time.perf_counter()
            with session_scope(engine) as db:
                outcome = import_month(db, table, Month(2015, 10), "bench.docx", ZONE)
            timings.append(time.perf_counter() - start)
        engine.dispose()
    assert len(outcome.rows) == rows and outcome.unchanged == rows
    return {
        "rows": rows,
        "items_per_cell": items,
        "docx_kb": round(len(data) / 1024, 1),
        "read_s": round(min(reads), 3),
        "import_s": round(timings[0], 3),
        "again_s": round(timings[1], 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--items", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="the same 200 rows (for run.py)")
    parser.add_argument("--json", metavar="PATH", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    result = run(args.rows, args.items)
    print(f"{'rows':>6}{'items/cell':>12}{'docx KB':>9}{'read s':>9}{'import s':>10}{'again s':>9}")
    print(
        f"{result['rows']:>6}{result['items_per_cell']:>12}{result['docx_kb']:>9.1f}"
        f"{result['read_s']:>9.3f}{result['import_s']:>10.3f}{result['again_s']:>9.3f}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
