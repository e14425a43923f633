"""Many liaisons tapping their invite at once (a period opened, the link forwarded to
every department): the replies are paced under Telegram's limits before they are sent,
so none is refused with a 429 and everyone is bound and answered."""

from __future__ import annotations

import asyncio

from sqlmodel import col, func, select

from storage.db import session_scope
from storage.models import Liaison
from tests.harness import Harness
from tests.test_report import DONE, SUBMIT, open_month, start_item
from tests.test_report_limits import block

LIAISONS = 60
DEPARTMENTS = ("office", "org", "intl", "rights")


async def paced(harness: Harness) -> None:
    """The bot as production paces it, against the double's flood limits."""
    harness.pace_chats = True
    await harness.restart()
    harness.double.flood_limits = True  # Telegram's: 30 a second overall, about 1 per chat


async def test_sixty_liaisons_redeem_their_invites_at_the_same_moment(harness: Harness) -> None:
    await paced(harness)
    people = [harness.double.user(8000 + i, f"联络员{i}") for i in range(LIAISONS)]
    tokens = [harness.invite_token(DEPARTMENTS[i % len(DEPARTMENTS)]) for i in range(LIAISONS)]
    answers = await asyncio.gather(
        *(
            user.send(f"/start {token}", timeout=60)
            for user, token in zip(people, tokens, strict=True)
        )
    )
    assert harness.double.stats.flood_429 == 0
    assert all(len(replies) == 1 and "绑定成功" in replies[0].text for replies in answers)
    with session_scope(harness.engine) as db:
        bound = db.exec(
            select(func.count()).select_from(Liaison).where(col(Liaison.telegram_id) >= 8000)
        ).one()
    assert bound == LIAISONS


async def test_a_long_screen_to_one_liaison_draws_no_429(harness: Harness) -> None:
    """A preview of maximal cells goes out as several messages to one chat at once."""
    await paced(harness)
    open_month(harness)
    liaison = await harness.liaison("publicity", 8101, "褚满")
    await start_item(liaison, "宣传思想")
    await liaison.send(block("甲"), timeout=60)
    await liaison.tap(DONE, timeout=60)
    await liaison.send(block("乙"), timeout=60)
    preview = await liaison.tap(DONE, timeout=60)
    assert len(preview) >= 3 and SUBMIT in preview.last.buttons
    assert harness.double.stats.flood_429 == 0
