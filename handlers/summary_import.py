"""A coordinator sends a past month's summary table (.docx) in chat: the same import as
`huibao import`, previewed by name and applied on ✅ (storage/imports.py). Anyone else's
.docx is a liaison's section (handlers/section_file.py) or any other message.

The file is kept by its Telegram file id until the tap and read again then; its digest
must still match, so an old preview's button imports nothing."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core.periods import Month, PeriodError, parse_month
from bot.core.texts import TerminalError
from handlers import buttons, section_file
from handlers.chunks import pack
from handlers.common import ROSTER_EDITS, Who, download, reply, services, with_db
from storage.prompts_import import KeptImport, drop_import, keep_import, kept_import
from storage.roster import organisation_zone

if TYPE_CHECKING:  # the Word reader loads python-docx: only when a file comes
    from bot.core.word import ReadTable
    from storage.imports import ImportOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Read:
    table: ReadTable
    month: Month
    digest: str


def _coordinator(db: Session, sender: Who) -> Who | None:
    return sender if sender.refused(ROSTER_EDITS) is None else None


def _read(data: bytes, caption: str) -> Read:
    """The table and its month: the caption's YYYY-MM, else the title's (WordError)."""
    from bot.core.word import month_of, read_summary

    table = read_summary(data)
    month = parse_month(caption.strip()) if caption.strip() else month_of(table)
    return Read(table, month, hashlib.sha256(data).hexdigest())


def _import(db: Session, sender: Who, read: Read, name: str, *, dry_run: bool) -> ImportOutcome:
    from storage.imports import import_month

    outcome = import_month(
        db, read.table, read.month, name, organisation_zone(db), actor=sender.actor
    )
    if dry_run:
        db.rollback()
    return outcome


def _summary(sender: Who, outcome: ImportOutcome, name: str, *, done: bool) -> list[str]:
    text = sender.text(
        "import_done_chat" if done else "import_preview",
        file=name,
        month=outcome.month,
        created=outcome.created,
        rows=outcome.rows,
        unmatched=[(m.row.title, m.why.value, m.closest) for m in outcome.unmatched],
        stored=outcome.stored,
        unchanged=outcome.unchanged,
    )
    return pack([text])


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A .docx in a private chat: a coordinator's summary table, previewed."""
    message, chat = update.message, update.effective_chat
    document = message.document if message is not None else None
    if message is None or document is None or chat is None:
        return
    sender = await with_db(update, context, _coordinator)
    if sender is None:  # a liaison's section, or whatever any other message gets
        await section_file.on_file(update, context)
        return
    await chat.send_action(ChatAction.TYPING)
    data = await download(document)
    if data is None:
        await reply(update, sender.text("import_unreadable"))
        return
    name = document.file_name or "summary.docx"
    try:
        read = await asyncio.to_thread(_read, data, message.caption or "")
        outcome = await with_db(
            update, context, lambda db, who: _import(db, who, read, name, dry_run=True)
        )
    except PeriodError:
        await reply(update, sender.text("import_bad_caption", text=message.caption or ""))
        return
    except TerminalError as problem:  # WordError, ImportRefused: one line, in their language
        await reply(update, sender.text("import_refused", problem=problem.explain(sender.language)))
        return
    kept = KeptImport(document.file_id, name, read.digest, str(read.month))
    await with_db(
        update,
        context,
        lambda db, who: keep_import(db, who.identity.telegram_id, kept, services(context).now()),
    )
    texts = _summary(sender, outcome, name, done=False)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    sender.plain("btn_import"),
                    callback_data=buttons.import_file(read.digest, apply=True),
                ),
                InlineKeyboardButton(
                    sender.plain("btn_import_cancel"),
                    callback_data=buttons.import_file(read.digest, apply=False),
                ),
            ]
        ]
    )
    for index, text in enumerate(texts):
        await reply(update, text, keyboard if index == len(texts) - 1 else None)


async def _apply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, sender: Who, kept: KeptImport
) -> list[str]:
    """Read the kept file again and import it, or say why not."""
    try:
        file = await context.bot.get_file(kept.file_id)
        data = bytes(await file.download_as_bytearray())
    except BadRequest as exc:
        log.info("kept summary table not downloaded: %s", exc.message)
        return [sender.text("import_unreadable")]
    if hashlib.sha256(data).hexdigest() != kept.digest:
        return [sender.text("import_stale")]
    try:
        read = await asyncio.to_thread(_read, data, kept.month)

        def work(db: Session, who: Who) -> ImportOutcome:
            outcome = _import(db, who, read, kept.file_name, dry_run=False)
            drop_import(db, who.identity.telegram_id)
            return outcome

        outcome = await with_db(update, context, work)
    except TerminalError as problem:
        return [sender.text("import_refused", problem=problem.explain(sender.language))]
    return _summary(sender, outcome, kept.file_name, done=True)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """✅ 导入 or ✖️ 取消 under a preview; an old or forged one changes nothing."""
    query = update.callback_query
    assert query is not None and query.data is not None
    tap = buttons.parse_import(query.data)

    def look(db: Session, sender: Who) -> tuple[Who, KeptImport | None, str | None]:
        refusal = sender.refused(ROSTER_EDITS)
        if refusal is not None or tap is None:
            return sender, None, sender.plain(refusal or "stale_button")
        kept = kept_import(db, sender.identity.telegram_id, tap.digest)
        if kept is None:
            return sender, None, sender.plain("import_stale")
        if not tap.apply:
            drop_import(db, sender.identity.telegram_id)
        return sender, kept, None

    sender, kept, refused = await with_db(update, context, look)
    if refused is not None or kept is None or tap is None:
        await query.answer((refused or "")[:200], show_alert=True)
        return
    await query.answer()
    if tap.apply:
        texts = await _apply(update, context, sender, kept)
    else:
        texts = [sender.text("import_discarded", file=kept.file_name)]
    tapped = query.message if isinstance(query.message, Message) else None
    try:
        if tapped is None:
            raise BadRequest("no message")
        await query.edit_message_text(texts[0], reply_markup=None)
        texts = texts[1:]
    except BadRequest as exc:  # too old to edit: the answer comes anew
        log.info("import: could not edit the preview: %s", exc.message)
    for text in texts:
        await reply(update, text)
