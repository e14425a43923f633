"""Tests for bot.core.items: splitting pasted cells into work items and formatting them back."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.core.items import (
    Section,
    clean_item,
    continue_items,
    inner_line,
    is_chatter,
    split_items,
    split_sections,
)
from bot.core.summary import cell_paragraphs
from bot.demo.sample_month import SAMPLE_ROWS

# --- real data: rows 1-3 of one month --------------------------------------------------

ROW1_PROGRESS = (
    "1.上报团中央传达学习宣传中央4号文件精神和中央党的会议精神工作方案；省委常委、政法委书记"
    "林少春召开协调会，就我省《实施意见》有关问题进行协商。\n"
    "2.抓紧督促各部门项目经费使用进度落实；继续有序推进机关及事业单位内审工作，按计划开展与各"
    "部门的情况碰头会，督促做好内审整改；组织开展我委机关及下属单位相关预算的填报工作。"
)
ROW1_PLAN = (
    "1.收集兄弟省市改革方案，梳理可借鉴改革举措。\n"
    "2.进一步精简完善《共青团广东省委员会机关工作制度汇编》和《广东共青团战线工作指南》。"
)
ROW2_PROGRESS = (
    "1在全省下发《关于申报2015年省级示范性青少年综合服务平台的通知》（团粤办发[2015]85号），"
    "对全省创建活动进行动员部署。\n"
    "2. 继续督促“活力在基层”优秀服务型团组织创建活动第一赛季各项目提交活动总结，推进第二赛季"
    "的项目复核工作，推进活力在基层工作与五四红旗团委创建工作进行融合对接。\n"
    "3. 推动团员成为注册志愿者工作，截至目前，累计有1148360名团员注册成为志愿者。\n"
    "4. 推进城乡区域化团建工作。城市方面，对10个城市街道区域化团建示范点进行实地考察，总结示范"
    "点的经验与不足，并报送材料给团中央。农村方面，按进度推进开展“百县千乡”分类示范创建活动。"
    "编印第8期《广东农青工作信息》简报（《团肇庆市委大力推进农村电子商务建设》）分发各地市；"
    "转发团中央《关于集中举办“百县千乡”分类示范创建工作述评会的通知》至各地市；与京东集团合作，"
    "组织11000多名乡村推广员在粤东西北开展扶贫、文化、体育、环保等方面活动847场（次）。"
)
ROW2_PLAN = (
    "1.对2014年团中央支持的青少年综合服务平台建设经费使用、管理情况进行年度督查；开展2015年团"
    "中央支持的青少年综合服务平台的经费下拨工作；开展省级示范性青少年综合服务平台的认定工作。\n"
    "2.加大地市宣传力度，举办团员志愿者培训。\n"
    "3.计划11月份开展全省街道区域化团建集中活动月，通知正在拟下发；农村方面，11月-12月，重点开"
    "展“百县千乡”分类示范创建活动成果提升阶段工作。"
)
ROW3_PROGRESS = (
    "1.举办第三期全省团干主体培训班，来自中职院校、中学、企业近340名团干参加轮训。\n"
    "2.全省发放《关于在 “团干部如何健康成长”大讨论活动中做好征集青年意见工作、开好民主（组织）"
    "生活会的通知》，并做好相关征求青年意见等工作；总结团省委开展大讨论活动经验，上报团中央。"
)
ROW3_PLAN = (
    "    1.督导各级择优配齐市、县团委书记班子和机关干部。\n"
    "    2.落实第三期培训班实施方案，完善团干培训师资库建设。\n"
    "    3.团省委党组以及各党组织开展“三严三实”专题三研讨；收集、整理全省“青年意见清单”，做好召开"
    "团省委党组民主生活会的准备。"
)

REAL_CELLS = {
    "row1_progress": (
        ROW1_PROGRESS,
        [
            "上报团中央传达学习宣传中央4号文件精神和中央党的会议精神工作方案；省委常委、政法委书记"
            "林少春召开协调会，就我省《实施意见》有关问题进行协商。",
            "抓紧督促各部门项目经费使用进度落实；继续有序推进机关及事业单位内审工作，按计划开展与各"
            "部门的情况碰头会，督促做好内审整改；组织开展我委机关及下属单位相关预算的填报工作。",
        ],
    ),
    "row1_plan": (
        ROW1_PLAN,
        [
            "收集兄弟省市改革方案，梳理可借鉴改革举措。",
            "进一步精简完善《共青团广东省委员会机关工作制度汇编》和《广东共青团战线工作指南》。",
        ],
    ),
    "row2_progress": (
        ROW2_PROGRESS,
        [
            "在全省下发《关于申报2015年省级示范性青少年综合服务平台的通知》（团粤办发[2015]85号），"
            "对全省创建活动进行动员部署。",
            "继续督促“活力在基层”优秀服务型团组织创建活动第一赛季各项目提交活动总结，推进第二赛季"
            "的项目复核工作，推进活力在基层工作与五四红旗团委创建工作进行融合对接。",
            "推动团员成为注册志愿者工作，截至目前，累计有1148360名团员注册成为志愿者。",
            "推进城乡区域化团建工作。城市方面，对10个城市街道区域化团建示范点进行实地考察，总结示范"
            "点的经验与不足，并报送材料给团中央。农村方面，按进度推进开展“百县千乡”分类示范创建活动。"
            "编印第8期《广东农青工作信息》简报（《团肇庆市委大力推进农村电子商务建设》）分发各地市；"
            "转发团中央《关于集中举办“百县千乡”分类示范创建工作述评会的通知》至各地市；与京东集团合作，"
            "组织11000多名乡村推广员在粤东西北开展扶贫、文化、体育、环保等方面活动847场（次）。",
        ],
    ),
    "row2_plan": (
        ROW2_PLAN,
        [
            "对2014年团中央支持的青少年综合服务平台建设经费使用、管理情况进行年度督查；开展2015年团"
            "中央支持的青少年综合服务平台的经费下拨工作；开展省级示范性青少年综合服务平台的认定工作。",
            "加大地市宣传力度，举办团员志愿者培训。",
            "计划11月份开展全省街道区域化团建集中活动月，通知正在拟下发；农村方面，11月-12月，重点开"
            "展“百县千乡”分类示范创建活动成果提升阶段工作。",
        ],
    ),
    "row3_progress": (
        ROW3_PROGRESS,
        [
            "举办第三期全省团干主体培训班，来自中职院校、中学、企业近340名团干参加轮训。",
            "全省发放《关于在 “团干部如何健康成长”大讨论活动中做好征集青年意见工作、开好民主"
            "（组织）生活会的通知》，并做好相关征求青年意见等工作；总结团省委开展大讨论活动经验，"
            "上报团中央。",
        ],
    ),
    "row3_plan": (
        ROW3_PLAN,
        [
            "督导各级择优配齐市、县团委书记班子和机关干部。",
            "落实第三期培训班实施方案，完善团干培训师资库建设。",
            "团省委党组以及各党组织开展“三严三实”专题三研讨；收集、整理全省“青年意见清单”，做好召开"
            "团省委党组民主生活会的准备。",
        ],
    ),
}


@pytest.mark.parametrize(("cell", "expected"), REAL_CELLS.values(), ids=REAL_CELLS.keys())
def test_real_cells(cell: str, expected: list[str]) -> None:
    assert split_items(cell) == expected


@pytest.mark.parametrize(("cell", "expected"), REAL_CELLS.values(), ids=REAL_CELLS.keys())
def test_real_cells_round_trip(cell: str, expected: list[str]) -> None:
    text = cell_text(expected)
    assert text == "\n".join(f"{n}.{item}" for n, item in enumerate(expected, 1))
    assert split_items(text) == expected


# --- marker styles ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("1.", "2."),
        ("1．", "2．"),
        ("1、", "2、"),
        ("1,", "2,"),
        ("1，", "2，"),
        ("1 ", "2 "),
        ("1", "2"),
        ("1.\t", "2.\u3000"),
        ("(1)", "(2)"),
        ("（1）", "（2）"),
        ("（1)", "(2）"),
        ("1)", "2)"),
        ("1）", "2）"),
        ("①", "②"),
        ("一、", "二、"),
        ("一．", "二."),
        ("（一）", "（二）"),
        ("(一)", "(二)"),
        ("１．", "２．"),  # full-width digits
        ("⑴", "⑵"),
        ("⒈", "⒉"),
        # separators of one family may be mixed, as in row 2 ("1在…" then "2. 继续…")
        ("1", "2. "),
        ("1、", "2."),
        ("（1）", "2)"),
    ],
)
def test_marker_styles(first: str, second: str) -> None:
    text = f"{first}召开协调会\n{second}推进团建工作"
    assert split_items(text) == ["召开协调会", "推进团建工作"]


def test_circled_up_to_twenty() -> None:
    circled = [chr(0x2460 + i) for i in range(20)]
    text = "\n".join(f"{c}第{i}项工作" for i, c in enumerate(circled, 1))
    assert split_items(text) == [f"第{i}项工作" for i in range(1, 21)]


def test_chinese_numerals_past_ten() -> None:
    numerals = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三"]
    text = "\n".join(f"{n}、工作{i}" for i, n in enumerate(numerals, 1))
    assert split_items(text) == [f"工作{i}" for i in range(1, 14)]


def test_two_digit_numbers() -> None:
    text = "\n".join(f"{i}.工作" for i in range(1, 13))
    assert split_items(text) == ["工作"] * 12


def test_marker_on_its_own_line() -> None:
    assert split_items("1.\n召开协调会\n2.\n推进团建") == ["召开协调会", "推进团建"]


# --- sequence awareness: prose that looks like numbering --------------------------------


def test_year_inside_item_is_continuation() -> None:
    text = "1.召开协调会\n2015年全省共建成平台30个。\n2.推进团建"
    assert split_items(text) == ["召开协调会\n2015年全省共建成平台30个。", "推进团建"]


def test_quantity_inside_item_is_continuation() -> None:
    text = "1.推进城乡区域化团建工作。\n10个城市街道示范点完成考察。\n2.举办培训"
    assert split_items(text) == [
        "推进城乡区域化团建工作。\n10个城市街道示范点完成考察。",
        "举办培训",
    ]


@pytest.mark.parametrize(
    "continuation",
    [
        "3.5亿元资金已下拨。",  # decimal
        "3家单位获评先进。",  # measure word
        "3名同志参加培训。",
        "3万人次参与。",
        "3 名同志参加培训。",  # digit + space before a measure word
        "3%的团员参与。",
        "3G网络覆盖。",
        "3,000名志愿者参与。",  # thousands separator
        "3、4月份集中开展。",  # month enumeration
        "3",  # a number alone
        "3.1 子项目推进。",  # sub-numbering 3.1
    ],
)
def test_expected_number_but_quantity_is_continuation(continuation: str) -> None:
    text = f"1.召开协调会\n2.推进团建\n{continuation}"
    assert split_items(text) == ["召开协调会", f"推进团建\n{continuation}"]


@pytest.mark.parametrize(
    ("line", "content"),
    [
        ("3在全省推进。", "在全省推进。"),
        ("3 在全省推进。", "在全省推进。"),
        ("3《通知》下发。", "《通知》下发。"),
        ("3.2015年全省推进。", "2015年全省推进。"),  # year after an explicit separator
        ("3.11月份开展活动。", "11月份开展活动。"),  # month after an explicit separator
        ("3、12月底前完成。", "12月底前完成。"),
        ("3. 5亿元资金已下拨。", "5亿元资金已下拨。"),  # space after separator: a marker
        ("3.组织开展活动。", "组织开展活动。"),  # 组 is a measure word but starts items
    ],
)
def test_expected_number_before_text_is_item(line: str, content: str) -> None:
    text = f"1.召开协调会\n2.推进团建\n{line}"
    assert split_items(text) == ["召开协调会", "推进团建", content]


def test_out_of_sequence_number_is_continuation() -> None:
    text = "1.召开协调会\n3.推进团建\n2.举办培训"
    assert split_items(text) == ["召开协调会\n3.推进团建", "举办培训"]


def test_a_block_may_start_past_one() -> None:
    # A second paste that continues the liaison's numbering, with or without the
    # draft telling where it stands.
    assert split_items("3.召开协调会\n4.推进团建", start=3) == ["召开协调会", "推进团建"]
    assert split_items("2.召开协调会\n3.推进团建") == ["召开协调会", "推进团建"]
    # Only on the first line: a later number out of sequence is still text.
    assert split_items("召开协调会\n3.推进团建") == ["召开协调会\n3.推进团建"]


def test_first_line_quantity_is_not_a_marker() -> None:
    text = "1名同志获评优秀团干部。\n2名同志获评优秀团员。"
    assert split_items(text) == [text]


def test_nested_list_of_other_family_stays_inside_item() -> None:
    text = "1.推进团建工作：\n（1）城市方面\n（2）农村方面\n2.举办培训"
    assert split_items(text) == ["推进团建工作：\n（1）城市方面\n（2）农村方面", "举办培训"]


def test_chinese_top_level_with_arabic_sublist() -> None:
    text = "一、组织建设\n1.督导配齐班子\n2.完善师资库\n二、宣传工作\n1.加大宣传力度"
    assert split_items(text) == [
        "组织建设\n1.督导配齐班子\n2.完善师资库",
        "宣传工作\n1.加大宣传力度",
    ]


def test_paren_chinese_is_a_family_of_its_own() -> None:
    text = "（一）组织建设\n一、不是本级\n（二）宣传工作"
    assert split_items(text) == ["组织建设\n一、不是本级", "宣传工作"]


def test_chinese_prose_is_not_numbering() -> None:
    text = "一是加强组织建设；\n二是加大宣传力度。"
    assert split_items(text) == [text]


# --- paragraphs, white space, line endings ---------------------------------------------


def test_continuation_paragraphs() -> None:
    text = "1.推进城乡区域化团建工作。\n城市方面，考察示范点。\n农村方面，推进创建。\n2.举办培训"
    assert split_items(text) == [
        "推进城乡区域化团建工作。\n城市方面，考察示范点。\n农村方面，推进创建。",
        "举办培训",
    ]


def test_block_without_numbering_is_one_item() -> None:
    text = "  推进城乡区域化团建工作。\n\n城市方面，考察示范点。  \n农村方面，推进创建。\n"
    assert split_items(text) == [
        "推进城乡区域化团建工作。\n城市方面，考察示范点。\n农村方面，推进创建。"
    ]


def test_leading_unnumbered_paragraph_is_its_own_item() -> None:
    text = "本月主要工作如下：\n补充说明。\n1.召开协调会\n2.推进团建"
    assert split_items(text) == ["本月主要工作如下：\n补充说明。", "召开协调会", "推进团建"]


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n", "\u2028"])
def test_line_endings(newline: str) -> None:
    text = newline.join(["1.召开协调会", "补充说明", "", "2.推进团建", ""])
    assert split_items(text) == ["召开协调会\n补充说明", "推进团建"]


def test_full_width_and_no_break_spaces() -> None:
    text = (
        "\u3000\u30001.\u3000召开协调会\u3000\n"
        "\u00a0\u00a02.\u00a0推进团建\u00a0\n"
        "\u3000\n"
        "\t3.举办培训"
    )
    assert split_items(text) == ["召开协调会", "推进团建", "举办培训"]


def test_zero_width_characters_at_paragraph_ends() -> None:
    assert split_items("\ufeff1.召开协调会\u200b\n\u200b\n2.推进团建") == ["召开协调会", "推进团建"]


def test_inner_white_space_is_kept() -> None:
    assert split_items("1.关于在 “团干部”\n2.推进  团建") == ["关于在 “团干部”", "推进  团建"]


@pytest.mark.parametrize("text", ["", "   ", "\n\r\n\u3000\n", "1.", "1.\n2."])
def test_nothing_to_split(text: str) -> None:
    assert split_items(text) == []


# --- the document's numbering, read back ---------------------------------------------


def cell_text(items: list[str]) -> str:
    """A cell as the document shows it (bot.core.summary numbers it), as one text: what a
    liaison copies out of last month's table and pastes again."""
    return "\n".join(cell_paragraphs(items))


