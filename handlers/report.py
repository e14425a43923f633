"""The liaison's monthly report: /report, the item list, collecting, editing, preview, submit.

State lives in the database (storage.drafts), never only in memory: every
accepted message or tap is saved in the same transaction that answers it, so a
restart or days of silence resume exactly where the liaison was.

Every action on a draft (a tap, a typed or edited message, resuming it) passes through
`_checked`: in the transaction of the write it checks that the sender is still a liaison
of the draft's department, that the department still reports on the item and that the
period is open. A draft that fails is kept read-only and shown, never submitted.

On a phone the chat stays quiet: a tap edits the message it came from, a new message
appears only for what the liaison sent or for a result worth keeping (the submitted
confirmation), and only the newest screen has live buttons.

Button data is built and parsed in handlers/buttons.py: open an item (also used by
reminders), revise a submitted one, show the list, or act on the open draft; a tap whose
seq is not the draft's current one comes from an old message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core.draft import MAX_ITEM_CHARS, MAX_ITEMS, Draft, DraftBook, Part, Rejection, Step
from bot.core.periods import PeriodView, default_due, local_text, parse_month
from bot.core.status import State, has_version
from bot.core.summary import cell_paragraphs
from handlers import approval, buttons, review
from handlers.buttons import Action, OnDraft, OpenItem, ShowList
from handlers.chunks import pack, too_long
from handlers.common import (
    LIAISONS,
    REPORTING,
    Role,
    Who,
    in_db_thread,
    is_private,
    reply,
    services,
    with_db,
)
from handlers.notices import Notice, send_notices
from handlers.onboarding import stranger_or_idle
from storage import drafts, prompts
from storage.calendar import work_calendar
from storage.models import Period, Submission
from storage.people import has_approvers
from storage.periods import current_period, latest_period, period_and_title
from storage.snapshots import period_work_items
from storage.submissions import (
    Conflict,
    ListedItem,
    department_list,
    find_submission,
    forget_unsubmitted,
    is_pending,
    is_submitted,
    may_report,
    owned_item,
    previous_plan,
    submission_for,
    submit,
    submitter_name,
)

log = logging.getLogger(__name__)

Keyboard = list[list[InlineKeyboardButton]]


class Event(StrEnum):
    """What acts on a draft besides its buttons (handlers/buttons.Action)."""

    SHOW = "show"  # nothing: the draft's screen as it is
    TEXT = "text"  # a message
    EDITED = "edited"  # a Telegram edit of a message


@dataclass
class Screen:
    """What to send: one or more texts, the keyboard goes on the last.

    `keep`: a result worth keeping (the submitted confirmation) arrives as a new message
    even after a tap. `notice`: a short answer to stray input; the screen above it keeps
    its buttons."""

    texts: list[str]
    keyboard: Keyboard | None = None
    keep: bool = False
    notice: bool = False
    unchanged: bool = False  # the tap changed nothing: its message stays as it is
    # Messages to others the action causes (handlers/notices.py), sent after this screen.
    notices: list[Notice] = field(default_factory=list)


@dataclass
class Outcome:
    """What a handler's database work decided: the screen, and what `present` needs."""

    screen: Screen
    live: int | None = None  # the message that carried the live keyboard before
    answer: str | None = None  # the short notice on a tap (old buttons)
    echo_of: int | None = None  # the liaison's message the new screen echoes
    edit_tapped: bool = True  # a tap edits its message (not a reminder, not a kept result)


@dataclass
class Input:
    """A message of the liaison's, as far as the draft cares."""

    text: str | None
    message_id: int
    reply_to: int | None = None
    reply_to_bot: bool = False
    quote: str | None = None


# --- state ----------------------------------------------------------------------


def _drop(db: Session, telegram_id: int, book: DraftBook, draft: Draft) -> None:
    """Forget a draft (submitted or discarded) and leave the flow."""
    book.drop(draft)
    drafts.save(db, telegram_id, book)


def _give_up(db: Session, telegram_id: int, book: DraftBook, draft: Draft) -> None:
    """Leave a draft unsubmitted: out of the flow, and no longer a 草稿 anywhere."""
    _drop(db, telegram_id, book, draft)
    forget_unsubmitted(db, draft.period_id, draft.work_item_id, draft.department_id)


def _freeze(db: Session, telegram_id: int, book: DraftBook, draft: Draft) -> None:
    """Keep a draft its author may no longer submit, read-only, out of the flow."""
    book.freeze(draft)
    drafts.save(db, telegram_id, book)
    forget_unsubmitted(db, draft.period_id, draft.work_item_id, draft.department_id)


def _remember_screen(
    db: Session, telegram_id: int, live: int | None, echo: tuple[int, int] | None, kept: bool
) -> None:
    """After sending: which message carries the live keyboard, and which bot message echoes
    which of the liaison's messages (a reply to the echo corrects that message's items)."""
    book = drafts.load(db, telegram_id)
    book.shown(live, kept, echo)
    drafts.save(db, telegram_id, book)


# --- screens --------------------------------------------------------------------


def _button(sender: Who, label: str, data: str, **values: Any) -> InlineKeyboardButton:
    return InlineKeyboardButton(sender.plain(label, **values), callback_data=data)


def _act(draft: Draft, action: Action, arg: int | None = None) -> str:
    return buttons.on_draft(draft.seq, action, arg)


def _numbered(sender: Who, items: list[str]) -> list[str]:
    return [sender.text("report_item", number=n, item=item) for n, item in enumerate(items, 1)]


