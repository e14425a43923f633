"""Department-head approval (部门负责人审核): where a department has approvers, what its
liaisons submit waits for one of them. They get the preview with 通过 / 退回 buttons
(the return and its reason are handlers/review.py's), approve here, and read what waits
with /pending."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session
from telegram import InlineKeyboardButton, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core import texts
from bot.core.audit import submission_subject
from bot.core.people import PersonRole
from handlers import buttons, report
from handlers.chunks import pack
from handlers.common import APPROVERS, Who, reply, services, with_db
from handlers.notices import Notice, send_notices
from storage.approval import PendingVersion, pending_in, pending_version
from storage.models import Submission
from storage.people import identify, language_of, liaisons_of
from storage.periods import period_and_title
from storage.roster import organisation_zone
from storage.submissions import NotPending, approve, submitter_name

log = logging.getLogger(__name__)


def _reader(db: Session, telegram_id: int, name: str) -> Who:
    """Someone a notice goes to, as the texts need them: their language, the zone."""
    language = texts.reader_language(language_of(db, telegram_id))
    return Who(identify(db, telegram_id), language, name, organisation_zone(db), True)


def request_notices(reader: Who, pending: PendingVersion, submitter: str) -> list[Notice]:
    """One approver's copy of a pending version: who submitted it, both cells as the
    document will show them, and the buttons on its last part."""
    department = reader.identity.department
    blocks = [
        reader.text(
            "approval_request",
            name=submitter,
            department=department.name if department else "",
            title=pending.title,
            version=pending.version,
        ),
        *report.preview_blocks(reader, pending.title, pending.progress, pending.plan)[1:],
    ]
    keyboard = [
        [
            InlineKeyboardButton(
                reader.plain("btn_approve"),
                callback_data=buttons.approve(pending.submission_id, pending.version),
            ),
            InlineKeyboardButton(
                reader.plain("btn_return"),
                callback_data=buttons.return_item(pending.submission_id, pending.version),
            ),
        ]
    ]
    chat = reader.identity.telegram_id
    parts = pack(blocks)
    return [Notice(chat, part) for part in parts[:-1]] + [Notice(chat, parts[-1], keyboard)]


def approver_notices(
    db: Session, submission: Submission, title: str, submitter: str
) -> list[Notice]:
    """A liaison submitted `submission` of a department with approvers: each active
    approver gets the preview to approve or return."""
    pending = pending_version(submission, title)
    notices: list[Notice] = []
    for approver in liaisons_of(db, submission.department_id, PersonRole.APPROVER):
        reader = _reader(db, approver.telegram_id, approver.name)
        notices += request_notices(reader, pending, submitter)
    return notices


# --- approving ------------------------------------------------------------------------


@dataclass
class Approved:
    """The approval went through: the tapped message's new text, and the liaison's notice."""

    text: str
    notices: list[Notice] = field(default_factory=list)


def _approve(
    db: Session, sender: Who, tap: buttons.Approve, now: Callable[[], datetime]
) -> Approved | str:
    """Approve the tapped version, or the short answer why not (nothing changed then)."""
    refusal = sender.refused(APPROVERS)
    if refusal is not None:
        return sender.plain(refusal)
    department = sender.identity.department
    submission = db.get(Submission, tap.submission_id)
    if submission is None or department is None:
        return sender.plain("stale_button")
    if submission.department_id != department.id:
        return sender.plain("approvers_only")
    period, title = period_and_title(db, submission.period_id, submission.work_item_id)
    if period is None or not period.is_open:
        return sender.plain("approval_period_closed")
    subject = submission_subject(period.month, department.name, title)
    try:
        approve(db, submission, version=tap.version, actor=sender.actor, subject=subject, now=now())
    except NotPending:
        changed = submission.version != tap.version
        return sender.plain("approval_changed" if changed else "approval_not_pending")
    done = sender.text("approval_done", title=title, version=tap.version, name=sender.name)
    return Approved(done, _told(db, submission, title))


def _told(db: Session, submission: Submission, title: str) -> list[Notice]:
    """The liaison who submitted the approved version hears that it counts."""
    liaison = submission.submitted_by
    if liaison is None:
        return []
    reader = _reader(db, liaison, submitter_name(db, liaison) or "")
    return [Notice(liaison, reader.text("approval_told", title=title))]


async def on_approve(
    update: Update, context: ContextTypes.DEFAULT_TYPE, tap: buttons.Approve
) -> None:
    """A tap on 通过: the tapped message says so (its buttons gone), the liaison is told."""
    query = update.callback_query
    assert query is not None
    now = services(context).now
    outcome = await with_db(update, context, lambda db, sender: _approve(db, sender, tap, now))
    if isinstance(outcome, str):
        await query.answer(outcome[:200], show_alert=True)
        return
    await query.answer()
    try:
        await query.edit_message_text(outcome.text)
    except BadRequest as exc:  # too old to edit: say it anew
        log.info("could not edit the approved notice: %s", exc.message)
        await reply(update, outcome.text)
    await send_notices(context.bot, outcome.notices)


# --- /pending -------------------------------------------------------------------------


def _pending(db: Session, sender: Who) -> tuple[str, list[Notice]]:
    refusal = sender.refused(APPROVERS)
    department = sender.identity.department
    if refusal is not None or department is None:
        return sender.text(refusal or "approvers_only"), []
    found = pending_in(db, department.id)
    if not found:
        return sender.text("pending_none"), []
    notices: list[Notice] = []
    for pending in found:
        by = submitter_name(db, pending.submitted_by) or "?"
        notices += request_notices(sender, pending, by)
    return sender.text("pending_head", count=len(found)), notices


async def pending_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pending (approvers): the approval notices of what waits, sent again."""
    head, notices = await with_db(update, context, _pending)
    await reply(update, head)
    await send_notices(context.bot, notices)
