"""What is wrong with the words after a console command (/period, /calendar)."""

from __future__ import annotations

ECHO_CHARS = 64  # at most this much of the offending words is shown back


class CommandInputError(ValueError):
    """`kind` names the piece for the answer, `text` the offending words, shortened to echo
    back."""

    def __init__(self, kind: str, text: str = "") -> None:
        super().__init__(f"{kind}: {text}")
        self.kind = kind
        self.text = text[:ECHO_CHARS]