def _state_label(sender: Who, item: ListedItem, has_draft: bool) -> str:
    state = item.state
    if state is State.NOT_STARTED and has_draft:
        state = State.DRAFT
    return sender.plain(f"state_{state.value}")


def list_screen(
    sender: Who,
    period: Period | PeriodView,
    owned: list[ListedItem],
    drafted: set[int],
    head: str | None = None,
) -> Screen:
    """The department's key work items for the period, each with its state (`drafted`:
    the items with a draft; `head` replaces the usual heading, e.g. for a closed period)."""
    department = sender.identity.department
    assert department is not None and period.due_at is not None
    rows: Keyboard = []
    lines = []
    for number, item in enumerate(owned, 1):
        label = _state_label(sender, item, item.work_item_id in drafted)
        lines.append(sender.text("report_list_line", number=number, title=item.title, state=label))
        text = sender.plain("report_list_button", number=number, title=item.title[:24], state=label)
        data = buttons.open_item(period.id or 0, item.work_item_id)
        rows.append([InlineKeyboardButton(text, callback_data=data)])
    if head is not None:
        return Screen([head, *lines], rows or None)
    text = sender.text(
        "report_list",
        department=department.name,
        month=period.month,
        due=local_text(period.due_at, sender.tz),
        lines=lines,
        empty=not owned,
    )
    return Screen([text], rows or None)


def _listing(
    sender: Who,
    db: Session,
    period: Period | PeriodView,
    book: DraftBook | None,
    head: str | None = None,
) -> Screen:
    """The department's list as it is now (`book` None: show no drafts)."""
    department = sender.identity.department
    assert department is not None
    owned = department_list(db, period, department.id)
    drafted = book.drafted(period.id or 0) if book is not None else set()
    return list_screen(sender, period, owned, drafted, head)


@dataclass
class View:
    """What a draft's screen shows besides the draft: read for the preview and conflict."""

    title: str
    shared: tuple[list[str], int] | None = None  # the other departments, items before ours
    current: Submission | None = None  # the department's submission as stored now
    current_by: str = ""

    def unchanged(self, draft: Draft) -> bool:
        """The draft is the stored version as it is: nothing to submit."""
        sub = self.current
        return (
            sub is not None
            and is_submitted(sub)
            and sub.version == draft.read_version
            and (sub.progress, sub.plan) == (draft.progress, draft.plan)
        )


def _collect_screen(sender: Who, draft: Draft, view: View) -> Screen:
    part_name = sender.plain(f"part_{draft.part.value}")
    blocks = [sender.text("collect_head", title=view.title, part=part_name)]
    if draft.items:
        blocks += _numbered(sender, draft.items)
        blocks.append(sender.text("collect_more", part=part_name))
        keyboard: Keyboard = [
            [_button(sender, "btn_done", _act(draft, Action.DONE))],
            [
                _button(sender, "btn_undo", _act(draft, Action.UNDO)),
                _button(sender, "btn_edit", _act(draft, Action.EDIT)),
            ],
            [
                _button(sender, "btn_list", buttons.show_list()),
                _button(sender, "btn_cancel", _act(draft, Action.CANCEL)),
            ],
        ]
    else:
        blocks.append(sender.text("collect_prompt", part=part_name))
        keyboard = [[_button(sender, "btn_cancel", _act(draft, Action.CANCEL))]]
        if draft.part is Part.PROGRESS:
            keyboard.insert(
                0, [_button(sender, "btn_no_progress", _act(draft, Action.NO_PROGRESS))]
            )
        if draft.part is Part.PROGRESS and draft.previous_plan:
            blocks.append(sender.text("carry_offer"))
            blocks += _numbered(sender, draft.previous_plan)
            keyboard.insert(0, [_button(sender, "btn_carry", _act(draft, Action.CARRY))])
    return Screen(pack(blocks), keyboard)


def _edit_screen(sender: Who, draft: Draft, view: View) -> Screen:
    part_name = sender.plain(f"part_{draft.part.value}")
    blocks = [sender.text("edit_head", part=part_name), *_numbered(sender, draft.items)]
    numbers = [
        InlineKeyboardButton(str(i + 1), callback_data=_act(draft, Action.PICK, i))
        for i in range(len(draft.items))
    ]
    keyboard = [numbers[i : i + 8] for i in range(0, len(numbers), 8)]
    keyboard.append([_button(sender, "btn_back", _act(draft, Action.BACK))])
    return Screen(pack(blocks), keyboard)


def _item_screen(sender: Who, draft: Draft, view: View) -> Screen:
    index = draft.selected or 0
    blocks = [sender.text("item_head", number=index + 1, item=draft.items[index])]
    keyboard = [
        [
            _button(sender, "btn_replace", _act(draft, Action.REPLACE)),
            _button(sender, "btn_delete", _act(draft, Action.DELETE)),
        ],
        [
            _button(sender, "btn_up", _act(draft, Action.UP)),
            _button(sender, "btn_down", _act(draft, Action.DOWN)),
            _button(sender, "btn_insert", _act(draft, Action.INSERT)),
        ],
        [_button(sender, "btn_back", _act(draft, Action.EDIT))],
    ]
    return Screen(pack(blocks), keyboard)


def _prompt_screen(sender: Who, draft: Draft, view: View) -> Screen:
    """Replace or insert: the next message is the new text."""
    index = draft.selected or 0
    text = sender.text(f"{draft.step.value}_prompt", number=index + 1, item=draft.items[index])
    return Screen([text], [[_button(sender, "btn_back", _act(draft, Action.EDIT))]])


