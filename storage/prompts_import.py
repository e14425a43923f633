"""A summary table sent in chat, kept (by its Telegram file id) until its sender
confirms or discards the preview: the `prompt` table, kind "import", one per user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage import prompts

KIND = "import"


@dataclass(frozen=True)
class KeptImport:
    file_id: str
    file_name: str
    digest: str  # SHA-256 of the file, hex
    month: str


def keep_import(session: Session, telegram_id: int, kept: KeptImport, now: datetime) -> None:
    data = {
        "file_id": kept.file_id,
        "file_name": kept.file_name,
        "digest": kept.digest,
        "month": kept.month,
    }
    prompts.ask(session, telegram_id, KIND, data, now)


def kept_import(session: Session, telegram_id: int, digest: str) -> KeptImport | None:
    """The kept file whose digest starts with `digest`, or None (another file was sent
    since, or it was imported or discarded)."""
    asked = prompts.load(session, telegram_id)
    if asked is None or asked.kind != KIND or not digest:
        return None
    values = [asked.data.get(key) for key in ("file_id", "file_name", "digest", "month")]
    if not all(isinstance(value, str) for value in values):
        return None
    kept = KeptImport(*(str(value) for value in values))
    return kept if kept.digest.startswith(digest) else None


def drop_import(session: Session, telegram_id: int) -> None:
    asked = prompts.load(session, telegram_id)
    if asked is not None and asked.kind == KIND:
        prompts.clear(session, telegram_id)
