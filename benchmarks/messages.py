"""Message counts: what a liaison receives while reporting, and how much they must do.

The real bot (the Application `huibao run` builds) long-polls the Bot API test double
(bot/double) on loopback, in this process, as the tests run it; a simulated liaison
of 组织部 reports from the sample month (bot/demo/sample_month.py):

  a. one key work item from two pasted blocks: /report, tap the item, paste the
     progress block, ✅, paste the plan block, ✅, 📤 submit;
  b. the department's three key work items, each reported that way (the next item is
     tapped from the list the bot shows after a submit; /report again only when no
     list is on screen);
  c. as (a), plus one typo fix of progress item 2 (replace it) and one reorder (move
     the last progress item up) before finishing the progress cell.

Counted from the double's recorded requests to the liaison's chat, from /report on:
new bot messages (sendMessage, sendDocument, …), edits (editMessageText,
editMessageReplyMarkup, editMessageCaption), the visible characters of the new
messages (and of the edits, apart), the liaison's actions (messages sent + buttons
tapped), and how many of the bot messages sent from /report on still carry an inline
keyboard at the end.

Buttons are found by their callback data, not their labels, so the script keeps
working when the wording changes (handlers/buttons.py builds and parses them): one opens
an item, the others act on the draft (done, edit, pick:<index>, replace, up, back,
submit, …). The button is looked for on the most recently sent or
edited bot message that has a keyboard, as a liaison would see it; when the action is
not there, the usual way to it is tried first (e.g. ✏️ edit before picking an item, back
before ✅). A step that still cannot be found makes that case "n/a" with the reason,
and every case checks that what was stored is what the liaison meant.

    .venv/bin/python benchmarks/messages.py
    .venv/bin/python benchmarks/messages.py --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlmodel import select  # noqa: E402

from bot.core.periods import parse_due  # noqa: E402
from bot.demo.sample_month import SAMPLE_RAW, SAMPLE_ROWS, SAMPLE_TITLES  # noqa: E402
from bot.double import FakeUser, SentMessage, parse_html  # noqa: E402
from handlers import buttons  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.models import Department, Submission, WorkItem  # noqa: E402
from storage.periods import get_period, open_period  # noqa: E402
from tests.harness import Harness  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROSTER = ROOT / "examples" / "roster.toml"
MONTH, DUE = "2015-10", "2015-11-05 17:00"
NOW = datetime(2015, 11, 2, 2, 0, tzinfo=UTC)  # before the due time
DEPARTMENT, LIAISON_ID, LIAISON_NAME = "org", 4_000_001, "王芳"

NEW_MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendAudio",
        "sendVideo",
        "sendVoice",
        "sendAnimation",
        "sendSticker",
        "sendVideoNote",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
    }
)
EDIT_METHODS = frozenset({"editMessageText", "editMessageReplyMarkup", "editMessageCaption"})

# How a liaison usually gets to a button that is not on screen: the buttons to try first.
ROUTES: dict[str, tuple[str, ...]] = {
    "pick": ("edit",),  # ✏️ edit lists the items by number
    "done": ("back", "edit"),  # from an item: back to the list, back to collecting
    "submit": ("done",),
}

# Row 2 of the sample month, pasted with a typo in progress item 2 that case (c) fixes.
TYPO_ROW = 2
TYPO_RIGHT, TYPO_WRONG = "第一赛季", "第一塞季"


class NotFound(Exception):
    """A step of the flow is not on the bot's screen: the case is n/a, with this reason."""


@dataclass
class Figures:
    case: str
    new_messages: int | None = None
    edits: int | None = None
    characters: int | None = None  # visible characters of the new messages
    edited_characters: int | None = None  # visible characters of the edits
    actions: int | None = None  # liaison's messages + taps
    live_keyboards: int | None = None  # bot messages with an inline keyboard at the end
    stored_as_meant: bool | None = None
    note: str = ""
    failed_requests: list[str] = field(default_factory=list)


def visible(params: dict[str, Any]) -> str:
    """The text the user sees of a send or edit (HTML tags removed)."""
    text = params.get("text", params.get("caption", ""))
    if not isinstance(text, str):
        return ""
    mode = params.get("parse_mode")
    if isinstance(mode, str) and mode.lower() == "html":
        return parse_html(text).text
    return text


def chat_of(params: dict[str, Any]) -> int | None:
    try:
        return int(params["chat_id"])
    except (KeyError, TypeError, ValueError):
        return None


def parse_data(data: str) -> tuple[str, int | None] | None:
    """A button acting on the draft → (action, arg); None for other buttons."""
    tap = buttons.parse_report(data)
    if not isinstance(tap, buttons.OnDraft):
        return None
    return tap.action.value, tap.arg


