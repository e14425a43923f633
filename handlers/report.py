"""The liaison's monthly report: /report, the item list, collecting, editing, preview, submit.

State lives in the database (storage.conversations), never only in memory: every
accepted message or tap is saved in the same transaction that answers it, so a
restart or days of silence resume exactly where the liaison was.

Button data: `rp:o:<period>:<item>` opens an item (also used by reminders),
`rp:l` shows the list, and `rp:<seq>:<action>[:<arg>]` acts on the open draft;
a tap whose seq is not the draft's current one comes from an old message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.intake import (
    MAX_ITEM_CHARS,
    MAX_ITEMS,
    MAX_MESSAGE_CHARS,
    Draft,
    Part,
    Rejection,
    Step,
    pack,
)
from bot.periods import default_due, local_text, parse_month
from bot.summary import cell_paragraphs
from handlers.common import Who, is_private, reply, services, session, who, with_db
from handlers.onboarding import stranger_or_idle
from storage import conversations
from storage.models import Period, WorkItem
from storage.periods import PeriodView, current_period, latest_period, period_and_title
from storage.submissions import (
    Conflict,
    ListedItem,
    State,
    department_list,
    owned_item,
    previous_plan,
    submission_for,
    submit,
)

FLOW = "report"
Keyboard = list[list[InlineKeyboardButton]]


@dataclass
class Screen:
    """What to send: one or more texts, the keyboard goes on the last."""

    texts: list[str]
    keyboard: Keyboard | None = None


# --- state ----------------------------------------------------------------------


def _key(period_id: int, work_item_id: int) -> str:
    return f"{period_id}:{work_item_id}"


def _load(db: Session, telegram_id: int) -> tuple[dict[str, Any], Draft | None]:
    state = conversations.load(db, telegram_id, FLOW)
    state.setdefault("drafts", {})
    current = state.get("current")
    if current and current in state["drafts"]:
        return state, Draft.from_dict(state["drafts"][current])
    return state, None


def _store(db: Session, telegram_id: int, state: dict[str, Any], draft: Draft | None) -> None:
    drafts = dict(state.get("drafts", {}))
    if draft is not None:
        key = _key(draft.period_id, draft.work_item_id)
        drafts[key] = draft.to_dict()
        state = {**state, "current": key}
    conversations.save(db, telegram_id, FLOW, {**state, "drafts": drafts})


def _drop(db: Session, telegram_id: int, state: dict[str, Any], draft: Draft) -> None:
    """Forget a draft (submitted or discarded) and leave the flow."""
    drafts = dict(state.get("drafts", {}))
    drafts.pop(_key(draft.period_id, draft.work_item_id), None)
    conversations.save(db, telegram_id, FLOW, {"drafts": drafts, "current": None})


# --- screens --------------------------------------------------------------------


def _button(sender: Who, label: str, data: str, **values: Any) -> InlineKeyboardButton:
    return InlineKeyboardButton(sender.plain(label, **values), callback_data=data)


def _act(draft: Draft, action: str, arg: int | None = None) -> str:
    return f"rp:{draft.seq}:{action}" + ("" if arg is None else f":{arg}")


def _numbered(sender: Who, items: list[str]) -> list[str]:
    return [sender.text("report_item", number=n, item=item) for n, item in enumerate(items, 1)]


def _state_label(sender: Who, item: ListedItem, has_draft: bool) -> str:
    state = item.state
    if state is State.NOT_STARTED and has_draft:
        state = State.DRAFT
    return sender.plain(f"state_{state.value}")


def list_screen(
    sender: Who, db: Session, period: Period | PeriodView, drafts: dict[str, Any]
) -> Screen:
    """The department's key work items for the period, each with its state."""
    department = sender.identity.department
    assert department is not None and period.due_at is not None
    owned = department_list(db, period, department.id)
    rows: Keyboard = []
    lines = []
    for number, item in enumerate(owned, 1):
        has_draft = _key(period.id or 0, item.work_item_id) in drafts
        label = _state_label(sender, item, has_draft)
        lines.append(sender.text("report_list_line", number=number, title=item.title, state=label))
        rows.append(
            [
                InlineKeyboardButton(
                    sender.plain(
                        "report_list_button", number=number, title=item.title[:24], state=label
                    ),
                    callback_data=f"rp:o:{period.id}:{item.work_item_id}",
                )
            ]
        )
    head = sender.text(
        "report_list",
        department=department.name,
        month=period.month,
        due=local_text(period.due_at, sender.tz),
        lines=lines,
        empty=not owned,
    )
    return Screen([head], rows or None)


