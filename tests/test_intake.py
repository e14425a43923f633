"""The draft's rules, without Telegram: what each input does and what is refused."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from telegram.constants import MessageLimit

from bot.core.draft import (
    MAX_ITEM_CHARS,
    MAX_ITEMS,
    Draft,
    Part,
    Rejection,
    Step,
    accept,
)
from handlers.chunks import pack, too_long


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
    assert too_long("长" * (MessageLimit.MAX_TEXT_LENGTH + 1)) is Rejection.TOO_LONG
    assert too_long("长" * MessageLimit.MAX_TEXT_LENGTH) is None
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


# --- a liaison's own numbers --------------------------------------------------------------


def test_items_sent_one_per_message_lose_their_own_numbers() -> None:
    d = draft()
    for text in ("1.召开协调会", "（2）开展调研", "3.12月18日召开座谈会", "12月18日，举办培训"):
        assert d.take(text) is None
    assert d.progress == ["召开协调会", "开展调研", "12月18日召开座谈会", "12月18日，举办培训"]
    assert d.take("5.2017年以来累计培训") is None  # any explicit first-line marker
    assert d.take("3.组织开展活动\n4.推进团建") is None  # a block continuing the numbering
    assert d.progress[-3:] == ["2017年以来累计培训", "组织开展活动", "推进团建"]


def test_sub_items_sent_one_per_message_stay_in_their_item() -> None:
    d = draft()
    for text in (
        "1.召开协调会",
        "2.依托新媒体开设专栏：",
        "1.推出图文；",
        "2.转发量最高。",
        "3.举办培训",
    ):
        assert d.take(text) is None
    assert d.progress == [
        "召开协调会",
        "依托新媒体开设专栏：\n1.推出图文；\n2.转发量最高。",
        "举办培训",
    ]


def test_undo_after_a_sub_item_takes_back_only_that_message() -> None:
    d = draft()
    for text in ("1.召开协调会", "2.依托新媒体开设专栏：", "1.推出图文；", "2.转发量最高。"):
        d.take(text)
    assert Draft.from_dict(d.to_dict()) == d
    assert d.undo() and d.progress == ["召开协调会", "依托新媒体开设专栏：\n1.推出图文；"]
    assert d.undo() and d.progress == ["召开协调会"]  # then the whole item, as usual


def test_an_inserted_item_keeps_the_number_of_its_place() -> None:
    d = draft(progress=["甲", "乙", "丙"])
    d.select(0)
    d.start_insert()
    assert d.take("2在全省开展调研") is None
    assert d.progress == ["甲", "在全省开展调研", "乙", "丙"]


# --- both parts in one paste ----------------------------------------------------------

BOTH = "本月份推进情况：\n1.召开协调会\n2.推进团建\n下一步推进计划：\n1.举办培训\n2.开展调研"


def test_a_paste_with_both_parts_is_held_until_the_liaison_confirms() -> None:
    d = draft()
    assert d.take(BOTH) is None
    assert d.step is Step.CONFIRM_SECTIONS and d.empty
    assert (d.pending_progress, d.pending_plan) == (
        ["召开协调会", "推进团建"],
        ["举办培训", "开展调研"],
    )
    assert Draft.from_dict(d.to_dict()) == d
    d.accept_sections()
    assert d.progress == ["召开协调会", "推进团建"] and d.plan == ["举办培训", "开展调研"]
    assert d.step is Step.PREVIEW and d.pending is None


def test_refusing_the_split_takes_the_paste_as_items_of_the_current_part() -> None:
    d = draft(progress=["已有"])
    d.take(BOTH)
    assert d.reject_sections() is None
    assert d.step is Step.COLLECT and d.plan == [] and d.pending is None
    assert d.progress[:3] == ["已有", "本月份推进情况：", "召开协调会"]
    assert "举办培训" in "\n".join(d.progress)


def test_items_above_a_plan_heading_are_progress() -> None:
    d = draft()
    d.take("1.召开协调会\n2.推进团建\n下一步工作计划：\n1.举办培训")
    assert d.step is Step.CONFIRM_SECTIONS
    assert d.pending_progress == ["召开协调会", "推进团建"] and d.pending_plan == ["举办培训"]


def test_a_heading_of_the_current_part_is_not_an_item() -> None:
    d = draft()
    assert d.take("一、本月工作进展\n1.召开协调会\n2.推进团建") is None
    assert d.progress == ["召开协调会", "推进团建"] and d.step is Step.COLLECT
    assert d.take("【本月完成情况】") is Rejection.ONLY_HEADING
    d.finish_part()
    assert d.take("下一步工作打算：\n1.举办培训") is None
    assert d.plan == ["举办培训"]


def test_the_other_parts_heading_on_its_own_moves_to_that_part() -> None:
    d = draft(progress=["召开协调会"])
    assert d.take("下一步推进计划：") is None
    assert d.part is Part.PLAN and d.step is Step.COLLECT and d.progress == ["召开协调会"]
    assert d.take("1.举办培训") is None and d.plan == ["举办培训"]


def test_the_other_parts_heading_with_items_asks_too() -> None:
    d = draft(progress=["召开协调会"])
    assert d.take("二、下一步工作打算\n1.举办培训\n2.开展调研") is None
    assert d.step is Step.CONFIRM_SECTIONS and d.pending_progress == []
    d.accept_sections()
    assert d.progress == ["召开协调会"] and d.plan == ["举办培训", "开展调研"]
    assert d.step is Step.PREVIEW


def test_filling_only_one_part_goes_on_with_the_empty_one() -> None:
    d = draft(part=Part.PLAN)
    d.take("下一步工作打算：\n1.举办培训\n本月工作进展：")  # the progress heading is empty
    assert d.plan == ["举办培训"] and d.step is Step.COLLECT
    d = draft()
    d.take("下一步工作打算：\n1.举办培训")
    d.accept_sections()
    assert d.part is Part.PROGRESS and d.step is Step.COLLECT and d.plan == ["举办培训"]


def test_a_paste_that_would_overfill_a_part_is_refused() -> None:
    d = draft(plan=[f"项{i}" for i in range(MAX_ITEMS)])
    before = d.to_dict()
    assert d.take(BOTH) is Rejection.TOO_MANY
    assert d.to_dict() == before


def test_cancelling_from_the_question_comes_back_to_it() -> None:
    d = draft()
    d.take(BOTH)
    d.ask_cancel()
    d.keep_going()
    assert d.step is Step.CONFIRM_SECTIONS and d.pending == BOTH


# --- chat while collecting ---------------------------------------------------------------


def test_chat_is_asked_about_and_kept_until_answered() -> None:
    d = draft(progress=["召开协调会"])
    assert d.take("好的收到") is None
    assert d.step is Step.CONFIRM_CHATTER and d.progress == ["召开协调会"]
    assert Draft.from_dict(d.to_dict()).pending == "好的收到"
    d.drop_pending()
    assert d.step is Step.COLLECT and d.progress == ["召开协调会"] and d.pending is None
    d.take("谢谢")
    assert d.add_pending() is None
    assert d.progress == ["召开协调会", "谢谢"] and d.step is Step.COLLECT


def test_chat_in_place_of_a_replacement_is_asked_about_too() -> None:
    d = draft(progress=["召开协调会"])
    d.select(0)
    d.start_replace()
    d.take("OK 👍")
    assert d.step is Step.CONFIRM_CHATTER
    d.drop_pending()
    assert d.step is Step.REPLACE and d.progress == ["召开协调会"]
    d.take("好的")
    d.add_pending()
    assert d.progress == ["好的"]


def test_a_draft_stored_before_these_questions_still_loads() -> None:
    stored = {
        "period_id": 1,
        "work_item_id": 2,
        "department_id": 3,
        "read_version": 0,
        "progress": ["a"],
        "plan": [],
        "part": "progress",
        "step": "collect",
        "selected": None,
        "seq": 4,
        "previous_plan": [],
        "step_before_cancel": None,
    }
    d = Draft.from_dict(stored)
    assert d.progress == ["a"] and d.pending is None and d.pending_step is None
    assert d.take("b") is None and d.progress == ["a", "b"]


@given(st.text(max_size=600))
def test_take_never_loses_the_draft(text: str) -> None:
    d = draft(progress=["已有"])
    d.take(text)
    if d.step is Step.CONFIRM_SECTIONS:
        d.accept_sections()
    elif d.step is Step.CONFIRM_CHATTER:
        d.add_pending()
    assert d.progress[0] == "已有" and d.pending is None
