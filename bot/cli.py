"""The `huibao` command: run the bot and do a coordinator's work from a terminal."""

from __future__ import annotations

import asyncio
import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.core.audit import TERMINAL, Action, AuditEntry
from bot.core.calendar_command import (
    CalendarCommand,
    CalendarInputError,
    change_view,
    moved_view,
    override_view,
    parse_calendar_command,
    run_view,
)
from bot.core.invites import deep_link
from bot.core.people import PersonRole
from bot.core.period_change import PeriodAction, PeriodOutcome, due_on_day_off
from bot.core.period_command import PeriodInputError, parse_period_command
from bot.core.periods import (
    Month,
    MonthRange,
    PeriodError,
    listed,
    local_text,
    parse_due,
    parse_month,
    parse_range,
    weekday,
)
from bot.core.roster import RosterChange, RosterError, load_roster
from bot.core.summary import summary_filename
from bot.core.texts import TerminalError, terminal
from bot.logs import redact, setup_logging
from bot.settings import Settings, SettingsError, load_settings
from storage import audit as audit_store
from storage import calendar as calendar_store
from storage import periods as period_store
from storage.archive import ArchiveError
from storage.backup import BackupError
from storage.calendar import work_calendar
from storage.db import (
    SchemaError,
    SecondProcess,
    ensure_schema,
    make_engine,
    only_bot_process,
    session_scope,
)
from storage.models import utcnow
from storage.people import RevokeOutcome, audited_invite, people_by_department, revoke
from storage.roster import (
    apply_roster,
    department_by_code,
    organisation,
    organisation_zone,
    work_items,
)
from storage.summary import build_summary


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(redact(message), err=True)
    sys.exit(code)


def settings_or_exit(*, bot: bool = False) -> Settings:
    """The settings, and logging set up from them (the token masked in every line).

    The bot logs at LOG_LEVEL; the other commands print their own lines and log only
    warnings, unless LOG_LEVEL=DEBUG.
    """
    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(str(exc), 2)
    log_for(settings, bot=bot)
    return settings


def log_for(settings: Settings, *, bot: bool = False) -> None:
    token = settings.bot_token.get_secret_value().strip() if settings.bot_token else ""
    level = settings.log_level.upper()
    if not bot and level != "DEBUG":
        level = "WARNING" if level in ("INFO", "NOTSET") else level
    setup_logging(level, token, settings.log_format)


def engine_or_exit(settings: Settings, *, auto_upgrade: bool = False) -> Engine:
    """The database at the newest schema (upgraded first for the bot and `db upgrade`)."""
    engine = make_engine(settings.database_url)
    try:
        if auto_upgrade:
            backup_before_upgrade(engine)
        ensure_schema(engine, auto_upgrade=auto_upgrade)
    except SchemaError as exc:
        fail(str(exc), 2)
    except SQLAlchemyError as exc:
        error = f"{exc.__class__.__name__}: {exc}"
        fail(terminal("database_unusable", url=repr(engine.url), error=error), 2)
    except Exception as exc:  # alembic: a schema newer than this code
        fail(terminal("schema_upgrade_failed", error=str(exc)), 2)
    return engine


@contextmanager
def database() -> Iterator[tuple[Settings, Session]]:
    settings = settings_or_exit()
    with session_scope(engine_or_exit(settings)) as db:
        yield settings, db


