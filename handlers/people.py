"""/liaisons and /coordinators: who holds which part of the reporting, taking a liaison's or
approver's access away, inviting a successor, adding and removing coordinators.

Coordinators only, in a private chat or a group; the buttons only in a private chat, where
they are shown. Storage (storage/people.py) makes each change and records it in the audit
trail; this module checks the role, words the screens and answers the taps.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import InlineKeyboardMarkupLimit
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.core import texts
from bot.core.invites import deep_link
from bot.core.people import PersonRole
from bot.core.periods import local_text
from handlers import buttons
from handlers.buttons import (
    AskRemoveCoordinator,
    AskRevoke,
    CancelPeople,
    InviteSuccessor,
    PeopleTap,
    RemoveCoordinator,
    Revoke,
)
from handlers.chunks import SCREEN_CHARS
from handlers.common import (
    CONSOLE,
    Services,
    Who,
    reply,
    require,
    services,
    with_db,
    with_db_or_refusal,
)
from handlers.menus import set_user_menu
from handlers.notices import Notice, send_notices
from storage.models import Department
from storage.people import (
    CoordinatorOutcome,
    DepartmentPeople,
    Identity,
    PersonView,
    RevokeOutcome,
    add_coordinator,
    audited_invite,
    coordinators,
    identify,
    language_of,
    liaison_by_id,
    people_by_department,
    remove_coordinator,
    revoke,
)

log = logging.getLogger(__name__)

# The buttons: only where they were shown, a coordinator's private chat.
PEOPLE_BUTTONS = replace(CONSOLE, private=True)
BUTTONS_PER_MESSAGE = int(InlineKeyboardMarkupLimit.TOTAL_BUTTON_NUMBER)
Keyboard = list[list[InlineKeyboardButton]]


def _button(sender: Who, label: str, tap: PeopleTap, **values: Any) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        sender.plain(label, **values), callback_data=buttons.build_people(tap)
    )


def _confirmation(sender: Who, confirmed: PeopleTap) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(sender, "btn_people_confirm", confirmed),
                _button(sender, "btn_people_cancel", CancelPeople()),
            ]
        ]
    )


@dataclass(frozen=True)
class Part:
    """One block of a screen, with the buttons that belong to it."""

    text: str
    keyboard: Keyboard = field(default_factory=list)


Message = tuple[str, InlineKeyboardMarkup | None]


def messages(parts: list[Part]) -> list[Message]:
    """Join parts into messages within Telegram's limits (text and buttons), never
    splitting a part; each message carries the buttons of its parts."""
    found: list[tuple[str, Keyboard]] = []
    for part in parts:
        if found:
            text, keyboard = found[-1]
            joined = f"{text}\n\n{part.text}"
            count = sum(len(row) for row in keyboard + part.keyboard)
            if len(joined) <= SCREEN_CHARS and count <= BUTTONS_PER_MESSAGE:
                found[-1] = (joined, keyboard + part.keyboard)
                continue
        found.append((part.text, list(part.keyboard)))
    return [(text, InlineKeyboardMarkup(rows) if rows else None) for text, rows in found]


# --- /liaisons ------------------------------------------------------------------------


def _person(sender: Who, person: PersonView) -> dict[str, Any]:
    seen = person.last_seen_at
    return {
        "name": person.name,
        "role": person.role.value,
        "last_seen": local_text(seen, sender.tz) if seen is not None else None,
        "unreachable": person.unreachable,
    }


def _department_part(sender: Who, department: DepartmentPeople) -> Part:
    people = [p for p in department.people if p.active]
    no_liaison = not department.holding(PersonRole.LIAISON)
    text = sender.text(
        "people_department",
        department=department.department.name,
        people=[_person(sender, p) for p in people],
        no_liaison=no_liaison,
    )
    if not sender.private:
        return Part(text)
    keyboard = [[_button(sender, "btn_revoke", AskRevoke(p.id), name=p.name)] for p in people]
    # A successor for every role someone held (revoked or not); a liaison always.
    held = {p.role for p in department.people} | {PersonRole.LIAISON}
    roles = [role for role in PersonRole if role in held]
    keyboard += [
        [
            _button(
                sender,
                "btn_invite_successor",
                InviteSuccessor(department.department.id, role),
                department=department.department.name,
                role=role.value,
            )
        ]
        for role in roles
    ]
    return Part(text, keyboard)


def liaisons_screen(sender: Who, db: Session) -> list[Message]:
    """Every active department in roster order with its people, those without a liaison
    flagged; in a private chat with a button per person and per role to invite."""
    departments = [d for d in people_by_department(db, revoked=True) if d.active]
    without = sum(1 for d in departments if not d.holding(PersonRole.LIAISON))
    head = Part(sender.text("people_head", departments=len(departments), without=without))
    return messages([head, *(_department_part(sender, d) for d in departments)])


async def liaisons_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/liaisons (coordinators): who reports for each department, and who approves."""

    def work(db: Session, sender: Who) -> list[Message]:
        require(sender, CONSOLE)
        return liaisons_screen(sender, db)

    for text, markup in await with_db_or_refusal(update, context, work) or []:
        await reply(update, text, markup)


