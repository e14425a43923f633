"""A department's section sent as a file (.docx or .txt): which of its key work items it
reports on, and each item's two parts, as items ready for a draft.

Pure core: no Telegram, no database. The .docx is read by bot.core.word, the one Word
reader (file checks, body order, table grids, header columns, automatic numbering written
out as typed markers, which the rules of ``bot.core.items`` split and strip like typed
numbering); this module keeps only what is a liaison's section's.

A section comes in one of two shapes, or both:

* a **table** like the summary's: columns found by their header text as the summary's
  are (bot.core.word.header); header rows repeated on later pages are skipped; a row's
  title cell names the item;
* **headings**: the item's title (possibly numbered ``一、`` ``1.`` ``（一）``), then the
  part headings ``bot.core.items.split_sections`` knows (``一、本月份推进情况``
  ``【下月计划】`` …), each followed by the items.

Titles are matched to the department's key work items by a key that ignores numbering,
spacing, punctuation and line breaks. What cannot be placed (text before the first item,
a title the department does not report on, with what follows it) is returned as it is,
for the liaison to see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.draft import Rejection, accept
from bot.core.items import Section, split_sections
from bot.core.word import (
    Column,
    DocxError,
    Flaw,
    Row,
    Table,
    blocks,
    distinct,
    header,
    normalise_title,
    open_docx,
)

__all__ = [
    "MAX_BYTES",
    "Found",
    "Problem",
    "SectionError",
    "SectionFile",
    "problem_of_name",
    "read_section",
    "title_key",
]

MAX_BYTES = 2 * 1024 * 1024  # a section is a few pages; anything larger is not one


class Problem(StrEnum):
    """Why a file cannot be read; each has its own polite answer."""

    NOT_DOCUMENT = "not_document"  # .pdf, .jpg, …
    TOO_LARGE = "too_large"
    OLD_DOC = "old_doc"  # Word 97-2003 .doc: save it as .docx
    ENCRYPTED = "encrypted"
    BROKEN = "broken"
    NOT_TEXT = "not_text"  # a .txt that is not text in a known encoding


class SectionError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class Found:
    """A key work item the file reports on: its title as in the roster, its two parts
    (items without numbering; empty when the file has none), or why a part cannot be a
    draft's (too many or too long items)."""

    title: str
    progress: list[str]
    plan: list[str]
    rejection: Rejection | None = None


@dataclass
class SectionFile:
    found: list[Found] = field(default_factory=list)  # in the file's order
    unplaced: list[str] = field(default_factory=list)  # paragraphs not placed


_SUFFIXES = {".docx": None, ".txt": None, ".doc": Problem.OLD_DOC}