def test_the_cell_numbers_items() -> None:
    assert cell_paragraphs(["召开协调会", "推进团建\n城市方面"]) == [
        "1.召开协调会",
        "2.推进团建",
        "城市方面",
    ]


def test_a_single_item_in_a_cell_is_unnumbered() -> None:
    assert cell_paragraphs(["推进团建\n城市方面"]) == ["推进团建", "城市方面"]


def test_a_cell_without_items_is_empty() -> None:
    assert cell_paragraphs([]) == []


# --- clean_item ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  3.召开协调会  ", "召开协调会"),
        ("\u3000（二）宣传工作\n\n\u3000城市方面\u3000\n", "宣传工作\n城市方面"),
        ("⑤举办培训", "举办培训"),
        ("12、举办培训", "举办培训"),
        ("2在全省推进", "在全省推进"),
        ("1.\n召开协调会", "召开协调会"),
        ("\r\n召开协调会\r\n补充说明\r\n", "召开协调会\n补充说明"),
        # not markers: quantities, years, big numbers
        ("2015年全省推进", "2015年全省推进"),
        ("10个城市完成考察", "10个城市完成考察"),
        ("3.5亿元资金已下拨", "3.5亿元资金已下拨"),
        ("12345热线服务", "12345热线服务"),
        ("20大精神宣讲", "20大精神宣讲"),  # a bare number above 9 is not a marker here
        ("2015，全省推进", "2015，全省推进"),
        # only the first paragraph's marker is stripped
        ("1.召开协调会\n2.推进团建", "召开协调会\n2.推进团建"),
        ("", ""),
        (" \u3000\n", ""),
    ],
)
def test_clean_item(text: str, expected: str) -> None:
    assert clean_item(text) == expected


