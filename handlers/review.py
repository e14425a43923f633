"""A coordinator reads a department's report (/show) and returns items for revision
(退回修改); the liaisons hear why, revise, and whoever returned it hears of the new version.

The rules (who may return what, what a reason is) live in bot/core/review.py; the reads in
storage/review.py. A return asks for its reason: the question is kept in the `prompt` table
(storage/prompts.py) and the user's next private text answers it (handlers/report.py's
on_message hands it to `answer_prompt`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core import texts
from bot.core.audit import Action, Actor, AuditEntry, submission_subject
from bot.core.periods import local_text
from bot.core.review import (
    MAX_REASON_CHARS,
    DepartmentReport,
    ReasonProblem,
    Returner,
    ReviewItem,
    RevisionEntry,
    history_order,
    may_return,
    prompt_expired,
    reason_problem,
)
from bot.core.status import SubmissionStatus, has_version
from bot.core.summary import cell_paragraphs
from handlers import approval, buttons
from handlers.buttons import History, ReturnDepartment, ReturnItem, ShowDepartment
from handlers.chunks import pack
from handlers.common import (
    CONSOLE,
    Refusal,
    Role,
    Who,
    reply,
    require,
    services,
    with_db,
    with_db_or_refusal,
)
from handlers.coordinator import find_period
from handlers.notices import Notice
from storage import prompts
from storage import review as review_store
from storage.audit import last_return
from storage.models import Period, Submission
from storage.people import language_of, liaisons_of
from storage.periods import period_and_title
from storage.submissions import NotPending, return_for_revision

RETURN = "return"  # the prompt's kind: the reason of a return
TITLE_CHARS = 16  # of a title on a button


@dataclass
class Shown:
    """Messages to send in the chat, the keyboard on the last."""

    texts: list[str]
    keyboard: list[list[InlineKeyboardButton]] | None = None


@dataclass
class Answered:
    """What the answer to a question says, and the messages to others it causes."""

    texts: list[str]
    notices: list[Notice] = field(default_factory=list)


def _short(title: str) -> str:
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"


def _button(sender: Who, name: str, data: str, **values: Any) -> InlineKeyboardButton:
    return InlineKeyboardButton(sender.plain(name, **values), callback_data=data)


def _at(sender: Who, when: datetime | None) -> str:
    return local_text(when, sender.tz) if when is not None else ""


def cell_blocks(sender: Who, progress: list[str], plan: list[str]) -> list[str]:
    """Both cells as the document shows them (as the liaison's preview), a block a
    paragraph so a long cell splits between paragraphs."""
    blocks = []
    for part, items in (("part_progress", progress), ("part_plan", plan)):
        blocks.append(sender.text("preview_part", part=sender.plain(part)))
        blocks += [sender.text("preview_line", paragraph=p) for p in cell_paragraphs(items)]
    return blocks


# --- /show ------------------------------------------------------------------------


def _item_blocks(sender: Who, item: ReviewItem) -> list[str]:
    label = sender.plain(f"state_{item.state.value}")
    blocks = [sender.text("show_item", number=item.number, title=item.title, label=label)]
    if item.handed_in:
        at = _at(sender, item.submitted_at)
        blocks.append(
            sender.text("show_version", version=item.version, name=item.submitted_by, at=at)
        )
    returned = item.last_return
    if item.status is SubmissionStatus.RETURNED and returned is not None:
        reason = str(returned.detail.get("reason", ""))
        blocks.append(
            sender.text(
                "show_returned",
                name=returned.actor.name,
                at=_at(sender, returned.at),
                reason=reason,
            )
        )
    if has_version(item.status):
        blocks += cell_blocks(sender, item.progress, item.plan)
    return blocks


def _keyboard(sender: Who, report: DepartmentReport) -> list[list[InlineKeyboardButton]]:
    rows = []
    for item in report.items:
        row = []
        if item.handed_in and item.submission_id is not None:
            data = buttons.return_item(item.submission_id, item.version)
            row.append(_button(sender, "btn_return_item", data, title=_short(item.title)))
        if item.has_history and item.submission_id is not None:
            row.append(_button(sender, "btn_history", buttons.history(item.submission_id)))
        if row:
            rows.append(row)
    if report.handed_in:
        data = buttons.return_department(report.period_id, report.department_id)
        rows.append([_button(sender, "btn_return_all", data)])
    return rows


def show_screen(sender: Who, db: Session, period: Period, department_id: int) -> Shown:
    """The department's items in the period with their state, content, versions and
    returns; buttons to return or read the history."""
    report = review_store.department_report(db, period, department_id)
    head = sender.text(
        "show_head",
        department=report.department,
        month=report.month,
        due=_at(sender, period.due_at),
        count=len(report.items),
        handed=len(report.handed_in),
    )
    blocks = [head]
    for item in report.items:
        blocks += _item_blocks(sender, item)
    if not report.items:
        blocks.append(sender.text("show_empty"))
    return Shown([m.strip() for m in pack(blocks)], _keyboard(sender, report) or None)


async def _send(update: Update, shown: Shown) -> None:
    markup = InlineKeyboardMarkup(shown.keyboard) if shown.keyboard else None
    for index, text in enumerate(shown.texts):
        await reply(update, text, markup if index == len(shown.texts) - 1 else None)


async def show_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/show DEPT [YYYY-MM] (coordinators): one department's report for the period."""
    args = list(context.args or [])

    def work(db: Session, sender: Who) -> Shown:
        require(sender, CONSOLE)
        period = find_period(sender, db, args[1:])
        codes = [d.code for d in review_store.departments(db, period.id or 0)]
        if not args:
            raise Refusal(sender.text("show_usage", codes=codes))
        found = review_store.find_department(db, period.id or 0, args[0][:64])
        if found is None:
            raise Refusal(sender.text("show_unknown_department", text=args[0][:64], codes=codes))
        return show_screen(sender, db, period, found.id)

    shown = await with_db_or_refusal(update, context, work)
    if shown is not None:
        await _send(update, shown)


# --- taps -------------------------------------------------------------------------


@dataclass
class Tapped:
    """What a review tap does: a short answer, the tapped message's new text, or new
    messages (a question comes as one: the report it was asked on stays readable, and
    its buttons stay for after a /cancel)."""

    answer: str | None = None
    edit: str | None = None
    shown: Shown | None = None
    question: str | None = None


def _returner(sender: Who, department_id: int) -> Returner | None:
    """Who the sender is to this department's report, as far as returning goes."""
    if sender.is_a(Role.COORDINATOR):
        return Returner.COORDINATOR
    department = sender.identity.department
    if sender.identity.is_approver and department is not None and department.id == department_id:
        return Returner.APPROVER
    return None


def _current(submission: Submission | None, version: int) -> bool:
    """The version is the one handed in now (else the button is old)."""
    return (
        submission is not None
        and submission.version == version
        and submission.status in (SubmissionStatus.SUBMITTED, SubmissionStatus.PENDING)
    )


def _closed(sender: Who, db: Session, period_id: int) -> str | None:
    period = db.get(Period, period_id)
    if period is not None and not period.is_open:
        return sender.plain("return_closed", month=period.month)
    return None


def _tap_show(sender: Who, db: Session, tap: ShowDepartment, now: datetime) -> Tapped:
    refusal = sender.refused(CONSOLE)
    if refusal is not None:
        return Tapped(sender.plain(refusal))
    period = db.get(Period, tap.period_id)
    if period is None or tap.department_id not in {
        d.id for d in review_store.departments(db, tap.period_id)
    }:
        return Tapped(sender.plain("stale_button"))
    return Tapped(shown=show_screen(sender, db, period, tap.department_id))


def _tap_history(sender: Who, db: Session, tap: History, now: datetime) -> Tapped:
    submission = db.get(Submission, tap.submission_id)
    if submission is None or _returner(sender, submission.department_id) is None:
        return Tapped(sender.plain("history_refused"))
    _, title = period_and_title(db, submission.period_id, submission.work_item_id)
    department = next(
        (
            d.name
            for d in review_store.departments(db, submission.period_id)
            if d.id == submission.department_id
        ),
        "",
    )
    revisions, events = review_store.history(db, submission)
    blocks = [sender.text("history_head", title=title, department=department)]
    for entry in history_order(revisions, events):
        blocks += _history_blocks(sender, entry)
    return Tapped(shown=Shown([m.strip() for m in pack(blocks)]))


def _history_blocks(sender: Who, entry: RevisionEntry | AuditEntry) -> list[str]:
    at = _at(sender, entry.at)
    if isinstance(entry, RevisionEntry):
        head = sender.text("history_revision", version=entry.version, name=entry.by, at=at)
        return [head, *cell_blocks(sender, entry.progress, entry.plan)]
    if entry.action is Action.RETURN:
        reason = str(entry.detail.get("reason", ""))
        return [sender.text("history_return", name=entry.actor.name, at=at, reason=reason)]
    if entry.action is Action.APPROVE:
        return [sender.text("history_approve", name=entry.actor.name, at=at)]
    return []


def _tap_return(sender: Who, db: Session, tap: ReturnItem, now: datetime) -> Tapped:
    submission = db.get(Submission, tap.submission_id)
    returner = _returner(sender, submission.department_id) if submission else None
    if returner is None:
        return Tapped(sender.plain("return_refused"))
    if not _current(submission, tap.version):
        return Tapped(sender.plain("return_stale"))
    assert submission is not None
    if not may_return(returner, SubmissionStatus(submission.status)):
        return Tapped(sender.plain("return_refused"))
    closed = _closed(sender, db, submission.period_id)
    if closed is not None:
        return Tapped(closed)
    _, title = period_and_title(db, submission.period_id, submission.work_item_id)
    data = {"submission_id": submission.id, "version": tap.version}
    prompts.ask(db, sender.identity.telegram_id, RETURN, data, now)
    return Tapped(question=sender.text("return_ask", title=title, private=sender.private))


def _tap_return_all(sender: Who, db: Session, tap: ReturnDepartment, now: datetime) -> Tapped:
    if not sender.is_a(Role.COORDINATOR):
        return Tapped(sender.plain("return_refused"))
    found = next(
        (d for d in review_store.departments(db, tap.period_id) if d.id == tap.department_id),
        None,
    )
    if found is None:
        return Tapped(sender.plain("stale_button"))
    closed = _closed(sender, db, tap.period_id)
    if closed is not None:
        return Tapped(closed)
    handed = review_store.handed_in(db, tap.period_id, tap.department_id)
    if not handed:
        return Tapped(sender.plain("return_nothing"))
    data = {"period_id": tap.period_id, "department_id": tap.department_id}
    prompts.ask(db, sender.identity.telegram_id, RETURN, data, now)
    text = sender.text(
        "return_ask_all", department=found.name, count=len(handed), private=sender.private
    )
    return Tapped(question=text)


# Tap kind → what it does (Approve goes to handlers/approval.py).
_TAPS: dict[type, Callable[[Who, Session, Any, datetime], Tapped]] = {
    ShowDepartment: _tap_show,
    History: _tap_history,
    ReturnItem: _tap_return,
    ReturnDepartment: _tap_return_all,
}


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every `rv:` button: show a department, its history, return (asks why), or approve
    (the department's approver: handlers/approval.py)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    tap = buttons.parse_review(query.data)
    if isinstance(tap, buttons.Approve):
        await approval.on_approve(update, context, tap)
        return
    now = services(context).now()
    act = _TAPS.get(type(tap)) if tap is not None else None

    def work(db: Session, sender: Who) -> Tapped:
        if act is None:  # forged or unknown
            return Tapped(sender.plain("stale_button"))
        return act(sender, db, tap, now)

    tapped = await with_db(update, context, work)
    with contextlib.suppress(BadRequest):  # answered already or too old: the rest applies
        await query.answer(tapped.answer[:200] if tapped.answer else None)
    if tapped.edit is not None:
        try:
            await query.edit_message_text(tapped.edit, reply_markup=None)
        except BadRequest:  # too old to edit: the question comes as a new message
            await reply(update, tapped.edit)
    if tapped.question is not None:
        await reply(update, tapped.question)
    if tapped.shown is not None:
        await _send(update, tapped.shown)


# --- the reason, typed ----------------------------------------------------------------


def _language(db: Session, telegram_id: int) -> str:
    return texts.reader_language(language_of(db, telegram_id))


@dataclass(frozen=True)
class Returned:
    """One version sent back."""

    submission: Submission
    month: str
    title: str


def _liaison_notices(
    db: Session, department_id: int, returned: list[Returned], reason: str, actor: Actor
) -> tuple[list[Notice], list[str]]:
    """One message to each active liaison of the department, a 修改 button per item;
    and their names."""
    notices, names = [], []
    for liaison in liaisons_of(db, department_id):
        language = _language(db, liaison.telegram_id)
        lines = [
            texts.text(
                language,
                "returned_notice",
                month=r.month,
                title=r.title,
                reason=reason,
                name=actor.name,
            )
            for r in returned
        ]
        rows = []
        for r in returned:
            data = buttons.revise_item(r.submission.period_id, r.submission.work_item_id)
            label = (
                texts.plain(language, "btn_edit")
                if len(returned) == 1
                else texts.plain(language, "btn_revise_item", title=_short(r.title))
            )
            rows.append([InlineKeyboardButton(label, callback_data=data)])
        notices.append(Notice(liaison.telegram_id, "\n".join(lines), rows))
        names.append(liaison.name)
    return notices, names


def _targets(
    sender: Who, db: Session, data: dict[str, Any]
) -> tuple[list[tuple[Submission, int]], int] | str:
    """What the question was about, as (submission, version) pairs and the department; or
    the answer why nothing is returned."""
    if "submission_id" in data:
        submission = db.get(Submission, int(data["submission_id"]))
        version = int(data.get("version", 0))
        returner = _returner(sender, submission.department_id) if submission else None
        if returner is None:
            return sender.text("return_refused")
        if not _current(submission, version):
            return sender.text("return_stale")
        assert submission is not None
        if not may_return(returner, SubmissionStatus(submission.status)):
            return sender.text("return_refused")
        return [(submission, version)], submission.department_id
    if not sender.is_a(Role.COORDINATOR):
        return sender.text("return_refused")
    department_id = int(data.get("department_id", 0))
    handed = review_store.handed_in(db, int(data.get("period_id", 0)), department_id)
    if not handed:
        return sender.text("return_nothing")
    return [(s, s.version) for s in handed], department_id


def _answer_return(
    sender: Who, db: Session, data: dict[str, Any], text: str | None, now: datetime
) -> Answered:
    """The reason of a return: checked, then every version it is about goes back and the
    department's liaisons are told. A reason that is not taken keeps the question."""
    if text is None:
        return Answered([sender.text("reason_not_text")])
    problem = reason_problem(text)
    if problem is ReasonProblem.EMPTY:
        return Answered([sender.text("reason_empty")])
    if problem is ReasonProblem.TOO_LONG:
        length = len(text.strip())
        return Answered([sender.text("reason_too_long", length=length, limit=MAX_REASON_CHARS)])
    prompts.clear(db, sender.identity.telegram_id)
    found = _targets(sender, db, data)
    if isinstance(found, str):
        return Answered([found])
    targets, department_id = found
    closed = _closed(sender, db, targets[0][0].period_id)
    if closed is not None:
        return Answered([closed])
    department = next(
        (
            d.name
            for d in review_store.departments(db, targets[0][0].period_id)
            if d.id == department_id
        ),
        "",
    )
    reason, actor = text.strip(), sender.actor
    returned = []
    for submission, version in targets:
        period, title = period_and_title(db, submission.period_id, submission.work_item_id)
        month = period.month if period is not None else ""
        try:
            return_for_revision(
                db,
                submission,
                version=version,
                reason=reason,
                actor=actor,
                subject=submission_subject(month, department, title),
                now=now,
            )
        except NotPending:
            continue
        returned.append(Returned(submission, month, title))
    if not returned:
        return Answered([sender.text("return_stale")])
    notices, names = _liaison_notices(db, department_id, returned, reason, actor)
    done = sender.text(
        "return_done", titles=[r.title for r in returned], department=department, liaisons=names
    )
    return Answered([done], notices)


# Prompt kind → the function that takes the typed answer.
_ANSWERS: dict[str, Callable[[Who, Session, dict[str, Any], str | None, datetime], Answered]] = {
    RETURN: _answer_return,
}


def answer_prompt(
    sender: Who, db: Session, asked: prompts.Asked, text: str | None, now: datetime
) -> Answered | None:
    """The user's private message answers the question they were asked; None when the
    question is too old or of a kind this version does not know (it is forgotten, and
    the message is read as any other)."""
    answer = _ANSWERS.get(asked.kind)
    if answer is None:  # not a typed question (a roster file waiting for its ✅)
        return None
    if prompt_expired(asked.asked_at, now):
        prompts.clear(db, sender.identity.telegram_id)
        return None
    return answer(sender, db, asked.data, text, now)


def asks_for_text(asked: prompts.Asked | None) -> bool:
    """The open question wants a typed answer (/cancel withdraws it)."""
    return asked is not None and asked.kind in _ANSWERS


def cancel_prompt(sender: Who, db: Session) -> str:
    """/cancel while a question is open: forget it."""
    prompts.clear(db, sender.identity.telegram_id)
    return sender.text("return_cancelled")


# --- the liaison's side -----------------------------------------------------------------


def returned_note(
    sender: Who, db: Session, title: str, submission: Submission | None
) -> str | None:
    """For a returned item opened to revise: who returned it, when and why."""
    if submission is None or submission.status != SubmissionStatus.RETURNED:
        return None
    entry = last_return(db, submission.id or 0)
    if entry is None:
        return None
    reason = str(entry.detail.get("reason", ""))
    return sender.text(
        "returned_draft",
        title=title,
        name=entry.actor.name,
        at=_at(sender, entry.at),
        reason=reason,
    )


def resubmission_notices(
    db: Session, saved: Submission, previous_status: str, department: str, title: str
) -> list[Notice]:
    """A returned item handed in again: whoever returned it hears so, with a button to
    read the department's report."""
    if previous_status != SubmissionStatus.RETURNED:
        return []
    entry = last_return(db, saved.id or 0)
    if entry is None or entry.actor.telegram_id is None:
        return []
    language = _language(db, entry.actor.telegram_id)
    text = texts.text(
        language, "resubmitted_notice", department=department, title=title, version=saved.version
    )
    data = buttons.show_department(saved.period_id, saved.department_id)
    label = texts.plain(language, "btn_show", department=department)
    return [
        Notice(entry.actor.telegram_id, text, [[InlineKeyboardButton(label, callback_data=data)]])
    ]
