"""Updates through the inbox (storage/inbox.py): stored before Telegram is told they
arrived, handled from the database one sender at a time, marked handled with their work.

Polling: python-telegram-bot's Updater puts each update of a batch into `update_queue`
and then asks for the next batch, which confirms this one to Telegram. `InboxQueue.put`
holds the update; `PollingRequest`, the getUpdates client, stores the batch held in one
transaction (`Inbox.flush`) before it asks. Webhook (bot/webhook.py): `Inbox.receive`
stores the update before the 200. Either way only the worker holding the sender's lease
puts the update into the Application's queue; `InboxApplication.process_update` then
finishes it (together with the others finished meanwhile: `Inbox.finish`), and the
sender's next waiting update, if any, is put next.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Generator
from datetime import timedelta
from http import HTTPStatus
from typing import Any, TypeVar

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes
from telegram.request import BaseRequest, RequestData

from bot.ordering import PerUserOrder
from handlers.common import Services, in_db_thread, services
from handlers.events import EventLog
from storage import inbox
from storage.inbox import HANDLING, Handling, Waiting

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_FIRST, RETRY_MOST = 0.2, 5.0  # seconds between tries while the database is down
SWEEP_INTERVAL = 2.0  # seconds: updates of a worker that is gone are taken over this soon


def sender_of(update: Update) -> str:
    """Whose updates must be handled one after the other: the user's, else the chat's;
    an update of neither is on its own."""
    key = PerUserOrder.key(update)
    return f"update:{update.update_id}" if key is None else f"{key[0]}:{key[1]}"


class Inbox:
    """This process's worker: receives, hands over to the Application, finishes."""

    def __init__(self, svc: Services, queue: asyncio.Queue[object], bot: Any) -> None:
        self.svc = svc
        self.queue = queue
        self.bot = bot
        self.worker = 0
        self.alive: Connection | None = None  # PostgreSQL: holds the worker's lock
        self.queued: dict[int, str] = {}  # update id -> sender: put and not finished
        self.on_repeat: Callable[[int], None] | None = None  # tests count repeats
        self.on_workers: Callable[[int], None] | None = None  # how many processes run
        self.stopping = False  # let_go: nothing more is put into the Application's queue
        self.held: list[Update] = []  # polling: the batch received, stored by `flush`
        self.bodies: dict[int, str] = {}  # polling: the batch's raw JSON, by update id
        self.finishing: list[tuple[inbox.Done, asyncio.Future[Waiting | None]]] = []
        self.finisher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Register as a worker, then hand over whatever waits: updates received before
        a crash come before anything received now (a sender's later ones wait behind
        the lease taken here)."""
        self.worker, self.alive = await asyncio.to_thread(inbox.register, self.svc.engine)
        await self.sweep()

    def let_go(self) -> None:
        """Stopping: the updates queued and not started stay in the inbox for the next
        start (or another process) instead of holding up the stop until all are handled
        (python-telegram-bot's stop waits for its queue to empty)."""
        self.stopping = True
        left = 0
        while not self.queue.empty():
            self.queue.get_nowait()
            self.queue.task_done()
            left += 1
        if left:
            log.info("stopping: %d updates left in the inbox for the next start", left)

    def close(self) -> None:
        if self.alive is not None:
            inbox.retire(self.alive)
            self.alive = None

    async def _db(self, work: Callable[[Session], Any]) -> Any:
        return await in_db_thread(self.svc, work)

    async def receive(self, update: Update, body: str | None = None) -> bool:
        """Store the update (raises if the database fails: nothing is confirmed then);
        False for a repeated delivery."""
        (new,) = await self._store([(update, body)])
        return new

    async def _store(self, updates: list[tuple[Update, str | None]]) -> list[bool]:
        arrivals = [
            inbox.Arrival(u.update_id, sender_of(u), body if body is not None else u.to_json())
            for u, body in updates
        ]
        receipts = await self._db(
            lambda db: inbox.receive_many(db, arrivals, worker=self.worker, now=self.svc.now())
        )
        for (update, _), arrival, receipt in zip(updates, arrivals, receipts, strict=True):
            if receipt.new:
                self._hand_over(receipt.next, arrival.sender, update)
                continue
            log.info("update %s delivered again: ignored", update.update_id)
            if self.on_repeat is not None:
                self.on_repeat(update.update_id)
        return [receipt.new for receipt in receipts]

    def hold(self, update: Update) -> None:
        """Polling: keep an update of the batch just received until `flush`."""
        self.held.append(update)

    def keep_bodies(self, payload: bytes) -> None:
        """The raw JSON of the updates of a getUpdates answer, stored as Telegram sent
        them (cheaper than turning the parsed objects back into JSON)."""
        try:
            found = json.loads(payload).get("result")
        except (ValueError, AttributeError):
            return
        if isinstance(found, list):
            for item in found:
                if isinstance(item, dict) and isinstance(item.get("update_id"), int):
                    self.bodies[item["update_id"]] = json.dumps(item, ensure_ascii=False)

    async def flush(self) -> None:
        """Store the updates held (the batch received last), retried while the database
        fails, before the next getUpdates confirms them to Telegram: one transaction
        for the whole batch."""
        if self.held:
            batch = [(update, self.bodies.get(update.update_id)) for update in self.held]
            await _patiently(lambda: self._store(batch), f"store {len(batch)} updates")
            self.held.clear()
        self.bodies.clear()

    def _hand_over(self, waiting: Waiting | None, sender: str, received: Update | None) -> None:
        if waiting is None or waiting.update_id in self.queued or self.stopping:
            return  # nothing for this worker, on its way already, or left for the next start
        if received is not None and received.update_id == waiting.update_id:
            update = received
        else:
            update = Update.de_json(json.loads(waiting.body), self.bot)
        self.queued[waiting.update_id] = sender
        self.queue.put_nowait(update)  # asyncio's own: not stored again

    async def answering(self) -> None:
        """Before the bot answers the update being handled (bot/pacing.py): mark it
        handled, if its work has not, so that a crash right after the answer does not
        handle it, and answer it, again. Best effort: if the mark fails, finish marks."""
        handling = HANDLING.get()
        if handling is None or handling.marked:
            return
        mark = functools.partial(inbox.mark, update_id=handling.update_id, now=self.svc.now())
        token = HANDLING.set(None)  # the mark is no work of the update's
        try:
            await self._db(mark)
            handling.marked = True
        except SQLAlchemyError as exc:
            log.info("update %s: not marked before its answer (%s)", handling.update_id, exc)
        finally:
            HANDLING.reset(token)

    async def finish(self, update: Update, handling: Handling) -> None:
        """The update was handled: finished together with the others handled meanwhile
        (one transaction for all), then the sender's next waiting update handed over."""
        sender = sender_of(update)
        done = inbox.Done(update.update_id, sender, handling.marked)
        finished = asyncio.get_running_loop().create_future()
        self.finishing.append((done, finished))
        if self.finisher is None or self.finisher.done():
            self.finisher = asyncio.create_task(self._finish_all())
        waiting: Waiting | None = await finished
        self.queued.pop(update.update_id, None)
        self._hand_over(waiting, sender, None)

    async def _finish_all(self) -> None:
        while self.finishing:
            batch, self.finishing = self.finishing, []
            try:
                found = await self._finish_batch([item for item, _ in batch])
            except asyncio.CancelledError:
                for _, finished in batch + self.finishing:
                    finished.cancel()
                raise
            except Exception as exc:  # each finish of the batch hears of it
                for _, finished in batch:
                    if not finished.done():
                        finished.set_exception(exc)
                continue
            for item, finished in batch:
                if not finished.done():
                    finished.set_result(found.get(item.sender))

    async def _finish_batch(self, done: list[inbox.Done]) -> dict[str, Waiting]:
        found: dict[str, Waiting] = await _patiently(
            lambda: self._db(
                lambda db: inbox.finish_many(db, done, worker=self.worker, now=self.svc.now())
            ),
            f"finish {len(done)} updates",
        )
        return found

    async def sweep(self) -> None:
        """Take over the senders whose updates wait with no live worker on them: after a
        restart, or when another process died. Count the processes, for their pacing."""
        senders, workers = await self._db(
            lambda db: (inbox.waiting_senders(db), inbox.live_workers(db))
        )
        if self.on_workers is not None:
            self.on_workers(workers)
        busy = set(self.queued.values())
        for sender in senders:
            if sender in busy:
                continue
            take = functools.partial(
                inbox.take, sender=sender, worker=self.worker, now=self.svc.now(), mine_too=True
            )
            waiting = await self._db(take)
            self._hand_over(waiting, sender, None)


async def _patiently(attempt: Callable[[], Awaitable[T]], what: str) -> T:
    """`attempt`, again after a growing pause while the database fails: an update must
    be stored before it is confirmed, and finished before its sender's next one."""
    pause = RETRY_FIRST
    while True:
        try:
            return await attempt()
        except SQLAlchemyError as exc:
            log.warning("could not %s (%s); retrying", what, exc)
        await asyncio.sleep(pause)
        pause = min(pause * 2, RETRY_MOST)


class InboxQueue(asyncio.Queue[object]):
    """The Application's update queue, whose `put` (the Updater's, per update) stores
    the update in the inbox first; the inbox puts what is to be handled with put_nowait."""

    inbox: Inbox | None = None

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and self.inbox is not None:
            self.inbox.hold(item)  # stored before the next getUpdates (PollingRequest)
        else:  # the Application's stop signal, or no inbox yet
            await super().put(item)


class PollingRequest(BaseRequest):
    """The getUpdates client around the Bot API client `inner`: before it asks for the
    next batch, which confirms the last one to Telegram, the inbox stores the last one
    (`Inbox.flush`); from each answer it keeps the updates' raw JSON."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner
        self.inbox: Inbox | None = None

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self.inbox is not None:
            await self.inbox.flush()
        status, payload = await self.inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if self.inbox is not None and status == HTTPStatus.OK:
            self.inbox.keep_bodies(payload)
        return status, payload


class InboxApplication(EventLog):
    """process_update, then the inbox's finish: handled is marked (by the work's own
    commit if it wrote, else here) and the sender's next update handed over."""

    async def process_update(self, update: object) -> None:
        found = self.bot_data.get("services")
        worker = found.inbox if isinstance(found, Services) else None
        if not isinstance(update, Update) or not isinstance(worker, Inbox):
            await super().process_update(update)
            return
        handling = Handling(update.update_id)
        token = HANDLING.set(handling)
        try:
            await super().process_update(update)
        finally:
            HANDLING.reset(token)
        await worker.finish(update, handling)

    def create_task(
        self,
        coroutine: Generator[asyncio.Future[object], None, T] | Awaitable[T],
        update: object | None = None,
        *,
        name: str | None = None,
    ) -> asyncio.Task[T]:
        """A task started while an update is handled (the last-seen note, a fan-out) is no
        part of its work: its commits must not mark the update handled."""
        token = HANDLING.set(None)
        try:
            return super().create_task(coroutine, update, name=name)
        finally:
            HANDLING.reset(token)


def inbox_of(app: Any) -> Inbox:
    found: Inbox = app.bot_data["services"].inbox
    return found


async def sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A job: take over updates left by a worker that is gone."""
    try:
        await inbox_of(context.application).sweep()
    except SQLAlchemyError as exc:
        log.info("inbox sweep: database unavailable (%s), next time", exc)


async def prune(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A job: forget the updates handled more than INBOX_KEEP_DAYS ago."""
    svc = services(context)
    keep = svc.settings.inbox_keep_days
    try:
        gone = await in_db_thread(
            svc, lambda db: inbox.prune(db, now=svc.now(), keep=timedelta(days=keep))
        )
    except SQLAlchemyError as exc:
        log.info("pruning the inbox: database unavailable (%s), next time", exc)
        return
    if gone:
        log.info("forgot %d handled updates", gone)