def _preview_screen(sender: Who, draft: Draft, view: View) -> Screen:
    blocks = preview_blocks(sender, view.title, draft.progress, draft.plan, view.shared)
    if draft.repeats_last_month:
        blocks.append(sender.text("warn_same_as_last_month"))
    keyboard = [
        [
            _button(sender, "btn_change_progress", _act(draft, Action.CHANGE, 0)),
            _button(sender, "btn_change_plan", _act(draft, Action.CHANGE, 1)),
        ],
        [_button(sender, "btn_cancel", _act(draft, Action.CANCEL))],
    ]
    if view.unchanged(draft):
        blocks.append(sender.text("preview_unchanged"))
    else:
        keyboard.insert(0, [_button(sender, "btn_submit", _act(draft, Action.SUBMIT))])
    return Screen(pack(blocks), keyboard)


def _confirm_cancel_screen(sender: Who, draft: Draft, view: View) -> Screen:
    return Screen(
        [sender.text("confirm_cancel", title=view.title)],
        [
            [
                _button(sender, "btn_discard", _act(draft, Action.DISCARD)),
                _button(sender, "btn_keep", _act(draft, Action.KEEP)),
            ]
        ],
    )


def _conflict_screen(sender: Who, draft: Draft, view: View) -> Screen:
    """Who submitted what, and when, while this draft was open."""
    theirs = view.current
    blocks = []
    if theirs is not None and theirs.submitted_at is not None:
        at = local_text(theirs.submitted_at, sender.tz)
        blocks.append(sender.text("conflict_head", title=view.title, name=view.current_by, at=at))
        blocks += preview_blocks(sender, view.title, theirs.progress, theirs.plan)
    blocks.append(sender.text("conflict", title=view.title))
    return Screen(
        pack(blocks),
        [
            [_button(sender, "btn_submit_mine", _act(draft, Action.MINE))],
            [_button(sender, "btn_take_theirs", _act(draft, Action.THEIRS))],
        ],
    )


def _sections_screen(sender: Who, draft: Draft, view: View) -> Screen:
    """A paste held both parts under headings: how it splits, and whether to fill both."""
    blocks = [sender.text("confirm_sections", title=view.title)]
    for part, items in ((Part.PROGRESS, draft.pending_progress), (Part.PLAN, draft.pending_plan)):
        blocks.append(
            sender.text(
                "confirm_sections_part",
                part=sender.plain(f"part_{part.value}"),
                paragraphs=cell_paragraphs(items),
            )
        )
    keyboard = [
        [_button(sender, "btn_sections_yes", _act(draft, Action.SECTIONS_YES))],
        [_button(sender, "btn_sections_no", _act(draft, Action.SECTIONS_NO))],
    ]
    return Screen(pack(blocks), keyboard)


def _chatter_screen(sender: Who, draft: Draft, view: View) -> Screen:
    """A message that looks like chat: add it as an item, or ignore it."""
    part = sender.plain(f"part_{draft.part.value}")
    return Screen(
        [sender.text("confirm_chatter", text=draft.pending or "", part=part)],
        [
            [
                _button(sender, "btn_chatter_add", _act(draft, Action.CHATTER_ADD)),
                _button(sender, "btn_chatter_ignore", _act(draft, Action.CHATTER_IGNORE)),
            ]
        ],
    )


# Step → its screen. A new step adds its screen here.
_SCREENS: dict[Step, Callable[[Who, Draft, View], Screen]] = {
    Step.COLLECT: _collect_screen,
    Step.EDIT: _edit_screen,
    Step.ITEM: _item_screen,
    Step.REPLACE: _prompt_screen,
    Step.INSERT: _prompt_screen,
    Step.PREVIEW: _preview_screen,
    Step.CONFIRM_CANCEL: _confirm_cancel_screen,
    Step.CONFLICT: _conflict_screen,
    Step.CONFIRM_SECTIONS: _sections_screen,
    Step.CONFIRM_CHATTER: _chatter_screen,
}


def draft_screen(sender: Who, draft: Draft, view: View | str) -> Screen:
    """The view of the draft's current step."""
    return _SCREENS[draft.step](sender, draft, View(view) if isinstance(view, str) else view)


def preview_blocks(
    sender: Who,
    title: str,
    progress: list[str],
    plan: list[str],
    shared: tuple[list[str], int] | None = None,
) -> list[str]:
    """Both cells exactly as the document will show them, a block per paragraph (so a long
    cell is split between paragraphs), and where a shared item's part lands."""
    blocks = [sender.text("preview_head", title=title)]
    if shared is not None:
        others, before = shared
        count = len([item for item in progress if item.strip()]) or 1
        blocks.append(
            sender.text("preview_shared", others=others, first=before + 1, last=before + count)
        )
    for part, items in (("part_progress", progress), ("part_plan", plan)):
        blocks.append(sender.text("preview_part", part=sender.plain(part)))
        blocks += [sender.text("preview_line", paragraph=p) for p in cell_paragraphs(items)]
    return blocks


