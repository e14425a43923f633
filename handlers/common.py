"""What every handler needs: the services, who is writing, in which language, whether
they may, and replies.

A handler gets its sender one way: `with_db(update, context, work)` runs `work(db, sender)`
in a database thread. `sender.refused(NEEDS)` is the one role check: the text name of the
refusal (the table below says who may use what), or None."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from telegram import Document, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.core import texts
from bot.core.audit import Actor
from bot.settings import Settings
from storage.db import in_thread, session_scope
from storage.models import utcnow
from storage.people import Identity, identify_sender, not_seen_lately, seen
from storage.reminder_log import set_unreachable

if TYPE_CHECKING:
    from handlers.inbox import Inbox

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Services:
    """Shared by all handlers; kept in application.bot_data["services"]."""

    settings: Settings
    engine: Engine
    bot_username: str = ""
    now: Callable[[], datetime] = utcnow  # tests replace the clock
    inbox: Inbox | None = None  # this process's worker of the inbox (handlers/inbox.py)
    # The threads database work runs in (bot/app.py sizes them to the connection pool);
    # None: asyncio's default executor.
    database: Executor | None = None


async def in_db_thread(
    svc: Services, work: Callable[[Session], T], engine: Engine | None = None
) -> T:
    """Run `work` in one transaction in a database thread (on `engine`, by default the
    bot's); the event loop goes on meanwhile."""
    return await in_thread(svc.database, engine or svc.engine, work)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found: Services = context.application.bot_data["services"]
    return found


@contextmanager
def session(context: ContextTypes.DEFAULT_TYPE) -> Iterator[Session]:
    with session_scope(services(context).engine) as db:
        yield db


class Role(Enum):
    LIAISON = "liaison"
    APPROVER = "approver"
    BOUND = "bound"  # a liaison or an approver: someone reminders go to
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Needs:
    """Who may use a command or button, and the text names everyone else reads."""

    role: Role
    refusal: str
    stranger: str | None = None  # what a stranger reads instead of `refusal`
    stranger_in_groups: bool = True  # False: in a group a stranger reads `refusal` too
    private: bool = False  # only in a private chat: elsewhere everyone reads "private_only"


# Who may use what (the README's "Who does what"), and what the others read.
COORDINATORS = Needs(Role.COORDINATOR, "coordinators_only", stranger="stranger")  # /invite /remind
CONSOLE = Needs(  # /status, /compile, /period: in a private chat or a group
    Role.COORDINATOR, "coordinators_only", stranger="stranger", stranger_in_groups=False
)
LIAISONS = Needs(Role.LIAISON, "liaisons_only", stranger="stranger")  # /cancel
REPORTING = Needs(Role.LIAISON, "liaisons_only", stranger="stranger", private=True)  # /report
MUTING = Needs(Role.BOUND, "not_allowed")  # /mute: liaisons and approvers
APPROVERS = Needs(Role.APPROVER, "approvers_only", stranger="stranger")  # approve / return
ROSTER_EDITS = Needs(  # /items /item /depts /dept /roster, a roster file
    Role.COORDINATOR, "coordinators_only", stranger="stranger", private=True
)


@dataclass(frozen=True)
class Who:
    """The sender of an update: their identity and language, and where they write from."""

    identity: Identity
    language: str
    name: str
    tz: ZoneInfo  # the organisation's
    private: bool  # in a private chat with the bot

    def text(self, name: str, /, **values: Any) -> str:
        return texts.text(self.language, name, **values)

    def plain(self, name: str, /, **values: Any) -> str:
        return texts.plain(self.language, name, **values)

    @property
    def actor(self) -> Actor:
        """The sender as the audit trail names them: by the roster's name, if it has one."""
        identity = self.identity
        known = identity.coordinator or identity.liaison
        return Actor(identity.telegram_id, known.name if known is not None else self.name)

    def is_a(self, role: Role) -> bool:
        return _HAS_ROLE[role](self.identity)

    def refused(self, needs: Needs) -> str | None:
        """Why this sender may not do it here, as the text name to answer with, or None."""
        if needs.private and not self.private:
            return "private_only"
        if self.is_a(needs.role):
            return None
        stranger_here = self.private or needs.stranger_in_groups
        if needs.stranger is not None and self.identity.is_stranger and stranger_here:
            return "revoked" if self.identity.revoked else needs.stranger
        return needs.refusal


_HAS_ROLE: dict[Role, Callable[[Identity], bool]] = {
    Role.LIAISON: lambda identity: identity.is_liaison,
    Role.APPROVER: lambda identity: identity.is_approver,
    Role.BOUND: lambda identity: identity.is_liaison or identity.is_approver,
    Role.COORDINATOR: lambda identity: identity.is_coordinator,
}


async def with_db(
    update: Update, context: ContextTypes.DEFAULT_TYPE, work: Callable[[Session, Who], T]
) -> T:
    """Run one handler's database work, in one transaction, in a worker thread.

    The event loop never waits for the database: a slow statement or a lock held by
    another process holds up only the user whose update needs it. `work` gets the
    session and the sender; it must not await (it runs outside the loop).
    """

    svc = services(context)
    senders: list[Who] = []

    def job(db: Session) -> T:
        sender = who(update, db)
        senders.append(sender)
        back_in_reach(db, sender)
        return work(db, sender)

    done = await in_db_thread(svc, job)
    if senders and not_seen_lately(senders[0].identity, svc.now()):
        context.application.create_task(_note_seen(svc, senders[0].identity))
    return done


async def _note_seen(svc: Services, identity: Identity) -> None:
    """When a liaison or approver last wrote (/liaisons), written after the answer and
    apart from it: a reader must not wait for the write lock, and a busy database only
    delays the note to their next message."""
    try:
        await in_db_thread(svc, lambda db: seen(db, identity, svc.now()))
    except OperationalError as exc:
        log.info("last seen not noted (database busy): %s", exc)


class Refusal(Exception):
    """The work stops here with this answer to the user, before it changed anything."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


def require(sender: Who, needs: Needs) -> None:
    """Raises the refusal when this sender may not do it here (for `with_db_or_refusal`)."""
    refusal = sender.refused(needs)
    if refusal is not None:
        raise Refusal(sender.text(refusal))


async def with_db_or_refusal(
    update: Update, context: ContextTypes.DEFAULT_TYPE, work: Callable[[Session, Who], T]
) -> T | None:
    """`with_db`, where the work may raise `Refusal`: the refusal is the answer in the
    chat, and None comes back."""

    def answering(db: Session, sender: Who) -> T | Refusal:
        try:
            return work(db, sender)
        except Refusal as refusal:
            return refusal

    done = await with_db(update, context, answering)
    if isinstance(done, Refusal):
        await reply(update, done.answer)
        return None
    return done


def who(update: Update, db: Session) -> Who:
    """The update's sender, read (never written)."""
    user = update.effective_user
    assert user is not None
    identity, chosen, zone = identify_sender(db, user.id)
    language = texts.reader_language(chosen, user.language_code)
    return Who(identity, language, user.full_name, ZoneInfo(zone), is_private(update))


def back_in_reach(db: Session, sender: Who) -> None:
    """Writing to the bot proves a liaison marked unreachable (blocked it) unblocked it:
    reminders go to them again. Every update passes here (with_db)."""
    liaison = sender.identity.liaison
    if liaison is not None and liaison.unreachable and sender.private:
        set_unreachable(db, sender.identity.telegram_id, False)
        log.info("liaison %s is reachable again", sender.identity.telegram_id)


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def reply(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer in the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, reply_markup=markup)


async def download(document: Document) -> bytes | None:
    """A file a user sent, or None when Telegram would not give it (gone, too large)."""
    try:
        file = await document.get_file()
        return bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.info("file not downloaded: %s", exc.message)
        return None


JobCallback = Callable[[ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def repeat(app: Application, job: JobCallback, *, every: float, job_id: str) -> bool:  # type: ignore[type-arg]
    """Run `job` now and then every `every` seconds, one run at a time; False without a
    job queue. The stable id makes a second call replace the job instead of adding one;
    the explicit first run time makes it run at once even before the scheduler starts
    (post_init), where an interval trigger would wait a whole interval. A run missed
    while the loop was busy is run late, once (coalesce), never skipped."""
    if app.job_queue is None:
        return False
    app.job_queue.run_repeating(
        job,
        interval=every,
        name=job_id,
        job_kwargs={
            "id": job_id,
            "replace_existing": True,
            "next_run_time": datetime.now(UTC),
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": None,
        },
    )
    return True