def _suffix(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot >= 0 else ""


def problem_of_name(filename: str, size: int) -> Problem | None:
    """What is wrong with a file before it is downloaded, judged by its name and size."""
    suffix = _suffix(filename)
    if suffix not in _SUFFIXES:
        return Problem.NOT_DOCUMENT
    if _SUFFIXES[suffix] is not None:
        return _SUFFIXES[suffix]
    return Problem.TOO_LARGE if size > MAX_BYTES else None


# --- matching titles ------------------------------------------------------------------


# What two spellings of a title share: the summary import's rule (bot.core.word).
title_key = normalise_title


class _Titles:
    def __init__(self, titles: list[str]) -> None:
        self._by_key = {title_key(t): t for t in titles if title_key(t)}

    def match(self, text: str) -> str | None:
        return self._by_key.get(title_key(text)) if len(text) < 200 else None


# --- reading the file -----------------------------------------------------------------


_Block = str | Table  # a paragraph, or a table


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise SectionError(Problem.NOT_TEXT)


# A file named .docx that is an OLE file is an encrypted .docx (a .doc is refused by name).
_PROBLEMS = {
    Flaw.TOO_LARGE: Problem.TOO_LARGE,
    Flaw.OLD_DOC: Problem.ENCRYPTED,
    Flaw.ENCRYPTED: Problem.ENCRYPTED,
    Flaw.NOT_DOCX: Problem.BROKEN,
    Flaw.BROKEN: Problem.BROKEN,
}


def _docx_blocks(data: bytes) -> list[_Block]:
    try:
        return blocks(open_docx(data, MAX_BYTES))
    except DocxError as exc:
        raise SectionError(_PROBLEMS[exc.flaw]) from exc


# --- tables ---------------------------------------------------------------------------


class _Collector:
    """Lines for each (title, part), in the file's order, and what was not placed."""

    def __init__(self) -> None:
        self.parts: dict[str, dict[Section, list[str]]] = {}
        self.unplaced: list[str] = []

    def add(self, title: str, section: Section, text: str) -> None:
        self.parts.setdefault(title, {}).setdefault(section, []).append(text)

    def lose(self, text: str) -> None:
        if text.strip():
            self.unplaced.append(text.strip())


def _table_rows(table: Table, titles: _Titles, into: _Collector) -> bool:
    """A table with a header: each row is one item's; False when it has no header."""
    columns = next((c for c in map(header, table.rows) if c is not None), None)
    if columns is None:
        return False
    title_at = columns[Column.TITLE]
    current: str | None = None
    for row in table.rows:
        if header(row) is not None or title_at not in row:
            continue
        title_cell = row[title_at]
        if not title_cell.continued:
            current = titles.match(title_cell.text)
            if current is None:
                into.lose(title_cell.text)
        if current is None:
            continue
        into.add(current, Section.PROGRESS, _text(row, columns.get(Column.PROGRESS)))
        into.add(current, Section.PLAN, _text(row, columns.get(Column.PLAN)))
    return True


def _text(row: Row, at: int | None) -> str:
    return row[at].text if at is not None and at in row else ""


# --- headings -------------------------------------------------------------------------


class _Headings:
    """Lines read in order: a title starts an item, a part heading a part."""

    def __init__(self, titles: _Titles, into: _Collector) -> None:
        self.titles, self.into = titles, into
        self.title: str | None = None
        self.section: Section | None = None
        self.last: tuple[str, Section] | None = None  # where the last line went

    def line(self, text: str) -> None:
        if not text.strip():
            return
        title = self.titles.match(text)
        if title is not None:
            self.title, self.section, self.last = title, None, None
            return
        cut = split_sections(text)
        if cut is None:
            self._add(text)
            return
        for section, rest in cut:
            if section is not None:
                self._part(section)
            if rest:
                self._add(rest)

    def _part(self, section: Section) -> None:
        """A part heading. A progress heading where one item's parts were already under
        way begins another item: the line above it was that item's title, one the
        department does not report on."""
        done = self.title is None or Section.PROGRESS in self.into.parts.get(self.title, {})
        begins_another = section is Section.PROGRESS and self.section is not None and done
        if begins_another:
            if self.last is not None:
                lines = self.into.parts[self.last[0]][self.last[1]]
                self.into.lose(lines.pop())
            self.title = None
        self.section, self.last = section, None

    def _add(self, text: str) -> None:
        if self.title is None or self.section is None:
            self.into.lose(text)
            self.last = None
            return
        self.into.add(self.title, self.section, text)
        self.last = (self.title, self.section)


def _lines(paragraph: str, titles: _Titles) -> list[str]:
    """A paragraph's lines; a title split by a soft line break stays one line."""
    if titles.match(paragraph) is not None:
        return [paragraph.replace("\n", "")]
    return paragraph.split("\n")


def _joined_titles(lines: list[str], titles: _Titles) -> list[str]:
    """Two lines that together spell a title (broken by a line break) become one."""
    joined: list[str] = []
    skip = False
    for index, line in enumerate(lines):
        if skip:
            skip = False
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        pair = line.strip() + following.strip()
        if titles.match(line) is None and following and titles.match(pair) is not None:
            joined.append(pair)
            skip = True
        else:
            joined.append(line)
    return joined


# --- the result -------------------------------------------------------------------------


def _items(lines: list[str]) -> list[str] | Rejection:
    text = "\n".join(line for line in lines if line.strip())
    if not text:
        return []
    taken = accept(text)
    return [] if taken is Rejection.EMPTY else taken


def _found(title: str, parts: dict[Section, list[str]]) -> Found:
    progress = _items(parts.get(Section.PROGRESS, []))
    plan = _items(parts.get(Section.PLAN, []))
    for part in (progress, plan):
        if isinstance(part, Rejection):
            return Found(title, [], [], part)
    assert not isinstance(progress, Rejection) and not isinstance(plan, Rejection)
    return Found(title, progress, plan)


def read_section(data: bytes, filename: str, titles: list[str]) -> SectionFile:
    """The key work items (of `titles`) a section file reports on, and what it could not
    place. Raises SectionError when the file cannot be read."""
    problem = problem_of_name(filename, len(data))
    if problem is not None:
        raise SectionError(problem)
    known = _Titles(titles)
    into = _Collector()
    headings = _Headings(known, into)
    if _suffix(filename) == ".txt":
        blocks: list[_Block] = [_decode_text(data)]
    else:
        blocks = _docx_blocks(data)
    flow: list[str] = []
    for block in blocks:
        if isinstance(block, Table):
            if _table_rows(block, known, into):
                continue
            flow += [cell.text for row in block.rows for cell in distinct(row)]
        else:
            flow += _lines(block, known)
    for line in _joined_titles([part for text in flow for part in text.split("\n")], known):
        headings.line(line)
    found = [_found(title, parts) for title, parts in into.parts.items()]
    found = [f for f in found if f.progress or f.plan or f.rejection is not None]
    return SectionFile(found, into.unplaced)
