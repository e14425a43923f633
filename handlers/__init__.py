"""All handler registration in one place; the order of groups matters (see comments)."""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import (
    approval,
    buttons,
    calendar,
    coordinator,
    history,
    onboarding,
    people,
    reminders,
    report,
    review,
    roster,
    section_file,
    stats,
    summary_import,
)


def register(app: Application) -> None:  # type: ignore[type-arg]
    # Group 0: commands and buttons with a fixed meaning.
    app.add_handler(CommandHandler("start", onboarding.start))
    app.add_handler(CommandHandler("help", onboarding.help_command))
    app.add_handler(CommandHandler("whoami", onboarding.whoami))
    app.add_handler(CommandHandler("lang", onboarding.lang))
    app.add_handler(CommandHandler("invite", onboarding.invite))
    app.add_handler(CallbackQueryHandler(onboarding.lang_button, pattern=buttons.LANGUAGE_PATTERN))
    app.add_handler(CommandHandler("report", report.report_command))
    app.add_handler(CommandHandler("cancel", report.cancel_command))
    app.add_handler(CallbackQueryHandler(report.on_button, pattern=buttons.REPORT_PATTERN))
    # The approver's /pending (handlers/approval.py); approving is an `rv:` button below.
    app.add_handler(CommandHandler("pending", approval.pending_command))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, report.on_edited))
    # A roster file (.toml) a coordinator sends back (handlers/roster.py): before
    # report.on_message, which would take it as stray input.
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.Document.FileExtension("toml"), roster.on_file
        )
    )
    # A .docx from a coordinator is a past month's summary table to import
    # (handlers/summary_import.py); anyone else's document is a liaison's section
    # (handlers/section_file.py), and one who may not report gets what on_message says.
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.Document.FileExtension("docx"),
            summary_import.on_file,
        )
    )
    app.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL, section_file.on_file)
    )
    app.add_handler(CallbackQueryHandler(section_file.on_button, pattern=buttons.SECTION_PATTERN))
    app.add_handler(CallbackQueryHandler(summary_import.on_button, pattern=buttons.IMPORT_PATTERN))
    # Any private non-command message: input to an open report draft, else the fallback.
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & ~filters.COMMAND, report.on_message))
    app.add_handler(
        MessageHandler(filters.ChatType.GROUPS & ~filters.COMMAND, report.group_message)
    )

    # Reminders (handlers/reminders.py): /mute for liaisons, /remind for coordinators
    # (block=False: a large fan-out must not hold up other updates).
    app.add_handler(CommandHandler("mute", reminders.mute))
    app.add_handler(CommandHandler("remind", reminders.remind, block=False))

    # The coordinator's commands (handlers/coordinator.py), private chat or group. /compile
    # renders in a thread and uploads; block=False so other users' updates are not held up.
    app.add_handler(CommandHandler("compile", coordinator.compile_command, block=False))
    app.add_handler(CommandHandler("status", coordinator.status_command))
    app.add_handler(CommandHandler("period", coordinator.period_command))
    # /stats draws its chart in a thread and uploads it (handlers/stats.py): block=False too.
    app.add_handler(CommandHandler("stats", stats.stats_command, block=False))
    # Working days (handlers/calendar.py): holidays, 调休 and the office's own days.
    app.add_handler(CommandHandler("calendar", calendar.calendar_command))
    # Reading a department's report and returning items for revision (handlers/review.py).
    app.add_handler(CommandHandler("show", review.show_command))
    app.add_handler(CallbackQueryHandler(review.on_button, pattern=buttons.REVIEW_PATTERN))
    # A department's past reports on an item, month by month (handlers/history.py).
    app.add_handler(CommandHandler("history", history.history_command))
    app.add_handler(CallbackQueryHandler(history.on_button, pattern=buttons.HISTORY_PATTERN))

    # People (handlers/people.py): who reports for each department, revoking, successors,
    # coordinators.
    app.add_handler(CommandHandler("liaisons", people.liaisons_command))
    app.add_handler(CommandHandler("coordinators", people.coordinators_command))
    app.add_handler(CallbackQueryHandler(people.on_button, pattern=buttons.PEOPLE_PATTERN))

    # The roster in chat (handlers/roster.py): coordinators, private chat.
    app.add_handler(CommandHandler("items", roster.items_command))
    app.add_handler(CommandHandler("item", roster.item_command))
    app.add_handler(CommandHandler("depts", roster.depts_command))
    app.add_handler(CommandHandler("dept", roster.dept_command))
    app.add_handler(CommandHandler("roster", roster.roster_command))
    app.add_handler(CallbackQueryHandler(roster.on_button, pattern=buttons.ROSTER_PATTERN))

    # Last: whatever nothing above took (strangers, old buttons, stray input). Same group,
    # so exactly one handler answers each update.
    app.add_handler(MessageHandler(filters.ALL, onboarding.stranger_or_idle))
    app.add_handler(CallbackQueryHandler(onboarding.stale_button))
