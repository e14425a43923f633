"""A liaison's drafts as the database keeps them: typed in bot.core.draft.DraftBook, stored
as plain JSON by storage.drafts, and rows written by earlier versions load the same."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.core.draft import KEPT_ECHOES, Draft, DraftBook, Step
from storage import drafts
from storage.db import session_scope
from storage.models import ConversationState, table_of, utcnow

# A row as the version before DraftBook wrote it: a dict the handlers built by hand, with
# a draft from before `origins` and the pending fields existed, and one kept read-only.
OLD_DRAFT = {
    "period_id": 3, "work_item_id": 7, "department_id": 2, "read_version": 1,
    "progress": ["甲", "乙"], "plan": [], "part": "plan", "step": "collect",
    "selected": None, "seq": 4, "previous_plan": ["旧计划"], "step_before_cancel": None,
}  # fmt: skip
OLD_ROW = {
    "drafts": {"3:7": OLD_DRAFT, "3:8": {**OLD_DRAFT, "work_item_id": 8, "step": "preview"}},
    "current": "3:7",
    "readonly": {"2:7": {**OLD_DRAFT, "period_id": 2}},
    "screen": 41,
    "kept": False,
    "echoes": {"40": 12, "41": 13},
}


def _insert(engine: Engine, telegram_id: int, flow: str, data: dict[str, object]) -> None:
    with session_scope(engine) as db:
        db.execute(
            sa.insert(table_of(ConversationState)),
            {"telegram_id": telegram_id, "flow": flow, "data": data, "updated_at": utcnow()},
        )


def test_a_row_written_by_the_previous_version_loads_the_same(engine: Engine) -> None:
    _insert(engine, 5001, "report", OLD_ROW)
    with session_scope(engine) as db:
        book = drafts.load(db, 5001)
    draft = book.open_draft()
    assert draft is not None and (draft.period_id, draft.work_item_id) == (3, 7)
    assert draft.progress == ["甲", "乙"] and draft.seq == 4 and draft.origins == {}
    assert draft.previous_plan == ["旧计划"] and draft.pending is None
    assert book.draft_for(3, 8) is not None and book.draft_for(3, 8).step is Step.PREVIEW  # type: ignore[union-attr]
    assert book.drafted(3) == {7, 8} and book.drafted(2) == set()
    assert list(book.readonly) == [(2, 7)]
    assert (book.screen, book.kept, book.echoed(40), book.echoed(41)) == (41, False, 12, 13)

    # Saved again, it reads back as it was.
    with session_scope(engine) as db:
        drafts.save(db, 5001, book)
    with session_scope(engine) as db:
        assert drafts.load(db, 5001) == book


def test_rows_with_keys_missing_load(engine: Engine) -> None:
    _insert(engine, 5002, "report", {"screen": 9, "kept": True})  # only a screen was shown
    _insert(engine, 5003, "report", {"drafts": {"3:7": OLD_DRAFT}, "current": "3:9"})
    _insert(engine, 5004, "other", OLD_ROW)  # another flow's row: no drafts
    with session_scope(engine) as db:
        assert drafts.load(db, 5002) == DraftBook(screen=9, kept=True)
        gone = drafts.load(db, 5003)  # the open draft's key names a draft that is gone
        assert gone.open_draft() is None and gone.draft_for(3, 7) is not None
        assert drafts.load(db, 5004) == DraftBook()
        assert drafts.load(db, 5005) == DraftBook()  # never started


def test_the_book_keeps_drops_and_freezes_drafts() -> None:
    book = DraftBook()
    first, second = Draft(1, 2, 3, 0), Draft(1, 5, 3, 0)
    book.keep(first)
    book.keep(second)
    assert book.open_draft() is second and book.drafted(1) == {2, 5}
    book.drop(second)
    assert book.open_draft() is None and book.drafted(1) == {2}
    book.keep(first)
    book.freeze(first)
    assert book.open_draft() is None and book.readonly == {(1, 2): first}
    assert DraftBook.from_plain(book.to_plain()) == book


def test_only_the_newest_echoes_are_kept() -> None:
    book = DraftBook()
    for n in range(KEPT_ECHOES + 5):
        book.shown(n, False, (1000 + n, n))
    assert len(book.echoes) == KEPT_ECHOES and book.echoed(1000) is None
    assert book.echoed(1000 + KEPT_ECHOES + 4) == KEPT_ECHOES + 4
    assert book.screen == KEPT_ECHOES + 4
    book.shown(None, True, None)
    assert book.screen is None and book.kept and len(book.echoes) == KEPT_ECHOES


def test_to_dict_is_what_asdict_gives() -> None:
    from dataclasses import asdict

    draft = Draft(1, 2, 3, 0, progress=["甲"], origins={"7": {"part": "progress", "items": ["甲"]}})
    assert draft.to_dict() == asdict(draft)
    copied = draft.to_dict()
    copied["origins"]["7"]["items"].append("乙")
    assert draft.origins["7"]["items"] == ["甲"]
