"""Reminders on Telegram: the minute job, delivering one message, /mute, /remind, and
the hook that notices a blocked liaison is back.

The deciding is in bot/core/reminders.py and the sending loop in bot/broadcast.py; this
module only talks to the Bot API.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, ExtBot

from bot import broadcast
from bot.core.reminders import Delivery, Message, OpenItem
from handlers import buttons
from handlers.chunks import REMINDER_LIMITS
from handlers.common import COORDINATORS, MUTING, Services, Who, repeat, reply, services, with_db
from storage import reminder_log
from storage.periods import current_period

log = logging.getLogger(__name__)

JOB_ID = "huibao-reminders"
INTERVAL = 60.0  # seconds between passes
NETWORK_RETRIES = 4  # per message, by the rate limiter (bot/pacing.py), with backoff


def callback_data(action: OpenItem) -> str:
    """A button's action as Telegram carries it (handlers/buttons.py: the same strings as
    ever, so buttons of reminders sent before still work)."""
    return buttons.open_item(action.period_id, action.work_item_id)


def _markup(message: Message) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=callback_data(b.action))]
         for b in message.buttons]
    )  # fmt: skip


class Deliverer:
    """Send one message through the bot's rate limiter, which paces it and retries 429s
    and network errors (the only retrying there is); its last error says how it ended:
    403 blocked, anything else failed. Never raises for Telegram's errors."""

    limits = REMINDER_LIMITS

    def __init__(self, bot: ExtBot[Any]) -> None:
        self.bot = bot

    async def __call__(self, message: Message) -> Delivery:
        try:
            await self.bot.send_message(
                message.chat_id,
                message.text,
                reply_markup=_markup(message),
                rate_limit_args=NETWORK_RETRIES,
            )
        except Forbidden:
            return Delivery.BLOCKED
        except (BadRequest, RetryAfter) as exc:
            log.warning("message to %s refused: %s", message.chat_id, exc.message)
            return Delivery.FAILED
        except TelegramError as exc:  # NetworkError (TimedOut) after the retries
            log.warning("message to %s failed: %s", message.chat_id, exc.message)
            return Delivery.FAILED
        return Delivery.SENT


def _broadcast(svc: Services, bot: ExtBot[Any]) -> broadcast.Broadcast:
    return broadcast.Broadcast(svc.engine, svc.settings, Deliverer(bot), svc.database)


async def run_reminder_pass(app: Application) -> broadcast.PassReport:  # type: ignore[type-arg]
    """What the minute job does; tests call it directly with their clock set."""
    svc: Services = app.bot_data["services"]
    return await _broadcast(svc, app.bot).scheduled(svc.now())


async def _job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await run_reminder_pass(context.application)


def start_reminders(app: Application) -> None:  # type: ignore[type-arg]
    """Run a pass now (catching up on what was missed while down) and every minute."""
    svc: Services = app.bot_data["services"]
    if not svc.settings.reminders_enabled:
        log.info("scheduled reminders are off (REMINDERS_ENABLED=false)")
        return
    if not repeat(app, _job, every=INTERVAL, job_id=JOB_ID):
        log.error("no job queue (install python-telegram-bot[job-queue]): reminders are off")


async def send_open_notices(
    context: ContextTypes.DEFAULT_TYPE, period_id: int
) -> broadcast.PassReport:
    """A period opened in chat: tell its liaisons now through the same queue the minute
    pass sends from (a period opened by the CLI is announced by that pass)."""
    svc = services(context)
    return await _broadcast(svc, context.bot).open_notices(period_id, svc.now())


# --- commands -------------------------------------------------------------------------


async def mute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mute (liaisons): no more reminders this period; /mute off: reminders again."""
    args = context.args or []
    off = bool(args) and args[0].lower() in ("off", "关闭", "取消", "no")
    now = services(context).now()

    def work(db: Session, sender: Who) -> str:
        liaison = sender.identity.liaison
        period = current_period(db)
        refusal = sender.refused(MUTING)
        if refusal:
            return sender.text(refusal)
        assert liaison is not None
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
    refusal = sender.refused(COORDINATORS)
    if refusal:
        await reply(update, sender.text(refusal))
        return
    if not has_period:
        await reply(update, sender.text("remind_no_period"))
        return
    report = await _broadcast(svc, context.bot).nudge(svc.now())
    await reply(
        update,
        sender.text(
            "remind_done",
            reminded=report.sent,
            departments=len(report.departments),
            failed=report.failed + report.blocked + report.errors,
        ),
    )
