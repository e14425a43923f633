"""Invites, /start, /help, /whoami, /lang, and the polite refusal for strangers."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.core import texts
from bot.core.invites import deep_link
from bot.core.people import PersonRole
from bot.core.periods import local_text
from handlers import buttons
from handlers.common import COORDINATORS, Who, is_private, reply, services, who, with_db
from handlers.menus import set_user_menu
from storage.people import (
    InviteOutcome,
    audited_invite,
    language_of,
    redeem_invite,
    set_language,
)
from storage.periods import current_period
from storage.roster import active_departments, department_by_code
from storage.submissions import department_list

log = logging.getLogger(__name__)

_REFUSALS = {
    InviteOutcome.UNKNOWN: "invite_unknown",
    InviteOutcome.USED: "invite_used",
    InviteOutcome.EXPIRED: "invite_expired",
    InviteOutcome.DEPARTMENT_GONE: "invite_department_gone",
}


def greeting(sender: Who) -> str:
    identity = sender.identity
    if identity.is_liaison and identity.department is not None:
        return sender.text("welcome_liaison", name=sender.name, department=identity.department.name)
    if identity.is_approver and identity.department is not None:
        name = identity.department.name
        return sender.text("welcome_approver", name=sender.name, department=name)
    if identity.is_coordinator:
        return sender.text("welcome_coordinator", name=sender.name)
    return sender.text("revoked" if identity.revoked else "stranger")


async def _refresh_menu(context: ContextTypes.DEFAULT_TYPE, sender: Who) -> None:
    try:
        await set_user_menu(context.bot, sender.identity, sender.language)
    except TelegramError:
        log.warning("could not set the command menu of a user", exc_info=True)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start [token]: redeem an invite, or greet by role."""
    if not is_private(update):
        return
    user = update.effective_user
    assert user is not None
    token = context.args[0] if context.args else ""

    def work(db: Session, _before: Who) -> tuple[InviteOutcome | None, Who, str | None]:
        outcome = None
        if token:
            outcome, _ = redeem_invite(db, token, telegram_id=user.id, name=user.full_name)
        sender = who(update, db)  # after redeeming: perhaps a liaison now
        if not sender.identity.is_stranger and language_of(db, user.id) is None:
            # Remember the client's language: reminders are sent outside any update.
            set_language(db, user.id, sender.language)
        due_now = _open_period_note(db, sender) if token else None
        return outcome, sender, due_now

    outcome, sender, due_now = await with_db(update, context, work)
    if token and outcome is not InviteOutcome.BOUND:
        assert outcome is not None
        await reply(update, sender.text(_REFUSALS[outcome]))
        return
    if token:
        assert sender.identity.department is not None
        name = sender.identity.department.name
        bound_text = "invite_bound_approver" if sender.identity.is_approver else "invite_bound"
        bound = sender.text(bound_text, name=sender.name, department=name)
        await reply(update, f"{bound}\n\n{due_now}" if due_now else bound)
    else:
        await reply(update, greeting(sender))
    if not sender.identity.is_stranger:
        await _refresh_menu(context, sender)


def _open_period_note(db: Session, sender: Who) -> str | None:
    """For a liaison who joins while a period is open: that it is, and what is due."""
    department, period = sender.identity.department, current_period(db)
    if not sender.identity.is_liaison:
        return None
    if department is None or period is None or period.due_at is None:
        return None
    return sender.text(
        "period_open_for_you",
        month=period.month,
        due=local_text(period.due_at, sender.tz),
        count=len(department_list(db, period, department.id)),
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what this user may do."""
    sender = await with_db(update, context, lambda _db, sender: sender)
    identity = sender.identity
    parts = []
    if identity.is_coordinator:
        parts.append(sender.text("help_coordinator"))
        parts.append(sender.text("help_roster"))
    if identity.is_liaison and identity.department is not None:
        parts.append(sender.text("help_liaison", department=identity.department.name))
    if identity.is_approver and identity.department is not None:
        parts.append(sender.text("help_approver", department=identity.department.name))
    await reply(update, "\n\n".join(parts) or sender.text("help_stranger"))


async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/whoami: the role the bot sees."""
    sender = await with_db(update, context, lambda _db, sender: sender)
    identity = sender.identity
    await reply(
        update,
        sender.text(
            "whoami_approver" if identity.is_approver else "whoami",
            name=sender.name,
            telegram_id=identity.telegram_id,
            coordinator=identity.is_coordinator,
            department=identity.department.name if identity.department else None,
        ),
    )


def _language_buttons(sender: Who) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    sender.plain("lang_button_zh"), callback_data=buttons.choose_language("zh-CN")
                ),
                InlineKeyboardButton(
                    sender.plain("lang_button_en"), callback_data=buttons.choose_language("en")
                ),
            ]
        ]
    )


