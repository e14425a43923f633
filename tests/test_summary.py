"""The monthly summary table: assembling rows and rendering the Word document."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

from bot.core.document import DEFAULT_TEMPLATE, TemplateError, check_template, render_summary
from bot.core.summary import (
    Contribution,
    Draft,
    Summary,
    SummaryRow,
    cell_paragraphs,
    summary_filename,
    summary_title,
)
from bot.demo.sample_month import SAMPLE_RAW, SAMPLE_ROWS, SAMPLE_TITLES

HEADERS = ["序号", "重点工作", "本月份推进情况", "下一步推进计划"]
ORG = "共青团广东省委员会"
MISSING = "（未报送）"
ROOT = Path(__file__).resolve().parent.parent


def sample_summary(*, draft: Draft | bool = False, organisation: str = ORG) -> Summary:
    rows = []
    for no, title in enumerate(SAMPLE_TITLES, 1):
        if no in SAMPLE_ROWS:
            progress, plan = SAMPLE_ROWS[no]
            rows.append(SummaryRow(title, [Contribution("办公室", progress, plan)]))
        else:
            rows.append(SummaryRow(title, []))
    return Summary(year=2015, month=10, organisation=organisation, rows=rows, draft=draft)


def one_row(*contributions: Contribution, title: str = "团的制度建设") -> Summary:
    return Summary(2015, 10, ORG, [SummaryRow(title, list(contributions))], draft=False)


def read(data: bytes):  # type: ignore[no-untyped-def]
    return Document(io.BytesIO(data))


def cell_texts(cell) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in cell.paragraphs]


def rewrite_part(src: Path, dst: Path, part: str, old: str, new: str) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                text = data.decode("utf-8")
                assert old in text, f"{old!r} not in {part}"
                data = text.replace(old, new).encode("utf-8")
            zout.writestr(info, data)


@pytest.fixture(scope="module")
def sample_doc():  # type: ignore[no-untyped-def]
    return read(render_summary(sample_summary()))


# ------------------------------------------------------------- cell_paragraphs


def test_cell_paragraphs_numbers_items() -> None:
    assert cell_paragraphs(["甲", "乙", "丙"]) == ["1.甲", "2.乙", "3.丙"]


def test_cell_paragraphs_lone_item_unnumbered() -> None:
    assert cell_paragraphs(["只有一项。"]) == ["只有一项。"]
    assert cell_paragraphs(["只有一项。\n续段。"]) == ["只有一项。", "续段。"]


def test_cell_paragraphs_continuation_unnumbered() -> None:
    assert cell_paragraphs(["甲\n甲续一\r\n甲续二", "乙"]) == ["1.甲", "甲续一", "甲续二", "2.乙"]


def test_cell_paragraphs_drops_blank_items_and_lines() -> None:
    assert cell_paragraphs([]) == []
    assert cell_paragraphs(["", "  \n  "]) == []
    assert cell_paragraphs(["  甲  ", "", "\n乙\n\n乙续\n"]) == ["1.甲", "2.乙", "乙续"]


def test_cell_paragraphs_strips_xml_illegal_characters() -> None:
    assert cell_paragraphs(["a\x00b\x0bc\x0cd\x07e"]) == ["abcde"]


def test_title_and_filename() -> None:
    s = sample_summary()
    assert summary_title(s) == "10月份重点工作推进情况汇总表"
    assert summary_filename(s) == "2015年10月重点工作推进情况汇总表.docx"


def test_sample_raw_has_source_shapes() -> None:
    assert SAMPLE_RAW[1][0].startswith("1.上报") and "\n2.抓紧" in SAMPLE_RAW[1][0]
    assert SAMPLE_RAW[2][0].startswith("1在全省下发")
    assert "\n2. 继续" in SAMPLE_RAW[2][0] and "\n4. 推进" in SAMPLE_RAW[2][0]
    assert SAMPLE_RAW[3][1].split("\n")[2].startswith("    3.团省委")
    for no, (progress, plan) in SAMPLE_ROWS.items():
        assert len(SAMPLE_RAW[no][0].split("\n")) == len(progress)
        assert len(SAMPLE_RAW[no][1].split("\n")) == len(plan)


# ----------------------------------------------------------------- round trip


def test_round_trip_title_and_organisation(sample_doc) -> None:  # type: ignore[no-untyped-def]
    texts = [p.text for p in sample_doc.paragraphs if p.text]
    assert texts[:2] == ["10月份重点工作推进情况汇总表", ORG]
    assert "草稿" not in "".join(texts)


def test_round_trip_table(sample_doc) -> None:  # type: ignore[no-untyped-def]
    assert len(sample_doc.tables) == 1
    table = sample_doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == HEADERS
    assert len(table.rows) == 1 + len(SAMPLE_TITLES)
    for no, title in enumerate(SAMPLE_TITLES, 1):
        cells = table.rows[no].cells
        assert cell_texts(cells[0]) == [str(no)]
        assert cell_texts(cells[1]) == [title]
        if no in SAMPLE_ROWS:
            progress, plan = SAMPLE_ROWS[no]
            assert cell_texts(cells[2]) == cell_paragraphs(progress)
            assert cell_texts(cells[3]) == cell_paragraphs(plan)
        else:
            assert cell_texts(cells[2]) == [MISSING]
            assert cell_texts(cells[3]) == [MISSING]
    # Spot-check the numbering as the reader sees it.
    assert table.rows[2].cells[2].paragraphs[0].text.startswith("1.在全省下发")
    assert table.rows[2].cells[2].paragraphs[3].text.startswith("4.推进城乡区域化团建工作")
    assert "在 “团干部如何健康成长”" in table.rows[3].cells[2].text  # inner space kept


def test_header_row_repeats_and_long_data_rows_may_split(sample_doc) -> None:  # type: ignore[no-untyped-def]
    rows = sample_doc.tables[0].rows
    tr_pr = rows[0]._tr.trPr
    assert tr_pr is not None
    assert tr_pr.find(qn("w:tblHeader")) is not None
    assert tr_pr.find(qn("w:cantSplit")) is not None
    for no, row in enumerate(rows[1:], 1):
        pr = row._tr.trPr
        assert pr is None or pr.find(qn("w:tblHeader")) is None
        # a row of a few lines stays on one page; the long ones (rows 1 to 3) may split
        kept = pr is not None and pr.find(qn("w:cantSplit")) is not None
        assert kept is (no > 3), no


def _title_column_chars(doc) -> float:  # type: ignore[no-untyped-def]
    """How many characters of the template's font size a line of 重点工作 holds."""
    table = doc.tables[0]._tbl
    grid = [int(g.get(qn("w:w"))) for g in table.tblGrid.findall(qn("w:gridCol"))]
    margins = table.tblPr.find(qn("w:tblCellMar"))
    inner = grid[1] - sum(int(margins.find(qn(f"w:{s}")).get(qn("w:w"))) for s in ("left", "right"))
    size = doc.tables[0].rows[1].cells[1].paragraphs[0].style.font.size
    return float(inner / (size.pt * 20))


