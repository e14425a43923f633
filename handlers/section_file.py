"""A liaison sends their department's section as a file (.docx or .txt) instead of
pasting it: each key work item the file reports on becomes a draft at its preview, shown
with its own 📤 提交; nothing is submitted without that tap. What the file holds that
could not be placed is shown, to be pasted with /report.

Thin: bot.core.section reads the file; drafts are the report's (handlers/report.py,
storage/drafts.py), and a tap submits through the report's own submit. Anyone who may
not report here (a coordinator, a stranger, a group) gets what any other message gets.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.ext import ContextTypes

from bot.core.draft import Draft, DraftBook
from bot.core.section import (
    MAX_BYTES,
    Found,
    Problem,
    SectionError,
    SectionFile,
    problem_of_name,
    read_section,
)
from bot.core.status import has_version
from handlers import buttons, report
from handlers.chunks import pack
from handlers.common import REPORTING, Who, download, reply, services, with_db
from storage import drafts
from storage.models import Period
from storage.periods import current_period
from storage.submissions import department_list, may_report, previous_plan, submission_for

log = logging.getLogger(__name__)

UNPLACED_CHARS = 300  # of a paragraph not placed: enough to recognise it


@dataclass(frozen=True)
class Message:
    text: str
    markup: InlineKeyboardMarkup | None = None


def _titles(db: Session, sender: Who) -> tuple[Who, list[str] | str] | None:
    """The sender, and their department's key work items in the open period (or the
    answer when there is no open period); None when the sender may not report here."""
    if sender.refused(REPORTING) is not None:
        return None
    department = sender.identity.department
    period = current_period(db)
    if period is None or department is None:
        return sender, sender.text("section_no_period")
    return sender, [item.title for item in department_list(db, period, department.id or 0)]


def _problem(sender: Who, problem: Problem) -> str:
    return sender.text(f"section_{problem.value}", limit=MAX_BYTES // (1024 * 1024))


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A document in a private chat: a liaison's section, read into drafts."""
    message, chat = update.message, update.effective_chat
    document = message.document if message is not None else None
    if document is None or chat is None:
        return
    started = await with_db(update, context, _titles)
    if started is None:  # not a liaison here: whatever any other message gets
        await report.on_message(update, context)
        return
    sender, titles = started
    if isinstance(titles, str):
        await reply(update, titles)
        return
    name = document.file_name or ""
    problem = problem_of_name(name, document.file_size or 0)
    if problem is not None:
        await reply(update, _problem(sender, problem))
        return
    await chat.send_action(ChatAction.TYPING)
    data = await download(document)
    if data is None:
        await reply(update, _problem(sender, Problem.BROKEN))
        return
    try:
        section = await asyncio.to_thread(read_section, data, name, titles)
    except SectionError as exc:
        await reply(update, _problem(sender, exc.problem))
        return
    answers = await with_db(update, context, lambda db, who: _fill(db, who, section, name))
    for answer in answers:
        await reply(update, answer.text, answer.markup)


def _fill(db: Session, sender: Who, section: SectionFile, name: str) -> list[Message]:
    """Each found item's draft filled at its preview; the messages that show them."""
    period = current_period(db)
    department = sender.identity.department
    if period is None or department is None or sender.refused(REPORTING) is not None:
        return [Message(sender.text("section_no_period"))]
    owned = {item.title: item for item in department_list(db, period, department.id or 0)}
    book = drafts.load(db, sender.identity.telegram_id)
    previews: list[Message] = []
    notes: list[str] = []
    for found in section.found:
        item = owned.get(found.title)
        if item is None or not may_report(
            db, sender.identity.telegram_id, period.id or 0, item.work_item_id, department.id or 0
        ):
            continue
        if found.rejection is not None:
            reason = sender.plain(f"section_rejected_{found.rejection.value}")
            notes.append(sender.text("section_rejected", title=found.title, reason=reason))
            continue
        previews += _drafted(db, sender, book, period, item.work_item_id, found)
    drafts.save(db, sender.identity.telegram_id, book)
    head = sender.text("section_head", name=name, count=len(_shown(previews)))
    if not previews:
        head = sender.text("section_none_found", name=name, titles=list(owned))
    tail = [sender.text("section_unplaced")] if section.unplaced else []
    tail += [
        sender.text("section_unplaced_line", paragraph=p[:UNPLACED_CHARS]) for p in section.unplaced
    ]
    texts = [Message(text) for text in pack([head, *notes])]
    texts += previews
    texts += [Message(text) for text in pack(tail)]
    return texts


def _shown(previews: list[Message]) -> list[Message]:
    return [p for p in previews if p.markup is not None]


def _drafted(
    db: Session,
    sender: Who,
    book: DraftBook,
    period: Period,
    work_item_id: int,
    found: Found,
) -> list[Message]:
    """The item's draft with the file's content (replacing a draft it had), its preview."""
    department_id = sender.identity.department.id if sender.identity.department else 0
    assert department_id is not None
    draft = book.draft_for(period.id or 0, work_item_id)
    notes = []
    submission = submission_for(db, period, work_item_id, department_id)
    if draft is None:
        draft = Draft(
            period.id or 0,
            work_item_id,
            department_id,
            submission.version,
            previous_plan=previous_plan(db, period, work_item_id, department_id),
        )
    else:
        notes.append(sender.text("section_replaced"))
    if has_version(submission.status):
        notes.append(sender.text("section_new_version", version=submission.version + 1))
    draft.fill(found.progress, found.plan)
    book.drafts[(draft.period_id, draft.work_item_id)] = draft
    if book.current == (draft.period_id, draft.work_item_id):
        book.current = None  # at its preview now: typed text goes nowhere unasked
    for part, items in (("progress", found.progress), ("plan", found.plan)):
        if not items:
            notes.append(sender.text("section_part_missing", part=sender.plain(f"part_{part}")))
    blocks = report.preview_blocks(sender, found.title, draft.progress, draft.plan) + notes
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    sender.plain("btn_submit"),
                    callback_data=buttons.submit_filed(period.id or 0, work_item_id, draft.seq),
                )
            ],
            [
                InlineKeyboardButton(
                    sender.plain("btn_edit"),
                    callback_data=buttons.open_item(period.id or 0, work_item_id),
                )
            ],
        ]
    )
    texts = pack(blocks, separator="\n\n")
    return [Message(text) for text in texts[:-1]] + [Message(texts[-1], keyboard)]


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """📤 提交 under a section file's preview: submit that item's draft as it was shown."""
    query = update.callback_query
    assert query is not None and query.data is not None
    tap = buttons.parse_section(query.data)
    now = services(context).now

    def work(db: Session, sender: Who) -> report.Outcome | str:
        refusal = sender.refused(REPORTING)
        if refusal is not None:
            return sender.plain(refusal)
        book = drafts.load(db, sender.identity.telegram_id)
        draft = book.draft_for(tap.period_id, tap.work_item_id) if tap is not None else None
        if tap is None or draft is None or draft.seq != tap.seq:
            return sender.plain("stale_button")
        live = book.screen
        return report.Outcome(report.submit_draft(sender, db, book, draft, now), live)

    outcome = await with_db(update, context, work)
    if isinstance(outcome, str):
        await query.answer(outcome[:200], show_alert=True)
        return
    await query.answer()
    await report.present(update, context, outcome)
