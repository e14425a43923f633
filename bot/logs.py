"""Logging that never shows the bot token."""

from __future__ import annotations

import logging


class RedactToken(logging.Filter):
    """Replace the token wherever it appears in a log record (URLs, exception text)."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secret:
            return True
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            if self.secret in formatted:
                message += "\n" + formatted
                record.exc_info = None
                record.exc_text = None
        if self.secret in message:
            record.msg = message.replace(self.secret, "<BOT_TOKEN>")
            record.args = None
        return True


def setup_logging(level: str, secret: str = "") -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL, and the Bot API puts the token in the URL.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    redact = RedactToken(secret)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
