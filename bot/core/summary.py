"""The monthly summary table ``{M}月份重点工作推进情况汇总表`` as data: its rows, each
department's contribution, the numbering of a cell and whether the month is still a draft.

Pure core and light: no Telegram, no database, no python-docx, so a handler can number a
preview or name the file without loading the document libraries; bot.core.document
renders a Summary into the Word template.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.items import inner_line
from bot.core.periods import Month
from bot.core.status import Assignment
from bot.core.texts import document_text

__all__ = [
    "Contribution",
    "Draft",
    "NumberedRow",
    "Summary",
    "SummaryRow",
    "Tally",
    "assemble_summary",
    "cell_paragraphs",
    "numbered_row",
    "one_line",
    "summary_filename",
    "summary_title",
]


@dataclass(frozen=True)
class Contribution:
    """One department's submitted items for one key work item.

    Items carry no numbering; an item may contain "\\n" (several paragraphs).
    A contribution with neither progress nor plan stands for a department that
    is responsible for the item but has not submitted.
    """

    department: str
    progress: list[str]
    plan: list[str]


@dataclass(frozen=True)
class SummaryRow:
    title: str
    contributions: list[Contribution]  # roster order; empty = nothing submitted
    item_id: int = 0  # the key work item (a roll-up follows it across months); 0: unknown


@dataclass(frozen=True)
class Draft:
    """Why a document is not yet the final one: its period is still open (reports may
    still come in or change until it closes), with `unreported` items still missing."""

    due: str  # the due time as the organisation reads it, "2015-11-05 17:00"
    unreported: int

    @classmethod
    def of(
        cls, is_open: bool, due_at: dt.datetime | None, unreported: int, tz: dt.tzinfo
    ) -> Draft | None:
        """The draft mark of a period's document: none once the period is closed."""
        if not is_open:
            return None
        due = f"{due_at.astimezone(tz):%Y-%m-%d %H:%M}" if due_at is not None else ""
        return cls(due, unreported)


@dataclass(frozen=True)
class Summary:
    year: int
    month: int
    organisation: str  # may be "" (then no organisation line)
    rows: list[SummaryRow]  # roster (document) order
    # The period is still open → a visible draft mark saying why; None (or False): the
    # final document. True: a draft without the reasons (the template's generic words).
    draft: Draft | bool | None


# --------------------------------------------------------------------------- text

# Characters XML 1.0 cannot carry (and \f, \v, \a that docxtpl would turn into
# page or paragraph breaks).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAK = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")


def _clean(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def one_line(text: str) -> str:
    """Title-like text: one line, collapsed whitespace, no control characters."""
    return " ".join(_clean(text).split())


def _item_lines(item: str) -> list[str]:
    lines = (line.strip() for line in _LINE_BREAK.split(_clean(item).expandtabs(1)))
    return [line for line in lines if line]


def cell_paragraphs(items: Sequence[str]) -> list[str]:
    """Merged items → the paragraphs a table cell shows.

    Items are numbered "1.", "2.", … (only when there is more than one item); the
    further lines of an item become their own, unnumbered paragraphs. Blank items
    and blank lines are dropped; surrounding whitespace is stripped. In a numbered
    cell, a further line numbered like the cell ("1." of a sub-list) is shown as
    "（1）", so the sub-list reads as part of its item.

    >>> cell_paragraphs(["甲", "乙\\n乙续"])
    ['1.甲', '2.乙', '乙续']
    >>> cell_paragraphs(["甲\\n甲续"])
    ['甲', '甲续']
    >>> cell_paragraphs(["甲", "乙：\\n1.子项"])
    ['1.甲', '2.乙：', '（1）子项']
    """
    split = [lines for lines in map(_item_lines, items) if lines]
    if len(split) == 1:
        return split[0]
    out: list[str] = []
    for n, (first, *rest) in enumerate(split, 1):
        out.append(f"{n}.{first}")
        out.extend(inner_line(line) for line in rest)
    return out


def summary_title(summary: Summary) -> str:
    """The default title, e.g. "10月份重点工作推进情况汇总表" (templates/document/names.j2):
    the template's ``{{ title }}`` and the file's properties."""
    return document_text("title", year=summary.year, month=summary.month)


def summary_filename(summary: Summary) -> str:
    """The file name, e.g. "2015年10月重点工作推进情况汇总表.docx" (templates/document/names.j2)."""
    return document_text("filename", year=summary.year, month=summary.month)


# -------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class NumberedRow:
    """A row as the document shows it: numbered, its cells' paragraphs, who is missing."""

    no: int
    title: str
    progress: list[str]
    plan: list[str]
    missing: str


def numbered_row(no: int, row: SummaryRow) -> NumberedRow:
    """Row `no` (1..n) of the table: each cell's items merged in roster order and numbered."""
    progress = cell_paragraphs([i for c in row.contributions for i in c.progress])
    plan = cell_paragraphs([i for c in row.contributions for i in c.plan])
    silent = [
        one_line(c.department)
        for c in row.contributions
        if not _item_lines("\n".join(c.progress)) and not _item_lines("\n".join(c.plan))
    ]
    # Only a partly submitted row names who is missing; a row nobody submitted
    # already reads （未报送） in both cells.
    missing = "、".join(d for d in silent if d) if (progress or plan) else ""
    return NumberedRow(
        no=no, title=one_line(row.title), progress=progress, plan=plan, missing=missing
    )


# --------------------------------------------------------------------------- assembly


@dataclass(frozen=True)
class Tally:
    """How complete a month is: key work items fully submitted, and those that are not."""

    submitted: int
    total: int
    missing: list[str]  # titles of key work items not fully submitted, in document order


def assemble_summary(
    month: Month,
    organisation: str,
    found: Iterable[Assignment],
    *,
    is_open: bool,
    due_at: dt.datetime | None,
    tz: dt.tzinfo,
) -> tuple[Summary, Tally]:
    """The month's summary from its assignments (document then roster order): each row
    the departments' submitted items in roster order, none while nobody submitted; a
    draft mark while the period is open."""
    rows: dict[int, tuple[str, list[Contribution]]] = {}
    complete: dict[int, bool] = {}
    for assignment in found:
        item_id = assignment.work_item.id
        _, contributions = rows.setdefault(item_id, (assignment.work_item.title, []))
        sub = assignment.submission if assignment.submitted else None
        progress, plan = (sub.progress, sub.plan) if sub is not None else ([], [])
        contributions.append(Contribution(assignment.department.name, progress, plan))
        complete[item_id] = complete.get(item_id, True) and assignment.submitted
    summary_rows = [
        SummaryRow(
            title,
            contributions if any(c.progress or c.plan for c in contributions) else [],
            item_id,
        )
        for item_id, (title, contributions) in rows.items()
    ]
    missing = [rows[item_id][0] for item_id, done in complete.items() if not done]
    tally = Tally(submitted=len(rows) - len(missing), total=len(rows), missing=missing)
    draft = Draft.of(is_open, due_at, len(missing), tz)
    summary = Summary(month.year, month.month, organisation, summary_rows, draft)
    return summary, tally
