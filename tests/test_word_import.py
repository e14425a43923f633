"""Past months' summary tables read from Word (bot.core.word) and imported (huibao import),
with documents built here as offices write them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from sqlmodel import select

from bot.cli import main
from bot.core.document import render_summary
from bot.core.periods import Month, parse_due
from bot.core.summary import Contribution, Summary, SummaryRow, numbered_row
from bot.core.word import ReadRow, Why, WordError, match_items, month_of, read_summary
from bot.demo.sample_month import SAMPLE_ROWS, SAMPLE_TITLES
from storage.db import make_engine, session_scope
from storage.imports import import_month
from storage.models import AuditEvent, Period, Submission, WorkItem
from storage.periods import get_period, open_period
from storage.snapshots import roster_work_items
from storage.summary import build_summary
from tests.harness import Harness

SHANGHAI = ZoneInfo("Asia/Shanghai")
HEAD4 = ("序号", "重点工作", "本月份推进情况", "下一步推进计划")
Cell = str | Sequence[str]


def fill(cell: Any, content: Cell, numbered: bool = False, level: int = 0) -> None:
    """The cell's paragraphs: one per line given ("\\n" inside a line is a soft break);
    ``numbered``: Word's automatic numbering (numPr) instead of typed numbers."""
    lines = [content] if isinstance(content, str) else list(content)
    for p in list(cell.paragraphs):
        p._p.getparent().remove(p._p)
    for line in lines:
        paragraph = cell.add_paragraph()
        pieces = line.split("\n")
        run = paragraph.add_run(pieces[0])
        for piece in pieces[1:]:
            run.add_break()
            run.add_text(piece)
        if numbered and line.strip():
            depth = level + (1 if line.startswith("  ") else 0)
            paragraph.runs[0].text = line.strip()
            num_pr = OxmlElement("w:numPr")
            ilvl, num_id = OxmlElement("w:ilvl"), OxmlElement("w:numId")
            ilvl.set(qn("w:val"), str(depth))
            num_id.set(qn("w:val"), "1")
            num_pr.append(ilvl)
            num_pr.append(num_id)
            paragraph._p.get_or_add_pPr().append(num_pr)


def docx_bytes(
    rows: Sequence[Sequence[Cell]],
    *,
    head: Sequence[str] = HEAD4,
    title: str = "10月份重点工作推进情况汇总表",
    numbered: bool = False,
    document: Any = None,
) -> bytes:
    document = document or Document()
    if title:
        paragraph = document.add_paragraph()
        first, *rest = title.split("\n")
        run = paragraph.add_run(first)
        for piece in rest:
            run.add_break()
            run.add_text(piece)
    document.core_properties.title = "2015年汇总"
    table = document.add_table(rows=1 + len(rows), cols=len(head))
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        fill(cell, text)
    for tr, row in zip(table.rows[1:], rows, strict=True):
        for at, (cell, content) in enumerate(zip(tr.cells, row, strict=True)):
            fill(cell, content, numbered=numbered and at >= len(head) - 2)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def read(data: bytes) -> list[tuple[str, list[str], list[str]]]:
    return [(r.title, r.progress, r.plan) for r in read_summary(data).rows]


# ------------------------------------------------------------------ reading


def test_typed_numbering_blank_paragraphs_and_leading_spaces() -> None:
    data = docx_bytes(
        [
            ["1", "团的制度建设", ["1.召开协调会。", "", "\t2.推进改革方案。"], "  下月继续"],
            [
                "2",
                " 团干部队伍建设 ",
                ["一、举办培训班", "  其中：340名团干参加", "二、总结经验"],
                "",
            ],
        ]
    )
    assert read(data) == [
        ("团的制度建设", ["召开协调会。", "推进改革方案。"], ["下月继续"]),
        ("团干部队伍建设", ["举办培训班\n其中：340名团干参加", "总结经验"], []),
    ]


def test_word_automatic_numbering_starts_the_items() -> None:
    document = Document()
    assert document.part.numbering_part is not None  # the numbering part numPr refers to
    data = docx_bytes(
        [["1", "团的制度建设", ["召开协调会", "  细化分工：", "2015年完成方案"], ["收集方案"]]],
        numbered=True,
        document=document,
    )
    (row,) = read(data)
    # "  " marks a level-1 paragraph above: a sub-item of the first item.
    assert row == ("团的制度建设", ["召开协调会\n（1）细化分工：", "2015年完成方案"], ["收集方案"])


