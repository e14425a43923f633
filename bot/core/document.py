"""Render a summary (bot.core.summary) into the Word template
``templates/document/summary.docx`` with docxtpl (Jinja2 inside the .docx).

Pure core: no Telegram, no database. The layout (page setup, fonts, title, header
row, the wording of ``（未报送）`` …) lives in the template that a clerk may edit; this
module only fills it in. It loads python-docx, docxtpl and lxml: import it where a
document is made, not at start-up.

Template fields (see ``templates/document/README.md``):

========================  =========  ==============================================
field                     required   meaning
========================  =========  ==============================================
``title``                 no         the default title, "10月份重点工作推进情况汇总表"
                                     (templates/document/names.j2); the template
                                     may word its own with ``{{ month }}``
``draft``                 yes        true while the period is open (a closed month is final)
``draft_due``             no         while a draft: the due time, "2015-11-05 17:00" ("" if unknown)
``draft_unreported``      no         while a draft: key work items not fully submitted yet
``rows``                  yes        the table rows, looped with ``{%tr for r in rows %}``
``r.no``                  yes        row number 1..n (序号)
``r.title``               yes        key work item (重点工作)
``r.progress``            yes        paragraphs of 本月份推进情况 (empty: not submitted)
``r.plan``                yes        paragraphs of 下一步推进计划 (empty: not submitted)
``organisation``          no         organisation name, may be ""
``r.missing``             no         departments of a partly submitted row that have
                                     not submitted, joined with "、" ("" otherwise)
``year``, ``month``       no         the period
========================  =========  ==============================================
"""

from __future__ import annotations

import datetime as dt
import io
import math
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Length, Pt
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate
from jinja2 import nodes

from bot.core.summary import Draft, NumberedRow, Summary, numbered_row, one_line, summary_title
from bot.core.texts import TEMPLATES, TerminalError, document_text

__all__ = [
    "DEFAULT_TEMPLATE",
    "OPTIONAL_FIELDS",
    "REQUIRED_FIELDS",
    "SUMMARY_FIELDS",
    "Properties",
    "RowShape",
    "TemplateError",
    "TemplateFields",
    "check_template",
    "render_summary",
    "render_template",
    "title_line_chars",
]

DEFAULT_TEMPLATE: Path = TEMPLATES / "document" / "summary.docx"


@dataclass(frozen=True)
class TemplateFields:
    """The fields a kind of document's template must use and may use: top-level names,
    fields of a row (``r.<name>``, the loop over ``rows``) and fields of a month of a
    row (``m.<name>``, a loop over ``r.months`` inside it, for a roll-up)."""

    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def known(self) -> frozenset[str]:
        return frozenset(self.required + self.optional)


#: Top-level fields and fields of a row (``r.<name>``) the template must use.
REQUIRED_FIELDS: tuple[str, ...] = (
    "draft",
    "rows",
    "r.no",
    "r.title",
    "r.progress",
    "r.plan",
)
#: Fields the template may use.
OPTIONAL_FIELDS: tuple[str, ...] = (
    "title",
    "organisation",
    "year",
    "month",
    "draft_due",
    "draft_unreported",
    "r.missing",
)
SUMMARY_FIELDS = TemplateFields(REQUIRED_FIELDS, OPTIONAL_FIELDS)
#: Loops nested in the row loop, by the row field they go over: their fields' prefix.
_NESTED_LOOPS = {"months": "m"}


class TemplateError(TerminalError):
    """The summary template cannot be used (missing or unknown fields, bad syntax)."""


# ----------------------------------------------------------------------- context


def _context(summary: Summary) -> dict[str, Any]:
    return {
        "title": summary_title(summary),
        "draft": bool(summary.draft),
        "draft_due": summary.draft.due if isinstance(summary.draft, Draft) else "",
        "draft_unreported": (summary.draft.unreported if isinstance(summary.draft, Draft) else 0),
        "organisation": one_line(summary.organisation),
        "year": summary.year,
        "month": summary.month,
        "rows": [numbered_row(n, row) for n, row in enumerate(summary.rows, 1)],
    }


def _jinja_env() -> jinja2.Environment:
    # docxtpl's default (autoescape=False) silently truncates text holding "&" or "<".
    return jinja2.Environment(autoescape=True)


