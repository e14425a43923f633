"""The Bot API test double: an aiohttp server on loopback speaking the Telegram Bot API.

Runs in the test's own event loop. Every request is validated against the vendored spec
(:mod:`bot.double.spec`); Telegram's limits are enforced; state (chats, messages, files,
commands, updates) is kept in memory and exposed to tests. Users act through
:mod:`bot.double.driver`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import mimetypes
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from .html import HtmlParseError, ParsedText, parse_html, utf16_len
from .models import (
    Call,
    CallbackAnswer,
    DocumentInfo,
    Replies,
    SentMessage,
    Stats,
    StoredFile,
    Totals,
    Violation,
)
from .spec import ApiError, InputFileValue, bad_request, load_spec, validate_params

if TYPE_CHECKING:
    from .driver import FakeGroup, FakeUser

DEFAULT_TOKEN = "123456:TEST-token"
BOT_ID = 7000001
BOT_USERNAME = "huibao_test_bot"
BOT_FIRST_NAME = "Huibao Test"

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
CALLBACK_ANSWER_LIMIT = 200
MAX_BUTTONS = 100
MAX_BUTTONS_PER_ROW = 8
UPLOAD_LIMIT = 50 * 1024 * 1024
# sendPhoto: at most 10 MB, width + height at most 10000, the longer side at most 20 times
# the shorter (the Bot API's sendPhoto documentation).
PHOTO_BYTES, PHOTO_SIDES, PHOTO_RATIO = 10 * 1024 * 1024, 10_000, 20
_PNG = b"\x89PNG\r\n\x1a\n"

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"

DEFAULT_QUIET = 0.15  # seconds without a request that mean "settled" when untracked
SETTLE_POLL = 0.005  # seconds between looks at what ends unannounced (tasks, quiet spells)
BUSY_TURNS = 4  # event-loop turns to let a finished update's task end before polling

# process-wide counters; a conftest may print str(TOTALS) at session end
TOTALS = Totals()

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_LEADING_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
# media fields a generic send* method stores, keyed by the method's media parameter
_MEDIA_PARAMS = ("photo", "audio", "video", "voice", "animation", "sticker", "video_note")

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass
class UserState:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh-hans"
    is_bot: bool = False
    blocked: bool = False

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        return d


@dataclass
class ChatState:
    id: int
    type: str  # "private" or "group"
    title: str | None = None
    user: UserState | None = None
    known: bool = False  # the bot may send here (user wrote to the bot / bot is in group)
    bot_member: bool = True
    next_message_id: int = 1
    messages: dict[int, SentMessage] = field(default_factory=dict)
    user_messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    touches: list[int] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    flood_tokens: float = 3.0
    flood_updated: float = 0.0
    minute_sends: deque[float] = field(default_factory=deque)

    def new_message_id(self) -> int:
        mid = self.next_message_id
        self.next_message_id += 1
        return mid

    def to_json(self) -> dict[str, Any]:
        if self.type == "private" and self.user is not None:
            d: dict[str, Any] = {
                "id": self.id,
                "type": "private",
                "first_name": self.user.first_name,
            }
            if self.user.last_name:
                d["last_name"] = self.user.last_name
            if self.user.username:
                d["username"] = self.user.username
            return d
        return {"id": self.id, "type": self.type, "title": self.title or str(self.id)}


@dataclass
class Injection:
    method: str
    status: int
    retry_after: int
    times: int
    chat_id: int | str | None
    description: str | None

    def error(self) -> ApiError:
        if self.status == 429:
            return ApiError(
                429,
                self.description or f"Too Many Requests: retry after {self.retry_after}",
                parameters={"retry_after": self.retry_after},
                violation=False,
            )
        default = {
            400: "Bad Request",
            401: "Unauthorized",
            403: BLOCKED,
            404: "Not Found",
            409: "Conflict",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
            504: "Gateway Timeout",
        }.get(self.status, "Error")
        return ApiError(self.status, self.description or default, violation=False)


@dataclass
class QueryState:
    chat_id: int
    message_id: int
    answered: bool = False
    answer: CallbackAnswer | None = None


class _Bucket:
    def __init__(self, capacity: float, rate: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = time.monotonic()

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


def _json_safe(value: Any) -> Any:
    if isinstance(value, InputFileValue):
        return f"<file {value.filename!r} {len(value.content)} bytes>"
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _error_response(err: ApiError) -> web.Response:
    return web.json_response(err.payload(), status=err.status)


class BotApiDouble:
    """An in-process fake of api.telegram.org for end-to-end tests."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        flood_limits: bool = False,
        bot_id: int = BOT_ID,
        bot_username: str = BOT_USERNAME,
        bot_first_name: str = BOT_FIRST_NAME,
        host: str = "127.0.0.1",
        expect_violations: bool = False,
    ) -> None:
        self.token = token
        # tests that provoke violations on purpose: count them apart in TOTALS
        self.expect_violations = expect_violations
        self.flood_limits = flood_limits
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.host = host
        self.port = 0
        self.calls: list[Call] = []
        # Called with each request as it is recorded: benchmarks and tests that watch
        # the bot's answers (benchmarks/load.py, tests/crash_office.py).
        self.observers: list[Callable[[Call], None]] = []
        self.violations: list[Violation] = []
        self.stats = Stats()
        self.files: dict[str, StoredFile] = {}
        self.webhook_errors: list[str] = []
        self._chats: dict[int, ChatState] = {}
        self._fake_users: dict[int, FakeUser] = {}
        self._fake_groups: dict[int, FakeGroup] = {}
        self._commands: dict[tuple[str, int | None, int | None, str], list[tuple[str, str]]] = {}
        self._injections: list[Injection] = []
        self._queries: dict[str, QueryState] = {}
        self._pending: list[dict[str, Any]] = []
        self._queued: dict[int, dict[str, Any]] = {}  # every update ever queued, by id
        self._undelivered: set[int] = set()
        self._next_update_id = 100_000_001
        self._file_seq = itertools.count(1)
        self._query_seq = itertools.count(1)
        self._allowed_updates: list[str] | None = None
        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_override: tuple[str, str | None] | None = None
        self._webhook_wakeup = asyncio.Event()
        self._webhook_task: asyncio.Task[None] | None = None
        self._client: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self._cond: asyncio.Condition | None = None
        self._poll_generation = 0
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._changed = asyncio.Event()  # set whenever what settle() waits for may have changed
        # Set by a harness that runs the bot in this process (track_handling): the updates
        # handed to the bot whose handling has not finished, and a probe for the bot's
        # background work. With them settle() knows the bot is done instead of inferring it
        # from a quiet spell, which a loaded machine can stretch.
        # update id -> deliveries not handled (below zero while a webhook's answer, sent
        # after the bot handled the update, is still on its way back to the double)
        self._unhandled: Counter[int] | None = None
        self._bot_busy: Callable[[], bool] = lambda: False
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._global_bucket = _Bucket(30, 30)
        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendChatAction": self._send_chat_action,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "close": self._true,
            "logOut": self._true,
        }
        for name in (
            "sendPhoto",
            "sendAudio",
            "sendVideo",
            "sendVoice",
            "sendAnimation",
            "sendSticker",
            "sendVideoNote",
        ):
            self._handlers[name] = self._send_media

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._cond = asyncio.Condition()
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        await self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiDouble:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder().base_url(): PTB appends the token."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def api_url(self) -> str:
        """base_url with the token, for raw requests: f"{double.api_url}/getMe"."""
        return f"{self.base_url}{self.token}"

    # ------------------------------------------------------------------ test-facing API

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        language_code: str | None = "zh-hans",
        username: str | None = None,
        started: bool = False,
    ) -> FakeUser:
        """A user whose private chat id equals ``user_id``; the bot can write to them once
        they have written to the bot (or with ``started=True``)."""
        from .driver import FakeUser

        if user_id in self._fake_users:
            return self._fake_users[user_id]
        if user_id <= 0:
            raise ValueError("user ids must be positive")
        state = UserState(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self._chats[user_id] = ChatState(id=user_id, type="private", user=state, known=started)
        fake = FakeUser(self, state)
        self._fake_users[user_id] = fake
        return fake

    def group(self, chat_id: int, title: str) -> FakeGroup:
        """A group (negative id) the bot is a member of."""
        from .driver import FakeGroup

        if chat_id in self._fake_groups:
            return self._fake_groups[chat_id]
        if chat_id >= 0:
            raise ValueError("group chat ids must be negative")
        self._chats[chat_id] = ChatState(id=chat_id, type="group", title=title, known=True)
        fake = FakeGroup(self, chat_id, title)
        self._fake_groups[chat_id] = fake
        return fake

    def chat(self, chat_id: int) -> ChatState:
        if chat_id not in self._chats:
            raise KeyError(f"the double knows no chat {chat_id}")
        return self._chats[chat_id]

    def messages_in(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """The bot's messages in a chat, oldest first, in their current state."""
        chat = self.chat(chat_id)
        return [
            m for m in chat.messages.values() if m.from_bot and (include_deleted or not m.deleted)
        ]

    def commands(
        self,
        scope_type: str = "default",
        chat_id: int | None = None,
        user_id: int | None = None,
        language_code: str = "",
    ) -> list[tuple[str, str]]:
        """The commands last set with setMyCommands for a scope ([] if none)."""
        return list(self._commands.get((scope_type, chat_id, user_id, language_code), []))

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def inject(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int = 1,
        times: int = 1,
        chat_id: int | str | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (optionally only to ``chat_id``) fail
        with ``status``: 429 (with retry_after), 403 (blocked), 500, 502, ..."""
        self._injections.append(
            Injection(method.lower(), status, retry_after, times, chat_id, description)
        )

    def webhook_target(self, url: str, secret: str | None = None) -> None:
        """Deliver webhook updates to ``url`` (e.g. the bot's local listener) instead of the
        URL given to setWebhook; ``secret`` overrides the X-Telegram-Bot-Api-Secret-Token."""
        self._webhook_override = (url, secret)
        self._webhook_wakeup.set()

    @property
    def webhook_url(self) -> str:
        return self._webhook_url

    @property
    def unanswered_callback_queries(self) -> list[str]:
        return [qid for qid, q in self._queries.items() if not q.answered]

    def clear_violations(self) -> list[Violation]:
        found, self.violations = self.violations, []
        return found

    def register_file(
        self, content: bytes, file_name: str | None, mime_type: str | None, kind: str
    ) -> StoredFile:
        n = next(self._file_seq)
        ext = ""
        if file_name and "." in file_name:
            ext = file_name.rsplit(".", 1)[1]
        elif mime_type:
            ext = (mimetypes.guess_extension(mime_type) or "").lstrip(".")
        path = f"{kind}s/file_{n}" + (f".{ext}" if ext else "")
        stored = StoredFile(
            file_id=f"{kind.upper()}-{n:06d}-{BOT_ID}",
            file_unique_id=f"U{n:06d}",
            content=content,
            file_path=path,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def queue_update(self, body: dict[str, Any], *, deliveries: int = 1) -> int:
        """Queue an update (body without update_id); return its update_id. With
        ``deliveries=2`` the same update (same update_id) is delivered twice, as Telegram
        does when it cannot know the bot got it (a getUpdates batch fetched again, a
        webhook request that timed out)."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self._queued[update_id] = {"update_id": update_id, **body}
        for _ in range(deliveries):
            self._pending.append(dict(self._queued[update_id]))
        self._undelivered.add(update_id)
        self._activity()
        self._webhook_wakeup.set()
        task = asyncio.ensure_future(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return update_id

    def reserve_update_id(self) -> int:
        """An update id no queued update will have: for an update a test stores itself, as
        a bot that received it and then died would have."""
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    @property
    def last_update_id(self) -> int:
        """The update_id of the update queued last."""
        return self._next_update_id - 1

    def redeliver(self, update_id: int) -> None:
        """Deliver an update queued earlier once more, as Telegram does after a restart
        that came before the bot confirmed it."""
        self._pending.append(dict(self._queued[update_id]))
        self._undelivered.add(update_id)
        self._activity()
        self._webhook_wakeup.set()
        task = asyncio.ensure_future(self._notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def track_handling(self, bot_busy: Callable[[], bool] = lambda: False) -> None:
        """Let settle() know when the bot is done: the harness reports each update it
        finished with handled(), and ``bot_busy()`` tells whether background work is left."""
        self._unhandled = Counter()
        self._bot_busy = bot_busy

    def watch(self, application: Any, busy: Callable[[], bool] = lambda: False) -> None:
        """Track an Application that runs in this process: wrap its (public, overridable)
        ``process_update`` to report each finished update, and ask ``busy()`` for work
        left in background tasks (the default suits handlers that all block)."""
        process_update = application.process_update

        async def process_and_report(update: object) -> None:
            try:
                await process_update(update)
            finally:
                update_id = getattr(update, "update_id", None)
                if isinstance(update_id, int):
                    self.handled(update_id)

        application.process_update = process_and_report
        self.track_handling(busy)

    @property
    def tracked(self) -> bool:
        """Whether a harness reports handled updates (track_handling)."""
        return self._unhandled is not None

    def handled(self, update_id: int) -> None:
        """The bot finished with one delivery of the update (a repeated one included)."""
        self._count_delivery(update_id, -1)
        self._activity()

    def forget_unhandled(self) -> None:
        """The bot stopped: updates it fetched but did not handle never will be."""
        if self._unhandled is not None:
            self._unhandled.clear()
            self._activity()

    def _delivered(self, update_id: int) -> None:
        self._undelivered.discard(update_id)
        self._count_delivery(update_id, +1)

    def _count_delivery(self, update_id: int, change: int) -> None:
        if self._unhandled is None:
            return
        left = self._unhandled[update_id] + change
        if left:
            self._unhandled[update_id] = left
        else:
            del self._unhandled[update_id]

    def _handling(self) -> list[int]:
        """The updates handed to the bot that it has not finished with."""
        return sorted(u for u, left in (self._unhandled or {}).items() if left > 0)

    def _activity(self) -> None:
        """A request, a delivery or a handled update: note when, and wake settle()."""
        self._last_activity = time.monotonic()
        self._changed.set()

    def _settled(self, quiet: float) -> bool:
        if self._undelivered or self._inflight:
            return False
        if self._unhandled is not None:
            return not self._handling() and not self._bot_busy()
        return time.monotonic() - self._last_activity >= quiet

    def _not_settled(self, timeout: float) -> TimeoutError:
        if self._undelivered:
            return TimeoutError(
                f"the bot did not fetch updates {sorted(self._undelivered)} within "
                f"{timeout}s (is the Application running and polling?)"
            )
        return TimeoutError(
            f"the bot did not settle within {timeout}s ({self._inflight} requests "
            f"in flight, updates {self._handling()} not handled)"
        )

    async def settle(self, quiet: float = DEFAULT_QUIET, timeout: float = 10.0) -> None:
        """Wait until the bot fetched every queued update and is done with them.

        Tracked (track_handling), done is an event: every delivery handled, no background
        task left, no request in flight; ``quiet`` is not used. Untracked, the double can
        only infer it from ``quiet`` seconds without a request."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._settled(quiet):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise self._not_settled(timeout)
            self._changed.clear()
            if self.tracked and not (self._undelivered or self._inflight or self._handling()):
                # A task ends a few loop turns after its update was handled, unannounced.
                for _ in range(BUSY_TURNS):
                    await asyncio.sleep(0)
                if self._settled(quiet):
                    return
            # Background tasks and a quiet spell end without a signal: look again soon.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, SETTLE_POLL))

    async def act(
        self,
        chat_id: int,
        body: dict[str, Any],
        *,
        quiet: float = DEFAULT_QUIET,
        timeout: float = 10.0,
        deliveries: int = 1,
    ) -> Replies:
        """Queue an update (``deliveries`` times, see queue_update), settle, and return the
        bot's messages sent or edited in the chat meanwhile (current state, first-touch
        order; deleted ones left out)."""
        chat = self.chat(chat_id)
        start = len(chat.touches)
        self.queue_update(body, deliveries=deliveries)
        await self.settle(quiet=quiet, timeout=timeout)
        if not self.tracked:
            # Untracked, a handler on a loaded machine can stay silent longer than `quiet`
            # before its first reply: wait a little longer for one before concluding none.
            deadline = time.monotonic() + min(timeout, 3.0)
            while len(chat.touches) == start and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            if len(chat.touches) > start:
                await self.settle(quiet=quiet, timeout=timeout)
        seen: dict[int, None] = {}
        for mid in chat.touches[start:]:
            seen.setdefault(mid, None)
        return Replies(
            chat.messages[mid]
            for mid in seen
            if mid in chat.messages and not chat.messages[mid].deleted
        )

    def user_message(
        self,
        chat_id: int,
        sender: UserState,
        fields: dict[str, Any],
        reply_to: SentMessage | None = None,
    ) -> dict[str, Any]:
        """Record a message a user writes in a chat and return its Telegram JSON."""
        chat = self.chat(chat_id)
        if chat.type == "private":
            chat.known = True
            sender.blocked = False
        msg: dict[str, Any] = {
            "message_id": chat.new_message_id(),
            "from": sender.to_json(),
            "chat": chat.to_json(),
            "date": int(time.time()),
            **fields,
        }
        text = fields.get("text")
        if isinstance(text, str):
            m = _LEADING_COMMAND_RE.match(text)
            if m:
                msg["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))}
                ]
        if reply_to is not None:
            msg["reply_to_message"] = self.message_json(reply_to)
        chat.user_messages[msg["message_id"]] = msg
        return msg

    def new_callback_query(self, sender: UserState, message: SentMessage, data: str) -> str:
        qid = f"{sender.id}{next(self._query_seq):08d}"
        self._queries[qid] = QueryState(chat_id=message.chat_id, message_id=message.message_id)
        return qid

    def tap_update(
        self, sender: UserState, message: SentMessage, data: str
    ) -> tuple[str, dict[str, Any]]:
        """A tap by `sender` on the button of `message` with callback `data`: the new
        callback query's id and the update's body to queue."""
        qid = self.new_callback_query(sender, message, data)
        query = {
            "id": qid,
            "from": sender.to_json(),
            "message": self.message_json(message),
            "chat_instance": str(message.chat_id * 31 + self.bot_id),
            "data": data,
        }
        return qid, {"callback_query": query}

    def callback_query_chat(self, query_id: str) -> int | None:
        """The chat of the message whose button made the callback query."""
        query = self._queries.get(query_id)
        return None if query is None else query.chat_id

    def callback_answer(self, query_id: str) -> CallbackAnswer | None:
        q = self._queries.get(query_id)
        return None if q is None else q.answer

    def bot_user_json(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def message_json(self, msg: SentMessage) -> dict[str, Any]:
        chat = self.chat(msg.chat_id)
        d: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": self.bot_user_json(),
            "chat": chat.to_json(),
            "date": msg.date,
        }
        if msg.kind == "text":
            d["text"] = msg.text
            if msg.entities:
                d["entities"] = msg.entities
        else:
            if msg.media is not None:
                d[msg.kind] = msg.media
            if msg.caption:
                d["caption"] = msg.caption
                if msg.caption_entities:
                    d["caption_entities"] = msg.caption_entities
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            d["reply_markup"] = msg.reply_markup
        if msg.edit_date is not None:
            d["edit_date"] = msg.edit_date
        if msg.reply_to_message_id is not None:
            original = chat.user_messages.get(msg.reply_to_message_id)
            if original is not None:
                d["reply_to_message"] = original
        return d

    # ------------------------------------------------------------------ HTTP plumbing

    async def _notify(self) -> None:
        if self._cond is None:
            return
        async with self._cond:
            self._cond.notify_all()

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, InputFileValue]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, InputFileValue] = {}
        if not request.can_read_body:
            return raw, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON request body must be an object")
            raw.update({k: v for k, v in body.items() if v is not None})
            return raw, files
        post = await request.post()
        for key, value in post.items():
            if isinstance(value, web.FileField):
                files[key] = InputFileValue(
                    filename=value.filename or key,
                    content=value.file.read(),
                    content_type=value.content_type,
                )
            elif isinstance(value, str):
                raw[key] = value
            else:  # bytes
                raw[key] = value.decode("utf-8")
        return raw, files

    def _take_injection(self, method: str, params: dict[str, Any]) -> Injection | None:
        for inj in self._injections:
            if inj.method != method.lower():
                continue
            if inj.chat_id is not None and str(params.get("chat_id")) != str(inj.chat_id):
                continue
            inj.times -= 1
            if inj.times <= 0:
                self._injections.remove(inj)
            return inj
        return None

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        status: int,
        err: ApiError | None,
        injected: bool = False,
    ) -> None:
        safe = _json_safe(params)
        call = Call(
            method=method,
            params=safe,
            status=status,
            description=None if err is None else err.description,
            injected=injected,
            time=time.monotonic(),
        )
        self.calls.append(call)
        for observe in self.observers:
            observe(call)
        if err is not None and not injected and 400 <= status < 500 and err.violation:
            self.violations.append(Violation(method, err.description, safe, status))
            if self.expect_violations:
                TOTALS.expected_violations += 1
            else:
                TOTALS.violations += 1

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method_name = request.match_info["method"]
        self.stats.requests += 1
        TOTALS.requests += 1
        raw: dict[str, Any] = {}
        spec = load_spec().method(method_name)
        is_poll = spec is not None and spec.name == "getUpdates"
        if not is_poll:
            self._inflight += 1
            self._activity()
        try:
            if request.match_info["token"] != self.token:
                err = ApiError(401, "Unauthorized")
                self._record(method_name, {}, 401, err)
                return _error_response(err)
            if spec is None:
                err = ApiError(404, "Not Found")
                self._record(method_name, {}, 404, err)
                return _error_response(err)
            try:
                raw, files = await self._read_params(request)
                params = validate_params(spec, raw, files)
                injection = self._take_injection(spec.name, params)
                if injection is not None:
                    err = injection.error()
                    self._record(spec.name, params, err.status, err, injected=True)
                    return _error_response(err)
                handler = self._handlers.get(spec.name, self._true)
                result = await handler(params)
            except ApiError as exc:
                if exc.status == 429:
                    TOTALS.flood_429 += 1
                self._record(spec.name, raw, exc.status, exc)
                return _error_response(exc)
            self._record(spec.name, params, 200, None)
            return web.json_response(
                {"ok": True, "result": result}, dumps=lambda o: json.dumps(o, ensure_ascii=False)
            )
        finally:
            if not is_poll:
                self._inflight -= 1
                self._activity()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        for f in self.files.values():
            if f.file_path == path:
                return web.Response(
                    body=f.content, content_type=f.mime_type or "application/octet-stream"
                )
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    # ------------------------------------------------------------------ helpers

    def _resolve_chat(self, chat_id: Any, *, for_send: bool = True) -> ChatState:
        chat: ChatState | None = None
        if isinstance(chat_id, int):
            chat = self._chats.get(chat_id)
        elif isinstance(chat_id, str):
            if chat_id.lstrip("-").isdigit():
                chat = self._chats.get(int(chat_id))
            elif chat_id.startswith("@"):
                for c in self._chats.values():
                    if c.user is not None and c.user.username == chat_id[1:]:
                        chat = c
        if chat is None or not chat.known:
            # Not a malformed request: the user never wrote to the bot (as on Telegram).
            self.stats.chat_not_found += 1
            raise ApiError(400, "Bad Request: chat not found", violation=False)
        if for_send:
            if chat.user is not None and chat.user.blocked:
                self.stats.forbidden += 1
                raise ApiError(403, BLOCKED, violation=False)
            if not chat.bot_member:
                self.stats.forbidden += 1
                raise ApiError(
                    403, "Forbidden: bot was kicked from the group chat", violation=False
                )
        return chat

    def _flood_check(self, chat: ChatState) -> None:
        if not self.flood_limits:
            return
        now = time.monotonic()
        # per chat: burst of 3, 1 message a second sustained
        if chat.flood_updated == 0.0:
            chat.flood_updated = now
        chat.flood_tokens = min(3.0, chat.flood_tokens + (now - chat.flood_updated))
        chat.flood_updated = now
        waits = [0.0 if chat.flood_tokens >= 1 else 1 - chat.flood_tokens]
        waits.append(self._global_bucket.wait_time(now))
        if chat.id < 0:
            while chat.minute_sends and now - chat.minute_sends[0] >= 60:
                chat.minute_sends.popleft()
            if len(chat.minute_sends) >= 20:
                waits.append(60 - (now - chat.minute_sends[0]))
        wait = max(waits)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            self.stats.flood_429 += 1
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry}",
                parameters={"retry_after": retry},
                violation=False,
            )
        chat.flood_tokens -= 1
        self._global_bucket.take()
        if chat.id < 0:
            chat.minute_sends.append(now)

    def _accepted_send(self) -> None:
        self.stats.send_times.append(time.monotonic())

    @staticmethod
    def _parse_text(
        text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
    ) -> ParsedText:
        if parse_mode is None or parse_mode == "":
            return ParsedText(text=text, entities=list(entities or []))
        mode = parse_mode.lower()
        if mode == "html":
            try:
                return parse_html(text)
            except HtmlParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        if mode in ("markdown", "markdownv2"):
            return ParsedText(text=text)  # not validated by the double
        raise bad_request(f"unsupported parse_mode {parse_mode}")

    def _message_text(self, params: dict[str, Any]) -> ParsedText:
        parsed = self._parse_text(params["text"], params.get("parse_mode"), params.get("entities"))
        if not parsed.text.strip():
            raise bad_request("message text is empty")
        if parsed.length > TEXT_LIMIT:
            raise bad_request("message is too long")
        return parsed

    def _caption(self, params: dict[str, Any]) -> ParsedText | None:
        if "caption" not in params:
            return None
        parsed = self._parse_text(
            params["caption"], params.get("parse_mode"), params.get("caption_entities")
        )
        if parsed.length > CAPTION_LIMIT:
            raise bad_request("message caption is too long")
        return parsed

    @staticmethod
    def _check_markup(markup: dict[str, Any] | None) -> None:
        if not markup:
            return
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if sum(len(r) for r in rows) > MAX_BUTTONS:
                raise bad_request("reply markup is too long")
            for row in rows:
                if len(row) > MAX_BUTTONS_PER_ROW:
                    raise bad_request("too many buttons in a row")
                for b in row:
                    if not str(b.get("text", "")).strip():
                        raise bad_request("BUTTON_TEXT_EMPTY")
                    actions = [a for a in _BUTTON_ACTIONS if a in b]
                    if not actions:
                        raise bad_request(
                            "can't parse inline keyboard button: Text buttons "
                            "are unallowed in the inline keyboard"
                        )
                    if "callback_data" in b:
                        size = len(b["callback_data"].encode("utf-8"))
                        if not 1 <= size <= CALLBACK_DATA_LIMIT:
                            raise bad_request("BUTTON_DATA_INVALID")
                    if "url" in b and not re.match(r"^(https?|tg)://\S+$", b["url"]):
                        raise bad_request(f"inline keyboard button URL '{b['url']}' is invalid")
        elif "keyboard" in markup:
            for row in markup["keyboard"]:
                for b in row:
                    if not str(b.get("text", "")).strip():
                        raise bad_request("BUTTON_TEXT_EMPTY")

    def _check_reply(self, chat: ChatState, params: dict[str, Any]) -> int | None:
        rp = params.get("reply_parameters")
        if not rp:
            return None
        mid = int(rp["message_id"])
        exists = mid in chat.user_messages or (
            mid in chat.messages and not chat.messages[mid].deleted
        )
        if not exists:
            if rp.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return mid

    def _store(self, chat: ChatState, msg: SentMessage) -> SentMessage:
        chat.messages[msg.message_id] = msg
        chat.touches.append(msg.message_id)
        self._accepted_send()
        fake = self._fake_users.get(chat.id)
        if fake is not None and msg.reply_markup is not None:
            fake.note_markup(msg.reply_markup)
        return msg

    def _editable(self, params: dict[str, Any], what: str) -> tuple[ChatState, SentMessage]:
        if "inline_message_id" in params:
            raise bad_request("MESSAGE_ID_INVALID")
        if "chat_id" not in params or "message_id" not in params:
            raise bad_request("message identifier is not specified")
        chat = self._resolve_chat(params["chat_id"], for_send=False)
        mid = params["message_id"]
        if mid in chat.user_messages:
            raise bad_request("message can't be edited")
        msg = chat.messages.get(mid)
        if msg is None or msg.deleted:
            raise bad_request(f"message to {what} not found")
        return chat, msg

    # ------------------------------------------------------------------ methods

    async def _true(self, params: dict[str, Any]) -> Any:
        return True

    async def _get_me(self, params: dict[str, Any]) -> Any:
        return {
            **self.bot_user_json(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_chat(self, params: dict[str, Any]) -> Any:
        chat = self._resolve_chat(params["chat_id"], for_send=False)
        return {
            **chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _available(self, limit: int) -> list[dict[str, Any]]:
        return self._pending[:limit]

    async def _get_updates(self, params: dict[str, Any]) -> Any:
        if self._webhook_url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        assert self._cond is not None
        offset = params.get("offset")
        if isinstance(offset, int):
            if offset < 0:
                self._drop(self._pending[:offset] if -offset < len(self._pending) else [])
            else:
                self._drop([u for u in self._pending if u["update_id"] < offset])
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"]) or None
        limit = max(1, min(100, int(params.get("limit", 100))))
        timeout = max(0, int(params.get("timeout", 0)))
        self._poll_generation += 1
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._cond:
            self._cond.notify_all()  # an older long poll is superseded: it returns []
            while True:
                self._filter_allowed()
                result = self._available(limit)
                if result or self._closing or generation != self._poll_generation:
                    break
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._cond.wait(), remaining)
        if generation != self._poll_generation and not result:
            return []
        for u in result:
            self._delivered(u["update_id"])
        if result:
            self._activity()
        return result

    def _drop(self, updates: list[dict[str, Any]]) -> None:
        ids = {u["update_id"] for u in updates}
        self._pending = [u for u in self._pending if u["update_id"] not in ids]
        self._undelivered -= ids

    def _filter_allowed(self) -> None:
        if not self._allowed_updates:
            return
        allowed = set(self._allowed_updates)
        self._drop(
            [u for u in self._pending if not any(k in allowed for k in u if k != "update_id")]
        )

    async def _set_webhook(self, params: dict[str, Any]) -> Any:
        url = params["url"]
        # Telegram demands HTTPS; plain HTTP is let through for loopback test listeners only
        loopback = url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
        if url and not url.startswith("https://") and not loopback:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._drop(list(self._pending))
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"]) or None
        self._webhook_url = url
        self._webhook_secret = params.get("secret_token")
        if url and self._webhook_task is None:
            self._webhook_task = asyncio.ensure_future(self._webhook_worker())
        self._webhook_wakeup.set()
        await self._notify()
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> Any:
        self._webhook_url = ""
        self._webhook_secret = None
        if params.get("drop_pending_updates"):
            self._drop(list(self._pending))
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook_url:
            info["max_connections"] = 40
            if self._allowed_updates:
                info["allowed_updates"] = self._allowed_updates
        return info

    async def _webhook_worker(self) -> None:
        while True:
            await self._webhook_wakeup.wait()
            self._webhook_wakeup.clear()
            while self._webhook_url and self._pending and not self._closing:
                self._filter_allowed()
                if not self._pending:
                    break
                update = self._pending[0]
                url, secret = self._webhook_override or (self._webhook_url, None)
                secret = secret if secret is not None else self._webhook_secret
                headers = {"Content-Type": "application/json"}
                if secret:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = secret
                if self._client is None:
                    self._client = aiohttp.ClientSession()
                try:
                    async with self._client.post(
                        url, data=json.dumps(update), headers=headers
                    ) as resp:
                        ok = 200 <= resp.status < 300
                        if not ok:
                            self.webhook_errors.append(f"{url}: HTTP {resp.status}")
                except (aiohttp.ClientError, OSError) as exc:
                    ok = False
                    self.webhook_errors.append(f"{url}: {exc!r}")
                if ok:
                    if self._pending and self._pending[0] is update:
                        self._pending.pop(0)
                    self._delivered(update["update_id"])
                    self._activity()
                else:
                    await asyncio.sleep(0.1)

    async def _send_message(self, params: dict[str, Any]) -> Any:
        chat = self._resolve_chat(params["chat_id"])
        parsed = self._message_text(params)
        markup = params.get("reply_markup")
        self._check_markup(markup)
        reply_to = self._check_reply(chat, params)
        self._flood_check(chat)
        msg = SentMessage(
            chat_id=chat.id,
            message_id=chat.new_message_id(),
            date=int(time.time()),
            from_bot=True,
            text=parsed.text,
            html=params["text"],
            entities=parsed.entities,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        return self.message_json(self._store(chat, msg))

    def _upload(self, value: Any, kind: str, chat: ChatState) -> StoredFile:
        if kind == "photo" and isinstance(value, InputFileValue):
            _check_photo(value.content)
        if isinstance(value, InputFileValue):
            if len(value.content) > UPLOAD_LIMIT:
                raise ApiError(413, "Request Entity Too Large")
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(value.filename)[0] or mime
            return self.register_file(value.content, value.filename, mime, kind)
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        raise bad_request("wrong file identifier/HTTP URL specified")

    async def _send_document(self, params: dict[str, Any]) -> Any:
        chat = self._resolve_chat(params["chat_id"])
        caption = self._caption(params)
        markup = params.get("reply_markup")
        self._check_markup(markup)
        reply_to = self._check_reply(chat, params)
        stored = self._upload(params["document"], "document", chat)
        self._flood_check(chat)
        media: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        if stored.file_name:
            media["file_name"] = stored.file_name
        if stored.mime_type:
            media["mime_type"] = stored.mime_type
        msg = SentMessage(
            chat_id=chat.id,
            message_id=chat.new_message_id(),
            date=int(time.time()),
            from_bot=True,
            kind="document",
            media=media,
            caption=None if caption is None else caption.text,
            caption_html=params.get("caption"),
            caption_entities=[] if caption is None else caption.entities,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            document=DocumentInfo(
                filename=stored.file_name or "",
                content=stored.content,
                mime_type=stored.mime_type,
                file_id=stored.file_id,
                caption=None if caption is None else caption.text,
            ),
            reply_to_message_id=reply_to,
        )
        return self.message_json(self._store(chat, msg))

    async def _send_media(self, params: dict[str, Any]) -> Any:
        chat = self._resolve_chat(params["chat_id"])
        caption = self._caption(params)
        markup = params.get("reply_markup")
        self._check_markup(markup)
        reply_to = self._check_reply(chat, params)
        kind = next(k for k in _MEDIA_PARAMS if k in params)
        stored = self._upload(params[kind], kind, chat)
        self._flood_check(chat)
        base = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }
        media: Any
        if kind == "photo":
            width, height = _photo_size(stored.content)
            media = [{**base, "width": width, "height": height}]
        elif kind == "sticker":
            media = {
                **base,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        elif kind in ("video", "animation"):
            media = {**base, "width": 640, "height": 480, "duration": 1}
        elif kind == "video_note":
            media = {**base, "length": 240, "duration": 1}
        else:
            media = {**base, "duration": 1}
        msg = SentMessage(
            chat_id=chat.id,
            message_id=chat.new_message_id(),
            date=int(time.time()),
            from_bot=True,
            kind=kind,
            media=media,
            caption=None if caption is None else caption.text,
            caption_html=params.get("caption"),
            caption_entities=[] if caption is None else caption.entities,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        return self.message_json(self._store(chat, msg))

    def _apply_edit(self, chat: ChatState, msg: SentMessage) -> Any:
        msg.edit_date = int(time.time())
        chat.touches.append(msg.message_id)
        fake = self._fake_users.get(chat.id)
        if fake is not None and msg.reply_markup is not None:
            fake.note_markup(msg.reply_markup)
        return self.message_json(msg)

    async def _edit_message_text(self, params: dict[str, Any]) -> Any:
        chat, msg = self._editable(params, "edit")
        if msg.kind != "text":
            raise bad_request("there is no text in the message to edit")
        parsed = self._message_text(params)
        markup = params.get("reply_markup")
        self._check_markup(markup)
        if (
            parsed.text == msg.text
            and parsed.entities == msg.entities
            and markup == msg.reply_markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        msg.history.append(msg.text)
        msg.text, msg.html, msg.entities = parsed.text, params["text"], parsed.entities
        msg.parse_mode = params.get("parse_mode")
        msg.reply_markup = markup
        return self._apply_edit(chat, msg)

    async def _edit_message_caption(self, params: dict[str, Any]) -> Any:
        chat, msg = self._editable(params, "edit")
        if msg.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        parsed = self._caption(params) or ParsedText(text="")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        if (
            parsed.text == (msg.caption or "")
            and parsed.entities == msg.caption_entities
            and markup == msg.reply_markup
        ):
            raise ApiError(400, NOT_MODIFIED)
        msg.history.append(msg.caption or "")
        msg.caption, msg.caption_html = parsed.text or None, params.get("caption")
        msg.caption_entities = parsed.entities
        msg.reply_markup = markup
        return self._apply_edit(chat, msg)

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> Any:
        chat, msg = self._editable(params, "edit")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        if markup == msg.reply_markup or (not markup and not msg.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        msg.reply_markup = markup
        return self._apply_edit(chat, msg)

    async def _delete_message(self, params: dict[str, Any]) -> Any:
        chat = self._resolve_chat(params["chat_id"], for_send=False)
        mid = params["message_id"]
        if chat.user_messages.pop(mid, None) is not None:
            return True
        msg = chat.messages.get(mid)
        if msg is None or msg.deleted:
            raise bad_request("message to delete not found")
        msg.deleted = True
        chat.touches.append(mid)
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> Any:
        q = self._queries.get(params["callback_query_id"])
        if q is None or q.answered:
            raise bad_request(QUERY_INVALID.removeprefix("Bad Request: "))
        text = params.get("text")
        if text is not None and len(text) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        q.answered = True
        q.answer = CallbackAnswer(
            text=text, show_alert=bool(params.get("show_alert", False)), url=params.get("url")
        )
        return True

    async def _send_chat_action(self, params: dict[str, Any]) -> Any:
        chat = self._resolve_chat(params["chat_id"])
        if params["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.actions.append(params["action"])
        return True

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> tuple[str, int | None, int | None, str]:
        scope = params.get("scope") or {"type": "default"}
        chat_id = scope.get("chat_id")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        lang = params.get("language_code", "")
        if lang and not re.match(r"^[a-z]{2}$", lang):
            raise bad_request("invalid language code specified")
        return (str(scope["type"]), chat_id, scope.get("user_id"), lang)

    async def _set_my_commands(self, params: dict[str, Any]) -> Any:
        key = self._scope_key(params)
        commands = params["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands")
        out: list[tuple[str, str]] = []
        for c in commands:
            if not _COMMAND_RE.match(c["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(c["description"]) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            out.append((c["command"], c["description"]))
        if key[0] in ("chat", "chat_administrators", "chat_member"):
            self._resolve_chat(key[1], for_send=False)
        if out:
            self._commands[key] = out
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> Any:
        key = self._scope_key(params)
        return [{"command": c, "description": d} for c, d in self._commands.get(key, [])]

    async def _delete_my_commands(self, params: dict[str, Any]) -> Any:
        self._commands.pop(self._scope_key(params), None)
        return True

    async def _get_file(self, params: dict[str, Any]) -> Any:
        stored = self.files.get(params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }


def _photo_size(content: bytes) -> tuple[int, int]:
    """A PNG's width and height from its header; other pictures count as 800 × 600."""
    if content.startswith(_PNG) and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    return 800, 600


def _check_photo(content: bytes) -> None:
    """Telegram refuses a photo over 10 MB or of sides it would not show."""
    if len(content) > PHOTO_BYTES:
        raise bad_request("PHOTO_SAVE_FILE_INVALID")
    width, height = _photo_size(content)
    if width + height > PHOTO_SIDES or max(width, height) > PHOTO_RATIO * max(
        min(width, height), 1
    ):
        raise bad_request("PHOTO_INVALID_DIMENSIONS")
