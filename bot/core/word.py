"""Read a monthly summary table back from Word, as offices have them: past months brought
into huibao (``huibao import``) so the first month already has last month's plan.

Offices' tables differ from the one huibao writes, so the reader is lenient:

* columns are found by their header text (序号 / 重点工作 / 本月（份）推进情况 /
  下一步（推进）计划 and close variants, see ``_COLUMNS``); a 责任部门 column is kept as
  the row's ``departments``; other columns are ignored;
* a header row repeated on later pages is skipped; a table without a header right after
  a summary table with as many columns goes on with it (a table cut in two);
* merged cells: gridSpan places a cell in its grid columns, and a vertically merged
  (vMerge) 重点工作 cell belongs to every row it spans: those rows are one item's;
* tables nested in a layout table are found, and several tables in one file are read;
* Word's automatic numbering (numPr: the number Word shows is not in the text) is written
  out as a typed marker, so the cell splits into items with the rules of bot.core.items,
  like a pasted block; typed numbers, soft line breaks, blank paragraphs and leading
  spaces or tabs are read as bot.core.items reads a paste.

The reader only needs where each automatically numbered item starts, not the number Word
would show, so it counts the numbered paragraphs of each cell itself (a level-0 paragraph
is the next item, a deeper one a sub-item) instead of evaluating numbering.xml.
"""

from __future__ import annotations

import difflib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import docx
from docx.oxml.ns import qn

from bot.core.items import clean_item, split_items
from bot.core.periods import Month
from bot.core.status import WorkItemView
from bot.core.texts import TerminalError

__all__ = [
    "Matching",
    "ReadRow",
    "ReadTable",
    "Unmatched",
    "WordError",
    "match_items",
    "month_of",
    "normalise_title",
    "read_summary",
]


class WordError(TerminalError):
    """The file cannot be read as a summary table (texts ``word_*`` in templates/cli/import)."""


@dataclass
class ReadRow:
    """One key work item's row as the file has it (rows of one merged item joined)."""

    title: str
    progress: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    departments: str = ""


@dataclass(frozen=True)
class ReadTable:
    title: str  # the title paragraph, e.g. "10月份重点工作推进情况汇总表"
    rows: list[ReadRow]
    year: int | None  # a hint from the file's properties


class Column(StrEnum):
    NO = "no"
    TITLE = "title"
    PROGRESS = "progress"
    PLAN = "plan"
    DEPARTMENTS = "departments"


# Header text (normalised) → column; the first rule that holds wins, so 下一步推进计划 is
# the plan although it says 推进, and 本月推进情况 the progress although it says 月.
_COLUMNS: tuple[tuple[Column, tuple[str, ...]], ...] = (
    (Column.PLAN, ("下一步", "下步", "计划", "打算")),
    (Column.PROGRESS, ("推进情况", "完成情况", "进展", "进度", "落实情况", "工作情况", "本月")),
    (Column.DEPARTMENTS, ("部门", "单位", "责任人")),
    (Column.NO, ("序号", "编号")),
    (Column.TITLE, ("重点工作", "工作任务", "重点任务", "工作事项", "工作项目", "项目", "事项")),
)
_NO_EXACT = {"序", "号", "no"}
_HEADER_MAX = 16  # a header names its column in a few characters
_NOT_REPORTED = re.compile(r"^[（(]?未报送[）)]?$")
_MISSING_LINE = re.compile(r"^[（(].*未报送.*[）)]$")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_MONTH = re.compile(r"(\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月")
_CN_MONTHS = {c: i for i, c in enumerate("一二三四五六七八九十", 1)} | {"十一": 11, "十二": 12}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")
_MAX_BYTES = 20 * 1024 * 1024


# ---------------------------------------------------------------------- opening