# ---------------------------------------------------------------------- template


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _attributes(body: list[nodes.Node], var: str) -> set[str]:
    """Attributes read from the variable `var` (``var.x`` or ``var["x"]``) in `body`."""
    used: set[str] = set()
    for body_node in body:
        for node in _walk(body_node):
            if not (isinstance(node, nodes.Getattr | nodes.Getitem)):
                continue
            if not (isinstance(node.node, nodes.Name) and node.node.name == var):
                continue
            if isinstance(node, nodes.Getattr):
                used.add(node.attr)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                used.add(node.arg.value)
    return used


def _loop_fields_used(ast: nodes.Template) -> set[str]:
    """Fields read from the loop variable of every ``for … in rows`` loop (``r.x``)
    and of the loops over a row's months inside it (``m.x``)."""
    used: set[str] = set()
    for loop in ast.find_all(nodes.For):
        if not (isinstance(loop.iter, nodes.Name) and loop.iter.name == "rows"):
            continue
        if not isinstance(loop.target, nodes.Name):
            continue
        var = loop.target.name
        used |= {f"r.{a}" for a in _attributes(loop.body, var)}
        for inner in (n for b in loop.body for n in _walk(b) if isinstance(n, nodes.For)):
            over = inner.iter
            if not (
                isinstance(over, nodes.Getattr)
                and isinstance(over.node, nodes.Name)
                and over.node.name == var
                and over.attr in _NESTED_LOOPS
                and isinstance(inner.target, nodes.Name)
            ):
                continue
            prefix = _NESTED_LOOPS[over.attr]
            used |= {f"{prefix}.{a}" for a in _attributes(inner.body, inner.target.name)}
    return used


def _template_source(tpl: DocxTemplate) -> str:
    """The Jinja source docxtpl renders: body, headers and footers, patched."""
    docx = tpl.get_docx()
    xml: str = tpl.patch_xml(tpl.xml_to_string(docx._element.body))
    for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
        for _rel_key, part in tpl.get_headers_footers(uri):
            xml += tpl.patch_xml(tpl.get_part_xml(part))
    return xml


_checked: dict[tuple[str, int, int, TemplateFields], None] = {}


def _is_loop_field(field: str) -> bool:
    return field.split(".", 1)[0] in ("r", *_NESTED_LOOPS.values()) and "." in field


def check_template(path: Path, fields: TemplateFields = SUMMARY_FIELDS) -> None:
    """Raise :class:`TemplateError` if the template at ``path`` cannot be rendered.

    The message names every required field the template lost (e.g. ``r.progress``
    after the clerk deleted that placeholder) and every field it does not know.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise TemplateError("template_unreadable", path=str(path), error=str(exc)) from exc
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, fields)
    if key in _checked:
        return
    env = _jinja_env()
    try:
        tpl = DocxTemplate(path)
        top = set(tpl.get_undeclared_template_variables(jinja_env=env))
        ast = env.parse(_template_source(tpl))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError("template_broken", name=path.name, error=exc.message) from exc
    except Exception as exc:  # not a .docx, damaged zip, …
        raise TemplateError("template_unopenable", name=path.name, error=str(exc)) from exc
    used = top | _loop_fields_used(ast)
    missing = [f for f in fields.required if f not in used]
    known_top = {f for f in fields.known if not _is_loop_field(f)}
    loops = {f for f in used if _is_loop_field(f)}
    unknown = sorted(top - known_top) + sorted(loops - fields.known)
    if missing or unknown:
        raise TemplateError("template_fields", name=path.name, missing=missing, unknown=unknown)
    _checked[key] = None


# ----------------------------------------------------------- the title column

#: How many characters a line of the 重点工作 column may hold: at least 6, so a title of
#: 12 fits in two lines; at most 10, so the two text columns keep their room.
TITLE_LINE_CHARS = range(6, 11)
#: A data row whose tallest cell is estimated at this many lines or fewer is kept on one
#: page (w:cantSplit); longer rows may split, a cell can be longer than a page.
SHORT_ROW_LINES = 8
_TWIPS_PER_PT = 20
_DEFAULT_CELL_MARGIN = 108  # twips, Word's default left and right cell margin


@dataclass(frozen=True)
class _TitleColumn:
    table: int  # which table of the body
    column: int
    font_size: Length  # of the title paragraph


def _char_width(c: str) -> float:
    """In ems: a Chinese (wide) character is one, anything else about half."""
    return 1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5


def _text_width(text: str) -> float:
    return sum(map(_char_width, text))


def _lines(width: float, chars: float) -> int:
    return max(1, math.ceil(width / chars - 1e-9))


def title_line_chars(titles: Sequence[str]) -> int:
    """Characters a line of the 重点工作 column should hold for these titles: a third
    line costs most, a last line of one character (an orphan) a lot, of two a little, a
    second line less; at equal cost the narrower column."""

    def badness(chars: int) -> float:
        cost = 0.1 * chars
        for title in titles:
            width = _text_width(title)
            lines = _lines(width, chars)
            last = width - (lines - 1) * chars
            cost += 10 * max(0, lines - 2) + 0.5 * (lines - 1)
            if lines > 1:
                cost += 5 if last <= 1 else 2 if last <= 2 else 0
        return cost

    return min(TITLE_LINE_CHARS, key=badness)


def _font_size(paragraph: Paragraph, document: DocxDocument) -> Length:
    style = paragraph.style
    while style is not None:
        size: Length | None = style.font.size
        if size is not None:
            return size
        style = style.base_style
    default = document.styles.element.find(f"{qn('w:docDefaults')}//{qn('w:sz')}")
    return Pt(int(default.get(qn("w:val"))) / 2) if default is not None else Pt(12)


def _tables(document: DocxDocument) -> list[Any]:
    """The body's tables as XML elements (CT_Tbl), in order."""
    return list(document.element.body.iterchildren(qn("w:tbl")))


