"""A liaison's drafts (bot.core.draft.DraftBook), saved with every accepted message.

Read and written on every step of a report, so with statements built once and without
the ORM's unit of work: a plain SELECT and a plain UPDATE (or INSERT the first time).
The row's JSON is DraftBook.to_plain(); rows written by older versions load the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from bot.core.draft import DraftBook
from storage.models import ConversationState, table_of, utcnow

_KEPT = "conversation_states"
FLOW = "report"  # the row's flow: the only chat flow kept between messages

# Core statements on the table: no ORM bookkeeping for a row that is only ever read
# and written here.
TABLE = table_of(ConversationState)
_LOAD = sa.select(TABLE.c.flow, TABLE.c.data).where(TABLE.c.telegram_id == sa.bindparam("who"))
# SET takes its columns from the parameters given (flow, data, updated_at).
_UPDATE = sa.update(TABLE).where(TABLE.c.telegram_id == sa.bindparam("who"))
_INSERT = sa.insert(TABLE)


@dataclass
class Kept:
    """A user's row as this session last read or wrote it."""

    exists: bool
    flow: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def remember(session: Session, telegram_id: int, kept: Kept) -> None:
    """Keep a row read along with something else (storage.people.identify_sender), so the
    flow's load in the same session needs no query of its own."""
    session.info.setdefault(_KEPT, {})[telegram_id] = kept


def _row(session: Session, telegram_id: int) -> Kept:
    """The user's row, read at most once per session."""
    kept: dict[int, Kept] = session.info.setdefault(_KEPT, {})
    if telegram_id not in kept:
        row = session.execute(_LOAD, {"who": telegram_id}).first()
        kept[telegram_id] = Kept(True, row.flow, row.data) if row else Kept(False)
    return kept[telegram_id]


def load(session: Session, telegram_id: int) -> DraftBook:
    """The user's drafts (none for a user who never started one)."""
    state = _row(session, telegram_id)
    if not state.exists or state.flow != FLOW:
        return DraftBook()
    return DraftBook.from_plain(state.data)


def save(session: Session, telegram_id: int, book: DraftBook) -> None:
    state = _row(session, telegram_id)
    data = book.to_plain()
    values = {"flow": FLOW, "data": data, "updated_at": utcnow()}
    if state.exists:
        session.execute(_UPDATE, {"who": telegram_id, **values})
    else:
        session.execute(_INSERT, {"telegram_id": telegram_id, **values})
    state.exists, state.flow, state.data = True, FLOW, data
