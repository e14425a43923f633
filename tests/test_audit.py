"""The audit trail: every change is kept with who and when; `huibao audit` prints it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.audit import Action
from storage import audit
from storage.db import make_engine, session_scope
from tests.harness import COORDINATOR_ID, Harness

ROOT = Path(__file__).resolve().parent.parent


async def test_period_changes_in_chat_are_audited_with_the_coordinator(harness: Harness) -> None:
    coordinator = harness.coordinator()
    await coordinator.send("/period open 2015-10 2015-11-05 17:00")
    await coordinator.send("/period due 2015-10 2015-11-06 17:00")
    await coordinator.send("/period close 2015-10")
    await coordinator.send("/period close 2015-10")  # changes nothing: not audited
    with session_scope(harness.engine) as db:
        found = audit.entries(db)
    assert [e.action for e in found] == [
        Action.PERIOD_OPEN,
        Action.PERIOD_EXTEND,
        Action.PERIOD_CLOSE,
    ]
    assert {e.actor.telegram_id for e in found} == {COORDINATOR_ID}
    assert {e.subject for e in found} == {"2015-10"}
    assert found[0].actor.name  # the roster's name for the coordinator


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")


def test_huibao_audit_prints_the_trail_from_a_day_on(roster_cli: CliRunner, tmp_path: Path) -> None:
    assert roster_cli.invoke(main, ["audit"]).exit_code == 0
    roster_cli.invoke(main, ["period", "open", "2015-10", "--due", "2015-11-05 17:00"])
    roster_cli.invoke(main, ["period", "close", "2015-10"])
    result = roster_cli.invoke(main, ["audit"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "2015-10" in line]
    assert len(lines) == 2
    assert "command line" in lines[0] and "opened a period" in lines[0]
    assert "closed a period" in lines[1]
    assert "2015-10" not in roster_cli.invoke(main, ["audit", "--since", "2999-01-01"]).output
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    with session_scope(engine) as db:
        assert all(e.actor.telegram_id is None for e in audit.entries(db))
    engine.dispose()


def test_a_bad_since_date_is_one_line(roster_cli: CliRunner) -> None:
    result = roster_cli.invoke(main, ["audit", "--since", "yesterday"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "YYYY-MM-DD" in result.output