def friendly(*errors: type[Exception]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn the user's mistakes into one line on stderr and exit status 2."""

    def wrap(function: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except errors as exc:
                fail(str(exc), 2)

        run.__name__, run.__doc__ = function.__name__, function.__doc__
        return run

    return wrap


@contextmanager
def on_database(url: str) -> Iterator[Engine]:
    """An engine on `url`, disposed after; a database that cannot be used is one line
    naming it (the password masked) and exit status 2."""
    engine = make_engine(url)
    try:
        yield engine
    except SQLAlchemyError as exc:
        fail(terminal("database_unusable", url=repr(engine.url), error=str(exc)), 2)
    finally:
        engine.dispose()


def _help(name: str) -> str:
    """A command's --help text, in the terminal's language (templates/cli/)."""
    return terminal(f"help_{name}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, help=_help("main"))
def main() -> None:
    pass


@main.command(help=_help("run"))
def run() -> None:
    from bot.app import BotStopped, build_application
    from bot.app import run as run_bot

    settings = settings_or_exit(bot=True)
    try:
        settings.token  # noqa: B018 (checked before anything starts)
        if settings.webhook_url:
            settings.webhook_secret_or_fail()
    except SettingsError as exc:
        fail(str(exc), 2)
    engine = engine_or_exit(settings, auto_upgrade=True)
    try:
        with only_bot_process(engine):
            run_bot(build_application(settings, engine), settings)
    except (BotStopped, SecondProcess) as exc:
        fail(str(exc), 2)
    finally:
        engine.dispose()


@main.group(help=_help("db"))
def db() -> None:
    pass


@db.command("upgrade", help=_help("db_upgrade"))
def db_upgrade() -> None:
    engine_or_exit(settings_or_exit(), auto_upgrade=True).dispose()
    click.echo(terminal("db_upgraded"))


@main.group(help=_help("roster"))
def roster() -> None:
    pass


def roster_change_lines(change: RosterChange) -> list[str]:
    """What a roster load changes, by name, then what it does to each open month."""
    lines = [
        terminal(
            "roster_change",
            subject=named.subject.value,
            kind=named.kind.value,
            name=named.name,
            old_name=named.old_name,
        )
        for named in change.names
    ]
    for effect in change.periods:
        if not effect.changes:
            continue
        lines.append(terminal("roster_period_head", month=effect.month))
        entries = [
            *(("item_added", title, "") for title in effect.added_items),
            *(("item_removed", title, "") for title in effect.removed_items),
            *(("owner_added", o.title, o.department) for o in effect.added),
            *(("owner_removed", o.title, o.department) for o in effect.removed),
            *(("owner_dropped", o.title, o.department) for o in effect.dropped),
        ]
        lines += [
            terminal("roster_period_line", kind=kind, title=title, department=department)
            for kind, title, department in entries
        ]
    return lines


@roster.command("load", help=_help("roster_load"))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help=_help("roster_load_dry_run"))
@click.option("--yes", is_flag=True, help=_help("roster_load_yes"))
@friendly(RosterError)
def roster_load(file: Path, dry_run: bool, yes: bool) -> None:
    parsed = load_roster(file)
    with database() as (settings, session):
        change = apply_roster(session, parsed, settings.timezone)
        lines = roster_change_lines(change)
        if dry_run or (change.drops_submitted_work and not yes):
            session.rollback()
            for line in lines:
                click.echo(line)
            if dry_run:
                click.echo(terminal("roster_dry_run"))
                return
            months = [effect.month for effect in change.periods if effect.dropped]
            fail(terminal("roster_drop_refused", months=months))
        detail = {
            "added": change.added,
            "updated": change.updated,
            "retired": change.deactivated,
            "changes": [f"{n.subject.value} {n.kind.value}: {n.name}" for n in change.names],
        }
        audit_store.record(session, Action.ROSTER_LOAD, TERMINAL, file.name, detail=detail)
    click.echo(
        terminal(
            "roster_loaded",
            departments=len(parsed.departments),
            items=len(parsed.work_items),
            coordinators=len(parsed.coordinators),
            added=change.added,
            updated=change.updated,
            deactivated=change.deactivated,
        )
    )
    for line in lines:
        click.echo(line)


@roster.command("show", help=_help("roster_show"))
def roster_show() -> None:
    with database() as (_, session):
        org = organisation(session)
        click.echo(terminal("roster_head", name=org.name, timezone=org.timezone))
        for number, item in enumerate(work_items(session), start=1):
            names = [d.name for d in item.departments]
            click.echo(
                terminal(
                    "roster_line",
                    number=number,
                    title=item.title,
                    departments=names,
                    code=item.code or "",
                )
            )


@main.command(help=_help("invite"))
@click.argument("dept_code")
@click.option(
    "--role",
    type=click.Choice([role.value for role in PersonRole]),
    default=PersonRole.LIAISON.value,
    show_default=True,
    help=_help("invite_role"),
)
def invite(dept_code: str, role: str) -> None:
    with database() as (settings, session):
        department = department_by_code(session, dept_code.strip().lower())
        if department is None or not department.active:
            fail(terminal("no_department", code=dept_code), 2)
        username = settings.bot_username or asyncio.run(_bot_username(settings))
        ttl = timedelta(days=settings.invite_ttl_days)
        made = PersonRole(role)
        token = audited_invite(session, department, ttl=ttl, actor=TERMINAL, role=made)
        name = department.name
    click.echo(deep_link(username, token))
    click.echo(terminal("invite_made", role=role, department=name), err=True)


async def _bot_username(settings: Settings) -> str:
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError

    from bot.transport import AiohttpRequest

    try:
        token = settings.token
    except SettingsError as exc:
        fail(terminal("username_needs_token", error=str(exc)), 2)
    bot = Bot(
        token,
        base_url=settings.bot_api_base_url,
        base_file_url=settings.bot_api_file_url,
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )
    try:
        async with bot:
            return bot.username
    except InvalidToken:
        fail(terminal("token_rejected"), 2)
    except NetworkError as exc:
        server = urlparse(settings.bot_api_base_url)
        url = f"{server.scheme}://{server.netloc}"
        fail(terminal("invite_unreachable", url=url, error=str(exc)), 2)
    except TelegramError as exc:
        fail(terminal("telegram_refused", error=str(exc)), 2)


@main.group(help=_help("period"))
def period() -> None:
    pass


def _change(
    action: PeriodAction, month: Month, due_at: datetime | None = None, offsets: str | None = None
) -> None:
    """Apply a period change as /period does in chat, and say what happened in one line."""
    with database() as (_, session):
        tz = organisation_zone(session)
        change = period_store.change_period(
            session, action, month, tz, due_at=due_at, offsets=offsets
        )
        found = change.period
        if found is None:
            fail(terminal("no_period", month=change.month), 2)
        assert found.due_at is not None
        due = _due_text(found.due_at, tz)
        day_off = due_at is not None and due_on_day_off(found.due_at, tz, work_calendar(session))
    values: dict[str, Any] = {"month": change.month}
    if change.outcome is PeriodOutcome.REMINDERS_CHANGED:
        values["offsets"] = found.reminder_offsets
    elif change.outcome not in (PeriodOutcome.CLOSED, PeriodOutcome.ALREADY_CLOSED):
        values["due"] = due
    if change.outcome is PeriodOutcome.DUE_CHANGED:
        values["closed"] = not found.is_open
    click.echo(terminal(f"period_{change.outcome.value}", **values))
    if change.outcome in _WARN_PAST_DUE and found.is_open and found.due_at <= utcnow():
        changed = change.outcome is PeriodOutcome.DUE_CHANGED
        click.echo(terminal("period_past_due", month=change.month, changed=changed), err=True)
    if day_off and change.outcome in _WARN_PAST_DUE:
        values = {"due": local_text(found.due_at, tz), "due_weekday": weekday(found.due_at, tz)}
        click.echo(terminal("period_due_day_off", **values), err=True)


def _due_text(moment: datetime, tz: ZoneInfo) -> str:
    """A due time with its day of the week, in the organisation's zone."""
    return f"{local_text(moment, tz)} {terminal('weekday', day=weekday(moment, tz))}"


# As in chat: opening a month, or moving its due time, into the past counts every
# submission from now on as late; say so.
_WARN_PAST_DUE = (PeriodOutcome.OPENED, PeriodOutcome.REOPENED, PeriodOutcome.DUE_CHANGED)


@period.command("open", help=_help("period_open"))
@click.argument("month")
@click.option("--due", help=_help("period_open_due"))
@friendly(PeriodError)
def period_open(month: str, due: str | None) -> None:
    with database() as (_, session):
        tz = organisation_zone(session)
    parsed = parse_month(month)
    _change(PeriodAction.OPEN, parsed, parse_due(due, tz) if due else None)


@period.command("due", help=_help("period_due"))
@click.argument("month")
@click.argument("due")
@friendly(PeriodError)
def period_due(month: str, due: str) -> None:
    with database() as (_, session):
        tz = organisation_zone(session)
    parsed = parse_month(month)
    _change(PeriodAction.DUE, parsed, parse_due(due, tz))


@period.command("close", help=_help("period_close"))
@click.argument("month")
@friendly(PeriodError)
def period_close(month: str) -> None:
    _change(PeriodAction.CLOSE, parse_month(month))


@period.command("reopen", help=_help("period_reopen"))
@click.argument("month")
@friendly(PeriodError)
def period_reopen(month: str) -> None:
    _change(PeriodAction.REOPEN, parse_month(month))


@period.command("remind", help=_help("period_remind"))
@click.argument("month")
@click.option(
    "--offsets",
    required=True,
    help=_help("period_remind_offsets"),
)
def period_remind(month: str, offsets: str) -> None:
    try:
        command = parse_period_command(["remind", month, offsets], ZoneInfo("UTC"))
    except PeriodInputError as exc:
        fail(terminal("bad_month" if exc.kind == "month" else "bad_offsets", text=exc.text), 2)
    assert command.month is not None
    _change(command.action, command.month, offsets=command.offsets)


@period.command("list", help=_help("period_list"))
def period_list() -> None:
    with database() as (_, session):
        tz = organisation_zone(session)
        for found in listed(period_store.period_views(session), tz):
            due = f"{found.due} {terminal('weekday', day=found.weekday)}"
            click.echo(terminal("period_list_line", month=found.month, due=due, is_open=found.open))


@main.group(help=_help("people"))
def people() -> None:
    pass


def _width(text: str) -> int:
    """Columns a terminal gives the text: two for a Chinese character."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(rows: list[list[str]]) -> list[str]:
    """Rows as lines with aligned columns, two spaces apart."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    padded = (
        [cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)]
        for row in rows
    )
    return ["  ".join(cells).rstrip() for cells in padded]