# --- properties ------------------------------------------------------------------------

# Characters the numbering markers are made of.  split_items may remove only these
# (and white space); everything else must come out, in order.
MARKER_CHARS = frozenset(
    "0123456789０１２３４５６７８９.．、,，()（）一二三四五六七八九十"
    + "".join(chr(c) for c in range(0x2460, 0x2474))  # ①..⑳
    + "".join(chr(c) for c in range(0x2474, 0x249C))  # ⑴..⒇ ⒈..⒛
)
BLANK_RE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]")

CJK = "在全省推进团建工作召开协调会组织开展年月日号个名万亿元部成本"
MARKERS = "0123456789１２.．、,，()（）一二三四五六七八九十①②③⑳⑴⒈"
SPACES = " \t\u3000\u00a0\u200b"
NEWLINES = ["\n", "\r\n", "\r", "\u2028"]
NOISY_CHARS = st.sampled_from(list(CJK + MARKERS + SPACES + "%aZ《“”》") + NEWLINES)
NOISY_TEXT = st.one_of(st.text(), st.lists(NOISY_CHARS, max_size=80).map("".join))


def content(text: str) -> str:
    return BLANK_RE.sub("", text)


def is_subsequence(short: str, long: str) -> bool:
    chars = iter(long)
    return all(c in chars for c in short)


