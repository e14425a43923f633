"""Command menus per role, set with setMyCommands scopes."""

from __future__ import annotations

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault

from bot.core import texts
from storage.people import Identity

STRANGER = ("start", "help", "lang")
LIAISON = ("report", "history", "mute", "cancel", "whoami", "help", "lang")
APPROVER = ("pending", "history", "mute", "whoami", "help", "lang")
COORDINATOR = (
    "status",
    "show",
    "history",
    "compile",
    "stats",
    "period",
    "calendar",
    "remind",
    "invite",
    "liaisons",
    "coordinators",
    "items",
    "item",
    "depts",
    "dept",
    "roster",
    "whoami",
    "help",
    "lang",
)


def commands_for(identity: Identity) -> tuple[str, ...]:
    if identity.is_stranger:
        return STRANGER
    names: list[str] = []
    for name in (
        (COORDINATOR if identity.is_coordinator else ())
        + (LIAISON if identity.is_liaison else ())
        + (APPROVER if identity.is_approver else ())
    ):
        if name not in names:
            names.append(name)
    return tuple(names)


def _commands(names: tuple[str, ...], language: str) -> list[BotCommand]:
    return [BotCommand(name, texts.plain(language, f"cmd_{name}")) for name in names]


async def set_default_menu(bot: Bot) -> None:
    """What a stranger sees: Chinese by default, English for English clients."""
    scope = BotCommandScopeDefault()
    await bot.set_my_commands(_commands(STRANGER, "zh-CN"), scope=scope)
    await bot.set_my_commands(_commands(STRANGER, "en"), scope=scope, language_code="en")


async def set_user_menu(bot: Bot, identity: Identity, language: str) -> None:
    """The menu of one user's private chat, in their language."""
    scope = BotCommandScopeChat(identity.telegram_id)
    await bot.set_my_commands(_commands(commands_for(identity), language), scope=scope)
