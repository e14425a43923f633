"""The roster in chat, for coordinators in a private chat: /items and /depts list it,
/item and /dept change one thing, /roster sends the roster file and a file sent back is
previewed, then applied on ✅.

Thin on purpose: each edit makes a new roster (bot.core.roster) and storage applies it
through `apply_roster`, the path `huibao roster load` takes, so the open month follows
and closed months keep what they had. Every change is audited.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session
from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core.audit import Action
from bot.core.roster import (
    Difference,
    EditError,
    Roster,
    RosterChange,
    RosterEdit,
    RosterError,
    diff_rosters,
    edit_department,
    edit_item,
    parse_roster,
    roster_toml,
)
from handlers import buttons
from handlers.chunks import pack
from handlers.common import (
    ROSTER_EDITS,
    Who,
    download,
    reply,
    require,
    services,
    with_db_or_refusal,
)
from storage.audit import record
from storage.prompts_roster import drop_upload, keep_upload, pending_upload
from storage.roster import active_departments, apply_roster, current_roster, work_items

log = logging.getLogger(__name__)

MAX_FILE = 256 * 1024  # bytes; a roster file is a few KB
FILENAME = "roster.toml"


@dataclass(frozen=True)
class Answer:
    text: str
    markup: InlineKeyboardMarkup | None = None


def _after_command(update: Update) -> str:
    """The message's text after the command (titles keep their spaces)."""
    text = update.message.text if update.message and update.message.text else ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


def _changes(differences: list[Difference]) -> list[dict[str, Any]]:
    return [{**asdict(d), "subject": d.subject.value, "kind": d.kind.value} for d in differences]


def _effects(sender: Who, change: RosterChange) -> list[dict[str, Any]]:
    """What the change does to each open month, owners as "title（department）"."""

    def owners(found: tuple[Any, ...]) -> list[str]:
        return [sender.plain("roster_owner", title=o.title, department=o.department) for o in found]

    return [
        {
            "month": e.month,
            "added_items": list(e.added_items),
            "removed_items": list(e.removed_items),
            "added": owners(e.added),
            "removed": owners(e.removed),
            "dropped": owners(e.dropped),
        }
        for e in change.periods
    ]


def _dropped(sender: Who, change: RosterChange) -> list[str]:
    return [name for effect in _effects(sender, change) for name in effect["dropped"]]


def _keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data)] for label, data in pairs]
    )


# --- lists ------------------------------------------------------------------------


def _items_text(db: Session, sender: Who) -> str:
    org = current_roster(db).organisation
    items = [
        {
            "number": number,
            "title": item.title,
            "code": item.code or "",
            "departments": [d.name for d in item.departments],
        }
        for number, item in enumerate(work_items(db), start=1)
    ]
    return sender.text("roster_items", organisation=org, items=items)


def _depts_text(db: Session, sender: Who) -> str:
    owned: dict[str, int] = {}
    for item in work_items(db):
        for department in item.departments:
            owned[department.code] = owned.get(department.code, 0) + 1
    departments = [
        {"code": d.code, "name": d.name, "owned": owned.get(d.code, 0)}
        for d in active_departments(db)
    ]
    return sender.text("roster_depts", departments=departments)


async def _answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, work: Callable[[Session, Who], Answer]
) -> None:
    def checked(db: Session, sender: Who) -> Answer:
        require(sender, ROSTER_EDITS)
        return work(db, sender)

    answer = await with_db_or_refusal(update, context, checked)
    if answer is not None:
        await _say(update, answer)


async def _say(update: Update, answer: Answer, tapped: CallbackQuery | None = None) -> None:
    """Send the answer, split between lines when it is longer than a message, the
    keyboard under the last part; `tapped`: its message shows the first part instead."""
    parts = pack(answer.text.split("\n"))
    for index, part in enumerate(parts):
        markup = answer.markup if index == len(parts) - 1 else None
        if index == 0 and tapped is not None:
            try:
                await tapped.edit_message_text(part, reply_markup=markup)
                continue
            except BadRequest as exc:  # the message cannot be edited: say it anew
                log.info("roster button: %s", exc.message)
        await reply(update, part, markup)


async def items_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/items: the key work items with their numbers and departments."""
    await _answer(update, context, lambda db, sender: Answer(_items_text(db, sender)))


async def depts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/depts: the departments, their codes and how many items each reports on."""
    await _answer(update, context, lambda db, sender: Answer(_depts_text(db, sender)))


# --- one edit -----------------------------------------------------------------------


