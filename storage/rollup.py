"""Read the months of a range for its roll-up: each month's summary as the monthly
table has it (storage.summary), assembled by bot.core.rollup."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.periods import MonthRange
from bot.core.rollup import RollUp, assemble_rollup
from storage.periods import get_period
from storage.roster import organisation
from storage.summary import build_summary


def build_rollup(session: Session, wanted: MonthRange) -> RollUp | None:
    """The range's roll-up from the months that have a period; None when none has."""
    summaries = []
    for month in wanted.months():
        found = get_period(session, str(month))
        if found is not None:
            summaries.append(build_summary(session, found)[0])
    if not summaries:
        return None
    return assemble_rollup(wanted, organisation(session).name, summaries)
