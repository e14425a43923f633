"""bot/core/period_change.py: what /period and `huibao period` do to a month, given how
it stands. The whole table, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.period_change import PeriodAction, PeriodDecision, PeriodOutcome, decide
from bot.core.periods import Month, default_due

SHANGHAI = ZoneInfo("Asia/Shanghai")
OCTOBER = Month(2015, 10)
STORED = datetime(2015, 11, 5, 9, 0, tzinfo=UTC)
NEW = STORED + timedelta(days=2)
OPEN, CLOSED = (True, STORED), (False, STORED)

A, Out = PeriodAction, PeriodOutcome
CASES = [
    # action, stored, due given → outcome, due time to store
    (A.OPEN, None, None, Out.OPENED, default_due(OCTOBER, SHANGHAI)),
    (A.OPEN, None, NEW, Out.OPENED, NEW),
    (A.OPEN, OPEN, None, Out.ALREADY_OPEN, None),
    (A.OPEN, OPEN, STORED, Out.ALREADY_OPEN, None),
    (A.OPEN, OPEN, NEW, Out.DUE_CHANGED, NEW),
    (A.OPEN, CLOSED, None, Out.REOPENED, STORED),
    (A.OPEN, CLOSED, NEW, Out.REOPENED, NEW),
    (A.REOPEN, CLOSED, None, Out.REOPENED, STORED),
    (A.REOPEN, OPEN, None, Out.ALREADY_OPEN, None),
    (A.DUE, OPEN, NEW, Out.DUE_CHANGED, NEW),
    (A.DUE, OPEN, STORED, Out.DUE_CHANGED, STORED),
    (A.DUE, CLOSED, NEW, Out.DUE_CHANGED, NEW),  # a closed month can be re-dated
    (A.CLOSE, OPEN, None, Out.CLOSED, None),
    (A.CLOSE, CLOSED, None, Out.ALREADY_CLOSED, None),
    (A.REMIND, OPEN, None, Out.REMINDERS_CHANGED, None),
    (A.REMIND, CLOSED, None, Out.REMINDERS_CHANGED, None),
    (A.DUE, None, NEW, Out.UNKNOWN, None),
    (A.CLOSE, None, None, Out.UNKNOWN, None),
    (A.REOPEN, None, None, Out.UNKNOWN, None),
    (A.REMIND, None, None, Out.UNKNOWN, None),
]


@pytest.mark.parametrize(("action", "stored", "due", "outcome", "store"), CASES)
def test_decision(
    action: PeriodAction,
    stored: tuple[bool, datetime] | None,
    due: datetime | None,
    outcome: PeriodOutcome,
    store: datetime | None,
) -> None:
    assert decide(action, OCTOBER, SHANGHAI, stored, due) == PeriodDecision(outcome, store)


@pytest.mark.parametrize("action", [A.LIST, A.HELP])
def test_listing_and_help_change_nothing(action: PeriodAction) -> None:
    with pytest.raises(ValueError):
        decide(action, OCTOBER, SHANGHAI, OPEN)
