"""The reminder log (each reminder claimed once, ever), the per-period mutes, and the
reads a reminder pass needs, as bot.core.reminders' values.

`claim` is the only gate: a row per (period, recipient, slot) under a unique
constraint, committed before the message is sent. Whoever inserts it first
sends; everyone else (a second pass, a restarted bot, another process on the
same database) gets False. A crash between claim and send loses that one
message rather than ever sending it twice.

A message whose recipients are fixed when something happens (a period opened: its
liaisons at that moment) is queued instead: `queue` writes the rows as "queued" and
`take` claims one by turning it "claimed", again exactly once whoever tries.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.reminders import (
    Deadline,
    Delivery,
    Kind,
    LateDepartment,
    OwedItem,
    Task,
    held_up_by,
)
from bot.core.status import Assignment, State, WorkItemView
from storage.db import upsert_insert
from storage.models import (
    Coordinator,
    Department,
    Liaison,
    Period,
    PeriodItem,
    PeriodOwner,
    ReminderLog,
    ReminderMute,
    Submission,
    utcnow,
)
from storage.people import has_approvers, liaisons_of
from storage.roster import organisation_zone
from storage.snapshots import as_named
from storage.submissions import pending_by_department, submission_view

CLAIMED, SKIPPED, QUEUED = "claimed", "skipped", "queued"
SENT, FAILED, BLOCKED = Delivery.SENT.value, Delivery.FAILED.value, Delivery.BLOCKED.value
_SLOT = "%Y-%m-%dT%H:%MZ"


def slot_key(kind: str, slot: datetime) -> str:
    """'reminder:2015-11-05T01:00Z': the kind is part of the key, so one person can get
    both a reminder and a digest at the same minute."""
    return f"{kind}:{slot.astimezone(UTC).strftime(_SLOT)}"


def _slot_of(key: str) -> datetime:
    return datetime.strptime(key.split(":", 1)[1], _SLOT).replace(tzinfo=UTC)


def claim(
    session: Session,
    period_id: int,
    recipient_id: int,
    slot: datetime,
    kind: str,
    *,
    status: str = CLAIMED,
    now: datetime | None = None,
) -> bool:
    """Insert the log row; False if it exists. The session stays usable either way."""
    now = now or utcnow()
    try:
        with session.begin_nested():
            session.add(
                ReminderLog(
                    period_id=period_id,
                    recipient_id=recipient_id,
                    kind=kind,
                    slot=slot_key(kind, slot),
                    claimed_at=now,
                    status=status,
                )
            )
    except IntegrityError:
        return False
    return True


def skip(
    session: Session,
    period_id: int,
    kind: str,
    pairs: Iterable[tuple[int, datetime]],
    *,
    now: datetime | None = None,
    status: str = SKIPPED,
) -> int:
    """Record (recipient, slot) pairs as skipped (or `status`), in one statement; rows
    already there stay as they are. Returns how many were new."""
    pairs = list(pairs)
    rows = [
        {"period_id": period_id, "recipient_id": recipient, "kind": kind,
         "slot": slot_key(kind, slot), "claimed_at": now or utcnow(), "status": status}
        for recipient, slot in pairs
    ]  # fmt: skip
    if not rows:
        return 0
    table = ReminderLog.metadata.tables[str(ReminderLog.__tablename__)]
    insert = upsert_insert(session, table)
    if insert is None:  # any other database: one savepoint a row
        return sum(
            claim(session, period_id, r, slot, kind, status=status, now=now) for r, slot in pairs
        )
    # RETURNING lists only the rows that went in (rowcount is unreliable for many rows)
    statement = insert.on_conflict_do_nothing().returning(table.c.id)
    inserted = session.execute(statement, rows).all()
    return len(inserted)


def queue(
    session: Session, period_id: int, kind: str, recipients: Iterable[int], slot: datetime
) -> int:
    """Queue one message of `kind` for each recipient (`take` claims it later); a row
    already there, queued or sent, stays. Returns how many were new."""
    return skip(session, period_id, kind, [(r, slot) for r in recipients], now=slot,
                status=QUEUED)  # fmt: skip


def queued(session: Session, kinds: Iterable[Kind]) -> list[Task]:
    """Every queued message of these kinds, oldest first."""
    rows = session.exec(
        select(ReminderLog.period_id, ReminderLog.recipient_id, ReminderLog.kind, ReminderLog.slot)
        .where(ReminderLog.status == QUEUED, col(ReminderLog.kind).in_(list(kinds)))
        .order_by(col(ReminderLog.slot), col(ReminderLog.id))
    )
    return [Task(p, recipient, _slot_of(key), Kind(kind)) for p, recipient, kind, key in rows]


def take(
    session: Session,
    period_id: int,
    recipient_id: int,
    slot: datetime,
    kind: str,
    *,
    status: str = CLAIMED,
    now: datetime | None = None,
) -> bool:
    """Claim a queued message (queued → `status`); False if it is not queued any more.

    The conditional UPDATE is the gate: of two passes or processes only one changes the
    row (PostgreSQL re-checks the condition after waiting for the other's lock)."""
    result = session.execute(
        sa.update(ReminderLog)
        .where(
            col(ReminderLog.period_id) == period_id,
            col(ReminderLog.recipient_id) == recipient_id,
            col(ReminderLog.slot) == slot_key(kind, slot),
            col(ReminderLog.status) == QUEUED,
        )
        .values(status=status, claimed_at=now or utcnow())
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def mark(
    session: Session,
    outcomes: Iterable[tuple[int, int, datetime, str, str]],
    *,
    now: datetime | None = None,
) -> None:
    """Record how claimed sends ended, (period, recipient, slot, kind, status) each:
    sent, failed or blocked. One UPDATE per period, slot and status, so a fan-out of a
    thousand costs a few statements."""
    groups: dict[tuple[int, str, str], list[int]] = {}
    for period_id, recipient, slot, kind, status in outcomes:
        groups.setdefault((period_id, slot_key(kind, slot), status), []).append(recipient)
    for (period_id, key, status), recipients in groups.items():
        values: dict[str, Any] = {"status": status}
        if status == SENT:
            values["sent_at"] = now or utcnow()
        session.execute(
            sa.update(ReminderLog)
            .where(
                col(ReminderLog.period_id) == period_id,
                col(ReminderLog.slot) == key,
                col(ReminderLog.recipient_id).in_(recipients),
            )
            .values(**values)
        )


def claimed(
    session: Session, period_id: int, kind: str, slots: Iterable[datetime]
) -> set[tuple[int, datetime]]:
    """(recipient, slot) pairs already in the log for these slots, whatever their status."""
    keys = [slot_key(kind, s) for s in slots]
    if not keys:
        return set()
    rows = session.exec(
        select(ReminderLog.recipient_id, ReminderLog.slot).where(
            ReminderLog.period_id == period_id, col(ReminderLog.slot).in_(keys)
        )
    )
    return {(recipient, _slot_of(key)) for recipient, key in rows}


def claimed_anywhere(
    session: Session, kind: str, slots: Iterable[datetime]
) -> set[tuple[int, datetime]]:
    """(recipient, slot) pairs in the log for these slots in any period (a notice that is
    once per person, not once per period)."""
    keys = [slot_key(kind, s) for s in slots]
    if not keys:
        return set()
    rows = session.exec(
        select(ReminderLog.recipient_id, ReminderLog.slot).where(col(ReminderLog.slot).in_(keys))
    )
    return {(recipient, _slot_of(key)) for recipient, key in rows}


def anchor_period(session: Session) -> int | None:
    """The period a notice that belongs to none is logged under (the log's rows hang off a
    period): the first one, the same for every process; None before any period exists."""
    found = session.exec(select(sa.func.min(Period.id))).one()
    return int(found) if found is not None else None


def mute(session: Session, period_id: int, liaison_id: int, now: datetime | None = None) -> bool:
    """Mute one liaison for one period; False if already muted."""
    if session.get(ReminderMute, (period_id, liaison_id)) is not None:
        return False
    session.add(ReminderMute(period_id=period_id, liaison_id=liaison_id, muted_at=now or utcnow()))
    session.flush()
    return True


def unmute(session: Session, period_id: int, liaison_id: int) -> bool:
    found = session.get(ReminderMute, (period_id, liaison_id))
    if found is None:
        return False
    session.delete(found)
    session.flush()
    return True


def muted(session: Session, period_id: int) -> set[int]:
    """Liaison ids (not Telegram ids) muted for the period."""
    rows = session.exec(select(ReminderMute.liaison_id).where(ReminderMute.period_id == period_id))
    return set(rows)


def set_unreachable(session: Session, telegram_id: int, unreachable: bool) -> bool:
    """Flag a liaison who blocked the bot, or clear the flag; True if it changed."""
    liaison = session.exec(select(Liaison).where(Liaison.telegram_id == telegram_id)).first()
    if liaison is None or liaison.unreachable == unreachable:
        return False
    liaison.unreachable = unreachable
    session.add(liaison)
    return True


# --- what a pass reads ----------------------------------------------------------------


def reminder_targets(session: Session, period: Period) -> dict[int, int]:
    """Telegram id → department id of everyone to remind now: whoever holds up what their
    department owes (its liaisons, or its approvers for what awaits approval), active,
    reachable and not muted."""
    silenced = muted(session, period.id or 0)
    found: dict[int, int] = {}
    for department_id, owed in pending_by_department(session, period).items():
        roles = held_up_by((a.state for a in owed), has_approvers(session, department_id))
        for role in sorted(roles):
            for person in liaisons_of(session, department_id, role):
                if not person.unreachable and person.id not in silenced:
                    found[person.telegram_id] = department_id
    return found


def open_deadline(session: Session, period_id: int) -> Deadline | None:
    """The period as its messages show it, while it is open."""
    period = session.get(Period, period_id)
    if period is None or not period.is_open or period.due_at is None:
        return None
    return Deadline(period_id, period.month, period.due_at, organisation_zone(session))


def active_liaison(session: Session, telegram_id: int) -> Liaison | None:
    return session.exec(
        select(Liaison).where(Liaison.telegram_id == telegram_id, col(Liaison.active))
    ).first()


def is_active_coordinator(session: Session, telegram_id: int) -> bool:
    found = session.exec(
        select(Coordinator.id).where(
            Coordinator.telegram_id == telegram_id, col(Coordinator.active)
        )
    ).first()
    return found is not None


def _owed(assignments: Iterable[Assignment]) -> tuple[OwedItem, ...]:
    return tuple(
        OwedItem(
            a.work_item.id, a.work_item.title, a.submission is not None, a.state is State.PENDING
        )
        for a in assignments
        if not a.submitted
    )


def late_departments(session: Session, period_id: int) -> list[LateDepartment]:
    """Every department that owes something in the period, with its liaisons' state."""
    period = session.get(Period, period_id)
    if period is None:
        return []
    silenced = muted(session, period_id)
    late = []
    for department_id, owed in pending_by_department(session, period).items():
        people = liaisons_of(session, department_id)
        late.append(
            LateDepartment(
                department=owed[0].department.name,
                owed=_owed(owed),
                no_liaison=not people,
                unreachable=tuple(p.name for p in people if p.unreachable),
                muted=tuple(p.name for p in people if p.id in silenced and not p.unreachable),
            )
        )
    return late


def owed_by(
    session: Session, deadline: Deadline, department_id: int
) -> tuple[str, tuple[OwedItem, ...]]:
    """The department's name in the period and what it has not submitted there, in the
    document's order: one query, because a fan-out asks this once per liaison."""
    rows = session.exec(
        select(PeriodItem, PeriodOwner.department_name, Department, Submission)
        .join(
            PeriodOwner,
            sa.and_(
                col(PeriodOwner.period_id) == col(PeriodItem.period_id),
                col(PeriodOwner.work_item_id) == col(PeriodItem.work_item_id),
            ),
        )
        .join(Department, col(Department.id) == col(PeriodOwner.department_id))
        .outerjoin(
            Submission,
            sa.and_(
                col(Submission.work_item_id) == col(PeriodItem.work_item_id),
                col(Submission.department_id) == department_id,
                col(Submission.period_id) == deadline.period_id,
            ),
        )
        .where(
            col(PeriodItem.period_id) == deadline.period_id,
            col(PeriodOwner.department_id) == department_id,
        )
        .order_by(col(PeriodItem.position))
    )
    found = [
        Assignment(
            WorkItemView(item.work_item_id, item.title, [as_named(dept, name)]),
            as_named(dept, name),
            submission_view(sub) if sub is not None else None,
            deadline.due_at,
        )
        for item, name, dept, sub in rows
    ]
    return (found[0].department.name if found else ""), _owed(found)