@given(NOISY_TEXT)
@example("1.召开\n2015年全省\n2.推进")
@example("（1）\u3000甲\n一、乙\n①丙\n2 丁")
def test_split_items_never_loses_content(text: str) -> None:
    items = split_items(text)
    for item in items:
        assert item
        for paragraph in item.split("\n"):
            assert paragraph
            assert paragraph == paragraph.strip()
            assert BLANK_RE.match(paragraph[0]) is None
            assert BLANK_RE.match(paragraph[-1]) is None
    got, given_ = content("".join(items)), content(text)
    # Output content is the input content with some characters deleted, in order ...
    assert is_subsequence(got, given_)
    # ... and every deleted character is a marker character.
    deleted = Counter(given_) - Counter(got)
    assert set(deleted) <= MARKER_CHARS
    assert Counter(c for c in got if c not in MARKER_CHARS) == Counter(
        c for c in given_ if c not in MARKER_CHARS
    )


@given(st.lists(NOISY_CHARS.filter(lambda c: c not in MARKERS), max_size=60).map("".join))
def test_text_without_marker_characters_is_one_item(text: str) -> None:
    paragraphs = [p.strip(SPACES) for p in text.splitlines()]
    joined = "\n".join(p for p in paragraphs if p)
    assert split_items(text) == ([joined] if joined else [])