def draft_screen(sender: Who, draft: Draft, title: str) -> Screen:
    """The view of the draft's current step."""
    step = draft.step
    part_name = sender.plain(f"part_{draft.part.value}")
    if step is Step.COLLECT:
        blocks = [sender.text("collect_head", title=title, part=part_name)]
        if draft.items:
            blocks += _numbered(sender, draft.items)
            blocks.append(sender.text("collect_more", part=part_name))
            keyboard: Keyboard = [
                [_button(sender, "btn_done", _act(draft, "done"))],
                [
                    _button(sender, "btn_undo", _act(draft, "undo")),
                    _button(sender, "btn_edit", _act(draft, "edit")),
                ],
                [_button(sender, "btn_cancel", _act(draft, "cancel"))],
            ]
        else:
            blocks.append(sender.text("collect_prompt", part=part_name))
            keyboard = [[_button(sender, "btn_cancel", _act(draft, "cancel"))]]
            if draft.part is Part.PROGRESS and draft.previous_plan:
                blocks.append(sender.text("carry_offer"))
                blocks += _numbered(sender, draft.previous_plan)
                keyboard.insert(0, [_button(sender, "btn_carry", _act(draft, "carry"))])
        return Screen(pack(blocks), keyboard)
    if step is Step.EDIT:
        blocks = [sender.text("edit_head", part=part_name), *_numbered(sender, draft.items)]
        numbers = [
            InlineKeyboardButton(str(i + 1), callback_data=_act(draft, "pick", i))
            for i in range(len(draft.items))
        ]
        keyboard = [numbers[i : i + 8] for i in range(0, len(numbers), 8)]
        keyboard.append([_button(sender, "btn_back", _act(draft, "back"))])
        return Screen(pack(blocks), keyboard)
    if step is Step.ITEM:
        index = draft.selected or 0
        blocks = [sender.text("item_head", number=index + 1, item=draft.items[index])]
        keyboard = [
            [
                _button(sender, "btn_replace", _act(draft, "replace")),
                _button(sender, "btn_delete", _act(draft, "delete")),
            ],
            [
                _button(sender, "btn_up", _act(draft, "up")),
                _button(sender, "btn_down", _act(draft, "down")),
                _button(sender, "btn_insert", _act(draft, "insert")),
            ],
            [_button(sender, "btn_back", _act(draft, "edit"))],
        ]
        return Screen(pack(blocks), keyboard)
    if step in (Step.REPLACE, Step.INSERT):
        index = draft.selected or 0
        blocks = [sender.text(f"{step.value}_prompt", number=index + 1, item=draft.items[index])]
        return Screen(pack(blocks), [[_button(sender, "btn_back", _act(draft, "edit"))]])
    if step is Step.PREVIEW:
        blocks = preview_blocks(sender, title, draft.progress, draft.plan)
        if draft.repeats_last_month:
            blocks.append(sender.text("warn_same_as_last_month"))
        keyboard = [
            [_button(sender, "btn_submit", _act(draft, "submit"))],
            [
                _button(sender, "btn_change_progress", _act(draft, "change", 0)),
                _button(sender, "btn_change_plan", _act(draft, "change", 1)),
            ],
            [_button(sender, "btn_cancel", _act(draft, "cancel"))],
        ]
        return Screen(pack(blocks), keyboard)
    if step is Step.CONFIRM_CANCEL:
        return Screen(
            [sender.text("confirm_cancel", title=title)],
            [
                [
                    _button(sender, "btn_discard", _act(draft, "discard")),
                    _button(sender, "btn_keep", _act(draft, "keep")),
                ]
            ],
        )
    # Step.CONFLICT
    return Screen(
        [sender.text("conflict", title=title)],
        [
            [_button(sender, "btn_submit_mine", _act(draft, "mine"))],
            [_button(sender, "btn_take_theirs", _act(draft, "theirs"))],
        ],
    )


