"""Every text a user reads, rendered from `templates/messages/<language>.j2` (the chat),
`templates/cli/<language>.j2` (the `huibao` command) and `templates/document/names.j2`
(the document's title and file name; the rest of the document is its Word template).

Each text is a Jinja2 macro in the language's file. Chat values are HTML-escaped (the
bot sends with parse_mode=HTML), so user text can never break a message; the command's
lines are plain text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import (
    BytecodeCache,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    StrictUndefined,
)
from markupsafe import Markup

# The `templates` package: the checkout's folder, or the installed package data.
TEMPLATES = Path(str(resources.files("templates")))
LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


def _compiled_cache() -> BytecodeCache | None:
    """The templates compiled once and kept between starts, in the user's own folder in
    the temporary directory, each under its source's checksum (an edited template is
    compiled anew): compiling them took about a third of a second and 8 MB at every start."""
    try:
        return FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no usable temporary directory: compile every time
        return None


@lru_cache(maxsize=4)
def _environment(root: Path, escape: bool = True) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(root)),
        autoescape=escape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        bytecode_cache=_compiled_cache(),
    )


def reader_language(
    chosen: str | None, client: str | None = None, default: str = DEFAULT_LANGUAGE
) -> str:
    """The language a user reads: the one they chose (/lang), else their Telegram client's
    (English for en*), else `default`. Replies in chat and reminders both ask here."""
    if chosen:
        return chosen
    if client and client.lower().startswith("en"):
        return "en"
    return default


def language_for(code: str | None) -> str:
    """Telegram's language_code → one of ours: English for en*, Chinese otherwise."""
    return reader_language(None, code)


@lru_cache(maxsize=8)
def _module(language: str, root: Path, kind: str = "messages") -> Any:
    return _environment(root, kind == "messages").get_template(f"{kind}/{language}.j2").module


@lru_cache(maxsize=8)
def _modules(language: str, root: Path, kind: str) -> tuple[Any, ...]:
    """The language's main file, then one file per topic (`<kind>/<topic>/<language>.j2`:
    review, people, roster), so each part of the bot keeps its words together."""
    topics = sorted(p.parent.name for p in (root / kind).glob(f"*/{language}.j2"))
    return (
        _module(language, root, kind),
        *(_module(language, root, f"{kind}/{topic}") for topic in topics),
    )


def _macro(kind: str, language: str, name: str) -> Any:
    for module in _modules(language, TEMPLATES, kind):
        macro = getattr(module, name, None)
        if macro is not None:
            return macro
    raise KeyError(f"no text {name!r} in templates/{kind}/ ({language})")


def _render(kind: str, language: str, name: str, values: dict[str, Any]) -> str:
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    macro = _macro(kind, language, name)
    rendered = str(macro(**values))
    # A terminal line may start with spaces (aligned numbers); a chat message may not.
    return rendered.strip("\n") if kind == "cli" else rendered.strip()


def text(language: str, name: str, /, **values: Any) -> str:
    """The HTML text `name` in `language` (falls back to Chinese for an unknown language).

    Markup: its values are escaped already, so a text placed in another text is not
    escaped a second time."""
    return Markup(_render("messages", language, name, values))


def plain(language: str, name: str, /, **values: Any) -> str:
    """The same text without markup, for button labels and command descriptions."""
    return Markup(text(language, name, **values)).striptags()


@lru_cache(maxsize=2)
def _document_names(root: Path) -> Any:
    return _environment(root, False).get_template("document/names.j2").module


def document_text(name: str, /, **values: Any) -> str:
    """A word of the document outside its Word template (the default title, the file
    name, the draft mark): templates/document/names.j2, in Chinese, the document's
    language, whoever compiles it."""
    macro = getattr(_document_names(TEMPLATES), name, None)
    if macro is None:
        raise KeyError(f"no text {name!r} in templates/document/names.j2")
    return str(macro(**values)).strip()


def names(language: str, kind: str = "messages") -> set[str]:
    """The names of all texts of a language (tests compare the languages)."""
    modules = _modules(language, TEMPLATES, kind)
    return {n for module in modules for n in dir(module) if not n.startswith("_")}


def terminal_language(environ: Mapping[str, str] = os.environ) -> str:
    """The language of the terminal's locale (LC_ALL, LC_MESSAGES, LANG, as gettext reads
    them): English for en*, Chinese otherwise."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(variable):
            return language_for(environ[variable])
    return DEFAULT_LANGUAGE


def terminal(name: str, /, **values: Any) -> str:
    """A line of the `huibao` command, in the terminal's language."""
    return _render("cli", terminal_language(), name, values)


class TerminalError(Exception):
    """A mistake an operator reads at the terminal: a text of templates/cli/, rendered in
    the terminal's language when shown."""

    def __init__(self, name: str, /, **values: Any) -> None:
        super().__init__(name)
        self.name, self.values = name, values

    def __str__(self) -> str:
        return terminal(self.name, **self.values)

    def explain(self, language: str) -> str:
        """The same in a chat user's language (plain text: the chat's template escapes it)."""
        return _render("cli", language, self.name, self.values)