# Items as the bot stores them: paragraphs with no surrounding white space, whose first
# character cannot begin a marker.  Digits, markers and spaces may appear inside.
FIRST_CHARS = st.sampled_from(list("在全省推进团建工作召开协调会组织年月个名万元《“.、%aZ"))
INNER_CHARS = st.sampled_from(list(CJK + MARKERS + " \u3000" + "%aZ《》“”"))
# A marker straight after white space inside a line, or a one-character marker (② ⑵ ⒉)
# anywhere, would be read as numbering typed on one line.
INLINE_MARKER_RE = re.compile(r"\s[0-9１２()（）一二三四五六七八九十]|[\u2460-\u249b]")
PARAGRAPH = st.builds(
    lambda first, rest: (first + rest).rstrip(" \u3000"),
    FIRST_CHARS,
    st.lists(INNER_CHARS, max_size=20).map("".join),
).filter(lambda p: INLINE_MARKER_RE.search(p) is None)
ITEM = st.lists(PARAGRAPH, min_size=1, max_size=3).map("\n".join)


@given(st.lists(ITEM, min_size=1, max_size=25))
def test_the_cell_split_again_round_trips(items: list[str]) -> None:
    assert split_items(cell_text(items)) == items


@given(ITEM)
def test_single_item_is_unnumbered(item: str) -> None:
    assert cell_text([item]) == item
    assert split_items(cell_text([item])) == [item]


@given(ITEM, st.integers(min_value=1, max_value=99))
def test_clean_item_strips_explicit_marker(item: str, number: int) -> None:
    assert clean_item(f" \u3000{number}. {item}\u3000\n\n") == item


# --- items sent one per message keep the liaison's own numbers --------------------------


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        ("（2）开展青年调研", 2, "开展青年调研"),
        ("(2)开展青年调研", 2, "开展青年调研"),
        ("2.开展青年调研", 2, "开展青年调研"),
        ("2、开展青年调研", 2, "开展青年调研"),
        ("2. 开展青年调研", 2, "开展青年调研"),
        ("二、开展青年调研", 2, "开展青年调研"),
        ("（二）开展青年调研", 2, "开展青年调研"),
        ("②开展青年调研", 2, "开展青年调研"),
        ("2在全省开展调研", 2, "在全省开展调研"),  # a bare digit: only the draft's next number
        ("3.12月18日召开座谈会", 3, "12月18日召开座谈会"),
        ("3.2017年以来累计培训", 3, "2017年以来累计培训"),
        ("（5）开展青年调研", 2, "开展青年调研"),  # an explicit marker on the first line
        ("12、开展青年调研", 1, "开展青年调研"),
        ("2.（2）开展青年调研", 2, "开展青年调研"),  # Word's number kept before a typed one
        # numbers that are content
        ("12月18日召开座谈会", 3, "12月18日召开座谈会"),
        ("12月18日召开座谈会", 12, "12月18日召开座谈会"),
        ("2017年以来累计培训", 2, "2017年以来累计培训"),
        ("1148360名团员注册成为志愿者", 3, "1148360名团员注册成为志愿者"),
        ("3.5亿元资金已下拨", 3, "3.5亿元资金已下拨"),
        ("2、3月份集中开展", 2, "2、3月份集中开展"),
        ("5在全省开展调研", 2, "5在全省开展调研"),  # a bare digit that is not next
        ("12345热线服务", 3, "12345热线服务"),
        ("10个城市完成考察", 10, "10个城市完成考察"),
    ],
)
def test_a_single_item_keeps_its_content_and_loses_its_number(
    text: str, start: int, expected: str
) -> None:
    assert split_items(text, start=start) == [expected]


