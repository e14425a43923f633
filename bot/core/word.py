"""Reading Word (.docx) files, as offices and departments write them: the one place that
opens a .docx and walks its content, and the monthly summary table read back from it
(``huibao import``: past months brought into huibao so the first month already has last
month's plan). A department's section file (bot.core.section) is read with the same
reader.

The reader is lenient, because offices' files differ from the ones huibao writes:

* the file is checked once (too large, an old .doc, encrypted, not a .docx, broken) and
  read with the standard library (zipfile, ElementTree: no external entity is expanded,
  and a part that declares entities is refused);
* the body is walked in order as paragraphs and tables, through content controls;
* table grids: gridSpan places a cell in each of its grid columns, gridBefore skips
  columns, and the lower parts of a vertically merged (vMerge) cell are marked as such;
  a table nested in a cell reads as the cell's lines, and is a table of its own too;
* columns are found by their header text (序号 / 重点工作 / 本月（份）推进情况 /
  下一步（推进）计划 and close variants, see ``_COLUMNS``); other columns are ignored;
* Word's automatic numbering (numPr: the number Word shows is not in the text) is written
  out as a typed marker, so the text splits into items with the rules of bot.core.items,
  like a pasted block.

The reader only needs where each automatically numbered item starts, not the number Word
would show, so it counts the numbered paragraphs of each cell (and of the body) itself: a
level-0 paragraph is the next item, a deeper one a sub-item, instead of evaluating
numbering.xml.

For the summary (``read_summary``): a 责任部门 column is kept as the row's
``departments``; a header row repeated on later pages is skipped; a table without a header
right after a summary table with as many columns goes on with it (a table cut in two); a
vertically merged 重点工作 cell makes its rows one item's; typed numbers, soft line breaks,
blank paragraphs and leading spaces or tabs are read as bot.core.items reads a paste.
"""

from __future__ import annotations

import difflib
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from xml.etree import ElementTree

from bot.core.items import clean_item, split_items
from bot.core.periods import Month
from bot.core.status import WorkItemView
from bot.core.texts import TerminalError

__all__ = [
    "Cell",
    "Column",
    "Docx",
    "DocxError",
    "Flaw",
    "Matching",
    "ReadRow",
    "ReadTable",
    "Row",
    "Table",
    "Unmatched",
    "WordError",
    "blocks",
    "distinct",
    "header",
    "match_items",
    "month_of",
    "normalise_title",
    "open_docx",
    "read_summary",
]

Element = ElementTree.Element
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, and an encrypted .docx
_ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")
_MAX_UNZIPPED = 40 * 1024 * 1024  # guards against a zip that unpacks to gigabytes
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    EOFError,
    KeyError,
    ValueError,
    RuntimeError,  # an encrypted zip member
    NotImplementedError,  # a compression method zipfile does not know
)


# ---------------------------------------------------------------------- opening


class Flaw(StrEnum):
    """Why bytes cannot be read as a .docx; each reader names it in its own words."""

    TOO_LARGE = "too_large"
    OLD_DOC = "old_doc"  # Word 97-2003 .doc (an OLE file)
    ENCRYPTED = "encrypted"  # Word keeps an encrypted .docx in an OLE file
    NOT_DOCX = "not_docx"  # not a zip at all
    BROKEN = "broken"


class DocxError(Exception):
    def __init__(self, flaw: Flaw, detail: str = "") -> None:
        super().__init__(detail or flaw.value)
        self.flaw, self.detail = flaw, detail or flaw.value


@dataclass(frozen=True)
class Docx:
    """The parts of a .docx the readers use."""

    body: Element
    styles: dict[str, int]  # paragraph styles that number their paragraphs: id → level
    properties: dict[str, str]  # core properties by local name: title, created, …


def open_docx(data: bytes, max_bytes: int) -> Docx:
    """The document, or a DocxError naming why the bytes are not a readable .docx."""
    if len(data) > max_bytes:
        raise DocxError(Flaw.TOO_LARGE)
    if data.startswith(_OLE_MAGIC):
        raise DocxError(Flaw.ENCRYPTED if _ENCRYPTED_MARK in data else Flaw.OLD_DOC)
    if not data.startswith(b"PK"):
        raise DocxError(Flaw.NOT_DOCX)
    parts = _parts(data, ("word/document.xml", "word/styles.xml", "docProps/core.xml"))
    if "word/document.xml" not in parts:
        raise DocxError(Flaw.BROKEN, "no word/document.xml")
    body = _xml(parts["word/document.xml"]).find(_W + "body")
    if body is None:
        raise DocxError(Flaw.BROKEN, "no document body")
    styles = _numbered_styles(_xml(parts["word/styles.xml"])) if "word/styles.xml" in parts else {}
    core = _xml(parts["docProps/core.xml"]) if "docProps/core.xml" in parts else None
    properties = {} if core is None else {_local(n.tag): n.text or "" for n in core}
    return Docx(body, styles, properties)


