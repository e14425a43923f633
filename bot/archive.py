"""`huibao export`, `import-archive` and `db copy`: the office's data out of one database
and into another, in open formats, and proof that every month compiles the same after.

An export folder holds `huibao-archive.json` (every table, every row: what
`import-archive` reads back), `reports.csv` (every submitted revision with names, for a
spreadsheet), `csv/` (one file per table as stored) and `documents/` (every month's
compiled summary table as .docx). The tables, the CSV and
the documents are read in one transaction: one moment of the database.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.core.periods import DEFAULT_ZONE
from bot.core.summary import Summary, Tally, summary_filename
from bot.core.texts import terminal
from storage.archive import (
    ArchiveError,
    Table,
    Tables,
    archive_json,
    load_archive,
    read_tables,
    snapshot,
    to_json,
    write_tables,
)
from storage.periods import all_periods
from storage.summary import build_summary

ARCHIVE = "huibao-archive.json"
REPORTS = "reports.csv"  # every submitted revision with names, for a spreadsheet

Compiled = dict[str, tuple[Summary, Tally]]  # month → what /compile would put in it


@dataclass(frozen=True)
class Exported:
    folder: Path
    counts: dict[str, int]
    documents: int


@dataclass(frozen=True)
class Copied:
    counts: dict[str, int]
    months: int  # compiled on both sides, identical


def export(engine: Engine, folder: Path) -> Exported:
    """Write the office's data into `folder`, which must be new or empty."""
    from bot.core.document import render_summary

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise ArchiveError("export_folder_not_empty", path=str(folder))
    with snapshot(engine) as connection:
        data = read_tables(connection)
        with Session(bind=connection) as session:
            summaries = compiled(session)
    try:
        (folder / "csv").mkdir(parents=True, exist_ok=True)
        (folder / "documents").mkdir(exist_ok=True)
        (folder / ARCHIVE).write_text(archive_json(data), encoding="utf-8")
        for table in data.tables:
            _write_csv(folder / "csv" / f"{table.name}.csv", table)
        _write_rows(folder / REPORTS, _report_header(), _report_rows(data))
        for summary, _ in summaries.values():
            document = folder / "documents" / summary_filename(summary)
            document.write_bytes(render_summary(summary))
    except OSError as exc:
        raise ArchiveError("cannot_write_export", path=str(folder), error=str(exc)) from None
    return Exported(folder, data.counts(), len(summaries))


def import_archive(engine: Engine, source: Path) -> dict[str, int]:
    """Load an export into an empty database; the rows written, per table."""
    return write_tables(engine, load_archive(source / ARCHIVE if source.is_dir() else source))


def copy(source: Engine, target: Engine) -> Copied:
    """Every row of `source` into the empty `target`, then every month compiled on both:
    a difference is an error (the target is left for inspection, the source untouched)."""
    with snapshot(source) as connection:
        data = read_tables(connection)
        with Session(bind=connection) as session:
            before = compiled(session)
    counts = write_tables(target, data)
    with Session(target) as session:
        after = compiled(session)
    differing = sorted(month for month in before.keys() | after.keys()
                       if before.get(month) != after.get(month))  # fmt: skip
    if differing:
        raise ArchiveError("copy_differs", months=differing)
    return Copied(counts, len(before))


def compiled(session: Session) -> Compiled:
    """Every month's summary as `/compile` builds it now."""
    return {period.month: build_summary(session, period) for period in all_periods(session)}


def _write_csv(path: Path, table: Table) -> None:
    """One table as it is stored: lists and dicts as JSON text, times in UTC."""
    _write_rows(path, list(table.columns), ([_cell(value) for value in row] for row in table.rows))


def _write_rows(path: Path, header: list[str], rows: Iterable[list[Any]]) -> None:
    """UTF-8 with a BOM, so Excel reads the Chinese."""
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


def _report_header() -> list[str]:
    return terminal("reports_csv_header").split("|")


def _report_rows(data: Tables) -> list[list[Any]]:
    """Every submitted revision, oldest month first: the month, the department and the
    key work item by name (as the month had it), who sent it and when (local time)."""
    table = {
        t.name: [dict(zip(t.columns, row, strict=True)) for row in t.rows] for t in data.tables
    }
    zone = ZoneInfo(next((o["timezone"] for o in table["organisation"]), DEFAULT_ZONE))
    months = {p["id"]: p["month"] for p in table["period"]}
    departments = {d["id"]: d["name"] for d in table["department"]}
    titles = {w["id"]: w["title"] for w in table["work_item"]}
    titles_then = {(i["period_id"], i["work_item_id"]): i["title"] for i in table["period_item"]}
    people = {c["telegram_id"]: c["name"] for c in table["coordinator"]}
    people.update({p["telegram_id"]: p["name"] for p in table["liaison"]})
    submissions = {s["id"]: s for s in table["submission"]}
    rows = []
    for revision in table["submission_revision"]:
        submission = submissions[revision["submission_id"]]
        period, item = submission["period_id"], submission["work_item_id"]
        by = revision["submitted_by"]
        rows.append([
            months.get(period, ""),
            departments.get(submission["department_id"], ""),
            titles_then.get((period, item), titles.get(item, "")),
            revision["version"],
            _local(revision["submitted_at"], zone),
            f"{people.get(by, '')} ({by})" if by is not None else "",
            "\n".join(revision["progress"]),
            "\n".join(revision["plan"]),
        ])  # fmt: skip
    return sorted(rows, key=lambda row: (row[0], row[1], row[2], row[3]))


def _local(moment: datetime, zone: ZoneInfo) -> str:
    """A stored time (naive UTC) as the office reads it."""
    return moment.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _cell(value: Any) -> Any:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return to_json(value)
