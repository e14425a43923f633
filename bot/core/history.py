"""A department's past reports on one key work item (/history): which version of a month
is history, which item free text names, and the pages the months are shown on.

Pure core: storage reads the months (storage/history.py), the handler renders them
(handlers/history.py) and says how long a page may be.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from enum import Enum

from bot.core.status import SubmissionStatus
from bot.core.word import normalise_title

__all__ = [
    "Found",
    "Lookup",
    "PastMonth",
    "counted_version",
    "history_digest",
    "paginate",
    "pick_item",
    "split_text",
]

IMPORT_PREFIX = "import:"  # submission.source of a month read from Word (storage/imports.py)


@dataclass(frozen=True)
class PastMonth:
    """What the department handed in for the item in one month, as that month had it."""

    month: str  # "2015-10"
    title: str  # the item's title in that month
    progress: list[str]
    plan: list[str]
    version: int
    source: str | None = None  # None: reported in the bot; "import:<file>"
    is_open: bool = False

    @property
    def imported_from(self) -> str | None:
        """The Word file the month was imported from, if it was."""
        if self.source is None or not self.source.startswith(IMPORT_PREFIX):
            return None
        return self.source.removeprefix(IMPORT_PREFIX)


def counted_version(
    status: SubmissionStatus,
    version: int,
    earlier: Collection[int],
    approved: Collection[int],
    returned: Collection[int],
) -> int | None:
    """The version of a month that is history: the one that counts now; while a newer one
    waits for approval or was sent back, the newest earlier version that counted.

    An earlier version counted when an approver approved it; on a submission nobody ever
    approved (a department without approvers counts each version as it is handed in), when
    it was not sent back. A pending or returned version itself is never history; a month
    with no counted version has none (None).
    """
    if status is SubmissionStatus.SUBMITTED:
        return version
    if status not in (SubmissionStatus.PENDING, SubmissionStatus.RETURNED):
        return None
    candidates = [v for v in earlier if v < version and v not in returned]
    if approved:
        candidates = [v for v in candidates if v in approved]
    return max(candidates, default=None)


def history_digest(months: Sequence[PastMonth]) -> str:
    """What a page button carries to tell an old page from the current history: changes
    with every month or version added, revised or imported again."""
    key = ";".join(f"{m.month}:{m.version}:{m.source or ''}" for m in months)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# --- which item free text names -------------------------------------------------------


class Lookup(Enum):
    FOUND = "found"
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class Found:
    """What `pick_item` made of the text: the item's index, or why there is none (and,
    when ambiguous, the indexes it could be)."""

    lookup: Lookup
    index: int | None = None
    candidates: tuple[int, ...] = ()


_QUOTES = "「」『』“”‘’\"'《》〈〉【】[]()（）<>"
_NUMBER = re.compile(r"(?:第|no\.?|#)?\s*([0-9]{1,6})\s*(?:项|\.|、)?", re.IGNORECASE)


def _number(text: str) -> int | None:
    found = _NUMBER.fullmatch(text)
    return int(found.group(1)) if found else None


def pick_item(text: str, titles: Sequence[str]) -> Found:
    """The item `text` names among `titles` (the numbered list /report shows): its number
    (full-width digits, "第2项", "2." too) or its title or a part of it, whatever the
    spacing, quotes (「」) or punctuation."""
    plain = unicodedata.normalize("NFKC", text).strip().strip(_QUOTES).strip()
    number = _number(plain)
    if number is not None:
        if 1 <= number <= len(titles):
            return Found(Lookup.FOUND, number - 1)
        return Found(Lookup.UNKNOWN)
    wanted = normalise_title(plain)
    if not wanted:
        return Found(Lookup.UNKNOWN)
    keys = [normalise_title(t) for t in titles]
    exact = [i for i, key in enumerate(keys) if key == wanted]
    partial = exact or [i for i, key in enumerate(keys) if wanted in key]
    if len(partial) == 1:
        return Found(Lookup.FOUND, partial[0])
    if partial:
        return Found(Lookup.AMBIGUOUS, candidates=tuple(partial))
    return Found(Lookup.UNKNOWN)


# --- pages ------------------------------------------------------------------------------

_BREAKS = "。；;！!？?\n，,、 "  # where a long paragraph is best split, best first


def split_text(text: str, fits: Callable[[str], bool]) -> list[str]:
    """`text` in pieces that each fit, split at a sentence's end where one is near, else at
    a comma or a space, else anywhere: a paragraph too long for one message is split, never
    cut. Joined, the pieces are the text."""
    pieces: list[str] = []
    rest = text
    while rest and not fits(rest):
        low, high = 1, len(rest) - 1  # the longest fitting prefix; a single char always goes
        while low < high:
            middle = (low + high + 1) // 2
            if fits(rest[:middle]):
                low = middle
            else:
                high = middle - 1
        cut = _break_at(rest, low)
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def _break_at(text: str, longest: int) -> int:
    """Where to cut in text[:longest]: after a break character in its last half, else at
    `longest`; at least one character."""
    for mark in _BREAKS:
        at = text.rfind(mark, longest // 2, longest)
        if at >= 0:
            return at + 1
    return max(longest, 1)


def paginate(
    months: Sequence[Sequence[str]],
    fits: Callable[[Sequence[str]], bool],
    continued: Callable[[int], str],
) -> list[list[str]]:
    """The pages: as many whole months (each its blocks: its heading, then a block a
    paragraph) as `fits` one message, newest first as given. A month that fits no page
    alone goes on pages of its own, split between blocks, each later page headed by
    `continued(index of the month)`. A single block must fit a page with that heading."""
    pages: list[list[str]] = []
    page: list[str] = []
    for index, blocks in enumerate(months):
        if page and fits([*page, *blocks]):
            page += blocks
            continue
        if page:
            pages.append(page)
            page = []
        if fits(blocks):
            page = list(blocks)
            continue
        for block in blocks:
            if page and not fits([*page, block]):
                pages.append(page)
                page = [continued(index)]
            page.append(block)
    if page:
        pages.append(page)
    return pages
