"""Where each user is in a chat flow, saved with every accepted message."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from storage.models import ConversationState, utcnow

_KEPT = "conversation_states"


def _row(session: Session, telegram_id: int) -> ConversationState | None:
    """The user's row, read at most once per session. The session's identity map holds
    objects weakly: without the reference kept in session.info, the save after a load
    would read the row a second time."""
    kept: dict[int, ConversationState] = session.info.setdefault(_KEPT, {})
    state = kept.get(telegram_id)
    if state is None:
        state = session.get(ConversationState, telegram_id)
        if state is not None:
            kept[telegram_id] = state
    return state


def load(session: Session, telegram_id: int, flow: str) -> dict[str, Any]:
    state = _row(session, telegram_id)
    if state is None or state.flow != flow:
        return {}
    return dict(state.data)


def save(session: Session, telegram_id: int, flow: str, data: dict[str, Any]) -> None:
    state = _row(session, telegram_id)
    if state is None:
        state = ConversationState(telegram_id=telegram_id)
        session.info.setdefault(_KEPT, {})[telegram_id] = state
    state.flow, state.data, state.updated_at = flow, data, utcnow()
    session.add(state)