def preview_blocks(sender: Who, title: str, progress: list[str], plan: list[str]) -> list[str]:
    """Both cells exactly as the document will show them."""
    return [
        sender.text("preview_head", title=title),
        sender.text(
            "preview_cell", part=sender.plain("part_progress"), paragraphs=cell_paragraphs(progress)
        ),
        sender.text(
            "preview_cell", part=sender.plain("part_plan"), paragraphs=cell_paragraphs(plan)
        ),
    ]


async def show(update: Update, screen: Screen) -> None:
    """As few messages as fit (a notice and the screen it leads into arrive as one)."""
    markup = InlineKeyboardMarkup(screen.keyboard) if screen.keyboard else None
    texts = pack(screen.texts, separator="\n\n")
    for index, text in enumerate(texts):
        await reply(update, text, markup if index == len(texts) - 1 else None)


# --- entry ------------------------------------------------------------------------


def _liaison_check(update: Update, sender: Who) -> str | None:
    """Why this user cannot report here, as a text name, or None."""
    if not is_private(update):
        return "private_only"
    if not sender.identity.is_liaison:
        return "stranger" if sender.identity.is_stranger else "liaisons_only"
    return None


def _no_period_text(sender: Who, db: Session) -> str:
    latest = latest_period(db)
    tz = sender.tz
    if latest is None:
        return sender.text("no_open_period", month=None, due=None)
    upcoming = parse_month(latest.month).next()
    return sender.text(
        "no_open_period", month=str(upcoming), due=local_text(default_due(upcoming, tz), tz)
    )


async def report_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/report: resume the open draft, or list the department's items."""
    with session(context) as db:
        sender = who(update, db)
        refusal = _liaison_check(update, sender)
        if refusal:
            screen = Screen([sender.text(refusal)])
        else:
            state, draft = _load(db, sender.identity.telegram_id)
            drafted, title = (
                period_and_title(db, draft.period_id, draft.work_item_id) if draft else (None, "")
            )
            if draft is not None and drafted is not None and drafted.is_open:
                screen = draft_screen(sender, draft, title)
                screen.texts.insert(0, sender.text("resume", title=title))
            else:
                period = current_period(db)
                if period is None:
                    screen = Screen([_no_period_text(sender, db)])
                else:
                    screen = list_screen(sender, db, period, state["drafts"])
    await show(update, screen)


def _title(db: Session, work_item_id: int) -> str:
    item = db.get(WorkItem, work_item_id)
    return item.title if item else "?"


def _open_item(
    sender: Who, db: Session, state: dict[str, Any], period_id: int, work_item_id: int
) -> Screen:
    """Start or resume the draft for one key work item."""
    department = sender.identity.department
    assert department is not None
    owned = owned_item(db, period_id, work_item_id, department.id or 0)
    if owned is None:
        return Screen([sender.text("stale_item")])
    period, title, submission = owned
    if not period.is_open:
        blocks = [sender.text("period_closed", month=period.month)]
        if submission is not None and submission.status == "submitted":
            blocks += preview_blocks(sender, title, submission.progress, submission.plan)
        return Screen(pack(blocks))
    key = _key(period_id, work_item_id)
    if key in state["drafts"]:
        draft = Draft.from_dict(state["drafts"][key])
    elif submission is not None and submission.status == "submitted":
        draft = Draft(
            period_id,
            work_item_id,
            department.id or 0,
            submission.version,
            progress=list(submission.progress),
            plan=list(submission.plan),
            step=Step.PREVIEW,
        )
    else:
        created = submission_for(db, period, work_item_id, department.id or 0)
        draft = Draft(
            period_id,
            work_item_id,
            department.id or 0,
            created.version,
            previous_plan=previous_plan(db, period, work_item_id, department.id or 0),
        )
    _store(db, sender.identity.telegram_id, state, draft)
    screen = draft_screen(sender, draft, title)
    if submission is not None and submission.status == "submitted" and key not in state["drafts"]:
        assert submission.submitted_at is not None
        screen.texts.insert(
            0,
            sender.text(
                "already_submitted",
                version=submission.version,
                at=local_text(submission.submitted_at, sender.tz),
            ),
        )
    return screen


