"""The coordinator console: /compile, /status and /period, in a private chat or a group.

Thin on purpose: the rules live in bot/core (period_command, period_change, status,
summary); this module checks the role, has storage apply them and answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session
from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.core.period_change import PeriodOutcome, due_on_day_off
from bot.core.period_command import (
    PeriodAction,
    PeriodCommand,
    PeriodInputError,
    parse_period_command,
)
from bot.core.periods import PeriodError, listed, local_text, parse_month, parse_range, weekday
from bot.core.rollup import rollup_filename
from bot.core.status import DepartmentStatus, PeriodStatus
from bot.core.summary import Summary, summary_filename
from handlers import buttons
from handlers.chunks import fit_list, pack
from handlers.common import (
    CONSOLE,
    Refusal,
    Who,
    reply,
    require,
    services,
    with_db_or_refusal,
)
from handlers.reminders import send_open_notices
from handlers.rollup import CompiledRollUp, compile_rollup, wanted_range
from storage import periods as period_store
from storage.calendar import work_calendar
from storage.models import Period
from storage.review import departments
from storage.submissions import period_status
from storage.summary import build_summary

log = logging.getLogger(__name__)

ACTION_EVERY = 4.0  # seconds; Telegram shows a chat action for about five


def _unknown_month(sender: Who, db: Session, month: str | None) -> str:
    months = [p.month for p in period_store.all_periods(db)]
    if month is None or not months:
        return sender.text("console_no_periods")
    return sender.text("console_unknown_month", month=month, months=months)


def find_period(sender: Who, db: Session, args: list[str]) -> Period:
    """The period the command's argument names (default: open, else latest); raises the
    answer that says why there is none."""
    wanted = args[0].strip()[:64] if args else ""
    try:
        month = str(parse_month(wanted)) if wanted else None
    except PeriodError:
        raise Refusal(sender.text("console_bad_month", text=wanted)) from None
    found = period_store.choose_period(db, month)
    if found is None:
        raise Refusal(_unknown_month(sender, db, month))
    return found


@contextlib.asynccontextmanager
async def showing(chat: Chat, action: str) -> AsyncIterator[None]:
    """Keep a chat action ("uploading a document…") visible while the work runs."""

    async def repeat() -> None:
        while True:
            with contextlib.suppress(TelegramError):
                await chat.send_action(action)
            await asyncio.sleep(ACTION_EVERY)

    task = asyncio.create_task(repeat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def caption(sender: Who, summary: Summary, status: PeriodStatus, now: datetime) -> str:
    """The tally under the document, the list of what is missing shortened to fit: a
    shared key work item one of whose departments reported names those who did not."""
    missing = [
        {"title": item.title, "departments": item.missing if item.submitted_any else []}
        for item in status.items
        if not item.submitted
    ]

    waiting = sum(1 for item in status.items if item.awaiting_approval)

    def render(shown: list[dict[str, Any]], more: int) -> str:
        tally = sender.text(
            "compile_caption",
            submitted=status.submitted,
            total=status.total,
            missing=shown,
            more=more,
            draft=bool(summary.draft),
            month=status.month,
            due=local_text(status.due_at, sender.tz),
            overdue=now > status.due_at,
            unreported=status.missing,
        )
        return f"{tally}\n{sender.text('compile_pending', count=waiting)}" if waiting else tally

    return fit_list(render, missing)


# --- /compile ---------------------------------------------------------------------


@dataclass(frozen=True)
class Compiled:
    """What /compile found: the summary, and its caption."""

    sender: Who
    summary: Summary
    caption: str


async def compile_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/compile [YYYY-MM]: the month's summary table as a Word document; /compile RANGE
    (2015-Q4, 2015-H2, 2015, 2015-10..2015-12): the roll-up of its months."""
    chat = update.effective_chat
    assert chat is not None
    args, now = list(context.args or []), services(context).now()

    def work(db: Session, sender: Who) -> Compiled | CompiledRollUp:
        require(sender, CONSOLE)
        wanted = wanted_range(sender, args)
        if wanted is not None:
            return compile_rollup(sender, db, wanted)
        month = [str(parse_range(args[0]).first)] if args else []  # 2015-10..2015-10 too
        found = find_period(sender, db, month)
        summary, _ = build_summary(db, found)
        status = period_status(db, found, now)
        return Compiled(sender, summary, caption(sender, summary, status, now))

    compiled = await with_db_or_refusal(update, context, work)
    if compiled is None:
        return
    # Loaded here, not at start-up: python-docx and lxml take most of the bot's memory.
    from bot.core.document import TemplateError, render_summary
    from bot.core.rollup_document import render_rollup

    sender, rollup = compiled.sender, isinstance(compiled, CompiledRollUp)
    async with showing(chat, ChatAction.UPLOAD_DOCUMENT):
        try:
            if isinstance(compiled, CompiledRollUp):
                filename = rollup_filename(compiled.rollup)
                content = await asyncio.to_thread(render_rollup, compiled.rollup)
            else:
                filename = summary_filename(compiled.summary)
                content = await asyncio.to_thread(render_summary, compiled.summary)
        except TemplateError as exc:
            log.error("the template for %s is not usable: %s", filename, exc)
            problem = exc.explain(sender.language)
            await reply(
                update,
                sender.text("rollup_template_broken", problem=problem)
                if rollup
                else sender.text("compile_template_broken", problem=problem),
            )
            return
        await chat.send_document(document=content, filename=filename, caption=compiled.caption)