def test_five_columns_with_departments() -> None:
    head = ("序号", "重点工作", "责任部门", "本月推进情况", "下一步工作计划")
    data = docx_bytes([["1", "团的制度建设", "组织部", "1.甲\n2.乙", "丙"]], head=head)
    (row,) = read_summary(data).rows
    assert row == ReadRow("团的制度建设", ["甲", "乙"], ["丙"], "组织部")
    head = ("序号", "重点工作", "本月份推进情况", "下一步推进计划", "备注")
    data = docx_bytes([["1", "团的制度建设", "甲", "乙", "按期完成"]], head=head)
    assert read(data) == [("团的制度建设", ["甲"], ["乙"])]


def test_a_vertically_merged_title_joins_its_rows_and_grid_spans_are_placed() -> None:
    document = Document()
    document.add_paragraph("10月份重点工作推进情况汇总表")
    table = document.add_table(rows=4, cols=5)
    head = ["序号", "重点工作", "", "本月份推进情况", "下一步推进计划"]
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        fill(cell, text)
    table.cell(0, 1).merge(table.cell(0, 2))  # 重点工作 spans two grid columns
    fill(table.cell(0, 1), "重点工作")
    body = [
        ["1", "团的制度建设", "", "1.甲", "1.丙"],
        ["", "", "", "乙", "丁"],
        ["2", "团干部队伍建设", "", "戊", "己"],
    ]
    for tr, row in zip(table.rows[1:], body, strict=True):
        for cell, text in zip(tr.cells, row, strict=True):
            fill(cell, text)
    for r in (1, 2, 3):
        table.cell(r, 1).merge(table.cell(r, 2))  # the title cells span too
    table.cell(1, 1).merge(table.cell(2, 1))  # 团的制度建设 spans rows 1 and 2
    fill(table.cell(1, 1), "团的制度建设")
    out = io.BytesIO()
    document.save(out)
    assert read(out.getvalue()) == [
        ("团的制度建设", ["甲", "乙"], ["丙", "丁"]),
        ("团干部队伍建设", ["戊"], ["己"]),
    ]


def test_a_header_repeated_on_later_pages_and_a_second_table() -> None:
    document = Document()
    docx_bytes([["1", "团的制度建设", "甲", "乙"], list(HEAD4)], document=document)
    data = docx_bytes([["2", "团干部队伍建设", "丙", "丁"]], title="", document=document)
    assert read(data) == [
        ("团的制度建设", ["甲"], ["乙"]),
        ("团干部队伍建设", ["丙"], ["丁"]),
    ]


def test_a_row_across_the_table_is_a_heading_not_an_item() -> None:
    document = Document()
    document.add_paragraph("10月份重点工作推进情况汇总表")
    table = document.add_table(rows=3, cols=4)
    rows = [HEAD4, ("一、党的建设", "", "", ""), ("1", "团的制度建设", "甲", "乙")]
    for tr, row in zip(table.rows, rows, strict=True):
        for cell, text in zip(tr.cells, row, strict=True):
            fill(cell, text)
    table.cell(1, 0).merge(table.cell(1, 3))
    out = io.BytesIO()
    document.save(out)
    assert read(out.getvalue()) == [("团的制度建设", ["甲"], ["乙"])]


def test_a_table_nested_in_a_layout_table() -> None:
    document = Document()
    document.add_paragraph("10月份重点工作推进情况汇总表")
    outer = document.add_table(rows=1, cols=1)
    inner = outer.cell(0, 0).add_table(rows=2, cols=4)
    for cell, text in zip(inner.rows[0].cells, HEAD4, strict=True):
        fill(cell, text)
    for cell, text in zip(inner.rows[1].cells, ["1", "团的制度建设", "甲", "乙"], strict=True):
        fill(cell, text)
    out = io.BytesIO()
    document.save(out)
    assert read(out.getvalue()) == [("团的制度建设", ["甲"], ["乙"])]


def test_a_title_split_by_a_soft_break() -> None:
    data = docx_bytes(
        [["1", "团的制度\n建设", "甲", "乙"]], title="2015年10月份重点工作\n推进情况汇总表"
    )
    table = read_summary(data)
    assert table.title == "2015年10月份重点工作推进情况汇总表"
    assert month_of(table) == Month(2015, 10)
    assert table.rows[0].title == "团的制度建设"


