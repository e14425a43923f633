"""/calendar (coordinators, private chat or group): the year's public holidays and 调休
working days, and the office's own days off and working days.

Thin: the words are read by bot.core.calendar_command, the rule is bot.core.workdays',
storage.calendar keeps the office's list (audited) and says what a change moves.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from bot.core.calendar_command import (
    CalendarAction,
    CalendarCommand,
    CalendarInputError,
    change_view,
    moved_view,
    override_view,
    parse_calendar_command,
    run_view,
)
from bot.core.schedule import ReminderSchedule
from handlers.common import CONSOLE, Who, reply, require, services, with_db_or_refusal
from storage.calendar import change_calendar, year_listing


def _year_text(sender: Who, db: Session, year: int) -> str:
    listing = year_listing(db, year)
    return sender.text(
        "calendar_year",
        year=year,
        known=listing.known,
        runs=[run_view(run) for run in listing.library],
        office=[override_view(o) for o in listing.office],
    )


def calendar_answer(
    sender: Who, db: Session, command: CalendarCommand, base: ReminderSchedule, now: datetime
) -> str:
    """Do what /calendar asked and word the answer: what changed, and which reminders
    and due days of the open months it moves (`base`: the settings' schedule)."""
    if command.action is CalendarAction.HELP:
        return sender.text("calendar_usage")
    if command.action is CalendarAction.LIST:
        return _year_text(sender, db, command.year or now.astimezone(sender.tz).year)
    outcome = change_calendar(db, command, base, actor=sender.actor, now=now)
    changed = outcome.change.changed
    lines = [sender.text("calendar_changed", **change_view(command, changed, outcome.calendar))]
    if changed:
        lines += [sender.text("calendar_moved", **moved_view(m)) for m in outcome.moved]
        if not outcome.moved:
            lines.append(sender.text("calendar_unchanged_months"))
    return "\n".join(line.strip() for line in lines)


async def calendar_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/calendar [YEAR] | holiday DATE [NOTE] | workday DATE [NOTE] | clear DATE | help."""
    args, svc = list(context.args or []), services(context)
    now, base = svc.now(), svc.settings.reminder_schedule

    def work(db: Session, sender: Who) -> str:
        require(sender, CONSOLE)
        try:
            command = parse_calendar_command(args)
        except CalendarInputError as exc:
            return sender.text("calendar_bad_input", kind=exc.kind, text=exc.text)
        return calendar_answer(sender, db, command, base, now)

    answer = await with_db_or_refusal(update, context, work)
    if answer is not None:
        await reply(update, answer)
