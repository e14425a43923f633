"""`huibao check`: probe a deployment, one line per thing (bot/core/check.py's Line).

Every probe is bounded by TIMEOUT and turns its failure into a line saying the cause and
the fix; none prints the token (bot.logs.redact) or a traceback.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.core import backup_plan, reminders
from bot.core.check import Line, Status, backup_status, next_reminder
from bot.core.periods import local_text, weekday
from bot.core.texts import terminal
from bot.settings import Settings, SettingsError, load_settings
from storage import backup
from storage import periods as period_store
from storage.calendar import work_calendar
from storage.db import HEAD, SchemaError, current_revision, ensure_schema, make_engine
from storage.models import utcnow
from storage.roster import organisation, organisation_zone, work_items

if TYPE_CHECKING:
    from telegram import WebhookInfo

TIMEOUT = 5.0  # seconds, for each network probe


def run_checks(prepare: Callable[[Settings], None]) -> list[Line]:
    """Every line, in the order a deployer fixes things: settings first (without them
    nothing else can be probed), then Telegram, the database and what is in it.
    `prepare` sets up logging from the settings (the token masked)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        return [Line("settings", Status.FAIL, str(exc))]
    prepare(settings)
    lines = [Line("settings", Status.OK, terminal("check_settings_ok"))]
    lines += asyncio.run(telegram_lines(settings))
    lines += database_lines(settings)
    lines += [template_line(), font_line()]
    return lines


# --- Telegram: the server, the token, the webhook ------------------------------------


def _server(settings: Settings) -> str:
    parsed = urlparse(settings.bot_api_base_url)
    return f"{parsed.scheme}://{parsed.netloc}"


def _route(settings: Settings) -> str:
    """The server, and the proxy the requests go through (the bot's client picks it so,
    bot/transport.py), by host only: a proxy URL may hold a password."""
    from bot.transport import environment_proxy

    server = _server(settings)
    parsed = urlparse(server)
    proxy = environment_proxy(parsed.scheme, parsed.hostname or "")
    if not proxy:
        return server
    return terminal("check_via_proxy", server=server, proxy=urlparse(proxy).netloc.split("@")[-1])