def _find_title_column(document: DocxDocument) -> _TitleColumn | None:
    """Where the template shows ``{{ r.title }}``, before rendering."""
    for t, table in enumerate(_tables(document)):
        for tr in table.tr_lst:
            for column, tc in enumerate(tr.tc_lst):
                for p in tc.iter(qn("w:p")):
                    paragraph = Paragraph(p, document)
                    if "r.title" in paragraph.text:
                        return _TitleColumn(t, column, _font_size(paragraph, document))
    return None


def _column_widths(table: Any, found: _TitleColumn, chars: int) -> list[int] | None:
    """The grid with the title column `chars` characters wide, the difference taken
    from (or given to) the columns wider than it; the table keeps its width. None when
    the template's table cannot take it."""
    grid = table.tblGrid.findall(qn("w:gridCol"))
    if found.column >= len(grid):
        return None
    widths = [int(col.get(qn("w:w")) or 0) for col in grid]
    wanted = chars * _font_twips(found) + _cell_margins(table) + _font_twips(found) // 4
    old, total = widths[found.column], sum(widths)
    donors = [i for i, w in enumerate(widths) if i != found.column and w > old]
    if not donors:
        return None
    spare = sum(widths[i] for i in donors)
    new = list(widths)
    for i in donors:
        new[i] -= round((wanted - old) * widths[i] / spare)
    new[found.column] = wanted
    new[donors[-1]] += total - sum(new)
    if min(new[i] for i in donors) <= wanted:  # the text columns would get too narrow
        return None
    return new


def _font_twips(found: _TitleColumn) -> int:
    return round(float(Emu(found.font_size).pt) * _TWIPS_PER_PT)


def _cell_margins(table: Any) -> int:
    """Left plus right cell margin of the table, in twips."""
    total = 0
    margins = table.tblPr.find(qn("w:tblCellMar"))
    for side in ("left", "right"):
        el = margins.find(qn(f"w:{side}")) if margins is not None else None
        total += int(el.get(qn("w:w"))) if el is not None else _DEFAULT_CELL_MARGIN
    return total


@dataclass(frozen=True)
class RowShape:
    """What the page rules need to know of a data row: its title, how many note lines
    the title cell adds below it, and each text cell's paragraphs."""

    title: str
    notes: int
    cells: tuple[Sequence[str], ...]


def _summary_shape(row: NumberedRow) -> RowShape:
    return RowShape(row.title, 1 if row.missing else 0, (row.progress, row.plan))


