"""Each update handled once: one Telegram delivers again is acknowledged and ignored.

Telegram repeats an update when it cannot know the bot got it: a getUpdates batch
fetched again after a restart, a webhook request that timed out. Handled twice, a
pasted item would be added twice, a second invite created, an invite redeemed twice
("already used"). Before any handler runs (group -1) the update's id is claimed in the
database (storage/updates.py); a repeated id stops the update there.

The claim is a write, and on SQLite another process's write lock blocks every write:
the claim waits only briefly for it (on an engine of its own,
storage.updates.claims_engine), and if it cannot get it the update is handled anyway
(its id kept in memory, so a repeat in this process is still caught) and the id written
when the lock is free. Waiting the full lock bound would hold up a user's read-only
/whoami behind someone else's lock.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes

from handlers.common import Services, in_db_thread, services
from storage import updates
from storage.db import is_busy
from storage.models import utcnow

log = logging.getLogger(__name__)

CLAIM_WAIT = 0.1  # seconds a claim waits for SQLite's write lock
RECENT = 10_000  # update ids remembered in memory
RECORD_ATTEMPTS = 3  # tries to write the ids that could not be claimed in time


class HandledOnce:
    """The claims of one Application: the recent ids in memory, the database for the rest."""

    def __init__(self, app: Application) -> None:  # type: ignore[type-arg]
        self.app = app
        self.recent: dict[int, None] = {}  # insertion-ordered: the oldest go first
        self.unrecorded: set[int] = set()
        self.recording = False
        self.claims: Engine | None = None

    def close(self) -> None:
        if self.claims is not None and self.claims is not self.app.bot_data["services"].engine:
            self.claims.dispose()
        self.claims = None

    def _remember(self, update_id: int) -> bool:
        """False if this process has seen the id already."""
        if update_id in self.recent:
            return False
        self.recent[update_id] = None
        if len(self.recent) > RECENT:
            del self.recent[next(iter(self.recent))]
        return True

    async def first_time(self, svc: Services, update_id: int) -> bool:
        if not self._remember(update_id):
            return False
        if self.claims is None:
            self.claims = updates.claims_engine(svc.engine, CLAIM_WAIT)
        try:
            return await in_db_thread(
                svc, lambda db: updates.claim(db, update_id, now=utcnow()), self.claims
            )
        except OperationalError as exc:
            if not is_busy(exc):
                raise
            log.info("update %s: database busy, handled now and recorded later", update_id)
            self.unrecorded.add(update_id)
            if not self.recording:
                self.recording = True
                self.app.create_task(self._record(svc), name="huibao-record-updates")
            return True

    async def _record(self, svc: Services) -> None:
        try:
            for _ in range(RECORD_ATTEMPTS):
                batch = set(self.unrecorded)
                try:
                    await in_db_thread(svc, functools.partial(_record_all, batch))
                except OperationalError as exc:
                    if not is_busy(exc):
                        raise
                    continue
                self.unrecorded -= batch
                if not self.unrecorded:
                    return
            log.warning("could not record %d handled updates", len(self.unrecorded))
            self.unrecorded.clear()
        finally:
            self.recording = False


def _record_all(update_ids: Iterable[int], db: Session) -> int:
    return updates.record(db, update_ids, now=utcnow())


def handled_once(app: Application) -> HandledOnce:  # type: ignore[type-arg]
    svc: Services = app.bot_data["services"]
    if svc.handled_once is None:
        svc.handled_once = HandledOnce(app)
    return svc.handled_once


async def skip_repeated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Group -1: stop an update whose id was handled already."""
    svc = services(context)
    if not await handled_once(context.application).first_time(svc, update.update_id):
        log.info("update %s delivered again: ignored", update.update_id)
        raise ApplicationHandlerStop


async def prune_handled(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A job: forget the update ids older than storage.updates.KEEP."""
    try:
        gone = await in_db_thread(services(context), lambda db: updates.prune(db, now=utcnow()))
    except OperationalError as exc:
        if not is_busy(exc):
            raise
        log.info("pruning handled updates: database busy, next time")
        return
    if gone:
        log.info("forgot %d handled updates", gone)
