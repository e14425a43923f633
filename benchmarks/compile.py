"""Benchmark compiling the monthly summary table (bot.core.document.render_summary).

Each case runs in its own subprocess so that its peak memory (ru_maxrss, the whole
process: interpreter, libraries and data) is its own.

    .venv/bin/python benchmarks/compile.py            # all cases
    .venv/bin/python benchmarks/compile.py --quick    # 13 and 200 rows only
    .venv/bin/python benchmarks/compile.py --json benchmarks/results.json

Columns: ``cold s`` is the first render in a fresh process (template check and
Jinja compile included: what the bot's first request costs); ``warm s`` is the best
of three further renders in the same process. The baseline is the straightforward
python-docx way (``table.cell(r, c).add_paragraph(...)`` per item), which is
quadratic because every ``table.cell`` lookup walks the whole table.

Targets: 13 rows < 0.2 s; 2,000 rows x 5 items a cell < 2 s and < 300 MB;
at 200 rows >= 10x faster than the baseline.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.core.document import render_summary  # noqa: E402
from bot.core.summary import (  # noqa: E402
    Contribution,
    Summary,
    SummaryRow,
    cell_paragraphs,
    summary_title,
)
from bot.demo.sample_month import SAMPLE_ROWS, SAMPLE_TITLES  # noqa: E402

# (label, engine, rows, items per cell; 0 = the sample month as it is)
CASES: list[tuple[str, str, int, int]] = [
    ("sample", "docxtpl", 13, 0),
    ("200 rows", "docxtpl", 200, 5),
    ("2000 rows", "docxtpl", 2000, 5),
    ("baseline sample", "baseline", 13, 0),
    ("baseline 200 rows", "baseline", 200, 5),
]
QUICK = {"sample", "200 rows", "baseline sample", "baseline 200 rows"}
HEADERS = ("序号", "重点工作", "本月份推进情况", "下一步推进计划")


def make_summary(rows: int, items: int) -> Summary:
    """The sample month, or ``rows`` rows with ``items`` sample items in every cell."""
    if items == 0:
        out = [
            SummaryRow(t, [Contribution("办公室", *SAMPLE_ROWS[n])] if n in SAMPLE_ROWS else [])
            for n, t in enumerate(SAMPLE_TITLES[:rows], 1)
        ]
        return Summary(2015, 10, "共青团广东省委员会", out, draft=False)
    pool_progress = [i for p, _ in SAMPLE_ROWS.values() for i in p]
    pool_plan = [i for _, p in SAMPLE_ROWS.values() for i in p]
    out = []
    for r in range(rows):
        progress = [pool_progress[(r + k) % len(pool_progress)] for k in range(items)]
        plan = [pool_plan[(r + k) % len(pool_plan)] for k in range(items)]
        # Two departments per row, so merging and renumbering is exercised.
        half = items // 2
        out.append(
            SummaryRow(
                SAMPLE_TITLES[r % len(SAMPLE_TITLES)],
                [
                    Contribution("办公室", progress[:half], plan[:half]),
                    Contribution("组织部", progress[half:], plan[half:]),
                ],
            )
        )
    return Summary(2015, 10, "共青团广东省委员会", out, draft=True)


def render_baseline(summary: Summary) -> bytes:
    """The straightforward python-docx way: table.cell(r, c) per item (quadratic)."""
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    doc.add_paragraph(summary_title(summary)).runs[0].font.size = Pt(22)
    table = doc.add_table(rows=1, cols=4)
    for c, text in enumerate(HEADERS):
        table.cell(0, c).text = text
    for no, row in enumerate(summary.rows, 1):
        table.add_row()
        table.cell(no, 0).text = str(no)
        table.cell(no, 1).text = row.title
        for col, attr in ((2, "progress"), (3, "plan")):
            paragraphs = cell_paragraphs([i for c in row.contributions for i in getattr(c, attr)])
            for k, text in enumerate(paragraphs or ["（未报送）"]):
                if k == 0:
                    table.cell(no, col).paragraphs[0].text = text
                else:
                    table.cell(no, col).add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def child(engine: str, rows: int, items: int) -> dict[str, Any]:
    summary = make_summary(rows, items)
    render = render_summary if engine == "docxtpl" else render_baseline
    t0 = time.perf_counter()
    data = render(summary)
    cold = time.perf_counter() - t0
    warm = None
    if engine == "docxtpl" and rows <= 200:
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            render(summary)
            runs.append(time.perf_counter() - t0)
        warm = min(runs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    cells = sum(
        len(cell_paragraphs([i for c in r.contributions for i in c.progress])) for r in summary.rows
    ) / max(len(summary.rows), 1)
    return {
        "engine": engine,
        "rows": rows,
        "items_per_cell": items if items else "sample",
        "progress_paragraphs_per_row": round(cells, 2),
        "cold_s": round(cold, 4),
        "warm_s": None if warm is None else round(warm, 4),
        "peak_rss_mb": round(peak_mb, 1),
        "docx_kb": round(len(data) / 1024, 1),
    }


def run_case(engine: str, rows: int, items: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", engine, str(rows), str(items)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="only 13 and 200 rows")
    parser.add_argument("--json", metavar="PATH", type=Path, help="write the figures here")
    parser.add_argument(
        "--child", nargs=3, metavar=("ENGINE", "ROWS", "ITEMS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    if args.child:
        engine, rows, items = args.child
        print(json.dumps(child(engine, int(rows), int(items))))
        return 0

    results: list[dict[str, Any]] = []
    print(
        f"{'case':<20}{'rows':>6}{'items/cell':>12}{'cold s':>9}{'warm s':>9}"
        f"{'peak MB':>9}{'docx KB':>9}"
    )
    for label, engine, rows, items in CASES:
        if args.quick and label not in QUICK:
            continue
        r = run_case(engine, rows, items)
        r["case"] = label
        results.append(r)
        warm = "-" if r["warm_s"] is None else f"{r['warm_s']:.3f}"
        print(
            f"{label:<20}{r['rows']:>6}{r['items_per_cell']:>12}{r['cold_s']:>9.3f}"
            f"{warm:>9}{r['peak_rss_mb']:>9.1f}{r['docx_kb']:>9.1f}",
            flush=True,
        )

    by_case = {r["case"]: r for r in results}
    summary: dict[str, Any] = {"cases": results}
    if "200 rows" in by_case and "baseline 200 rows" in by_case:
        ratio = by_case["baseline 200 rows"]["cold_s"] / by_case["200 rows"]["cold_s"]
        summary["speedup_200_rows"] = round(ratio, 1)
        print(f"\nat 200 rows: baseline / docxtpl = {ratio:.1f}x (cold vs cold; target >= 10x)")
    checks = []
    if "sample" in by_case:
        checks.append(("13 rows < 0.2 s", by_case["sample"]["cold_s"] < 0.2))
    if "2000 rows" in by_case:
        big = by_case["2000 rows"]
        checks.append(("2000 rows < 2 s", big["cold_s"] < 2))
        checks.append(("2000 rows < 300 MB", big["peak_rss_mb"] < 300))
    if "speedup_200_rows" in summary:
        checks.append(("200 rows >= 10x baseline", summary["speedup_200_rows"] >= 10))
    for name, ok in checks:
        print(f"{'ok  ' if ok else 'MISS'} {name}")
    summary["targets"] = {name: ok for name, ok in checks}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