def _shared(db: Session, draft: Draft) -> tuple[list[str], int] | None:
    """For a key work item several departments report on: the others' names, and how
    many submitted progress items of departments before this one come first."""
    items = period_work_items(db, draft.period_id)  # the period's owners, not today's roster
    item = next((i for i in items if i.id == draft.work_item_id), None)
    if item is None or len(item.departments) < 2:
        return None
    others = [d.name for d in item.departments if d.id != draft.department_id]
    before = 0
    for department in item.departments:
        if department.id == draft.department_id:
            break
        found = find_submission(db, draft.period_id, item.id, department.id or 0)
        if found is not None and is_submitted(found):
            before += len([p for p in found.progress if p.strip()])
    return others, before


def _view(db: Session, draft: Draft, title: str) -> View:
    if draft.step not in (Step.PREVIEW, Step.CONFLICT):
        return View(title)
    current = find_submission(db, draft.period_id, draft.work_item_id, draft.department_id)
    by = submitter_name(db, current.submitted_by) if current is not None else None
    return View(title, _shared(db, draft), current, by or "?")


async def show(update: Update, screen: Screen) -> None:
    """As few messages as fit (a notice and the screen it leads into arrive as one)."""
    markup = InlineKeyboardMarkup(screen.keyboard) if screen.keyboard else None
    texts = pack(screen.texts, separator="\n\n")
    for index, text in enumerate(texts):
        await reply(update, text, markup if index == len(texts) - 1 else None)


def _not_modified(error: BadRequest) -> bool:
    return "not modified" in str(error).lower()