@people.command("list", help=_help("people_list"))
def people_list() -> None:
    with database() as (_, session):
        tz = organisation_zone(session)
        found = people_by_department(session, revoked=True)
    rows = [terminal("people_columns").split("|")]
    for department in found:
        for person in department.people:
            seen, revoked_at = person.last_seen_at, person.revoked_at
            rows.append(
                [
                    department.department.name,
                    person.name,
                    terminal("people_role", role=person.role.value),
                    str(person.telegram_id),
                    local_text(seen, tz) if seen else terminal("people_never"),
                    terminal("people_yes_no", value=not person.unreachable),
                    local_text(revoked_at, tz) if revoked_at and not person.active else "",
                ]
            )
    if len(rows) == 1:
        click.echo(terminal("people_none"))
        return
    for line in table(rows):
        click.echo(line)


@people.command("revoke", help=_help("people_revoke"))
@click.argument("telegram_id", type=int)
def people_revoke(telegram_id: int) -> None:
    with database() as (_, session):
        done = revoke(session, telegram_id, TERMINAL, utcnow())
    if done.outcome is RevokeOutcome.UNKNOWN:
        fail(terminal("people_unknown", telegram_id=telegram_id), 2)
    name = "people_revoked" if done.outcome is RevokeOutcome.REVOKED else "people_already_revoked"
    click.echo(terminal(name, name=done.name, department=done.department))


