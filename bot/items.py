"""Split a pasted cell into numbered work items, and format items back into a cell.

Each cell of the summary table (本月份推进情况 / 下一步推进计划) is a list of work
items.  Liaisons paste blocks from WeChat or Word with their own numbering; we store
the items *without* numbering and let the document number them, so a re-ordered or
edited list never carries stale numbers.

Numbering rule (why it is sequence-aware): Chinese prose is full of numbers at the
start of a line -- "2015年全省…", "10个城市…", "3.5亿元…" -- so a digit at the
start of a paragraph is not enough to start an item.  A paragraph starts a new item
only when

1. it begins with a recognised marker (see ``_read_marker``), and
2. the marker's number is exactly the next one expected: the first item must be
   numbered 1 (1 / ① / 一), and after that only ``previous + 1`` *of the same marker
   family* counts.  The family is fixed by the first item.

Marker families (separators within a family may be mixed, e.g. "1在…" then "2. 继续…"):

* arabic: ``1.`` ``1．`` ``1、`` ``1,`` ``1，`` ``1 `` (digit + space), a bare digit
  straight before text (``1在全省…``), and ``⒈``…``⒛``;
* arabic in parentheses: ``(1)`` ``（1）`` ``（1)`` ``(1）`` ``1)`` ``1）`` ``⑴``…``⒇``;
* circled: ``①``…``⑳``;
* Chinese numeral: ``一、`` ``一.`` ``一．`` … ``十一、`` … ``九十九、``;
* Chinese numeral in parentheses: ``（一）`` ``(一)``.

Every other paragraph -- unnumbered, a different family (a nested ``（1）`` list under
``1.``), or a number out of sequence -- continues the item above it, its text kept
verbatim.  Arabic markers are further guarded against quantities:

* a bare digit or ``digit + space`` counts only when followed by a letter/CJK
  character or an opening quote/bracket, never by a measure word or unit
  (年 月 日 个 名 人 万 亿 元 …, see ``_UNITS``), punctuation such as ``%`` or ``:``,
  or (for a bare digit) a Latin letter ("5G", "4A级");
* an explicit separator followed directly by a digit is a decimal / thousands
  separator / enumeration ("3.5亿元", "1,000", "1、2月份") and does not count --
  except when the digits read as a date: a 4-digit year before 年, 1–12 before 月,
  1–31 before 日/号 ("1.2015年…", "3.11月份…").  "N、(N+1)月" is the month
  enumeration "1、2月" and does not count.

Nothing but the marker and surrounding white space is ever removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

__all__ = ["clean_item", "format_items", "split_items"]

# White space plus the invisible characters WeChat/Word pastes carry at line ends.
_BLANK = r"[\s\u200b\u200c\u200d\u2060\ufeff]"
_STRIP_RE = re.compile(rf"^{_BLANK}+|{_BLANK}+$")
# White space allowed between a digit and the text in a "digit + space" marker.
_GAP_RE = re.compile(r"[ \t\u3000\u00a0]+")

_DIGITS = "0-9０-９"
_CN_DIGITS = "一二三四五六七八九"
_CN_NUM = _CN_DIGITS + "十"

_ARABIC_RE = re.compile(rf"[{_DIGITS}]+")
_PAREN_ARABIC_RE = re.compile(rf"[(（]\s*([{_DIGITS}]+)\s*[)）]")
_CN_RE = re.compile(rf"([{_CN_NUM}]{{1,3}})[、.．]")
_PAREN_CN_RE = re.compile(rf"[(（]\s*([{_CN_NUM}]{{1,3}})\s*[)）]")

_CIRCLED = {chr(0x2460 + i): i + 1 for i in range(20)}  # ①..⑳
_PAREN_SINGLE = {chr(0x2474 + i): i + 1 for i in range(20)}  # ⑴..⒇
_STOP_SINGLE = {chr(0x2488 + i): i + 1 for i in range(20)}  # ⒈..⒛

_SEPARATORS = ".．、,，"
_CLOSE_PARENS = ")）"
_OPENERS = "《“‘「『【〈〔\"'"

# Measure words and units: a number straight before one of these is a quantity
# ("3家单位", "2万人", "1名同志"), not an item number.  Characters that commonly
# *begin* an item (组 部 成 起 对 本 台 支 所 分 集 首 单 座 多 省 市 县 区 …) are
# deliberately left out, so "1组织开展…" still splits.  Missing a split only merges
# two items; mistaking a quantity for a marker would drop a real digit, hence the
# set leans towards quantities.
_UNITS = frozenset(
    "年月日号时秒周天季岁届期轮次遍趟"
    "个名人位户家件项条份篇张册套辆架艘只片块批场例笔宗款章节则层栋间类种级倍余"
    "万千百亿兆元角米吨亩斤克升度"
)


class _Family(Enum):
    ARABIC = "1."
    PAREN_ARABIC = "(1)"
    CIRCLED = "①"
    CN = "一、"
    PAREN_CN = "（一）"


@dataclass(frozen=True)
class _Marker:
    family: _Family
    number: int
    end: int  # index in the paragraph where the item text starts
    loose: bool  # bare digit or digit + space: weakest evidence of numbering


def _strip(text: str) -> str:
    return _STRIP_RE.sub("", text)


def _paragraphs(text: str) -> list[str]:
    """Non-empty stripped paragraphs; splitlines() covers \\r\\n, \\r and U+2028."""
    return [p for p in (_strip(line) for line in text.splitlines()) if p]


def _cn_number(numeral: str) -> int | None:
    """一..九十九 as an int; None for malformed numerals such as 一一 or 十十."""
    digits = {c: i + 1 for i, c in enumerate(_CN_DIGITS)}
    if "十" not in numeral:
        return digits[numeral] if len(numeral) == 1 else None
    tens, _, ones = numeral.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    return (digits[tens] if tens else 1) * 10 + (digits[ones] if ones else 0)


def _is_date(digits: str, unit: str, number: int, separator: str) -> bool:
    """Whether "N<sep><digits><unit>" reads as item N starting with a date."""
    value = int(digits)
    if unit == "年":
        return len(digits) == 4
    if unit == "月":
        # "1、2月份" is the month enumeration January-February.
        return 1 <= value <= 12 and not (separator == "、" and value == number + 1)
    if unit in "日号":
        return 1 <= value <= 31
    return False


def _after_marker(par: str, pos: int) -> int:
    """Skip the white space between a marker and the item text."""
    while pos < len(par) and _strip(par[pos]) == "":
        pos += 1
    return pos


def _read_arabic(par: str) -> _Marker | None:
    m = _ARABIC_RE.match(par)
    if m is None:
        return None
    digits, pos = m.group(), m.end()
    number = int(digits)
    nxt = par[pos] if pos < len(par) else ""
    if nxt and nxt in _CLOSE_PARENS:
        return _Marker(_Family.PAREN_ARABIC, number, _after_marker(par, pos + 1), False)
    if nxt and nxt in _SEPARATORS:
        following = _ARABIC_RE.match(par, pos + 1)
        if following is not None:
            end = following.end()
            unit = par[end] if end < len(par) else ""
            if not (unit and _is_date(following.group(), unit, number, nxt)):
                return None
        return _Marker(_Family.ARABIC, number, _after_marker(par, pos + 1), False)
    gap = _GAP_RE.match(par, pos)
    text_at = gap.end() if gap else pos
    if text_at >= len(par):
        return None  # a number alone on its line is not a marker
    first = par[text_at]
    if first in _UNITS:
        return None
    if gap is None:
        # Bare digit: only before CJK text or an opening quote ("1在全省", "1《关于》").
        if not (_is_cjk(first) or first in _OPENERS):
            return None
    else:
        following = _ARABIC_RE.match(par, text_at)
        if following is not None:
            end = following.end()
            unit = par[end] if end < len(par) else ""
            if not (unit and _is_date(following.group(), unit, number, " ")):
                return None
        elif not (first.isalpha() or first in _OPENERS):
            return None
    return _Marker(_Family.ARABIC, number, text_at, True)


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def _read_marker(par: str) -> _Marker | None:
    """The numbering marker at the start of a stripped paragraph, if it has one."""
    if not par:
        return None
    head = par[0]
    for table, family in (
        (_CIRCLED, _Family.CIRCLED),
        (_PAREN_SINGLE, _Family.PAREN_ARABIC),
        (_STOP_SINGLE, _Family.ARABIC),
    ):
        if head in table:
            return _Marker(family, table[head], _after_marker(par, 1), False)
    m = _PAREN_ARABIC_RE.match(par)
    if m:
        return _Marker(_Family.PAREN_ARABIC, int(m.group(1)), _after_marker(par, m.end()), False)
    for regex, family in ((_CN_RE, _Family.CN), (_PAREN_CN_RE, _Family.PAREN_CN)):
        m = regex.match(par)
        if m:
            number = _cn_number(m.group(1))
            if number is None:
                return None
            return _Marker(family, number, _after_marker(par, m.end()), False)
    return _read_arabic(par)


def split_items(text: str) -> list[str]:
    """Split a pasted block into work items, numbering stripped.

    The document renumbers items itself, so stored items must not carry the
    liaison's numbers.  See the module docstring for the sequence-aware rule that
    keeps prose such as "2015年…" from being taken for numbering.  Paragraphs of one
    item are joined with "\\n"; a block without numbering is one item, and text
    before the first numbered paragraph is an item of its own.
    """
    items: list[list[str]] = []
    family: _Family | None = None
    expected = 1
    for par in _paragraphs(text):
        marker = _read_marker(par)
        if (
            marker is not None
            and marker.number == expected
            and (family is None or marker.family is family)
        ):
            family, expected = marker.family, expected + 1
            items.append([par[marker.end :]])
        elif items:
            items[-1].append(par)
        else:
            items.append([par])
    joined = ("\n".join(p for p in item if p) for item in items)
    return [item for item in joined if item]


def format_items(items: Sequence[str]) -> str:
    """The cell text as the document shows it: '1.xxx\\n2.yyy', a lone item unnumbered,
    continuation paragraphs on their own lines.

    A single item is not numbered because "1." in front of the only entry reads as
    an unfinished list in the printed table.  split_items() reads this text back.
    """
    if len(items) == 1:
        return items[0]
    return "\n".join(f"{n}.{item}" for n, item in enumerate(items, start=1))


def clean_item(text: str) -> str:
    """Normalise one item sent as its own message: strip surrounding (ASCII and
    full-width U+3000) white space of each paragraph, drop empty lines, strip a
    leading number marker of the first paragraph.

    A single message has no sequence to check against, so any number is accepted
    from an explicit marker ("3.", "（二）", "⑤") up to 99, but a bare digit or
    digit + space only up to 9, which keeps "12345热线…" or "20大精神…" intact.
    """
    paragraphs = _paragraphs(text)
    if paragraphs:
        marker = _read_marker(paragraphs[0])
        if marker is not None and marker.number <= (9 if marker.loose else 99):
            paragraphs[0] = paragraphs[0][marker.end :]
    return "\n".join(p for p in paragraphs if p)
