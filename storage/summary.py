"""Read the month's submissions for its summary: bot.core.summary assembles it and
bot.core.document renders it."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.periods import parse_month
from bot.core.summary import Summary, Tally, assemble_summary
from storage.models import Period
from storage.roster import organisation, organisation_zone
from storage.submissions import assignments


def build_summary(session: Session, period: Period) -> tuple[Summary, Tally]:
    """The period's summary and how complete it is, as its submissions stand now."""
    return assemble_summary(
        parse_month(period.month),
        organisation(session).name,
        assignments(session, period),
        is_open=period.is_open,
        due_at=period.due_at,
        tz=organisation_zone(session),
    )