@main.command("compile", help=_help("compile"))
@click.argument("month", metavar="RANGE")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help=_help("compile_out"),
)
@click.option(
    "--template",
    type=click.Path(dir_okay=False, path_type=Path),
    help=_help("compile_template"),
)
@friendly(TerminalError)  # a bad month (PeriodError) or template (TemplateError)
def compile_summary(month: str, out: Path | None, template: Path | None) -> None:
    from bot.core.document import render_summary

    wanted = parse_range(month)
    if wanted.first != wanted.last:  # 2015-10 and 2015-10..2015-10: the monthly table
        compile_rollup(wanted, out, template)
        return
    parsed = wanted.first
    with database() as (_, session):
        found = period_store.get_period(session, str(parsed))
        if found is None:
            fail(terminal("no_period", month=str(parsed)), 2)
        summary, tally = build_summary(session, found)
    content = render_summary(summary, template)
    click.echo(str(write_document(content, summary_filename(summary), out)))
    click.echo(
        terminal(
            "compiled",
            submitted=tally.submitted,
            total=tally.total,
            missing=tally.missing,
            draft=summary.draft,
        )
    )


def write_document(content: bytes, name: str, out: Path | None) -> Path:
    """Write a compiled .docx to `out` (a file or a folder; default ./out/NAME)."""
    path = out if out is not None else Path("out") / name
    if path.is_dir():
        path = path / name
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as exc:
        fail(terminal("cannot_write", path=str(path), error=str(exc)), 2)
    return path


