"""Reminders on Telegram: the minute job, sending with retries, /mute, /remind, and the
hook that notices a blocked liaison is back.

The deciding is in bot/reminders.py; this module only talks to the Bot API.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import UTC, datetime, timedelta

from sqlmodel import Session
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes
from telegram.warnings import PTBDeprecationWarning

from bot import reminders as core
from handlers.common import Services, Who, reply, services, with_db
from storage import reminders as reminder_log
from storage.periods import current_period

log = logging.getLogger(__name__)

JOB_ID = "huibao-reminders"
INTERVAL = 60.0  # seconds between passes
MAX_ATTEMPTS = 5  # per message, counting 429s and network errors together
BACKOFF = (0.5, 1.0, 2.0, 4.0)  # seconds before retrying after a network error


def _retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _markup(message: core.Message) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data)] for b in message.buttons]
    )


def deliverer(bot: Bot) -> core.Deliver:
    """Send one message: 429 waits and retries, 403 means blocked, network errors retry
    with backoff; all bounded, and nothing raises."""

    async def deliver(message: core.Message) -> core.Outcome:
        markup = _markup(message)
        for attempt in range(MAX_ATTEMPTS):
            try:
                await bot.send_message(message.chat_id, message.text, reply_markup=markup)
                return core.Outcome.SENT
            except RetryAfter as exc:
                await asyncio.sleep(_retry_after(exc) + 0.1)
            except Forbidden:
                return core.Outcome.BLOCKED
            except BadRequest as exc:  # a NetworkError subclass, but retrying cannot help
                log.warning("reminder to %s refused: %s", message.chat_id, exc.message)
                return core.Outcome.FAILED
            except NetworkError as exc:  # includes TimedOut
                log.info("reminder to %s: %s, retrying", message.chat_id, exc.message)
                await asyncio.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
            except TelegramError as exc:
                log.warning("reminder to %s failed: %s", message.chat_id, exc.message)
                return core.Outcome.FAILED
        log.warning("reminder to %s: gave up after %d attempts", message.chat_id, MAX_ATTEMPTS)
        return core.Outcome.FAILED

    return deliver


def _pacer(svc: Services) -> core.Pacer:
    """One pacer per Application: the job and /remind share the overall rate."""
    found = svc.extras.get("reminder_pacer")
    if not isinstance(found, core.Pacer):
        found = svc.extras["reminder_pacer"] = core.Pacer()
    return found


async def run_reminder_pass(app: Application) -> core.PassReport:  # type: ignore[type-arg]
    """What the minute job does; tests call it directly with their clock set."""
    svc: Services = app.bot_data["services"]
    return await core.run_pass(svc.engine, svc.settings, svc.now(), deliverer(app.bot), _pacer(svc))


async def _job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await run_reminder_pass(context.application)


def start_reminders(app: Application) -> None:  # type: ignore[type-arg]
    """Run a pass now (catching up on what was missed while down) and every minute.

    The stable id makes a second call replace the job instead of adding one; an
    explicit next_run_time makes the first run immediate even when called before the
    scheduler starts (post_init), where an interval trigger would wait a full interval.
    """
    svc: Services = app.bot_data["services"]
    if not svc.settings.reminders_enabled:
        log.info("scheduled reminders are off (REMINDERS_ENABLED=false)")
        return
    if app.job_queue is None:
        log.error("no job queue (install python-telegram-bot[job-queue]): reminders are off")
        return
    app.job_queue.run_repeating(
        _job,
        interval=INTERVAL,
        name=JOB_ID,
        job_kwargs={
            "id": JOB_ID,
            "replace_existing": True,
            "next_run_time": datetime.now(UTC),
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": None,
        },
    )


async def send_open_notices(context: ContextTypes.DEFAULT_TYPE, period_id: int) -> core.PassReport:
    """A period opened in chat: tell its liaisons now through the same queue the minute
    pass sends from (a period opened by the CLI is announced by that pass)."""
    svc = services(context)
    return await core.run_open_notices(
        svc.engine, svc.settings, period_id, svc.now(), deliverer(context.bot), _pacer(svc)
    )


# --- commands -------------------------------------------------------------------------


async def mute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mute (liaisons): no more reminders this period; /mute off: reminders again."""
    args = context.args or []
    off = bool(args) and args[0].lower() in ("off", "关闭", "取消", "no")
    now = services(context).now()

    def work(db: Session, sender: Who) -> str:
        liaison = sender.identity.liaison
        period = current_period(db)
        if not sender.identity.is_liaison or liaison is None or liaison.id is None:
            return sender.text("not_allowed")
        if period is None or period.id is None:
            return sender.text("mute_no_period")
        if off:
            reminder_log.unmute(db, period.id, liaison.id)
            return sender.text("mute_off", month=period.month)
        reminder_log.mute(db, period.id, liaison.id, now=now)
        return sender.text("mute_done", month=period.month)

    await reply(update, await with_db(update, context, work))


async def remind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/remind (coordinators): remind every pending liaison now, then say how many.

    Registered with block=False: a large fan-out must not hold up other updates.
    """
    svc = services(context)
    sender, has_period = await with_db(
        update, context, lambda db, sender: (sender, current_period(db) is not None)
    )
    if not sender.identity.is_coordinator:
        await reply(update, sender.text("coordinators_only"))
        return
    if not has_period:
        await reply(update, sender.text("remind_no_period"))
        return
    report = await core.run_nudge(
        svc.engine, svc.settings, svc.now(), deliverer(context.bot), _pacer(svc)
    )
    await reply(
        update,
        sender.text(
            "remind_done",
            reminded=report.sent,
            departments=len(report.departments),
            failed=report.failed + report.blocked + report.errors,
        ),
    )
