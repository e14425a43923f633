"""Application wiring: build the PTB Application, start-up and shutdown work, run modes."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

from sqlalchemy.engine import Engine
from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

import handlers
from bot.core.texts import TerminalError
from bot.ordering import PerUserOrder
from bot.pacing import PacedRateLimiter
from bot.settings import Settings
from bot.transport import AiohttpRequest
from handlers.backups import start_backups
from handlers.common import Services, repeat, reply, with_db
from handlers.inbox import (
    SWEEP_INTERVAL,
    Inbox,
    InboxApplication,
    InboxQueue,
    PollingRequest,
    inbox_of,
)
from handlers.inbox import prune as prune_inbox
from handlers.inbox import sweep as sweep_inbox
from handlers.menus import set_default_menu
from handlers.reminders import start_reminders
from storage.db import DATABASE_THREADS, is_busy, session_scope
from storage.roster import organisation_zone

log = logging.getLogger(__name__)
POLLING_REQUEST = "polling_request"  # bot_data key: the getUpdates transport, for run()
WEBHOOK_SERVER = "webhook_server"  # bot_data key: the running bot.webhook.Webhook

PRUNE_JOB_ID = "huibao-prune-inbox"
PRUNE_INTERVAL = 3600.0  # seconds
SWEEP_JOB_ID = "huibao-sweep-inbox"


Transport = Callable[..., BaseRequest]  # AiohttpRequest, or PTB's HTTPXRequest to compare


def build_application(
    settings: Settings, engine: Engine, transport: Transport = AiohttpRequest
) -> Application:  # type: ignore[type-arg]
    """The bot as production runs it; tests build the same with another base URL, the
    load benchmark with either Bot API client.

    PTB's default zone (naive times given to the job queue, dates of received messages)
    is the organisation's, as storage.roster.organisation_zone reads it for reminders and
    due times: the roster's zone, else TIMEZONE when the roster was loaded. It is read
    here, at start; the bot's own times are aware UTC and shown in the zone read afresh.
    """
    with session_scope(engine) as db:
        zone = organisation_zone(db)
    app = (
        ApplicationBuilder()
        # Updates stored before Telegram is told, handled from there (handlers/inbox.py);
        # one log line per update (handlers/events.py).
        .application_class(InboxApplication)
        .update_queue(queue := InboxQueue())
        .token(settings.token)
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.bot_api_file_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=zone))
        # Sends paced under Telegram's limits, overall and per chat, before they go out
        # (bot/pacing.py): a burst of replies (every liaison tapping their invite at once)
        # draws no 429, which would halt all of the bot's requests.
        .rate_limiter(PacedRateLimiter())
        .request(transport(connection_pool_size=64))
        # The batch received is stored before the next getUpdates confirms it.
        .get_updates_request(polled := PollingRequest(polling := transport(connection_pool_size=1)))
        # Different users' updates side by side, each user's in order (bot/ordering.py).
        .concurrent_updates(PerUserOrder())
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    svc = Services(
        settings=settings,
        engine=engine,
        database=ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="huibao-db"),
    )
    svc.inbox = queue.inbox = polled.inbox = Inbox(svc, queue, app.bot)
    limiter = app.bot.rate_limiter
    assert isinstance(limiter, PacedRateLimiter)
    limiter.before_answer = svc.inbox.answering
    svc.inbox.on_workers = limiter.share
    app.bot_data["services"] = svc
    app.bot_data[POLLING_REQUEST] = polling
    handlers.register(app)
    app.add_error_handler(_on_error)
    return app


async def _post_init(app: Application) -> None:  # type: ignore[type-arg]
    """Learn our username and set the strangers' command menu.

    A user's own menu is set when they /start or change language: Telegram
    refuses a chat scope for a user who has never written to the bot.
    """
    svc: Services = app.bot_data["services"]
    svc.bot_username = app.bot.username
    try:
        await set_default_menu(app.bot)
    except TelegramError:
        log.warning("could not set the default command menu", exc_info=True)
    # What was stored and not handled before a restart goes first, in order.
    await inbox_of(app).start()
    repeat(app, sweep_inbox, every=SWEEP_INTERVAL, job_id=SWEEP_JOB_ID)
    start_reminders(app)  # a pass now (catch-up after downtime), then every minute
    start_backups(app)  # BACKUP_SCHEDULE: a backup now if one was missed, then daily
    repeat(app, prune_inbox, every=PRUNE_INTERVAL, job_id=PRUNE_JOB_ID)  # then hourly


async def _post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
    inbox_of(app).close()
    svc: Services = app.bot_data["services"]
    if svc.database is not None:
        svc.database.shutdown(wait=False)


def _quiet(error: object) -> bool:
    """A tap whose callback query was answered already or is too old: nothing to tell."""
    return isinstance(error, BadRequest) and "query is too old" in error.message


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log first, then tell the user something went wrong without losing their data; when
    the database stayed locked past storage.db.LOCK_TIMEOUT, that it is busy."""
    busy = is_busy(context.error)
    if busy:
        log.warning("database busy, an update was rolled back: %s", context.error)
    elif _quiet(context.error):
        log.info("a tap could not be answered: %s", context.error)
        return
    else:
        log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_user is None:
        return
    try:
        sender = await with_db(update, context, lambda _db, sender: sender)
        await reply(update, sender.text("busy" if busy else "error"))
    except Exception:  # the error reply must never raise again
        log.exception("could not tell the user about the error")


