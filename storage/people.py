"""Who a Telegram user is to the bot, invites, and language preferences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.invites import new_token, token_hash
from storage import conversations
from storage.models import (
    Coordinator,
    Department,
    Invite,
    Liaison,
    Organisation,
    UserPreference,
    utcnow,
)


@dataclass(frozen=True)
class Identity:
    """What a user may do: coordinator, liaison of a department, both, or neither."""

    telegram_id: int
    coordinator: Coordinator | None
    liaison: Liaison | None
    department: Department | None

    @property
    def is_coordinator(self) -> bool:
        return self.coordinator is not None

    @property
    def is_liaison(self) -> bool:
        return self.liaison is not None and self.department is not None

    @property
    def is_stranger(self) -> bool:
        return not (self.is_coordinator or self.is_liaison)


def identify(session: Session, telegram_id: int) -> Identity:
    coordinator = session.exec(
        select(Coordinator).where(Coordinator.telegram_id == telegram_id, col(Coordinator.active))
    ).first()
    row = session.exec(
        select(Liaison, Department)
        .join(Department, col(Department.id) == col(Liaison.department_id))
        .where(Liaison.telegram_id == telegram_id, col(Liaison.active), col(Department.active))
    ).first()
    liaison, department = row if row else (None, None)
    return Identity(telegram_id, coordinator, liaison, department)


def _sender_query() -> sa.Select[Any]:
    telegram_id: sa.BindParameter[int] = sa.bindparam("telegram_id")
    language = (
        sa.select(col(UserPreference.language))
        .where(col(UserPreference.telegram_id) == telegram_id)
        .scalar_subquery()
    )
    timezone = (
        sa.select(col(Organisation.timezone))
        .order_by(col(Organisation.id))
        .limit(1)
        .scalar_subquery()
    )
    anchor = sa.select(sa.literal(1).label("one")).subquery()
    state = conversations.TABLE
    return (
        sa.select(
            Coordinator,
            Liaison,
            Department,
            language,
            timezone,
            state.c.telegram_id.label("state_of"),
            state.c.flow,
            state.c.data,
        )
        .select_from(anchor)
        .outerjoin(
            Coordinator,
            sa.and_(col(Coordinator.telegram_id) == telegram_id, col(Coordinator.active)),
        )
        .outerjoin(Liaison, sa.and_(col(Liaison.telegram_id) == telegram_id, col(Liaison.active)))
        .outerjoin(
            Department,
            sa.and_(col(Department.id) == col(Liaison.department_id), col(Department.active)),
        )
        .outerjoin(state, state.c.telegram_id == telegram_id)
    )


# Built once: constructing this statement cost four times as much as running it, and
# every update runs it.
_SENDER = _sender_query()


def identify_sender(session: Session, telegram_id: int) -> tuple[Identity, str | None, str]:
    """identify(), language_of(), the organisation's time zone name and where the user is
    in a chat flow, in one query: what every update needs to know about its sender (five
    round trips otherwise). The flow's state is kept in the session for
    storage.conversations."""
    row = session.execute(_SENDER, {"telegram_id": telegram_id}).one()
    coordinator, liaison, department, chosen, zone, state_of, flow, data = row
    conversations.remember(
        session, telegram_id, conversations.Kept(state_of is not None, flow or "", data or {})
    )
    if department is None:  # as identify(): a liaison of an inactive department is none
        liaison = None
    return (
        Identity(telegram_id, coordinator, liaison, department),
        chosen,
        zone or "Asia/Shanghai",
    )


def create_invite(
    session: Session, department: Department, *, ttl: timedelta, created_by: str
) -> str:
    """A fresh token for the department; the caller shows it once, only its hash is kept."""
    token = new_token()
    now = utcnow()
    session.add(
        Invite(
            token_hash=token_hash(token),
            department_id=department.id or 0,
            created_at=now,
            expires_at=now + ttl,
            created_by=created_by,
        )
    )
    session.flush()
    return token


class InviteOutcome(Enum):
    BOUND = "bound"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    DEPARTMENT_GONE = "department_gone"


def redeem_invite(
    session: Session, token: str, *, telegram_id: int, name: str, now: datetime | None = None
) -> tuple[InviteOutcome, Department | None]:
    """Bind the user to the invite's department, once."""
    now = now or utcnow()
    invite = session.exec(select(Invite).where(Invite.token_hash == token_hash(token))).first()
    if invite is None:
        return InviteOutcome.UNKNOWN, None
    if invite.used_at is not None:
        return InviteOutcome.USED, None
    if invite.expires_at is not None and invite.expires_at <= now:
        return InviteOutcome.EXPIRED, None
    department = session.get(Department, invite.department_id)
    if department is None or not department.active:
        return InviteOutcome.DEPARTMENT_GONE, None
    invite.used_at, invite.used_by = now, telegram_id
    session.add(invite)
    liaison = session.exec(select(Liaison).where(Liaison.telegram_id == telegram_id)).first()
    if liaison is None:
        liaison = Liaison(telegram_id=telegram_id, name=name, department_id=department.id or 0)
    liaison.name, liaison.department_id, liaison.active = name, department.id or 0, True
    liaison.unreachable, liaison.joined_at = False, now
    session.add(liaison)
    session.flush()
    return InviteOutcome.BOUND, department


def liaisons_of(session: Session, department_id: int) -> list[Liaison]:
    return list(
        session.exec(
            select(Liaison).where(Liaison.department_id == department_id, col(Liaison.active))
        )
    )


def language_of(session: Session, telegram_id: int) -> str | None:
    pref = session.get(UserPreference, telegram_id)
    return pref.language if pref else None


def set_language(session: Session, telegram_id: int, language: str) -> None:
    pref = session.get(UserPreference, telegram_id) or UserPreference(telegram_id=telegram_id)
    pref.language = language
    session.add(pref)
