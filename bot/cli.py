"""The `huibao` command: run the bot and do a coordinator's work from a terminal."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.invites import deep_link
from bot.logs import setup_logging
from bot.periods import PeriodError, default_due, local_text, parse_due, parse_month
from bot.roster import RosterError, load_roster
from bot.settings import Settings, SettingsError, load_settings
from storage import periods as period_store
from storage.db import SchemaError, ensure_schema, make_engine, session_scope, upgrade
from storage.people import create_invite
from storage.roster import (
    apply_roster,
    department_by_code,
    organisation,
    organisation_zone,
    work_items,
)


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), 2)


def engine_or_exit(settings: Settings, *, auto_upgrade: bool = False) -> Engine:
    engine = make_engine(settings.database_url)
    try:
        ensure_schema(engine, auto_upgrade=auto_upgrade)
    except SchemaError as exc:
        fail(str(exc), 2)
    except SQLAlchemyError as exc:
        fail(f"cannot use the database {engine.url!r}: {exc.__class__.__name__}: {exc}", 2)
    except Exception as exc:  # alembic: a schema newer than this code
        fail(f"cannot bring the database schema up to date: {exc}", 2)
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """huibao (汇报): collect monthly work reports in Telegram and compile the summary table."""


@main.command()
def run() -> None:
    """Run the bot: long polling, or a webhook when WEBHOOK_URL is set."""
    from bot.app import build_application
    from bot.app import run as run_bot

    settings = settings_or_exit()
    try:
        token = settings.token
    except SettingsError as exc:
        fail(str(exc), 2)
    setup_logging(settings.log_level, token)
    engine = engine_or_exit(settings, auto_upgrade=True)
    run_bot(build_application(settings, engine), settings)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema to the newest version."""
    settings = settings_or_exit()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    click.echo("database schema is up to date")


@main.group()
def roster() -> None:
    """Departments, key work items and coordinators."""


@roster.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly(RosterError)
def roster_load(file: Path) -> None:
    """Load or update the roster from a TOML file (idempotent; nothing is deleted)."""
    parsed = load_roster(file)
    with database() as (settings, session):
        change = apply_roster(session, parsed, settings.timezone)
    click.echo(
        f"roster loaded: {len(parsed.departments)} departments, "
        f"{len(parsed.work_items)} key work items, {len(parsed.coordinators)} coordinators "
        f"({change.added} added, {change.updated} updated, {change.deactivated} deactivated)"
    )


@roster.command("show")
def roster_show() -> None:
    """Print the roster as the database holds it."""
    with database() as (_, session):
        org = organisation(session)
        click.echo(f"{org.name or '(no organisation name)'}  [{org.timezone}]")
        for number, item in enumerate(work_items(session), start=1):
            names = "、".join(d.name for d in item.departments) or "(no department)"
            click.echo(f"{number:>3}. {item.title}  —  {names}")


@main.command()
@click.argument("dept_code")
def invite(dept_code: str) -> None:
    """Print a single-use invite link for a department's liaison."""
    with database() as (settings, session):
        department = department_by_code(session, dept_code.strip().lower())
        if department is None or not department.active:
            fail(f"no active department with code {dept_code!r} (see `huibao roster show`)", 2)
        username = settings.bot_username or asyncio.run(_bot_username(settings))
        token = create_invite(
            session, department, ttl=timedelta(days=settings.invite_ttl_days), created_by="cli"
        )
    click.echo(deep_link(username, token))


async def _bot_username(settings: Settings) -> str:
    from telegram import Bot

    try:
        token = settings.token
    except SettingsError as exc:
        fail(f"{exc} (or set BOT_USERNAME to make links without asking Telegram)", 2)
    bot = Bot(token, base_url=settings.bot_api_base_url, base_file_url=settings.bot_api_file_url)
    async with bot:
        return bot.username


@main.group()
def period() -> None:
    """Reporting periods (months)."""


@period.command("open")
@click.argument("month")
@click.option("--due", help='Due time in the organisation\'s zone, e.g. "2015-11-05 17:00".')
@friendly(PeriodError)
def period_open(month: str, due: str | None) -> None:
    """Open (or reopen) a month for reporting."""
    parsed = parse_month(month)
    with database() as (_, session):
        tz = organisation_zone(session)
        due_at = parse_due(due, tz) if due else default_due(parsed, tz)
        opened = period_store.open_period(session, str(parsed), due_at)
        click.echo(f"period {opened.month} is open, due {local_text(due_at, tz)}")


@period.command("close")
@click.argument("month")
@friendly(PeriodError)
def period_close(month: str) -> None:
    """Close a month: submissions become read-only."""
    parsed = parse_month(month)
    with database() as (_, session):
        found = period_store.get_period(session, str(parsed))
        if found is None:
            fail(f"there is no period {parsed}", 2)
        period_store.close_period(session, found)
    click.echo(f"period {parsed} is closed")


@period.command("list")
def period_list() -> None:
    """List periods with due time and state."""
    with database() as (_, session):
        tz = organisation_zone(session)
        for found in period_store.all_periods(session):
            state = "open" if found.is_open else "closed"
            assert found.due_at is not None
            click.echo(f"{found.month}  due {local_text(found.due_at, tz)}  {state}")


if __name__ == "__main__":
    main()
