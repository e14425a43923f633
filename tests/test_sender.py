"""Who is writing, and whether they may: handlers.common.who reads and never writes; one
role check (Who.refused) gives every command's refusal."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from telegram import Chat, Message, Update, User
from telegram.constants import ChatType

from handlers.common import (
    CONSOLE,
    COORDINATORS,
    LIAISONS,
    MUTING,
    REPORTING,
    Needs,
    Who,
    back_in_reach,
    who,
)
from storage.db import session_scope
from storage.models import Department, Liaison
from storage.people import CoordinatorView, DepartmentView, Identity, LiaisonView

LIAISON_ID = 7001


def _update(chat_type: ChatType) -> Update:
    user = User(LIAISON_ID, "王芳", False, language_code="en")
    chat = Chat(LIAISON_ID if chat_type == ChatType.PRIVATE else -100, chat_type)
    return Update(1, message=Message(1, datetime.now(UTC), chat, from_user=user, text="hi"))


def _unreachable(engine: Engine) -> bool:
    with session_scope(engine) as db:
        found = db.exec(select(Liaison).where(Liaison.telegram_id == LIAISON_ID)).one()
        return found.unreachable


def test_who_only_reads_and_being_back_in_reach_is_its_own_write(engine: Engine) -> None:
    with session_scope(engine) as db:
        department = Department(code="org", name="组织部")
        db.add(department)
        db.flush()
        assert department.id is not None
        db.add(Liaison(telegram_id=LIAISON_ID, name="王芳", department_id=department.id))
        db.flush()
        db.exec(select(Liaison)).one().unreachable = True  # blocked the bot

    with session_scope(engine) as db:
        sender = who(_update(ChatType.PRIVATE), db)
    assert sender.private and sender.identity.is_liaison and sender.language == "en"
    assert _unreachable(engine)  # who() wrote nothing

    with session_scope(engine) as db:
        back_in_reach(db, who(_update(ChatType.GROUP), db))
    assert _unreachable(engine)  # a message in a group proves nothing
    with session_scope(engine) as db:
        back_in_reach(db, sender)
    assert not _unreachable(engine)


def _sender(kind: str, private: bool) -> Who:
    coordinator = CoordinatorView(1, "李明") if kind in ("coordinator", "both") else None
    liaison, department = None, None
    if kind in ("liaison", "both"):
        liaison, department = LiaisonView(1, "王芳", 1, False), DepartmentView(1, "org", "组织部")
    identity = Identity(LIAISON_ID, coordinator, liaison, department)
    return Who(identity, "zh-CN", "某人", ZoneInfo("Asia/Shanghai"), private)


# (rule, kind of sender, private chat) → the refusal's text name, or None: allowed.
CASES: list[tuple[Needs, str, bool, str | None]] = [
    (CONSOLE, "coordinator", True, None),
    (CONSOLE, "coordinator", False, None),
    (CONSOLE, "stranger", True, "stranger"),
    (CONSOLE, "stranger", False, "coordinators_only"),  # a group hears no invitation
    (CONSOLE, "liaison", True, "coordinators_only"),
    (COORDINATORS, "stranger", True, "stranger"),
    (COORDINATORS, "both", False, None),
    (REPORTING, "liaison", True, None),
    (REPORTING, "liaison", False, "private_only"),
    (REPORTING, "stranger", False, "private_only"),
    (REPORTING, "stranger", True, "stranger"),
    (REPORTING, "coordinator", True, "liaisons_only"),
    (LIAISONS, "stranger", False, "stranger"),
    (LIAISONS, "coordinator", False, "liaisons_only"),
    (LIAISONS, "both", True, None),
    (MUTING, "stranger", True, "not_allowed"),
    (MUTING, "liaison", False, None),
]


@pytest.mark.parametrize(("needs", "kind", "private", "expected"), CASES)
def test_the_role_check(needs: Needs, kind: str, private: bool, expected: str | None) -> None:
    assert _sender(kind, private).refused(needs) == expected