def _row_lines(row: RowShape, title_chars: float, text_chars: float) -> int:
    """About how many lines the tallest cell of a row takes (a text cell taken at the
    narrower text column's width)."""
    title = _lines(_text_width(row.title) or 1, title_chars) + row.notes
    cells = [
        sum(_lines(_text_width(p) or 1, text_chars) for p in paragraphs) or 1
        for paragraphs in row.cells
    ]
    return max(title, *cells)


def _fit_title_column(document: DocxDocument, found: _TitleColumn, rows: list[RowShape]) -> None:
    """Lay out the 重点工作 column for the month's titles: its width (Word reads the
    cells' widths, LibreOffice the grid: both are set), and short rows kept on one page
    (LibreOffice does not keep a paragraph together inside a table cell)."""
    table = _tables(document)[found.table]
    chars = title_line_chars([r.title for r in rows])
    widths = _column_widths(table, found, chars)
    if widths is None:
        return
    for col, width in zip(table.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(width))
    data_rows = []
    for tr in table.tr_lst:
        cells = tr.tc_lst
        if len(cells) == len(widths):  # merged cells: leave the row as it is
            for tc, width in zip(cells, widths, strict=True):
                tc_w = tc.get_or_add_tcPr().get_or_add_tcW()
                tc_w.set(qn("w:w"), str(width))
                tc_w.set(qn("w:type"), "dxa")
        if tr.trPr is None or tr.trPr.find(qn("w:tblHeader")) is None:
            data_rows.append(tr)
    if len(data_rows) != len(rows):  # not one table row per key work item: leave them
        return
    font, margins = _font_twips(found), _cell_margins(table)
    text_width = min(
        w for i, w in enumerate(widths) if i != found.column and w > widths[found.column]
    )
    text_chars = max(1.0, (text_width - margins) / font)
    for tr, row in zip(data_rows, rows, strict=True):
        if _row_lines(row, chars, text_chars) <= SHORT_ROW_LINES:
            tr_pr = tr.get_or_add_trPr()
            if tr_pr.find(qn("w:cantSplit")) is None:
                tr_pr.insert(0, OxmlElement("w:cantSplit"))


# ------------------------------------------------------------------------ render


@dataclass(frozen=True)
class Properties:
    """The file's properties: its title (with the draft mark), subject and author."""

    title: str
    subject: str
    author: str

    @classmethod
    def of(cls, title: str, subject: str, organisation: str, *, draft: bool) -> Properties:
        """A draft's title carries the draft mark; the organisation is the author."""
        mark = document_text("draft_mark") if draft else ""
        return cls(title + mark, subject, one_line(organisation) or "huibao")


def render_template(
    path: Path,
    fields: TemplateFields,
    context: dict[str, Any],
    shapes: list[RowShape],
    properties: Properties,
) -> bytes:
    """Fill a checked template with `context`, lay out its 重点工作 column and rows for
    `shapes` (one per data row) and set the file's properties; return the .docx bytes."""
    check_template(path, fields)
    tpl = DocxTemplate(path)
    title_column = _find_title_column(tpl.get_docx())
    tpl.render(context, jinja_env=_jinja_env(), autoescape=True)
    if title_column is not None:
        _fit_title_column(tpl.docx, title_column, shapes)

    props = tpl.docx.core_properties
    now = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)
    props.title = properties.title
    props.subject = properties.subject
    props.author = properties.author
    props.last_modified_by = properties.author
    props.comments = ""
    props.keywords = ""
    props.language = "zh-CN"
    props.created = now
    props.modified = now
    props.revision = 1

    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def render_summary(summary: Summary, template: Path | None = None) -> bytes:
    """Render ``summary`` into the template; return the .docx bytes."""
    context = _context(summary)
    properties = Properties.of(
        summary_title(summary),
        document_text("subject", year=summary.year, month=summary.month),
        summary.organisation,
        draft=bool(summary.draft),
    )
    shapes = [_summary_shape(row) for row in context["rows"]]
    path = Path(template) if template is not None else DEFAULT_TEMPLATE
    return render_template(path, SUMMARY_FIELDS, context, shapes, properties)
