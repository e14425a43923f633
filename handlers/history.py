"""/history: what a department handed in for one key work item, month by month, newest
first, a page a message with ◀ 较新 / 较早 ▶ buttons that turn the page in place.

A liaison or approver reads their own department's (private chat); a coordinator any
department's (`/history DEPT [ITEM]`, private chat or group, as /show). Which version of a
month is history, the item lookup and the pages: bot/core/history.py; the reads:
storage/history.py.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core.history import Lookup, PastMonth, history_digest, paginate, pick_item, split_text
from bot.core.review import match_department
from bot.core.status import DepartmentView, WorkItemView
from bot.core.summary import cell_paragraphs
from handlers import buttons
from handlers.buttons import MAX_PAGES, HistoryTap
from handlers.chunks import SCREEN_CHARS
from handlers.common import (
    Needs,
    Refusal,
    Role,
    Who,
    reply,
    require,
    with_db,
    with_db_or_refusal,
)
from storage import history as store

# A liaison's or approver's own department: in a private chat.
OWN = Needs(Role.BOUND, "not_allowed", stranger="stranger", private=True)
MAX_TEXT = 200  # of the item's name as typed
TITLE_CHARS = 24  # of a title on a button


def units(text: str) -> int:
    """What a message's text counts against the limit, at most: UTF-16 units of its source."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Screen:
    """One message: its text and buttons; `digest` the history's it shows (a page)."""

    text: str
    keyboard: list[list[InlineKeyboardButton]] | None = None
    digest: str = ""

    @property
    def markup(self) -> InlineKeyboardMarkup | None:
        return InlineKeyboardMarkup(self.keyboard) if self.keyboard else None


# --- which item ---------------------------------------------------------------------------


def _choices(sender: Who, items: list[WorkItemView], indexes: range | tuple[int, ...]) -> list[str]:
    return [sender.text("hist_choice", number=i + 1, title=items[i].title) for i in indexes]


def item_list(sender: Who, department: DepartmentView, items: list[WorkItemView], command: str
              ) -> Screen:  # fmt: skip
    """The department's items now, a button each: a tap shows its history."""
    if not items:
        return Screen(sender.text("hist_no_items", department=department.name))
    lines = _choices(sender, items, range(len(items)))
    rows = [
        [
            InlineKeyboardButton(
                sender.plain("hist_item_button", number=n, title=item.title[:TITLE_CHARS]),
                callback_data=buttons.open_history(department.id, item.id),
            )
        ]
        for n, item in enumerate(items, 1)
    ]
    text = sender.text("hist_choose", department=department.name, lines=lines, command=command)
    return Screen(text, rows)


def item_screen(
    sender: Who, db: Session, department: DepartmentView, wanted: str, command: str
) -> Screen:
    """The list without a name, the item's newest page with one, else the choices."""
    items = store.department_items(db, department.id)
    if not wanted:
        return item_list(sender, department, items, command)
    if not items:
        return Screen(sender.text("hist_no_items", department=department.name))
    found = pick_item(wanted, [item.title for item in items])
    if found.lookup is Lookup.FOUND and found.index is not None:
        return page_screen(sender, db, department, items[found.index].id, 0)
    if found.lookup is Lookup.AMBIGUOUS:
        lines = _choices(sender, items, found.candidates)
        first = found.candidates[0] + 1
        text = sender.text(
            "hist_ambiguous_item", text=wanted, lines=lines, command=command, first=first
        )
        return Screen(text)
    lines = _choices(sender, items, range(len(items)))
    return Screen(sender.text("hist_unknown_item", text=wanted, lines=lines, command=command))


# --- the pages ------------------------------------------------------------------------------


def _month_blocks(sender: Who, past: PastMonth, title: str, fits: int) -> list[str]:
    """The month's heading, then both cells as the document shows them, a block a
    paragraph; a paragraph too long for a page is split into blocks that fit."""
    blocks = [
        "\n"  # a blank line before each month
        + sender.text(
            "hist_month",
            month=past.month,
            title=past.title,
            renamed=past.title != title,
            imported=past.imported_from,
            is_open=past.is_open,
        )
    ]

    def line(piece: str) -> str:
        return sender.text("preview_line", paragraph=piece)

    for part, cell in (("part_progress", past.progress), ("part_plan", past.plan)):
        blocks.append(sender.text("preview_part", part=sender.plain(part)))
        for paragraph in cell_paragraphs(cell):
            pieces = split_text(paragraph, lambda piece: units(line(piece)) <= fits)
            blocks += [line(piece) for piece in pieces]
    return blocks


