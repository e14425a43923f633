"""The question a user was asked and whose typed answer the bot waits for (a return's
reason): one row per user, read with the sender (storage.people.identify_sender)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from storage.models import Prompt, table_of

_KEPT = "prompts"
TABLE = table_of(Prompt)
_LOAD = sa.select(TABLE.c.kind, TABLE.c.data, TABLE.c.asked_at).where(
    TABLE.c.telegram_id == sa.bindparam("who")
)


@dataclass(frozen=True)
class Asked:
    """An open question: what kind (handlers/prompts.py answers by kind) and its data."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    asked_at: datetime | None = None  # UTC


def remember(session: Session, telegram_id: int, asked: Asked | None) -> None:
    """Keep the row read along with the sender, so `load` needs no query of its own."""
    session.info.setdefault(_KEPT, {})[telegram_id] = asked


def load(session: Session, telegram_id: int) -> Asked | None:
    """The user's open question, if any (read at most once per session)."""
    kept: dict[int, Asked | None] = session.info.setdefault(_KEPT, {})
    if telegram_id not in kept:
        row = session.execute(_LOAD, {"who": telegram_id}).first()
        kept[telegram_id] = Asked(row.kind, dict(row.data), row.asked_at) if row else None
    return kept[telegram_id]


def ask(session: Session, telegram_id: int, kind: str, data: dict[str, Any], now: datetime) -> None:
    """Wait for the user's answer to a new question (it replaces an open one)."""
    clear(session, telegram_id)
    session.execute(
        sa.insert(TABLE).values(telegram_id=telegram_id, kind=kind, data=data, asked_at=now)
    )
    remember(session, telegram_id, Asked(kind, dict(data), now))


def clear(session: Session, telegram_id: int) -> None:
    """The question is answered or withdrawn."""
    session.execute(sa.delete(TABLE).where(TABLE.c.telegram_id == telegram_id))
    remember(session, telegram_id, None)
