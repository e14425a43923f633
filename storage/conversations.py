"""Where each user is in a chat flow, saved with every accepted message."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from storage.models import ConversationState, utcnow


def load(session: Session, telegram_id: int, flow: str) -> dict[str, Any]:
    state = session.get(ConversationState, telegram_id)
    if state is None or state.flow != flow:
        return {}
    return dict(state.data)


def save(session: Session, telegram_id: int, flow: str, data: dict[str, Any]) -> None:
    state = session.get(ConversationState, telegram_id) or ConversationState(
        telegram_id=telegram_id
    )
    state.flow, state.data, state.updated_at = flow, data, utcnow()
    session.add(state)
