"""Every button's callback data, built and parsed here and nowhere else.

The strings are the protocol between the bot and buttons already sitting in chats: a
change here must keep parsing what older versions sent. Parsing never raises; data that
is forged, old or unknown parses to None and its handler gives the polite answer.

    rp:o:<period>:<item>            open a key work item (the list, reminders)
    rp:r:<period>:<item>            revise a submitted item
    rp:l                            show the department's list
    rp:<seq>:<action>[:<arg>]       act on the open draft; <seq> is the screen's
    lang:<language>                 choose the language of every text
    rv:s:<period>:<department>      show a department's report (/status, /show)
    rv:h:<submission>               a submission's earlier revisions and returns
    rv:r:<submission>:<version>     return one handed-in version for revision (asks why)
    rv:R:<period>:<department>      return the department's whole report (asks why)
    rv:a:<submission>:<version>     approve a pending version (the department's approver)
    pp:v:<liaison>                  ask to revoke a liaison's or approver's access (/liaisons)
    pp:V:<liaison>                  revoke it (the confirmation's 确定)
    pp:i:<department>:<role>        invite a successor: liaison or approver (/liaisons)
    pp:c:<coordinator>              ask to remove a coordinator (/coordinators)
    pp:C:<coordinator>              remove them (the confirmation's 确定)
    pp:x                            the confirmation's 取消
    ro:a:<digest>                   apply the roster file sent in chat (its preview's ✅;
                                    <digest>: the first 16 hex digits of its SHA-256)
    ro:A:<digest>                   the same, though it takes handed-in work out of the
                                    open month (asked again when the preview did not say so)
    ro:c:<digest>                   discard the roster file sent
    ro:x:<item>                     retire a key work item though it has handed-in work
    ro:n                            keep it (the retirement not made)
    sf:s:<period>:<item>:<seq>      submit the draft a section file filled (its preview's
                                    📤 提交; <seq>: the draft's when it was shown)
    im:a:<digest>                   import the summary table sent in chat (its preview's ✅;
                                    <digest>: the first 16 hex digits of its SHA-256)
    im:c:<digest>                   discard it
    hi:<department>:<item>          a department's past reports on an item (/history's
                                    list): the newest page
    hi:<department>:<item>:<page>:<digest>
                                    another page of them (◀ 较新 / 较早 ▶); <digest>: the
                                    first 16 hex digits of the history's (an old page's
                                    button is told from the current one)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.core import texts
from bot.core.people import PersonRole

REPORT = "rp"
LANGUAGE = "lang"
# For CallbackQueryHandler(pattern=...): which handler a tap goes to.
REVIEW = "rv"
REPORT_PATTERN = rf"^{REPORT}:"
LANGUAGE_PATTERN = rf"^{LANGUAGE}:"
REVIEW_PATTERN = rf"^{REVIEW}:"
PEOPLE = "pp"
PEOPLE_PATTERN = rf"^{PEOPLE}:"
ROSTER = "ro"
IMPORT = "im"
IMPORT_PATTERN = rf"^{IMPORT}:"
ROSTER_PATTERN = rf"^{ROSTER}:"
SECTION = "sf"
SECTION_PATTERN = rf"^{SECTION}:"
HISTORY = "hi"
HISTORY_PATTERN = rf"^{HISTORY}:"
DIGEST_LENGTH = 16
MAX_PAGES = 1000  # a history page's number has at most 3 digits: the data stays in 64 bytes

_NUMBER = r"(0|[1-9][0-9]{0,18})"  # ASCII digits, no sign or leading zero, 19 at most
_OPEN = re.compile(rf"{REPORT}:([or]):{_NUMBER}:{_NUMBER}")
_LIST = f"{REPORT}:l"
_ACT = re.compile(rf"{REPORT}:{_NUMBER}:([a-z_]+)(?::{_NUMBER})?")
_REVIEW = re.compile(rf"{REVIEW}:([shrRa]):{_NUMBER}(?::{_NUMBER})?")
_PERSON = re.compile(rf"{PEOPLE}:([vVcC]):{_NUMBER}")
_ROLES = "|".join(role.value for role in PersonRole)
_SUCCESSOR = re.compile(rf"{PEOPLE}:i:{_NUMBER}:({_ROLES})")
_CANCEL = f"{PEOPLE}:x"
_IMPORT_FILE = re.compile(rf"{IMPORT}:([ac]):([0-9a-f]{{{DIGEST_LENGTH}}})")
_ROSTER_FILE = re.compile(rf"{ROSTER}:([aAc]):([0-9a-f]{{{DIGEST_LENGTH}}})")
_ROSTER_RETIRE = re.compile(rf"{ROSTER}:x:{_NUMBER}")
_ROSTER_KEEP = f"{ROSTER}:n"
_SECTION_SUBMIT = re.compile(rf"{SECTION}:s:{_NUMBER}:{_NUMBER}:{_NUMBER}")
_HISTORY = re.compile(
    rf"{HISTORY}:{_NUMBER}:{_NUMBER}(?::(0|[1-9][0-9]{{0,2}}):([0-9a-f]{{{DIGEST_LENGTH}}}))?"
)


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


@dataclass(frozen=True)
class ShowDepartment:
    """A coordinator reads a department's report for a period."""

    period_id: int
    department_id: int


