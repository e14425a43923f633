"""What opening, re-dating, closing or reopening a month does, given how it stands.

/period in chat and `huibao period` share these rules; storage applies the decision.
Nothing is ever deleted: opening an open month only changes its due time when a new one
is given; opening a closed month reopens it (keeping its due time unless a new one is
given); reopening keeps the due time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from zoneinfo import ZoneInfo

from bot.core.periods import Month, default_due
from bot.core.workdays import LIBRARY, WorkCalendar


class PeriodAction(StrEnum):
    LIST = "list"
    HELP = "help"
    OPEN = "open"
    DUE = "due"
    CLOSE = "close"
    REOPEN = "reopen"
    REMIND = "remind"  # the period's own reminder offsets


class PeriodOutcome(StrEnum):
    """What a change did (texts: ``period_<value>``)."""

    OPENED = "opened"
    REOPENED = "reopened"
    ALREADY_OPEN = "already_open"
    DUE_CHANGED = "due_changed"
    CLOSED = "closed"
    ALREADY_CLOSED = "already_closed"
    REMINDERS_CHANGED = "reminders_changed"
    UNKNOWN = "unknown"  # no such period (due, close, reopen, remind)


class _Stands(Enum):
    MISSING = "missing"
    OPEN = "open"
    CLOSED = "closed"


class _Due(Enum):
    """The due time the command gave, against the stored one."""

    NONE = "none"
    SAME = "same"
    NEW = "new"


_O = PeriodOutcome
_A = PeriodAction
# Opening an open month: re-dated only by a different due time.
_OPEN_AGAIN = {_Due.NONE: _O.ALREADY_OPEN, _Due.SAME: _O.ALREADY_OPEN, _Due.NEW: _O.DUE_CHANGED}
# Moving the due time (of an open or a closed month): any due time given is stored.
_REDATE = {_Due.NONE: _O.ALREADY_OPEN, _Due.SAME: _O.DUE_CHANGED, _Due.NEW: _O.DUE_CHANGED}

_DECISIONS: dict[tuple[PeriodAction, _Stands], PeriodOutcome | Mapping[_Due, PeriodOutcome]] = {
    (_A.OPEN, _Stands.MISSING): _O.OPENED,
    (_A.OPEN, _Stands.OPEN): _OPEN_AGAIN,
    (_A.OPEN, _Stands.CLOSED): _O.REOPENED,
    (_A.DUE, _Stands.OPEN): _REDATE,
    (_A.DUE, _Stands.CLOSED): _REDATE,
    (_A.CLOSE, _Stands.OPEN): _O.CLOSED,
    (_A.CLOSE, _Stands.CLOSED): _O.ALREADY_CLOSED,
    (_A.REOPEN, _Stands.OPEN): _O.ALREADY_OPEN,
    (_A.REOPEN, _Stands.CLOSED): _O.REOPENED,
    (_A.REMIND, _Stands.OPEN): _O.REMINDERS_CHANGED,
    (_A.REMIND, _Stands.CLOSED): _O.REMINDERS_CHANGED,
}
CHANGES = frozenset(action for action, _ in _DECISIONS)  # the actions that change a month


@dataclass(frozen=True)
class PeriodDecision:
    outcome: PeriodOutcome
    due_at: datetime | None = None  # what to store: set on OPENED, REOPENED, DUE_CHANGED


def due_on_day_off(due_at: datetime, tz: ZoneInfo, calendar: WorkCalendar) -> bool:
    """An explicit due time on a holiday or weekend: accepted, with a warning."""
    return not calendar.is_workday(due_at.astimezone(tz).date())


def decide(
    action: PeriodAction,
    month: Month,
    tz: ZoneInfo,
    stored: tuple[bool, datetime] | None,
    due_at: datetime | None = None,
    calendar: WorkCalendar = LIBRARY,
) -> PeriodDecision:
    """The outcome of `action` on a month that is `stored` as (is open, due time), or
    None when there is no such period; `due_at` the due time the command gave (the
    default one falls on a working day of `calendar`)."""
    if action not in CHANGES:
        raise ValueError(f"{action} does not change a period")
    if stored is None:
        stands, current = _Stands.MISSING, None
    else:
        stands, current = (_Stands.OPEN if stored[0] else _Stands.CLOSED), stored[1]
    due = _Due.NONE if due_at is None else _Due.SAME if due_at == current else _Due.NEW
    found = _DECISIONS.get((action, stands), _O.UNKNOWN)
    outcome = found if isinstance(found, PeriodOutcome) else found[due]
    if outcome is _O.OPENED:
        return PeriodDecision(outcome, due_at or default_due(month, tz, calendar))
    if outcome is _O.REOPENED:
        return PeriodDecision(outcome, due_at or current)
    if outcome is _O.DUE_CHANGED:
        return PeriodDecision(outcome, due_at)
    return PeriodDecision(outcome)