def _apply(
    db: Session,
    sender: Who,
    edit: RosterEdit,
    timezone: str,
    now: datetime,
    *,
    confirmed: bool = False,
) -> Answer:
    """Apply one chat edit as a roster load; a change that takes handed-in work out of the
    open month is rolled back and asked about first (a retirement) or refused."""
    old = current_roster(db)
    ids = [item.id for item in work_items(db)]
    item_ids = [ids[origin] if origin is not None else None for origin in edit.origins]
    try:
        change = apply_roster(db, edit.roster, timezone, item_ids=item_ids)
    except RosterError as exc:
        db.rollback()
        return Answer(sender.text("roster_rejected", problem=exc.explain(sender.language)))
    if change.drops_submitted_work and not confirmed:
        db.rollback()
        dropped = _dropped(sender, change)
        gone = [i for i in ids if i not in item_ids]
        if edit.action is not Action.ITEM_RETIRE or len(gone) != 1:
            return Answer(sender.text("roster_edit_drops", dropped=dropped))
        keyboard = _keyboard(
            (sender.plain("roster_button_retire"), buttons.retire_item(gone[0])),
            (sender.plain("roster_button_keep"), buttons.keep_item()),
        )
        return Answer(
            sender.text("roster_retire_ask", title=edit.subject, dropped=dropped), keyboard
        )
    record(db, edit.action, sender.actor, edit.subject, detail=edit.detail, now=now)
    differences = diff_rosters(old, edit.roster, list(edit.origins))
    return Answer(
        sender.text("roster_done", changes=_changes(differences), effects=_effects(sender, change))
    )


async def _edit_command(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    command: str,
    edit: Callable[[Roster, str], RosterEdit],
) -> None:
    text, svc = _after_command(update), services(context)
    now = svc.now()

    def work(db: Session, sender: Who) -> Answer:
        if not text:
            return Answer(sender.text("roster_usage", command=command, verb=""))
        try:
            made = edit(current_roster(db), text)
        except EditError as exc:
            problem = sender.text(f"roster_edit_{exc.name}", **exc.values)
            usage = sender.text("roster_usage", command=command, verb=exc.verb)
            return Answer(f"{problem}\n{usage}" if exc.name != "department_owns" else problem)
        return _apply(db, sender, made, svc.settings.timezone, now)

    await _answer(update, context, work)


async def item_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/item add|rename|retire|move|depts …: change one key work item."""
    await _edit_command(update, context, "item", edit_item)


async def dept_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/dept add|rename|retire …: change one department."""
    await _edit_command(update, context, "dept", edit_department)


# --- the roster file ----------------------------------------------------------------