def test_matching_tolerates_spacing_punctuation_and_numbers() -> None:
    from bot.core.status import WorkItemView

    items = [WorkItemView(1, "中学（中职）共青团工作", []), WorkItemView(2, "团的制度建设", [])]
    rows = [
        ReadRow("1. 中学(中职)共青团 工作", ["甲"]),
        ReadRow("团的制度", ["乙"]),
        ReadRow("中学（中职）共青团工作", ["丙"]),
        ReadRow("", ["丁"]),
    ]
    found = match_items(rows, items)
    assert [(r.progress, i.id) for r, i in found.matched] == [(["甲"], 1)]
    assert [(u.why, u.closest) for u in found.unmatched] == [
        (Why.UNKNOWN, "团的制度建设"),
        (Why.REPEATED, "中学（中职）共青团工作"),
        (Why.NO_TITLE, ""),
    ]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "word_doc"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le"),
            "word_encrypted",
        ),
        (b"plain text", "word_not_docx"),
        (b"PK\x03\x04 broken", "word_broken"),
    ],
)
def test_files_that_are_no_docx(data: bytes, name: str) -> None:
    with pytest.raises(WordError) as caught:
        read_summary(data)
    assert caught.value.name == name


def test_a_document_without_a_summary_table() -> None:
    document = Document()
    document.add_paragraph("会议纪要")
    out = io.BytesIO()
    document.save(out)
    with pytest.raises(WordError, match="No summary table"):
        read_summary(out.getvalue())


# ------------------------------------------------------------------ importing


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def invoke(cli: CliRunner, *args: str) -> Any:
    return cli.invoke(main, ["import", *args])


def database_rows(tmp_path: Path) -> tuple[int, int, int]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with session_scope(engine) as db:
        counts = (
            len(db.exec(select(Period)).all()),
            len(db.exec(select(Submission)).all()),
            len(db.exec(select(AuditEvent)).all()),
        )
    engine.dispose()
    return counts


SIMPLE = [
    ["1", "团的制度建设", "1.甲\n2.乙", "丙"],
    ["2", "团干部 队伍建设", "丁", "戊"],
    ["3", "不在名单里的工作", "己", "庚"],
]