@main.command("import", help=_help("import"))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--month", metavar="YYYY-MM", help=_help("import_month"))
@click.option("--dry-run", is_flag=True, help=_help("import_dry_run"))
@click.option("--add-items", metavar="DEPT_CODE,...", help=_help("import_add_items"))
@friendly(TerminalError)  # a file that is no summary table (WordError), a refused month
def import_summary(file: Path, month: str | None, dry_run: bool, add_items: str | None) -> None:
    """A past month's summary table from Word into a closed period (storage/imports.py)."""
    from bot.core.word import WordError, month_of, read_summary
    from storage.imports import import_month

    if file.suffix.lower() == ".doc":
        raise WordError("word_doc")
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(terminal("cannot_read", path=str(file), error=str(exc)), 2)
    table = read_summary(data)
    chosen = parse_month(month) if month else None
    target = chosen or month_of(table)
    codes = [c.strip() for c in (add_items or "").split(",") if c.strip()]
    with database() as (_, session):
        outcome = import_month(
            session, table, target, file.name, organisation_zone(session), add_items=codes
        )
        if dry_run:
            session.rollback()
    click.echo(terminal("import_head", file=file.name, month=str(target), rows=len(table.rows)))
    for row in outcome.rows:
        name = "import_added" if row.added else "import_matched"
        click.echo(terminal(name, title=row.title, department=row.department, state=row.state))
    for missed in outcome.unmatched:
        click.echo(
            terminal(
                "import_unmatched", title=missed.row.title, why=missed.why, closest=missed.closest
            )
        )
    if dry_run:
        click.echo(terminal("import_dry_run"))
        return
    click.echo(
        terminal(
            "import_done",
            month=outcome.month,
            created=outcome.created,
            stored=outcome.stored,
            unchanged=outcome.unchanged,
        )
    )
    if any(row.added for row in outcome.rows):
        click.echo(terminal("import_roster_hint"))


@main.command(help=_help("audit"))
@click.option("--since", metavar="YYYY-MM-DD", help=_help("audit_since"))
def audit(since: str | None) -> None:
    """The audit trail, oldest first, in the organisation's time zone."""
    with database() as (_, session):
        tz = organisation_zone(session)
        start = _day_start(since, tz) if since is not None else None
        found = audit_store.entries(session, start)
    if not found:
        click.echo(terminal("audit_empty"))
    for entry in found:
        click.echo(terminal("audit_line", **audit_values(entry, tz)))


def _day_start(text: str, tz: ZoneInfo) -> datetime:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        fail(terminal("audit_bad_since", text=text), 2)
    return datetime.combine(day, time(), tz)


def audit_values(entry: AuditEntry, tz: ZoneInfo) -> dict[str, Any]:
    """One entry as its line shows it: local time, who (the terminal by name), what."""
    who = entry.actor
    actor = (
        terminal("audit_terminal") if who.telegram_id is None else f"{who.name} ({who.telegram_id})"
    )
    return {
        "at": local_text(entry.at, tz),
        "actor": actor,
        "action": terminal(f"audit_{entry.action.value}"),
        "subject": entry.subject,
        "detail": entry.detail,
    }


@main.command(help=_help("demo"))
@click.option(
    "--out",
    "out_dir",
    default="out",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help=_help("demo_out"),
)
def demo(out_dir: Path) -> None:
    from bot.demo import DemoError, run_demo

    click.echo(terminal("demo_start"))
    try:
        result = run_demo(out_dir, echo=lambda line: click.echo(f"  {line}"))
    except DemoError as exc:
        fail(str(exc), 2)
    except OSError as exc:
        fail(terminal("demo_cannot_write", error=str(exc)), 2)
    click.echo(terminal("demo_wrote", path=str(result.path), rows=result.rows))


