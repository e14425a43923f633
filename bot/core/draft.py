"""The liaison's draft for one key work item, and what each input does to it.

Telegram-free: handlers/report.py turns messages and taps into these calls
and renders the result. A liaison's drafts, with where their chat stands, form a
`DraftBook`, kept as plain data in the database (storage.drafts) so it survives restarts
and days of silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from bot.core.items import (
    Section,
    clean_item,
    continue_items,
    is_chatter,
    split_items,
    split_sections,
)

# A message longer than the chat delivers in one is refused by the handlers
# (handlers/chunks.py, Rejection.TOO_LONG) before a draft reads it.
MAX_ITEM_CHARS = 3000  # one item must fit one chat message with its number and markup
MAX_ITEMS = 30  # per cell; more would not fit a keyboard of item numbers


class Part(StrEnum):
    PROGRESS = "progress"
    PLAN = "plan"


class Step(StrEnum):
    COLLECT = "collect"  # adding items to the current part
    EDIT = "edit"  # choosing an item of the current part to change
    ITEM = "item"  # choosing what to do with the selected item
    REPLACE = "replace"  # the next message replaces the selected item
    INSERT = "insert"  # the next message is inserted after the selected item
    PREVIEW = "preview"  # both cells as the document shows them
    CONFIRM_CANCEL = "confirm_cancel"
    CONFLICT = "conflict"  # someone else submitted since this draft began
    CONFIRM_SECTIONS = "confirm_sections"  # a paste held both parts: fill both?
    CONFIRM_CHATTER = "confirm_chatter"  # a message that looks like chat: add it?


class Rejection(StrEnum):
    """Why a message was not taken; the draft is unchanged."""

    EMPTY = "empty"
    TOO_LONG = "too_long"  # longer than a chat message: the handlers refuse it
    ITEM_TOO_LONG = "item_too_long"
    TOO_MANY = "too_many"
    ONLY_HEADING = "only_heading"  # a part's heading and nothing under it


@dataclass
class Draft:
    period_id: int
    work_item_id: int
    department_id: int
    read_version: int  # the submission's version when this draft began
    progress: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    part: Part = Part.PROGRESS
    step: Step = Step.COLLECT
    selected: int | None = None
    seq: int = 0  # bumped on every change; buttons carry it so old ones are recognised
    previous_plan: list[str] = field(default_factory=list)
    step_before_cancel: Step | None = None
    # Which items each of the liaison's messages became (message id → part and items), so
    # a Telegram edit of, or reply to, that message corrects them. Older drafts lack it.
    origins: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A message held until the liaison answers a question about it: the text, the
    # step it arrived in, and (CONFIRM_SECTIONS) the items it holds for each part.
    pending: str | None = None
    pending_step: Step | None = None
    pending_progress: list[str] = field(default_factory=list)
    pending_plan: list[str] = field(default_factory=list)
    # Lines the last message added to the last item (a sub-item sent on its own), so
    # that undo takes back that message rather than the whole item.
    extended: int | None = None

    # --- storage ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """What dataclasses.asdict gives, several times faster (saved on every step)."""
        return {name: _plain(getattr(self, name)) for name in _DRAFT_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Draft:
        """A stored draft; one stored before a field existed gets its default."""
        draft = cls(**data)
        draft.part = Part(draft.part)
        draft.step = Step(draft.step)
        if draft.step_before_cancel is not None:
            draft.step_before_cancel = Step(draft.step_before_cancel)
        if draft.pending_step is not None:
            draft.pending_step = Step(draft.pending_step)
        return draft

    def note_origin(self, message_id: int, items: list[str]) -> None:
        """Remember that a message of the liaison became these items of the current part."""
        self.origins[str(message_id)] = {"part": self.part.value, "items": list(items)}

    def retake(self, message_id: int, text: str) -> Rejection | int | None:
        """A corrected message replaces the items it became: how many now stand in their
        place, or None when they have been changed since (nothing replaced)."""
        origin = self.origins.get(str(message_id))
        if origin is None:
            return None
        new = accept(text)
        if isinstance(new, Rejection):
            return new
        items = self.progress if origin["part"] == Part.PROGRESS.value else self.plan
        old: list[str] = origin["items"]
        start = next(
            (i for i in range(len(items) - len(old) + 1) if items[i : i + len(old)] == old),
            None,
        )
        if start is None or not old:
            return None
        if len(items) - len(old) + len(new) > MAX_ITEMS:
            return Rejection.TOO_MANY
        items[start : start + len(old)] = new
        origin["items"] = list(new)
        self._changed()
        return len(new)

    # --- reading ------------------------------------------------------------

    @property
    def items(self) -> list[str]:
        return self.progress if self.part is Part.PROGRESS else self.plan

    @property
    def empty(self) -> bool:
        return not (self.progress or self.plan)

    @property
    def repeats_last_month(self) -> bool:
        return bool(self.previous_plan) and self.progress == self.previous_plan

    # --- changing -----------------------------------------------------------

    def _changed(self, step: Step | None = None) -> None:
        self.seq += 1
        self.extended = None
        if step is not None:
            self.step = step

    def part_items(self, part: Part) -> list[str]:
        return self.progress if part is Part.PROGRESS else self.plan

    def take(self, text: str) -> Rejection | None:
        """A text message in the current step: add, replace or insert items.

        A paste holding the other part under its heading, and a message that looks
        like chat, are held (CONFIRM_SECTIONS, CONFIRM_CHATTER) until the liaison
        answers; the heading of the current part is dropped.
        """
        if self.step is Step.COLLECT:
            segments = split_sections(text)
            if segments is not None:
                return self._take_sections(text, segments)
        if is_chatter(text):
            self._hold(text, [], [])
            self._changed(Step.CONFIRM_CHATTER)
            return None
        return self._add(text)

    def _take_sections(
        self, text: str, segments: list[tuple[Section | None, str]]
    ) -> Rejection | None:
        bodies: dict[Part, list[str]] = {Part.PROGRESS: [], Part.PLAN: []}
        for section, body in segments:
            # Text before the first heading is progress: the items above a plan
            # heading, or the title of a report whose first heading is progress.
            bodies[Part.PROGRESS if section is None else Part(section.value)].append(body)
        other = Part.PLAN if self.part is Part.PROGRESS else Part.PROGRESS
        if not any(bodies[other]):
            mine = "\n".join(bodies[self.part])
            if mine.strip():
                return self._add(mine)
            if bodies[other]:  # the other part's heading alone: the liaison moves on to it
                self.part = other
                self._changed(Step.COLLECT)
                return None
            return Rejection.ONLY_HEADING
        found: dict[Part, list[str]] = {}
        for part, texts in bodies.items():
            body = "\n".join(texts)
            items = accept(body, start=len(self.part_items(part)) + 1) if body.strip() else []
            if isinstance(items, Rejection):
                return items
            if len(self.part_items(part)) + len(items) > MAX_ITEMS:
                return Rejection.TOO_MANY
            found[part] = items
        self._hold(text, found[Part.PROGRESS], found[Part.PLAN])
        self._changed(Step.CONFIRM_SECTIONS)
        return None

    def _hold(self, text: str, progress: list[str], plan: list[str]) -> None:
        self.pending, self.pending_step = text, self.step
        self.pending_progress, self.pending_plan = progress, plan

    def _release(self) -> tuple[str, Step]:
        text, step = self.pending or "", self.pending_step or Step.COLLECT
        self.pending, self.pending_step = None, None
        self.pending_progress, self.pending_plan = [], []
        return text, step

    def accept_sections(self) -> None:
        """The held paste fills both parts as it was split; then the preview, or the
        part still empty."""
        progress, plan = self.pending_progress, self.pending_plan
        self._release()
        self.progress.extend(progress)
        self.plan.extend(plan)
        if not self.progress or not self.plan:
            self.part = Part.PLAN if self.progress else Part.PROGRESS
            self._changed(Step.COLLECT)
        else:
            self._changed(Step.PREVIEW)

    def reject_sections(self) -> Rejection | None:
        """The held paste is ordinary items of the current part, headings and all."""
        return self._add_held()

    def add_pending(self) -> Rejection | None:
        """The held message is an item after all: taken as it would have been."""
        return self._add_held()

    def drop_pending(self) -> None:
        """The held message was chat: forgotten, back to the step it arrived in."""
        _, step = self._release()
        self._changed(step)

    def _add_held(self) -> Rejection | None:
        text, step = self.pending or "", self.pending_step or Step.COLLECT
        asked = self.step
        self.step = step
        rejection = self._add(text)
        if rejection is None:
            self._release()
        else:
            self.step = asked
        return rejection

    def _add(self, text: str) -> Rejection | None:
        """Add, replace or insert the items of a message, as the step says."""
        current = self.items
        grew = 0  # lines the message added to the last item
        if self.step is Step.REPLACE and self.selected is not None:
            items = accept(text, one=True)
            if isinstance(items, Rejection):
                return items
            current[self.selected] = items[0]
        else:
            inserting = self.step is Step.INSERT and self.selected is not None
            at = (self.selected or 0) + 1 if inserting else len(current)
            taken = accept_after(text, current[at - 1] if at else None, start=at + 1)
            if isinstance(taken, Rejection):
                return taken
            before, items = taken
            if len(current) + len(items) > MAX_ITEMS:
                return Rejection.TOO_MANY
            if at:
                if not items and at == len(current):
                    grew = before.count("\n") - current[at - 1].count("\n")
                current[at - 1] = before
            current[at:at] = items
        self.selected = None
        self._changed(Step.COLLECT)
        self.extended = grew or None
        return None

    def undo(self) -> bool:
        """Take back the last item, or the last message's lines of it."""
        if not self.items:
            return False
        if self.extended:
            lines = self.items[-1].split("\n")
            self.items[-1] = "\n".join(lines[: -self.extended])
        else:
            self.items.pop()
        self._changed(Step.COLLECT)
        return True

    def fill(self, progress: list[str], plan: list[str]) -> None:
        """Both parts at once, as a section file gave them: the preview next, whatever
        the draft held or was asking."""
        self.progress, self.plan = list(progress), list(plan)
        self.part, self.selected, self.step_before_cancel = Part.PROGRESS, None, None
        self.origins = {}
        self.pending, self.pending_step = None, None
        self.pending_progress, self.pending_plan = [], []
        self._changed(Step.PREVIEW)

    def carry_forward(self) -> None:
        """Start this month's progress from last month's plan."""
        self.progress = list(self.previous_plan)
        self.part = Part.PROGRESS
        self._changed(Step.COLLECT)

    def finish_part(self) -> bool:
        """Done with this cell: progress → plan → preview. An empty cell cannot be finished."""
        if not self.items:
            return False
        if self.part is Part.PROGRESS and not self.plan:
            self.part = Part.PLAN
            self._changed(Step.COLLECT)
        else:
            self._changed(Step.PREVIEW)
        return True

    def change(self, part: Part) -> None:
        """From the preview back to one cell."""
        self.part = part
        self._changed(Step.COLLECT)

    def edit(self) -> None:
        self.selected = None
        self._changed(Step.EDIT)

    def select(self, index: int) -> bool:
        if not 0 <= index < len(self.items):
            return False
        self.selected = index
        self._changed(Step.ITEM)
        return True

    def start_replace(self) -> None:
        self._changed(Step.REPLACE)

    def start_insert(self) -> None:
        self._changed(Step.INSERT)

    def delete(self) -> None:
        if self.selected is not None and self.selected < len(self.items):
            del self.items[self.selected]
        self.selected = None
        self._changed(Step.EDIT if self.items else Step.COLLECT)

    def move(self, delta: int) -> None:
        index = self.selected
        items = self.items
        if index is None or not 0 <= index + delta < len(items):
            return
        items[index], items[index + delta] = items[index + delta], items[index]
        self.selected = index + delta
        self._changed(Step.ITEM)

    def back(self) -> None:
        """Leave editing for collecting (or the preview when both cells are done)."""
        self.selected = None
        self._changed(Step.COLLECT)

    def ask_cancel(self) -> None:
        self.step_before_cancel = self.step
        self._changed(Step.CONFIRM_CANCEL)

    def keep_going(self) -> None:
        self._changed(self.step_before_cancel or Step.COLLECT)
        self.step_before_cancel = None

    def conflict(self, version: int) -> None:
        self.read_version = version
        self._changed(Step.CONFLICT)

    def take_theirs(self, progress: list[str], plan: list[str]) -> None:
        self.progress, self.plan = list(progress), list(plan)
        self._changed(Step.PREVIEW)