class BotStopped(TerminalError):
    """The bot could not start, or had to stop: one line for the operator, exit status 2."""


def run(app: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Long-poll, or serve a webhook when WEBHOOK_URL is set, until SIGINT or SIGTERM.

    Raises BotStopped when Telegram rejects the token (at start or later: a 401/404 from
    getUpdates, e.g. after logOut) or cannot be reached at start. Other errors while
    polling (network, 5xx, 409) are logged and retried with PTB's backoff. Every path
    closes the bot's connections before returning.
    """
    asyncio.run(_serve(app, settings))


async def _serve(app: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    polling = app.bot_data.get(POLLING_REQUEST)
    rejected = polling.token_rejected if isinstance(polling, AiohttpRequest) else asyncio.Event()
    try:
        try:
            await _start(app, settings)
        except InvalidToken:
            raise BotStopped("token_rejected") from None
        except NetworkError as exc:  # TimedOut included
            raise BotStopped(
                "telegram_unreachable", url=_server(settings), error=str(exc)
            ) from None
        except TelegramError as exc:
            raise BotStopped("telegram_refused", error=str(exc)) from None
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(rejected.wait())]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        if rejected.is_set() and not stop.is_set():
            raise BotStopped("token_rejected")
    finally:
        await _stop(app)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def _start(app: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """run_polling's and run_webhook's start-up order, with our own error handling."""
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    assert app.updater is not None
    if settings.webhook_url:
        await _listen(app, settings, settings.webhook_url)
    else:
        await app.updater.start_polling(
            allowed_updates=Update.ALL_TYPES, error_callback=_polling_failed
        )
    await app.start()


async def _listen(app: Application, settings: Settings, url: str) -> None:  # type: ignore[type-arg]
    """Serve the webhook (bot/webhook.py), then register it with Telegram: Telegram sends
    the first update only once the server listens."""
    from bot.webhook import Webhook  # aiohttp's server: loaded only in webhook mode

    secret = settings.webhook_secret_or_fail()
    processor = app.update_processor
    assert isinstance(processor, PerUserOrder)
    server = Webhook(
        app,
        path=urlparse(url).path or "/",
        secret=secret,
        engine=app.bot_data["services"].engine,
        progress=processor,
        store=inbox_of(app).receive,
    )
    try:
        await server.start(settings.webhook_listen, settings.webhook_port)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        where = f"{settings.webhook_listen}:{settings.webhook_port}"
        raise BotStopped("webhook_cannot_listen", where=where, error=str(exc)) from None
    app.bot_data[WEBHOOK_SERVER] = server
    await app.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)


def _polling_failed(error: TelegramError) -> None:
    """A failed getUpdates (network, 5xx, 409): PTB retries with a growing pause (1 s up to
    30 s); say so once per failure, without a traceback."""
    log.warning("getUpdates failed (%s: %s); retrying", type(error).__name__, error)


async def _stop(app: Application) -> None:  # type: ignore[type-arg]
    """Undo whatever part of _start happened, in run_polling's order; never raises for
    Telegram's errors, so connections are always closed."""
    server = app.bot_data.pop(WEBHOOK_SERVER, None)
    if server is not None:
        await server.stop()
    if app.updater is not None and app.updater.running:
        try:
            await app.updater.stop()
        except TelegramError:  # the polling loop's own end (a rejected token)
            log.debug("polling ended with an error", exc_info=True)
    if app.running:
        inbox_of(app).let_go()  # stored: handled at the next start, not before stopping
        await app.stop()
        if app.post_stop:
            await app.post_stop(app)
    await app.shutdown()
    await app.bot.shutdown()  # after a failed initialize, Application.shutdown does nothing
    if app.post_shutdown:
        await app.post_shutdown(app)


def _server(settings: Settings) -> str:
    """The Bot API server's address as the operator set it, without the token."""
    parsed = urlparse(settings.bot_api_base_url)
    return f"{parsed.scheme}://{parsed.netloc}"


async def start_polling(app: Application) -> None:  # type: ignore[type-arg]
    """Start long polling inside a running event loop, in run_polling's order: for the
    demo, the tests and the benchmarks, which drive the bot from the same loop."""
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    await app.start()


async def stop_polling(app: Application) -> None:  # type: ignore[type-arg]
    """Undo start_polling, in run_polling's order."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        if "services" in app.bot_data:  # (the load benchmark's echo bot has none)
            inbox_of(app).let_go()
        await app.stop()
    if app.post_stop:
        await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)
