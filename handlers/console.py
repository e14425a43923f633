"""The coordinator console: /compile, /status and /period, in a private chat or a group.

Thin on purpose: the rules live in bot/console.py, storage/console.py and
storage/summary.py; this module checks the role, calls them and answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session
from telegram import Chat, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import texts
from bot.console import (
    PeriodAction,
    PeriodCommand,
    PeriodInputError,
    fit_list,
    parse_period_command,
)
from bot.intake import pack
from bot.periods import PeriodError, local_text, parse_month
from bot.summary import Summary, TemplateError, render_summary, summary_filename
from handlers.common import Who, is_private, reply, services, session, who
from storage import periods as period_store
from storage.console import (
    Outcome,
    change_period,
    choose_period,
    liaisons_to_notify,
    period_status,
)
from storage.models import Period
from storage.people import language_of
from storage.roster import organisation_zone
from storage.summary import Tally, build_summary

log = logging.getLogger(__name__)

ACTION_EVERY = 4.0  # seconds; Telegram shows a chat action for about five


def _refusal(update: Update, sender: Who) -> str | None:
    """Why this sender may not use the console, as the text to answer, or None."""
    if sender.identity.is_coordinator:
        return None
    if is_private(update) and sender.identity.is_stranger:
        return sender.text("stranger")
    return sender.text("coordinators_only")


def _unknown_month(sender: Who, db: Session, month: str | None) -> str:
    months = [p.month for p in period_store.all_periods(db)]
    if month is None or not months:
        return sender.text("console_no_periods")
    return sender.text("console_unknown_month", month=month, months=months)


def _find(sender: Who, db: Session, args: list[str]) -> Period | str:
    """The period the command's argument names (default: open, else latest), or why not."""
    wanted = args[0].strip()[:64] if args else ""
    try:
        month = str(parse_month(wanted)) if wanted else None
    except PeriodError:
        return sender.text("console_bad_month", text=wanted)
    return choose_period(db, month) or _unknown_month(sender, db, month)


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


def caption(sender: Who, summary: Summary, tally: Tally) -> str:
    """The tally under the document, the list of missing items shortened to fit."""

    def render(shown: list[str], more: int) -> str:
        return sender.text(
            "compile_caption",
            submitted=tally.submitted,
            total=tally.total,
            missing=shown,
            more=more,
            draft=summary.draft,
        )

    return fit_list(render, tally.missing)


# --- /compile ---------------------------------------------------------------------


async def compile_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/compile [YYYY-MM]: the month's summary table as a Word document."""
    chat = update.effective_chat
    assert chat is not None
    with session(context) as db:
        sender = who(update, db)
        found = _refusal(update, sender) or _find(sender, db, list(context.args or []))
        built = None if isinstance(found, str) else build_summary(db, found)
    if built is None:
        await reply(update, str(found))
        return
    summary, tally = built
    async with showing(chat, ChatAction.UPLOAD_DOCUMENT):
        try:
            content = await asyncio.to_thread(render_summary, summary)
        except TemplateError as exc:
            log.error("the summary template is not usable: %s", exc)
            await reply(
                update, sender.text("compile_template_broken", problem=exc.explain(sender.language))
            )
            return
        await chat.send_document(
            document=content,
            filename=summary_filename(summary),
            caption=caption(sender, summary, tally),
        )


# --- /status ----------------------------------------------------------------------


def status_blocks(sender: Who, db: Session, period: Period, now: datetime) -> list[str]:
    """A head with the counts, then one block per key work item (split between items)."""
    status = period_status(db, period, now)
    blocks = [
        sender.text(
            "status_head",
            month=status.month,
            due=local_text(status.due_at, sender.tz),
            open=status.is_open,
            submitted=status.submitted,
            total=status.total,
            late=status.late,
        )
    ]
    for number, item in enumerate(status.items, 1):
        departments: list[dict[str, Any]] = [
            {
                "department": d.department,
                "state": d.state.value,
                "label": sender.plain(f"state_{d.state.value}"),
                "at": local_text(d.submitted_at, sender.tz) if d.submitted_at else "",
                "by": d.submitted_by,
                "overdue": d.late and d.submitted_at is None,
            }
            for d in item.departments
        ]
        item_text = sender.text(
            "status_item", number=number, title=item.title, departments=departments
        )
        blocks.append("\n" + item_text)  # a blank line between items
    if not status.items:
        blocks.append(sender.text("status_empty"))
    return blocks