async def roster_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/roster: the roster as a TOML file, to edit and send back."""

    def work(db: Session, sender: Who) -> tuple[Who, Roster]:
        require(sender, ROSTER_EDITS)
        return sender, current_roster(db)

    done = await with_db_or_refusal(update, context, work)
    chat = update.effective_chat
    if done is None or chat is None:
        return
    sender, roster = done
    content = roster_toml(roster, sender.plain("roster_file_header")).encode("utf-8")
    caption = sender.text(
        "roster_file_caption", departments=len(roster.departments), items=len(roster.work_items)
    )
    await chat.send_document(document=content, filename=FILENAME, caption=caption)


def _preview(
    db: Session, sender: Who, roster: Roster, text: str, timezone: str, now: datetime
) -> Answer:
    """What the file would change, tried in the transaction and rolled back; the file is
    kept for the ✅ button."""
    old = current_roster(db)
    try:
        change = apply_roster(db, roster, timezone)
    except RosterError as exc:
        db.rollback()
        return Answer(sender.text("roster_file_broken", problem=exc.explain(sender.language)))
    db.rollback()
    differences = diff_rosters(old, roster)
    if not differences:
        return Answer(sender.text("roster_file_same"))
    upload = keep_upload(db, sender.identity.telegram_id, text, now)
    drops = change.drops_submitted_work
    apply_label = "roster_button_apply_anyway" if drops else "roster_button_apply"
    keyboard = _keyboard(
        (sender.plain(apply_label), buttons.apply_roster(upload.digest, drops=drops)),
        (sender.plain("roster_button_cancel"), buttons.cancel_roster(upload.digest)),
    )
    effects = _effects(sender, change)
    text = sender.text(
        "roster_preview", changes=_changes(differences), effects=effects, drops=drops
    )
    return Answer(text, keyboard)


def _checked(db: Session, sender: Who) -> Who:
    require(sender, ROSTER_EDITS)
    return sender


async def on_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A .toml file in a private chat: a coordinator's edited roster, previewed."""
    svc = services(context)
    now = svc.now()
    sender = await with_db_or_refusal(update, context, _checked)
    if sender is None:
        return
    document = update.message.document if update.message else None
    if document is None:
        return
    too_big = sender.text("roster_file_too_big", limit=MAX_FILE // 1024)
    if (document.file_size or 0) > MAX_FILE:
        await reply(update, too_big)
        return
    data = await download(document)
    if data is None:
        await reply(update, sender.text("roster_file_unreadable"))
        return
    if len(data) > MAX_FILE:
        await reply(update, too_big)
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        await reply(update, sender.text("roster_file_not_utf8"))
        return
    try:
        roster = parse_roster(text)
    except RosterError as exc:
        await reply(update, sender.text("roster_file_broken", problem=exc.explain(sender.language)))
        return
    await _answer(
        update, context, lambda db, who: _preview(db, who, roster, text, svc.settings.timezone, now)
    )


# --- buttons ------------------------------------------------------------------------


def _apply_file(
    db: Session, sender: Who, tap: buttons.ApplyRoster, timezone: str, now: datetime
) -> Answer:
    upload = pending_upload(db, sender.identity.telegram_id, tap.digest)
    if upload is None:
        return Answer(sender.text("roster_stale"))
    roster = parse_roster(upload.text)
    old = current_roster(db)
    try:
        change = apply_roster(db, roster, timezone)
    except RosterError as exc:
        db.rollback()
        return Answer(sender.text("roster_rejected", problem=exc.explain(sender.language)))
    if change.drops_submitted_work and not tap.drops:  # handed in since the preview
        db.rollback()
        return _preview(db, sender, roster, upload.text, timezone, now)
    differences = diff_rosters(old, roster)
    detail = {
        "digest": upload.digest,
        "added": change.added,
        "updated": change.updated,
        "retired": change.deactivated,
        "changes": [f"{d.subject.value} {d.kind.value}: {d.name}" for d in differences],
    }
    record(db, Action.ROSTER_LOAD, sender.actor, FILENAME, detail=detail, now=now)
    drop_upload(db, sender.identity.telegram_id)
    effects = _effects(sender, change)
    return Answer(
        sender.text("roster_file_applied", changes=_changes(differences), effects=effects)
    )


def _cancel_file(db: Session, sender: Who, tap: buttons.CancelRoster) -> Answer:
    if pending_upload(db, sender.identity.telegram_id, tap.digest) is None:
        return Answer(sender.text("roster_stale"))
    drop_upload(db, sender.identity.telegram_id)
    return Answer(sender.text("roster_file_cancelled"))


def _retire(
    db: Session, sender: Who, tap: buttons.RetireItem, timezone: str, now: datetime
) -> Answer:
    ids = [item.id for item in work_items(db)]
    if tap.work_item_id not in ids:
        return Answer(sender.text("roster_stale"))
    try:
        edit = edit_item(current_roster(db), f"retire {ids.index(tap.work_item_id) + 1}")
    except EditError as exc:
        return Answer(sender.text(f"roster_edit_{exc.name}", **exc.values))
    return _apply(db, sender, edit, timezone, now, confirmed=True)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """✅ / ✖️ under a roster file's preview or a retirement's question."""
    query = update.callback_query
    assert query is not None
    tap = buttons.parse_roster(query.data or "")
    svc = services(context)
    now, timezone = svc.now(), svc.settings.timezone

    def work(db: Session, sender: Who) -> tuple[Answer, bool]:
        """The answer, and whether it replaces the message tapped (else a tap note)."""
        refusal = sender.refused(ROSTER_EDITS)
        if refusal is not None:
            return Answer(sender.plain(refusal)), False
        if tap is None:
            return Answer(sender.plain("stale_button")), False
        if isinstance(tap, buttons.ApplyRoster):
            return _apply_file(db, sender, tap, timezone, now), True
        if isinstance(tap, buttons.CancelRoster):
            return _cancel_file(db, sender, tap), True
        if isinstance(tap, buttons.RetireItem):
            return _retire(db, sender, tap, timezone, now), True
        return Answer(sender.text("roster_kept")), True

    done = await with_db_or_refusal(update, context, work)
    if done is None:
        return
    answer, replaces = done
    try:
        await query.answer(None if replaces else answer.text[:200], show_alert=not replaces)
    except BadRequest as exc:  # the query is too old to answer: the chat still hears
        log.info("roster button not answered: %s", exc.message)
    if replaces:
        await _say(update, answer, query)
