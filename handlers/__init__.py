"""All handler registration in one place; the order of groups matters (see comments)."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from handlers import onboarding


def register(app: Application) -> None:  # type: ignore[type-arg]
    # Group 0: commands and buttons with a fixed meaning.
    app.add_handler(CommandHandler("start", onboarding.start))
    app.add_handler(CommandHandler("help", onboarding.help_command))
    app.add_handler(CommandHandler("whoami", onboarding.whoami))
    app.add_handler(CommandHandler("lang", onboarding.lang))
    app.add_handler(CommandHandler("invite", onboarding.invite))
    app.add_handler(CallbackQueryHandler(onboarding.lang_button, pattern=r"^lang:"))

    # Last group: whatever nothing above took (strangers, old buttons, stray input).
    app.add_handler(MessageHandler(filters.ALL, onboarding.stranger_or_idle), group=9)
    app.add_handler(CallbackQueryHandler(onboarding.stale_button), group=9)
