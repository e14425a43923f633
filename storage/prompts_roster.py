"""A roster file sent in chat, kept until its sender confirms or cancels the preview.

It lives in the `prompt` table (kind "roster"), one per user: a newer upload replaces
the one before, so only the latest preview's buttons still work.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage.models import Prompt

KIND = "roster"


@dataclass(frozen=True)
class Upload:
    text: str
    digest: str  # SHA-256 of the text, hex


def digest_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def keep_upload(session: Session, telegram_id: int, text: str, now: datetime) -> Upload:
    """Keep the file for its preview's ✅ button (replacing an earlier one)."""
    upload = Upload(text, digest_of(text))
    row = session.get(Prompt, telegram_id) or Prompt(telegram_id=telegram_id, kind=KIND)
    row.kind, row.data, row.asked_at = KIND, {"toml": text, "digest": upload.digest}, now
    session.add(row)
    session.flush()
    return upload


def pending_upload(session: Session, telegram_id: int, digest: str) -> Upload | None:
    """The kept file whose digest starts with `digest` (a button carries a prefix), or
    None: another file was sent since, or it was applied or cancelled."""
    row = session.get(Prompt, telegram_id)
    if row is None or row.kind != KIND:
        return None
    text, full = row.data.get("toml"), row.data.get("digest")
    if not isinstance(text, str) or not isinstance(full, str) or not digest:
        return None
    if not full.startswith(digest) or digest_of(text) != full:
        return None
    return Upload(text, full)


def drop_upload(session: Session, telegram_id: int) -> None:
    row = session.get(Prompt, telegram_id)
    if row is not None and row.kind == KIND:
        session.delete(row)
        session.flush()