_DRAFT_FIELDS = tuple(f.name for f in fields(Draft))


def _plain(value: Any) -> Any:
    """A copy of a stored value: lists and dicts copied, everything else as it is."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# --- a liaison's drafts ----------------------------------------------------------------

ItemKey = tuple[int, int]  # (period id, work item id): one draft per item and period
KEPT_ECHOES = 40  # bot messages remembered as echoes of the liaison's messages


def _item_key(draft: Draft) -> ItemKey:
    return draft.period_id, draft.work_item_id


@dataclass
class DraftBook:
    """A liaison's drafts (one per key work item and period, one of them open) and where
    their chat stands. Saved with every accepted message, as plain data (to_plain)."""

    drafts: dict[ItemKey, Draft] = field(default_factory=dict)
    current: ItemKey | None = None  # the open draft, the one messages go to
    # Drafts their author may no longer submit (rights lost), kept for the record.
    readonly: dict[ItemKey, Draft] = field(default_factory=dict)
    screen: int | None = None  # the bot message with the live keyboard
    kept: bool = False  # that message is a result worth keeping: a tap does not edit it
    # Bot message → the liaison's message it echoes (a reply to the echo corrects that
    # message's items); the newest last, at most KEPT_ECHOES.
    echoes: dict[int, int] = field(default_factory=dict)

    def open_draft(self) -> Draft | None:
        return self.drafts.get(self.current) if self.current is not None else None

    def draft_for(self, period_id: int, work_item_id: int) -> Draft | None:
        return self.drafts.get((period_id, work_item_id))

    def drafted(self, period_id: int) -> set[int]:
        """The key work items of a period that have a draft."""
        return {item for period, item in self.drafts if period == period_id}

    def keep(self, draft: Draft) -> None:
        """Save the draft and make it the open one."""
        self.drafts[_item_key(draft)] = draft
        self.current = _item_key(draft)

    def drop(self, draft: Draft) -> None:
        """Forget a draft (submitted or discarded); no draft is open then."""
        self.drafts.pop(_item_key(draft), None)
        self.current = None

    def freeze(self, draft: Draft) -> None:
        """Keep a draft its author may no longer submit, read-only, and drop it."""
        self.readonly[_item_key(draft)] = draft
        self.drop(draft)

    def shown(self, screen: int | None, kept: bool, echo: tuple[int, int] | None) -> None:
        """After sending: which message carries the live keyboard, and which bot message
        echoes which of the liaison's messages."""
        self.screen, self.kept = screen, kept
        if echo is not None:
            echoes = {**self.echoes, echo[0]: echo[1]}
            self.echoes = dict(list(echoes.items())[-KEPT_ECHOES:])

    def echoed(self, bot_message_id: int) -> int | None:
        """The liaison's message a bot message echoes, if it does."""
        return self.echoes.get(bot_message_id)

    # --- plain data (the database's JSON) ----------------------------------------------

    def to_plain(self) -> dict[str, Any]:
        return {
            "drafts": {_key_text(key): d.to_dict() for key, d in self.drafts.items()},
            "current": None if self.current is None else _key_text(self.current),
            "readonly": {_key_text(key): d.to_dict() for key, d in self.readonly.items()},
            "screen": self.screen,
            "kept": self.kept,
            "echoes": {str(bot): liaison for bot, liaison in self.echoes.items()},
        }

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> DraftBook:
        """What to_plain stored, or what an older version did (any key may be missing; the
        open draft's key may name a draft that is gone)."""
        drafts = _drafts(data.get("drafts"))
        current = _key_of(data.get("current"))
        return cls(
            drafts=drafts,
            current=current if current in drafts else None,
            readonly=_drafts(data.get("readonly")),
            screen=data.get("screen"),
            kept=bool(data.get("kept", False)),
            echoes={int(bot): liaison for bot, liaison in (data.get("echoes") or {}).items()},
        )