async def status_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/status [YYYY-MM]: every key work item and department with its state and time."""
    with session(context) as db:
        sender = who(update, db)
        found = _refusal(update, sender) or _find(sender, db, list(context.args or []))
        if isinstance(found, str):
            messages = [found]
        else:
            blocks = status_blocks(sender, db, found, services(context).now())
            messages = [message.strip() for message in pack(blocks)]
    for message in messages:
        await reply(update, message)


# --- /period ----------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodAnswer:
    text: str
    opened: Period | None = None  # a month that just opened: tell the liaisons
    reopened: bool = False


def _period_list(sender: Who, db: Session) -> str:
    periods = [
        {"month": p.month, "due": local_text(p.due_at, sender.tz), "open": p.is_open}
        for p in period_store.all_periods(db)
        if p.due_at is not None
    ]
    if not periods:
        return sender.text("console_no_periods")
    return sender.text("period_list", periods=periods)


def period_answer(sender: Who, db: Session, command: PeriodCommand, now: datetime) -> PeriodAnswer:
    """Do what /period asked (storage.console.change_period) and word the answer."""
    if command.action is PeriodAction.LIST:
        return PeriodAnswer(_period_list(sender, db))
    if command.action is PeriodAction.HELP:
        return PeriodAnswer(sender.text("period_usage"))
    change = change_period(db, command, sender.tz)
    month, period = change.month, change.period
    if period is None:
        return PeriodAnswer(_unknown_month(sender, db, month))
    assert period.due_at is not None
    due, past_due = local_text(period.due_at, sender.tz), period.due_at <= now
    if change.outcome is Outcome.CLOSED:
        status = period_status(db, period, now)
        text = sender.text(
            "period_closed_now", month=month, submitted=status.submitted, total=status.total
        )
    elif change.outcome is Outcome.ALREADY_CLOSED:
        text = sender.text("period_already_closed", month=month)
    elif change.outcome is Outcome.ALREADY_OPEN:
        text = sender.text("period_already_open", month=month, due=due)
    elif change.outcome is Outcome.REMINDERS_CHANGED:
        text = sender.text(
            "period_reminders_changed", month=month, offsets=period.reminder_offsets or ""
        )
    elif change.outcome is Outcome.DUE_CHANGED:
        text = sender.text("period_due_changed", month=month, due=due, past_due=past_due)
    else:
        reopened = change.outcome is Outcome.REOPENED
        text = sender.text(
            "period_opened", month=month, due=due, reopened=reopened, past_due=past_due
        )
        return PeriodAnswer(text, period, reopened)
    return PeriodAnswer(text)


async def announce(
    context: ContextTypes.DEFAULT_TYPE, period: Period, reopened: bool
) -> tuple[int, int]:
    """Tell every active liaison the period is open; return (told, not reachable).

    Best effort: a liaison Telegram refuses (blocked the bot, never wrote to it) is
    skipped, and one failure never stops the others.
    """
    svc = services(context)
    with session(context) as db:
        tz = organisation_zone(db)
        recipients = [
            (telegram_id, language_of(db, telegram_id) or svc.settings.default_language)
            for telegram_id in liaisons_to_notify(db)
        ]
    assert period.due_at is not None
    due = local_text(period.due_at, tz)
    told = failed = 0
    for telegram_id, language in recipients:
        notice = texts.text(
            language, "period_open_notice", month=period.month, due=due, reopened=reopened
        )
        try:
            await context.bot.send_message(telegram_id, notice)
            told += 1
        except (Forbidden, BadRequest) as exc:
            log.info("liaison %s not told that %s opened: %s", telegram_id, period.month, exc)
            failed += 1
        except TelegramError:
            log.warning(
                "liaison %s not told that %s opened", telegram_id, period.month, exc_info=True
            )
            failed += 1
    return told, failed


async def period_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/period [open|due|close|reopen …] (coordinators): list and manage reporting months."""
    now = services(context).now()
    with session(context) as db:
        sender = who(update, db)
        refusal = _refusal(update, sender)
        if refusal:
            answer = PeriodAnswer(refusal)
        else:
            try:
                command = parse_period_command(list(context.args or []), sender.tz)
            except PeriodInputError as exc:
                answer = PeriodAnswer(sender.text("period_bad_input", kind=exc.kind, text=exc.text))
            else:
                answer = period_answer(sender, db, command, now)
    await reply(update, answer.text)
    if answer.opened is not None:
        told, failed = await announce(context, answer.opened, answer.reopened)
        await reply(update, sender.text("period_notified", sent=told, failed=failed))
