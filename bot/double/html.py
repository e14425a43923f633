"""Telegram's HTML parse mode: validation, entity extraction and visible length.

Follows https://core.telegram.org/bots/api#html-style: only the supported tags, properly
nested and closed; ``&`` must start ``&lt;``/``&gt;``/``&amp;``/``&quot;`` or a numeric
entity; a ``<`` that does not start a supported tag is an error. Lengths and entity offsets
are counted in UTF-16 code units, as Telegram does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{0,31});")
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR_RE = re.compile(
    r"""\s*([A-Za-z_:][A-Za-z0-9_:.-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"""
)

_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
SUPPORTED_TAGS = frozenset(
    [*_SIMPLE, "span", "a", "code", "pre", "blockquote", "tg-emoji", "tg-time"]
)


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; str() is Telegram's reason."""


@dataclass(frozen=True)
class ParsedText:
    text: str  # visible text (tags removed, entities decoded)
    entities: list[dict[str, Any]] = field(default_factory=list)

    @property
    def length(self) -> int:
        return utf16_len(self.text)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (characters outside the BMP count twice)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    offset: int  # UTF-16 offset where the entity starts
    entity: dict[str, Any] | None  # None: the tag produces no entity of its own


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entities(source: str, start: int, value: str) -> str:
    """Decode character entities inside an attribute value."""
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&":
            decoded, i = _entity_at(source, start, value, i)
            out.append(decoded)
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _entity_at(source: str, base: int, text: str, i: int) -> tuple[str, int]:
    m = _ENTITY_RE.match(text, i)
    if m is None:
        raise HtmlParseError(
            f"Bare ampersand at byte offset {_byte_offset(source, base + i)}; "
            "use &amp; to show a literal &"
        )
    body = m.group(1)
    if body.startswith("#"):
        code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise HtmlParseError(
                f"Invalid character entity at byte offset {_byte_offset(source, base + i)}"
            )
        return chr(code), m.end()
    if body not in _NAMED_ENTITIES:
        raise HtmlParseError(
            f'Unsupported HTML entity "&{body};" at byte offset {_byte_offset(source, base + i)}'
        )
    return _NAMED_ENTITIES[body], m.end()


def _start_entity(
    source: str, index: int, tag: str, attrs: dict[str, str], stack: list[_Open]
) -> dict[str, Any] | None:
    unsupported = HtmlParseError(
        f'Unsupported start tag "{tag}" at byte offset {_byte_offset(source, index)}'
    )
    if tag in _SIMPLE:
        return {"type": _SIMPLE[tag]}
    if tag == "span":
        if attrs.get("class") != "tg-spoiler":
            raise unsupported
        return {"type": "spoiler"}
    if tag == "a":
        href = attrs.get("href")
        if href is None or not href.strip():
            return None  # Telegram drops links without a URL
        return {"type": "text_link", "url": href}
    if tag == "code":
        language = attrs.get("class", "")
        if stack and stack[-1].tag == "pre" and stack[-1].entity is not None:
            if language.startswith("language-"):
                stack[-1].entity["language"] = language[len("language-") :]
            return None
        return {"type": "code"}
    if tag == "pre":
        return {"type": "pre"}
    if tag == "blockquote":
        if any(o.tag == "blockquote" for o in stack):
            raise HtmlParseError(
                f"Blockquote can't be nested at byte offset {_byte_offset(source, index)}"
            )
        return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
    if tag == "tg-emoji":
        emoji_id = attrs.get("emoji-id")
        if not emoji_id:
            raise HtmlParseError(
                f"Custom emoji identifier expected at byte offset {_byte_offset(source, index)}"
            )
        return {"type": "custom_emoji", "custom_emoji_id": emoji_id}
    if tag == "tg-time":
        unix = attrs.get("unix", "")
        if not unix.isdigit():
            raise HtmlParseError(f"Unix time expected at byte offset {_byte_offset(source, index)}")
        entity: dict[str, Any] = {"type": "date_time", "unix_time": int(unix)}
        if "format" in attrs:
            entity["date_time_format"] = attrs["format"]
        return entity
    raise unsupported


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML; raise HtmlParseError with Telegram's wording if invalid."""
    out: list[str] = []
    utf16_pos = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(source)
    while i < n:
        c = source[i]
        if c == "<":
            if source.startswith("</", i):
                end = source.find(">", i)
                if end < 0:
                    raise HtmlParseError(
                        f"Unclosed end tag at byte offset {_byte_offset(source, i)}"
                    )
                name = source[i + 2 : end].strip().lower()
                if not stack:
                    raise HtmlParseError(
                        f"Unexpected end tag at byte offset {_byte_offset(source, i)}"
                    )
                top = stack.pop()
                if name != top.tag:
                    raise HtmlParseError(
                        f"Unmatched end tag at byte offset {_byte_offset(source, i)}, "
                        f'expected "</{top.tag}>", found "</{name}>"'
                    )
                if top.entity is not None and utf16_pos > top.offset:
                    top.entity["offset"] = top.offset
                    top.entity["length"] = utf16_pos - top.offset
                    entities.append(top.entity)
                i = end + 1
                continue
            m = _NAME_RE.match(source, i + 1)
            if m is None:
                raise HtmlParseError(
                    f'Unsupported start tag "" at byte offset {_byte_offset(source, i)}'
                )
            tag = m.group(0).lower()
            if tag not in SUPPORTED_TAGS:
                raise HtmlParseError(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(source, i)}'
                )
            j = m.end()
            attrs: dict[str, str] = {}
            while True:
                am = _ATTR_RE.match(source, j)
                if am is None or am.end() == j:
                    break
                raw_value = (
                    am.group(2)
                    if am.group(2) is not None
                    else (am.group(3) if am.group(3) is not None else am.group(4))
                )
                attrs[am.group(1).lower()] = (
                    "" if raw_value is None else _decode_entities(source, am.start(), raw_value)
                )
                j = am.end()
            while j < n and source[j].isspace():
                j += 1
            if j >= n or source[j] != ">":
                raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(source, i)}")
            entity = _start_entity(source, i, tag, attrs, stack)
            stack.append(_Open(tag=tag, offset=utf16_pos, entity=entity))
            i = j + 1
            continue
        if c == "&":
            decoded, i = _entity_at(source, 0, source, i)
        else:
            decoded = c
            i += 1
        out.append(decoded)
        utf16_pos += utf16_len(decoded)
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(text="".join(out), entities=entities)


def visible_length(source: str, parse_mode: str | None = "HTML") -> int:
    """UTF-16 length of the text the user sees."""
    if parse_mode is not None and parse_mode.lower() == "html":
        return parse_html(source).length
    return utf16_len(source)