# --- roll-ups: huibao compile 2015-Q4 | 2015-H2 | 2015 | 2015-10..2015-12 ----------------


def compile_rollup(wanted: MonthRange, out: Path | None, template: Path | None) -> None:
    """The roll-up of the range's months that have a period (storage/rollup.py)."""
    from bot.core.rollup import rollup_filename
    from bot.core.rollup_document import render_rollup
    from storage.rollup import build_rollup

    with database() as (_, session):
        rollup = build_rollup(session, wanted)
    if rollup is None:
        fail(terminal("rollup_no_periods", range=str(wanted)), 2)
    content = render_rollup(rollup, template)
    click.echo(str(write_document(content, rollup_filename(rollup), out)))
    click.echo(
        terminal(
            "rollup_compiled",
            months=[str(m) for m in rollup.months],
            absent=[str(m) for m in rollup.absent],
            open=[str(m) for m in rollup.open],
            items=len(rollup.rows),
        )
    )


# --- stats: the /stats picture ----------------------------------------------------------


@main.command("stats", help=_help("stats"))
@click.argument("range_text", metavar="[RANGE]", required=False)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help=_help("stats_out"))
@friendly(TerminalError)  # a bad range (PeriodError), no font or matplotlib (ChartUnavailable)
def stats(range_text: str | None, out: Path | None) -> None:
    from bot.chart import draw
    from bot.core.periods import parse_range
    from bot.core.stats import summary_values
    from bot.core.texts import terminal_language
    from storage.stats import read_stats

    wanted = parse_range(range_text) if range_text else None
    with database() as (settings, session):
        found = read_stats(session, wanted, utcnow())
    if found is None:
        fail(terminal("stats_no_periods", range=str(wanted or "")), 2)
    content = draw(found, terminal_language(), settings.chart_font)
    path = out if out is not None else Path("out") / f"stats-{found.range}.png"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as exc:
        fail(terminal("cannot_write", path=str(path), error=str(exc)), 2)
    click.echo(str(path))
    click.echo(terminal("stats_written", **summary_values(found)))


# --- huibao calendar: the working days (holidays, 调休, the office's own days) -----------


@main.group(help=_help("calendar"))
def calendar() -> None:
    pass


def _calendar_input(words: list[str]) -> CalendarCommand:
    try:
        return parse_calendar_command(words)
    except CalendarInputError as exc:
        name = "calendar_bad_year" if exc.kind == "year" else "calendar_bad_day"
        fail(terminal(name, text=exc.text), 2)


@calendar.command("list", help=_help("calendar_list"))
@click.argument("year", required=False)
def calendar_list(year: str | None) -> None:
    command = _calendar_input(["list", year] if year else ["list"])
    with database() as (_, session):
        office = calendar_store.overrides(session, command.year)
        listing = calendar_store.year_listing(session, command.year) if command.year else None
    if listing is not None:
        click.echo(terminal("calendar_year_head", year=listing.year, known=listing.known))
        for run in listing.library:
            click.echo(terminal("calendar_run_line", **run_view(run)))
    if not office:
        click.echo(terminal("calendar_office_none"))
        return
    click.echo(terminal("calendar_office_head"))
    for override in office:
        values = override_view(override)
        values["day_weekday"] = values.pop("weekday")
        click.echo(terminal("calendar_office_line", **values))


def _calendar_change(words: list[str]) -> None:
    """Set or clear a day as /calendar does in chat; say what it moves, a line a month."""
    command = _calendar_input(words)
    with database() as (settings, session):
        outcome = calendar_store.change_calendar(session, command, settings.reminder_schedule)
    changed = outcome.change.changed
    click.echo(terminal("calendar_done", **change_view(command, changed, outcome.calendar)))
    for month in outcome.moved if changed else []:
        click.echo(terminal("calendar_moved_line", **moved_view(month)))


@calendar.command("holiday", help=_help("calendar_holiday"))
@click.argument("day", metavar="DATE")
@click.argument("note", nargs=-1)
def calendar_holiday(day: str, note: tuple[str, ...]) -> None:
    _calendar_change(["holiday", day, *note])