NUMBER_STYLES = [
    lambda n: f"{n}.",
    lambda n: f"{n}、",
    lambda n: f"（{n}）",
    lambda n: f"({n})",
    lambda n: f"{n}. ",
]
CN_NUMERALS = "一二三四五六七八九"


@given(ITEM, st.integers(min_value=1, max_value=30), st.sampled_from(NUMBER_STYLES))
def test_the_items_own_number_is_numbering(item: str, number: int, style: object) -> None:
    assert callable(style)
    assert split_items(style(number) + item, start=number) == [item]


@given(ITEM, st.integers(min_value=1, max_value=9))
def test_circled_and_chinese_numbers_are_numbering(item: str, number: int) -> None:
    assert split_items(chr(0x245F + number) + item, start=number) == [item]
    assert split_items(CN_NUMERALS[number - 1] + "、" + item, start=number) == [item]


@given(
    st.integers(min_value=1, max_value=30),
    st.integers(min_value=1, max_value=99999),
    st.sampled_from(list("年月日号名个人万亿元家项次场期")),
    PARAGRAPH,
)
def test_a_leading_quantity_or_date_is_content(
    start: int, value: int, unit: str, rest: str
) -> None:
    text = f"{value}{unit}{rest}"
    assert split_items(text, start=start) == [text]


# --- sub-lists stay inside their item ---------------------------------------------------


def test_a_sub_list_under_the_first_item_does_not_become_top_level() -> None:
    text = "1.推进团建工作：\n1.城市方面\n2.农村方面\n2.举办培训"
    assert split_items(text) == ["推进团建工作：\n1.城市方面\n2.农村方面", "举办培训"]


def test_a_sub_list_ends_with_its_last_sub_item() -> None:
    text = "1.召开协调会\n2.依托新媒体开设专栏：\n1.推出图文；\n2.其中转发量最高。\n3.举办培训"
    assert split_items(text) == [
        "召开协调会",
        "依托新媒体开设专栏：\n1.推出图文；\n2.其中转发量最高。",
        "举办培训",
    ]


def test_a_sub_list_goes_on_while_its_items_do() -> None:
    text = "1.召开协调会\n2.依托新媒体开设专栏：\n1.推出图文；\n2.转发；\n3.评论。\n3.举办培训"
    assert split_items(text) == [
        "召开协调会",
        "依托新媒体开设专栏：\n1.推出图文；\n2.转发；\n3.评论。",
        "举办培训",
    ]
    text = "1.召开协调会：\n1.甲\n2.乙\n3.丙\n2.举办培训"  # "2." comes again further down
    assert split_items(text) == ["召开协调会：\n1.甲\n2.乙\n3.丙", "举办培训"]


def test_an_item_sent_on_its_own_keeps_its_sub_list() -> None:
    text = "2.依托新媒体开设专栏：\n1.推出图文\n2.其中转发量最高"
    assert split_items(text, start=2) == ["依托新媒体开设专栏：\n1.推出图文\n2.其中转发量最高"]


def test_a_sub_list_sent_one_item_per_message_continues_its_item() -> None:
    opener = "依托新媒体开设专栏："
    assert continue_items("1.推出图文；", opener, 3) == (f"{opener}\n1.推出图文；", [])
    grown = f"{opener}\n1.推出图文；"
    assert continue_items("2.转发量最高；", grown, 3) == (f"{grown}\n2.转发量最高；", [])
    grown = f"{opener}\n1.推出图文；\n2.其中转发量最高。"
    assert continue_items("3.举办培训", grown, 3) == (grown, ["举办培训"])  # the list ended
    assert continue_items("（1）城市方面", "推进团建：", 2) == ("推进团建：\n（1）城市方面", [])


@pytest.mark.parametrize(
    ("last", "text"),
    [
        ("依托新媒体开设专栏：", "城市方面"),  # no numbering: an item of its own
        ("依托新媒体开设专栏：", "3.举办培训"),  # not the sub-list's first number
        ("依托新媒体开设专栏：", "5在全省推进"),
        ("召开协调会", "1.推出图文"),  # nothing opened a sub-list
        ("依托：\n城市方面\n1.推出", "2.其中"),  # prose after the colon: no sub-list
    ],
)
def test_a_message_that_does_not_go_on_with_a_sub_list(last: str, text: str) -> None:
    assert continue_items(text, last, 3) == (last, split_items(text, start=3))