# --- /status ----------------------------------------------------------------------


def _department_view(sender: Who, d: DepartmentStatus) -> dict[str, Any]:
    return {
        "department": d.department,
        "state": d.state.value,
        "label": sender.plain(f"state_{d.state.value}"),
        "at": local_text(d.submitted_at, sender.tz) if d.submitted_at else "",
        "by": d.submitted_by,
        "overdue": d.late and d.submitted_at is None,
    }


def _to_chase(status: PeriodStatus) -> list[dict[str, Any]]:
    """Departments that owe something, those owing most first, with how many items."""
    owed: dict[str, int] = {}
    for item in status.pending:
        for department in item.missing:
            owed[department] = owed.get(department, 0) + 1
    ranked = sorted(owed.items(), key=lambda pair: -pair[1])
    return [{"department": name, "count": count} for name, count in ranked]


def status_blocks(sender: Who, db: Session, period: Period, now: datetime) -> list[str]:
    """The counts and whom to chase; then what is pending (overdue first), each item
    with its departments; then what was submitted, a line an item. Split between items."""
    status = period_status(db, period, now)
    blocks = [
        sender.text(
            "status_head",
            month=status.month,
            due=local_text(status.due_at, sender.tz),
            open=status.is_open,
            submitted=status.submitted,
            total=status.total,
            on_time=status.on_time,
            submitted_late=status.submitted_late,
            missing=status.missing,
            overdue=status.overdue,
            chase=_to_chase(status),
        )
    ]
    sections = (
        (True, status.pending, "status_item"),
        (False, status.done, "status_done"),
    )
    for pending, items, text_name in sections:
        for index, item in enumerate(items):
            departments = [_department_view(sender, d) for d in item.departments]
            text = sender.text(
                text_name, number=item.number, title=item.title, departments=departments
            )
            if index == 0:  # the section's heading travels with its first item
                heading = sender.text("status_section", pending=pending, count=len(items))
                text = f"\n{heading}\n{text}"
            elif pending:
                text = "\n" + text  # a blank line between pending items
            blocks.append(text)
    if not status.items:
        blocks.append(sender.text("status_empty"))
    return blocks


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status [YYYY-MM]: what is pending and who owes it, then what was submitted."""
    args, now = list(context.args or []), services(context).now()

    def work(db: Session, sender: Who) -> tuple[list[str], InlineKeyboardMarkup | None]:
        require(sender, CONSOLE)
        found = find_period(sender, db, args)
        messages = [message.strip() for message in pack(status_blocks(sender, db, found, now))]
        return messages, department_keyboard(db, found)

    messages, keyboard = await with_db_or_refusal(update, context, work) or ([], None)
    for index, message in enumerate(messages):
        await reply(update, message, keyboard if index == len(messages) - 1 else None)


DEPARTMENTS_A_ROW = 3


def department_keyboard(db: Session, period: Period) -> InlineKeyboardMarkup | None:
    """A button per department of the period (its name): a tap shows its report (/show)."""
    found = [
        InlineKeyboardButton(d.name, callback_data=buttons.show_department(period.id or 0, d.id))
        for d in departments(db, period.id or 0)
    ]
    rows = [found[i : i + DEPARTMENTS_A_ROW] for i in range(0, len(found), DEPARTMENTS_A_ROW)]
    return InlineKeyboardMarkup(rows) if rows else None


# --- /period ----------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodAnswer:
    text: str
    opened: int | None = None  # the id of a month that just (re)opened: tell its liaisons


def due_text(sender: Who, moment: datetime) -> str:
    """A due time with its day of the week, as the organisation reads it."""
    day = sender.plain("weekday", day=weekday(moment, sender.tz))
    return f"{local_text(moment, sender.tz)} {day}"


def _period_list(sender: Who, db: Session) -> str:
    periods = [
        replace(p, due=f"{p.due} {sender.plain('weekday', day=p.weekday)}")
        for p in listed(period_store.period_views(db), sender.tz)
    ]
    if not periods:
        return sender.text("console_no_periods")
    return sender.text("period_list", periods=periods)


def period_answer(sender: Who, db: Session, command: PeriodCommand, now: datetime) -> PeriodAnswer:
    """Do what /period asked (storage.periods.change_period) and word the answer."""
    if command.action is PeriodAction.LIST:
        return PeriodAnswer(_period_list(sender, db))
    if command.action is PeriodAction.HELP:
        return PeriodAnswer(sender.text("period_usage"))
    assert command.month is not None
    change = period_store.change_period(
        db,
        command.action,
        command.month,
        sender.tz,
        due_at=command.due_at,
        offsets=command.offsets,
        now=now,
        actor=sender.actor,
    )
    month, period = change.month, change.period
    if period is None:
        return PeriodAnswer(_unknown_month(sender, db, month))
    assert period.due_at is not None
    due, past_due = due_text(sender, period.due_at), period.due_at <= now
    warning = _day_off_warning(sender, db, command, change.outcome, period.due_at)
    if change.outcome is PeriodOutcome.CLOSED:
        status = period_status(db, period, now)
        text = sender.text(
            "period_closed_now", month=month, submitted=status.submitted, total=status.total
        )
    elif change.outcome is PeriodOutcome.ALREADY_CLOSED:
        text = sender.text("period_already_closed", month=month)
    elif change.outcome is PeriodOutcome.ALREADY_OPEN:
        text = sender.text("period_already_open", month=month, due=due)
    elif change.outcome is PeriodOutcome.REMINDERS_CHANGED:
        text = sender.text(
            "period_reminders_changed", month=month, offsets=period.reminder_offsets or ""
        )
    elif change.outcome is PeriodOutcome.DUE_CHANGED:
        text = sender.text("period_due_changed", month=month, due=due, past_due=past_due)
    else:
        reopened = change.outcome is PeriodOutcome.REOPENED
        text = sender.text(
            "period_opened", month=month, due=due, reopened=reopened, past_due=past_due
        )
        return PeriodAnswer(text + warning, period.id)
    return PeriodAnswer(text + warning)


_SETS_DUE = (PeriodOutcome.OPENED, PeriodOutcome.REOPENED, PeriodOutcome.DUE_CHANGED)


def _day_off_warning(
    sender: Who, db: Session, command: PeriodCommand, outcome: PeriodOutcome, due_at: datetime
) -> str:
    """A due time the coordinator gave that falls on a day off: set, with a warning."""
    given = command.due_at is not None and outcome in _SETS_DUE
    if not given or not due_on_day_off(due_at, sender.tz, work_calendar(db)):
        return ""
    values = {"due": local_text(due_at, sender.tz), "due_weekday": weekday(due_at, sender.tz)}
    return "\n" + sender.text("period_due_day_off", **values)


async def period_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/period [open|due|close|reopen …] (coordinators): list and manage reporting months.

    Opening queues the notice to the month's liaisons (as `huibao period open` does);
    here it goes out at once, and the coordinator hears how many were told."""
    args, now = list(context.args or []), services(context).now()

    def work(db: Session, sender: Who) -> tuple[Who, PeriodAnswer]:
        require(sender, CONSOLE)
        try:
            command = parse_period_command(args, sender.tz)
        except PeriodInputError as exc:
            return sender, PeriodAnswer(
                sender.text("period_bad_input", kind=exc.kind, text=exc.text)
            )
        return sender, period_answer(sender, db, command, now)

    done = await with_db_or_refusal(update, context, work)
    if done is None:
        return
    sender, answer = done
    await reply(update, answer.text)
    if answer.opened is not None:
        report = await send_open_notices(context, answer.opened)
        told = report.sent + report.taken  # taken: the minute pass is telling them
        failed = report.failed + report.blocked + report.errors
        await reply(update, sender.text("period_notified", sent=told, failed=failed))