# --- buttons ----------------------------------------------------------------------


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every `rp:` button: open an item, show the list, or act on the draft."""
    query = update.callback_query
    assert query is not None and query.data is not None
    with session(context) as db:  # nothing awaited inside: the connection is back at once
        sender = who(update, db)
        refusal = _liaison_check(update, sender)
        if refusal is None:
            screen, notice = _tapped(sender, db, query.data.split(":"), services(context).now)
    if refusal is not None:
        await query.answer(sender.plain(refusal)[:200], show_alert=True)
        return
    await query.answer(notice[:200] if notice else None)
    await show(update, screen)


def _tapped(sender: Who, db: Session, parts: list[str], now: Any) -> tuple[Screen, str | None]:
    """What a liaison's tap shows, and the short notice for the tap itself (old buttons)."""
    state, draft = _load(db, sender.identity.telegram_id)
    if parts[1] == "o" and len(parts) == 4 and parts[2].isdigit() and parts[3].isdigit():
        return _open_item(sender, db, state, int(parts[2]), int(parts[3])), None
    if parts[1] == "l":
        period = current_period(db)
        if period is None:
            return Screen([_no_period_text(sender, db)]), None
        return list_screen(sender, db, period, state["drafts"]), None
    if draft is None:
        return Screen([sender.text("stale_button")]), sender.plain("stale_button")
    if not parts[1].isdigit() or int(parts[1]) != draft.seq:
        screen = draft_screen(sender, draft, _title(db, draft.work_item_id))
        return screen, sender.plain("stale_button")
    arg = int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else None
    return _act_on(sender, db, state, draft, parts[2], arg, now), None


def _act_on(
    sender: Who,
    db: Session,
    state: dict[str, Any],
    draft: Draft,
    action: str,
    arg: int | None,
    now: Any,
) -> Screen:
    """Apply one tap to the draft, save it, and say what to show next."""
    telegram_id = sender.identity.telegram_id
    period, title = period_and_title(db, draft.period_id, draft.work_item_id)
    if period is None or not period.is_open:
        return _closed(sender, db, state, draft, title, period)
    notice: str | None = None
    if action == "done":
        if not draft.finish_part():
            notice = "nothing_to_finish"
    elif action == "undo":
        if not draft.undo():
            notice = "nothing_to_undo"
    elif action == "edit":
        draft.edit()
    elif action == "carry":
        draft.carry_forward()
    elif action == "pick" and arg is not None:
        draft.select(arg)
    elif action == "replace":
        draft.start_replace()
    elif action == "insert":
        draft.start_insert()
    elif action == "delete":
        draft.delete()
    elif action in ("up", "down"):
        draft.move(-1 if action == "up" else 1)
    elif action == "back":
        draft.back()
    elif action == "change" and arg in (0, 1):
        draft.change(Part.PROGRESS if arg == 0 else Part.PLAN)
    elif action == "cancel":
        if draft.empty:
            _drop(db, telegram_id, state, draft)
            return Screen([sender.text("cancelled")])
        draft.ask_cancel()
    elif action == "keep":
        draft.keep_going()
    elif action == "discard":
        _drop(db, telegram_id, state, draft)
        return Screen([sender.text("discarded", title=title)])
    elif action in ("submit", "mine"):
        return _submit(sender, db, state, draft, title, now)
    elif action == "theirs":
        current = submission_for(db, period, draft.work_item_id, draft.department_id)
        draft.take_theirs(current.progress, current.plan)
    _store(db, telegram_id, state, draft)
    screen = draft_screen(sender, draft, title)
    if notice:
        screen.texts.insert(0, sender.text(notice))
    return screen


def _closed(
    sender: Who,
    db: Session,
    state: dict[str, Any],
    draft: Draft,
    title: str,
    period: PeriodView | None,
) -> Screen:
    """The period closed under an open draft: leave the flow, and show the draft to keep."""
    _drop(db, sender.identity.telegram_id, state, draft)
    blocks = [sender.text("period_closed_draft", month=period.month if period else "?")]
    blocks += preview_blocks(sender, title, draft.progress, draft.plan)
    return Screen(pack(blocks))


