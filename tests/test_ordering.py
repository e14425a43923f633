"""Updates of different users run side by side; one user's run one at a time, in order."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from telegram import Chat, Message, Update, User

from bot.ordering import PerUserOrder


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"u{user_id}", is_bot=False)
    chat = Chat(user_id, Chat.PRIVATE)
    message = Message(update_id, None, chat, from_user=user, text=str(update_id))  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_each_users_updates_run_in_arrival_order_others_meanwhile() -> None:
    processor = PerUserOrder(max_running=8)
    rng = random.Random(7)
    seen: dict[int, list[int]] = {}
    running: dict[int, int] = {}
    most_at_once = 0
    overlap_within_a_user = False

    async def handle(update_id: int, user_id: int) -> None:
        nonlocal most_at_once, overlap_within_a_user
        if running.get(user_id):
            overlap_within_a_user = True
        running[user_id] = running.get(user_id, 0) + 1
        most_at_once = max(most_at_once, sum(running.values()))
        await asyncio.sleep(rng.random() * 0.01)
        seen.setdefault(user_id, []).append(update_id)
        running[user_id] -= 1

    # As the Application does with concurrent updates: one task per update, in order.
    tasks: list[asyncio.Task[Any]] = []
    for update_id in range(300):
        user_id = rng.choice((1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
        update = _update(update_id, user_id)
        tasks.append(
            asyncio.create_task(processor.process_update(update, handle(update_id, user_id)))
        )
    await asyncio.gather(*tasks)

    assert not overlap_within_a_user
    for ids in seen.values():
        assert ids == sorted(ids)
    assert sum(len(ids) for ids in seen.values()) == 300
    assert 1 < most_at_once <= 8
    assert not processor._locks  # nothing kept once every user is done


async def test_updates_without_a_user_or_chat_still_run() -> None:
    processor = PerUserOrder(max_running=2)
    done: list[str] = []

    async def handle() -> None:
        done.append("x")

    await processor.process_update(object(), handle())
    assert done == ["x"]
