"""Every text a user reads, rendered from `templates/messages/<language>.j2`.

Each text is a Jinja2 macro in the language's file; values are HTML-escaped
(the bot sends with parse_mode=HTML), so user text can never break a message.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


@lru_cache(maxsize=4)
def _environment(root: Path) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(root)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def language_for(code: str | None) -> str:
    """Telegram's language_code → one of ours: English for en*, Chinese otherwise."""
    if code and code.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


@lru_cache(maxsize=4)
def _module(language: str, root: Path) -> Any:
    return _environment(root).get_template(f"messages/{language}.j2").module


def text(language: str, name: str, /, **values: Any) -> str:
    """The HTML text `name` in `language` (falls back to Chinese for an unknown language)."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    macro = getattr(_module(language, TEMPLATES), name, None)
    if macro is None:
        raise KeyError(f"no text {name!r} in templates/messages/{language}.j2")
    return str(macro(**values)).strip()


def plain(language: str, name: str, /, **values: Any) -> str:
    """The same text without markup, for button labels and command descriptions."""
    return Markup(text(language, name, **values)).striptags()


def names(language: str) -> set[str]:
    """The names of all texts of a language (tests compare the languages)."""
    module = _module(language, TEMPLATES)
    return {n for n in dir(module) if not n.startswith("_")}
