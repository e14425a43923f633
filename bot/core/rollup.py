"""A roll-up of several months (a quarter, a half, a year or any A..B) as data: for each
key work item, each month's progress under its month heading, and the latest plan.

Pure core and light, like bot.core.summary: it is made from the months' summaries, so a
cell reads as the monthly table's cell did; bot.core.rollup_document renders it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.periods import Month, MonthRange
from bot.core.summary import Summary, numbered_row, one_line
from bot.core.texts import document_text

__all__ = [
    "MonthCell",
    "NumberedRollUpRow",
    "RollUp",
    "RollUpRow",
    "assemble_rollup",
    "document_order",
    "numbered_rollup_rows",
    "rollup_filename",
    "rollup_subject",
    "rollup_title",
]


@dataclass(frozen=True, slots=True)
class MonthCell:
    """One month of a key work item: its heading ("10月") and the progress paragraphs
    the monthly table showed (empty: the item existed but nothing was reported)."""

    month: Month
    heading: str
    progress: list[str]


@dataclass(frozen=True)
class RollUpRow:
    item_id: int
    title: str  # the title of the last month the item existed in
    former_titles: list[str]  # earlier titles within the range, oldest first
    months: list[MonthCell]  # only the months the item existed in, in order
    plan: list[str]  # the latest plan in the range; empty: none was reported
    plan_month: Month | None


@dataclass(frozen=True)
class RollUp:
    range: MonthRange
    organisation: str  # may be ""
    months: list[Month]  # the months of the range that have a period, in order
    absent: list[Month]  # the months of the range without one
    open: list[Month]  # months still open: the document is a draft
    rows: list[RollUpRow]  # document order (see document_order)

    @property
    def draft(self) -> bool:
        return bool(self.open)


def _heading(month: Month, wanted: MonthRange) -> str:
    with_year = wanted.first.year != wanted.last.year
    return document_text("rollup_month", year=month.year, month=month.month, with_year=with_year)


def document_order(months: Sequence[Sequence[int]]) -> list[int]:
    """Key work items (ids) in the order of the months' tables, oldest month first:
    the latest month's order, an item it no longer has placed after the item it
    followed when it last appeared (or before the one it preceded).

    >>> document_order([[1, 2, 3], [1, 3, 4]])
    [1, 2, 3, 4]
    >>> document_order([[2, 1], [1, 2]])
    [1, 2]
    """
    order: list[int] = []
    for ids in reversed(months):
        previous: int | None = None
        for n, item_id in enumerate(ids):
            if item_id not in order:
                order.insert(_place(order, previous, ids[n + 1 :]), item_id)
            previous = item_id
    return order


def _place(order: list[int], previous: int | None, following: Sequence[int]) -> int:
    """Where an item goes: after the item it followed, else before the first item that
    followed it, else last."""
    if previous is not None:
        return order.index(previous) + 1
    return next((order.index(i) for i in following if i in order), len(order))


def assemble_rollup(wanted: MonthRange, organisation: str, summaries: Iterable[Summary]) -> RollUp:
    """The range's roll-up from the summaries of its months that have a period (any
    order; months outside the range are left out)."""
    by_month = {Month(s.year, s.month): s for s in summaries}
    by_month = {m: s for m, s in by_month.items() if wanted.first <= m <= wanted.last}
    months = [m for m in wanted.months() if m in by_month]
    titles: dict[int, list[str]] = {}
    cells: dict[int, list[MonthCell]] = {}
    plans: dict[int, tuple[list[str], Month]] = {}
    for month in months:
        for row in by_month[month].rows:
            shown = numbered_row(0, row)
            seen = titles.setdefault(row.item_id, [])
            if shown.title not in seen:
                seen.append(shown.title)
            cells.setdefault(row.item_id, []).append(
                MonthCell(month, _heading(month, wanted), shown.progress)
            )
            if shown.plan:
                plans[row.item_id] = (shown.plan, month)
    order = document_order([[r.item_id for r in by_month[m].rows] for m in months])
    rows = []
    for item_id in order:
        *former, latest = titles[item_id]
        plan, plan_month = plans.get(item_id, ([], None))
        rows.append(RollUpRow(item_id, latest, former, cells[item_id], plan, plan_month))
    return RollUp(
        range=wanted,
        organisation=organisation,
        months=months,
        absent=[m for m in wanted.months() if m not in by_month],
        open=[m for m in months if by_month[m].draft],
        rows=rows,
    )


# ------------------------------------------------------------------------ document


@dataclass(frozen=True, slots=True)
class NumberedRollUpRow:
    """A row as the roll-up document shows it."""

    no: int
    title: str
    former: str  # earlier titles joined with "、", "" when never renamed
    months: list[MonthCell]
    plan: list[str]
    plan_from: str  # the plan's month heading when it is not the item's last month, else ""


def numbered_rollup_rows(rollup: RollUp) -> list[NumberedRollUpRow]:
    """The table's rows, numbered 1..n."""
    found = []
    for no, row in enumerate(rollup.rows, 1):
        last = row.months[-1].month if row.months else None
        plan_from = ""
        if row.plan_month is not None and row.plan_month != last:
            plan_from = _heading(row.plan_month, rollup.range)
        former = "、".join(one_line(t) for t in row.former_titles)
        found.append(NumberedRollUpRow(no, row.title, former, row.months, row.plan, plan_from))
    return found


def _range_values(rollup: RollUp) -> dict[str, object]:
    wanted = rollup.range
    return {
        "span": wanted.span.value,
        "number": wanted.number,
        "first_year": wanted.first.year,
        "first_month": wanted.first.month,
        "last_year": wanted.last.year,
        "last_month": wanted.last.month,
    }


def rollup_title(rollup: RollUp) -> str:
    """E.g. "2015年第四季度重点工作推进情况汇总表" (templates/document/names.j2)."""
    return document_text("rollup_title", **_range_values(rollup))


def rollup_filename(rollup: RollUp) -> str:
    """E.g. "2015年第四季度重点工作推进情况汇总表.docx" (templates/document/names.j2)."""
    return document_text("rollup_filename", **_range_values(rollup))


def rollup_subject(rollup: RollUp) -> str:
    """The subject in the file's properties (templates/document/names.j2)."""
    return document_text("rollup_subject", **_range_values(rollup))