def test_a_lead_in_line_of_a_first_paste_is_still_its_own_item() -> None:
    text = "本月主要工作如下：\n1.召开协调会\n2.推进团建"
    assert split_items(text) == ["本月主要工作如下：", "召开协调会", "推进团建"]


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("1.推出图文", "（1）推出图文"),
        ("2、其中", "（2）其中"),
        ("⒊评论", "（3）评论"),
        ("（1）城市方面", "（1）城市方面"),
        ("一、组织建设", "一、组织建设"),
        ("2015年全省推进", "2015年全省推进"),
        ("3.5亿元资金", "3.5亿元资金"),
        ("城市方面", "城市方面"),
    ],
)
def test_inner_lines_do_not_look_like_the_cells_numbering(line: str, shown: str) -> None:
    assert inner_line(line) == shown


def test_the_cell_shows_a_sub_list_inside_its_item() -> None:
    items = split_items("1.召开协调会\n2.依托新媒体开设专栏：\n1.推出图文；\n2.其中。\n3.举办培训")
    assert cell_paragraphs(items) == [
        "1.召开协调会",
        "2.依托新媒体开设专栏：",
        "（1）推出图文；",
        "（2）其中。",
        "3.举办培训",
    ]
    # A lone item is not numbered, so its sub-list keeps its own numbers.
    assert cell_paragraphs(["开设专栏：\n1.推出图文\n2.其中"]) == [
        "开设专栏：",
        "1.推出图文",
        "2.其中",
    ]


SUB_ITEMS = st.lists(PARAGRAPH, min_size=1, max_size=4)
NESTED_ITEM = st.tuples(PARAGRAPH, SUB_ITEMS | st.just([]))


@given(st.lists(NESTED_ITEM, min_size=2, max_size=8))
def test_a_cells_numbers_read_one_to_n_whatever_the_items_hold(
    items: list[tuple[str, list[str]]],
) -> None:
    stored = [
        head + "：" + "".join(f"\n{k}.{sub}" for k, sub in enumerate(subs, 1)) if subs else head
        for head, subs in items
    ]
    numbers = [
        int(m.group(1))
        for p in cell_paragraphs(stored)
        if (m := re.match(r"([0-9]+)[.、]", p)) is not None
    ]
    assert numbers == list(range(1, len(items) + 1))


# --- the two parts in one paste ---------------------------------------------------------


@pytest.mark.parametrize(
    ("progress", "plan"),
    [
        ("本月份推进情况：", "下一步推进计划："),
        ("本月份推进情况", "下一步推进计划"),
        ("一、本月工作进展", "二、下一步工作打算"),
        ("（一）当月工作情况：", "（二）下个月工作安排："),
        ("【本月完成情况】", "【下月工作计划】"),
        ("【本月工作】：", "【下步打算】："),
        ("1.本月推进情况：", "2.下一步计划："),
        ("**本月工作进展**", "**下阶段工作思路**"),
        ("本月重点工作推进情况:", "下一步工作安排:"),
        ("工作进展：", "工作计划："),
        ("Progress this month:", "Next steps:"),
        ("一、10月份工作进展情况", "二、11月份工作计划"),
        ("本月工作完成情况如下：", "下月工作安排如下："),
        ("十月份工作总结：", "十一月份工作打算："),
        ("一、重点工作推进情况", "二、下一步工作措施"),
        ("推进情况及成效：", "下一阶段工作安排："),
        ("本月份推进情况（2015年10月）：", "下一步推进计划（11月）："),
    ],
)
def test_part_headings_are_recognised(progress: str, plan: str) -> None:
    text = f"{progress}\n1.召开协调会\n2.推进团建\n{plan}\n1.举办培训\n2.开展调研"
    assert split_sections(text) == [
        (Section.PROGRESS, "1.召开协调会\n2.推进团建"),
        (Section.PLAN, "1.举办培训\n2.开展调研"),
    ]


def test_headings_inside_one_line() -> None:
    text = "本月份推进情况：1.召开协调会。下一步推进计划：1.举办培训。"
    assert split_sections(text) == [
        (Section.PROGRESS, "1.召开协调会。"),
        (Section.PLAN, "1.举办培训。"),
    ]


def test_text_before_the_first_heading_comes_first() -> None:
    text = "组织部10月工作汇报\n一、本月工作进展\n1.召开协调会\n二、下一步工作打算\n1.举办培训"
    assert split_sections(text) == [
        (None, "组织部10月工作汇报"),
        (Section.PROGRESS, "1.召开协调会"),
        (Section.PLAN, "1.举办培训"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "下一步将继续推进城乡区域化团建工作。",
        "本月全省共举办培训3场。",
        "计划11月份开展全省街道区域化团建集中活动月。",
        "推进计划落实情况的督查。",
        "计划",
        "进展",
        "本月召开了推进会：各地市参加。",
        "农村方面，下一步重点是电子商务：已对接京东。",
        "近期：组织开展调研。",  # "recently" or "soon": no telling
        "主要工作：召开协调会。",
        "10月份工作：召开协调会。",  # a month alone does not say which part
        "10月份工作计划已下发。",
        "十一月计划",  # a month's heading only when set off as one
        "11月份工作计划",
    ],
)
def test_prose_is_not_a_heading(text: str) -> None:
    assert split_sections(text) is None