def test_a_title_of_twelve_characters_fits_in_two_lines(sample_doc) -> None:  # type: ignore[no-untyped-def]
    for summary in (sample_summary(), one_row(title="团的制度建设")):
        assert _title_column_chars(read(render_summary(summary))) >= 6


def test_titles_do_not_leave_one_character_on_a_line() -> None:
    """The office's 9-character titles broke 8 + 1 in the template's 38 mm column."""
    titles = ["青年发展型城市建设", "团员发展和团籍管理", "团的制度建设"]
    summary = Summary(2015, 10, ORG, [SummaryRow(t, []) for t in titles], draft=False)
    chars = int(_title_column_chars(read(render_summary(summary))))
    for title in titles:
        assert len(title) <= chars or len(title) % chars not in (1,), (title, chars)


def test_a_title_is_kept_in_one_piece(sample_doc) -> None:  # type: ignore[no-untyped-def]
    for row in sample_doc.tables[0].rows[1:]:
        assert row.cells[1].paragraphs[0].paragraph_format.keep_together is True


def test_column_widths_fit_text_width(sample_doc) -> None:  # type: ignore[no-untyped-def]
    table = sample_doc.tables[0]
    grid = [int(g.get(qn("w:w"))) for g in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    widths_mm = [w / 1440 * 25.4 for w in grid]
    assert round(widths_mm[0]) == 14  # 序号 as the template has it
    assert round(sum(widths_mm)) == 225  # the text width, whatever 重点工作 took
    assert widths_mm[2] > widths_mm[3] > widths_mm[1]  # the text columns stay widest
    section = sample_doc.sections[0]
    text_width = section.page_width - section.left_margin - section.right_margin
    assert sum(grid) * 635 <= text_width  # EMU per twip
    layout = table._tbl.tblPr.find(qn("w:tblLayout"))
    assert layout is not None and layout.get(qn("w:type")) == "fixed"
    for row in table.rows:  # Word reads w:tcW
        assert [c._tc.tcPr.find(qn("w:tcW")).get(qn("w:w")) for c in row.cells] == [
            str(w) for w in grid
        ]


def test_page_setup_landscape_a4(sample_doc) -> None:  # type: ignore[no-untyped-def]
    section = sample_doc.sections[0]
    assert section.page_width > section.page_height
    assert abs(section.page_width - Mm(297)) <= Mm(1)
    assert abs(section.page_height - Mm(210)) <= Mm(1)
    for margin, mm in (("top", 28), ("bottom", 26), ("left", 35), ("right", 37)):
        assert abs(getattr(section, f"{margin}_margin") - Mm(mm)) <= Mm(0.5)


def test_page_number_footer(sample_doc) -> None:  # type: ignore[no-untyped-def]
    section = sample_doc.sections[0]
    for footer in (section.footer, section.even_page_footer):
        xml = footer._element.xml
        assert "PAGE" in xml
        text = "".join(t.text or "" for t in footer._element.iter(qn("w:t")))
        assert text.startswith("— ") and text.endswith(" —")


def test_fonts_and_language(sample_doc) -> None:  # type: ignore[no-untyped-def]
    styles = sample_doc.styles.element
    defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = defaults.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert fonts.get(qn("w:eastAsiaTheme")) is None
    assert fonts.get(qn("w:asciiTheme")) is None
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    normal = sample_doc.styles["Normal"].element.rPr
    assert normal.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert normal.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    header_fonts = sample_doc.styles["表头"].element.rPr.find(qn("w:rFonts"))
    assert header_fonts.get(qn("w:eastAsia")) == "黑体"
    title_fonts = sample_doc.styles["汇总表标题"].element.rPr.find(qn("w:rFonts"))
    assert title_fonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert sample_doc.styles["汇总表标题"].font.size.pt == 22
    assert sample_doc.styles["表格正文"].font.size.pt == 12
    # Every style that names fonts names the eastAsia one and no theme font.
    for rfonts in styles.iter(qn("w:rFonts")):
        assert rfonts.get(qn("w:eastAsia")), rfonts.getparent().getparent().xml
        assert rfonts.get(qn("w:eastAsiaTheme")) is None
    theme_lang = sample_doc.settings.element.find(qn("w:themeFontLang"))
    assert theme_lang.get(qn("w:eastAsia")) == "zh-CN"


def test_core_properties(sample_doc) -> None:  # type: ignore[no-untyped-def]
    props = sample_doc.core_properties
    assert props.title == "10月份重点工作推进情况汇总表"
    assert props.author == ORG
    assert props.comments == ""
    assert props.language == "zh-CN"
    assert "python-docx" not in (props.comments + props.author + props.last_modified_by)


def test_core_properties_without_organisation() -> None:
    doc = read(render_summary(sample_summary(organisation="")))
    assert doc.core_properties.author == "huibao"
    texts = [p.text for p in doc.paragraphs if p.text]
    assert texts == ["10月份重点工作推进情况汇总表"]  # no organisation line


def header_text(doc) -> str:  # type: ignore[no-untyped-def]
    section = doc.sections[0]
    return "".join(p.text for h in (section.header, section.even_page_header) for p in h.paragraphs)


def test_draft_mark_present_iff_draft(sample_doc) -> None:  # type: ignore[no-untyped-def]
    assert "草稿" not in sample_doc.paragraphs[0].text
    assert "草稿" not in header_text(sample_doc)
    assert "草稿" not in (sample_doc.core_properties.title or "")

    draft = read(render_summary(sample_summary(draft=True)))
    assert draft.paragraphs[0].text == "10月份重点工作推进情况汇总表（草稿）"
    assert "草稿：本期尚未结束" in header_text(draft)
    assert "草稿" in draft.core_properties.title


def test_the_draft_mark_says_why() -> None:
    """While the period is open the header says until when, and how much is missing."""
    header = header_text(read(render_summary(sample_summary(draft=Draft("2015-11-05 17:00", 10)))))
    assert header == "草稿：本期尚未结束（截止 2015-11-05 17:00），尚有 10 项未报送" * 2
    header = header_text(read(render_summary(sample_summary(draft=Draft("2015-11-05 17:00", 0)))))
    assert header == "草稿：本期尚未结束（截止 2015-11-05 17:00），内容仍可修改" * 2


# ------------------------------------------------------------------- merging


def test_merging_two_departments_renumbers() -> None:
    doc = read(
        render_summary(
            one_row(
                Contribution("办公室", ["甲一", "甲二"], ["甲计划"]),
                Contribution("组织部", ["乙一\n乙一续"], ["乙计划一", "乙计划二"]),
            )
        )
    )
    cells = doc.tables[0].rows[1].cells
    assert cell_texts(cells[2]) == ["1.甲一", "2.甲二", "3.乙一", "乙一续"]
    assert cell_texts(cells[3]) == ["1.甲计划", "2.乙计划一", "3.乙计划二"]
    assert cell_texts(cells[1]) == ["团的制度建设"]


def test_lone_item_unnumbered_with_continuation() -> None:
    doc = read(
        render_summary(
            one_row(
                Contribution("办公室", ["唯一一项。\n第二段。\n第三段。"], ["计划。"]),
            )
        )
    )
    cells = doc.tables[0].rows[1].cells
    assert cell_texts(cells[2]) == ["唯一一项。", "第二段。", "第三段。"]
    assert cell_texts(cells[3]) == ["计划。"]


def test_partly_submitted_row_names_missing_department() -> None:
    doc = read(
        render_summary(
            one_row(
                Contribution("办公室", ["甲"], []),
                Contribution("组织部", [], []),
                Contribution("宣传部", [], ["丙计划"]),
            )
        )
    )
    cells = doc.tables[0].rows[1].cells
    assert cell_texts(cells[1]) == ["团的制度建设", "（组织部未报送）"]
    assert cell_texts(cells[2]) == ["甲"]
    assert cell_texts(cells[3]) == ["丙计划"]


def test_row_nobody_submitted_has_no_department_mark() -> None:
    doc = read(render_summary(one_row(Contribution("办公室", [], []))))
    cells = doc.tables[0].rows[1].cells
    assert cell_texts(cells[1]) == ["团的制度建设"]
    assert cell_texts(cells[2]) == [MISSING]
    assert cell_texts(cells[3]) == [MISSING]


def test_escaping_special_characters() -> None:
    nasty = "A&B <x> \"q\" 's' {{ y }} {% if %}"
    doc = read(
        render_summary(
            Summary(
                2015,
                10,
                "团&委 <省>",
                [
                    SummaryRow(
                        "标题 & <b>", [Contribution("办<公>室", [nasty, "a\x0bb\tc"], [nasty])]
                    )
                ],
                draft=False,
            )
        )
    )
    cells = doc.tables[0].rows[1].cells
    assert cell_texts(cells[1]) == ["标题 & <b>"]
    assert cell_texts(cells[2])[0] == "1." + nasty
    assert cell_texts(cells[3]) == [nasty]
    assert doc.paragraphs[1].text == "团&委 <省>"
    assert doc.core_properties.author == "团&委 <省>"


def test_empty_summary_renders() -> None:
    doc = read(render_summary(Summary(2015, 1, "", [], draft=True)))
    assert [c.text for c in doc.tables[0].rows[0].cells] == HEADERS
    assert len(doc.tables[0].rows) == 1


# ------------------------------------------------------------------ template


def test_default_template_is_valid() -> None:
    assert DEFAULT_TEMPLATE.is_file()
    check_template(DEFAULT_TEMPLATE)


def test_check_template_rejects_removed_field(tmp_path: Path) -> None:
    bad = tmp_path / "no_progress.docx"
    rewrite_part(
        DEFAULT_TEMPLATE,
        bad,
        "word/document.xml",
        "{%p for p in r.progress %}",
        "{%p for p in [] %}",
    )
    with pytest.raises(TemplateError, match=r"r\.progress"):
        check_template(bad)
    with pytest.raises(TemplateError, match=r"r\.progress"):
        render_summary(sample_summary(), template=bad)


def test_check_template_rejects_removed_top_level_field(tmp_path: Path) -> None:
    bad = tmp_path / "no_rows.docx"
    rewrite_part(DEFAULT_TEMPLATE, bad, "word/document.xml", "in rows %}", "in [] %}")
    with pytest.raises(TemplateError, match=r"missing field\(s\): rows"):
        check_template(bad)


TEMPLATE_TITLE = "{{ month }}月份重点工作推进情况汇总表"


def test_a_clerk_rewords_the_title_in_word(tmp_path: Path) -> None:
    """The title's words are the template's; the file keeps its name and properties."""
    edited = tmp_path / "reworded.docx"
    reworded = "{{ year }}年{{ month }}月重点工作月报"
    rewrite_part(DEFAULT_TEMPLATE, edited, "word/document.xml", TEMPLATE_TITLE, reworded)
    final = read(render_summary(sample_summary(), template=edited))
    assert final.paragraphs[0].text == "2015年10月重点工作月报"
    assert final.core_properties.title == "10月份重点工作推进情况汇总表"
    draft = read(render_summary(sample_summary(draft=True), template=edited))
    assert draft.paragraphs[0].text == "2015年10月重点工作月报（草稿）"


def test_the_title_field_gives_the_default_title(tmp_path: Path) -> None:
    """A template written with {{ title }} (as before the title's words were in Word)."""
    old = tmp_path / "title_field.docx"
    rewrite_part(DEFAULT_TEMPLATE, old, "word/document.xml", TEMPLATE_TITLE, "{{ title }}")
    check_template(old)
    doc = read(render_summary(sample_summary(draft=True), template=old))
    assert doc.paragraphs[0].text == "10月份重点工作推进情况汇总表（草稿）"
    assert doc.core_properties.title == "10月份重点工作推进情况汇总表（草稿）"


def test_check_template_rejects_unknown_field(tmp_path: Path) -> None:
    bad = tmp_path / "typo.docx"
    rewrite_part(DEFAULT_TEMPLATE, bad, "word/document.xml", "{{ r.title }}", "{{ r.titel }}")
    with pytest.raises(TemplateError) as err:
        check_template(bad)
    assert "r.title" in str(err.value) and "r.titel" in str(err.value)


def test_check_template_rejects_broken_syntax(tmp_path: Path) -> None:
    bad = tmp_path / "broken.docx"
    rewrite_part(DEFAULT_TEMPLATE, bad, "word/document.xml", "{%p endif %}", "{%p endiff %}")
    with pytest.raises(TemplateError, match="broken placeholder"):
        check_template(bad)


def test_check_template_rejects_non_docx(tmp_path: Path) -> None:
    bad = tmp_path / "not.docx"
    bad.write_text("hello")
    with pytest.raises(TemplateError):
        check_template(bad)
    with pytest.raises(TemplateError):
        check_template(tmp_path / "absent.docx")


def test_wording_comes_from_template(tmp_path: Path) -> None:
    edited = tmp_path / "edited.docx"
    rewrite_part(DEFAULT_TEMPLATE, edited, "word/document.xml", "（未报送）", "（本月未报）")
    check_template(edited)
    doc = read(render_summary(sample_summary(), template=edited))
    cells = doc.tables[0].rows[4].cells
    assert cell_texts(cells[2]) == ["（本月未报）"]
    assert cell_texts(cells[3]) == ["（本月未报）"]


def test_template_is_not_modified_by_rendering() -> None:
    before = DEFAULT_TEMPLATE.read_bytes()
    render_summary(sample_summary(draft=True))
    assert DEFAULT_TEMPLATE.read_bytes() == before


def test_the_bot_starts_without_the_document_libraries() -> None:
    """python-docx, docxtpl and lxml load when a document is made, not at start-up (they
    are most of the idle bot's memory)."""
    probe = (
        "import sys, bot.app, bot.cli, handlers, bot.core.summary; "
        "print(sorted(m for m in ('docx', 'docxtpl', 'lxml') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert found.stdout.strip() == "[]"
