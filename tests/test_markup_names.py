"""Names with markup characters read literally on every screen (escaped exactly once)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.double import FakeUser, Replies, SentMessage
from tests.conftest import ROOT
from tests.harness import Harness
from tests.test_report import DONE, SUBMIT, open_month

TITLE = 'A & B "引号" <tag> </i>'
OFFICE = '办<公>&"室'
ORG = "组织部 <script>&amp;"
PERSON = '<王&"芳>'
ENTITIES = ("&lt;", "&gt;", "&amp;lt", "&#34;", "&quot;", "&amp;amp;")


@pytest.fixture
async def harness(engine: Engine, tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot with a roster whose names are full of markup characters."""
    roster = (ROOT / "examples" / "roster.toml").read_text(encoding="utf-8")
    roster = roster.replace('title = "团的制度建设"', f"title = '{TITLE}'", 1)
    roster = roster.replace('name = "办公室"', f"name = '{OFFICE}'", 1)
    roster = roster.replace('name = "组织部"', f"name = '{ORG}'", 1)
    path = tmp_path / "roster.toml"
    path.write_text(roster, encoding="utf-8")
    running = Harness(engine=engine, roster=path)
    await running.start()
    try:
        yield running
    finally:
        await running.close()


def seen(message: SentMessage) -> str:
    return "\n".join([message.text, *message.buttons])


def literal(replies: Replies, *names: str) -> None:
    """The user reads each name as written, and no markup entity anywhere."""
    shown = "\n".join(seen(m) for m in replies)
    for name in names:
        assert name in shown, (name, shown)
    for entity in ENTITIES:
        assert entity not in shown, (entity, shown)


def labels(replies: Replies) -> str:
    return "\n".join(b for m in replies for b in m.buttons)


async def test_every_screen_shows_the_names_literally(harness: Harness) -> None:
    open_month(harness)
    liaison: FakeUser = harness.double.user(3401, PERSON)
    literal(await liaison.send(f"/start {harness.invite_token('office')}"), PERSON, OFFICE)
    literal(await liaison.send("/start"), PERSON, OFFICE)
    literal(await liaison.send("/help"), OFFICE)
    literal(await liaison.send("/whoami"), PERSON, OFFICE)
    listing = await liaison.send("/report")
    literal(listing, TITLE, OFFICE)
    assert TITLE in labels(listing)  # the item's button reads the title as written
    literal(await liaison.tap(next(b for b in listing.last.buttons if TITLE in b)), TITLE)
    literal(await liaison.send(f"进展 {TITLE}"), TITLE)
    literal(await liaison.tap(DONE), TITLE)
    literal(await liaison.send("计划"), TITLE)
    preview = await liaison.tap(DONE)
    literal(preview, TITLE, ORG)  # the shared item names the other department
    done = await liaison.tap(SUBMIT)
    literal(done, TITLE)
    assert TITLE in labels(done)
    opened = await liaison.tap(next(b for b in done[0].buttons if TITLE in b))
    literal(opened, TITLE, PERSON)  # who submitted

    coordinator = harness.coordinator()
    literal(await coordinator.send("/status"), TITLE, OFFICE, ORG)
