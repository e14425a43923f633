"""Generate the initial ``summary.docx`` and ``rollup.docx`` templates with python-docx.

The committed ``summary.docx`` is the source of truth for the layout of the monthly
summary table, ``rollup.docx`` for the roll-up of several months (a quarter, a half, a
year); a clerk may edit them in Word or WPS (see README.md beside this file). Run this
script only to start again from the generated layout:

    .venv/bin/python templates/document/make_template.py [OUTPUT]            # summary.docx
    .venv/bin/python templates/document/make_template.py --rollup [OUTPUT]   # rollup.docx

Both share the page setup, styles, header row and page numbers; the roll-up's progress
cell holds each month's heading (style 月份标题, bold) and that month's paragraphs.

The layout follows GB/T 9704-2012 where it applies to a table: landscape A4, margins
top 28 / bottom 26 / left 35 / right 37 mm, title 2号 方正小标宋简体, table text
仿宋_GB2312 小四 with a 黑体 header row that repeats on every page, page numbers
"— 1 —" in 4号 宋体 (odd pages right, even pages left, one character from the edge).

Jinja fields used (rendered by docxtpl, see bot/core/document.py):

* ``month``, ``year`` the period; the title is written as
  ``{{ month }}月份重点工作推进情况汇总表`` so that a clerk can reword it (``title``
  gives the default title of templates/document/names.j2 instead)
* ``draft``         true while the period is open (a closed month is the final text)
* ``draft_due``, ``draft_unreported``  while a draft: the due time and how many key work
  items are not fully submitted, for the draft mark to say why
* ``organisation``  organisation name, may be empty
* ``rows``          one per key work item, each with ``r.no``, ``r.title``,
  ``r.progress`` and ``r.plan`` (lists of paragraphs) and ``r.missing``
  (departments that have not submitted, joined with "、", or empty)
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE / "summary.docx"
ROLLUP_OUTPUT = HERE / "rollup.docx"

# Fonts (GB/T 9704-2012). LibreOffice substitutes missing fonts (e.g. Noto CJK).
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADER_FONT = "黑体"
PAGE_NUMBER_FONT = "宋体"
LATIN_FONT = "Times New Roman"

PAGE_WIDTH_MM = 297
PAGE_HEIGHT_MM = 210
MARGINS_MM = {"top": 28, "bottom": 26, "left": 35, "right": 37}
# 序号 | 重点工作 | 本月份推进情况 | 下一步推进计划 — sums to the 225 mm text width.
COLUMN_WIDTHS_MM = (14, 38, 95, 78)
HEADERS = ("序号", "重点工作", "本月份推进情况", "下一步推进计划")
# The roll-up: several months of progress, one plan.
ROLLUP_COLUMN_WIDTHS_MM = (14, 38, 107, 66)
ROLLUP_HEADERS = ("序号", "重点工作", "推进情况（按月）", "下一步推进计划")

# Styles kept from python-docx's default template; every other style is dropped so
# that the clerk sees a short, relevant style list in Word.
KEEP_STYLE_IDS = {
    "Normal",
    "Header",
    "HeaderChar",
    "Footer",
    "FooterChar",
    "DefaultParagraphFont",
    "TableNormal",
    "NoList",
    "TableGrid",
}

TBLPR_ORDER = (
    "tblStyle",
    "tblpPr",
    "tblOverlap",
    "bidiVisual",
    "tblStyleRowBandSize",
    "tblStyleColBandSize",
    "tblW",
    "jc",
    "tblCellSpacing",
    "tblInd",
    "tblBorders",
    "shd",
    "tblLayout",
    "tblCellMar",
    "tblLook",
    "tblCaption",
    "tblDescription",
)

THUMBNAIL_RELTYPE = (
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail"
)
STYLES_WITH_EFFECTS_RELTYPE = (
    "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
)


def _twips(mm: float) -> int:
    return round(mm / 25.4 * 1440)


def set_fonts(rpr_parent: object, *, east_asia: str, latin: str = LATIN_FONT) -> None:
    """Set w:rFonts explicitly (ascii/hAnsi/eastAsia/cs), dropping theme references.

    python-docx's ``font.name`` only writes ascii/hAnsi; Chinese text uses eastAsia.
    """
    rpr = rpr_parent.get_or_add_rPr()  # type: ignore[attr-defined]
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:cs"), latin)
    rfonts.set(qn("w:hint"), "eastAsia")


def set_lang(rpr: object) -> None:
    lang = rpr.find(qn("w:lang"))  # type: ignore[attr-defined]
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)  # type: ignore[attr-defined]
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    lang.set(qn("w:bidi"), "ar-SA")


def setup_styles(doc: DocxDocument) -> None:
    styles_el = doc.styles.element
    # Drop styles we do not use (the default template carries ~150 table styles).
    for style in list(styles_el.findall(qn("w:style"))):
        if style.get(qn("w:styleId")) not in KEEP_STYLE_IDS:
            styles_el.remove(style)

    # docDefaults: 仿宋_GB2312 小四, zh-CN, no space after, single spacing.
    doc_defaults = styles_el.find(qn("w:docDefaults"))
    rpr_default = doc_defaults.find(qn("w:rPrDefault"))
    rpr = rpr_default.find(qn("w:rPr"))
    rfonts = rpr.find(qn("w:rFonts"))
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), LATIN_FONT)
    rfonts.set(qn("w:hAnsi"), LATIN_FONT)
    rfonts.set(qn("w:eastAsia"), BODY_FONT)
    rfonts.set(qn("w:cs"), LATIN_FONT)
    for tag in ("w:sz", "w:szCs"):
        rpr.find(qn(tag)).set(qn("w:val"), "24")
    set_lang(rpr)
    ppr_default = doc_defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr_default.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")
    spacing.set(qn("w:lineRule"), "auto")

    normal = doc.styles["Normal"]
    set_fonts(normal.element, east_asia=BODY_FONT)
    normal.font.size = Pt(12)
    set_lang(normal.element.get_or_add_rPr())

    def para_style(
        name: str,
        *,
        font: str,
        size: float,
        latin: str = LATIN_FONT,
        align: WD_ALIGN_PARAGRAPH | None = None,
        bold: bool = False,
    ) -> Any:
        st = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        st.base_style = normal
        st.quick_style = True
        set_fonts(st.element, east_asia=font, latin=latin)
        st.font.size = Pt(size)
        if bold:
            st.font.bold = True
        if align is not None:
            st.paragraph_format.alignment = align
        return st

    title = para_style(
        "汇总表标题", font=TITLE_FONT, size=22, latin=TITLE_FONT, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    title.paragraph_format.space_after = Pt(6)
    title.paragraph_format.line_spacing = 1.0
    org = para_style("汇总表单位", font="楷体_GB2312", size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    org.paragraph_format.space_after = Pt(6)
    para_style(
        "表头", font=HEADER_FONT, size=12, latin=HEADER_FONT, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    para_style("表格居中", font=BODY_FONT, size=12, align=WD_ALIGN_PARAGRAPH.CENTER)
    para_style("表格正文", font=BODY_FONT, size=12, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    para_style("未报送标注", font="楷体_GB2312", size=10.5, align=WD_ALIGN_PARAGRAPH.CENTER)
    draft = para_style(
        "草稿标记", font=HEADER_FONT, size=12, latin=HEADER_FONT, align=WD_ALIGN_PARAGRAPH.RIGHT
    )
    draft.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    page = para_style("页码", font=PAGE_NUMBER_FONT, size=14, latin=PAGE_NUMBER_FONT)
    page.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    # Header/Footer styles keep US Letter tab stops; drop them.
    for style in styles_el.findall(qn("w:style")):
        if style.get(qn("w:styleId")) in ("Header", "Footer"):
            ppr = style.find(qn("w:pPr"))
            if ppr is not None:
                tabs = ppr.find(qn("w:tabs"))
                if tabs is not None:
                    ppr.remove(tabs)


def setup_settings(doc: DocxDocument) -> None:
    settings = doc.settings.element
    lang = settings.find(qn("w:themeFontLang"))
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    # Odd/even footers: GB/T 9704 puts odd page numbers right, even ones left.
    doc.settings.odd_and_even_pages_header_footer = True


SUMMARY_DRAFT_LINE = (
    "{% if draft %}草稿：本期尚未结束"
    "{% if draft_due %}（截止 {{ draft_due }}）{% endif %}"
    "{% if draft_unreported %}，尚有 {{ draft_unreported }} 项未报送"
    "{% else %}，内容仍可修改{% endif %}{% endif %}"
)
ROLLUP_DRAFT_LINE = "{% if draft %}草稿：{{ draft_months }} 尚未结束，内容仍可修改{% endif %}"


def setup_section(doc: DocxDocument, draft_line: str = SUMMARY_DRAFT_LINE) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width = Mm(PAGE_WIDTH_MM)
    section.page_height = Mm(PAGE_HEIGHT_MM)
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    section.gutter = Mm(0)
    section.header_distance = Mm(15)
    # The dash line of the page number sits about 7 mm below the text area.
    section.footer_distance = Mm(14)

    # Draft line in the page header (both odd and even pages).
    for header in (section.header, section.even_page_header):
        header.is_linked_to_previous = False
        p = header.paragraphs[0]
        p.style = doc.styles["草稿标记"]
        p.add_run(draft_line)

    # Page number "— 1 —": odd pages right-aligned, even pages left-aligned,
    # one character (14 pt) from the edge.
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.style = doc.styles["页码"]
        p.alignment = align
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            p.paragraph_format.right_indent = Pt(14)
        else:
            p.paragraph_format.left_indent = Pt(14)
        p.add_run("— ")
        add_page_field(p)
        p.add_run(" —")


def add_page_field(paragraph: object) -> None:
    def fld_char(kind: str) -> object:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    run = paragraph.add_run()  # type: ignore[attr-defined]
    run._r.append(fld_char("begin"))
    run = paragraph.add_run()  # type: ignore[attr-defined]
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    run._r.append(instr)
    run = paragraph.add_run()  # type: ignore[attr-defined]
    run._r.append(fld_char("separate"))
    paragraph.add_run("1")  # type: ignore[attr-defined]
    run = paragraph.add_run()  # type: ignore[attr-defined]
    run._r.append(fld_char("end"))


def set_cell_margins(tbl_pr: object, left: int = 85, right: int = 85) -> None:
    mar = OxmlElement("w:tblCellMar")
    for side, val in (("top", 28), ("left", left), ("bottom", 28), ("right", right)):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(val))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    tbl_pr.append(mar)  # type: ignore[attr-defined]


def set_borders(tbl_pr: object) -> None:
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    tbl_pr.append(borders)  # type: ignore[attr-defined]


def set_row_flags(row: object, *, header: bool = False, cant_split: bool = False) -> None:
    tr_pr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    if cant_split:
        tr_pr.append(OxmlElement("w:cantSplit"))
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))


def fill_cell(cell: object, texts: list[str], style: str, doc: DocxDocument) -> None:
    first = cell.paragraphs[0]  # type: ignore[attr-defined]
    for i, text in enumerate(texts):
        p = first if i == 0 else cell.add_paragraph()  # type: ignore[attr-defined]
        p.style = doc.styles[style]
        run = p.add_run(text)
        if "{{" in text:  # keep spaces inside filled-in text
            run._r.t_lst[0].set(qn("xml:space"), "preserve")


def build_table(
    doc: DocxDocument,
    widths_mm: tuple[int, ...] = COLUMN_WIDTHS_MM,
    headers: tuple[str, ...] = HEADERS,
) -> Any:
    """The table with its header row and the row loop; returns the data row's cells
    for the kind of document to fill."""
    table = doc.add_table(rows=4, cols=4)
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # fixed layout
    tbl_pr = table._tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        tbl_pr.append(tbl_w)
    tbl_w.set(qn("w:w"), str(sum(_twips(w) for w in widths_mm)))
    tbl_w.set(qn("w:type"), "dxa")
    set_borders(tbl_pr)
    set_cell_margins(tbl_pr)
    # Word rejects a tblPr whose children are out of schema order.
    order = {qn(f"w:{tag}"): i for i, tag in enumerate(TBLPR_ORDER)}
    children = sorted(tbl_pr, key=lambda el: order.get(el.tag, len(order)))
    for child in children:
        tbl_pr.append(child)

    # Word reads w:tcW, LibreOffice reads w:gridCol: set both.
    for i, width in enumerate(widths_mm):
        table.columns[i].width = Mm(width)
        for cell in table.columns[i].cells:
            cell.width = Mm(width)

    header, loop_start, data, loop_end = table.rows
    set_row_flags(header, header=True, cant_split=True)
    for cell, text in zip(header.cells, headers, strict=True):
        fill_cell(cell, [text], "表头", doc)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER

    # docxtpl row loop: the rows holding {%tr ...%} are removed when rendering.
    fill_cell(loop_start.cells[0], ["{%tr for r in rows %}"], "表格正文", doc)
    fill_cell(loop_end.cells[0], ["{%tr endfor %}"], "表格正文", doc)

    for cell in data.cells:
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    c_no, c_title = data.cells[:2]
    fill_cell(c_no, ["{{ r.no }}"], "表格居中", doc)
    fill_cell(c_title, ["{{ r.title }}"], "表格居中", doc)
    # A title never splits across a page break (the row itself may: its cells can be
    # longer than a page). Its width is chosen for the month's titles (bot/core/document.py).
    c_title.paragraphs[0].paragraph_format.keep_together = True
    return data.cells


def add_note(cell: Any, field: str, words: str, doc: DocxDocument) -> None:
    """A note under the title, shown only when the row's `field` is not empty."""
    for text in (f"{{%p if {field} %}}", words, "{%p endif %}"):
        p = cell.add_paragraph(text)
        p.style = doc.styles["未报送标注"]
        p.paragraph_format.keep_together = True


