"""Reading a department's section file (bot.core.section): tables, headings, numbering."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.draft import Rejection
from bot.core.section import (
    MAX_BYTES,
    Found,
    Problem,
    SectionError,
    problem_of_name,
    read_section,
    title_key,
)
from tests.section_docs import docx_bytes, merged_table_docx

TITLES = ["团的制度建设", "基层服务型团组织建设", "团干部队伍建设"]

HEADINGS = [
    "组织部2015年10月份重点工作推进情况",
    "一、团的制度建设",
    "（一）本月份推进情况",
    "1.修订制度。",
    "2.开展调研，",
    "  形成报告。",
    "",
    "（二）下一步推进计划",
    "1.印发制度。",
    "二、团干部\n队伍建设",
    "【本月工作】",
    "1.开展培训。",
    "【下月计划】",
    "1.继续培训。",
    "2.总结。",
]


def test_a_section_as_headings_with_typed_numbers() -> None:
    read = read_section(docx_bytes(HEADINGS), "组织部.docx", TITLES)
    assert read.found == [
        Found("团的制度建设", ["修订制度。", "开展调研，\n形成报告。"], ["印发制度。"]),
        Found("团干部队伍建设", ["开展培训。"], ["继续培训。", "总结。"]),
    ]
    assert read.unplaced == ["组织部2015年10月份重点工作推进情况"]


def test_word_automatic_numbering_is_read_as_typed() -> None:
    paragraphs = [
        "§1.0§团的制度建设",
        "本月份推进情况",
        "§2.0§修订制度。",
        "§2.0§开展调研。",
        "下一步推进计划",
        "§3.0§印发制度。",
        "§3.0§抓好落实。",
        "§1.0§团干部队伍建设",
        "本月份推进情况：",
        "§1.1§开展培训。",
        "§1.1§完成考核。",
        "下一步推进计划：",
        "§1.1§继续培训。",
    ]
    read = read_section(docx_bytes(paragraphs), "a.docx", TITLES)
    assert read.found == [
        Found("团的制度建设", ["修订制度。", "开展调研。"], ["印发制度。", "抓好落实。"]),
        Found("团干部队伍建设", ["开展培训。", "完成考核。"], ["继续培训。"]),
    ]
    assert read.unplaced == []


def test_a_summary_like_table_with_merged_cells_and_repeated_header() -> None:
    read = read_section(merged_table_docx(), "table.docx", TITLES)
    assert read.found == [
        Found(
            "团干部队伍建设",
            ["开展培训。", "完成考核。", "组织交流。", "嵌套表格里的一项"],
            ["继续培训。", "总结经验。"],
        )
    ]
    assert read.unplaced == ["组织部10月份重点工作推进情况", "别的部门的工作"]


def test_a_table_built_with_python_docx() -> None:
    rows = [
        ["序号", "重点工作", "本月推进情况", "下一步计划"],
        ["1", "基层服务型 团组织建设", "1.建设阵地。\n2.开展活动。", "1.验收。"],
    ]
    read = read_section(docx_bytes(["标题"], [rows]), "t.docx", TITLES)
    assert read.found == [Found("基层服务型团组织建设", ["建设阵地。", "开展活动。"], ["验收。"])]
    assert read.unplaced == ["标题"]


def test_an_unknown_title_and_what_follows_it_are_not_placed() -> None:
    text = "\n".join(
        [
            "一、团的制度建设",
            "本月份推进情况",
            "1.修订制度。",
            "下一步推进计划",
            "1.印发制度。",
            "二、别的工作",
            "本月份推进情况",
            "1.不知放哪。",
            "下一步推进计划",
            "1.也不知。",
        ]
    )
    read = read_section(text.encode("gb18030"), "a.txt", TITLES)
    assert read.found == [Found("团的制度建设", ["修订制度。"], ["印发制度。"])]
    assert read.unplaced == ["二、别的工作", "1.不知放哪。", "1.也不知。"]


def test_too_many_items_are_refused_for_the_item() -> None:
    items = "\n".join(f"{n}.第{n}项。" for n in range(1, 80))
    text = f"团的制度建设\n本月份推进情况\n{items}\n下一步推进计划\n1.继续。"
    read = read_section(text.encode(), "a.txt", TITLES)
    assert read.found == [Found("团的制度建设", [], [], Rejection.TOO_MANY)]


@pytest.mark.parametrize(
    ("name", "size", "problem"),
    [
        ("a.pdf", 10, Problem.NOT_DOCUMENT),
        ("photo.jpg", 10, Problem.NOT_DOCUMENT),
        ("noname", 10, Problem.NOT_DOCUMENT),
        ("old.DOC", 10, Problem.OLD_DOC),
        ("big.docx", MAX_BYTES + 1, Problem.TOO_LARGE),
        ("ok.docx", MAX_BYTES, None),
        ("ok.TXT", 1, None),
    ],
)
def test_what_the_name_and_size_say(name: str, size: int, problem: Problem | None) -> None:
    assert problem_of_name(name, size) is problem


def _zip(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, content in files.items():
            target.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "problem"),
    [
        (b"not a zip at all", "a.docx", Problem.BROKEN),
        (_zip({"other.xml": "<a/>"}), "a.docx", Problem.BROKEN),
        (_zip({"word/document.xml": "<w:document"}), "a.docx", Problem.BROKEN),
        (
            _zip({"word/document.xml": '<!DOCTYPE d [<!ENTITY a "x">]><d>&a;</d>'}),
            "a.docx",
            Problem.BROKEN,
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "a.docx", Problem.ENCRYPTED),
        (b"\xff\xd8\xff\x00\x00\x10", "a.txt", Problem.NOT_TEXT),
    ],
)
def test_files_that_cannot_be_read(data: bytes, name: str, problem: Problem) -> None:
    with pytest.raises(SectionError) as raised:
        read_section(data, name, TITLES)
    assert raised.value.problem is problem


def test_title_key_ignores_numbering_spacing_and_punctuation() -> None:
    assert title_key("（一） 团的制度\n建设：") == title_key("团的制度建设")
    assert title_key("1. 团干部队伍建设") == title_key("团干部 队伍建设")
    assert title_key("团的制度建设") != title_key("团干部队伍建设")


_SAMPLE = [*TITLES, "本月份推进情况", "下一步推进计划", "1.做了。", "2.又做了。", "（一）"]


# Any text a file can hold: no NUL, no lone surrogate (UTF-8 cannot carry one).
_TEXT = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.text(_TEXT, max_size=40) | st.sampled_from(_SAMPLE),
        max_size=20,
    )
)
def test_any_text_reads_without_error_into_known_titles(lines: list[str]) -> None:
    read = read_section("\n".join(lines).encode(), "a.txt", TITLES)
    assert all(found.title in TITLES for found in read.found)
    assert all(found.progress or found.plan for found in read.found)
