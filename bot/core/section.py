"""A department's section sent as a file (.docx or .txt): which of its key work items it
reports on, and each item's two parts, as items ready for a draft.

Pure core: no Telegram, no database. The .docx is read straight from its XML (zip +
lxml), so Word's automatic numbering (numbering.xml: the shown number is not in the
text) can be rendered into the text, where the rules of ``bot.core.items`` split and
strip it like typed numbering.

A section comes in one of two shapes, or both:

* a **table** like the summary's: columns found by their header text (重点工作 /
  本月（份）推进情况 / 下一步（推进）计划 and close variants); header rows repeated on
  later pages are skipped; a row's title cell names the item;
* **headings**: the item's title (possibly numbered ``一、`` ``1.`` ``（一）``), then the
  part headings ``bot.core.items.split_sections`` knows (``一、本月份推进情况``
  ``【下月计划】`` …), each followed by the items.

Titles are matched to the department's key work items by a key that ignores numbering,
spacing, punctuation and line breaks. What cannot be placed (text before the first item,
a title the department does not report on, with what follows it) is returned as it is,
for the liaison to see.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from xml.etree import ElementTree

from bot.core.draft import Rejection, accept
from bot.core.items import Section, clean_item, split_sections

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
_MAX_UNZIPPED = 40 * 1024 * 1024  # guards against a zip that unpacks to gigabytes
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, and an encrypted .docx
Element = ElementTree.Element
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


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


def title_key(text: str) -> str:
    """What two spellings of a title share: no numbering, white space, punctuation or
    symbols, Latin letters in lower case, full-width forms folded."""
    folded = unicodedata.normalize("NFKC", clean_item(text.replace("\n", "")))
    return "".join(c for c in folded.lower() if unicodedata.category(c)[0] in "LN")


class _Titles:
    def __init__(self, titles: list[str]) -> None:
        self._by_key = {title_key(t): t for t in titles if title_key(t)}

    def match(self, text: str) -> str | None:
        return self._by_key.get(title_key(text)) if len(text) < 200 else None


# --- reading the file -----------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    text: str
    continued: bool = False  # the lower part of a vertically merged cell


_Row = list[_Cell]
_Block = str | list[_Row]  # a paragraph, or a table


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


def _parts(data: bytes) -> tuple[bytes, bytes | None, bytes | None]:
    """document.xml, numbering.xml and styles.xml of a .docx."""
    if data.startswith(_OLE_MAGIC):
        raise SectionError(Problem.ENCRYPTED)  # Word keeps an encrypted .docx in OLE
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > _MAX_UNZIPPED:
                raise SectionError(Problem.BROKEN)
            names = set(archive.namelist())
            if "word/document.xml" not in names:
                raise SectionError(Problem.BROKEN)

            def member(name: str) -> bytes | None:
                return archive.read(name) if name in names else None

            document = archive.read("word/document.xml")
            return document, member("word/numbering.xml"), member("word/styles.xml")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError) as exc:
        raise SectionError(Problem.BROKEN) from exc


def _xml(data: bytes) -> Element:
    """An XML part; the standard library's parser expands no external entity, and expat
    refuses entity bombs."""
    if b"<!ENTITY" in data:
        raise SectionError(Problem.BROKEN)  # Word never writes entity declarations
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise SectionError(Problem.BROKEN) from exc


def _val(element: Element | None, tag: str) -> str | None:
    if element is None:
        return None
    found = element.find(_W + tag)
    return None if found is None else found.get(_W + "val")


# --- Word's automatic numbering -------------------------------------------------------


def _cn(number: int) -> str:
    digits = "零一二三四五六七八九"
    if number < 10:
        return digits[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    return str(number)


def _circled(number: int) -> str:
    return chr(0x2460 + number - 1) if 1 <= number <= 20 else str(number)


def _letter(number: int) -> str:
    return chr(ord("a") + (number - 1) % 26) if number >= 1 else str(number)


def _roman(number: int) -> str:
    result = ""
    for value, numeral in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while number >= value:
            result, number = result + numeral, number - value
    return result


# numFmt → how a counter reads; a format not here reads as decimal.
_FORMATS: dict[str, Callable[[int], str]] = {
    "chineseCounting": _cn,
    "chineseCountingThousand": _cn,
    "chineseLegalSimplified": _cn,
    "ideographTraditional": lambda n: "甲乙丙丁戊己庚辛壬癸"[(n - 1) % 10],
    "decimalEnclosedCircle": _circled,
    "decimalEnclosedCircleChinese": _circled,
    "decimalFullWidth": lambda n: "".join(chr(ord(c) + 0xFEE0) for c in str(n)),
    "lowerLetter": _letter,
    "upperLetter": lambda n: _letter(n).upper(),
    "lowerRoman": _roman,
    "upperRoman": lambda n: _roman(n).upper(),
    "bullet": lambda n: "",
    "none": lambda n: "",
}


@dataclass(frozen=True)
class _Level:
    start: int
    format: str
    text: str  # "%1." "（%1）" "%1.%2"


class _Numbering:
    """The numbers Word shows before numbered paragraphs, counted in document order."""

    def __init__(self, numbering: bytes | None, styles: bytes | None) -> None:
        self._lists: dict[str, dict[int, _Level]] = {}
        self._counters: dict[str, dict[int, int]] = {}
        self._styles: dict[str, tuple[str, int]] = {}
        if numbering is not None:
            self._read_numbering(_xml(numbering))
        if styles is not None:
            self._read_styles(_xml(styles))

    def _read_numbering(self, root: Element) -> None:
        abstract: dict[str, dict[int, _Level]] = {}
        for node in root.iter(_W + "abstractNum"):
            levels: dict[int, _Level] = {}
            for lvl in node.iter(_W + "lvl"):
                levels[_int(lvl.get(_W + "ilvl"), 0)] = _Level(
                    _int(_val(lvl, "start"), 1),
                    _val(lvl, "numFmt") or "decimal",
                    _val(lvl, "lvlText") or "",
                )
            abstract[node.get(_W + "abstractNumId") or ""] = levels
        for num in root.iter(_W + "num"):
            levels = dict(abstract.get(_val(num, "abstractNumId") or "", {}))
            for override in num.iter(_W + "lvlOverride"):
                level = _int(override.get(_W + "ilvl"), 0)
                start = _val(override, "startOverride")
                if start is not None and level in levels:
                    old = levels[level]
                    levels[level] = _Level(_int(start, 1), old.format, old.text)
            self._lists[num.get(_W + "numId") or ""] = levels

    def _read_styles(self, root: Element) -> None:
        for style in root.iter(_W + "style"):
            num_pr = style.find(f"{_W}pPr/{_W}numPr")
            num_id = _val(num_pr, "numId")
            if num_id is not None:
                self._styles[style.get(_W + "styleId") or ""] = (
                    num_id,
                    _int(_val(num_pr, "ilvl"), 0),
                )

    def label(self, paragraph: Element) -> str:
        """The number shown before this paragraph ("" when it has none), counted."""
        ppr = paragraph.find(_W + "pPr")
        num_pr = ppr.find(_W + "numPr") if ppr is not None else None
        found = None
        if num_pr is not None and _val(num_pr, "numId") is not None:
            found = (_val(num_pr, "numId") or "", _int(_val(num_pr, "ilvl"), 0))
        elif ppr is not None and _val(ppr, "pStyle") in self._styles:
            found = self._styles[_val(ppr, "pStyle") or ""]
        if found is None or found[0] not in self._lists or not self._lists[found[0]]:
            return ""
        num_id, level = found
        levels = self._lists[num_id]
        counters = self._counters.setdefault(num_id, {})
        start = levels[level].start if level in levels else 1
        counters[level] = counters[level] + 1 if level in counters else start
        for deeper in [k for k in counters if k > level]:
            del counters[deeper]
        shown = levels.get(level)
        if shown is None:
            return ""

        def number(match: re.Match[str]) -> str:
            at = int(match.group(1)) - 1
            value = counters.get(at, levels[at].start if at in levels else 1)
            fmt = levels[at].format if at in levels else "decimal"
            return _FORMATS.get(fmt, str)(value)

        label = re.sub(r"%([1-9])", number, shown.text).strip()
        if not label or unicodedata.category(label[-1])[0] == "P":
            return label
        return label + " "


def _int(text: str | None, default: int) -> int:
    return int(text) if text is not None and text.isdigit() else default


# --- the document's blocks --------------------------------------------------------------


_TEXT_TAGS = frozenset(_W + tag for tag in ("t", "tab", "br", "cr"))


def _paragraph_text(paragraph: Element, numbering: _Numbering) -> str:
    """A paragraph as it reads: its number, its text, tabs and soft line breaks."""
    chunks = [numbering.label(paragraph)]
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


def _cell_text(cell: Element, numbering: _Numbering) -> str:
    """A cell's paragraphs, nested tables' ones included, one a line."""
    lines = []
    for node in _contents(cell):
        if node.tag == _W + "p":
            lines.append(_paragraph_text(node, numbering))
        else:
            lines += [c.text for row in _table(node, numbering) for c in row]
    return "\n".join(lines)


def _table(table: Element, numbering: _Numbering) -> list[_Row]:
    """The table's rows by grid column: a cell spanning columns repeats in each."""
    rows: list[_Row] = []
    for tr in table.findall(_W + "tr"):  # a nested table's rows are read with its cell
        row: _Row = []
        for tc in tr.findall(_W + "tc"):
            tc_pr = tc.find(_W + "tcPr")
            span = _int(_val(tc_pr, "gridSpan"), 1)
            merge = tc_pr.find(_W + "vMerge") if tc_pr is not None else None
            continued = merge is not None and merge.get(_W + "val") in (None, "continue")
            cell = _Cell("" if continued else _cell_text(tc, numbering), continued)
            row += [cell] * max(span, 1)
        rows.append(row)
    return rows


