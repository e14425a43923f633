"""The draft's rules, without Telegram: what each input does and what is refused."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.intake import (
    MAX_ITEM_CHARS,
    MAX_ITEMS,
    MAX_MESSAGE_CHARS,
    Draft,
    Part,
    Rejection,
    Step,
    accept,
    pack,
)


def draft(**kw: object) -> Draft:
    return Draft(period_id=1, work_item_id=2, department_id=3, read_version=0, **kw)  # type: ignore[arg-type]


def test_a_numbered_block_becomes_items_and_a_plain_message_one_item() -> None:
    d = draft()
    assert d.take("1.甲\n2.乙") is None
    assert d.take("丙\n丙的第二段") is None
    assert d.progress == ["甲", "乙", "丙\n丙的第二段"]


def test_refusals_leave_the_draft_unchanged() -> None:
    d = draft(progress=["已有"])
    before = d.to_dict()
    assert d.take("   \u3000\n ") is Rejection.EMPTY
    assert d.take("长" * (MAX_MESSAGE_CHARS + 1)) is Rejection.TOO_LONG
    assert d.take("长" * (MAX_ITEM_CHARS + 1)) is Rejection.ITEM_TOO_LONG
    assert d.to_dict() == before


def test_too_many_items_are_refused() -> None:
    d = draft(progress=[f"项{i}" for i in range(MAX_ITEMS)])
    assert d.take("再来一项") is Rejection.TOO_MANY
    assert len(d.progress) == MAX_ITEMS


def test_parts_move_from_progress_to_plan_to_preview() -> None:
    d = draft()
    assert not d.finish_part()  # nothing to finish yet
    d.take("进展")
    assert d.finish_part() and d.part is Part.PLAN and d.step is Step.COLLECT
    d.take("计划")
    assert d.finish_part() and d.step is Step.PREVIEW
    d.change(Part.PROGRESS)
    d.take("补充进展")
    assert d.finish_part() and d.step is Step.PREVIEW  # plan already there: back to preview


def test_editing_replace_insert_move_delete_undo() -> None:
    d = draft(progress=["一", "二", "三"])
    d.select(2)
    d.move(-1)
    assert d.progress == ["一", "三", "二"] and d.selected == 1
    d.move(-5)  # out of range: nothing happens
    assert d.progress == ["一", "三", "二"]
    d.start_replace()
    d.take("1.新的三")
    assert d.progress == ["一", "新的三", "二"]
    d.select(0)
    d.start_insert()
    d.take("插入")
    assert d.progress == ["一", "插入", "新的三", "二"]
    d.select(3)
    d.delete()
    assert d.progress == ["一", "插入", "新的三"]
    assert d.undo() and d.progress == ["一", "插入"]


def test_every_change_bumps_seq_so_old_buttons_are_recognised() -> None:
    d = draft()
    seqs = [d.seq]
    for action in (
        lambda: d.take("x"),
        d.edit,
        lambda: d.select(0),
        d.back,
        d.ask_cancel,
        d.keep_going,
    ):
        action()
        seqs.append(d.seq)
    assert seqs == sorted(set(seqs))


def test_cancel_confirmation_returns_to_the_step_it_left() -> None:
    d = draft(progress=["x"], step=Step.PREVIEW)
    d.ask_cancel()
    assert d.step is Step.CONFIRM_CANCEL
    d.keep_going()
    assert d.step is Step.PREVIEW


def test_carry_forward_and_the_unchanged_warning() -> None:
    d = draft(previous_plan=["上月计划"])
    d.carry_forward()
    assert d.progress == ["上月计划"] and d.repeats_last_month
    d.take("新进展")
    assert not d.repeats_last_month


def test_the_draft_survives_storage_as_json() -> None:
    d = draft(progress=["a"], plan=["b"], part=Part.PLAN, step=Step.ITEM, selected=0)
    d.ask_cancel()
    assert Draft.from_dict(d.to_dict()) == d


@given(st.text(max_size=6000))
def test_accept_never_raises_and_items_are_bounded(text: str) -> None:
    result = accept(text)
    if isinstance(result, list):
        assert result and all(0 < len(item) <= MAX_ITEM_CHARS for item in result)
        assert len(result) <= MAX_ITEMS


@given(st.lists(st.text(min_size=1, max_size=400).map(str.strip).filter(bool), max_size=40))
def test_pack_keeps_blocks_whole_and_in_order(blocks: list[str]) -> None:
    messages = pack(blocks, limit=1000)
    assert "\n".join(messages) == "\n".join(blocks)
    assert all(len(m) <= 1000 for m in messages)