# --- /coordinators --------------------------------------------------------------------


def coordinators_screen(sender: Who, db: Session) -> list[Message]:
    found = coordinators(db)
    me = sender.identity.telegram_id
    shown = [
        {"name": c.name, "telegram_id": c.telegram_id, "me": c.telegram_id == me} for c in found
    ]
    keyboard = [
        [_button(sender, "btn_remove_coordinator", AskRemoveCoordinator(c.id or 0), name=c.name)]
        for c in found
        if sender.private
    ]
    return messages([Part(sender.text("coordinators_list", coordinators=shown), keyboard)])


@dataclass(frozen=True)
class Added:
    """What /coordinators add answered, and the new coordinator's welcome and menu."""

    answer: str
    welcome: Notice | None = None
    menu: tuple[Identity, str] | None = None  # (identity, language)


def _welcome(db: Session, telegram_id: int, name: str) -> Added:
    language = language_of(db, telegram_id) or texts.DEFAULT_LANGUAGE
    welcome = Notice(telegram_id, texts.text(language, "coordinator_welcome", name=name))
    return Added("", welcome, (identify(db, telegram_id), language))


def add_answer(sender: Who, db: Session, args: list[str], now: datetime) -> Added:
    """`/coordinators add TELEGRAM_ID NAME`: make them a coordinator, or say why not."""
    number, name = (args[1] if len(args) > 1 else ""), " ".join(args[2:]).strip()[:64]
    if not (number.isascii() and number.isdigit() and 0 < int(number) < 2**63 and name):
        return Added(sender.text("coordinators_usage"))
    change = add_coordinator(db, int(number), name, sender.actor, now)
    if change.outcome is CoordinatorOutcome.ALREADY:
        return Added(sender.text("coordinator_already", name=change.name))
    added = sender.text("coordinator_added", name=name, telegram_id=change.telegram_id)
    return replace(_welcome(db, change.telegram_id, name), answer=added)