async def lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lang [zh|en]: choose the language of every text."""
    wanted = (context.args[0].lower() if context.args else "")[:5]
    choice = {"zh": "zh-CN", "zh-cn": "zh-CN", "cn": "zh-CN", "中文": "zh-CN", "en": "en"}
    language = choice.get(wanted)

    def work(db: Session, sender: Who) -> Who:
        if language is not None:
            set_language(db, sender.identity.telegram_id, language)
        return sender

    sender = await with_db(update, context, work)
    if language is None:
        await reply(update, sender.text("lang_choose"), _language_buttons(sender))
        return
    await _language_changed(update, context, language, sender)


async def lang_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on 中文 / English."""
    query = update.callback_query
    assert query is not None and query.data is not None
    tap = buttons.parse_language(query.data)
    if tap is None:
        await query.answer()
        return
    language = tap.language

    def work(db: Session, sender: Who) -> Who:
        set_language(db, sender.identity.telegram_id, language)
        return sender

    sender = await with_db(update, context, work)
    await query.answer()
    await _language_changed(update, context, language, sender)


async def _language_changed(
    update: Update, context: ContextTypes.DEFAULT_TYPE, language: str, sender: Who
) -> None:
    sender = replace(sender, language=language)
    await reply(update, texts.text(language, "lang_set"))
    if not sender.identity.is_stranger and is_private(update):
        await _refresh_menu(context, sender)


# /invite's second word → the role its link makes; the link's answer names it.
_INVITE_ROLES = {"liaison": PersonRole.LIAISON, "approver": PersonRole.APPROVER}
_INVITE_TEXTS = {
    PersonRole.LIAISON: "invite_created",
    PersonRole.APPROVER: "invite_created_approver",
}


async def invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/invite DEPT_CODE [liaison|approver] (coordinators): a single-use deep link for the
    department's liaison (the default) or its head, who approves its submissions."""
    svc = services(context)
    args = context.args or []
    code = args[0].strip().lower() if args else ""
    role_word = args[1].strip().lower() if len(args) > 1 else "liaison"
    role = _INVITE_ROLES.get(role_word)

    def work(db: Session, sender: Who) -> str:
        refusal = sender.refused(COORDINATORS)
        if refusal:
            return sender.text(refusal)
        codes = [(d.code, d.name) for d in active_departments(db)]
        department = department_by_code(db, code) if code else None
        if not code:
            return f"{sender.text('invite_usage', codes=codes)}\n{sender.text('invite_role_usage')}"
        if department is None or not department.active:
            return sender.text("invite_no_department", code=code[:64], codes=codes)
        if role is None:
            return sender.text("invite_unknown_role", role=role_word[:32])
        days = svc.settings.invite_ttl_days
        ttl = timedelta(days=days)
        token = audited_invite(
            db, department, ttl=ttl, actor=sender.actor, role=role, now=svc.now()
        )
        return sender.text(
            _INVITE_TEXTS[role],
            department=department.name,
            link=deep_link(svc.bot_username, token),
            days=days,
        )

    await reply(update, await with_db(update, context, work))


async def stranger_or_idle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything no other handler took: strangers get the refusal, others a hint."""
    if not is_private(update) or update.effective_user is None:
        return
    sender = await with_db(update, context, lambda _db, sender: sender)
    if sender.identity.is_stranger:
        await reply(update, sender.text("revoked" if sender.identity.revoked else "stranger"))
    elif update.message and update.message.text and update.message.text.startswith("/"):
        await reply(update, sender.text("unknown_command"))
    else:
        await reply(update, sender.text("idle_hint"))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on a button no flow recognises (an old message, a screen that moved on): a
    short note on the tap, nothing else."""
    query = update.callback_query
    assert query is not None
    sender = await with_db(update, context, lambda _db, sender: sender)
    try:
        await query.answer(sender.plain("stale_button"))
    except BadRequest as exc:  # the query was answered already or is too old: nothing to say
        log.info("stale button: could not answer the tap: %s", exc.message)