def _key_text(key: ItemKey) -> str:
    return f"{key[0]}:{key[1]}"


def _key_of(text: object) -> ItemKey | None:
    period, _, item = str(text).partition(":")
    if not (period.isascii() and period.isdigit() and item.isascii() and item.isdigit()):
        return None
    return int(period), int(item)


def _drafts(stored: dict[str, Any] | None) -> dict[ItemKey, Draft]:
    found = ((_key_of(text), plain) for text, plain in (stored or {}).items())
    return {key: Draft.from_dict(plain) for key, plain in found if key is not None}


def accept_after(text: str, before: str | None, *, start: int) -> tuple[str, list[str]] | Rejection:
    """A message added after the item `before` (None: at the top): `before` as the
    message leaves it, and the new items; or why it cannot be taken.

    A message that goes on with a sub-list `before` opened ("…专栏：" then "1.推出…")
    extends that item instead of adding one.
    """
    if before is None:
        grown, items = "", split_items(text, start=start)
    else:
        grown, items = continue_items(text, before, start)
    items = [item for item in items if item]
    extended = [grown] if grown != (before or "") else []
    if not items and not extended:
        return Rejection.EMPTY
    if any(len(item) > MAX_ITEM_CHARS for item in (*extended, *items)):
        return Rejection.ITEM_TOO_LONG
    if len(items) > MAX_ITEMS:
        return Rejection.TOO_MANY
    return grown, items


def accept(text: str, *, one: bool = False, start: int = 1) -> list[str] | Rejection:
    """The items in a message, or why it cannot be taken.

    A message with numbering is split into items; without, it is one item.
    `one` (replacing an item) keeps the whole message as that item. `start` is the
    number the first new item gets in the draft, so a liaison's own "（2）" on the
    second item is read as numbering.
    """
    items = [clean_item(text)] if one else split_items(text, start=start)
    items = [item for item in items if item]
    if not items:
        return Rejection.EMPTY
    if any(len(item) > MAX_ITEM_CHARS for item in items):
        return Rejection.ITEM_TOO_LONG
    if len(items) > MAX_ITEMS:
        return Rejection.TOO_MANY
    return items
