"""The README's "Who does what" table, cell by cell: every command and button × every kind
of user. Allowed: it does its thing. Not allowed: the polite refusal, in the user's
language, and nothing changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.core import texts
from bot.double import FakeUser, Replies, SentMessage, parse_html
from storage.db import session_scope
from storage.models import (
    ConversationState,
    Invite,
    Liaison,
    Period,
    ReminderLog,
    ReminderMute,
    Submission,
    UserPreference,
    WorkItem,
    table_of,
)
from tests.harness import Harness
from tests.test_report import open_month, start_item

ROLES = ("stranger", "liaison", "other", "coordinator", "moved", "revoked")
LANGUAGE = {  # each kind of user reads their own language
    "stranger": "en",
    "liaison": "zh-CN",
    "other": "en",
    "coordinator": "zh-CN",
    "moved": "zh-CN",
    "revoked": "zh-CN",
}
DEPARTMENT = "组织部"  # the liaison's department ("org"); "other" and "moved" are in 办公室
ITEM = "团干部队伍建设"  # a key work item of 组织部 only
MONTH = "2015-10"


@dataclass
class Cast:
    harness: Harness
    users: dict[str, FakeUser]
    item_data: str  # the org item's button: rp:o:<period>:<item>

    def text(self, role: str, text: str, /, **values: object) -> str:
        """The text as the user sees it in the chat."""
        return parse_html(texts.text(LANGUAGE[role], text, **values)).text


# Where the chat's live screen is (which message carries the buttons) is not the user's data:
# a refusal may move it, as it edits the tapped message.
SCREEN_KEYS = ("screen", "echoes")


def conversations(db: Session) -> list[tuple[object, ...]]:
    """Everyone's conversation state, without the screen bookkeeping."""
    table = table_of(ConversationState)
    found = db.execute(sa.select(table).order_by(table.c.telegram_id)).all()
    return [
        (row.telegram_id, row.flow, {k: v for k, v in row.data.items() if k not in SCREEN_KEYS})
        for row in found
    ]


def snapshot(harness: Harness) -> tuple[object, ...]:
    """What a refused command must leave as it was."""
    with session_scope(harness.engine) as db:

        def rows(model: type, *order: sa.ColumnElement[object]) -> list[tuple[object, ...]]:
            table = table_of(model)
            return [tuple(r) for r in db.execute(sa.select(table).order_by(*order)).all()]

        return (
            rows(Invite, table_of(Invite).c.id),
            rows(Liaison, table_of(Liaison).c.id),
            rows(Submission, table_of(Submission).c.id),
            conversations(db),
            rows(ReminderMute, table_of(ReminderMute).c.liaison_id),
            rows(ReminderLog, table_of(ReminderLog).c.id),
            rows(Period, table_of(Period).c.id),
            rows(UserPreference, table_of(UserPreference).c.telegram_id),
        )


async def tap_data(user: FakeUser, harness: Harness, data: str) -> Replies:
    """A tap with this callback data on the user's latest bot message (an old or forwarded
    button), whether or not that message shows it."""
    message: SentMessage = user.last
    query_id = harness.double.new_callback_query(user.state, message, data)
    body = {
        "callback_query": {
            "id": query_id,
            "from": user.to_json(),
            "message": harness.double.message_json(message),
            "chat_instance": str(user.id),
            "data": data,
        }
    }
    replies = await harness.double.act(user.id, body)
    replies.answer = harness.double.callback_answer(query_id)
    return replies


async def cast(harness: Harness) -> Cast:
    open_month(harness)
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    stranger = harness.double.user(9101, "Visitor", language_code="en")
    await stranger.send("/start")
    liaison = await harness.liaison("org", 9102, "王芳")
    other = await harness.liaison("office", 9103, "Alex", language_code="en")
    moved = await harness.liaison("org", 9104, "刘洋")
    await start_item(moved, ITEM)  # a draft in the old department
    await moved.send("调动前写的一项")
    await moved.send(f"/start {harness.invite_token('office')}")
    revoked = await harness.liaison("org", 9105, "陈静")
    with session_scope(harness.engine) as db:
        gone = db.exec(select(Liaison).where(Liaison.telegram_id == revoked.id)).one()
        gone.active = False
        db.add(gone)
        period = db.exec(select(Period).where(Period.month == MONTH)).one()
        item = db.exec(select(WorkItem).where(WorkItem.title == ITEM)).one()
        data = f"rp:o:{period.id}:{item.id}"
    users = {
        "stranger": stranger,
        "liaison": liaison,
        "other": other,
        "coordinator": coordinator,
        "moved": moved,
        "revoked": revoked,
    }
    return Cast(harness, users, data)


