"""Split what a liaison sends into work items; how a numbered cell shows an item's
inner lines (``inner_line``). The cell's own numbering is the document's, in one place:
``bot.core.summary.cell_paragraphs``.

Also here, because they read the same text: the headings of the two parts in one
paste (``split_sections``) and messages that are chat rather than items
(``is_chatter``), both near the end of this module.

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
   numbered 1 (1 / ① / 一), or the number the item gets in the draft (a liaison who
   sends items one per message, or a second block, keeps counting: ``（2）开展…`` as
   the second item), or -- on the message's very first line -- any explicit marker
   up to 99; after that only ``previous + 1`` *of the same marker family* counts.
   The family is fixed by the first item.

Sub-lists: a numbering that restarts at 1 right after a paragraph of a numbered
item ending with a colon (``2.依托新媒体开设专栏：`` / ``1.推出…`` / ``2.其中…``) is
a list inside that item and stays in it, however it is numbered.  (An unnumbered
first paragraph ending with a colon is a lead-in, "本月主要工作如下：", and stays an
item of its own.)  When a sub-item's number is also the next top-level number, it is
the sub-item if that number comes again further down or the previous sub-item ends
with "；" / "，"; otherwise the sub-list has ended.  The same holds across messages
(``continue_items``): a message that goes on with the sub-list the previous item
opened extends that item.  The cell shows such inner lines as ``（1）…`` (see
``inner_line``).

Numbering typed on one line ("1.召开协调会。2.推进团建。" or "1.召开… 2.推进…") counts
too: inside a line, an explicit marker (never a bare digit) after a sentence end or
white space, or a one-character marker (② ⑵ ⒉) anywhere, starts an item under the
same rule, once a numbered item has begun, and never straight after a colon (there
it can only open a sub-list).

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
from dataclasses import dataclass, replace
from enum import Enum, StrEnum

__all__ = [
    "Section",
    "clean_item",
    "continue_items",
    "inner_line",
    "is_chatter",
    "split_items",
    "split_sections",
]

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
_MAX_LONE_NUMBER = 99  # a marker with no sequence to check is believed up to this
_OPENS_LIST = "：:"  # a paragraph ending so may be followed by a sub-list
_LIST_GOES_ON = "；;，,、"  # a sub-item ending so is followed by another
_INLINE_AFTER = "。；;！!？?" + _OPENS_LIST  # numbering inside a line may follow these
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
    """The numbering marker at the start of a stripped paragraph, if it has one; a second
    marker of the same number straight after it ("2.（2）开展…", Word's automatic number
    kept before a typed one) is part of it."""
    marker = _one_marker(par)
    if marker is None:
        return None
    again = _one_marker(par[marker.end :])
    if again is not None and again.number == marker.number and not again.loose:
        return replace(marker, end=marker.end + again.end)
    return marker


def _one_marker(par: str) -> _Marker | None:
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


@dataclass(frozen=True)
class _Piece:
    """A paragraph, or the part of one from an inline marker on ("…工作。2.推进…")."""

    text: str
    marker: _Marker | None
    glue: str | None = None  # inline: the text between it and the piece before; else None
    after_colon: bool = False  # inline, straight after "：" (a sub-list may open there)


def _pieces(text: str) -> list[_Piece]:
    """The paragraphs, each cut before every explicit marker that follows a sentence end,
    a colon or white space: numbering a liaison typed on one line."""
    pieces: list[_Piece] = []
    for par in _paragraphs(text):
        begin, glue, after_colon = 0, None, False
        for at in range(1, len(par)):
            before = par[at - 1]
            anywhere = par[at] in _CIRCLED or par[at] in _PAREN_SINGLE or par[at] in _STOP_SINGLE
            if not (anywhere or before in _INLINE_AFTER or _strip(before) == ""):
                continue
            if _strip(par[at]) == "":
                continue
            marker = _read_marker(par[at:])
            if marker is None or marker.loose:
                continue
            body = par[begin:at]
            kept = _strip(body)
            pieces.append(_piece(kept, glue, after_colon))
            begin, glue, after_colon = at, body[len(kept) :], before in _OPENS_LIST
        pieces.append(_piece(par[begin:], glue, after_colon))
    return pieces


def _piece(text: str, glue: str | None, after_colon: bool) -> _Piece:
    return _Piece(text, _read_marker(text), glue, after_colon)


def _ends_with(text: str, chars: str) -> bool:
    return bool(text) and text[-1] in chars


def _opens_item(
    piece: _Piece, marker: _Marker, family: _Family | None, expected: int, start: int, first: bool
) -> bool:
    """Whether a marked piece starts a new top-level item.

    Once the first item fixed the family, only ``expected`` of that family counts.
    Before that, the first item may be numbered 1 or ``start`` (the number the draft
    gives the next item, for a liaison who continues their own numbering); the very
    first paragraph of the message may carry any explicit marker up to 99 (a message
    "（5）开展…" is numbered, whatever the draft holds).  Inside a line, a marker
    starts an item only in a numbered list and not straight after a colon.
    """
    if piece.glue is not None and (family is None or piece.after_colon):
        return False
    if family is not None:
        return marker.family is family and marker.number == expected
    if marker.number in (1, start):
        return True
    return first and not marker.loose and marker.number <= _MAX_LONE_NUMBER


def _sub_list_goes_on(pieces: list[_Piece], index: int, marker: _Marker) -> bool:
    """A marker that is both the next sub-item and the next top-level item: which is it?

    It is the sub-item when the same number comes again further down (that later one
    is then the top-level item), when the line before opens the sub-list ("："), or
    when the previous sub-item ends as list items inside a sentence do ("；" "，");
    otherwise the sub-list has ended.
    """
    for later in pieces[index + 1 :]:
        again = later.marker
        if again is not None and again.family is marker.family and again.number == marker.number:
            return True
    return _ends_with(pieces[index - 1].text, _LIST_GOES_ON + _OPENS_LIST)


def _open_sub_list(item: str) -> tuple[_Family | None, int, str] | None:
    """The sub-list an item ends in, left open for the next message: (family or None
    when not begun yet, next number, last line); None when the item ends otherwise.

    Open means: a line ending with a colon, then nothing but its sub-items numbered
    1, 2, … (and their further lines).
    """
    lines = item.split("\n")
    opener = max((i for i, line in enumerate(lines) if _ends_with(line, _OPENS_LIST)), default=-1)
    if opener < 0:
        return None
    family: _Family | None = None
    expected = 1
    for line in lines[opener + 1 :]:
        marker = _read_marker(line)
        if marker is None or marker.loose or (family is not None and marker.family is not family):
            if family is None:
                return None  # prose straight after the colon: no sub-list
            continue
        if marker.number != expected:
            return None
        family, expected = marker.family, expected + 1
    return family, expected, lines[-1]


def split_items(text: str, start: int = 1) -> list[str]:
    """Split a pasted block into work items, numbering stripped.

    The document renumbers items itself, so stored items must not carry the
    liaison's numbers.  See the module docstring for the sequence-aware rule that
    keeps prose such as "2015年…" from being taken for numbering.  Paragraphs of one
    item are joined with "\\n"; a block without numbering is one item, and text
    before the first numbered paragraph is an item of its own.  ``start`` is the
    number the next item has in the draft (a block may continue from there).
    """
    return _split(_pieces(text), start, None)


def continue_items(text: str, last: str, start: int) -> tuple[str, list[str]]:
    """A message after the item ``last``: that item as the message leaves it, and the
    new items.

    A message whose numbering goes on with a sub-list that ``last`` opened (it ends
    with "…专栏：" or with that sub-list's items) continues ``last``, as it would in
    one paste; otherwise this is split_items().
    """
    pieces = _pieces(text)
    opened = _open_sub_list(last)
    marker = pieces[0].marker if pieces else None
    if (
        opened is None
        or marker is None
        or marker.number != opened[1]
        or opened[0] not in (None, marker.family)
    ):
        return last, _split(pieces, start, None)
    family, expected, line = opened
    before = _Piece(line, _read_marker(line))
    items = _split([before, *pieces], start, (family, expected), last)
    return items[0], items[1:]


def _split(
    pieces: list[_Piece],
    start: int,
    sub: tuple[_Family | None, int] | None,
    last: str | None = None,
) -> list[str]:
    """The items of the pieces.  With ``last``, the first piece is that item's last
    line, ``sub`` its open sub-list, and the first item returned is ``last`` as the
    pieces leave it."""
    items: list[list[str]] = [[last]] if last is not None else []
    first = 1 if last is not None else 0  # the index of the text's first piece
    family: _Family | None = None
    expected = 1

    def keep(piece: _Piece) -> None:
        """The piece as text of the current item, on its own line or where it was."""
        if not items:
            items.append([piece.text])
        elif piece.glue is None:
            items[-1].append(piece.text)
        else:
            text = items[-1][-1]
            items[-1][-1] = f"{text}{piece.glue}{piece.text}" if text else piece.text

    for index in range(first, len(pieces)):
        piece = pieces[index]
        marker = piece.marker
        if marker is None:
            keep(piece)
            continue
        top = _opens_item(piece, marker, family, expected, start, index == first)
        in_sub = sub is not None and sub[1] == marker.number and sub[0] in (None, marker.family)
        if in_sub and not (top and not _sub_list_goes_on(pieces, index, marker)):
            sub = (marker.family, marker.number + 1)
            keep(piece)
        elif (
            family is not None
            and marker.number == 1
            and _ends_with(pieces[index - 1].text, _OPENS_LIST)
        ):
            sub = (marker.family, 2)
            keep(piece)
        elif top:
            family, expected, sub = marker.family, marker.number + 1, None
            items.append([piece.text[marker.end :]])
        else:
            keep(piece)
    joined = ["\n".join(p for p in item if p) for item in items]
    if last is not None:
        return [joined[0], *(item for item in joined[1:] if item)]
    return [item for item in joined if item]


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
        if marker is not None and marker.number <= (9 if marker.loose else _MAX_LONE_NUMBER):
            paragraphs[0] = paragraphs[0][marker.end :]
    return "\n".join(p for p in paragraphs if p)


def inner_line(line: str) -> str:
    """A further line of an item as a numbered cell shows it.

    In a cell numbered "1." "2." …, an inner line starting "1." would read as the
    cell's own numbering (a sub-list flattened into the top level); it is shown as
    "（1）" instead.  Other lines, and other marker styles, are kept as they are.
    """
    marker = _read_marker(line)
    if marker is None or marker.family is not _Family.ARABIC or marker.loose:
        return line
    return f"（{marker.number}）{line[marker.end :]}"


# --- the two parts of a report in one paste ------------------------------------------


class Section(StrEnum):
    """The two cells of a report; the values are those of bot.core.draft.Part."""

    PROGRESS = "progress"
    PLAN = "plan"


# Headings liaisons put above the two parts: "本月份推进情况" "一、本月工作进展"
# "【下一步工作打算】：" "二、下月工作计划" "Next steps:".  A heading is a whole
# paragraph, or the start of one followed by a colon; inside a line it counts only
# after a sentence end or a space and with a colon ("…工作。下一步推进计划：1.…").
_NOW = r"(?:本|当|这个?|上个?)月份?|本期|本阶段|本季度|本周"
_NEXT = r"下一步|下步|下一阶段|下阶段|下个?月份?|下一?期|下周|今后|后续"
_OF_WORK = r"(?:的)?(?:重点|主要)?(?:工作)?"
_DONE = r"(?:推进|进展|完成|落实|开展|工作)?(?:情况|进展|进度)?(?:总结|汇报)?"
_PLAN_KIND = r"(?:推进|工作|主要)?(?:计划|打算|安排|思路|举措|措施|目标|重点)?"
# "10月份工作进展" / "11月份工作计划": a month by number says which part only with
# the words after it, and is a heading only when set off as one (a colon, a marker
# such as "一、", or brackets): "十一月计划" alone is an item.
_MONTH = r"(?:[0-9０-９]{1,2}|[一二三四五六七八九十]{1,3})月份?"
_DONE_SAID = r"(?:推进|进展|完成|落实|开展|工作)?(?:情况|进展|进度|总结|汇报)"
_PLAN_SAID = r"(?:推进|工作|主要)?(?:计划|打算|安排|思路)"
_PROGRESS_WORDS = (
    rf"(?:(?:{_NOW}){_OF_WORK}{_DONE}|(?P<month_done>{_MONTH}){_OF_WORK}{_DONE_SAID}"
    r"|(?:重点|主要)?(?:工作)?(?:推进|进展|完成|落实|开展)(?:情况|进度)"
    r"|(?:重点|主要)?工作(?:情况|进展|进度|完成情况)|主要做法)"
    r"(?:(?:及|和|与)(?:成效|成果|亮点))?"
    r"|progress(?: this month)?|this month(?:'s)?(?: progress| work)?|work (?:done|progress)"
)
_PLAN_WORDS = (
    rf"(?:{_NEXT}){_OF_WORK}{_PLAN_KIND}|(?P<month_plan>{_MONTH}){_OF_WORK}{_PLAN_SAID}"
    r"|(?:推进|工作)?(?:计划|打算|安排|思路)"
    r"|next steps?|plans?(?: for next month)?|next month(?:'s)?(?: plans?| work)?"
    r"|next-step plans?"
)
_CLOSE = r"[】\]〕）)》*＊#\s]*"
_HEADING_RE = re.compile(
    rf"[【\[〔《*＊#\s]*(?:(?P<progress>{_PROGRESS_WORDS})|(?P<plan>{_PLAN_WORDS}))"
    rf"(?:[（(][^（()）]{{1,12}}[）)])?(?:如下)?{_CLOSE}(?:(?P<colon>[：:]){_CLOSE}|$)",
    re.IGNORECASE,
)
_SENTENCE_END_RE = re.compile(r"[。；;！!？?]\s*|(?<![A-Za-z])\s+")
_STRONG_HEADING_CHARS = 4  # "下步打算" and longer: a heading without a colon too


def _heading(par: str, *, inline: bool = False) -> tuple[Section, str] | None:
    """The part a paragraph is the heading of, and the text after the heading."""
    marker = None if inline else _read_marker(par)
    body = par[marker.end :] if marker is not None else par
    m = _HEADING_RE.match(body)
    if m is None:
        return None
    words = m.group("progress") or m.group("plan")
    if len(words) < _STRONG_HEADING_CHARS and (inline or m.group("colon") is None):
        return None  # "计划" alone is an item; "计划：" and "下步打算" are headings
    if inline and m.group("colon") is None:
        return None
    set_off = m.group("colon") or marker is not None or body[:1] in "【[〔"
    if (m.group("month_done") or m.group("month_plan")) and not set_off:
        return None
    section = Section.PROGRESS if m.group("progress") else Section.PLAN
    return section, _strip(body[m.end() :])


def _heading_lines(line: str) -> list[str]:
    """A line cut before every heading inside it."""
    pieces: list[str] = []
    begin = 0
    for end in _SENTENCE_END_RE.finditer(line):
        at = end.end()
        if at > begin and at < len(line) and _heading(line[at:], inline=True) is not None:
            pieces.append(line[begin:at])
            begin = at
    pieces.append(line[begin:])
    return pieces


def split_sections(text: str) -> list[tuple[Section | None, str]] | None:
    """A paste cut at its part headings: (part, text under the heading) in order.

    Text before the first heading comes as (None, text).  None when the paste has
    no heading at all.  A heading's own words are not kept; what follows it on its
    line is.
    """
    segments: list[tuple[Section | None, list[str]]] = []
    section: Section | None = None
    lines: list[str] = []
    found = False
    for raw in text.splitlines():
        for par in _paragraphs("\n".join(_heading_lines(raw))):
            heading = _heading(par)
            if heading is None:
                lines.append(par)
                continue
            if lines or section is not None:
                segments.append((section, lines))
            section, rest = heading
            lines = [rest] if rest else []
            found = True
    if not found:
        return None
    segments.append((section, lines))
    return [(part, "\n".join(body)) for part, body in segments]


# --- messages that are not report items ------------------------------------------------

# Courtesy and acknowledgement words (zh, en).  A message made only of these (and
# punctuation or emoji) is chat, not a work item: "好的收到" "谢谢老师！" "OK 👍".
_CHAT_LINES = (
    "好 好的 好滴 好哒 好嘞 好吧 好了 嗯 嗯嗯 哦 噢 喔 哈 呵 嘿 啊 呀 哇 哟 耶 啦",
    "吧 呢 嘛 的 了 么",
    "收到 收悉 已收到 知道 知道了 明白 明白了 了解 了解了 懂了 清楚 行 可以 没问题 没事",
    "对 对的 是 是的 谢 谢谢 谢了 多谢 感谢 非常 十分 辛苦 辛苦了 麻烦 麻烦了 打扰 打扰了",
    "不客气 客气 您好 你好 大家好 早 早上好 上午好 下午好 晚上好 晚安 在 在吗 在的 请问",
    "稍等 马上 等等 等一下 抱歉 不好意思 对不起 再见 拜拜 老师 领导 主任 同志 各位 您 你",
    "哥 姐 赞 棒 ok okay okk kk k thanks thank you thx ty got it hi hello hey yes yeah yep",
    "no sure fine great cool noted bye sorry wait lol good morning nice alright understood",
    "received will do roger please pls np welcome much very later soon send",
    "我 我们 发 发送 报送 提交 填报 修改 晚点 稍后 一会 一会儿 待会 待会儿 回头 这就 就 再 先",
)
_CHAT_WORDS = frozenset(word for line in _CHAT_LINES for word in line.split())
_CHAT_LONGEST = max(map(len, _CHAT_WORDS))
_CHAT_MAX_CHARS = 30  # anything longer is worth keeping
_WORDS_RE = re.compile(r"[^\W_]+")


def _chat_words_only(chunk: str) -> bool:
    """Whether a run of letters is made entirely of courtesy words."""
    reachable = [True] + [False] * len(chunk)
    for end in range(1, len(chunk) + 1):
        reachable[end] = any(
            reachable[begin] and chunk[begin:end] in _CHAT_WORDS
            for begin in range(max(0, end - _CHAT_LONGEST), end)
        )
    return reachable[-1]


def is_chatter(text: str) -> bool:
    """Whether a message is probably chat ("好的收到", "谢谢", "👍", "这个怎么填？")
    rather than a work item, so the bot asks before adding it.

    Conservative: a message of several lines, with a numbering marker, or longer
    than a short sentence is never chat; within that, only courtesy words,
    punctuation and emoji, or a short question.
    """
    paragraphs = _paragraphs(text)
    if len(paragraphs) != 1:
        return False
    line = paragraphs[0]
    if len(line) > _CHAT_MAX_CHARS or _read_marker(line) is not None:
        return False
    words = _WORDS_RE.findall(line.lower())
    if all(_chat_words_only(word) for word in words):
        return True
    return line[-1] in "？?"
