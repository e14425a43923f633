"""/stats [RANGE] (coordinators): who is on time, as a picture (bot/chart.py draws it;
the counting is bot.core.stats, the reading storage/stats.py)."""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass

from sqlmodel import Session
from telegram import Update
from telegram.constants import ChatAction, FileSizeLimit
from telegram.ext import ContextTypes

from bot.core.periods import MonthRange, PeriodError, parse_range
from bot.core.stats import Stats, summary_values
from handlers.common import CONSOLE, Refusal, Who, reply, require, services, with_db_or_refusal
from handlers.coordinator import showing
from storage.stats import read_stats

log = logging.getLogger(__name__)

# Telegram shows a photo of at most 10 MB whose width and height add up to at most 10000
# pixels, the longer side at most 20 times the shorter; a taller chart (an organisation of
# a hundred departments) goes as a file, which the phone opens at full size.
PHOTO_SIDES, PHOTO_RATIO = 10_000, 20


def fits_a_photo(picture: bytes) -> bool:
    from PIL import Image  # comes with matplotlib, which drew the picture

    width, height = Image.open(io.BytesIO(picture)).size
    return (
        len(picture) <= FileSizeLimit.PHOTOSIZE_UPLOAD
        and width + height <= PHOTO_SIDES
        and max(width, height) <= PHOTO_RATIO * max(min(width, height), 1)
    )


def wanted_range(sender: Who, args: list[str]) -> MonthRange | None:
    """The range the argument names (None: the default); raises the polite answer."""
    text = " ".join(args).strip()[:64]
    if not text:
        return None
    try:
        return parse_range(text)
    except PeriodError as exc:
        name = "stats_range_too_long" if exc.name == "range_too_long" else "stats_bad_range"
        raise Refusal(sender.text(name, **exc.values)) from None


@dataclass(frozen=True)
class Counted:
    sender: Who
    stats: Stats


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats [RANGE]: the chart as a photo, its caption the office's on-time rate."""
    chat = update.effective_chat
    assert chat is not None
    args, svc = list(context.args or []), services(context)
    now = svc.now()

    def work(db: Session, sender: Who) -> Counted:
        require(sender, CONSOLE)
        wanted = wanted_range(sender, args)
        found = read_stats(db, wanted, now)
        if found is None:
            raise Refusal(sender.text("stats_no_periods", range=str(wanted or "")))
        return Counted(sender, found)

    counted = await with_db_or_refusal(update, context, work)
    if counted is None:
        return
    sender, stats = counted.sender, counted.stats
    # Loaded here, not at start-up: matplotlib costs a third of a second and memory.
    from bot.chart import ChartUnavailable, draw

    async with showing(chat, ChatAction.UPLOAD_PHOTO):
        try:
            picture = await asyncio.to_thread(draw, stats, sender.language, svc.settings.chart_font)
        except ChartUnavailable as exc:
            log.error("/stats cannot draw: %s", exc)
            await reply(update, sender.text("stats_unavailable"))
            return
        caption = sender.text("stats_caption", **summary_values(stats))
        if fits_a_photo(picture):
            await chat.send_photo(photo=picture, caption=caption)
        else:
            name = f"stats-{stats.range}.png"
            await chat.send_document(document=picture, filename=name, caption=caption)
