"""Who a Telegram user is to the bot, invites, and language preferences."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core.audit import Action, Actor
from bot.core.invites import new_token, token_hash
from bot.core.people import PersonRole
from bot.core.periods import DEFAULT_ZONE
from storage import audit, drafts, prompts
from storage.models import (
    Coordinator,
    Department,
    Invite,
    Liaison,
    Organisation,
    UserPreference,
    table_of,
    utcnow,
)


@dataclass(frozen=True)
class CoordinatorView:
    id: int
    name: str


@dataclass(frozen=True)
class LiaisonView:
    """A person bound to a department: its liaison, or its approver (部门负责人)."""

    id: int
    name: str
    department_id: int
    unreachable: bool
    role: PersonRole = PersonRole.LIAISON
    last_seen_at: datetime | None = None


@dataclass(frozen=True)
class DepartmentView:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Identity:
    """What a user may do: coordinator, liaison or approver of a department, both, or
    neither (a stranger; `revoked` when they were bound to a department once).

    Plain values read with one Core query: every update asks, and loading ORM
    objects for it cost more than the rest of the query."""

    telegram_id: int
    coordinator: CoordinatorView | None
    liaison: LiaisonView | None
    department: DepartmentView | None
    revoked: bool = False  # a liaison or approver whose access was revoked

    @property
    def is_coordinator(self) -> bool:
        return self.coordinator is not None

    @property
    def is_liaison(self) -> bool:
        return self._bound(PersonRole.LIAISON)

    @property
    def is_approver(self) -> bool:
        return self._bound(PersonRole.APPROVER)

    def _bound(self, role: PersonRole) -> bool:
        bound = self.liaison is not None and self.department is not None
        return bound and self.liaison is not None and self.liaison.role == role

    @property
    def is_stranger(self) -> bool:
        return not (self.is_coordinator or self.is_liaison or self.is_approver)


def _sender_query() -> sa.Select[Any]:
    telegram_id: sa.BindParameter[int] = sa.bindparam("telegram_id")
    coordinator, liaison = table_of(Coordinator), table_of(Liaison)
    department, preference = table_of(Department), table_of(UserPreference)
    organisation = table_of(Organisation)
    language = (
        sa.select(preference.c.language)
        .where(preference.c.telegram_id == telegram_id)
        .scalar_subquery()
    )
    timezone = (
        sa.select(organisation.c.timezone).order_by(organisation.c.id).limit(1).scalar_subquery()
    )
    anchor = sa.select(sa.literal(1).label("one")).subquery()
    gone = liaison.alias("gone")
    revoked = sa.exists().where(gone.c.telegram_id == telegram_id, sa.not_(gone.c.active))
    state, asked = drafts.TABLE, prompts.TABLE
    return (
        sa.select(
            coordinator.c.id.label("coordinator_id"),
            coordinator.c.name.label("coordinator_name"),
            liaison.c.id.label("liaison_id"),
            liaison.c.name.label("liaison_name"),
            liaison.c.unreachable,
            liaison.c.role,
            liaison.c.last_seen_at,
            revoked.label("revoked"),
            department.c.id.label("department_id"),
            department.c.code.label("department_code"),
            department.c.name.label("department_name"),
            language.label("language"),
            timezone.label("timezone"),
            state.c.telegram_id.label("state_of"),
            state.c.flow,
            state.c.data,
            asked.c.kind.label("prompt_kind"),
            asked.c.data.label("prompt_data"),
            asked.c.asked_at.label("prompt_at"),
        )
        .select_from(anchor)
        .outerjoin(
            coordinator,
            sa.and_(coordinator.c.telegram_id == telegram_id, coordinator.c.active),
        )
        .outerjoin(liaison, sa.and_(liaison.c.telegram_id == telegram_id, liaison.c.active))
        .outerjoin(
            department,
            sa.and_(department.c.id == liaison.c.department_id, department.c.active),
        )
        .outerjoin(state, state.c.telegram_id == telegram_id)
        .outerjoin(asked, asked.c.telegram_id == telegram_id)
    )


# Built once (constructing it cost four times as much as running it) and run on the
# session's connection, outside the ORM: every update runs it.
_SENDER = _sender_query()


def _sender_row(session: Session, telegram_id: int) -> sa.Row[Any]:
    return session.connection().execute(_SENDER, {"telegram_id": telegram_id}).one()


def _identity(telegram_id: int, row: sa.Row[Any]) -> Identity:
    coordinator = (
        CoordinatorView(row.coordinator_id, row.coordinator_name)
        if row.coordinator_id is not None
        else None
    )
    # A liaison of an inactive department is none.
    if row.department_id is None:
        return Identity(telegram_id, coordinator, None, None, revoked=bool(row.revoked))
    return Identity(
        telegram_id,
        coordinator,
        LiaisonView(
            row.liaison_id,
            row.liaison_name,
            row.department_id,
            row.unreachable,
            PersonRole(row.role),
            row.last_seen_at,
        ),
        DepartmentView(row.department_id, row.department_code, row.department_name),
    )


def identify(session: Session, telegram_id: int) -> Identity:
    return _identity(telegram_id, _sender_row(session, telegram_id))


def identify_sender(session: Session, telegram_id: int) -> tuple[Identity, str | None, str]:
    """identify(), language_of(), the organisation's time zone name, where the user is
    in a chat flow and the question they were asked, in one query: what every update
    needs to know about its sender (six round trips otherwise). The flow's state and the
    question are kept in the session for storage.drafts and storage.prompts."""
    row = _sender_row(session, telegram_id)
    drafts.remember(
        session,
        telegram_id,
        drafts.Kept(row.state_of is not None, row.flow or "", row.data or {}),
    )
    asked = (
        prompts.Asked(row.prompt_kind, dict(row.prompt_data or {}), row.prompt_at)
        if row.prompt_kind
        else None
    )
    prompts.remember(session, telegram_id, asked)
    return _identity(telegram_id, row), row.language, row.timezone or DEFAULT_ZONE


def create_invite(
    session: Session,
    department: Department,
    *,
    ttl: timedelta,
    created_by: str,
    role: PersonRole = PersonRole.LIAISON,
) -> str:
    """A fresh token for the department's liaison or approver; the caller shows it once,
    only its hash is kept."""
    token = new_token()
    now = utcnow()
    session.add(
        Invite(
            token_hash=token_hash(token),
            department_id=department.id or 0,
            created_at=now,
            expires_at=now + ttl,
            created_by=created_by,
            role=role.value,
        )
    )
    session.flush()
    return token


def audited_invite(
    session: Session,
    department: Department,
    *,
    ttl: timedelta,
    actor: Actor,
    role: PersonRole = PersonRole.LIAISON,
    now: datetime | None = None,
) -> str:
    """An invite a coordinator (or the terminal) made: the token, and its audit entry."""
    token = create_invite(session, department, ttl=ttl, created_by=actor.name or "cli", role=role)
    detail = {"role": role.value}
    audit.record(session, Action.INVITE, actor, department.name, detail=detail, now=now)
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
    liaison.role, liaison.revoked_at, liaison.revoked_by = invite.role, None, None
    session.add(liaison)
    session.flush()
    return InviteOutcome.BOUND, department


def liaisons_of(
    session: Session, department_id: int, role: PersonRole = PersonRole.LIAISON
) -> list[Liaison]:
    """The department's active liaisons (or approvers)."""
    return list(
        session.exec(
            select(Liaison).where(
                Liaison.department_id == department_id,
                col(Liaison.active),
                Liaison.role == role.value,
            )
        )
    )


