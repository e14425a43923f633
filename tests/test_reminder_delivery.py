"""Sending: one retry layer (the bot's rate limiter) for 429s and network errors, 403
means blocked, and one failure never stopping the others (the loop with a fake
`deliver`, no Telegram)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

import bot.pacing as pacing
import handlers.reminders as telegram_side
from bot.broadcast import Broadcast
from bot.core import texts
from bot.core.reminders import Button, Delivery, Message, OpenItem
from bot.core.roster import load_roster
from bot.settings import load_settings
from handlers.chunks import REMINDER_LIMITS
from storage.db import session_scope
from storage.models import Liaison, ReminderLog
from storage.periods import open_period
from storage.roster import apply_roster, department_by_code

ROSTER = Path(__file__).resolve().parent.parent / "examples" / "roster.toml"
DUE = datetime(2015, 11, 5, 9, 0, tzinfo=UTC)
NOW = datetime(2015, 11, 4, 1, 1, tzinfo=UTC)  # a minute after the -1d reminder


class FakeBot:
    """send_message goes through a real PacedRateLimiter, whose request raises the queued
    errors first, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.attempts = 0
        self.sent: list[tuple[int, str, Any]] = []
        self.limiter = pacing.PacedRateLimiter(chat_period=0.001)

    async def send_message(
        self, chat_id: int, text: str, reply_markup: Any = None, rate_limit_args: Any = None
    ) -> None:
        async def request(*_args: Any, **_kwargs: Any) -> bool:
            self.attempts += 1
            if self.errors:
                raise self.errors.pop(0)
            self.sent.append((chat_id, text, reply_markup))
            return True

        data = {"chat_id": chat_id, "text": text}
        await self.limiter.process_request(request, (), {}, "sendMessage", data, rate_limit_args)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "BACKOFF", (0.0,))


async def _deliver(bot: FakeBot, message: Message | None = None) -> Delivery:
    deliver = telegram_side.Deliverer(bot)  # type: ignore[arg-type]
    await bot.limiter.initialize()
    try:
        return await deliver(message or Message(42, "提醒", ()))
    finally:
        await bot.limiter.shutdown()


async def test_retry_after_is_waited_out_by_the_rate_limiter_alone() -> None:
    bot = FakeBot(RetryAfter(0), RetryAfter(0))
    assert await _deliver(bot) is Delivery.SENT
    assert bot.attempts == 3 and len(bot.sent) == 1
    bot = FakeBot(*[RetryAfter(0) for _ in range(10)])
    assert await _deliver(bot) is Delivery.FAILED
    assert bot.attempts == pacing.MAX_RETRIES + 1  # one layer: no retries on top of retries


async def test_network_errors_retry_with_a_bound() -> None:
    bot = FakeBot(TimedOut(), NetworkError("connection reset"))
    assert await _deliver(bot) is Delivery.SENT
    bot = FakeBot(*[TimedOut() for _ in range(10)])
    assert await _deliver(bot) is Delivery.FAILED
    assert bot.attempts == telegram_side.NETWORK_RETRIES + 1 and bot.sent == []


async def test_a_reply_is_not_resent_after_a_network_error() -> None:
    limiter = pacing.PacedRateLimiter(chat_period=0.001)
    attempts = 0

    async def request(*_args: Any, **_kwargs: Any) -> bool:
        nonlocal attempts
        attempts += 1
        raise TimedOut()

    await limiter.initialize()
    with pytest.raises(TimedOut):
        await limiter.process_request(request, (), {}, "sendMessage", {"chat_id": 1}, None)
    await limiter.shutdown()
    assert attempts == 1


async def test_forbidden_is_blocked_and_bad_request_is_not_retried() -> None:
    bot = FakeBot(Forbidden("Forbidden: bot was blocked by the user"))
    assert await _deliver(bot) is Delivery.BLOCKED
    assert bot.attempts == 1
    bot = FakeBot(BadRequest("Chat not found"))
    assert await _deliver(bot) is Delivery.FAILED
    assert bot.attempts == 1


async def test_buttons_carry_the_callback_data_of_report_items() -> None:
    bot = FakeBot()
    message = Message(42, "提醒", (Button("填报", OpenItem(7, 11)),))
    assert await _deliver(bot, message) is Delivery.SENT
    [(_, _, markup)] = bot.sent
    assert markup.inline_keyboard[0][0].callback_data == "rp:o:7:11"


async def test_one_failure_never_stops_the_others(engine: Engine) -> None:
    with session_scope(engine) as db:
        apply_roster(db, load_roster(ROSTER), "Asia/Shanghai")
        open_period(db, "2015-10", DUE)
        for n, code in enumerate(["office", "org", "youth", "school", "rights"]):
            dept = department_by_code(db, code)
            assert dept is not None
            db.add(Liaison(telegram_id=3000 + n, name=f"联络员{n}", department_id=dept.id or 0))
    sent: list[int] = []

    class Deliver:
        limits = REMINDER_LIMITS

        async def __call__(self, message: Message) -> Delivery:
            if message.chat_id == 3001:
                raise RuntimeError("a bug in one send")
            if message.chat_id == 3002:
                return Delivery.BLOCKED
            if message.chat_id == 3003:
                return Delivery.FAILED
            sent.append(message.chat_id)
            return Delivery.SENT

    deliver = Deliver()

    settings = load_settings(_env_file=None)
    report = await Broadcast(engine, settings, deliver).scheduled(NOW)
    assert sorted(sent) == [3000, 3004]
    assert (report.sent, report.blocked, report.failed, report.errors) == (2, 1, 1, 1)
    with session_scope(engine) as db:
        status = {r.recipient_id: r.status for r in db.exec(select(ReminderLog))
                  if r.status != "skipped"}  # fmt: skip
        blocked = db.exec(select(Liaison).where(Liaison.telegram_id == 3002)).one()
    assert status == {3000: "sent", 3001: "claimed", 3002: "blocked", 3003: "failed",
                      3004: "sent"}  # fmt: skip
    assert blocked.unreachable
    # the one that crashed stays claimed: never sent twice, not even by the next pass
    again = await Broadcast(engine, settings, deliver).scheduled(NOW + timedelta(minutes=1))
    assert again.sent == again.errors == 0 and sorted(sent) == [3000, 3004]


def test_reminder_texts_exist_in_both_languages() -> None:
    ours = {n for n in texts.names("zh-CN")
            if n.startswith(("reminder_", "digest_", "mute_", "remind_"))}  # fmt: skip
    assert ours == {n for n in texts.names("en")
                    if n.startswith(("reminder_", "digest_", "mute_", "remind_"))}  # fmt: skip
    assert {"reminder_text", "reminder_button", "digest_text", "mute_done", "mute_off",
            "mute_no_period", "remind_done", "remind_no_period"} <= ours  # fmt: skip
    owed = [{"title": "团的制度建设", "draft": True, "pending": False}]
    late = [{"department": "办公室<b>", "owed": owed,
             "no_liaison": False, "unreachable": ["王芳"], "muted": []}]  # fmt: skip
    for language in ("zh-CN", "en"):
        full = texts.text(language, "digest_text", month="2015-10", due="2015-11-05 17:00",
                          late=late, compact=False)  # fmt: skip
        short = texts.text(language, "digest_text", month="2015-10", due="2015-11-05 17:00",
                           late=late, compact=True)  # fmt: skip
        assert "办公室&lt;b&gt;" in full and "团的制度建设" in full and "王芳" in full
        assert "团的制度建设" not in short and "王芳" in short
