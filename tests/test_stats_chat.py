"""/stats in chat and `huibao stats` at the terminal: the picture as a photo (or a file),
its caption, and the polite refusals."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import Engine

from bot import chart
from bot.cli import main
from bot.double import FakeUser, SentMessage
from storage.db import session_scope
from storage.periods import get_period
from storage.submissions import submission_for, submit
from tests.harness import Harness
from tests.test_report import open_month
from tests.test_stats import SYSTEM, _ids

ROOT = Path(__file__).resolve().parent.parent


async def wait_for(
    user: FakeUser, wanted: Callable[[SentMessage], bool], timeout: float = 30.0
) -> SentMessage:
    """/stats draws off the event loop; wait for the upload rather than a quiet spell."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in user.messages if wanted(m)]
        if found:
            return found[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing arrived; last messages: {user.messages[-3:]}")


async def wait_for_photo(user: FakeUser) -> SentMessage:
    return await wait_for(user, lambda m: m.kind == "photo")


def photo_bytes(harness: Harness, message: SentMessage) -> bytes:
    assert message.media is not None
    return harness.double.files[message.media[0]["file_id"]].content


def hand_in_on_time(harness: Harness) -> None:
    """组织部 hands in 团的制度建设 of 2015-10 a day before the due time."""
    with session_scope(harness.engine) as db:
        period = get_period(db, "2015-10")
        assert period is not None and period.due_at is not None
        item_id, dept_id = _ids(db, SYSTEM, "org")
        found = submission_for(db, period, item_id, dept_id)
        at = period.due_at - timedelta(days=1)
        submit(db, found, progress=["推进"], plan=["计划"], by=3001, read_version=0, now=at)


async def test_stats_sends_the_chart_as_a_photo(harness: Harness) -> None:
    open_month(harness)
    hand_in_on_time(harness)
    harness.now = datetime(2015, 11, 6, tzinfo=UTC)  # past the due time
    coordinator = harness.coordinator()
    await coordinator.send("/stats")
    sent = await wait_for_photo(coordinator)
    picture = Image.open(io.BytesIO(photo_bytes(harness, sent)))
    assert picture.format == "PNG" and picture.width == chart.WIDTH_PX
    assert picture.height > chart.WIDTH_PX  # eleven departments, then the months
    assert sent.caption is not None
    assert "2015-10" in sent.caption and "全单位按时率 6%" in sent.caption  # 1 of 16
    assert "按时 1/16 项" in sent.caption and "未交 15 项" in sent.caption
    assert "upload_photo" in coordinator.chat_actions

    await coordinator.send("/stats 2015-Q4")
    again = await wait_for_photo(coordinator)
    assert again.message_id != sent.message_id and again.caption is not None
    assert "2015-Q4" in again.caption


def many_departments(tmp_path: Path, count: int) -> Path:
    """A roster of `count` departments, a key work item each, and the coordinator."""
    parts = ['[organisation]\nname = "某省人社厅"\ntimezone = "Asia/Shanghai"\n']
    for n in range(count):
        parts.append(f'[[departments]]\ncode = "d{n}"\nname = "第{n}市县人社局"\n')
    for n in range(count):
        parts.append(f'[[work_items]]\ntitle = "重点工作{n}"\ndepartments = ["d{n}"]\n')
    parts.append('[[coordinators]]\ntelegram_id = 123456789\nname = "李明"\n')
    path = tmp_path / "roster.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


async def test_a_chart_too_tall_for_a_photo_comes_as_a_file(engine: Engine, tmp_path: Path) -> None:
    """A hundred and twenty departments: taller than Telegram shows a photo (the double
    refuses such a photo, as Telegram does), so the picture comes as a PNG file."""
    harness = Harness(engine=engine, roster=many_departments(tmp_path, 120))
    await harness.start()
    try:
        open_month(harness)
        coordinator = harness.coordinator()
        await coordinator.send("/stats", timeout=120)  # a tall picture takes seconds to draw
        sent = await wait_for(coordinator, lambda m: m.document is not None, timeout=60)
        assert sent.document is not None and sent.document.filename == "stats-2015-10.png"
        picture = Image.open(io.BytesIO(sent.document.content))
        assert picture.format == "PNG" and picture.width + picture.height > 10_000
        assert sent.caption is not None and "全单位按时率" in sent.caption
        assert not [m for m in coordinator.messages if m.kind == "photo"]
        assert not harness.double.violations
    finally:
        await harness.close()


async def test_a_range_that_cannot_be_read_or_has_no_period(harness: Harness) -> None:
    coordinator = harness.coordinator()
    replies = await coordinator.send("/stats")
    assert "还没有任何填报期" in replies.last.text
    open_month(harness)
    replies = await coordinator.send("/stats 2015-13")
    assert "无法识别范围“2015-13”" in replies.last.text and "/stats 2015-Q4" in replies.last.text
    replies = await coordinator.send("/stats 2000-01..2015-01")
    assert "超过 120 个月" in replies.last.text
    replies = await coordinator.send("/stats 2014")
    assert "2014 没有填报期" in replies.last.text
    assert not [m for m in coordinator.messages if m.kind == "photo"]


async def test_stats_is_for_coordinators_only(harness: Harness) -> None:
    open_month(harness)
    liaison = await harness.liaison("org", 3001, "王芳")
    stranger = harness.double.user(4242, "路人")
    replies = await liaison.send("/stats")
    assert "仅供协调员使用" in replies.last.text
    replies = await stranger.send("/stats 2015")
    assert "仅供各部门联络员和协调员使用" in replies.last.text
    for user in (liaison, stranger):
        assert not [m for m in user.messages if m.kind == "photo"]
        assert "upload_photo" not in user.chat_actions


async def test_no_font_is_a_polite_answer(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_month(harness)
    chart.forget_font()
    monkeypatch.setattr(chart, "host_font", lambda: None)
    monkeypatch.setattr(chart, "packaged_font", lambda: None)
    coordinator = harness.coordinator()
    replies = await coordinator.send("/stats")
    assert "无法绘制统计图" in replies.last.text
    assert not [m for m in coordinator.messages if m.kind == "photo"]
    chart.forget_font()


# --- huibao stats ---------------------------------------------------------------------


def test_huibao_stats_writes_the_png(roster_cli: CliRunner, tmp_path: Path) -> None:
    assert roster_cli.invoke(main, ["stats"]).exit_code == 2  # no period yet
    opened = roster_cli.invoke(main, ["period", "open", "2015-10", "--due", "2015-11-05 17:00"])
    assert opened.exit_code == 0, opened.output
    out = tmp_path / "chart.png"
    done = roster_cli.invoke(main, ["stats", "2015-Q4", "--out", str(out)])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == str(out) and lines[1].startswith("2015-Q4:")
    picture = Image.open(out)
    assert picture.format == "PNG" and picture.width == chart.WIDTH_PX
    default = roster_cli.invoke(main, ["stats"])
    assert default.exit_code == 0 and Path(default.output.splitlines()[0]).is_file()
    bad = roster_cli.invoke(main, ["stats", "2015-13"])
    assert bad.exit_code == 2 and "2015-13" in bad.output
    none = roster_cli.invoke(main, ["stats", "2014"])
    assert none.exit_code == 2 and "2014" in none.output


def test_huibao_stats_without_a_font_says_what_to_install(
    roster_cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = roster_cli.invoke(main, ["period", "open", "2015-10", "--due", "2015-11-05 17:00"])
    assert opened.exit_code == 0
    chart.forget_font()
    monkeypatch.setattr(chart, "host_font", lambda: None)
    monkeypatch.setattr(chart, "packaged_font", lambda: None)
    done = roster_cli.invoke(main, ["stats"])
    assert done.exit_code == 2 and "huibao[charts]" in done.output
    chart.forget_font()
