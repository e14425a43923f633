"""Fixtures: a fresh database on SQLite and on PostgreSQL, and the bot running
against the Bot API test double."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import Engine

from bot.cli import main
from bot.double.server import TOTALS
from storage.db import make_engine, upgrade

if TYPE_CHECKING:
    from tests.harness import Harness

# Property tests check what the code does with odd input, not how fast Hypothesis makes the
# input: `make test` runs a test process per core beside PostgreSQL, and on a busy machine
# drawing examples can pass Hypothesis's one-second health limit.
settings.register_profile("huibao", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("huibao")

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parent.parent
_postgres_reason: str | None = None


def _postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can (asked once)."""
    global _postgres_reason
    if _postgres_reason is None:
        try:
            probe = make_engine(POSTGRES_URL)
            with probe.connect() as connection:
                connection.execute(sa.text("select 1"))
            probe.dispose()
            _postgres_reason = ""
        except Exception as exc:
            _postgres_reason = (
                f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.__class__.__name__}"
            )
    return _postgres_reason or None


# Each test process works in its own schema, so runs side by side do not collide.
SCHEMA = f"huibao_test_{os.getpid()}"


def _fresh_postgres() -> Engine:
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    separator = "&" if "?" in POSTGRES_URL else "?"
    return make_engine(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{SCHEMA}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _postgres_reason == "":
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        admin.dispose()
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller adds the counts up
        workeroutput["double_totals"] = dataclasses.asdict(TOTALS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """A pytest-xdist worker finished: add its double's counts to the summary's."""
    counts: dict[str, int] = getattr(node, "workeroutput", {}).get("double_totals", {})
    for name, count in counts.items():
        setattr(TOTALS, name, getattr(TOTALS, name) + count)


@pytest.fixture(autouse=True)
def english_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `huibao` command speaks the terminal's language; tests read it in English
    unless they say otherwise (tests/test_cli.py tries Chinese)."""
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database at the newest schema, once per backend."""
    if request.param == "postgres":
        reason = _postgres_unavailable()
        if reason and os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(f"REQUIRE_POSTGRES is set but {reason}")
        if reason:
            pytest.skip(reason=reason)
        made = _fresh_postgres()
    else:
        made = make_engine(f"sqlite:///{tmp_path / 'huibao.db'}")
    upgrade(made)
    yield made
    made.dispose()


@asynccontextmanager
async def bot_on(engine: Engine) -> AsyncIterator[Harness]:
    """The real Application on `engine`, long-polling the Bot API test double, with the
    example roster."""
    from tests.harness import Harness

    running = Harness(engine=engine, roster=ROOT / "examples" / "roster.toml")
    await running.start()
    try:
        yield running
    finally:
        await running.close()


@pytest.fixture
async def harness(engine: Engine) -> AsyncIterator[Harness]:
    """The bot (bot_on) on each backend's fresh database."""
    async with bot_on(engine) as running:
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(
        f"Bot API test double: {TOTALS.requests} requests validated, "
        f"{TOTALS.violations} spec violations by the bot"
    )


# --- the `huibao` command, on a SQLite file of the test's own -------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """`huibao` in an empty folder, its database created, no token."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("BOT_USERNAME", "huibao_test_bot")
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    return runner


@pytest.fixture
def roster_cli(cli: CliRunner) -> CliRunner:
    """`huibao` with the example roster loaded."""
    roster = Path(__file__).resolve().parent.parent / "examples" / "roster.toml"
    assert cli.invoke(main, ["roster", "load", str(roster)]).exit_code == 0
    return cli