# The paragraphs of a text cell: each paragraph of `field`, or （未报送） centred.
def text_cell(field: str) -> list[str]:
    return [f"{{%p for p in {field} %}}", "{{ p }}", "{%p else %}", "（未报送）", "{%p endfor %}"]


def fill_summary_row(cells: Any, doc: DocxDocument) -> None:
    _, c_title, c_progress, c_plan = cells
    # Departments that have not submitted for a partly submitted row.
    add_note(c_title, "r.missing", "（{{ r.missing }}未报送）", doc)
    for cell, field in ((c_progress, "r.progress"), (c_plan, "r.plan")):
        fill_cell(cell, text_cell(field), "表格正文", doc)
        # The paragraph shown when nothing was submitted: centred.
        cell.paragraphs[3].style = doc.styles["表格居中"]


def fill_rollup_row(cells: Any, doc: DocxDocument) -> None:
    _, c_title, c_progress, c_plan = cells
    add_note(c_title, "r.former", "（原名：{{ r.former }}）", doc)
    # Each month the item existed in: its heading, then its paragraphs.
    months = ["{%p for m in r.months %}", "{{ m.heading }}", *text_cell("m.progress")]
    fill_cell(c_progress, [*months, "{%p endfor %}"], "表格正文", doc)
    c_progress.paragraphs[1].style = doc.styles["月份标题"]  # （未报送） stays under it, left
    # The latest plan, with its month when it is not the item's last month.
    plan = ["{%p if r.plan_from %}", "{{ r.plan_from }}计划：", "{%p endif %}"]
    fill_cell(c_plan, [*plan, *text_cell("r.plan")], "表格正文", doc)
    c_plan.paragraphs[1].style = doc.styles["月份标题"]
    c_plan.paragraphs[6].style = doc.styles["表格居中"]


