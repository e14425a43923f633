"""/compile RANGE: the roll-up of a quarter, a half, a year or any A..B as a Word document.

Thin, like handlers/coordinator.py (whose /compile hands a range here): storage reads
the months, bot.core.rollup assembles them and bot.core.rollup_document renders them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.core.periods import MAX_RANGE_MONTHS, MonthRange, PeriodError, parse_range
from bot.core.rollup import RollUp
from handlers.common import Refusal, Who
from storage import periods as period_store
from storage.rollup import build_rollup


@dataclass(frozen=True)
class CompiledRollUp:
    """What /compile RANGE found: the roll-up, and its caption."""

    sender: Who
    rollup: RollUp
    caption: str


def wanted_range(sender: Who, args: list[str]) -> MonthRange | None:
    """The range /compile names; None for none or for a single month (2015-10, or
    2015-10..2015-10): the monthly table. Raises the answer naming the forms a range
    takes when it is neither."""
    wanted = args[0].strip()[:64] if args else ""
    if not wanted:
        return None
    try:
        found = parse_range(wanted)
    except PeriodError as exc:
        too_long = exc.name == "range_too_long"
        answer = sender.text(
            "rollup_bad_range", text=wanted, too_long=too_long, limit=MAX_RANGE_MONTHS
        )
        raise Refusal(answer) from None
    return None if found.first == found.last else found


def rollup_caption(sender: Who, rollup: RollUp) -> str:
    return sender.text(
        "rollup_caption",
        range=str(rollup.range),
        months=[str(m) for m in rollup.months],
        absent=[str(m) for m in rollup.absent],
        open=[str(m) for m in rollup.open],
        items=len(rollup.rows),
    )


def compile_rollup(sender: Who, db: Session, wanted: MonthRange) -> CompiledRollUp:
    """The range's roll-up and its caption; the answer saying why when it has no month."""
    rollup = build_rollup(db, wanted)
    if rollup is None:
        months = [p.month for p in period_store.all_periods(db)]
        raise Refusal(sender.text("rollup_no_periods", range=str(wanted), months=months))
    return CompiledRollUp(sender, rollup, rollup_caption(sender, rollup))