@pytest.mark.parametrize("cell", [cell for cell, _ in REAL_CELLS.values()])
def test_real_cells_have_no_headings(cell: str) -> None:
    assert split_sections(cell) is None


# --- chat is not a work item ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "好的收到",
        "好的，收到！",
        "谢谢",
        "谢谢老师",
        "收到，辛苦了🙏",
        "嗯嗯",
        "好的好的",
        "OK",
        "ok 👍",
        "Thanks!",
        "Thank you very much",
        "👍",
        "？",
        "在吗？",
        "这个怎么填？",
        "好的，我晚点发",
        "收到，马上报送",
        "OK, will send later",
    ],
)
def test_chat_is_recognised(text: str) -> None:
    assert is_chatter(text)


@pytest.mark.parametrize(
    "text",
    [
        "暂无",
        "无",
        "同上",
        "召开协调会",
        "12月18日召开会议",
        "收到文件23份",
        "感谢信发放工作",
        "好的经验做法在全省推广",
        "1.好的",
        "好的\n收到",  # several lines: pasted text, kept
        "Organised two training sessions",
    ],
)
def test_items_are_not_chat(text: str) -> None:
    assert not is_chatter(text)


SAMPLE_ITEMS = [item for progress, plan in SAMPLE_ROWS.values() for item in progress + plan]
LEADS = st.sampled_from(["", "12月18日，", "2017年以来，", "1148360名", "（2）", "3.", "②"])


@given(
    LEADS,
    st.sampled_from(SAMPLE_ITEMS),
    st.integers(min_value=0, max_value=200),
    st.integers(min_value=4, max_value=700),
)
def test_report_items_are_never_taken_for_chat(
    lead: str, item: str, begin: int, length: int
) -> None:
    assert not is_chatter(lead + item[begin : begin + length].lstrip("，。；、 ") or item)


# --- numbering typed on one line --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.召开协调会。2.推进团建。3.举办培训", ["召开协调会。", "推进团建。", "举办培训"]),
        ("1.召开协调会；2.推进团建", ["召开协调会；", "推进团建"]),
        ("1.召开协调会 2.推进团建 3.举办培训", ["召开协调会", "推进团建", "举办培训"]),
        ("（1）召开协调会。（2）推进团建", ["召开协调会。", "推进团建"]),
        ("一、召开协调会。二、推进团建", ["召开协调会。", "推进团建"]),
        ("1.召开协调会\n城市方面。2.推进团建", ["召开协调会\n城市方面。", "推进团建"]),
        # a sub-list on the line of its item
        (
            "1.依托新媒体开设专栏：1.推出图文； 2.其中转发量最高。2.举办培训",
            ["依托新媒体开设专栏：1.推出图文； 2.其中转发量最高。", "举办培训"],
        ),
    ],
)
def test_numbering_inside_a_line(text: str, expected: list[str]) -> None:
    assert split_items(text) == expected


def test_circled_numbers_need_no_space() -> None:
    assert split_items("①召开会议②开展调研③形成报告") == ["召开会议", "开展调研", "形成报告"]


@pytest.mark.parametrize(
    "text",
    [
        "召开协调会。2.推进团建",  # no numbered list yet
        "本月主要工作：1.召开协调会 2.推进团建",
        "1.召开全省团干部会议 2.5万人参加 3.举办培训",
        "1.完成第 2、3 批项目",
        "1.召开协调会：2.推进团建",  # after a colon, only a sub-list
        "1.召开协调会 3.推进团建",  # out of sequence
        "1.召开协调会 2在全省推进",  # a bare digit inside a line is never numbering
    ],
)
def test_numbers_inside_a_line_that_are_not_numbering(text: str) -> None:
    items = split_items(text)
    assert len(items) == 1 and items[0] in (text, text[2:])


def test_an_item_sent_on_its_own_keeps_its_inline_sub_list() -> None:
    text = "2.依托新媒体开设专栏：1.推出图文；2.其中转发量最高。"
    assert split_items(text, start=2) == ["依托新媒体开设专栏：1.推出图文；2.其中转发量最高。"]


def test_both_parts_on_one_line() -> None:
    text = "本月份推进情况：1.召开协调会 2.推进团建 下一步推进计划：1.举办培训 2.开展调研"
    sections = split_sections(text)
    assert sections is not None
    assert [(part, split_items(body)) for part, body in sections] == [
        (Section.PROGRESS, ["召开协调会", "推进团建"]),
        (Section.PLAN, ["举办培训", "开展调研"]),
    ]
