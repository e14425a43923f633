"""Every button's callback data, built and parsed here and nowhere else.

The strings are the protocol between the bot and buttons already sitting in chats: a
change here must keep parsing what older versions sent. Parsing never raises; data that
is forged, old or unknown parses to None and its handler gives the polite answer.

    rp:o:<period>:<item>            open a key work item (the list, reminders)
    rp:r:<period>:<item>            revise a submitted item
    rp:l                            show the department's list
    rp:<seq>:<action>[:<arg>]       act on the open draft; <seq> is the screen's
    lang:<language>                 choose the language of every text
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.core import texts

REPORT = "rp"
LANGUAGE = "lang"
# For CallbackQueryHandler(pattern=...): which handler a tap goes to.
REPORT_PATTERN = rf"^{REPORT}:"
LANGUAGE_PATTERN = rf"^{LANGUAGE}:"

_NUMBER = r"(0|[1-9][0-9]{0,18})"  # ASCII digits, no sign or leading zero, 19 at most
_OPEN = re.compile(rf"{REPORT}:([or]):{_NUMBER}:{_NUMBER}")
_LIST = f"{REPORT}:l"
_ACT = re.compile(rf"{REPORT}:{_NUMBER}:([a-z_]+)(?::{_NUMBER})?")


class Action(StrEnum):
    """What a button on a draft's screen does (its value is what the data carries)."""

    DONE = "done"
    UNDO = "undo"
    NO_PROGRESS = "none"
    EDIT = "edit"
    CARRY = "carry"
    PICK = "pick"
    REPLACE = "replace"
    INSERT = "insert"
    DELETE = "delete"
    UP = "up"
    DOWN = "down"
    BACK = "back"
    CHANGE = "change"
    CANCEL = "cancel"
    KEEP = "keep"
    DISCARD = "discard"
    SUBMIT = "submit"
    MINE = "mine"
    THEIRS = "theirs"
    SECTIONS_YES = "sections_yes"
    SECTIONS_NO = "sections_no"
    CHATTER_ADD = "chatter_add"
    CHATTER_IGNORE = "chatter_ignore"


_ACTIONS = {action.value: action for action in Action}


@dataclass(frozen=True)
class OpenItem:
    """Open one key work item of a period; `revise`: start revising its submission."""

    period_id: int
    work_item_id: int
    revise: bool = False


@dataclass(frozen=True)
class ShowList:
    """The department's list for the open period."""


@dataclass(frozen=True)
class OnDraft:
    """An action on the draft whose screen had sequence number `seq`."""

    seq: int
    action: Action
    arg: int | None = None


@dataclass(frozen=True)
class ChooseLanguage:
    language: str


ReportTap = OpenItem | ShowList | OnDraft


# --- building -------------------------------------------------------------------------


def open_item(period_id: int, work_item_id: int) -> str:
    """The button of one key work item, in the list and in reminders."""
    return f"{REPORT}:o:{period_id}:{work_item_id}"


def revise_item(period_id: int, work_item_id: int) -> str:
    return f"{REPORT}:r:{period_id}:{work_item_id}"


def show_list() -> str:
    return _LIST


def on_draft(seq: int, action: Action, arg: int | None = None) -> str:
    return f"{REPORT}:{seq}:{action.value}" + ("" if arg is None else f":{arg}")


def choose_language(language: str) -> str:
    return f"{LANGUAGE}:{language}"


def build(tap: ReportTap | ChooseLanguage) -> str:
    """The data of any parsed tap (parse(build(t)) == t)."""
    if isinstance(tap, OpenItem):
        make = revise_item if tap.revise else open_item
        return make(tap.period_id, tap.work_item_id)
    if isinstance(tap, ShowList):
        return show_list()
    if isinstance(tap, OnDraft):
        return on_draft(tap.seq, tap.action, tap.arg)
    return choose_language(tap.language)


# --- parsing --------------------------------------------------------------------------


def parse_report(data: str) -> ReportTap | None:
    """An `rp:` button's data, or None when it is not one this version knows."""
    if data == _LIST:
        return ShowList()
    opened = _OPEN.fullmatch(data)
    if opened is not None:
        kind, period, item = opened.groups()
        return OpenItem(int(period), int(item), revise=kind == "r")
    acted = _ACT.fullmatch(data)
    if acted is None or acted.group(2) not in _ACTIONS:
        return None
    seq, action, arg = acted.groups()
    return OnDraft(int(seq), _ACTIONS[action], None if arg is None else int(arg))


def parse_language(data: str) -> ChooseLanguage | None:
    """A `lang:` button's data: one of the languages texts exist in, else None."""
    prefix, _, language = data.partition(":")
    if prefix != LANGUAGE or language not in texts.LANGUAGES:
        return None
    return ChooseLanguage(language)


def parse(data: str) -> ReportTap | ChooseLanguage | None:
    """Any button's data."""
    return parse_report(data) or parse_language(data)
