"""Logging, and every other way text reaches the terminal, without the bot token."""

from __future__ import annotations

import logging
import sys
import threading
from types import TracebackType
from typing import IO, Literal
from urllib.parse import quote

from telegram.error import InvalidToken

MASK = "<BOT_TOKEN>"
HANDLER = "huibao"  # the name of the stderr handler setup_logging adds
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LogFormat = Literal["text", "json"]
_secrets: list[str] = []  # the token as it may appear: raw and URL-encoded
# A record's own attributes; any other is an `extra` field, a key of the JSON line.
_STANDARD = {*vars(logging.makeLogRecord({})), "message", "asctime"}


def redact(text: str) -> str:
    """The text with the bot token (set by setup_logging) masked."""
    for secret in _secrets:
        text = text.replace(secret, MASK)
    return text


def _forms(secret: str) -> list[str]:
    return sorted({secret, quote(secret, safe=""), quote(secret)} - {""}, key=len, reverse=True)


class RedactToken(logging.Filter):
    """Replace the token wherever it appears in a log record: the message, its arguments,
    the exception's text and traceback, the stack, and the `extra` fields a JSON line
    shows."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secrets = _forms(secret) if secret else []

    def _redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, self._redact(value))
        message = record.getMessage()
        extra = ""
        if record.exc_info and record.exc_info[1] is not None:
            extra = record.exc_text or logging.Formatter().formatException(record.exc_info)
        elif record.exc_text:
            extra = record.exc_text
        stack = record.stack_info or ""
        if any(s in text for s in self.secrets for text in (message, extra, stack)):
            # Formatted here once, so no handler formats the raw exception again.
            record.msg = self._redact(message)
            record.args = None
            record.exc_info = None
            record.exc_text = self._redact(extra) if extra else None
            record.stack_info = self._redact(stack) if stack else None
        return True


class QuietRejectedToken(logging.Filter):
    """A rejected token is logged in one line, without PTB's traceback: `huibao` explains
    it in its own line, and the traceback says nothing more."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, InvalidToken):
            record.msg = f"{record.getMessage()} ({type(error).__name__}: {error})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def setup_logging(
    level: str, secret: str = "", log_format: LogFormat = "text", stream: IO[str] | None = None
) -> None:
    """Log to stderr (or `stream`) in the format asked, with the token masked; uncaught
    exceptions go through the same path. Handlers someone else added (a test's capture)
    keep their format and get the token filters too."""
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if handler.name == HANDLER]
    if stream is not None or not root.handlers:
        for replaced in ours:
            root.removeHandler(replaced)
        ours = [logging.StreamHandler(stream)]  # None: stderr
        ours[0].name = HANDLER
        root.addHandler(ours[0])
    for mine in ours:
        mine.setFormatter(_json_lines() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root.setLevel(level.upper())
    # httpx logs every request URL, and the Bot API puts the token in the URL.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    _secrets[:] = _forms(secret) if secret else []
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactToken | QuietRejectedToken)]:
            handler.removeFilter(old)
        handler.addFilter(QuietRejectedToken())
        handler.addFilter(RedactToken(secret))
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _json_lines() -> logging.Formatter:
    """LOG_FORMAT=json's formatter (bot/json_lines.py): python-json-logger takes a
    twentieth of a second to import, which every start would pay for the text format."""
    from bot.json_lines import JsonLines

    return JsonLines()


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    logging.getLogger("huibao").critical("unexpected error", exc_info=(kind, error, trace))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)