def add_month_heading_style(doc: DocxDocument) -> None:
    """月份标题: a month's heading inside the roll-up's progress cell, bold."""
    style = doc.styles.add_style("月份标题", WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["表格正文"]
    style.quick_style = True
    set_fonts(style.element, east_asia=HEADER_FONT, latin=HEADER_FONT)
    style.font.bold = True
    style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT
    style.paragraph_format.keep_with_next = True


def build(output: Path = DEFAULT_OUTPUT, *, rollup: bool = False) -> Path:
    doc = Document()
    setup_styles(doc)
    setup_settings(doc)
    setup_section(doc, ROLLUP_DRAFT_LINE if rollup else SUMMARY_DRAFT_LINE)
    if rollup:
        add_month_heading_style(doc)

    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)

    title = doc.add_paragraph(style="汇总表标题")
    # The monthly title's words are the template's, for a clerk to reword; {{ title }}
    # gives the default one (templates/document/names.j2), as the roll-up's does: its
    # words depend on the range (第四季度, 下半年, 年度, 10月—12月).
    heading = "{{ title }}" if rollup else "{{ month }}月份重点工作推进情况汇总表"
    title.add_run(heading + "{% if draft %}（草稿）{% endif %}")
    for text in ("{%p if organisation %}", "{{ organisation }}", "{%p endif %}"):
        doc.add_paragraph(text, style="汇总表单位")
    if rollup:
        for text in ("{%p if absent_months %}", "（{{ absent_months }} 无填报期）", "{%p endif %}"):
            note = doc.add_paragraph(text, style="未报送标注")
            note.paragraph_format.space_after = Pt(4)
        fill_rollup_row(build_table(doc, ROLLUP_COLUMN_WIDTHS_MM, ROLLUP_HEADERS), doc)
    else:
        fill_summary_row(build_table(doc), doc)
    # Word needs a paragraph after a table at the end of the body; keep it tiny.
    tail = doc.add_paragraph()
    tail.paragraph_format.space_after = Pt(0)
    tail.paragraph_format.line_spacing = Pt(1)

    # Drop the python-docx thumbnail and the Word 2010 stylesWithEffects copy.
    package = doc.part.package
    for rid, rel in list(package.rels.items()):
        if rel.reltype == THUMBNAIL_RELTYPE:
            del package.rels[rid]
    for rid, rel in list(doc.part.rels.items()):
        if rel.reltype == STYLES_WITH_EFFECTS_RELTYPE:
            del doc.part.rels[rid]

    # python-docx's app.xml claims "Microsoft Macintosh Word"; Word rewrites it on save.
    for part in package.iter_parts():
        if str(part.partname) == "/docProps/app.xml":
            part._blob = part.blob.replace(b"Microsoft Macintosh Word", b"huibao")

    props = doc.core_properties
    props.title = (
        "重点工作推进情况汇总表（多月汇总模板）" if rollup else "月份重点工作推进情况汇总表（模板）"
    )
    props.author = "huibao"
    props.last_modified_by = "huibao"
    props.comments = ""
    props.subject = ""
    props.keywords = ""
    props.language = "zh-CN"
    props.revision = 1
    props.created = props.modified = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None)

    output.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(output))
    return output


def main(argv: list[str]) -> int:
    args = argv[1:]
    rollup = "--rollup" in args
    paths = [a for a in args if a != "--rollup"]
    out = Path(paths[0]) if paths else ROLLUP_OUTPUT if rollup else DEFAULT_OUTPUT
    print(build(out, rollup=rollup))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