def page_screen(
    sender: Who, db: Session, department: DepartmentView, work_item_id: int, page: int
) -> Screen:
    """Page `page` (0: the newest; past the last: the last) of the department's history of
    the item, with the buttons to the newer and the older page."""
    months = store.item_history(db, department.id, work_item_id)
    title = store.item_title(db, work_item_id) or (months[0].title if months else "")
    if not months:
        return Screen(sender.text("hist_none", department=department.name, title=title))
    widest = sender.text(
        "hist_head", department=department.name, title=title, page=MAX_PAGES, pages=MAX_PAGES
    )
    body = SCREEN_CHARS - units(widest) - 1
    continued = ["\n" + sender.text("hist_continued", month=m.month) for m in months]
    per_block = body - max(units(c) for c in continued) - 1
    blocks = [_month_blocks(sender, m, title, per_block) for m in months]
    pages = paginate(blocks, lambda shown: units("\n".join(shown)) <= body, lambda i: continued[i])[
        :MAX_PAGES
    ]
    page = min(page, len(pages) - 1)
    head = sender.text(
        "hist_head", department=department.name, title=title, page=page + 1, pages=len(pages)
    )
    digest = history_digest(months)
    row = []
    if page > 0:
        data = buttons.history_page(department.id, work_item_id, page - 1, digest)
        row.append(InlineKeyboardButton(sender.plain("hist_btn_newer"), callback_data=data))
    if page < len(pages) - 1:
        data = buttons.history_page(department.id, work_item_id, page + 1, digest)
        row.append(InlineKeyboardButton(sender.plain("hist_btn_older"), callback_data=data))
    text = "\n".join([head, *pages[page]])
    return Screen(text, [row] if row else None, digest[: buttons.DIGEST_LENGTH])


# --- /history --------------------------------------------------------------------------------


def _coordinator_screen(sender: Who, db: Session, args: list[str]) -> Screen:
    departments = store.all_departments(db)
    codes = [d.code for d in departments]
    if not args:
        raise Refusal(sender.text("hist_usage", codes=codes))
    found = match_department(departments, args[0][:64])
    if found is None:
        raise Refusal(sender.text("hist_unknown_department", text=args[0][:64], codes=codes))
    wanted = " ".join(args[1:])[:MAX_TEXT]
    return item_screen(sender, db, found, wanted, f"/history {found.code}")


async def history_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/history [ITEM] (a liaison or approver: their department), /history DEPT [ITEM]
    (a coordinator)."""
    args = list(context.args or [])

    def work(db: Session, sender: Who) -> Screen:
        # A coordinator names the department (anywhere, as /show); one who is also a
        # department's liaison and names none reads their own, as a liaison does.
        names_one = bool(args) and match_department(store.all_departments(db), args[0][:64])
        who = sender.identity
        liaison_too = (who.is_liaison or who.is_approver) and not who.revoked
        if sender.is_a(Role.COORDINATOR) and (names_one or not liaison_too):
            return _coordinator_screen(sender, db, args)
        require(sender, OWN)
        own = sender.identity.department
        assert own is not None
        department = DepartmentView(own.id, own.name, own.code)
        return item_screen(sender, db, department, " ".join(args)[:MAX_TEXT], "/history")

    shown = await with_db_or_refusal(update, context, work)
    if shown is not None:
        await reply(update, shown.text, shown.markup)


# --- taps ------------------------------------------------------------------------------------


@dataclass
class Tapped:
    """What a tap does: a short answer (an alert), the tapped message's new content, or a
    new message (the list's item: the list stays)."""

    answer: str | None = None
    edit: Screen | None = None
    new: Screen | None = None


def _readable(sender: Who, db: Session, tap: HistoryTap) -> DepartmentView | str:
    """The department whose history the sender may read here, or the refusal to answer:
    a coordinator any; a liaison or approver their own, on an item it reports on or once
    handed in for."""
    department = store.department(db, tap.department_id)
    if sender.is_a(Role.COORDINATOR):
        if department is None or store.item_title(db, tap.work_item_id) is None:
            return sender.plain("stale_button")
        return department
    refusal = sender.refused(OWN)
    if refusal is not None:
        return sender.plain(refusal)
    own = sender.identity.department
    if department is None or own is None or own.id != department.id:
        return sender.plain("hist_not_yours")
    owned = {item.id for item in store.department_items(db, department.id)}
    if tap.work_item_id not in owned and not store.has_history(db, own.id, tap.work_item_id):
        return sender.plain("hist_not_yours")
    return department


def _tap(sender: Who, db: Session, tap: HistoryTap | None) -> Tapped:
    if tap is None:  # forged or unknown
        return Tapped(sender.plain("stale_button"))
    department = _readable(sender, db, tap)
    if isinstance(department, str):
        return Tapped(department)
    shown = page_screen(sender, db, department, tap.work_item_id, tap.page)
    if tap.digest is None:
        return Tapped(new=shown)
    if shown.digest != tap.digest:  # an old page: the history changed since
        fresh = page_screen(sender, db, department, tap.work_item_id, 0)
        return Tapped(sender.plain("hist_changed"), edit=fresh)
    return Tapped(edit=shown)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every `hi:` button: an item of the /history list, or a page turned."""
    query = update.callback_query
    assert query is not None and query.data is not None
    tap = buttons.parse_history(query.data)
    tapped = await with_db(update, context, lambda db, sender: _tap(sender, db, tap))
    with contextlib.suppress(BadRequest):  # answered already or too old: the rest applies
        await query.answer(tapped.answer[:200] if tapped.answer else None)
    if tapped.edit is not None:
        try:
            await query.edit_message_text(tapped.edit.text, reply_markup=tapped.edit.markup)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():  # too old to edit: a new message
                await reply(update, tapped.edit.text, tapped.edit.markup)
    if tapped.new is not None:
        await reply(update, tapped.new.text, tapped.new.markup)
