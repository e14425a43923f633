"""LOG_FORMAT=json: one JSON object a line, for log collectors (loaded only when asked)."""

from __future__ import annotations

import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter


class JsonLines(JsonFormatter):
    """One JSON object a line: timestamp (ISO-8601, UTC) first, level, logger, message,
    the record's `extra` fields (an event's user, action...), and `exception` if any."""

    def __init__(self) -> None:
        super().__init__(
            "{levelname}{name}{message}",
            style="{",
            timestamp=True,
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["timestamp"] = None  # the first key; the parent sets its value
        super().add_fields(log_data, record, message_dict)
