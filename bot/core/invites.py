"""Invite tokens: random, single use, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 18  # 24 URL-safe characters; deep-link payloads allow up to 64


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"
