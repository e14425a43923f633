"""The pure core of /history (bot/core/history.py): which version of a month is history,
which item typed text names, and how months fill pages."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from bot.core.history import (
    Lookup,
    PastMonth,
    counted_version,
    history_digest,
    paginate,
    pick_item,
    split_text,
)
from bot.core.status import SubmissionStatus as S
from handlers import buttons
from handlers.buttons import HistoryTap

TITLES = ["团的制度建设", "基层服务型团组织建设", "团干部队伍建设"]


# --- the version that counts ------------------------------------------------------------


def test_the_current_version_counts_when_submitted() -> None:
    assert counted_version(S.SUBMITTED, 3, [1, 2, 3], [], []) == 3


def test_a_pending_version_leaves_the_earlier_counted_one() -> None:
    # No approver ever approved: each version counted as handed in.
    assert counted_version(S.PENDING, 3, [1, 2, 3], [], []) == 2
    # Where approvals happened, only an approved version counted.
    assert counted_version(S.PENDING, 3, [1, 2, 3], [1], []) == 1
    # A version sent back counts no more.
    assert counted_version(S.RETURNED, 3, [1, 2, 3], [], [3, 2]) == 1
    assert counted_version(S.PENDING, 1, [1], [], []) is None
    assert counted_version(S.DRAFT, 0, [], [], []) is None


# --- the item named ------------------------------------------------------------------------


def test_numbers_and_names_however_typed() -> None:
    for typed in ("3", "３", " 3 ", "第3项", "3.", "「3」", "#3"):
        assert pick_item(typed, TITLES).index == 2, typed
    for typed in ("团干部", "团干部 队伍", "「团干部队伍建设」", "３.团干部队伍建设", "服务型"):
        found = pick_item(typed, TITLES)
        assert found.lookup is Lookup.FOUND, typed
    assert pick_item("团的制度建设", TITLES).index == 0
    assert pick_item("建设", TITLES).candidates == (0, 1, 2)
    for typed in ("0", "4", "宣传", "", "「」", "!!"):
        assert pick_item(typed, TITLES).lookup is Lookup.UNKNOWN, typed


@given(st.text(max_size=60), st.lists(st.text(min_size=1, max_size=30), max_size=8))
def test_any_text_names_at_most_an_item_it_fits(text: str, titles: list[str]) -> None:
    found = pick_item(text, titles)
    if found.lookup is Lookup.FOUND:
        assert found.index is not None and 0 <= found.index < len(titles)
    if found.lookup is Lookup.AMBIGUOUS:
        assert len(found.candidates) > 1
        assert all(0 <= i < len(titles) for i in found.candidates)


@given(st.sampled_from(TITLES), st.sampled_from(["", " ", "　", "「", "」", "“", "”"]))
def test_a_title_typed_with_spaces_and_quotes_is_found(title: str, mess: str) -> None:
    typed = mess + mess.join(title) + mess
    assert pick_item(typed, TITLES).index == TITLES.index(title)


@given(st.integers(1, 3))
def test_full_width_numbers_are_numbers(number: int) -> None:
    wide = "".join(chr(ord("０") + int(d)) for d in str(number))
    assert unicodedata.normalize("NFKC", wide) == str(number)
    assert pick_item(wide, TITLES).index == number - 1


# --- pages ---------------------------------------------------------------------------------


def fits_in(limit: int):  # type: ignore[no-untyped-def]
    return lambda blocks: len("\n".join(blocks)) <= limit


def cont(index: int) -> str:
    return f"[{index}续]"


def test_whole_months_fill_a_page_newest_first() -> None:
    months = [["A", "a1", "a2"], ["B", "b1"], ["C", "c1", "c2"]]
    pages = paginate(months, fits_in(16), cont)
    assert pages == [["A", "a1", "a2", "B", "b1"], ["C", "c1", "c2"]]
    assert paginate(months, fits_in(100), cont) == [[b for m in months for b in m]]
    assert paginate([], fits_in(10), cont) == []


def test_a_month_longer_than_a_page_goes_on_over_pages_of_its_own() -> None:
    long = ["L", *(f"line{n}" for n in range(10))]
    pages = paginate([["A", "a"], long, ["B", "b"]], fits_in(25), cont)
    assert pages[0] == ["A", "a"]
    assert pages[1][0] == "L" and all(p[0] == "[1续]" for p in pages[2:-1])
    body = [b for page in pages[1:] for b in page if b != "[1续]"]
    assert body[: len(long)] == long  # every block, in order, none cut
    assert all(fits_in(25)(page) for page in pages)


@given(
    st.lists(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=6), max_size=12),
    st.integers(20, 80),
)
def test_every_block_shows_once_in_order_on_pages_that_fit(
    months: list[list[str]], limit: int
) -> None:
    pages = paginate(months, fits_in(limit), cont)
    shown = [b for page in pages for b in page if not (b.startswith("[") and b.endswith("续]"))]
    assert shown == [b for m in months for b in m if not (b.startswith("[") and b.endswith("续]"))]
    assert all(fits_in(limit)(page) for page in pages)


@given(st.text(max_size=400), st.integers(1, 60))
def test_a_long_paragraph_is_split_never_cut(text: str, limit: int) -> None:
    pieces = split_text(text, lambda piece: len(piece) <= limit)
    assert "".join(pieces) == text
    assert all(len(piece) <= limit for piece in pieces)
    assert all(pieces) or pieces == [""]


def test_a_paragraph_is_split_at_a_sentence_end() -> None:
    text = "第一句话很长很长。第二句话也很长。第三句"
    assert split_text(text, lambda piece: len(piece) <= 10) == [
        "第一句话很长很长。",
        "第二句话也很长。",
        "第三句",
    ]


# --- what a page button carries ---------------------------------------------------------


def month(version: int, source: str | None = None) -> PastMonth:
    return PastMonth("2015-10", "团的制度建设", ["进展"], ["计划"], version, source)


def test_the_digest_changes_with_a_new_version_or_month() -> None:
    one: Sequence[PastMonth] = [month(1)]
    assert history_digest(one) == history_digest([month(1)])
    assert history_digest(one) != history_digest([month(2)])
    assert history_digest(one) != history_digest([month(1, "import:九月.docx")])
    assert month(1, "import:九月.docx").imported_from == "九月.docx"
    assert month(1).imported_from is None


ids = st.integers(min_value=0, max_value=2**63 - 1)


@given(ids, ids, st.integers(0, buttons.MAX_PAGES - 1), st.text("0123456789abcdef", min_size=16))
def test_history_buttons_round_trip_in_64_bytes(
    department: int, item: int, page: int, digest: str
) -> None:
    data = buttons.history_page(department, item, page, digest)
    assert len(data.encode()) <= 64
    assert buttons.parse(data) == HistoryTap(department, item, page, digest[:16])
    assert buttons.parse(buttons.open_history(department, item)) == HistoryTap(department, item)


def test_forged_history_data_is_none() -> None:
    for data in ("hi:", "hi:1", "hi:1:2:3", "hi:1:2:0:abc", "hi:1:2:1000:" + "0" * 16,
                 "hi:-1:2", "hi:1:2:0:" + "G" * 16, "hi:01:2"):  # fmt: skip
        assert buttons.parse_history(data) is None, data