def has_approvers(session: Session, department_id: int) -> bool:
    """Whether a submission of the department waits for an approver before it counts."""
    return bool(liaisons_of(session, department_id, PersonRole.APPROVER))


SEEN_EVERY = timedelta(hours=1)  # how often "last wrote" is written: not on every update


def not_seen_lately(identity: Identity, now: datetime) -> bool:
    """A liaison or approver whose "last wrote" is older than SEEN_EVERY."""
    person = identity.liaison
    if person is None:
        return False
    return person.last_seen_at is None or now - person.last_seen_at >= SEEN_EVERY


def seen(session: Session, identity: Identity, now: datetime) -> None:
    """Note when a liaison or approver last wrote (for /liaisons)."""
    if identity.liaison is None:
        return
    table = table_of(Liaison)
    update = sa.update(table).where(table.c.id == identity.liaison.id).values(last_seen_at=now)
    session.execute(update)


def language_of(session: Session, telegram_id: int) -> str | None:
    pref = session.get(UserPreference, telegram_id)
    return pref.language if pref else None


def set_language(session: Session, telegram_id: int, language: str) -> None:
    pref = session.get(UserPreference, telegram_id) or UserPreference(telegram_id=telegram_id)
    pref.language = language
    session.add(pref)


# --- people: who holds which part, revoking, coordinators (/liaisons, /coordinators) -----


@dataclass(frozen=True)
class PersonView:
    """A liaison or approver as /liaisons and `huibao people list` show them."""

    id: int
    telegram_id: int
    name: str
    role: PersonRole
    last_seen_at: datetime | None
    unreachable: bool
    active: bool  # False: revoked
    revoked_at: datetime | None


@dataclass(frozen=True)
class DepartmentPeople:
    """A department in roster order, with the people bound to it."""

    department: DepartmentView
    active: bool  # the department is in the roster
    people: tuple[PersonView, ...]

    def holding(self, role: PersonRole) -> list[PersonView]:
        """Its people of that role whose access was not revoked."""
        return [p for p in self.people if p.active and p.role == role]


