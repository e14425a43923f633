"""The README's "Who does what" matrix, cell by cell: every command and button × every kind
of user, buttons tapped with the data of an old message or data forged for another
department's item or another role's action. Allowed: it does its thing. Not allowed: the
polite refusal, in the user's language, and no table changes. And the README's matrix says
what this table tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.core import texts
from bot.core.people import PersonRole
from bot.core.roster import roster_toml
from bot.double import FakeUser, Replies, SentMessage, parse_html
from handlers.buttons import DIGEST_LENGTH
from storage.db import session_scope
from storage.models import (
    AuditEvent,
    ConversationState,
    Coordinator,
    Department,
    Invite,
    Liaison,
    Organisation,
    Period,
    PeriodItem,
    PeriodOwner,
    Prompt,
    ReminderLog,
    ReminderMute,
    Submission,
    SubmissionRevision,
    UserPreference,
    WorkItem,
    WorkItemDepartment,
    table_of,
)
from storage.prompts_roster import digest_of
from storage.roster import current_roster
from tests.harness import Harness
from tests.test_report import DONE, SUBMIT, open_month, start_item

# The roles of the README's matrix, and variants of a liaison and an approver: "other" is a
# liaison of another department (办公室), "moved" a liaison who moved from 组织部 to 办公室,
# "other_approver" an approver of 办公室. The department's approver comes last: in a row
# whose allowed action changes state (approving), everyone else has been refused already.
ROLES = (
    "stranger", "liaison", "other", "other_approver", "coordinator", "moved", "revoked",
    "approver",
)  # fmt: skip
MATRIX_ROLES = ("stranger", "liaison", "approver", "coordinator", "revoked")  # the README's
LANGUAGE = {  # each kind of user reads their own language
    "stranger": "en",
    "liaison": "zh-CN",
    "other": "en",
    "other_approver": "en",
    "coordinator": "zh-CN",
    "moved": "zh-CN",
    "revoked": "zh-CN",
    "approver": "zh-CN",
}
DEPARTMENT = "组织部"  # the liaison's department ("org"); "other" and "moved" are in 办公室
OFFICE = "办公室"
ITEM = "团干部队伍建设"  # a key work item of 组织部 only
HANDED_IN = "基层服务型团组织建设"  # 组织部's, submitted before 组织部 had an approver
PENDING = "团的制度建设"  # 组织部's, submitted since: it waits for the approver
ADDED_ITEM = "新增测试工作"  # added by /item add, retired by its ro:x button
ADDED_DEPT = "新闻中心"  # added by /dept add
FILE_DEPT = "档案室"  # the department the roster file adds
NEW_COORDINATOR = (9200, "周新")  # added by /coordinators add, removed by its pp:C button
MONTH = "2015-10"


@dataclass
class Cast:
    harness: Harness
    users: dict[str, FakeUser]
    item_data: str  # the org item's button: rp:o:<period>:<item>
    period_id: int
    org_id: int
    handed_in: tuple[int, int]  # 组织部's submitted submission: (id, version)
    pending: tuple[int, int]  # 组织部's submission waiting for approval: (id, version)
    spare_id: int  # a liaison of 办公室 (Liaison.id) whom the pp:V button revokes
    roster_text: str | None = None  # the roster file the coordinator sends, made once

    def text(self, role: str, text: str, /, **values: object) -> str:
        """The text as the user sees it in the chat."""
        return parse_html(texts.text(LANGUAGE[role], text, **values)).text

    def department_of(self, role: str) -> str:
        return DEPARTMENT if role in ("liaison", "approver") else OFFICE


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


# Every table a command could change (the inbox, the delivery bookkeeping, aside).
SNAPSHOT_TABLES = (
    Invite,
    Liaison,
    Coordinator,
    Submission,
    SubmissionRevision,
    ReminderMute,
    ReminderLog,
    Period,
    PeriodItem,
    PeriodOwner,
    UserPreference,
    Organisation,
    Department,
    WorkItem,
    WorkItemDepartment,
    AuditEvent,
    Prompt,
)


def snapshot(harness: Harness) -> tuple[object, ...]:
    """What a refused command must leave as it was."""
    with session_scope(harness.engine) as db:

        def rows(model: type) -> list[tuple[object, ...]]:
            table = table_of(model)
            found = db.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            return [tuple(r) for r in found]

        return (*(rows(model) for model in SNAPSHOT_TABLES), conversations(db))


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


async def hand_in(liaison: FakeUser, title: str) -> None:
    """The liaison submits the item through the bot (a progress item, a plan item)."""
    await start_item(liaison, title)
    await liaison.send("开展专题培训")
    await liaison.tap(DONE)
    await liaison.send("继续培训")
    await liaison.tap(DONE)
    await liaison.tap(SUBMIT)


def submission_of(db: Session, period_id: int, title: str, department_id: int) -> Submission:
    item = db.exec(select(WorkItem).where(WorkItem.title == title)).one()
    return db.exec(
        select(Submission).where(
            Submission.period_id == period_id,
            Submission.work_item_id == item.id,
            Submission.department_id == department_id,
        )
    ).one()


async def cast(harness: Harness) -> Cast:
    open_month(harness)
    coordinator = harness.coordinator()
    await coordinator.send("/start")
    stranger = harness.double.user(9101, "Visitor", language_code="en")
    await stranger.send("/start")
    liaison = await harness.liaison("org", 9102, "王芳")
    await hand_in(liaison, HANDED_IN)  # counts at once: 组织部 has no approver yet
    approver = await harness.liaison("org", 9106, "赵局", role=PersonRole.APPROVER)
    await hand_in(liaison, PENDING)  # waits for the approver
    other = await harness.liaison("office", 9103, "Alex", language_code="en")
    other_approver = await harness.liaison(
        "office", 9107, "Morgan", language_code="en", role=PersonRole.APPROVER
    )
    moved = await harness.liaison("org", 9104, "刘洋")
    await start_item(moved, ITEM)  # a draft in the old department
    await moved.send("调动前写的一项")
    await moved.send(f"/start {harness.invite_token('office')}")
    revoked = await harness.liaison("org", 9105, "陈静")
    spare = await harness.liaison("office", 9108, "孙丽")
    with session_scope(harness.engine) as db:
        gone = db.exec(select(Liaison).where(Liaison.telegram_id == revoked.id)).one()
        gone.active = False
        db.add(gone)
        period = db.exec(select(Period).where(Period.month == MONTH)).one()
        item = db.exec(select(WorkItem).where(WorkItem.title == ITEM)).one()
        org = db.exec(select(Department).where(Department.code == "org")).one()
        assert period.id is not None and org.id is not None
        handed = submission_of(db, period.id, HANDED_IN, org.id)
        pending = submission_of(db, period.id, PENDING, org.id)
        assert (handed.status, pending.status) == ("submitted", "pending")
        spare_id = db.exec(select(Liaison).where(Liaison.telegram_id == spare.id)).one().id
        assert spare_id is not None
        found = Cast(
            harness,
            {},
            f"rp:o:{period.id}:{item.id}",
            period.id,
            org.id,
            (handed.id or 0, handed.version),
            (pending.id or 0, pending.version),
            spare_id,
        )
    found.users = {
        "stranger": stranger,
        "liaison": liaison,
        "other": other,
        "other_approver": other_approver,
        "coordinator": coordinator,
        "moved": moved,
        "revoked": revoked,
        "approver": approver,
    }
    return found


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


APPROVERS = ("approver", "other_approver")


def greeting(c: Cast, role: str, replies: Replies) -> bool:
    user = c.users[role]
    if role == "coordinator":
        return exactly("welcome_coordinator", name=user.first_name)(c, role, replies)
    welcome = "welcome_approver" if role in APPROVERS else "welcome_liaison"
    department = c.department_of(role)
    return exactly(welcome, name=user.first_name, department=department)(c, role, replies)


def report_list(c: Cast, role: str, replies: Replies) -> bool:
    department = c.department_of(role)
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


def charted(c: Cast, role: str, replies: Replies) -> bool:
    return any(m.kind == "photo" for m in replies)


def reminded(c: Cast, role: str, replies: Replies) -> bool:
    refusal = c.text(role, "coordinators_only")
    return bool(replies) and replies.last.text != refusal


def help_for(c: Cast, role: str, replies: Replies) -> bool:
    if role in ("stranger", "revoked"):
        return exactly("help_stranger")(c, role, replies)
    if role == "coordinator":
        shown = [m.text for m in replies]
        return shown == [c.text(role, "help_coordinator") + "\n\n" + c.text(role, "help_roster")]
    helped = "help_approver" if role in APPROVERS else "help_liaison"
    return exactly(helped, department=c.department_of(role))(c, role, replies)


def whoami(c: Cast, role: str, replies: Replies) -> bool:
    user = c.users[role]
    department = None if role in ("stranger", "coordinator", "revoked") else c.department_of(role)
    return exactly(
        "whoami_approver" if role in APPROVERS else "whoami",
        name=user.first_name,
        telegram_id=user.id,
        coordinator=role == "coordinator",
        department=department,
    )(c, role, replies)


def language_set(c: Cast, role: str, replies: Replies) -> bool:
    return [m.text for m in replies] == [parse_html(texts.text("en", "lang_set")).text]


def anywhere(*parts: str) -> Check:
    """Every part is somewhere in what the user got."""

    def check(c: Cast, role: str, replies: Replies) -> bool:
        shown = "\n".join(replies.texts)
        return bool(replies) and all(p in shown for p in parts)

    return check


def with_buttons(*parts: str) -> Check:
    return lambda c, role, replies: (
        anywhere(*parts)(c, role, replies) and bool(replies.last.buttons)
    )


def says(text: str, /, **values: object) -> Check:
    """The last message is this text (a tap's new text for the message tapped)."""
    return lambda c, role, replies: (
        bool(replies) and replies.last.text == c.text(role, text, **values)
    )


def answered(text: str) -> Check:
    """The tap's answer (an alert) is this text, and nothing else is sent."""
    return lambda c, role, replies: (
        replies.answer is not None
        and replies.answer.text == texts.plain(LANGUAGE[role], text)[:200]
        and not replies
    )


def and_then(check: Check, done: Callable[[Session, Cast], bool]) -> Check:
    """The check, and the change the action made is in the database."""

    def both(c: Cast, role: str, replies: Replies) -> bool:
        with session_scope(c.harness.engine) as db:
            changed = done(db, c)
        return changed and check(c, role, replies)

    return both


def approved(db: Session, c: Cast) -> bool:
    submission = db.get(Submission, c.pending[0])
    return submission is not None and submission.status == "submitted"


def file_applied(db: Session, c: Cast) -> bool:
    return db.exec(select(Department).where(Department.name == FILE_DEPT)).first() is not None


def item_retired(db: Session, c: Cast) -> bool:
    return not db.exec(select(WorkItem).where(WorkItem.title == ADDED_ITEM)).one().active


def spare_revoked(db: Session, c: Cast) -> bool:
    spare = db.get(Liaison, c.spare_id)
    return spare is not None and not spare.active


def coordinator_removed(db: Session, c: Cast) -> bool:
    found = select(Coordinator).where(Coordinator.telegram_id == NEW_COORDINATOR[0])
    return not db.exec(found).one().active


def tap(data: Callable[[Cast], str]) -> Act:
    """A tap with this data on the user's latest message (forged, or an old button)."""

    async def act(c: Cast, role: str) -> Replies:
        return await tap_data(c.users[role], c.harness, data(c))

    return act


def one_id(c: Cast, model: type[Coordinator] | type[WorkItem], *where: object) -> int:
    with session_scope(c.harness.engine) as db:
        found = db.exec(select(model).where(*where)).one()  # type: ignore[arg-type]
        return int(found.id or 0)


def new_coordinator(c: Cast) -> int:
    return one_id(c, Coordinator, Coordinator.telegram_id == NEW_COORDINATOR[0])


def added_item(c: Cast) -> int:
    return one_id(c, WorkItem, WorkItem.title == ADDED_ITEM)


def roster_file(c: Cast) -> str:
    """The roster as it is when the file is first sent, plus a department."""
    if c.roster_text is None:
        with session_scope(c.harness.engine) as db:
            text = roster_toml(current_roster(db))
        c.roster_text = text + f'\n[[departments]]\ncode = "archive"\nname = "{FILE_DEPT}"\n'
    return c.roster_text


def digest(c: Cast) -> str:
    return digest_of(roster_file(c))[:DIGEST_LENGTH]


async def send_file(c: Cast, role: str) -> Replies:
    return await c.users[role].send_document(roster_file(c).encode("utf-8"), "roster.toml")


async def apply_file(c: Cast, role: str) -> Replies:
    """✅ under a preview. The coordinator's earlier preview was discarded (the ro:c row),
    so they send the file again first; everyone else taps at once (refused)."""
    if role == "coordinator":
        await send_file(c, role)
    return await tap_data(c.users[role], c.harness, f"ro:a:{digest(c)}")


STRANGER, COORDINATORS, LIAISONS = "stranger", "coordinators_only", "liaisons_only"
APPROVERS_ONLY, RETURN_REFUSED = "approvers_only", "return_refused"
REVOKED = "revoked"  # a liaison whose access was revoked: told so, politely
ANSWER = "answer:"  # the refusal is the tap's callback answer (an alert), not a message
Cells = dict[str, str | Check]


def console(check: Check, *, answer: str = "") -> Cells:
    """A coordinator's (/status and the like): strangers and the revoked are told who
    they are, everyone else that it is for coordinators; `answer`: ANSWER for a tap."""
    cells: Cells = dict.fromkeys(ROLES, answer + COORDINATORS)
    return {**cells, "stranger": answer + STRANGER, "revoked": answer + REVOKED,
            "coordinator": check}  # fmt: skip


def roster_edit(check: Check, *, answer: str = "") -> Cells:
    """Changing the roster (private chats only, and these are): as `console`."""
    return console(check, answer=answer)


def returners(
    coordinator: Check | str, approver: Check | str, refused: str = "return_refused"
) -> Cells:
    """Who may return or read a submission's history: a coordinator, and the department's
    approver (not another department's); everyone else is refused on the tap."""
    cells: Cells = dict.fromkeys(ROLES, ANSWER + refused)
    return {**cells, "coordinator": coordinator, "approver": approver}


def readers(own: Check, office: Check | str, coordinator: Check, *, answer: str = "") -> Cells:
    """Who may read a department's past reports (/history): its liaisons and approver, and
    a coordinator; `office`: what 办公室's people get (their own list, or for 组织部's button
    the refusal)."""
    cells: Cells = dict.fromkeys(("other", "other_approver", "moved"), office)
    return {**cells, "stranger": answer + STRANGER, "revoked": answer + REVOKED,
            "liaison": own, "approver": own, "coordinator": coordinator}  # fmt: skip


def handed_in_item(c: Cast) -> int:
    return one_id(c, WorkItem, WorkItem.title == HANDED_IN)


def approvers(check: Check, other: Check | str, *, answer: str = "") -> Cells:
    cells: Cells = dict.fromkeys(ROLES, answer + APPROVERS_ONLY)
    return {**cells, "stranger": answer + STRANGER, "revoked": answer + REVOKED,
            "approver": check, "other_approver": other}  # fmt: skip


# The rows run in this order, each for every role in ROLES' order, and an allowed action
# stays done, so the order is part of the table: the roster and people taps come after the
# commands that make what they act on (/coordinators add, /item add, the roster file); the
# review taps, which leave a "type the reason" question open, after every row that sends a
# text; the approval last of the rows about the pending version; the language last of all.
# The label is the README matrix's row (test_the_readme_matrix_says_what_the_table_tests).
COMMANDS: list[tuple[str, Act, Cells]] = [
    ("/start", say("/start"), {
        "stranger": STRANGER, "liaison": greeting, "other": greeting,
        "other_approver": greeting, "coordinator": greeting, "moved": greeting,
        "revoked": REVOKED, "approver": greeting,
    }),
    ("/report", say("/report"), {
        "stranger": STRANGER, "liaison": report_list, "other": report_list,
        "other_approver": LIAISONS, "coordinator": LIAISONS, "moved": report_list,
        "revoked": REVOKED, "approver": LIAISONS,
    }),
    ("a key work item (rp:o)", tap_item, {
        "stranger": ANSWER + STRANGER, "liaison": item_opened, "other": "stale_item",
        "other_approver": ANSWER + LIAISONS, "coordinator": ANSWER + LIAISONS,
        "moved": "stale_item", "revoked": ANSWER + REVOKED, "approver": ANSWER + LIAISONS,
    }),
    ("a progress or plan item (text)", say("第一项进展"), {
        "stranger": STRANGER, "liaison": item_added, "other": "idle_hint",
        "other_approver": "idle_hint", "coordinator": "idle_hint", "moved": "idle_hint",
        "revoked": REVOKED, "approver": "idle_hint",
    }),
    ("/mute", say("/mute"), {
        "stranger": "not_allowed", "liaison": exactly("mute_done", month=MONTH),
        "other": exactly("mute_done", month=MONTH),
        "other_approver": exactly("mute_done", month=MONTH),
        "coordinator": "not_allowed", "moved": exactly("mute_done", month=MONTH),
        "revoked": "not_allowed", "approver": exactly("mute_done", month=MONTH),
    }),
    ("/cancel", say("/cancel"), {
        "stranger": STRANGER, "liaison": cancel_asks, "other": exactly("nothing_to_cancel"),
        "other_approver": LIAISONS, "coordinator": LIAISONS,
        "moved": exactly("nothing_to_cancel"), "revoked": REVOKED, "approver": LIAISONS,
    }),
    ("/invite DEPT [approver]", say("/invite org"), console(has("组织部"))),
    ("/period", say("/period"), console(has(MONTH))),
    ("/calendar", say("/calendar 2026"), console(has("国庆节", "调休上班"))),
    ("/status [YYYY-MM]", say("/status"), console(has(DEPARTMENT))),
    ("/compile [YYYY-MM]", say("/compile"), console(compiled)),
    ("/compile RANGE", say("/compile 2015-Q4"), console(compiled)),
    ("/stats [RANGE]", say("/stats"), console(charted)),
    ("/remind", say("/remind"), console(reminded)),
    ("/help", say("/help"), dict.fromkeys(ROLES, help_for)),
    ("/whoami", say("/whoami"), dict.fromkeys(ROLES, whoami)),
    ("/pending", say("/pending"), approvers(anywhere(PENDING), exactly("pending_none"))),
    ("/show DEPT [YYYY-MM]", say("/show org"), console(anywhere(DEPARTMENT, HANDED_IN))),
    ("/history [DEPT] [ITEM]", say("/history"),
        readers(with_buttons(HANDED_IN), with_buttons("团的制度建设"),
                anywhere("/history office 1", "org"))),
    ("🕘 历月报送 an item or a page (hi:)", tap(lambda c: f"hi:{c.org_id}:{handed_in_item(c)}"),
        readers(anywhere(HANDED_IN, "开展专题培训"), ANSWER + "hist_not_yours",
                anywhere(HANDED_IN, "开展专题培训"), answer=ANSWER)),
    ("/liaisons", say("/liaisons"), console(anywhere("王芳", "孙丽", "赵局"))),
    ("/coordinators", say("/coordinators"), console(anywhere("李明"))),
    ("/coordinators add ID NAME", say("/coordinators add 9200 周新"),
        console(anywhere(NEW_COORDINATOR[1]))),
    ("/items", say("/items"), roster_edit(anywhere(ITEM, PENDING))),
    ("/item …", say(f"/item add {ADDED_ITEM} | org"), roster_edit(anywhere(ADDED_ITEM))),
    ("/depts", say("/depts"), roster_edit(anywhere("org", "office"))),
    ("/dept …", say(f"/dept add press {ADDED_DEPT}"), roster_edit(anywhere(ADDED_DEPT))),
    ("/roster", say("/roster"), roster_edit(compiled)),
    ("a roster file (.toml)", send_file, roster_edit(with_buttons(FILE_DEPT))),
    # The preview's ✖️ first (it discards the kept file), then its ✅ (see apply_file).
    ("✖️ 取消 a roster file (ro:c)", tap(lambda c: f"ro:c:{digest(c)}"),
        roster_edit(says("roster_file_cancelled"), answer=ANSWER)),
    ("✅ 应用 a roster file (ro:a)", apply_file,
        roster_edit(and_then(anywhere(FILE_DEPT), file_applied), answer=ANSWER)),
    ("✅ 仍然停用 an item (ro:x)", tap(lambda c: f"ro:x:{added_item(c)}"),
        roster_edit(and_then(anywhere(ADDED_ITEM), item_retired), answer=ANSWER)),
    ("✖️ 不停用 (ro:n)", tap(lambda c: "ro:n"),
        roster_edit(says("roster_kept"), answer=ANSWER)),
    # No summary table was sent: a coordinator's (old) ✅ imports nothing and says so.
    ("✅ 导入 a summary table (im:a)", tap(lambda c: "im:a:" + "0" * 16),
        roster_edit(answered("import_stale"), answer=ANSWER)),
    # 孙丽, a liaison of 办公室 cast only for this, loses her access in the second row.
    ("🚫 收回 a liaison or approver (pp:v)", tap(lambda c: f"pp:v:{c.spare_id}"),
        console(with_buttons("孙丽"), answer=ANSWER)),
    ("确定 收回 (pp:V)", tap(lambda c: f"pp:V:{c.spare_id}"),
        console(and_then(anywhere("孙丽"), spare_revoked), answer=ANSWER)),
    ("➕ 邀请接替者 (pp:i)", tap(lambda c: f"pp:i:{c.org_id}:approver"),
        console(anywhere("https://t.me/"), answer=ANSWER)),
    # 周新, added by /coordinators add above, is removed in the second row.
    ("🚫 移除 a coordinator (pp:c)", tap(lambda c: f"pp:c:{new_coordinator(c)}"),
        console(with_buttons("周新"), answer=ANSWER)),
    ("确定 移除 (pp:C)", tap(lambda c: f"pp:C:{new_coordinator(c)}"),
        console(and_then(anywhere("周新"), coordinator_removed), answer=ANSWER)),
    ("取消 on a confirmation (pp:x)", tap(lambda c: "pp:x"),
        console(says("people_cancelled"), answer=ANSWER)),
    ("📄 查看 a department (rv:s)", tap(lambda c: f"rv:s:{c.period_id}:{c.org_id}"),
        console(anywhere(DEPARTMENT, HANDED_IN), answer=ANSWER)),
    ("🕘 历史 (rv:h)", tap(lambda c: f"rv:h:{c.handed_in[0]}"),
        returners(anywhere(HANDED_IN), anywhere(HANDED_IN), "history_refused")),
    # A version that counts already: a coordinator's to return; the approver's no longer.
    ("↩️ return a version that counts (rv:r)",
        tap(lambda c: "rv:r:{}:{}".format(*c.handed_in)),
        returners(anywhere(HANDED_IN), ANSWER + RETURN_REFUSED)),
    ("↩️ 退回 a pending version (rv:r)", tap(lambda c: "rv:r:{}:{}".format(*c.pending)),
        returners(anywhere(PENDING), anywhere(PENDING))),
    ("↩️ 全部退回 (rv:R)",
        tap(lambda c: f"rv:R:{c.period_id}:{c.org_id}"),
        returners(anywhere(DEPARTMENT), ANSWER + RETURN_REFUSED)),
    # The approval makes the pending version count: the last row about it.
    ("✅ 通过 (rv:a)", tap(lambda c: "rv:a:{}:{}".format(*c.pending)),
        approvers(and_then(anywhere(PENDING), approved), ANSWER + APPROVERS_ONLY, answer=ANSWER)),
    ("made-up data (zz:0)", tap(lambda c: "zz:0"), dict.fromkeys(ROLES, ANSWER + "stale_button")),
    # Last of all: the tap makes everyone read English from then on.
    ("/lang", say("/lang"), dict.fromkeys(ROLES, exactly("lang_choose"))),
    ("中文 / English (lang:)", tap_english, dict.fromkeys(ROLES, language_set)),
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
    assert cells == len(COMMANDS) * len(ROLES)
    listing = "\n".join(f"{command} × {role}: {what}" for (command, role), what in wrong.items())
    assert not wrong, listing


# --- the README's matrix ----------------------------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"
MATRIX_HEAD = "| command or button |"
ALLOWED, REFUSED = "✅", "—"


def readme_matrix() -> tuple[list[str], dict[str, list[str]]]:
    """The README's "Who does what" matrix: its role columns, and each row's cells by the
    row's label (backticks dropped); the group rows (bold labels) are left out."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(MATRIX_HEAD))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    head, rows = table[0], table[2:]
    found: dict[str, list[str]] = {}
    for label, *cells in rows:
        if label.startswith("**"):
            continue
        name = label.replace("`", "")
        assert name not in found, f"the README's matrix has {name!r} twice"
        found[name] = cells
    return head[1:], found


def test_the_readme_matrix_says_what_the_table_tests() -> None:
    roles, rows = readme_matrix()
    assert tuple(roles) == MATRIX_ROLES
    assert sorted(rows) == sorted(command for command, _, _ in COMMANDS)
    wrong = []
    for command, _, expected in COMMANDS:
        for role, cell in zip(MATRIX_ROLES, rows[command], strict=True):
            assert cell.startswith((ALLOWED, REFUSED)), f"{command} × {role}: {cell!r}"
            allowed = not isinstance(expected[role], str)
            if cell.startswith(ALLOWED) != allowed:
                wrong.append(f"{command} × {role}: README {cell!r}, the test allows: {allowed}")
    assert not wrong, "\n".join(wrong)
