"""A roster file sent in chat, kept until its sender confirms or cancels the preview.

It lives in the `prompt` table (kind "roster"), one per user: a newer upload replaces
the one before, so only the latest preview's buttons still work.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from storage import prompts

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
    prompts.ask(session, telegram_id, KIND, {"toml": text, "digest": upload.digest}, now)
    return upload


def pending_upload(session: Session, telegram_id: int, digest: str) -> Upload | None:
    """The kept file whose digest starts with `digest` (a button carries a prefix), or
    None: another file was sent since, or it was applied or cancelled."""
    kept = prompts.load(session, telegram_id)
    if kept is None or kept.kind != KIND:
        return None
    text, full = kept.data.get("toml"), kept.data.get("digest")
    if not isinstance(text, str) or not isinstance(full, str) or not digest:
        return None
    if not full.startswith(digest) or digest_of(text) != full:
        return None
    return Upload(text, full)


def drop_upload(session: Session, telegram_id: int) -> None:
    kept = prompts.load(session, telegram_id)
    if kept is not None and kept.kind == KIND:
        prompts.clear(session, telegram_id)