@dataclass(frozen=True)
class History:
    """A submission's earlier revisions, returns and approvals."""

    submission_id: int


@dataclass(frozen=True)
class ReturnItem:
    """Send one handed-in version back for revision (a coordinator, or the approver while
    it is pending); the reason is asked next."""

    submission_id: int
    version: int


@dataclass(frozen=True)
class ReturnDepartment:
    """Send everything a department handed in for the period back (a coordinator)."""

    period_id: int
    department_id: int


@dataclass(frozen=True)
class Approve:
    """The department's approver lets a pending version count."""

    submission_id: int
    version: int


ReviewTap = ShowDepartment | History | ReturnItem | ReturnDepartment | Approve


@dataclass(frozen=True)
class AskRevoke:
    """A coordinator tapped 🚫 收回 next to a liaison or approver: ask to confirm."""

    liaison_id: int


@dataclass(frozen=True)
class Revoke:
    """The confirmation: take the person's access away."""

    liaison_id: int


@dataclass(frozen=True)
class InviteSuccessor:
    """A fresh invite link for the department, for a person of this role."""

    department_id: int
    role: PersonRole


@dataclass(frozen=True)
class AskRemoveCoordinator:
    coordinator_id: int


@dataclass(frozen=True)
class RemoveCoordinator:
    coordinator_id: int


@dataclass(frozen=True)
class CancelPeople:
    """取消 on a confirmation: nothing changes."""


PeopleTap = (
    AskRevoke | Revoke | InviteSuccessor | AskRemoveCoordinator | RemoveCoordinator | CancelPeople
)
# letter → the tap about one person (by id)
_PERSON_KINDS: dict[str, type[AskRevoke | Revoke | AskRemoveCoordinator | RemoveCoordinator]] = {
    "v": AskRevoke,
    "V": Revoke,
    "c": AskRemoveCoordinator,
    "C": RemoveCoordinator,
}


@dataclass(frozen=True)
class ApplyRoster:
    """Apply the roster file kept for its preview; `drops`: the coordinator was told it
    takes handed-in work out of the open month."""

    digest: str
    drops: bool = False


@dataclass(frozen=True)
class CancelRoster:
    digest: str


@dataclass(frozen=True)
class RetireItem:
    """Retire a key work item though the open month has handed-in work on it."""

    work_item_id: int


@dataclass(frozen=True)
class KeepItem:
    """Do not retire it after all."""


RosterTap = ApplyRoster | CancelRoster | RetireItem | KeepItem


@dataclass(frozen=True)
class SubmitFiled:
    """Submit the draft of one item that a section file filled, if it is still the one
    shown (`seq`)."""

    period_id: int
    work_item_id: int
    seq: int


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


def show_department(period_id: int, department_id: int) -> str:
    return f"{REVIEW}:s:{period_id}:{department_id}"


def history(submission_id: int) -> str:
    return f"{REVIEW}:h:{submission_id}"


def return_item(submission_id: int, version: int) -> str:
    return f"{REVIEW}:r:{submission_id}:{version}"


def return_department(period_id: int, department_id: int) -> str:
    return f"{REVIEW}:R:{period_id}:{department_id}"


def approve(submission_id: int, version: int) -> str:
    return f"{REVIEW}:a:{submission_id}:{version}"


def build_people(tap: PeopleTap) -> str:
    """The data of a `pp:` tap (parse_people(build_people(t)) == t)."""
    if isinstance(tap, CancelPeople):
        return _CANCEL
    if isinstance(tap, InviteSuccessor):
        return f"{PEOPLE}:i:{tap.department_id}:{tap.role.value}"
    letter = next(k for k, kind in _PERSON_KINDS.items() if isinstance(tap, kind))
    number = tap.liaison_id if isinstance(tap, AskRevoke | Revoke) else tap.coordinator_id
    return f"{PEOPLE}:{letter}:{number}"


def apply_roster(digest: str, *, drops: bool = False) -> str:
    return f"{ROSTER}:{'A' if drops else 'a'}:{digest[:DIGEST_LENGTH]}"


def cancel_roster(digest: str) -> str:
    return f"{ROSTER}:c:{digest[:DIGEST_LENGTH]}"


def retire_item(work_item_id: int) -> str:
    return f"{ROSTER}:x:{work_item_id}"


@dataclass(frozen=True)
class ImportTap:
    """✅ import (or ✖️ discard) the summary table kept for its preview."""

    digest: str
    apply: bool


def import_file(digest: str, *, apply: bool) -> str:
    return f"{IMPORT}:{'a' if apply else 'c'}:{digest[:DIGEST_LENGTH]}"


def parse_import(data: str) -> ImportTap | None:
    """An `im:` button's data, or None when it is not one this version knows."""
    found = _IMPORT_FILE.fullmatch(data)
    if found is None:
        return None
    letter, digest = found.groups()
    return ImportTap(digest, apply=letter == "a")