def test_dry_run_changes_nothing(roster_cli: CliRunner, tmp_path: Path) -> None:
    before = database_rows(tmp_path)
    result = invoke(roster_cli, str(write(tmp_path / "t.docx", docx_bytes(SIMPLE))), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "matched      团的制度建设 → 办公室" in result.output
    assert "not matched  不在名单里的工作: no key work item has this title" in result.output
    assert "dry run: nothing was changed" in result.output
    assert database_rows(tmp_path) == before


def test_import_then_a_second_import_changes_nothing(roster_cli: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "十月.docx", docx_bytes(SIMPLE))
    result = invoke(roster_cli, str(path))
    assert result.exit_code == 0, result.output
    assert "imported into 2015-10 (a closed period, new): 2 stored, 0 unchanged" in result.output
    after_first = database_rows(tmp_path)
    result = invoke(roster_cli, str(path))
    assert "imported into 2015-10: 0 stored, 2 unchanged" in result.output
    assert database_rows(tmp_path) == after_first
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with session_scope(engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None and not period.is_open
        rows = db.exec(select(Submission)).all()
        assert {s.source for s in rows} == {"import:十月.docx"}
        assert sorted(s.progress for s in rows) == [["丁"], ["甲", "乙"]]
    engine.dispose()


def test_the_departments_column_chooses_the_department(
    roster_cli: CliRunner, tmp_path: Path
) -> None:
    head = ("序号", "重点工作", "责任部门", "本月推进情况", "下一步推进计划")
    data = docx_bytes([["1", "团的制度建设", "组织部", "甲", "乙"]], head=head)
    result = invoke(roster_cli, str(write(tmp_path / "t.docx", data)))
    assert "团的制度建设 → 组织部" in result.output


def test_add_items_makes_unmatched_rows_key_work_items(
    roster_cli: CliRunner, tmp_path: Path
) -> None:
    path = write(tmp_path / "t.docx", docx_bytes(SIMPLE))
    result = invoke(roster_cli, str(path), "--add-items", "office,org")
    assert result.exit_code == 0, result.output
    assert "new item     不在名单里的工作 → 办公室" in result.output
    assert "add them to the roster file" in result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with session_scope(engine) as db:
        assert db.exec(select(WorkItem).where(WorkItem.title == "不在名单里的工作")).one()
        period = get_period(db, "2015-10")
        assert period is not None
        summary, _ = build_summary(db, period)
        assert [r.title for r in summary.rows][-1] == "不在名单里的工作"
    engine.dispose()
    assert "0 stored, 3 unchanged" in invoke(roster_cli, str(path), "--add-items", "office").output


def test_refusals_are_one_line(roster_cli: CliRunner, tmp_path: Path) -> None:
    doc = write(tmp_path / "old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64)
    result = invoke(roster_cli, str(doc))
    assert result.exit_code == 2 and "save it as .docx" in result.output
    data = docx_bytes(SIMPLE, title="重点工作推进情况汇总表")
    result = invoke(roster_cli, str(write(tmp_path / "t.docx", data)))
    assert result.exit_code == 2 and "--month YYYY-MM" in result.output
    assert roster_cli.invoke(main, ["period", "open", "2015-10"]).exit_code == 0
    result = invoke(roster_cli, str(write(tmp_path / "t.docx", docx_bytes(SIMPLE))))
    assert result.exit_code == 2 and "is open: close it first" in result.output
    assert "--add-items" not in result.output


def test_a_month_reported_in_the_bot_is_never_touched(
    roster_cli: CliRunner, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with session_scope(engine) as db:
        period = open_period(db, "2015-10", parse_due("2015-11-05 17:00", SHANGHAI))
        item = roster_work_items(db)[0]
        db.add(
            Submission(
                period_id=period.id or 0, work_item_id=item.id, department_id=item.departments[0].id
            )
        )
        period.is_open = False
    engine.dispose()
    result = invoke(roster_cli, str(write(tmp_path / "t.docx", docx_bytes(SIMPLE))))
    assert result.exit_code == 2 and "already has reports made in the bot" in result.output


# ------------------------------------------------------------------ round trip, carry-forward


def sample_summary() -> Summary:
    """The sample month as its departments reported it, every item with the first
    department of examples/roster.toml."""
    firsts = ["办公室", "组织部", "组织部"]
    rows = [
        SummaryRow(
            title, [Contribution(firsts[n - 1], *SAMPLE_ROWS[n])] if n in SAMPLE_ROWS else []
        )
        for n, title in enumerate(SAMPLE_TITLES, 1)
    ]
    return Summary(2015, 10, "共青团广东省委员会", rows, draft=False)


def test_a_compiled_document_imports_and_compiles_back_to_the_same_cells(
    roster_cli: CliRunner, tmp_path: Path
) -> None:
    source = sample_summary()
    path = write(tmp_path / "compiled.docx", render_summary(source))
    result = invoke(roster_cli, str(path))
    assert result.exit_code == 0, result.output
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with session_scope(engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None
        again, _ = build_summary(db, period)
    engine.dispose()
    cells = [(r.title, r.progress, r.plan) for r in map(numbered_row, range(1, 14), source.rows)]
    back = [(r.title, r.progress, r.plan) for r in map(numbered_row, range(1, 14), again.rows)]
    assert back == cells
    assert read(render_summary(again)) == read(render_summary(source))


async def test_the_imported_plan_is_next_months_starting_point(harness: Harness) -> None:
    data = docx_bytes(
        [["1", "促进青年创新创业就业工作", "九月推进", "1.十月计划甲\n2.十月计划乙"]],
        title="9月份重点工作推进情况汇总表",
    )
    with session_scope(harness.engine) as db:
        table = read_summary(data)
        outcome = import_month(db, table, month_of(table), "九月.docx", SHANGHAI)
        assert [r.department for r in outcome.rows] == ["青年发展部"]
        open_period(db, "2015-10", parse_due("2015-11-05 17:00", SHANGHAI))
    liaison = await harness.liaison("youth", 3007, "郑凯")
    replies = await liaison.send("/report")
    replies = await liaison.tap(next(b for b in replies.last.buttons if "创新创业" in b))
    assert "上月" in replies.last.text and "十月计划甲" in replies.last.text
    replies = await liaison.tap("📋 以上月计划为起点")
    assert "十月计划乙" in replies.last.text