def _docx_blocks(data: bytes) -> list[_Block]:
    document, numbering_xml, styles_xml = _parts(data)
    numbering = _Numbering(numbering_xml, styles_xml)
    body = _xml(document).find(_W + "body")
    if body is None:
        raise SectionError(Problem.BROKEN)
    return [
        _paragraph_text(node, numbering) if node.tag == _W + "p" else _table(node, numbering)
        for node in _contents(body)
    ]


# --- tables ---------------------------------------------------------------------------

_TITLE_HEAD = ("重点工作", "工作事项", "工作任务", "工作内容", "事项", "项目", "任务", "item")
_PROGRESS_HEAD = ("推进情况", "进展", "完成情况", "本月", "progress")
_PLAN_HEAD = ("计划", "下一步", "下步", "下月", "打算", "plan", "next")
_HEAD_CHARS = 24  # a header cell is short


@dataclass(frozen=True)
class _Columns:
    title: int
    progress: int
    plan: int


def _column(row: _Row, words: tuple[str, ...], taken: set[int]) -> int | None:
    for index, cell in enumerate(row):
        key = title_key(cell.text)
        if index not in taken and len(key) <= _HEAD_CHARS and any(w in key for w in words):
            return index
    return None


def _header(row: _Row) -> _Columns | None:
    """The columns a header row names, or None when the row is not a header."""
    plan = _column(row, _PLAN_HEAD, set())
    if plan is None:
        return None
    progress = _column(row, _PROGRESS_HEAD, {plan})
    if progress is None:
        return None
    title = _column(row, _TITLE_HEAD, {plan, progress})
    if title is None:
        title = next((i for i in range(progress - 1, -1, -1) if i != plan), None)
    return None if title is None else _Columns(title, progress, plan)


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