async def telegram_lines(settings: Settings) -> list[Line]:
    """getMe (the server reachable, the token accepted) and, with a webhook, getWebhookInfo."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.transport import AiohttpRequest

    try:
        token = settings.token
    except SettingsError as exc:
        return [Line("token", Status.FAIL, str(exc))]
    if settings.webhook_url and settings.webhook_secret is None:
        return [Line("webhook", Status.FAIL, terminal("webhook_needs_secret"))]
    server = _server(settings)

    def request() -> AiohttpRequest:
        return AiohttpRequest(connection_pool_size=1, read_timeout=TIMEOUT, connect_timeout=TIMEOUT)

    bot = Bot(
        token,
        base_url=settings.bot_api_base_url,
        base_file_url=settings.bot_api_file_url,
        request=request(),
        get_updates_request=request(),
    )
    try:
        async with asyncio.timeout(3 * TIMEOUT):
            async with bot:
                lines = [
                    Line("telegram", Status.OK, _route(settings)),
                    Line("token", Status.OK, f"@{bot.username}"),
                ]
                if settings.webhook_url:
                    lines.append(_webhook_line(settings, await bot.get_webhook_info()))
                return lines
    except InvalidToken:
        return [
            Line("telegram", Status.OK, _route(settings)),
            Line("token", Status.FAIL, terminal("token_rejected")),
        ]
    except (NetworkError, TimeoutError) as exc:
        error = str(exc) or exc.__class__.__name__
        detail = terminal("telegram_unreachable", url=server, error=error)
        return [Line("telegram", Status.FAIL, detail)]
    except TelegramError as exc:
        return [Line("telegram", Status.FAIL, terminal("telegram_refused", error=str(exc)))]


def _webhook_line(settings: Settings, info: WebhookInfo) -> Line:
    url, pending, error = info.url or "", info.pending_update_count, info.last_error_message or ""
    values = {"url": url, "wanted": settings.webhook_url, "pending": pending, "error": error}
    status = Status.OK if url == settings.webhook_url and not error else Status.WARN
    return Line("webhook", status, terminal("check_webhook", **values))


# --- the database and what is in it ---------------------------------------------------


def _bounded_url(url: str) -> str:
    """PostgreSQL: give up connecting after TIMEOUT (libpq's connect_timeout)."""
    if url.startswith("postgresql") and "connect_timeout=" not in url:
        return f"{url}{'&' if '?' in url else '?'}connect_timeout={int(TIMEOUT)}"
    return url


def _missing_sqlite_file(url: str) -> str | None:
    """The SQLite file DATABASE_URL names, when there is none: a check makes nothing."""
    if not url.startswith("sqlite"):
        return None
    path = sa.engine.make_url(url).database
    if not path or path == ":memory:" or Path(path).exists():
        return None
    return path


def database_lines(settings: Settings) -> list[Line]:
    try:
        missing = _missing_sqlite_file(settings.database_url)
    except (SQLAlchemyError, ValueError) as exc:
        error = f"{exc.__class__.__name__}: {exc}"
        return [Line("database", Status.FAIL, terminal("check_database_bad_url", error=error))]
    if missing is not None:
        return [Line("database", Status.FAIL, terminal("check_database_no_file", path=missing))]
    try:
        engine = make_engine(_bounded_url(settings.database_url))
    except (SQLAlchemyError, ValueError) as exc:
        error = f"{exc.__class__.__name__}: {exc}"
        return [Line("database", Status.FAIL, terminal("check_database_bad_url", error=error))]
    except OSError as exc:  # SQLite: the file's folder cannot be made
        problem = terminal("database_unusable", url=settings.database_url, error=str(exc))
        return [Line("database", Status.FAIL, terminal("check_database_down", problem=problem))]
    try:
        return _database_lines(settings, engine)
    finally:
        engine.dispose()


def _database_lines(settings: Settings, engine: Engine) -> list[Line]:
    where = repr(engine.url)  # the password masked
    try:
        revision = current_revision(engine)
    except (SQLAlchemyError, OSError) as exc:
        error = f"{exc.__class__.__name__}: {exc}".splitlines()[0]
        detail = terminal("database_unusable", url=where, error=error)
        return [Line("database", Status.FAIL, terminal("check_database_down", problem=detail))]
    lines = [Line("database", Status.OK, where)]
    try:
        ensure_schema(engine, auto_upgrade=False)
    except SchemaError as exc:
        return [*lines, Line("migration", Status.FAIL, str(exc))]
    lines.append(
        Line("migration", Status.OK, terminal("check_migration_ok", head=revision or HEAD))
    )
    probes: list[Callable[[Session], Line | list[Line]]] = [
        roster_line,
        period_line,
        lambda session: reminder_line(session, settings),
        lambda _session: backup_line(settings, engine),
    ]
    with Session(engine) as session:
        for probe in probes:
            try:
                found = probe(session)
            except SQLAlchemyError as exc:
                error = f"{exc.__class__.__name__}: {exc}".splitlines()[0]
                found = Line(
                    "database", Status.FAIL, terminal("database_unusable", url=where, error=error)
                )
            lines += found if isinstance(found, list) else [found]
    return lines


def roster_line(session: Session) -> Line:
    items = work_items(session)
    if not items:
        return Line("roster", Status.FAIL, terminal("check_roster_none"))
    departments = {d.name for item in items for d in item.departments}
    name = organisation(session).name
    detail = terminal("check_roster_ok", name=name, items=len(items), departments=len(departments))
    return Line("roster", Status.OK, detail)


def period_line(session: Session) -> Line:
    found = period_store.open_periods(session)
    if not found:
        return Line("period", Status.WARN, terminal("check_period_none"))
    tz = organisation_zone(session)
    now = utcnow()
    months = [
        {"month": p.month, "due": _when(p.due_at, tz), "overdue": p.due_at <= now}
        for p in found
        if p.due_at is not None
    ]
    return Line("period", Status.OK, terminal("check_period_open", periods=months))


def reminder_line(session: Session, settings: Settings) -> Line:
    """When the next liaison reminder is due, by the schedule the minute pass uses."""
    if not settings.reminders_enabled:
        return Line("reminders", Status.WARN, terminal("check_reminders_off"))
    current = period_store.current_period(session)
    if current is None or current.due_at is None:
        return Line("reminders", Status.OK, terminal("check_reminders_no_period"))
    tz = organisation_zone(session)
    schedule = reminders.schedule_for(
        settings.reminder_schedule,
        tz,
        current.reminder_offsets,
        current.month,
        work_calendar(session),
    )
    upcoming = next_reminder(schedule, current.due_at, utcnow())
    when = _when(upcoming, tz) if upcoming is not None else ""
    return Line(
        "reminders", Status.OK, terminal("check_reminders_next", month=current.month, when=when)
    )


def backup_line(settings: Settings, engine: Engine) -> Line:
    """Scheduled backups on or off, where, and how old the newest is (from its name)."""
    scheduled = settings.backup_schedule != "off"
    folder = backup.scheduled_folder(engine, settings.backup_dir)
    try:
        names = backup.listing(folder)
    except OSError:
        names = []
    age = backup_plan.age(backup_plan.newest(names, backup.suffix(engine)), utcnow())
    hours = None if age is None else int(age.total_seconds() // 3600)
    detail = terminal(
        "check_backups", scheduled=scheduled, at=settings.backup_at, folder=str(folder),
        hours=hours, stale=age is not None and age > backup_plan.STALE,
    )  # fmt: skip
    return Line("backups", backup_status(scheduled, age), detail)


def _when(moment: datetime, tz: ZoneInfo) -> str:
    return f"{local_text(moment, tz)} {terminal('weekday', day=weekday(moment, tz))}"


# --- the document: its templates and fonts --------------------------------------------


def template_line() -> Line:
    """The packaged summary and roll-up templates, checked as compile checks them."""
    from bot.core import document, rollup_document
    from bot.core.document import TemplateError

    templates = (
        (document.DEFAULT_TEMPLATE, document.SUMMARY_FIELDS),
        (rollup_document.ROLLUP_TEMPLATE, rollup_document.ROLLUP_FIELDS),
    )
    try:
        for path, fields in templates:
            document.check_template(path, fields)
    except TemplateError as exc:
        return Line("template", Status.FAIL, terminal("check_template_broken", problem=str(exc)))
    names = [path.name for path, _ in templates]
    return Line("template", Status.OK, ", ".join(names))


def font_line() -> Line:
    """The document's fonts on this machine: only previews here need them (Word and WPS
    on the office's computers use their own), so a missing one is a warning."""
    try:
        wanted = sorted(document_fonts())
    except Exception:  # a broken template: the template line says why
        return Line("fonts", Status.WARN, terminal("check_fonts_unknown"))
    missing = [name for name in wanted if not _host_has(name)]
    if missing:
        return Line("fonts", Status.WARN, terminal("check_fonts_missing", fonts=missing))
    return Line("fonts", Status.OK, ", ".join(wanted))


def document_fonts() -> set[str]:
    """The East Asian fonts the summary template's styles name (python-docx)."""
    from docx import Document
    from docx.oxml.ns import qn

    from bot.core.document import DEFAULT_TEMPLATE

    found: set[str] = set()
    for style in Document(str(DEFAULT_TEMPLATE)).styles:
        fonts = style.element.rPr.rFonts if style.element.rPr is not None else None
        name = fonts.get(qn("w:eastAsia")) if fonts is not None else None
        if name:
            found.add(name)
    return found


def _host_has(family: str) -> bool:
    if shutil.which("fc-list") is None:
        return False
    try:
        listed = subprocess.run(
            ["fc-list", f":family={family}", "family"],
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return bool(listed.stdout.strip())


# What each line is called on the terminal (the Line's name → its text).
NAMES = {
    "settings": "check_name_settings",
    "telegram": "check_name_telegram",
    "token": "check_name_token",
    "webhook": "check_name_webhook",
    "database": "check_name_database",
    "migration": "check_name_migration",
    "roster": "check_name_roster",
    "period": "check_name_period",
    "reminders": "check_name_reminders",
    "backups": "check_name_backups",
    "template": "check_name_template",
    "fonts": "check_name_fonts",
}


def rendered(lines: list[Line]) -> Iterator[str]:
    for line in lines:
        name = terminal(NAMES[line.name])
        yield terminal("check_line", status=line.status.value, name=name, detail=line.detail)
