"""Messages to other people that one user's action causes (a return reaches the
department's liaisons, a submission its approvers, a resubmission whoever returned it):
decided with the action's database work, sent after its own answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, TelegramError
from telegram.ext import ExtBot

from handlers.chunks import pack

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notice:
    """One message for one chat; long text is split, the keyboard goes on the last part."""

    chat_id: int
    text: str
    keyboard: list[list[InlineKeyboardButton]] | None = None


async def send_notices(bot: ExtBot[Any], notices: list[Notice]) -> int:
    """Send each notice (paced by the bot's rate limiter); one that cannot be delivered
    (blocked, gone) is logged and skipped. How many arrived."""
    arrived = 0
    for notice in notices:
        parts = pack([notice.text])
        markup = InlineKeyboardMarkup(notice.keyboard) if notice.keyboard else None
        try:
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                await bot.send_message(notice.chat_id, part, reply_markup=markup if last else None)
        except Forbidden:
            log.info("notice to %s not delivered: the bot is blocked", notice.chat_id)
            continue
        except TelegramError as exc:
            log.warning("notice to %s failed: %s", notice.chat_id, exc.message)
            continue
        arrived += 1
    return arrived