# --- what each cell expects ---------------------------------------------------------------
# A command: how a user gives it, and per role either the refusal's text name or a check of
# what an allowed user gets (the replies, the callback answer).

Act = Callable[[Cast, str], Awaitable[Replies]]
Check = Callable[[Cast, str, Replies], bool]


def say(text: str) -> Act:
    async def act(c: Cast, role: str) -> Replies:
        return await c.users[role].send(text)

    return act


async def tap_item(c: Cast, role: str) -> Replies:
    return await tap_data(c.users[role], c.harness, c.item_data)


async def tap_english(c: Cast, role: str) -> Replies:
    return await c.users[role].tap("English")


def has(*parts: str) -> Check:
    return lambda c, role, replies: bool(replies) and all(p in replies.last.text for p in parts)


def exactly(text: str, /, **values: object) -> Check:
    return lambda c, role, replies: [m.text for m in replies] == [c.text(role, text, **values)]


def greeting(c: Cast, role: str, replies: Replies) -> bool:
    user = c.users[role]
    if role == "coordinator":
        return exactly("welcome_coordinator", name=user.first_name)(c, role, replies)
    department = DEPARTMENT if role == "liaison" else "办公室"
    return exactly("welcome_liaison", name=user.first_name, department=department)(c, role, replies)


def report_list(c: Cast, role: str, replies: Replies) -> bool:
    department = DEPARTMENT if role == "liaison" else "办公室"
    resumed = c.text(role, "resume", title=ITEM)
    return (
        bool(replies)
        and any(department in m.text for m in replies)
        and not any(resumed in m.text for m in replies)
    )


def item_opened(c: Cast, role: str, replies: Replies) -> bool:
    return bool(replies) and ITEM in replies.last.text and bool(replies.last.buttons)


def item_added(c: Cast, role: str, replies: Replies) -> bool:
    return bool(replies) and "第一项进展" in replies.last.text


def cancel_asks(c: Cast, role: str, replies: Replies) -> bool:
    return bool(replies) and bool(replies.last.buttons)


def compiled(c: Cast, role: str, replies: Replies) -> bool:
    return any(m.document is not None for m in replies)


def reminded(c: Cast, role: str, replies: Replies) -> bool:
    refusal = c.text(role, "coordinators_only")
    return bool(replies) and replies.last.text != refusal


def help_for(c: Cast, role: str, replies: Replies) -> bool:
    if role in ("stranger", "revoked"):
        return exactly("help_stranger")(c, role, replies)
    if role == "coordinator":
        shown = [m.text for m in replies]
        return shown == [c.text(role, "help_coordinator") + "\n\n" + c.text(role, "help_roster")]
    department = DEPARTMENT if role == "liaison" else "办公室"
    return exactly("help_liaison", department=department)(c, role, replies)


def whoami(c: Cast, role: str, replies: Replies) -> bool:
    user = c.users[role]
    department = {"liaison": DEPARTMENT, "other": "办公室", "moved": "办公室"}.get(role)
    return exactly(
        "whoami",
        name=user.first_name,
        telegram_id=user.id,
        coordinator=role == "coordinator",
        department=department,
    )(c, role, replies)


def language_set(c: Cast, role: str, replies: Replies) -> bool:
    return [m.text for m in replies] == [parse_html(texts.text("en", "lang_set")).text]


STRANGER, COORDINATORS, LIAISONS = "stranger", "coordinators_only", "liaisons_only"
REVOKED = "revoked"  # a liaison whose access was revoked: told so, politely
ANSWER = "answer:"  # the refusal is the tap's callback answer (an alert), not a message