class Liaison:
    """A liaison acting on what the bot currently shows, counting every action."""

    def __init__(self, harness: Harness, user: FakeUser) -> None:
        self.harness = harness
        self.user = user
        self.actions = 0

    # --- what is on screen -------------------------------------------------------

    def screens(self) -> list[SentMessage]:
        """Bot messages with an inline keyboard, most recently sent or edited first."""
        chat = self.harness.double.chat(self.user.id)
        order: list[int] = []
        for mid in reversed(chat.touches):
            if mid not in order:
                order.append(mid)
        found = []
        for mid in order:
            message = chat.messages.get(mid)
            if message and message.from_bot and not message.deleted and message.button_rows:
                found.append(message)
        return found

    def current(self) -> SentMessage | None:
        shown = self.screens()
        return shown[0] if shown else None

    def find(self, action: str, arg: int | None = None) -> tuple[SentMessage, str] | None:
        screen = self.current()
        if screen is None:
            return None
        for row in screen.button_rows:
            for button in row:
                parsed = parse_data(button.callback_data or "")
                if parsed and parsed[0] == action and (arg is None or parsed[1] == arg):
                    return screen, button.callback_data or ""
        return None

    def describe(self) -> str:
        screen = self.current()
        if screen is None:
            return "no bot message with buttons"
        data = [b.callback_data or b.text for row in screen.button_rows for b in row]
        return f"on screen: {data}"

    # --- acting ------------------------------------------------------------------

    async def send(self, text: str) -> None:
        self.actions += 1
        await self.user.send(text)

    async def tap_data(self, message: SentMessage, data: str) -> None:
        self.actions += 1
        await self.user.tap(data=data, message=message)

    async def tap(self, action: str, arg: int | None = None) -> None:
        """Tap the draft's `action` button, going the usual way to it if it is not shown."""
        for _ in range(4):
            found = self.find(action, arg)
            if found is not None:
                await self.tap_data(*found)
                return
            way = next((w for w in ROUTES.get(action, ()) if self.find(w) is not None), None)
            if way is None:
                break
            found = self.find(way)
            assert found is not None
            await self.tap_data(*found)
        shown = f"{action}:{arg}" if arg is not None else action
        raise NotFound(f"no button rp:<seq>:{shown} ({self.describe()})")

    async def open_item(self, period_id: int, item_id: int, title: str) -> None:
        """Tap the item in the list on screen; /report first when there is none."""
        for attempt in range(2):
            found = self.item_button(period_id, item_id, title)
            if found is not None:
                await self.tap_data(*found)
                return
            if attempt == 0:
                await self.send("/report")
        raise NotFound(f"no button opening {title!r} after /report ({self.describe()})")

    def item_button(
        self, period_id: int, item_id: int, title: str
    ) -> tuple[SentMessage, str] | None:
        exact = buttons.open_item(period_id, item_id)
        for screen in self.screens()[:1]:
            shown = [b for row in screen.button_rows for b in row if b.callback_data]
            for button in shown:
                if button.callback_data == exact:
                    return screen, exact
            for button in shown:  # another data scheme: the item's title on the button
                if title[:10] in button.text and button.callback_data:
                    return screen, button.callback_data
        return None


# --- one case ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    title: str
    progress: list[str]
    plan: list[str]


Flow = Callable[[Liaison, int, dict[str, int]], Awaitable[list[Expected]]]


async def report_pasted(
    liaison: Liaison, period_id: int, ids: dict[str, int], row: int
) -> Expected:
    """One key work item from the sample month's two pasted blocks."""
    title = SAMPLE_TITLES[row - 1]
    progress, plan = SAMPLE_RAW[row]
    await liaison.open_item(period_id, ids[title], title)
    await liaison.send(progress)
    await liaison.tap("done")
    await liaison.send(plan)
    await liaison.tap("done")
    await liaison.tap("submit")
    return Expected(title, *SAMPLE_ROWS[row])


async def case_a(liaison: Liaison, period_id: int, ids: dict[str, int]) -> list[Expected]:
    return [await report_pasted(liaison, period_id, ids, TYPO_ROW)]


async def case_b(liaison: Liaison, period_id: int, ids: dict[str, int]) -> list[Expected]:
    return [await report_pasted(liaison, period_id, ids, row) for row in (1, 2, 3)]


async def case_c(liaison: Liaison, period_id: int, ids: dict[str, int]) -> list[Expected]:
    """(a) with a typo in progress item 2, fixed by replacing it, and the last item moved up."""
    title = SAMPLE_TITLES[TYPO_ROW - 1]
    progress_text, plan_text = SAMPLE_RAW[TYPO_ROW]
    progress, plan = SAMPLE_ROWS[TYPO_ROW]
    assert TYPO_RIGHT in progress[1]
    await liaison.open_item(period_id, ids[title], title)
    await liaison.send(progress_text.replace(TYPO_RIGHT, TYPO_WRONG, 1))
    await liaison.tap("pick", 1)
    await liaison.tap("replace")
    await liaison.send(progress[1])
    last = len(progress) - 1
    await liaison.tap("pick", last)
    await liaison.tap("up")
    await liaison.tap("done")
    await liaison.send(plan_text)
    await liaison.tap("done")
    await liaison.tap("submit")
    moved = [*progress[: last - 1], progress[last], progress[last - 1]]
    return [Expected(title, moved, plan)]


