"""Assemble the month's summary from stored submissions; bot.core.document renders it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.core.periods import parse_month
from bot.core.summary import Contribution, Draft, Summary, SummaryRow
from storage.models import Period
from storage.roster import organisation, organisation_zone
from storage.submissions import assignments


@dataclass(frozen=True)
class Tally:
    """How complete a month is: key work items fully submitted, and those that are not."""

    submitted: int
    total: int
    missing: list[str]  # titles of key work items not fully submitted, in document order


def build_summary(session: Session, period: Period) -> tuple[Summary, Tally]:
    """Rows in roster order; each department's submitted items, merged in roster order."""
    rows: dict[int, tuple[str, list[Contribution]]] = {}
    complete: dict[int, bool] = {}
    for assignment in assignments(session, period):
        item_id = assignment.work_item.id
        _, contributions = rows.setdefault(item_id, (assignment.work_item.title, []))
        sub = assignment.submission
        if assignment.submitted and sub is not None:
            contributions.append(Contribution(assignment.department.name, sub.progress, sub.plan))
        else:
            contributions.append(Contribution(assignment.department.name, [], []))
        complete[item_id] = complete.get(item_id, True) and assignment.submitted
    summary_rows = [
        SummaryRow(title, contributions if any(c.progress or c.plan for c in contributions) else [])
        for title, contributions in rows.values()
    ]
    missing = [rows[item_id][0] for item_id, done in complete.items() if not done]
    month = parse_month(period.month)
    tally = Tally(submitted=len(rows) - len(missing), total=len(rows), missing=missing)
    summary = Summary(
        year=month.year,
        month=month.month,
        organisation=organisation(session).name,
        rows=summary_rows,
        draft=Draft.of(period.is_open, period.due_at, len(missing), organisation_zone(session)),
    )
    return summary, tally