COMMANDS: list[tuple[str, Act, dict[str, str | Check]]] = [
    ("/start", say("/start"), {
        "stranger": STRANGER, "liaison": greeting, "other": greeting,
        "coordinator": greeting, "moved": greeting, "revoked": REVOKED,
    }),
    ("/report", say("/report"), {
        "stranger": STRANGER, "liaison": report_list, "other": report_list,
        "coordinator": LIAISONS, "moved": report_list, "revoked": REVOKED,
    }),
    ("tap: an item of 组织部", tap_item, {
        "stranger": ANSWER + STRANGER, "liaison": item_opened, "other": "stale_item",
        "coordinator": ANSWER + LIAISONS, "moved": "stale_item", "revoked": ANSWER + REVOKED,
    }),
    ("a progress item", say("第一项进展"), {
        "stranger": STRANGER, "liaison": item_added, "other": "idle_hint",
        "coordinator": "idle_hint", "moved": "idle_hint", "revoked": REVOKED,
    }),
    ("/mute", say("/mute"), {
        "stranger": "not_allowed", "liaison": exactly("mute_done", month=MONTH),
        "other": exactly("mute_done", month=MONTH), "coordinator": "not_allowed",
        "moved": exactly("mute_done", month=MONTH), "revoked": "not_allowed",
    }),
    ("/cancel", say("/cancel"), {
        "stranger": STRANGER, "liaison": cancel_asks, "other": exactly("nothing_to_cancel"),
        "coordinator": LIAISONS, "moved": exactly("nothing_to_cancel"), "revoked": REVOKED,
    }),
    ("/invite org", say("/invite org"), {
        "stranger": COORDINATORS, "liaison": COORDINATORS, "other": COORDINATORS,
        "coordinator": has("组织部"), "moved": COORDINATORS, "revoked": COORDINATORS,
    }),
    ("/period", say("/period"), {
        "stranger": STRANGER, "liaison": COORDINATORS, "other": COORDINATORS,
        "coordinator": has(MONTH), "moved": COORDINATORS, "revoked": REVOKED,
    }),
    ("/status", say("/status"), {
        "stranger": STRANGER, "liaison": COORDINATORS, "other": COORDINATORS,
        "coordinator": has(DEPARTMENT), "moved": COORDINATORS, "revoked": REVOKED,
    }),
    ("/compile", say("/compile"), {
        "stranger": STRANGER, "liaison": COORDINATORS, "other": COORDINATORS,
        "coordinator": compiled, "moved": COORDINATORS, "revoked": REVOKED,
    }),
    ("/remind", say("/remind"), {
        "stranger": COORDINATORS, "liaison": COORDINATORS, "other": COORDINATORS,
        "coordinator": reminded, "moved": COORDINATORS, "revoked": COORDINATORS,
    }),
    ("/help", say("/help"), dict.fromkeys(ROLES, help_for)),
    ("/whoami", say("/whoami"), dict.fromkeys(ROLES, whoami)),
    ("/lang", say("/lang"), dict.fromkeys(ROLES, exactly("lang_choose"))),
    ("tap: English", tap_english, dict.fromkeys(ROLES, language_set)),
]  # fmt: skip


async def test_every_command_and_button_for_every_kind_of_user(harness: Harness) -> None:
    c = await cast(harness)
    wrong: dict[tuple[str, str], str] = {}
    cells = 0
    for command, act, expected in COMMANDS:
        for role in ROLES:
            cells += 1
            outcome = expected[role]
            before = snapshot(harness) if isinstance(outcome, str) else None
            replies = await act(c, role)
            if isinstance(outcome, str):
                name = outcome.removeprefix(ANSWER)
                if outcome.startswith(ANSWER):
                    refusal = texts.plain(LANGUAGE[role], name)[:200]
                    answer = replies.answer
                    ok = answer is not None and answer.text == refusal and not replies
                else:
                    ok = [m.text for m in replies] == [c.text(role, name)]
                if ok and snapshot(harness) != before:
                    wrong[command, role] = "refused, but something changed"
                    continue
                shown = replies.answer.text if replies.answer and not replies else replies.texts
            else:
                ok = outcome(c, role, replies)
                shown = replies.texts
            if not ok:
                wrong[command, role] = f"got {shown!r}"
    print(f"command × role table: {cells} cells, {cells - len(wrong)} as the README says")
    assert cells == len(COMMANDS) * len(ROLES) == 90
    listing = "\n".join(f"{command} × {role}: {what}" for (command, role), what in wrong.items())
    assert not wrong, listing