CASES: list[tuple[str, str, Flow]] = [
    ("a", "one key work item, two pasted blocks", case_a),
    ("b", "a department's three key work items, each so", case_b),
    ("c", "(a) + a typo fix of item 2 + one reorder", case_c),
]


def stored_as_meant(harness: Harness, expected: list[Expected]) -> tuple[bool, str]:
    with session_scope(harness.engine) as db:
        period = get_period(db, MONTH)
        department = db.exec(select(Department).where(Department.code == DEPARTMENT)).one()
        assert period is not None
        for want in expected:
            item = db.exec(select(WorkItem).where(WorkItem.title == want.title)).one()
            found = db.exec(
                select(Submission).where(
                    Submission.period_id == period.id,
                    Submission.work_item_id == item.id,
                    Submission.department_id == department.id,
                )
            ).first()
            if found is None or found.status != "submitted":
                return False, f"{want.title}: not submitted"
            if (found.progress, found.plan) != (want.progress, want.plan):
                return False, f"{want.title}: stored items differ from what was meant"
    return True, ""


def count(harness: Harness, chat_id: int, start: int, earlier: set[int], figures: Figures) -> None:
    """Figures from the requests since `start`; keyboards on messages not in `earlier`."""
    calls = [c for c in harness.double.calls[start:] if chat_of(c.params) == chat_id]
    ok = [c for c in calls if c.status == 200]
    sends = [c for c in ok if c.method in NEW_MESSAGE_METHODS]
    edits = [c for c in ok if c.method in EDIT_METHODS]
    figures.new_messages = len(sends)
    figures.edits = len(edits)
    figures.characters = sum(len(visible(c.params)) for c in sends)
    figures.edited_characters = sum(len(visible(c.params)) for c in edits)
    figures.failed_requests = [
        f"{c.method} {c.status} {c.description}" for c in calls if c.status != 200
    ]
    figures.live_keyboards = sum(
        1
        for m in harness.double.messages_in(chat_id)
        if m.button_rows and m.message_id not in earlier
    )


async def run_case(key: str, flow: Flow, workdir: Path) -> Figures:
    figures = Figures(case=key)
    engine = make_engine(f"sqlite:///{workdir / f'case_{key}.db'}")
    upgrade(engine)
    harness = Harness(engine=engine, roster=ROSTER, log_level="WARNING")
    await harness.start()
    try:
        with session_scope(engine) as db:
            period = open_period(db, MONTH, parse_due(DUE, SHANGHAI))
            period_id = period.id or 0
            ids = {w.title: w.id or 0 for w in db.exec(select(WorkItem))}
        harness.now = NOW
        user = await harness.liaison(DEPARTMENT, LIAISON_ID, LIAISON_NAME)
        liaison = Liaison(harness, user)
        start = len(harness.double.calls)
        earlier = {m.message_id for m in harness.double.messages_in(user.id)}
        try:
            expected = await flow(liaison, period_id, ids)
        except NotFound as exc:
            figures.note = f"n/a: {exc}"
            return figures
        figures.actions = liaison.actions
        count(harness, user.id, start, earlier, figures)
        figures.stored_as_meant, why = stored_as_meant(harness, expected)
        figures.note = why
    finally:
        await harness.close()
        engine.dispose()
    return figures


# --- output -----------------------------------------------------------------------------

COLUMNS = [
    ("case", "case"),
    ("new_messages", "new msgs"),
    ("edits", "edits"),
    ("characters", "chars (new)"),
    ("edited_characters", "chars (edits)"),
    ("actions", "actions"),
    ("live_keyboards", "live keyboards"),
    ("stored_as_meant", "stored as meant"),
]


def table(results: list[Figures]) -> str:
    def cell(value: Any) -> str:
        if value is None:
            return "n/a"
        if isinstance(value, bool):
            return "yes" if value else "NO"
        return f"{value:,}" if isinstance(value, int) else str(value)

    titles = {key: title for key, title, _ in CASES}
    header = "| " + " | ".join(label for _, label in COLUMNS) + " |"
    rule = "|---|" + "---:|" * (len(COLUMNS) - 1)
    lines = [header, rule]
    for r in results:
        values = [f"{r.case}. {titles[r.case]}"]
        values += [cell(getattr(r, name)) for name, _ in COLUMNS[1:]]
        lines.append("| " + " | ".join(values) + " |")
    notes = [f"{r.case}: {r.note}" for r in results if r.note]
    notes += [f"{r.case}: failed request {f}" for r in results for f in r.failed_requests]
    return "\n".join(lines + (["", *notes] if notes else []))


async def main_async(chosen: list[str]) -> list[Figures]:
    results = []
    with tempfile.TemporaryDirectory(prefix="huibao_messages_") as tmp:
        for key, _, flow in CASES:
            if key in chosen:
                results.append(await run_case(key, flow, Path(tmp)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--case", action="append", choices=[k for k, _, _ in CASES], help="only these cases"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results = asyncio.run(main_async(args.case or [k for k, _, _ in CASES]))
    print(table(results))
    if args.json:
        payload = {
            "benchmark": "messages",
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "cases": {key: title for key, title, _ in CASES},
            "results": [asdict(r) for r in results],
        }
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
