"""Benchmark moving an office's years: `huibao db backup`, `export`, `import-archive` and
`db copy` (SQLite to PostgreSQL) on generated history, each timed once.

    .venv/bin/python benchmarks/archive.py                    # 20 departments, 40 items, 60 months
    .venv/bin/python benchmarks/archive.py --months 12 --json benchmarks/archive.json

The history is benchmarks/stats.py's (bulk inserts into a fresh SQLite file): `--months`
months of `--departments` x `--items` parts, some returned and handed in again. Export
includes every month's .docx; copy includes compiling every month on both databases and
comparing. PostgreSQL is the local server (TEST_POSTGRES_URL, else
postgresql://postgres@127.0.0.1:5432/test), in a database of the benchmark's own; without
it the copy is skipped and says why.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks.stats import make_history  # noqa: E402
from bot.archive import copy, export, import_archive  # noqa: E402
from storage.backup import backup  # noqa: E402
from storage.db import make_engine, upgrade  # noqa: E402

T = TypeVar("T")
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BENCH_DATABASE = "huibao_bench_archive"


def timed(work: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = work()
    return result, round(time.perf_counter() - start, 2)


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def postgres_target() -> tuple[str | None, str]:
    """A new, empty database on the local server, or None and why not."""
    base = POSTGRES.split("?")[0].rsplit("/", 1)[0]
    try:
        admin = sa.create_engine(
            "postgresql+psycopg://" + POSTGRES.split("://", 1)[1].split("?")[0],
            isolation_level="AUTOCOMMIT",
        )
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)"))
            connection.execute(sa.text(f"CREATE DATABASE {BENCH_DATABASE}"))
        admin.dispose()
    except sa.exc.SQLAlchemyError as exc:
        return None, f"PostgreSQL not reachable ({type(exc).__name__})"
    return f"{base}/{BENCH_DATABASE}", ""


def run(departments: int, items: int, months: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        where = Path(folder)
        source = make_engine(f"sqlite:///{where / 'office.db'}")
        upgrade(source)
        _, generate_s = timed(lambda: make_history(source, departments, items, months))
        _, backup_s = timed(lambda: backup(source, where / "saved.db"))
        exported, export_s = timed(lambda: export(source, where / "export"))
        imported = make_engine(f"sqlite:///{where / 'imported.db'}")
        _, import_s = timed(lambda: import_archive(imported, where / "export"))
        imported.dispose()
        result: dict[str, Any] = {
            "departments": departments,
            "items": items,
            "months": months,
            "rows": sum(exported.counts.values()),
            "generate_s": generate_s,
            "sqlite_bytes": sum(size(p) for p in where.glob("office.db*")),
            "backup_s": backup_s,
            "export_s": export_s,
            "export_bytes": size(where / "export"),
            "json_bytes": size(where / "export" / "huibao-archive.json"),
            "documents": exported.documents,
            "import_s": import_s,
        }
        url, why = postgres_target()
        if url is None:
            result["copy"] = f"skipped: {why}"
        else:
            target = make_engine(url)
            copied, copy_s = timed(lambda: copy(source, target))
            target.dispose()
            result.update(copy_s=copy_s, copy_months=copied.months)
        source.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument("--items", type=int, default=40, help="parts a department a month")
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args.departments, args.items, args.months)
    for key, value in result.items():
        print(f"{key:>14}: {value}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
