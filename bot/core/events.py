"""One log line per update: who did what, never what they wrote.

Liaisons' reports are internal documents, so the line names the action (a command's
name, a button's kind, "text" with its length, a document's extension and size) and
carries the text itself only when the deployer asks for it (LOG_MESSAGE_TEXT).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields

_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?=\s|$)")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")


@dataclass(slots=True)
class Event:
    """What the bot received, as the log line shows it (None: not part of this event);
    filled in as the update is read, then logged."""

    update: int
    user: int | None
    chat: int | None
    action: str
    status: str | None = None  # a chat member update's new status (e.g. kicked)
    ext: str | None = None  # a document's extension, never its name
    size: int | None = None  # a document's size in bytes
    length: int | None = None  # a text's length in characters
    ms: int | None = None  # time the bot spent on it
    outcome: str | None = None  # ok, or error when a handler failed
    text: str | None = None  # only with LOG_MESSAGE_TEXT

    def fields(self) -> dict[str, str | int]:
        """The event's fields in order, those not set left out: the JSON line's keys."""
        found = ((name, getattr(self, name)) for name in _NAMES)
        return {name: value for name, value in found if value is not None}

    def line(self) -> str:
        """`update=… user=… chat=… action=/report`: the text format's message."""
        shown = self.fields()
        return " ".join(f"{name}={_value(name, value)}" for name, value in shown.items())


def _value(name: str, value: str | int) -> str:
    """A value as key=value shows it; a text is quoted (one line, escapes), and any value
    with spaces or quotes."""
    if isinstance(value, int):
        return str(value)
    if name != "text" and value and not re.search(r"[\s\"=\\]", value):
        return value
    return json.dumps(value, ensure_ascii=False)


def command(text: str) -> str | None:
    """The command a message starts with (`/report`, without @bot and arguments)."""
    found = _COMMAND.match(text)
    return f"/{found.group(1).lower()}" if found else None


def extension(file_name: str | None) -> str | None:
    """A file's extension (`.docx`), lower case; the name itself may be internal too."""
    found = _EXTENSION.search(file_name or "")
    return found.group(0).lower() if found else None


_NAMES = tuple(field.name for field in fields(Event))