def _parts(data: bytes, names: tuple[str, ...]) -> dict[str, bytes]:
    """Those of the named zip members the file has."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > _MAX_UNZIPPED:
                raise DocxError(Flaw.BROKEN, "too large unpacked")
            present = set(archive.namelist())
            return {name: archive.read(name) for name in names if name in present}
    except _ZIP_ERRORS as exc:
        raise DocxError(Flaw.BROKEN, str(exc) or exc.__class__.__name__) from None


def _xml(data: bytes) -> Element:
    """An XML part; the standard library's parser expands no external entity, and expat
    refuses entity bombs."""
    if b"<!ENTITY" in data:
        raise DocxError(Flaw.BROKEN, "entity declarations")  # Word never writes them
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise DocxError(Flaw.BROKEN, str(exc)) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _val(element: Element | None, tag: str) -> str | None:
    found = element.find(_W + tag) if element is not None else None
    return None if found is None else found.get(_W + "val")


def _level_of(num_pr: Element) -> int | None:
    """The level a numPr numbers at; None when it switches numbering off (numId 0)."""
    if _val(num_pr, "numId") == "0":
        return None
    level = _val(num_pr, "ilvl") or "0"
    return int(level) if level.isdigit() else 0


def _numbered_styles(styles: Element) -> dict[str, int]:
    """Paragraph styles that number their paragraphs (List Number…): style id → level."""
    found: dict[str, int] = {}
    for style in styles.iter(_W + "style"):
        num_pr = style.find(f"{_W}pPr/{_W}numPr")
        level = _level_of(num_pr) if num_pr is not None else None
        if level is not None:
            found[style.get(_W + "styleId") or ""] = level
    return found


# ---------------------------------------------------------------------- content


class _Numbers:
    """Automatic numbering written out per cell (or body): level 0 counts 1, 2, …; a
    deeper level counts （1）, （2）, … under its item."""

    def __init__(self, styles: dict[str, int]) -> None:
        self.styles = styles
        self.top = 0
        self.inner = 0

    def marker(self, paragraph: Element) -> str:
        level = self._level(paragraph)
        if level is None:
            return ""
        if level == 0:
            self.top, self.inner = self.top + 1, 0
            return f"{self.top}."
        self.inner += 1
        return f"（{self.inner}）"

    def _level(self, paragraph: Element) -> int | None:
        ppr = paragraph.find(_W + "pPr")
        if ppr is None:
            return None
        num_pr = ppr.find(_W + "numPr")
        if num_pr is not None:
            return _level_of(num_pr)
        return self.styles.get(_val(ppr, "pStyle") or "")


_TEXT_TAGS = frozenset(_W + tag for tag in ("t", "tab", "br", "cr"))


def _paragraph_text(paragraph: Element) -> str:
    """A paragraph as it reads: its text, tabs and soft line breaks (not page breaks)."""
    chunks: list[str] = []
    for node in paragraph.iter():
        if node.tag not in _TEXT_TAGS:
            continue
        if node.tag == _W + "t":
            chunks.append(node.text or "")
        elif node.tag == _W + "tab":
            chunks.append("\t")
        elif node.get(_W + "type") in (None, "textWrapping"):
            chunks.append("\n")
    return "".join(chunks)


def _contents(parent: Element) -> Iterator[Element]:
    """Paragraphs and tables in order, through content controls (w:sdt)."""
    for child in parent:
        if child.tag in (_W + "p", _W + "tbl"):
            yield child
        elif child.tag == _W + "sdt":
            content = child.find(_W + "sdtContent")
            if content is not None:
                yield from _contents(content)


@dataclass(eq=False)
class Cell:
    """A table cell: its lines (blank paragraphs left out, leading spaces stripped,
    automatic numbers written out, a nested table's cells after), and whether it is the
    lower part of a vertically merged cell (whose text the cell above holds). A cell
    spanning grid columns is the same object in each."""

    lines: list[str]
    continued: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


Row = dict[int, Cell]  # cells by grid column


@dataclass(frozen=True)
class Table:
    rows: list[Row]
    inner: list[Table]  # the tables nested in its cells, in order

    @property
    def width(self) -> int:
        return max((max(row) + 1 for row in self.rows if row), default=0)

    def walk(self) -> Iterator[Table]:
        """This table, then the tables nested in it, in document order."""
        yield self
        for table in self.inner:
            yield from table.walk()


def distinct(row: Row) -> list[Cell]:
    """A row's cells once each, left to right (a spanning cell repeats in the grid)."""
    return list({id(cell): cell for _, cell in sorted(row.items())}.values())


def blocks(document: Docx) -> list[str | Table]:
    """The body in order: each paragraph's text (automatic numbers written out) or a
    table."""
    numbers = _Numbers(document.styles)
    out: list[str | Table] = []
    for node in _contents(document.body):
        if node.tag == _W + "tbl":
            out.append(_table(node, document.styles))
            continue
        text = _paragraph_text(node)
        out.append(numbers.marker(node) + text if text.strip() else text)
    return out


def _cell(tc: Element, styles: dict[str, int], inner: list[Table]) -> list[str]:
    numbers = _Numbers(styles)
    lines: list[str] = []
    for node in _contents(tc):
        if node.tag == _W + "tbl":
            table = _table(node, styles)
            inner.append(table)
            lines += [line for row in table.rows for cell in distinct(row) for line in cell.lines]
            continue
        text = _paragraph_text(node)
        if text.strip():
            lines.append(numbers.marker(node) + text.lstrip(" \t\u3000"))
    return lines


def _table(tbl: Element, styles: dict[str, int]) -> Table:
    """The table's rows with each cell in its grid columns."""
    rows: list[Row] = []
    inner: list[Table] = []
    for tr in tbl.findall(_W + "tr"):
        row: Row = {}
        before = _val(tr.find(_W + "trPr"), "gridBefore") or "0"
        column = int(before) if before.isdigit() else 0
        for tc in tr.findall(_W + "tc"):
            tc_pr = tc.find(_W + "tcPr")
            span_text = _val(tc_pr, "gridSpan") or "1"
            span = max(1, int(span_text)) if span_text.isdigit() else 1
            merge = tc_pr.find(_W + "vMerge") if tc_pr is not None else None
            continued = merge is not None and merge.get(_W + "val") in (None, "continue")
            cell = Cell(_cell(tc, styles, inner), continued)
            for at in range(column, column + span):
                row[at] = cell
            column += span
        rows.append(row)
    return Table(rows, inner)


# ---------------------------------------------------------------------- columns


class Column(StrEnum):
    NO = "no"
    TITLE = "title"
    PROGRESS = "progress"
    PLAN = "plan"
    DEPARTMENTS = "departments"


# Header text (normalised) → column; the first rule that holds wins, so 下一步推进计划 is
# the plan although it says 推进, and 本月推进情况 the progress although it says 月.
_COLUMNS: tuple[tuple[Column, tuple[str, ...]], ...] = (
    (Column.PLAN, ("下一步", "下步", "下月", "计划", "打算", "plan", "next")),
    (
        Column.PROGRESS,
        ("推进情况", "完成情况", "进展", "进度", "落实情况", "工作情况", "本月", "progress"),
    ),
    (Column.DEPARTMENTS, ("部门", "单位", "责任人")),
    (Column.NO, ("序号", "编号")),
    (Column.TITLE, ("重点工作", "工作内容", "事项", "项目", "任务", "item")),  # 工作任务, …
)
_NO_EXACT = {"序", "号", "no"}
_HEADER_MAX = 16  # a header names its column in a few characters


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


def header(row: Row) -> dict[Column, int] | None:
    """Column → grid column when the row is a header: every cell with text is a few
    characters and no number, among them the title and the progress or plan column."""
    found: dict[Column, int] = {}
    for cell in distinct(row):
        text = "".join(cell.lines)
        if not text.strip():
            continue
        key = normalise_title(text)
        if len(key) > _HEADER_MAX or key.isdigit():
            return None  # a data row: a long title or text, a row number
        column = _column_of(text)
        if column is not None:  # else a column of no interest (备注, 完成时限)
            found.setdefault(column, min(at for at, c in row.items() if c is cell))
    if Column.TITLE in found and (Column.PROGRESS in found or Column.PLAN in found):
        return found
    return None


# ---------------------------------------------------------------------- summary


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


_MAX_BYTES = 20 * 1024 * 1024
_FLAW_TEXTS = {
    Flaw.TOO_LARGE: "word_too_large",
    Flaw.OLD_DOC: "word_doc",
    Flaw.ENCRYPTED: "word_encrypted",
    Flaw.NOT_DOCX: "word_not_docx",
    Flaw.BROKEN: "word_broken",
}
_NOT_REPORTED = re.compile(r"^[（(]?未报送[）)]?$")
_MISSING_LINE = re.compile(r"^[（(].*未报送.*[）)]$")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_MONTH = re.compile(r"(\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月")
_CN_MONTHS = {c: i for i, c in enumerate("一二三四五六七八九十", 1)} | {"十一": 11, "十二": 12}


def _word_error(error: DocxError) -> WordError:
    name = _FLAW_TEXTS[error.flaw]
    if error.flaw is Flaw.TOO_LARGE:
        return WordError(name, limit=_MAX_BYTES // (1024 * 1024))
    if error.flaw is Flaw.BROKEN:
        return WordError(name, error=error.detail)
    return WordError(name)


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


class _Reader:
    def __init__(self) -> None:
        self.rows: list[ReadRow] = []
        self.columns: dict[Column, int] | None = None
        self.width = 0  # grid columns of the last summary table

    def table(self, table: Table) -> None:
        width = table.width
        columns = self.columns if self.columns is not None and width == self.width else None
        last: ReadRow | None = None
        for row in table.rows:
            found = header(row)
            if found is not None:
                columns, last = found, None
                self.columns, self.width = found, width
                continue
            if columns is None:
                continue
            last = self._row(row, columns, last)

    @staticmethod
    def _text(row: Row, at: int | None) -> tuple[list[str], bool]:
        if at is None or at not in row:
            return [], False
        cell = row[at]
        return ([], True) if cell.continued else (cell.lines, False)

    def _row(self, row: Row, columns: dict[Column, int], last: ReadRow | None) -> ReadRow | None:
        """Read one data row; a row whose 重点工作 cell is merged from above extends that
        item, and one cell across the title and the text columns is a heading of a group
        of items ("一、党的建设"), no item. Returns the row the next one may continue."""
        spans = {id(row[at]) for c, at in columns.items() if c is not Column.NO and at in row}
        if len(spans) == 1 and len(columns) > 2:
            return None
        title, merged = self._text(row, columns.get(Column.TITLE))
        progress, _ = self._text(row, columns.get(Column.PROGRESS))
        plan, _ = self._text(row, columns.get(Column.PLAN))
        departments, _ = self._text(row, columns.get(Column.DEPARTMENTS))
        if merged and last is not None:
            last.progress += _items(progress)
            last.plan += _items(plan)
            if departments and not last.departments:
                last.departments = " ".join(departments)
            return last
        if not (title or progress or plan):
            return last
        read = ReadRow(_join_title(title), _items(progress), _items(plan), " ".join(departments))
        self.rows.append(read)
        return read


def _title_paragraph(body: list[str | Table]) -> str:
    """The document's title: the first body paragraph that names a month, else the first
    one with text (a soft break inside it joins the two halves)."""
    texts = ["".join(block.split()) for block in body if isinstance(block, str)]
    texts = [t for t in texts if t]
    named = [t for t in texts if _MONTH.search(t)]
    return (named or texts or [""])[0]


def _year_hint(properties: dict[str, str]) -> int | None:
    for name in ("title", "subject", "keywords"):
        found = _YEAR.search(properties.get(name, ""))
        if found:
            return int(found.group(1))
    for name in ("created", "modified"):
        year = properties.get(name, "").strip()[:4]
        if year.isdigit():
            return int(year)
    return None


def read_summary(data: bytes) -> ReadTable:
    """The summary table(s) of a .docx: title, rows in document order, a year hint."""
    try:
        document = open_docx(data, _MAX_BYTES)
    except DocxError as exc:
        raise _word_error(exc) from None
    body = blocks(document)
    reader = _Reader()
    for block in body:
        if isinstance(block, Table):
            for table in block.walk():
                reader.table(table)
    if reader.columns is None:
        raise WordError("word_no_table")
    return ReadTable(_title_paragraph(body), reader.rows, _year_hint(document.properties))


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
