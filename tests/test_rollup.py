"""Roll-ups (issue: roll-ups): /compile 2015-Q4, 2015-H2, 2015 and 2015-10..2015-12 as one
document — each key work item's months under their headings and its latest plan."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from bot.cli import main
from bot.core.document import TemplateError
from bot.core.periods import Month, parse_range
from bot.core.rollup import (
    assemble_rollup,
    document_order,
    numbered_rollup_rows,
    rollup_filename,
    rollup_title,
)
from bot.core.rollup_document import ROLLUP_TEMPLATE, render_rollup
from bot.core.summary import Contribution, Draft, Summary, SummaryRow
from bot.double import FakeUser, SentMessage
from tests.harness import Harness
from tests.test_console import (
    MISSING,
    cell_texts,
    every_text_of,
    local,
    report,
    small_office,
)
from tests.test_summary import rewrite_part
from tests.test_summary_render import libreoffice_pdf, pdf_text

Q4 = "2015年第四季度重点工作推进情况汇总表"
ORGANISATION = "共青团某市委员会"


# --- the core --------------------------------------------------------------------------


def row(item_id: int, title: str, progress: list[str], plan: list[str]) -> SummaryRow:
    found = [Contribution("办公室", progress, plan)] if progress or plan else []
    return SummaryRow(title, found, item_id)


def month(number: int, rows: list[SummaryRow], *, open_: bool = False) -> Summary:
    draft = Draft("2016-01-05 17:00", 1) if open_ else None
    return Summary(2015, number, ORGANISATION, rows, draft)


OCTOBER = month(
    10,
    [
        row(1, "团的制度建设", ["十月一", "十月二"], ["十月计划"]),
        row(2, "青年发展", ["青年十月"], ["青年十月计划"]),
        row(3, "志愿服务", [], []),
    ],
)
NOVEMBER = month(
    11,
    [
        row(1, "团的制度建设与规范化", ["十一月"], []),
        row(2, "青年发展", [], []),
        row(4, "网络宣传", ["网宣十一月"], ["网宣计划"]),
    ],
)
DECEMBER = month(
    12,
    [
        row(1, "团的制度建设与规范化", ["十二月"], ["十二月计划"]),
        row(2, "青年发展", ["青年十二月"], []),
        row(4, "网络宣传", [], []),
    ],
    open_=True,
)


def test_a_quarter_follows_each_item_through_its_months() -> None:
    rollup = assemble_rollup(parse_range("2015-Q4"), ORGANISATION, [DECEMBER, OCTOBER, NOVEMBER])
    assert rollup.months == [Month(2015, 10), Month(2015, 11), Month(2015, 12)]
    assert rollup.absent == [] and rollup.open == [Month(2015, 12)] and rollup.draft
    assert [r.item_id for r in rollup.rows] == [1, 2, 3, 4]
    system, youth, volunteers, online = rollup.rows
    assert system.title == "团的制度建设与规范化" and system.former_titles == ["团的制度建设"]
    assert [(m.heading, m.progress) for m in system.months] == [
        ("10月", ["1.十月一", "2.十月二"]),
        ("11月", ["十一月"]),
        ("12月", ["十二月"]),
    ]
    assert system.plan == ["十二月计划"] and system.plan_month == Month(2015, 12)
    # Nothing in November: the month is there, empty; the plan is October's.
    assert [m.progress for m in youth.months] == [["青年十月"], [], ["青年十二月"]]
    assert youth.plan == ["青年十月计划"] and youth.plan_month == Month(2015, 10)
    # Retired after October, added in November: only their own months.
    assert [m.heading for m in volunteers.months] == ["10月"] and volunteers.plan == []
    assert [m.heading for m in online.months] == ["11月", "12月"]

    numbered = numbered_rollup_rows(rollup)
    assert [(r.no, r.former, r.plan_from) for r in numbered] == [
        (1, "团的制度建设", ""),
        (2, "", "10月"),
        (3, "", ""),
        (4, "", "11月"),
    ]


def test_titles_and_file_names_name_the_range() -> None:
    cases = {
        "2015-Q4": Q4,
        "2015-Q1": "2015年第一季度重点工作推进情况汇总表",
        "2015-H2": "2015年下半年重点工作推进情况汇总表",
        "2015-H1": "2015年上半年重点工作推进情况汇总表",
        "2015": "2015年度重点工作推进情况汇总表",
        "2015-10..2015-12": "2015年10月—12月重点工作推进情况汇总表",
        "2015-11..2016-02": "2015年11月—2016年2月重点工作推进情况汇总表",
    }
    for text, title in cases.items():
        rollup = assemble_rollup(parse_range(text), "", [OCTOBER, NOVEMBER, DECEMBER])
        assert rollup_title(rollup) == title
        assert rollup_filename(rollup) == title + ".docx"


def test_months_without_a_period_are_left_out_and_headings_carry_years_across_a_new_year() -> None:
    rollup = assemble_rollup(parse_range("2015-H2"), "", [OCTOBER, DECEMBER])
    assert rollup.months == [Month(2015, 10), Month(2015, 12)]
    assert rollup.absent == [Month(2015, m) for m in (7, 8, 9, 11)]
    assert [m.heading for m in rollup.rows[0].months] == ["10月", "12月"]
    across = assemble_rollup(parse_range("2015-12..2016-01"), "", [OCTOBER, DECEMBER])
    assert across.months == [Month(2015, 12)] and across.absent == [Month(2016, 1)]
    assert [m.heading for m in across.rows[0].months] == ["2015年12月"]
    assert not assemble_rollup(parse_range("2015-Q4"), "", [OCTOBER]).draft


def test_document_order_keeps_the_latest_order_and_places_retired_items_where_they_were() -> None:
    assert document_order([[1, 2, 3], [1, 3]]) == [1, 2, 3]
    assert document_order([[1, 2], [2, 1], [3, 1]]) == [3, 2, 1]
    assert document_order([[7], [8]]) == [8, 7]
    assert document_order([[5, 1], [1, 6]]) == [5, 1, 6]
    assert document_order([]) == []


MONTHS_OF_ITEMS = st.lists(  # each month of Q4: the ids of its items, in document order
    st.lists(st.integers(1, 8), unique=True, max_size=8), min_size=3, max_size=3
)


@given(MONTHS_OF_ITEMS, st.lists(st.booleans(), min_size=3, max_size=3))
def test_every_item_appears_once_under_exactly_its_months(
    items: list[list[int]], present: list[bool]
) -> None:
    summaries = [
        month(10 + n, [row(i, f"工作{i}", [f"{i}-{10 + n}"], []) for i in ids])
        for n, ids in enumerate(items)
        if present[n]
    ]
    rollup = assemble_rollup(parse_range("2015-Q4"), "", summaries)
    kept = [ids for n, ids in enumerate(items) if present[n]]
    assert sorted(r.item_id for r in rollup.rows) == sorted({i for ids in kept for i in ids})
    for found in rollup.rows:
        expected = [
            Month(2015, 10 + n)
            for n, ids in enumerate(items)
            if present[n] and found.item_id in ids
        ]
        assert [m.month for m in found.months] == expected
        assert [m.progress for m in found.months] == [
            [f"{found.item_id}-{m.month}"] for m in expected
        ]
    # Within the latest month, the rows keep its order.
    if kept:
        latest = [r.item_id for r in rollup.rows if r.item_id in kept[-1]]
        assert latest == kept[-1]


def test_the_rollup_renders_with_bold_month_headings() -> None:
    rollup = assemble_rollup(parse_range("2015-Q4"), ORGANISATION, [OCTOBER, NOVEMBER, DECEMBER])
    document = Document(io.BytesIO(render_rollup(rollup)))
    assert document.paragraphs[0].text == Q4 + "（草稿）"
    assert document.core_properties.title == Q4 + "（草稿）"
    assert document.sections[0].header.paragraphs[0].text == "草稿：2015-12 尚未结束，内容仍可修改"
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == [
        "序号",
        "重点工作",
        "推进情况（按月）",
        "下一步推进计划",
    ]
    progress = table.rows[1].cells[2].paragraphs
    headings = [p for p in progress if p.style is not None and p.style.name == "月份标题"]
    assert [p.text for p in headings] == ["10月", "11月", "12月"]
    assert all(p.style is not None and p.style.font.bold for p in headings)
    assert cell_texts(table.rows[2].cells[2]) == [
        "10月",
        "青年十月",
        "11月",
        MISSING,
        "12月",
        "青年十二月",
    ]
    assert cell_texts(table.rows[2].cells[3]) == ["10月计划：", "青年十月计划"]
    assert cell_texts(table.rows[3].cells[3]) == [MISSING]


def test_a_template_that_lost_a_month_field_is_refused(tmp_path: Path) -> None:
    rollup = assemble_rollup(parse_range("2015-Q4"), "", [OCTOBER])
    broken = tmp_path / "broken.docx"
    rewrite_part(ROLLUP_TEMPLATE, broken, "word/document.xml", "{{ m.heading }}", "{{ m.head }}")
    with pytest.raises(TemplateError) as err:
        render_rollup(rollup, broken)
    assert "m.heading" in str(err.value) and "m.head" in str(err.value)
    monthly = tmp_path / "monthly.docx"
    rewrite_part(ROLLUP_TEMPLATE, monthly, "word/document.xml", "{{ r.title }}", "{{ r.missing }}")
    with pytest.raises(TemplateError) as err:
        render_rollup(rollup, monthly)
    assert "r.title" in str(err.value) and "r.missing" in str(err.value)


# --- three months reported through the double ----------------------------------------


async def open_month(coordinator: FakeUser, harness: Harness, month: str, due: str) -> None:
    harness.now = local(f"{month}-02 10:00")
    replies = await coordinator.send(f"/period open {month} {due}")
    assert month in replies[0].text, replies.texts


async def close_month(coordinator: FakeUser, harness: Harness, month: str, after: str) -> None:
    harness.now = local(after)
    replies = await coordinator.send(f"/period close {month}")
    assert month in replies.last.text, replies.texts


async def a_reported_quarter(harness: Harness) -> FakeUser:
    """October with four items; then 志愿服务 retired, 网络宣传 added and 团的制度建设
    renamed; November and December reported, December still open."""
    coordinator = harness.coordinator()
    office = await harness.liaison("office", 3001, "张三")
    org = await harness.liaison("org", 3002, "王芳")
    publicity = await harness.liaison("publicity", 3003, "周宣")

    await open_month(coordinator, harness, "2015-10", "2015-11-05 17:00")
    await report(office, "团的制度建设", "办公室十月推进", "办公室十一月计划")
    await report(org, "团的制度建设", "组织部十月推进", "组织部十一月计划")
    await report(org, "青年发展", "组织部青年十月", "组织部青年计划")
    await report(office, "少先队工作", "少先队十月", "少先队十一月计划")
    await close_month(coordinator, harness, "2015-10", "2015-11-06 09:00")

    replies = await coordinator.send("/item retire 4")
    assert "停用重点工作：志愿服务" in replies.last.text, replies.texts
    replies = await coordinator.send("/item add 网络宣传 | publicity")
    assert "新增重点工作：网络宣传" in replies.last.text, replies.texts
    replies = await coordinator.send("/item rename 1 团的制度建设与规范化")
    assert "团的制度建设与规范化" in replies.last.text, replies.texts

    await open_month(coordinator, harness, "2015-11", "2015-12-05 17:00")
    await report(org, "团的制度建设与规范化", "组织部十一月推进", "组织部十二月计划")
    await report(publicity, "网络宣传", "宣传部网宣十一月", "宣传部网宣计划")
    await report(office, "少先队工作", "少先队十一月", "少先队十二月计划")
    await close_month(coordinator, harness, "2015-11", "2015-12-06 09:00")

    await open_month(coordinator, harness, "2015-12", "2016-01-05 17:00")
    await report(office, "少先队工作", "少先队十二月", "少先队明年计划")
    return coordinator


ROWS = [  # the Q4 roll-up's rows: title cell, progress cell, plan cell
    (
        ["团的制度建设与规范化", "（原名：团的制度建设）"],
        [
            "10月",
            "1.办公室十月推进",
            "2.组织部十月推进",
            "11月",
            "组织部十一月推进",
            "12月",
            MISSING,
        ],
        ["11月计划：", "组织部十二月计划"],
    ),
    (
        ["青年发展"],
        ["10月", "组织部青年十月", "11月", MISSING, "12月", MISSING],
        ["10月计划：", "组织部青年计划"],
    ),
    (
        ["少先队工作"],
        ["10月", "少先队十月", "11月", "少先队十一月", "12月", "少先队十二月"],
        ["少先队明年计划"],
    ),
    (["志愿服务"], ["10月", MISSING], [MISSING]),
    (["网络宣传"], ["11月", "宣传部网宣十一月", "12月", MISSING], ["11月计划：", "宣传部网宣计划"]),
]


async def compiled(coordinator: FakeUser, wanted: str, timeout: float = 15.0) -> SentMessage:
    """/compile `wanted`, and the document it sends (a new one, not an earlier one)."""
    before = sum(1 for m in coordinator.messages if m.document is not None)
    await coordinator.send(f"/compile {wanted}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        documents = [m for m in coordinator.messages if m.document is not None]
        if len(documents) > before:
            return documents[-1]
        await asyncio.sleep(0.05)  # the bot renders off the event loop
    raise AssertionError(f"/compile {wanted} sent no document: {coordinator.messages[-3:]}")


def table_rows(content: bytes) -> list[tuple[list[str], list[str], list[str]]]:
    table = Document(io.BytesIO(content)).tables[0]
    found = []
    for n, tr in enumerate(table.rows[1:], 1):
        no, title, progress, plan = tr.cells
        assert cell_texts(no) == [str(n)]
        found.append((cell_texts(title), cell_texts(progress), cell_texts(plan)))
    return found


async def test_a_quarter_reported_in_chat_compiles_as_one_document(
    engine: Engine, tmp_path: Path
) -> None:
    async with small_office(engine, tmp_path) as harness:
        coordinator = await a_reported_quarter(harness)
        sent = await compiled(coordinator, "2015-Q4")
        assert sent.document is not None and sent.caption is not None
        assert sent.document.filename == Q4 + ".docx"
        document = Document(io.BytesIO(sent.document.content))
        assert [p.text for p in document.paragraphs[:2]] == [Q4 + "（草稿）", ORGANISATION]
        header = document.sections[0].header.paragraphs[0].text
        assert header == "草稿：2015-12 尚未结束，内容仍可修改"
        assert table_rows(sent.document.content) == ROWS
        assert sent.caption.split("\n") == [
            "2015-Q4 汇总：2015-10、2015-11、2015-12，共 3 个月、5 项重点工作",
            "（草稿：2015-12 尚未结束，内容仍可修改。各月结束后生成的是正式文本）",
        ]
        (tmp_path / "q4.docx").write_bytes(sent.document.content)

        # A plain month is still the monthly table, and so is a range of one month.
        for wanted in ("2015-11", "2015-11..2015-11"):
            monthly = await compiled(coordinator, wanted)
            assert monthly.document is not None
            assert monthly.document.filename == "2015年11月重点工作推进情况汇总表.docx"
            assert (
                Document(io.BytesIO(monthly.document.content)).tables[0].rows[0].cells[2].text
                == "本月份推进情况"
            )

        # Every month closed: the final document.
        await close_month(coordinator, harness, "2015-12", "2016-01-06 09:00")
        final = await compiled(coordinator, "2015-10..2015-12")
        assert final.document is not None
        assert final.document.filename == "2015年10月—12月重点工作推进情况汇总表.docx"
        assert "草稿" not in every_text_of(final.document.content)
        assert table_rows(final.document.content) == ROWS

        # The year and a half name the months they have no period for.
        year = await compiled(coordinator, "2015")
        assert year.document is not None and year.caption is not None
        assert year.document.filename == "2015年度重点工作推进情况汇总表.docx"
        assert "2015-01、2015-02" in year.caption and "2015-09" in year.caption

        # Nothing to roll up, and a typo.
        replies = await coordinator.send("/compile 2016-Q1")
        assert "2016-Q1 的范围内没有任何填报期" in replies.last.text
        assert "2015-10、2015-11、2015-12" in replies.last.text
        replies = await coordinator.send("/compile 2015-Q5")
        assert "“2015-Q5”不是月份，也不是范围" in replies.last.text
        assert "2015-Q4（季度）" in replies.last.text

        # The same from the terminal, on the same database.
        runner, url = CliRunner(), engine.url.render_as_string(hide_password=False)
        env = {"DATABASE_URL": url, "BOT_USERNAME": "huibao_test_bot", "BOT_TOKEN": ""}
        for wanted, name in (
            ("2015-H2", "2015年下半年重点工作推进情况汇总表.docx"),
            ("2015", "2015年度重点工作推进情况汇总表.docx"),
            ("2015-10..2015-12", "2015年10月—12月重点工作推进情况汇总表.docx"),
        ):
            out = tmp_path / "cli" / wanted
            out.mkdir(parents=True)
            result = runner.invoke(main, ["compile", wanted, "--out", str(out)], env=env)
            assert result.exit_code == 0, result.output
            path, tally = result.output.strip().splitlines()
            assert path == str(out / name)
            assert table_rows((out / name).read_bytes()) == ROWS
            assert tally.startswith("rolled up 3 month(s) (2015-10, 2015-11, 2015-12)")
        result = runner.invoke(main, ["compile", "2016-Q1"], env=env)
        assert result.exit_code == 2 and "there is no period in 2016-Q1" in result.output
        result = runner.invoke(main, ["compile", "2015-Q5"], env=env)
        assert result.exit_code == 2 and "2015-Q4" in result.output


# --- LibreOffice -----------------------------------------------------------------------


def test_libreoffice_renders_the_quarter(tmp_path: Path) -> None:
    rollup = assemble_rollup(parse_range("2015-Q4"), ORGANISATION, [OCTOBER, NOVEMBER, DECEMBER])
    docx = tmp_path / "q4.docx"
    docx.write_bytes(render_rollup(rollup))
    flat = pdf_text(libreoffice_pdf(docx))
    if flat is None:
        return
    assert Q4 + "（草稿）" in flat
    assert "推进情况（按月）" in flat and "下一步推进计划" in flat
    assert "10月1.十月一2.十月二" in flat and "（原名：团的制度建设）" in flat
    assert "—1—" in flat