def _submit(
    sender: Who, db: Session, state: dict[str, Any], draft: Draft, title: str, now: Any
) -> Screen:
    period = db.get(Period, draft.period_id)
    assert period is not None
    submission = submission_for(db, period, draft.work_item_id, draft.department_id)
    if not draft.progress or not draft.plan:
        draft.change(Part.PROGRESS if not draft.progress else Part.PLAN)
        _store(db, sender.identity.telegram_id, state, draft)
        screen = draft_screen(sender, draft, title)
        screen.texts.insert(0, sender.text("both_parts_needed"))
        return screen
    try:
        saved = submit(
            db,
            submission,
            progress=draft.progress,
            plan=draft.plan,
            by=sender.identity.telegram_id,
            read_version=draft.read_version,
            now=now(),
        )
    except Conflict as conflict:
        draft.conflict(conflict.current.version)
        _store(db, sender.identity.telegram_id, state, draft)
        blocks = [sender.text("conflict_head", title=title)]
        blocks += preview_blocks(sender, title, conflict.current.progress, conflict.current.plan)
        screen = draft_screen(sender, draft, title)
        return Screen(pack(blocks) + screen.texts, screen.keyboard)
    _drop(db, sender.identity.telegram_id, state, draft)
    state = {
        **state,
        "drafts": {
            k: v
            for k, v in state["drafts"].items()
            if k != _key(draft.period_id, draft.work_item_id)
        },
    }
    listing = list_screen(sender, db, period, state["drafts"])
    done = sender.text("submitted", title=title, version=saved.version)
    return Screen([done, *listing.texts], listing.keyboard)


# --- messages ---------------------------------------------------------------------


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A private message: input to the open draft, or whatever the fallback says."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None:
        return
    with session(context) as db:
        sender = who(update, db)
        state, draft = _load(db, user.id) if sender.identity.is_liaison else ({}, None)
        screen = None if draft is None else _take_message(sender, db, state, draft, message.text)
    if screen is None:
        await stranger_or_idle(update, context)
        return
    await show(update, screen)


def _take_message(
    sender: Who, db: Session, state: dict[str, Any], draft: Draft, text: str | None
) -> Screen:
    period, title = period_and_title(db, draft.period_id, draft.work_item_id)
    if period is None or not period.is_open:
        return _closed(sender, db, state, draft, title, period)
    if text is None:
        return Screen([sender.text("not_text")])
    if draft.step not in (Step.COLLECT, Step.REPLACE, Step.INSERT):
        return Screen([sender.text("use_buttons")])
    rejection = draft.take(text)
    if rejection is not None:
        return Screen(
            [sender.text(f"rejected_{rejection.value}", length=len(text), limit=_limit(rejection))]
        )
    _store(db, sender.identity.telegram_id, state, draft)
    return draft_screen(sender, draft, title)


def _limit(rejection: Rejection) -> int:
    return {
        Rejection.TOO_LONG: MAX_MESSAGE_CHARS,
        Rejection.ITEM_TOO_LONG: MAX_ITEM_CHARS,
        Rejection.TOO_MANY: MAX_ITEMS,
    }.get(rejection, 0)


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel (liaisons): like the cancel button; asks first when the draft has content.
    Anyone else gets the polite refusal every liaison command gives."""
    now = services(context).now

    def work(db: Session, sender: Who) -> Screen:
        if not sender.identity.is_liaison:
            refusal = "stranger" if sender.identity.is_stranger else "liaisons_only"
            return Screen([sender.text(refusal)])
        state, draft = _load(db, sender.identity.telegram_id)
        if draft is None:
            return Screen([sender.text("nothing_to_cancel")])
        return _act_on(sender, db, state, draft, "cancel", None, now)

    await show(update, await with_db(update, context, work))


async def group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text in a group from someone in the middle of a report: point them to the private chat."""
    user = update.effective_user
    if user is None:
        return
    with session(context) as db:
        sender = who(update, db)
        _, draft = _load(db, user.id)
    if draft is not None:
        await reply(update, sender.text("private_only"))