async def coordinators_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/coordinators [add TELEGRAM_ID NAME] (coordinators): list, add, remove (a button)."""
    args, now = list(context.args or []), services(context).now()

    def work(db: Session, sender: Who) -> list[Message] | Added:
        require(sender, CONSOLE)
        if not args:
            return coordinators_screen(sender, db)
        if args[0].lower() != "add":
            return Added(sender.text("coordinators_usage"))
        return add_answer(sender, db, args, now)

    done = await with_db_or_refusal(update, context, work)
    if isinstance(done, list):
        for text, markup in done:
            await reply(update, text, markup)
    elif done is not None:
        await reply(update, done.answer)
        await _tell(context, done.welcome, done.menu)


async def _tell(
    context: ContextTypes.DEFAULT_TYPE, notice: Notice | None, menu: tuple[Identity, str] | None
) -> None:
    """The person a change concerns: their command menu anew, and perhaps a message. Best
    effort: someone who never wrote to the bot cannot be reached yet (they get both on
    /start)."""
    if notice is not None:
        await send_notices(context.bot, [notice])
    if menu is not None:
        identity, language = menu
        try:
            await set_user_menu(context.bot, identity, language)
        except TelegramError as exc:
            log.info("command menu of %s not set: %s", identity.telegram_id, exc.message)


# --- the buttons ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tapped:
    """What a tap does: the answer on the tap, the tapped message's new text and buttons,
    a new message, and the command menu of the person it concerned."""

    answer: str | None = None
    alert: bool = False
    edit: str | None = None
    markup: InlineKeyboardMarkup | None = None
    send: str | None = None
    menu: tuple[Identity, str] | None = None


def _refused(answer: str) -> Tapped:
    return Tapped(answer=answer, alert=True)


def _menu_of(db: Session, telegram_id: int) -> tuple[Identity, str]:
    return identify(db, telegram_id), language_of(db, telegram_id) or texts.DEFAULT_LANGUAGE


def _ask_revoke(db: Session, sender: Who, tap: AskRevoke, svc: Services) -> Tapped:
    person = liaison_by_id(db, tap.liaison_id)
    if person is None:
        return _refused(sender.plain("people_unknown"))
    if not person.active:
        return _refused(sender.plain("people_already_revoked", name=person.name))
    department = db.get(Department, person.department_id)
    ask = sender.text(
        "people_revoke_ask", name=person.name, department=department.name if department else ""
    )
    return Tapped(edit=ask, markup=_confirmation(sender, Revoke(tap.liaison_id)))


def _revoke(db: Session, sender: Who, tap: Revoke, svc: Services) -> Tapped:
    person = liaison_by_id(db, tap.liaison_id)
    if person is None:
        return _refused(sender.plain("people_unknown"))
    done = revoke(db, person.telegram_id, sender.actor, svc.now())
    if done.outcome is not RevokeOutcome.REVOKED:
        return _refused(sender.plain("people_already_revoked", name=done.name))
    text = sender.text("people_revoked_now", name=done.name, department=done.department)
    return Tapped(edit=text, menu=_menu_of(db, person.telegram_id))


def _invite(db: Session, sender: Who, tap: InviteSuccessor, svc: Services) -> Tapped:
    """A fresh single-use link for the department and role, as /invite makes one."""
    department = db.get(Department, tap.department_id)
    if department is None or not department.active:
        return _refused(sender.plain("people_department_gone"))
    days = svc.settings.invite_ttl_days
    ttl = timedelta(days=days)
    token = audited_invite(
        db, department, ttl=ttl, actor=sender.actor, role=tap.role, now=svc.now()
    )
    link = deep_link(svc.bot_username, token)
    text = sender.text(
        "people_invite_created",
        department=department.name,
        role=tap.role.value,
        link=link,
        days=days,
    )
    return Tapped(send=text)


def _ask_remove(db: Session, sender: Who, tap: AskRemoveCoordinator, svc: Services) -> Tapped:
    active = coordinators(db)
    found = next((c for c in active if c.id == tap.coordinator_id), None)
    if found is None:
        return _refused(sender.plain("coordinator_gone"))
    if len(active) == 1:
        return _refused(sender.plain("coordinator_last", name=found.name))
    me = found.telegram_id == sender.identity.telegram_id
    ask = sender.text("coordinator_remove_ask", name=found.name, me=me)
    return Tapped(edit=ask, markup=_confirmation(sender, RemoveCoordinator(tap.coordinator_id)))


def _remove(db: Session, sender: Who, tap: RemoveCoordinator, svc: Services) -> Tapped:
    change = remove_coordinator(db, tap.coordinator_id, sender.actor, svc.now())
    if change.outcome is CoordinatorOutcome.GONE:
        return _refused(sender.plain("coordinator_gone"))
    if change.outcome is CoordinatorOutcome.LAST:
        return _refused(sender.plain("coordinator_last", name=change.name))
    text = sender.text("coordinator_removed", name=change.name)
    return Tapped(edit=text, menu=_menu_of(db, change.telegram_id))


def _cancel(db: Session, sender: Who, tap: CancelPeople, svc: Services) -> Tapped:
    return Tapped(edit=sender.text("people_cancelled"))


_TAPS: dict[type[Any], Callable[[Session, Who, Any, Services], Tapped]] = {
    AskRevoke: _ask_revoke,
    Revoke: _revoke,
    InviteSuccessor: _invite,
    AskRemoveCoordinator: _ask_remove,
    RemoveCoordinator: _remove,
    CancelPeople: _cancel,
}


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every `pp:` button. A tap by anyone but a coordinator in their private chat, or
    forged or old data, is refused on the tap and changes nothing."""
    query = update.callback_query
    assert query is not None and query.data is not None
    tap = buttons.parse_people(query.data)
    svc = services(context)

    def work(db: Session, sender: Who) -> Tapped:
        refusal = sender.refused(PEOPLE_BUTTONS)
        if refusal is not None:
            return _refused(sender.plain(refusal))
        if tap is None:
            return Tapped(answer=sender.plain("stale_button"))
        return _TAPS[type(tap)](db, sender, tap, svc)

    done = await with_db(update, context, work)
    await query.answer(done.answer[:200] if done.answer else None, show_alert=done.alert)
    if done.edit is not None:
        try:
            await query.edit_message_text(done.edit, reply_markup=done.markup)
        except BadRequest as exc:  # the message is gone or too old to edit: say it anew
            log.info("people: could not edit the tapped message: %s", exc.message)
            await reply(update, done.edit, done.markup)
    if done.send is not None:
        await reply(update, done.send)
    await _tell(context, None, done.menu)
