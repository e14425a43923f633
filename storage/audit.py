"""The audit trail: recorded with the change in the same transaction, never changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.core.audit import Action, Actor, AuditEntry
from storage.models import AuditEvent, utcnow


def record(
    session: Session,
    action: Action,
    actor: Actor,
    subject: str,
    *,
    detail: dict[str, Any] | None = None,
    period_id: int | None = None,
    submission_id: int | None = None,
    now: datetime | None = None,
) -> None:
    session.add(
        AuditEvent(
            at=now or utcnow(),
            actor_id=actor.telegram_id,
            actor_name=actor.name,
            action=action.value,
            subject=subject,
            detail=dict(detail or {}),
            period_id=period_id,
            submission_id=submission_id,
        )
    )
    session.flush()


def _entry(row: AuditEvent) -> AuditEntry:
    assert row.at is not None
    return AuditEntry(
        row.at,
        Actor(row.actor_id, row.actor_name),
        Action(row.action),
        row.subject,
        dict(row.detail),
        row.period_id,
        row.submission_id,
    )


def entries(session: Session, since: datetime | None = None) -> list[AuditEntry]:
    """The trail in the order it happened, from `since` (UTC) on."""
    query = select(AuditEvent).order_by(col(AuditEvent.at), col(AuditEvent.id))
    if since is not None:
        query = query.where(col(AuditEvent.at) >= since)
    return [_entry(row) for row in session.exec(query)]


def of_submission(session: Session, submission_id: int) -> list[AuditEntry]:
    """A submission's returns and approvals, oldest first."""
    query = (
        select(AuditEvent)
        .where(AuditEvent.submission_id == submission_id)
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    )
    return [_entry(row) for row in session.exec(query)]


def last_return(session: Session, submission_id: int) -> AuditEntry | None:
    """The latest return of a submission: who sent it back, and why."""
    found = [e for e in of_submission(session, submission_id) if e.action is Action.RETURN]
    return found[-1] if found else None
