"""The coordinator console without Telegram: reading /period arguments.

handlers/coordinator.py turns these into chat answers; the CLI shares the period rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.command_input import CommandInputError
from bot.core.period_change import PeriodAction
from bot.core.periods import Month, PeriodError, parse_due, parse_month
from bot.core.schedule import parse_offsets


class PeriodInputError(CommandInputError):
    """The words after /period: `kind` is "usage", "month" or "due"."""


@dataclass(frozen=True)
class PeriodCommand:
    action: PeriodAction
    month: Month | None = None
    due_at: datetime | None = None  # aware UTC; None: keep (or, on open, the default)
    offsets: str | None = None  # REMIND: "-2d,0d", or "" to go back to the settings


def _month(text: str) -> Month:
    try:
        return parse_month(text)
    except PeriodError:
        raise PeriodInputError("month", text) from None


def _due(text: str, tz: ZoneInfo) -> datetime:
    try:
        return parse_due(text, tz)
    except PeriodError:
        raise PeriodInputError("due", text) from None


def _offsets(text: str) -> str:
    """Reminder offsets as the settings write them; "default" (or 默认) clears them."""
    cleaned = text.replace(" ", "").replace("，", ",")
    if cleaned.lower() in ("default", "默认"):
        return ""
    if not cleaned:
        raise PeriodInputError("usage", text)
    try:
        parse_offsets(cleaned)
    except ValueError:
        raise PeriodInputError("offsets", text) from None
    return cleaned


def parse_period_command(args: Sequence[str], tz: ZoneInfo) -> PeriodCommand:
    """`/period [open|due|close|reopen] [YYYY-MM] [YYYY-MM-DD HH:MM]` → what to do.

    Raises PeriodInputError saying whether the shape, the month or the due time was
    wrong, so the answer can say so in the user's language.
    """
    words = [w for w in args if w.strip()]
    if not words:
        return PeriodCommand(PeriodAction.LIST)
    try:
        action = PeriodAction(words[0].lower())
    except ValueError:
        raise PeriodInputError("usage", words[0]) from None
    if action in (PeriodAction.LIST, PeriodAction.HELP):
        return PeriodCommand(action)
    if len(words) < 2:
        raise PeriodInputError("usage", words[0])
    month = _month(words[1])
    rest = " ".join(words[2:])
    if action is PeriodAction.OPEN:
        return PeriodCommand(action, month, _due(rest, tz) if rest else None)
    if action is PeriodAction.DUE:
        if not rest:
            raise PeriodInputError("usage", " ".join(words))
        return PeriodCommand(action, month, _due(rest, tz))
    if action is PeriodAction.REMIND:
        return PeriodCommand(action, month, offsets=_offsets(rest))
    if rest:
        raise PeriodInputError("usage", " ".join(words))
    return PeriodCommand(action, month)


__all__ = [
    "PeriodAction",
    "PeriodCommand",
    "PeriodInputError",
    "parse_period_command",
]