def _person(row: Liaison) -> PersonView:
    return PersonView(
        row.id or 0,
        row.telegram_id,
        row.name,
        PersonRole(row.role),
        row.last_seen_at,
        row.unreachable,
        row.active,
        row.revoked_at,
    )


def people_by_department(session: Session, *, revoked: bool = False) -> list[DepartmentPeople]:
    """Every active department in roster order with its liaisons and approvers (liaisons
    first); with `revoked`, also the revoked people, and the retired departments that have
    any."""
    departments = session.exec(
        select(Department).order_by(col(Department.position), col(Department.id))
    ).all()
    query = select(Liaison).order_by(col(Liaison.role).desc(), col(Liaison.name), col(Liaison.id))
    if not revoked:
        query = query.where(col(Liaison.active))
    by_department: dict[int, list[PersonView]] = {}
    for row in session.exec(query):
        by_department.setdefault(row.department_id, []).append(_person(row))
    return [
        DepartmentPeople(
            DepartmentView(d.id or 0, d.code, d.name),
            d.active,
            tuple(by_department.get(d.id or 0, [])),
        )
        for d in departments
        if d.active or by_department.get(d.id or 0)
    ]


class RevokeOutcome(Enum):
    REVOKED = "revoked"
    ALREADY = "already"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Revoked:
    outcome: RevokeOutcome
    name: str = ""
    department: str = ""
    role: PersonRole = PersonRole.LIAISON


def revoke(session: Session, telegram_id: int, actor: Actor, now: datetime) -> Revoked:
    """Take a liaison's or approver's access away: reminders stop, /report and their open
    draft are refused, and they are told so when they write. What they submitted stays;
    a new invite binds them again (redeem_invite)."""
    row = session.exec(select(Liaison).where(Liaison.telegram_id == telegram_id)).first()
    if row is None:
        return Revoked(RevokeOutcome.UNKNOWN)
    department = session.get(Department, row.department_id)
    found = Revoked(
        RevokeOutcome.ALREADY if not row.active else RevokeOutcome.REVOKED,
        row.name,
        department.name if department is not None else "",
        PersonRole(row.role),
    )
    if not row.active:
        return found
    row.active, row.revoked_at, row.revoked_by = False, now, actor.telegram_id
    session.add(row)
    audit.record(
        session,
        Action.REVOKE,
        actor,
        f"{found.name}（{found.department}）",
        detail={"telegram_id": telegram_id, "role": found.role.value},
        now=now,
    )
    return found


def liaison_by_id(session: Session, liaison_id: int) -> Liaison | None:
    return session.get(Liaison, liaison_id)


def coordinators(session: Session, *, lock: bool = False) -> list[Coordinator]:
    """The active coordinators, in the order they were added; `lock`: held until the
    transaction ends (two removals at once must not leave none)."""
    query = select(Coordinator).where(col(Coordinator.active)).order_by(col(Coordinator.id))
    return list(session.exec(query.with_for_update() if lock else query))


class CoordinatorOutcome(Enum):
    ADDED = "added"
    ALREADY = "already"  # adding: an active coordinator already
    REMOVED = "removed"
    GONE = "gone"  # removing: not an active coordinator (removed already, or no such)
    LAST = "last"  # removing: the last active coordinator stays


@dataclass(frozen=True)
class CoordinatorChange:
    outcome: CoordinatorOutcome
    name: str = ""
    telegram_id: int = 0


def add_coordinator(
    session: Session, telegram_id: int, name: str, actor: Actor, now: datetime
) -> CoordinatorChange:
    """Make the user a coordinator (again: a removed one comes back, under the new name)."""
    row = session.exec(select(Coordinator).where(Coordinator.telegram_id == telegram_id)).first()
    if row is not None and row.active:
        return CoordinatorChange(CoordinatorOutcome.ALREADY, row.name, telegram_id)
    row = row or Coordinator(telegram_id=telegram_id, name=name)
    row.name, row.active = name, True
    session.add(row)
    audit.record(
        session, Action.COORDINATOR_ADD, actor, name, detail={"telegram_id": telegram_id}, now=now
    )
    return CoordinatorChange(CoordinatorOutcome.ADDED, name, telegram_id)


def remove_coordinator(
    session: Session, coordinator_id: int, actor: Actor, now: datetime
) -> CoordinatorChange:
    """Take a coordinator's rights away, never the last active coordinator's."""
    active = coordinators(session, lock=True)
    row = next((c for c in active if c.id == coordinator_id), None)
    if row is None:
        return CoordinatorChange(CoordinatorOutcome.GONE)
    change = CoordinatorChange(CoordinatorOutcome.REMOVED, row.name, row.telegram_id)
    if len(active) == 1:
        return replace(change, outcome=CoordinatorOutcome.LAST)
    row.active = False
    session.add(row)
    audit.record(
        session,
        Action.COORDINATOR_REMOVE,
        actor,
        row.name,
        detail={"telegram_id": row.telegram_id},
        now=now,
    )
    return change