def _table_rows(rows: list[_Row], titles: _Titles, into: _Collector) -> bool:
    """A table with a header: each row is one item's; False when it has no header."""
    columns = next((c for c in map(_header, rows) if c is not None), None)
    if columns is None:
        return False
    width = max(columns.title, columns.progress, columns.plan)
    current: str | None = None
    for row in rows:
        if _header(row) is not None or len(row) <= width:
            continue
        title_cell = row[columns.title]
        if not title_cell.continued:
            current = titles.match(title_cell.text)
            if current is None:
                into.lose(title_cell.text)
        if current is None:
            continue
        into.add(current, Section.PROGRESS, row[columns.progress].text)
        into.add(current, Section.PLAN, row[columns.plan].text)
    return True


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
        if isinstance(block, list):
            if _table_rows(block, known, into):
                continue
            flow += [line for row in block for cell in _distinct(row) for line in [cell.text]]
        else:
            flow += _lines(block, known)
    for line in _joined_titles([part for text in flow for part in text.split("\n")], known):
        headings.line(line)
    found = [_found(title, parts) for title, parts in into.parts.items()]
    found = [f for f in found if f.progress or f.plan or f.rejection is not None]
    return SectionFile(found, into.unplaced)


def _distinct(row: _Row) -> list[_Cell]:
    """A row's cells once each (a cell spanning columns repeats in the grid)."""
    cells: list[_Cell] = []
    for cell in row:
        if not cells or cells[-1] is not cell:
            cells.append(cell)
    return cells