async def _edit(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Turn a tapped message into the new screen; False when Telegram refuses (too old)."""
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as error:
        if not _not_modified(error):
            log.info("could not edit a screen, sending it anew: %s", error)
            return False
    return True


async def _strip(context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int) -> None:
    """A superseded screen loses its buttons (quietly: it may be gone or unchanged)."""
    try:
        # With Defaults(parse_mode) PTB would also send a parse_mode, which
        # editMessageReplyMarkup does not take; None drops it from the request.
        await context.bot.edit_message_reply_markup(
            chat_id, message_id, reply_markup=None, api_kwargs={"parse_mode": None}
        )
    except BadRequest as error:
        if not _not_modified(error):
            log.info("could not remove the buttons of an old screen: %s", error)


async def present(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome) -> None:
    """Show a screen the quiet way: a tap edits its message (the rest of a long screen
    follows as new messages), typed input gets new messages; one live keyboard."""
    screen, live = outcome.screen, outcome.live
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    markup = InlineKeyboardMarkup(screen.keyboard) if screen.keyboard else None
    texts = pack(screen.texts, separator="\n\n")
    query = update.callback_query
    tapped = query.message if query is not None and isinstance(query.message, Message) else None
    if not outcome.edit_tapped:
        tapped = None
    if tapped is not None and screen.unchanged and tapped.message_id == live:
        return  # the screen on the phone is still right (Telegram would refuse the edit)
    if not texts:
        if tapped is not None:
            await _strip(context, chat.id, tapped.message_id)
        return
    shown: int | None = None
    rest = texts
    tapped_id = tapped.message_id if tapped is not None else None
    superseded = markup is not None or not screen.notice
    # Superseded screens lose their buttons: before a new screen arrives, or after a kept
    # result (the submitted confirmation), which then reads first.
    stale = [live] if live is not None and live != tapped_id and superseded else []
    if not screen.keep:
        for message_id in stale:
            await _strip(context, chat.id, message_id)
    first_markup = markup if len(texts) == 1 else None
    if tapped is not None and not screen.keep and await _edit(tapped, texts[0], first_markup):
        shown, rest = tapped.message_id, texts[1:]
    elif tapped is not None and not screen.keep:
        await _strip(context, chat.id, tapped.message_id)
    for index, text in enumerate(rest):
        sent = await reply(update, text, markup if index == len(rest) - 1 else None)
        shown = sent.message_id if sent is not None else shown
    if screen.keep:
        for message_id in [*([tapped_id] if tapped_id is not None else []), *stale]:
            await _strip(context, chat.id, message_id)
    if screen.notices:
        await send_notices(context.bot, screen.notices)
    now_live = shown if markup is not None else (None if superseded else live)
    echo = (shown, outcome.echo_of) if shown is not None and outcome.echo_of else None
    if now_live != live or echo is not None or screen.keep:
        # The sender was looked up by the work before; the note needs only their chat.
        await in_db_thread(
            services(context),
            lambda db: _remember_screen(db, user.id, now_live, echo, screen.keep),
        )


# --- entry ------------------------------------------------------------------------


def _no_period_text(sender: Who, db: Session, latest: Period | None) -> str:
    tz = sender.tz
    if latest is None:
        return sender.text("no_open_period", month=None, due=None)
    upcoming = parse_month(latest.month).next()
    due = default_due(upcoming, tz, work_calendar(db))
    return sender.text("no_open_period", month=str(upcoming), due=local_text(due, tz))


def _no_period_screen(sender: Who, db: Session) -> Screen:
    """No open period: say so, and list what the department submitted last (read-only)."""
    latest = latest_period(db)
    text = _no_period_text(sender, db, latest)
    if latest is None or not sender.is_a(Role.LIAISON):
        return Screen([text])
    head = sender.text("last_period", month=latest.month)
    listing = _listing(sender, db, latest, None, head=head)
    return Screen([text, *listing.texts], listing.keyboard)


def _list_or_no_period(sender: Who, db: Session, book: DraftBook) -> Screen:
    period = current_period(db)
    if period is None:
        return _no_period_screen(sender, db)
    return _listing(sender, db, period, book)


async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report: resume the open draft, or list the department's items."""
    now = services(context).now

    def work(db: Session, sender: Who) -> Outcome:
        refusal = sender.refused(REPORTING)
        book = drafts.load(db, sender.identity.telegram_id)
        draft = book.open_draft()
        if refusal and (draft is None or refusal == "private_only"):
            return Outcome(Screen([sender.text(refusal)]))
        live = book.screen
        if draft is None:
            return Outcome(_list_or_no_period(sender, db, book), live)
        checked = _checked(sender, db, book, draft, now)
        if isinstance(checked, Screen):  # the draft left the flow: say why, then the list
            if not sender.is_a(Role.LIAISON):
                return Outcome(checked, live)
            listing = _list_or_no_period(sender, db, book)
            return Outcome(Screen(checked.texts + listing.texts, listing.keyboard), live)
        screen = draft_screen(sender, draft, _view(db, draft, checked.title))
        screen.texts.insert(0, sender.text("resume", title=checked.title))
        return Outcome(screen, live)

    await present(update, context, await with_db(update, context, work))


def _open_item(
    sender: Who,
    db: Session,
    book: DraftBook,
    tap: OpenItem,
    now: Callable[[], datetime],
) -> Screen:
    """Open one key work item: resume its draft, show its submission, or start a draft."""
    department = sender.identity.department
    assert department is not None
    owned = owned_item(db, tap.period_id, tap.work_item_id, department.id)
    if owned is None:
        return Screen([sender.text("stale_item")])
    period, title, submission = owned
    # A version awaiting approval is revised like a submitted one (resubmitted: pending again).
    handed_in = is_submitted(submission) or is_pending(submission)
    submitted = submission if handed_in else None
    if not period.is_open:
        blocks = [sender.text("period_closed", month=period.month)]
        if submitted is not None:
            blocks += preview_blocks(sender, title, submitted.progress, submitted.plan)
        return Screen(pack(blocks))
    draft = book.draft_for(tap.period_id, tap.work_item_id)
    if draft is None and submitted is not None and not tap.revise:
        by = submitter_name(db, submitted.submitted_by) or "?"
        return _submitted_screen(sender, period, title, submitted, by)
    note = None
    if draft is None:
        note = review.returned_note(sender, db, title, submission)
        draft = _new_draft(db, period, tap.work_item_id, department.id, submitted or submission)
    screen = _act_on(sender, db, book, draft, Event.SHOW, None, now)
    if note is not None:  # a returned item: who sent it back, and why
        screen.texts.insert(0, note)
    return screen


def _new_draft(
    db: Session, period: Period, work_item_id: int, department_id: int, submitted: Submission | None
) -> Draft:
    """A revision of the handed-in version (submitted, pending or returned) at its
    preview, or a first draft (the department's row says 草稿 from then on, in the list
    and /status)."""
    if submitted is not None and has_version(submitted.status):
        return Draft(
            period.id or 0,
            work_item_id,
            department_id,
            submitted.version,
            progress=list(submitted.progress),
            plan=list(submitted.plan),
            step=Step.PREVIEW,
        )
    created = submission_for(db, period, work_item_id, department_id)
    return Draft(
        period.id or 0,
        work_item_id,
        department_id,
        created.version,
        previous_plan=previous_plan(db, period, work_item_id, department_id),
    )


def _submitted_screen(
    sender: Who, period: Period, title: str, submission: Submission, by: str
) -> Screen:
    """A submitted item: who submitted it and when, its content, and an explicit 修改."""
    assert submission.submitted_at is not None and period.due_at is not None
    head = sender.text(
        "submitted_view",
        title=title,
        version=submission.version,
        at=local_text(submission.submitted_at, sender.tz),
        name=by,
        late=submission.submitted_at > period.due_at,
        pending=is_pending(submission),
    )
    blocks = [head, *preview_blocks(sender, title, submission.progress, submission.plan)[1:]]
    data = buttons.revise_item(period.id or 0, submission.work_item_id)
    keyboard = [
        [InlineKeyboardButton(sender.plain("btn_edit"), callback_data=data)],
        [InlineKeyboardButton(sender.plain("btn_list"), callback_data=buttons.show_list())],
    ]
    return Screen(pack(blocks), keyboard)


def submit_draft(
    sender: Who, db: Session, book: DraftBook, draft: Draft, now: Callable[[], datetime]
) -> Screen:
    """Submit a draft that need not be the open one (a section file's preview, one per
    item): it is opened, then submitted as by its own 📤 提交."""
    book.keep(draft)
    return _act_on(sender, db, book, draft, Action.SUBMIT, None, now)


# --- the one check every draft action passes ----------------------------------------


@dataclass
class Act:
    """One action on a draft that passed the check: who, the draft, and where it belongs."""

    sender: Who
    db: Session
    book: DraftBook
    draft: Draft
    period: PeriodView
    title: str
    now: Callable[[], datetime]
    arg: int | None = None
    input: Input | None = None


def _checked(
    sender: Who,
    db: Session,
    book: DraftBook,
    draft: Draft,
    now: Callable[[], datetime],
    arg: int | None = None,
    message: Input | None = None,
) -> Act | Screen:
    """The draft may be acted on now, or the screen that says why not (the draft is then
    out of the flow: shown for the liaison's records, kept read-only)."""
    period, title = period_and_title(db, draft.period_id, draft.work_item_id)
    if period is None or not period.is_open:
        return _closed(sender, db, book, draft, title, period)
    telegram_id = sender.identity.telegram_id
    if not may_report(db, telegram_id, draft.period_id, draft.work_item_id, draft.department_id):
        _freeze(db, telegram_id, book, draft)
        blocks = [sender.text("rights_lost", title=title)]
        blocks += preview_blocks(sender, title, draft.progress, draft.plan)
        return Screen(pack(blocks))
    return Act(sender, db, book, draft, period, title, now, arg, message)


def _closed(
    sender: Who,
    db: Session,
    book: DraftBook,
    draft: Draft,
    title: str,
    period: PeriodView | None,
) -> Screen:
    """The period closed under an open draft: leave the flow, and show the draft to keep."""
    _drop(db, sender.identity.telegram_id, book, draft)
    blocks = [sender.text("period_closed_draft", month=period.month if period else "?")]
    blocks += preview_blocks(sender, title, draft.progress, draft.plan)
    return Screen(pack(blocks))


def _act_on(
    sender: Who,
    db: Session,
    book: DraftBook,
    draft: Draft,
    action: Action | Event,
    arg: int | None,
    now: Callable[[], datetime],
    message: Input | None = None,
) -> Screen:
    """Apply one action to the draft, save it, and say what to show next."""
    act = _checked(sender, db, book, draft, now, arg, message)
    if isinstance(act, Screen):
        return act
    seq = draft.seq
    result = _ACTIONS[action](act)
    if isinstance(result, Screen):
        return result
    book.keep(draft)
    drafts.save(db, sender.identity.telegram_id, book)
    screen = draft_screen(sender, draft, _view(db, draft, act.title))
    if result:
        screen.texts.insert(0, result)
    screen.unchanged = not result and draft.seq == seq and action is not Event.SHOW
    return screen


# --- actions: each returns a screen of its own, a notice to put above the draft's
# screen, or None (the draft's screen) -------------------------------------------------

ActionResult = Screen | str | None


def _nothing(act: Act) -> ActionResult:
    return None


def _done(act: Act) -> ActionResult:
    return None if act.draft.finish_part() else act.sender.text("nothing_to_finish")


def _undo(act: Act) -> ActionResult:
    return None if act.draft.undo() else act.sender.text("nothing_to_undo")


def _no_progress(act: Act) -> ActionResult:
    """本月无新进展: the office's wording stands as the part's one item."""
    if not act.draft.items:
        act.draft.take(act.sender.plain("no_progress_item"))
        act.draft.finish_part()
    return None


def _pick(act: Act) -> ActionResult:
    if act.arg is not None:
        act.draft.select(act.arg)
    return None


def _change(act: Act) -> ActionResult:
    if act.arg in (0, 1):
        act.draft.change(Part.PROGRESS if act.arg == 0 else Part.PLAN)
    return None


def _cancel(act: Act) -> ActionResult:
    if act.draft.empty:
        _give_up(act.db, act.sender.identity.telegram_id, act.book, act.draft)
        return Screen([act.sender.text("cancelled")])
    act.draft.ask_cancel()
    return None


def _discard(act: Act) -> ActionResult:
    _give_up(act.db, act.sender.identity.telegram_id, act.book, act.draft)
    return Screen([act.sender.text("discarded", title=act.title)])


def _theirs(act: Act) -> ActionResult:
    draft = act.draft
    current = find_submission(act.db, draft.period_id, draft.work_item_id, draft.department_id)
    if current is not None:
        draft.take_theirs(current.progress, current.plan)
        draft.read_version = current.version
    return None


def _submit(act: Act) -> ActionResult:
    sender, db, draft, period = act.sender, act.db, act.draft, act.period
    if not draft.progress or not draft.plan:
        draft.change(Part.PROGRESS if not draft.progress else Part.PLAN)
        return sender.text("both_parts_needed")
    submission = submission_for(db, period, draft.work_item_id, draft.department_id)
    needs_approval = has_approvers(db, draft.department_id)
    previous_status = submission.status  # a resubmission after a return tells the returner
    try:
        saved = submit(
            db,
            submission,
            progress=draft.progress,
            plan=draft.plan,
            by=sender.identity.telegram_id,
            read_version=draft.read_version,
            now=act.now(),
            needs_approval=needs_approval,
        )
    except Conflict as conflict:
        draft.conflict(conflict.current.version)
        return None
    _drop(db, sender.identity.telegram_id, act.book, draft)
    listing = _listing(sender, db, period, act.book)
    assert saved.submitted_at is not None
    done = sender.text(
        "submitted", title=act.title, version=saved.version, late=saved.submitted_at > period.due_at
    )
    notices: list[Notice] = []
    if needs_approval:
        done = sender.text("submitted_pending", title=act.title, version=saved.version)
        notices = approval.approver_notices(db, saved, act.title, sender.name)
    department = sender.identity.department.name if sender.identity.department else ""
    # An approver who returned it reads the new version in their request: no second notice,
    # and none with a button to /show, which is for coordinators.
    asked = {notice.chat_id for notice in notices}
    resubmitted = review.resubmission_notices(db, saved, previous_status, department, act.title)
    notices += [notice for notice in resubmitted if notice.chat_id not in asked]
    return Screen([done, *listing.texts], listing.keyboard, keep=True, notices=notices)


_NUMBER = re.compile(r"^\s*\d+[.、．]\s*")


def _text(act: Act) -> ActionResult:
    """A message: new items, a replacement or insertion, or a correction by reply."""
    message, draft, sender = act.input, act.draft, act.sender
    assert message is not None
    if message.text is None:
        return Screen([sender.text("not_text")], notice=True)
    if message.reply_to is not None:
        corrected = _by_reply(act, message)
        if corrected is not None:
            return corrected
    if draft.step not in (Step.COLLECT, Step.REPLACE, Step.INSERT):
        return Screen([sender.text("use_buttons")], notice=True)
    part, before = draft.part, list(draft.items)
    rejection = too_long(message.text) or draft.take(message.text)
    if rejection is not None:
        return _rejected(sender, rejection, message.text)
    # What this message became, so an edit of or a reply to it corrects those items (not
    # when it moved the draft on to the other part or waits for a question's answer).
    added = [item for item in draft.items if item not in before]
    if draft.part is part and draft.pending is None and added:
        draft.note_origin(message.message_id, added)
    return None


def _by_reply(act: Act, message: Input) -> ActionResult:
    """A reply to one of the liaison's messages (or to the bot's echo of it) corrects the
    items it became; a reply quoting an item of the bot's list replaces that item."""
    draft, sender = act.draft, act.sender
    assert message.text is not None and message.reply_to is not None
    if message.reply_to_bot and message.quote:
        quoted = _NUMBER.sub("", message.quote).strip()
        index = next((i for i, item in enumerate(draft.items) if quoted and quoted in item), None)
        if index is not None:
            draft.select(index)
            draft.start_replace()
            rejection = too_long(message.text) or draft.take(message.text)
            if rejection is not None:
                draft.back()
                return _rejected(sender, rejection, message.text)
            draft.note_origin(message.message_id, [draft.items[index]])
            return sender.text("reply_replaced", number=index + 1)
    source: int | None = message.reply_to
    if message.reply_to_bot:
        source = act.book.echoed(message.reply_to)
    if source is None or str(source) not in draft.origins:
        return None
    return _retake(act, source)


def _retake(act: Act, source: int) -> ActionResult:
    """The liaison corrected a message (edited it, or replied to it): its items change."""
    sender, draft, message = act.sender, act.draft, act.input
    assert message is not None
    if message.text is None:
        return Screen([sender.text("not_text")], notice=True)
    result = too_long(message.text) or draft.retake(source, message.text)
    if isinstance(result, Rejection):
        return _rejected(sender, result, message.text)
    if result is None:
        return Screen([sender.text("edited_not_found")], notice=True)
    if draft.step in (Step.EDIT, Step.ITEM, Step.REPLACE, Step.INSERT):
        draft.back()
    return sender.text("edited_replaced", count=result)


def _edited(act: Act) -> ActionResult:
    assert act.input is not None
    return _retake(act, act.input.message_id)


def _rejected(sender: Who, rejection: Rejection, text: str) -> Screen:
    name = f"rejected_{rejection.value}"
    return Screen([sender.text(name, length=len(text), limit=_limit(rejection))], notice=True)


def _limit(rejection: Rejection) -> int:
    return {
        Rejection.TOO_LONG: MessageLimit.MAX_TEXT_LENGTH,
        Rejection.ITEM_TOO_LONG: MAX_ITEM_CHARS,
        Rejection.TOO_MANY: MAX_ITEMS,
    }.get(rejection, 0)


def _answers(method: Callable[[Draft], Rejection | None]) -> Callable[[Act], ActionResult]:
    """An answer to the question about a held message (CONFIRM_SECTIONS, CONFIRM_CHATTER);
    a refusal keeps the question open."""

    def action(act: Act) -> ActionResult:
        held = act.draft.pending or ""
        rejection = method(act.draft)
        if rejection is None:
            return None
        name = f"rejected_{rejection.value}"
        return act.sender.text(name, length=len(held), limit=_limit(rejection))

    return action


def _calls(method: Callable[[Draft], object]) -> Callable[[Act], ActionResult]:
    """An action that is just a method of the draft."""

    def action(act: Act) -> ActionResult:
        method(act.draft)
        return None

    return action


# Action (a button, or input) → what it does. A new action adds its line here.
_ACTIONS: dict[Action | Event, Callable[[Act], ActionResult]] = {
    Event.SHOW: _nothing,
    Event.TEXT: _text,
    Event.EDITED: _edited,
    Action.DONE: _done,
    Action.UNDO: _undo,
    Action.NO_PROGRESS: _no_progress,
    Action.EDIT: _calls(Draft.edit),
    Action.CARRY: _calls(Draft.carry_forward),
    Action.PICK: _pick,
    Action.REPLACE: _calls(Draft.start_replace),
    Action.INSERT: _calls(Draft.start_insert),
    Action.DELETE: _calls(Draft.delete),
    Action.UP: _calls(lambda draft: draft.move(-1)),
    Action.DOWN: _calls(lambda draft: draft.move(1)),
    Action.BACK: _calls(Draft.back),
    Action.CHANGE: _change,
    Action.CANCEL: _cancel,
    Action.KEEP: _calls(Draft.keep_going),
    Action.DISCARD: _discard,
    Action.SUBMIT: _submit,
    Action.MINE: _submit,
    Action.THEIRS: _theirs,
    Action.SECTIONS_YES: _answers(Draft.accept_sections),
    Action.SECTIONS_NO: _answers(Draft.reject_sections),
    Action.CHATTER_ADD: _answers(Draft.add_pending),
    Action.CHATTER_IGNORE: _answers(Draft.drop_pending),
}


# --- buttons ----------------------------------------------------------------------


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every `rp:` button: open an item, show the list, or act on the draft."""
    query = update.callback_query
    assert query is not None and query.data is not None
    tap = buttons.parse_report(query.data)
    now = services(context).now

    def work(db: Session, sender: Who) -> Outcome | str:
        refusal = sender.refused(REPORTING)
        book = drafts.load(db, sender.identity.telegram_id)
        draft = book.open_draft()
        if refusal is not None and (draft is None or refusal == "private_only"):
            return sender.plain(refusal)
        live = book.screen
        if refusal is not None:  # revoked with a draft open: the check says so, once
            assert draft is not None
            return Outcome(_act_on(sender, db, book, draft, Event.SHOW, None, now), live)
        screen, notice = _tapped(sender, db, book, draft, tap, now)
        # A reminder, or a result worth keeping, stays as it is: the screen comes anew.
        on_screen = query.message is not None and query.message.message_id == live
        edit = isinstance(tap, OnDraft) or (on_screen and not book.kept)
        return Outcome(screen, live, notice, edit_tapped=edit)

    outcome = await with_db(update, context, work)
    if isinstance(outcome, str):
        await query.answer(outcome[:200], show_alert=True)
        return
    await query.answer(outcome.answer[:200] if outcome.answer else None)
    await present(update, context, outcome)


def _tapped(
    sender: Who,
    db: Session,
    book: DraftBook,
    draft: Draft | None,
    tap: buttons.ReportTap | None,
    now: Callable[[], datetime],
) -> tuple[Screen, str | None]:
    """What a liaison's tap shows, and the short notice for the tap itself (old buttons;
    `tap` None: data this version does not know)."""
    match tap:
        case OpenItem():
            return _open_item(sender, db, book, tap, now), None
        case ShowList():
            return _list_or_no_period(sender, db, book), None
    if draft is None:  # the old message only loses its buttons
        return Screen([], notice=True), sender.plain("stale_button")
    if tap is None or tap.seq != draft.seq:
        return _act_on(sender, db, book, draft, Event.SHOW, None, now), sender.plain("stale_button")
    return _act_on(sender, db, book, draft, tap.action, tap.arg, now), None


# --- messages ---------------------------------------------------------------------


def _input(message: Message) -> Input:
    replied = message.reply_to_message
    return Input(
        message.text,
        message.message_id,
        replied.message_id if replied is not None else None,
        bool(replied is not None and replied.from_user is not None and replied.from_user.is_bot),
        message.quote.text if message.quote is not None else None,
    )


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private message: input to the open draft, or whatever the fallback says."""
    message = update.message
    if update.effective_user is None or message is None:
        return
    now = services(context).now
    given = _input(message)

    def work(db: Session, sender: Who) -> Outcome | None:
        asked = prompts.load(db, sender.identity.telegram_id)
        if asked is not None:  # the answer to a question (a return's reason) comes first
            answered = review.answer_prompt(sender, db, asked, given.text, now())
            if answered is not None:
                return Outcome(Screen(answered.texts, notices=answered.notices))
        book = drafts.load(db, sender.identity.telegram_id)
        draft = book.open_draft()
        if draft is None:
            return None
        screen = _act_on(sender, db, book, draft, Event.TEXT, None, now, given)
        echo = given.message_id if screen.keyboard and not screen.notice else None
        return Outcome(screen, book.screen, echo_of=echo)

    outcome = await with_db(update, context, work)
    if outcome is None:
        await stranger_or_idle(update, context)
        return
    await present(update, context, outcome)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The liaison corrected a sent message with Telegram's edit: while the draft is open
    the items it became are replaced; otherwise they are told how to revise."""
    message = update.edited_message
    if update.effective_user is None or message is None or not is_private(update):
        return
    now = services(context).now
    given = _input(message)

    def work(db: Session, sender: Who) -> Outcome | None:
        if sender.refused(LIAISONS):
            return None
        book = drafts.load(db, sender.identity.telegram_id)
        draft, live = book.open_draft(), book.screen
        if draft is None or str(given.message_id) not in draft.origins:
            return Outcome(Screen([sender.text("edited_after_submit")], notice=True), live)
        return Outcome(_act_on(sender, db, book, draft, Event.EDITED, None, now, given), live)

    outcome = await with_db(update, context, work)
    if outcome is not None:
        await present(update, context, outcome)


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel (liaisons): like the cancel button; asks first when the draft has content.
    Anyone else gets the polite refusal every liaison command gives. An open question (a
    return's reason) is withdrawn first, whoever asked."""
    now = services(context).now

    def work(db: Session, sender: Who) -> Outcome:
        if review.asks_for_text(prompts.load(db, sender.identity.telegram_id)):
            return Outcome(Screen([review.cancel_prompt(sender, db)]))
        refusal = sender.refused(LIAISONS)
        if refusal:
            return Outcome(Screen([sender.text(refusal)]))
        book = drafts.load(db, sender.identity.telegram_id)
        draft = book.open_draft()
        if draft is None:
            return Outcome(Screen([sender.text("nothing_to_cancel")]))
        return Outcome(_act_on(sender, db, book, draft, Action.CANCEL, None, now), book.screen)

    await present(update, context, await with_db(update, context, work))


async def group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text in a group from someone in the middle of a report: point them to the private chat."""
    if update.effective_user is None:
        return

    def work(db: Session, sender: Who) -> str | None:
        draft = drafts.load(db, sender.identity.telegram_id).open_draft()
        return sender.text("private_only") if draft is not None else None

    text = await with_db(update, context, work)
    if text is not None:
        await reply(update, text)