@calendar.command("workday", help=_help("calendar_workday"))
@click.argument("day", metavar="DATE")
@click.argument("note", nargs=-1)
def calendar_workday(day: str, note: tuple[str, ...]) -> None:
    _calendar_change(["workday", day, *note])


@calendar.command("clear", help=_help("calendar_clear"))
@click.argument("day", metavar="DATE")
def calendar_clear(day: str) -> None:
    _calendar_change(["clear", day])


# --- huibao check: is this deployment ready (bot/check.py) -------------------------------


@main.command("check", help=_help("check"))
def check() -> None:
    from bot.check import rendered, run_checks
    from bot.core.check import exit_code

    lines = run_checks(log_for)
    for text in rendered(lines):
        click.echo(redact(text))
    sys.exit(exit_code(lines))


# --- backups and restores (storage/backup.py) ------------------------------------------


def backup_before_upgrade(engine: Engine) -> None:
    """A database with data behind HEAD is backed up before it is migrated, and the
    operator told where."""
    from storage.backup import BackupError, before_upgrade

    try:
        saved = before_upgrade(engine)
    except BackupError as exc:
        fail(terminal("backup_before_upgrade_failed", error=str(exc)), 2)
    if saved is not None:
        click.echo(terminal("backup_before_upgrade", path=str(saved)), err=True)


@db.command("backup", help=_help("db_backup"))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@friendly(BackupError, ArchiveError)
def db_backup(file: Path) -> None:
    from storage.backup import backup, kind_of

    with on_database(settings_or_exit().database_url) as engine:
        written = backup(engine, file)
    click.echo(terminal("backup_written", path=str(written)))
    if kind_of(written) == "archive":
        click.echo(terminal("backup_as_archive"), err=True)


@db.command("restore", help=_help("db_restore"))
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly(BackupError, SchemaError, ArchiveError)
def db_restore(file: Path) -> None:
    from storage.backup import restore

    with on_database(settings_or_exit().database_url) as engine:
        revision = restore(engine, file)
    click.echo(terminal("restore_done", path=str(file), revision=revision or "?"))


# --- export, import and copy between databases (bot/archive.py) ------------------------


def _rows_and_tables(counts: dict[str, int]) -> dict[str, int]:
    return {"rows": sum(counts.values()), "tables": len(counts)}


@main.command("export", help=_help("export"))
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@friendly(TerminalError)  # a folder with files in it, a full disk (ArchiveError)
def export(folder: Path) -> None:
    from bot.archive import export as export_office

    engine = engine_or_exit(settings_or_exit())
    try:
        done = export_office(engine, folder)
    finally:
        engine.dispose()
    counts = _rows_and_tables(done.counts)
    click.echo(terminal("exported", path=str(folder), documents=done.documents, **counts))


@main.command("import-archive", help=_help("import_archive"))
@click.argument("source", metavar="DIR", type=click.Path(exists=True, path_type=Path))
@friendly(TerminalError)  # no archive, a database with data, a newer schema
def import_archive(source: Path) -> None:
    from bot.archive import import_archive as load

    with on_database(settings_or_exit().database_url) as engine:
        counts = load(engine, source)
    click.echo(terminal("imported", path=str(source), **_rows_and_tables(counts)))


@db.command("copy", help=_help("db_copy"))
@click.option("--to", "to_url", required=True, metavar="URL", help=_help("db_copy_to"))
@friendly(TerminalError)  # a target with data, a month compiling differently
def db_copy(to_url: str) -> None:
    from sqlalchemy.engine import make_url

    from bot.archive import copy

    source = engine_or_exit(settings_or_exit())
    try:
        with on_database(to_url) as target:
            if target.url == source.url:
                fail(terminal("copy_same_database"), 2)
            done = copy(source, target)
    finally:
        source.dispose()
    counts = _rows_and_tables(done.counts)
    shown = repr(make_url(to_url))  # as given, the password masked
    click.echo(terminal("copied", url=shown, months=done.months, **counts))


if __name__ == "__main__":
    main()