def _open(data: bytes) -> Any:
    """The python-docx document, or a WordError naming why it is not one."""
    if len(data) > _MAX_BYTES:
        raise WordError("word_too_large", limit=_MAX_BYTES // (1024 * 1024))
    if data.startswith(_OLE_MAGIC):
        # An encrypted .docx is an OLE file too, with an EncryptionInfo stream.
        raise WordError("word_encrypted" if _ENCRYPTED_MARK in data else "word_doc")
    if not data.startswith(b"PK"):
        raise WordError("word_not_docx")
    try:
        return docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise WordError("word_broken", error=str(exc) or exc.__class__.__name__) from None
    except Exception as exc:  # lxml's XMLSyntaxError, a content type python-docx refuses
        raise WordError("word_broken", error=str(exc) or exc.__class__.__name__) from None


# ---------------------------------------------------------------------- cells


def normalise_title(text: str) -> str:
    """A title as matching compares it: NFKC, no white space, punctuation or symbols,
    lower case, without a leading number ("1.团的制度建设")."""
    text = clean_item(" ".join(text.split())) if text.strip() else ""
    text = unicodedata.normalize("NFKC", text)
    kept = (c for c in text if unicodedata.category(c)[0] not in "ZPSC")
    return "".join(kept).lower()


def _column_of(text: str) -> Column | None:
    key = normalise_title(text)
    if not key:
        return None
    if key in _NO_EXACT:
        return Column.NO
    for column, words in _COLUMNS:
        if any(word in key for word in words):
            return column
    return None


class _Numbers:
    """Automatic numbering written out per cell: level 0 counts 1, 2, …; a deeper level
    counts （1）, （2）, … under its item."""

    def __init__(self, styles: dict[str, int]) -> None:
        self.styles = styles
        self.top = 0
        self.inner = 0

    def marker(self, p: Any) -> str:
        level = self._level(p)
        if level is None:
            return ""
        if level == 0:
            self.top, self.inner = self.top + 1, 0
            return f"{self.top}."
        self.inner += 1
        return f"（{self.inner}）"

    def _level(self, p: Any) -> int | None:
        ppr = p.pPr
        num_pr = ppr.find(qn("w:numPr")) if ppr is not None else None
        if num_pr is not None:
            num_id = num_pr.find(qn("w:numId"))
            if num_id is not None and num_id.get(qn("w:val")) == "0":
                return None  # numbering switched off for this paragraph
            ilvl = num_pr.find(qn("w:ilvl"))
            return int(ilvl.get(qn("w:val"), "0")) if ilvl is not None else 0
        style = ppr.find(qn("w:pStyle")) if ppr is not None else None
        if style is not None:
            return self.styles.get(style.get(qn("w:val"), ""))
        return None


def _numbered_styles(document: Any) -> dict[str, int]:
    """Paragraph styles that number their paragraphs (List Number…): style id → level."""
    found: dict[str, int] = {}
    for style in document.styles.element.iter(qn("w:style")):
        ppr = style.find(qn("w:pPr"))
        num_pr = ppr.find(qn("w:numPr")) if ppr is not None else None
        if num_pr is None:
            continue
        num_id = num_pr.find(qn("w:numId"))
        if num_id is not None and num_id.get(qn("w:val")) == "0":
            continue
        ilvl = num_pr.find(qn("w:ilvl"))
        found[style.get(qn("w:styleId"), "")] = (
            int(ilvl.get(qn("w:val"), "0")) if ilvl is not None else 0
        )
    return found


def _cell_lines(tc: Any, styles: dict[str, int]) -> list[str]:
    """The cell's own paragraphs (not those of a table nested in it), automatic numbers
    written out, soft breaks as line ends."""
    numbers = _Numbers(styles)
    lines: list[str] = []
    for p in tc.iterchildren(qn("w:p")):
        text = p.text
        if not text.strip():
            continue
        lines.append(numbers.marker(p) + text.lstrip(" \t\u3000"))
    return lines


def _items(lines: list[str]) -> list[str]:
    text = "\n".join(lines)
    if _NOT_REPORTED.match("".join(text.split())):
        return []
    return split_items(text)


def _join_title(lines: Sequence[str]) -> str:
    """A title cell's lines as one title: a soft break inside Chinese text joins without a
    space; a trailing （未报送：…） line is the document's note, not the title."""
    kept = [" ".join(line.split()) for par in lines for line in par.splitlines()]
    kept = [line for line in kept if line and not _MISSING_LINE.match(line)]
    out = ""
    for line in kept:
        if out and out[-1].isascii() and line[0].isascii():
            out += " "
        out += line
    return clean_item(out) if out else ""


# ---------------------------------------------------------------------- tables


@dataclass(frozen=True)
class _Cell:
    tc: Any
    continued: bool  # a vMerge continuation: the cell above holds the text


def _grid(tbl: Any) -> Iterator[tuple[Any, dict[int, _Cell]]]:
    """Each row with its cells by grid column (a gridSpan cell in each of its columns)."""
    for tr in tbl.iterchildren(qn("w:tr")):
        cells: dict[int, _Cell] = {}
        column = 0
        tr_pr = tr.find(qn("w:trPr"))
        before = tr_pr.find(qn("w:gridBefore")) if tr_pr is not None else None
        if before is not None:
            column += int(before.get(qn("w:val"), "0"))
        for tc in tr.iterchildren(qn("w:tc")):
            tc_pr = tc.find(qn("w:tcPr"))
            span, continued = 1, False
            if tc_pr is not None:
                grid_span = tc_pr.find(qn("w:gridSpan"))
                if grid_span is not None:
                    span = max(1, int(grid_span.get(qn("w:val"), "1")))
                v_merge = tc_pr.find(qn("w:vMerge"))
                if v_merge is not None:
                    continued = v_merge.get(qn("w:val"), "continue") != "restart"
            for at in range(column, column + span):
                cells[at] = _Cell(tc, continued)
            column += span
        yield tr, cells


def _header(cells: dict[int, _Cell]) -> dict[Column, int] | None:
    """Column → grid column when the row is a summary header: every cell with text is a
    few characters and no number, among them the title and the progress or plan column."""
    found: dict[Column, int] = {}
    seen: set[int] = set()
    for at, cell in sorted(cells.items()):
        if id(cell.tc) in seen:
            continue
        seen.add(id(cell.tc))
        text = "".join(p.text for p in cell.tc.iter(qn("w:p")))
        if not text.strip():
            continue
        key = normalise_title(text)
        if len(key) > _HEADER_MAX or key.isdigit():
            return None  # a data row: a long title or text, a row number
        column = _column_of(text)
        if column is not None:  # else a column of no interest (备注, 完成时限)
            found.setdefault(column, at)
    if Column.TITLE in found and (Column.PROGRESS in found or Column.PLAN in found):
        return found
    return None


class _Reader:
    def __init__(self, styles: dict[str, int]) -> None:
        self.styles = styles
        self.rows: list[ReadRow] = []
        self.columns: dict[Column, int] | None = None
        self.width = 0  # grid columns of the last summary table

    def table(self, tbl: Any) -> None:
        grid = list(_grid(tbl))
        width = max((max(cells) + 1 for _, cells in grid if cells), default=0)
        columns = self.columns if self.columns is not None and width == self.width else None
        last: ReadRow | None = None
        for _, cells in grid:
            header = _header(cells)
            if header is not None:
                columns, last = header, None
                self.columns, self.width = header, width
                continue
            if columns is None:
                continue
            last = self._row(cells, columns, last)

    def _text(self, cells: dict[int, _Cell], at: int | None) -> tuple[list[str], bool]:
        if at is None or at not in cells:
            return [], False
        cell = cells[at]
        if cell.continued:
            return [], True
        return _cell_lines(cell.tc, self.styles), False

    def _row(
        self, cells: dict[int, _Cell], columns: dict[Column, int], last: ReadRow | None
    ) -> ReadRow | None:
        """Read one data row; a row whose 重点工作 cell is merged from above extends that
        item, and one cell across the title and the text columns is a heading of a group
        of items ("一、党的建设"), no item. Returns the row the next one may continue."""
        spans = {
            id(cells[at].tc) for c, at in columns.items() if c is not Column.NO and at in cells
        }
        if len(spans) == 1 and len(columns) > 2:
            return None
        title, merged = self._text(cells, columns.get(Column.TITLE))
        progress, _ = self._text(cells, columns.get(Column.PROGRESS))
        plan, _ = self._text(cells, columns.get(Column.PLAN))
        departments, _ = self._text(cells, columns.get(Column.DEPARTMENTS))
        if merged and last is not None:
            last.progress += _items(progress)
            last.plan += _items(plan)
            if departments and not last.departments:
                last.departments = " ".join(departments)
            return last
        if not (title or progress or plan):
            return last
        row = ReadRow(_join_title(title), _items(progress), _items(plan), " ".join(departments))
        self.rows.append(row)
        return row


def _title_paragraph(document: Any) -> str:
    """The document's title: the first body paragraph that names a month, else the first
    one with text (a soft break inside it joins the two halves)."""
    texts = ["".join(p.text.split()) for p in document.element.body.iterchildren(qn("w:p"))]
    texts = [t for t in texts if t]
    named = [t for t in texts if _MONTH.search(t)]
    return (named or texts or [""])[0]


def _year_hint(document: Any) -> int | None:
    props = document.core_properties
    for text in (props.title, props.subject, props.keywords):
        found = _YEAR.search(text or "")
        if found:
            return int(found.group(1))
    for moment in (props.created, props.modified):
        if moment is not None:
            return int(moment.year)
    return None


def read_summary(data: bytes) -> ReadTable:
    """The summary table(s) of a .docx: title, rows in document order, a year hint."""
    document = _open(data)
    reader = _Reader(_numbered_styles(document))
    for tbl in document.element.body.iter(qn("w:tbl")):
        reader.table(tbl)
    if reader.columns is None:
        raise WordError("word_no_table")
    return ReadTable(_title_paragraph(document), reader.rows, _year_hint(document))


# ---------------------------------------------------------------------- month


def month_of(table: ReadTable, year: int | None = None) -> Month:
    """The month the table reports: "10月份…" in its title, the year given, else one in the
    title ("2015年10月…"), else the file's hint."""
    found = _MONTH.search(table.title)
    if found is None:
        raise WordError("word_no_month", title=table.title)
    raw = found.group(1)
    month = int(raw) if raw.isdigit() else _CN_MONTHS.get(raw, 0)
    in_title = _YEAR.search(table.title)
    chosen = year or (int(in_title.group(1)) if in_title else table.year)
    if not 1 <= month <= 12 or chosen is None:
        raise WordError("word_no_month", title=table.title)
    return Month(chosen, month)


# ---------------------------------------------------------------------- matching


class Why(StrEnum):
    """Why a row matched no key work item (texts ``import_why_<value>``)."""

    NO_TITLE = "no_title"
    UNKNOWN = "unknown"
    REPEATED = "repeated"  # a row before it matched the same item
    EMPTY = "empty"  # the row reports nothing
    NO_DEPARTMENT = "no_department"  # the item has no department to report it


@dataclass(frozen=True)
class Unmatched:
    row: ReadRow
    why: Why
    closest: str = ""  # the roster title it resembles, if any


@dataclass(frozen=True)
class Matching:
    matched: list[tuple[ReadRow, WorkItemView]]
    unmatched: list[Unmatched]


def match_items(rows: Sequence[ReadRow], items: Sequence[WorkItemView]) -> Matching:
    """Rows to key work items by title, tolerant of spacing, punctuation, line breaks and
    a typed number before the title; the first row of an item wins."""
    by_key = {normalise_title(item.title): item for item in items}
    matched: list[tuple[ReadRow, WorkItemView]] = []
    unmatched: list[Unmatched] = []
    taken: set[int] = set()
    for row in rows:
        key = normalise_title(row.title)
        item = by_key.get(key)
        if not key:
            unmatched.append(Unmatched(row, Why.NO_TITLE))
        elif item is None:
            close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.6)
            unmatched.append(Unmatched(row, Why.UNKNOWN, by_key[close[0]].title if close else ""))
        elif item.id in taken:
            unmatched.append(Unmatched(row, Why.REPEATED, item.title))
        elif not (row.progress or row.plan):
            unmatched.append(Unmatched(row, Why.EMPTY, item.title))
        else:
            taken.add(item.id)
            matched.append((row, item))
    return Matching(matched, unmatched)