def submit_filed(period_id: int, work_item_id: int, seq: int) -> str:
    return f"{SECTION}:s:{period_id}:{work_item_id}:{seq}"


def keep_item() -> str:
    return _ROSTER_KEEP


# kind letter → (the tap's class, whether it carries a second number)
_REVIEW_KINDS: dict[str, tuple[type[ReviewTap], bool]] = {
    "s": (ShowDepartment, True),
    "h": (History, False),
    "r": (ReturnItem, True),
    "R": (ReturnDepartment, True),
    "a": (Approve, True),
}


def build(tap: ReportTap | ChooseLanguage | ReviewTap | RosterTap) -> str:
    """The data of any parsed tap (parse(build(t)) == t)."""
    if isinstance(tap, ApplyRoster):
        return apply_roster(tap.digest, drops=tap.drops)
    if isinstance(tap, CancelRoster):
        return cancel_roster(tap.digest)
    if isinstance(tap, RetireItem):
        return retire_item(tap.work_item_id)
    if isinstance(tap, KeepItem):
        return keep_item()
    if isinstance(tap, ReviewTap):
        letter = next(k for k, (kind, _) in _REVIEW_KINDS.items() if isinstance(tap, kind))
        numbers = ":".join(str(value) for value in vars(tap).values())
        return f"{REVIEW}:{letter}:{numbers}"
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


def parse_review(data: str) -> ReviewTap | None:
    """An `rv:` button's data, or None when it is not one this version knows."""
    found = _REVIEW.fullmatch(data)
    if found is None:
        return None
    letter, first, second = found.groups()
    kind, pair = _REVIEW_KINDS[letter]
    if pair != (second is not None):
        return None
    numbers = [int(first)] + ([int(second)] if second is not None else [])
    return kind(*numbers)


def parse_people(data: str) -> PeopleTap | None:
    """A `pp:` button's data, or None when it is not one this version knows."""
    if data == _CANCEL:
        return CancelPeople()
    person = _PERSON.fullmatch(data)
    if person is not None:
        letter, number = person.groups()
        return _PERSON_KINDS[letter](int(number))
    successor = _SUCCESSOR.fullmatch(data)
    if successor is None:
        return None
    department, role = successor.groups()
    return InviteSuccessor(int(department), PersonRole(role))


def parse_roster(data: str) -> RosterTap | None:
    """A `ro:` button's data, or None when it is not one this version knows."""
    if data == _ROSTER_KEEP:
        return KeepItem()
    retire = _ROSTER_RETIRE.fullmatch(data)
    if retire is not None:
        return RetireItem(int(retire.group(1)))
    found = _ROSTER_FILE.fullmatch(data)
    if found is None:
        return None
    letter, digest = found.groups()
    if letter == "c":
        return CancelRoster(digest)
    return ApplyRoster(digest, drops=letter == "A")


def parse_section(data: str) -> SubmitFiled | None:
    """An `sf:` button's data, or None when it is not one this version knows."""
    found = _SECTION_SUBMIT.fullmatch(data)
    if found is None:
        return None
    period, item, seq = found.groups()
    return SubmitFiled(int(period), int(item), int(seq))


@dataclass(frozen=True)
class HistoryTap:
    """A page of a department's past reports on a key work item; `digest` None: the newest
    page, from the /history list."""

    department_id: int
    work_item_id: int
    page: int = 0
    digest: str | None = None


def history_page(department_id: int, work_item_id: int, page: int, digest: str) -> str:
    """A page button of the history (`page` under MAX_PAGES)."""
    return f"{HISTORY}:{department_id}:{work_item_id}:{page}:{digest[:DIGEST_LENGTH]}"


def open_history(department_id: int, work_item_id: int) -> str:
    """An item's button in the /history list."""
    return f"{HISTORY}:{department_id}:{work_item_id}"


def parse_history(data: str) -> HistoryTap | None:
    """A `hi:` button's data, or None when it is not one this version knows."""
    found = _HISTORY.fullmatch(data)
    if found is None:
        return None
    department, item, page, digest = found.groups()
    if page is None:
        return HistoryTap(int(department), int(item))
    return HistoryTap(int(department), int(item), int(page), digest)


def parse(
    data: str,
) -> ReportTap | ChooseLanguage | ReviewTap | PeopleTap | RosterTap | HistoryTap | None:
    """Any button's data."""
    parsers = (parse_report, parse_language, parse_review, parse_people, parse_roster,
               parse_history)  # fmt: skip
    for parser in parsers:
        found = parser(data)
        if found is not None:
            return found
    return None


def kind(data: str) -> str:
    """What a tap does, without the ids it carries, for the event log: the tap's name in
    snake case (`open_item`, `approve`, `draft_submit`), or `unknown` (old or forged)."""
    tap = parse(data) or parse_import(data) or parse_section(data)
    if tap is None:
        return "unknown"
    if isinstance(tap, OnDraft):
        return f"draft_{tap.action.value}"
    if isinstance(tap, OpenItem) and tap.revise:
        return "revise_item"
    if isinstance(tap, ImportTap):
        return "import_file" if tap.apply else "discard_import"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(tap).__name__).lower()
