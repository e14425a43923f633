"""/history (issue: history, part 2): a department's handed-in cells for one key work item,
month by month, newest first, a page a message, imported months and renamed items
included; who may read whose, and old or forged page buttons.

(tests/test_history.py is another matter: submitted versions are kept unchanged.)
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import select

from bot.core import texts
from bot.core.people import PersonRole
from bot.core.roster import load_roster
from bot.core.summary import cell_paragraphs
from bot.core.word import month_of, read_summary
from bot.double import FakeUser, parse_html
from storage.db import session_scope
from storage.imports import import_month
from storage.models import Department, Liaison, Period, Submission, WorkItem, table_of
from storage.periods import close_period, get_period, open_period
from storage.roster import apply_roster
from storage.submissions import submission_for, submit
from tests.harness import Harness
from tests.test_console import SHANGHAI, local, report
from tests.test_roles import SNAPSHOT_TABLES, snapshot, tap_data
from tests.test_word_import import docx_bytes

ITEM = "团干部队伍建设"  # 组织部's only, the third of its list
OLDER = texts.plain("zh-CN", "hist_btn_older")
NEWER = texts.plain("zh-CN", "hist_btn_newer")
MONTH_HEAD = re.compile(r"📅 (\d{4})年(\d{1,2})月")


def zh(name: str, /, **values: object) -> str:
    return parse_html(texts.text("zh-CN", name, **values)).text


def data_of(harness: Harness) -> tuple[object, ...]:
    """What a refused tap must leave as it was; a liaison's "last wrote" (noted apart from
    the answer, tests/test_roles.py's cast writes it beforehand) aside."""
    tables = list(snapshot(harness))
    people = table_of(Liaison).columns.keys().index("last_seen_at")
    tables[SNAPSHOT_TABLES.index(Liaison)] = [
        row[:people] + row[people + 1 :]
        for row in tables[SNAPSHOT_TABLES.index(Liaison)]  # type: ignore[attr-defined]
    ]
    return tuple(tables)


def alert(name: str) -> str:
    """A tap's answer as the user reads it."""
    return texts.plain("zh-CN", name)[:200]


def months_shown(text: str) -> list[str]:
    return [f"{y}-{int(m):02d}" for y, m in MONTH_HEAD.findall(text)]


def open_month(harness: Harness, month: str, due: str) -> None:
    with session_scope(harness.engine) as db:
        open_period(db, month, local(due))


def close_month(harness: Harness, month: str) -> None:
    with session_scope(harness.engine) as db:
        period = get_period(db, month)
        assert period is not None
        close_period(db, period)


def import_september(harness: Harness) -> None:
    data = docx_bytes(
        [["1", ITEM, "九月培训团干部", "1.十月计划甲\n2.十月计划乙"]],
        title="9月份重点工作推进情况汇总表",
    )
    with session_scope(harness.engine) as db:
        table = read_summary(data)
        outcome = import_month(db, table, month_of(table), "九月.docx", SHANGHAI)
        assert [r.department for r in outcome.rows] == ["组织部"]


async def three_months(harness: Harness) -> FakeUser:
    """September imported from Word; October and November reported and closed; December
    reported and still open."""
    import_september(harness)
    liaison = await harness.liaison("org", 3001, "王芳")
    for month, due in (("2015-10", "2015-11-05 17:00"), ("2015-11", "2015-12-05 17:00"),
                       ("2015-12", "2016-01-05 17:00")):  # fmt: skip
        open_month(harness, month, due)
        harness.now = local(due.replace("-05 17:00", "-02 10:00"))
        number = int(month[5:])
        await report(liaison, ITEM, f"{number}月培训团干部\n{number}月考核", f"{number + 1}月计划")
        if month != "2015-12":
            close_month(harness, month)
    return liaison


async def test_a_liaison_reads_every_month_newest_first(harness: Harness) -> None:
    liaison = await three_months(harness)
    replies = await liaison.send("/history")
    listing = replies.last
    assert "组织部" in listing.text and ITEM in listing.text
    assert len(listing.buttons) == 3  # 组织部's three items, a button each
    replies = await liaison.tap(next(b for b in listing.buttons if ITEM in b))
    page = replies.last
    assert page.message_id != listing.message_id  # the list stays
    assert months_shown(page.text) == ["2015-12", "2015-11", "2015-10", "2015-09"]
    assert "填报期进行中" in page.text and "导入自 九月.docx" in page.text
    assert not page.buttons  # one page
    for line in ("12月培训团干部\n12月考核", "13月计划", "10月培训团干部", "九月培训团干部",
                 "1.十月计划甲\n2.十月计划乙"):  # fmt: skip
        assert line in page.text, line
    # The cells as the document shows them: each month's progress, then its plan.
    december = page.text[: page.text.index("2015年11月")]
    assert december.index("本月份推进情况") < december.index("12月考核")
    assert december.index("下一步推进计划") < december.index("13月计划")
    # The same by number (full-width, quoted) or by part of its name.
    for typed in ("/history ３", "/history 「3」", "/history 第3项", "/history 团干部 队伍",
                  "/history 「团干部队伍建设」"):  # fmt: skip
        replies = await liaison.send(typed)
        assert months_shown(replies.last.text)[0] == "2015-12", typed


async def test_a_pending_version_is_not_history_the_counted_one_is(harness: Harness) -> None:
    liaison = await three_months(harness)
    await harness.liaison("org", 3002, "赵局", role=PersonRole.APPROVER)
    replies = await liaison.send("/report")
    await liaison.tap(next(b for b in replies.last.buttons if ITEM in b))
    await liaison.tap(next(b for b in liaison.last.buttons if "修改" in b))
    await liaison.send("待审核的新内容")
    replies = await liaison.send("/history 3")
    assert "待审核的新内容" not in replies.last.text
    assert "12月考核" in replies.last.text  # the version that counts


async def test_unknown_items_get_the_choices_and_nothing_yet_says_so(harness: Harness) -> None:
    open_month(harness, "2015-10", "2015-11-05 17:00")
    liaison = await harness.liaison("org", 3001, "王芳")
    replies = await liaison.send("/history 宣传")
    assert replies.texts[0].startswith("没有找到“宣传”") and ITEM in replies.texts[0]
    replies = await liaison.send("/history 9")
    assert "没有找到" in replies.texts[0]
    replies = await liaison.send("/history 建设")  # all three end so
    assert "对应多项" in replies.texts[0]
    replies = await liaison.send(f"/history {ITEM}")
    assert replies.texts == [zh("hist_none", department="组织部", title=ITEM)]


def long_month(number: int) -> tuple[list[str], list[str]]:
    """Cells long enough that a few months fill a message."""
    progress = [f"第{number}月第{i}项：" + "推进基层团组织建设，" * 40 for i in range(1, 4)]
    return progress, [f"第{number}月计划：" + "继续" * 200]


def fourteen_months(harness: Harness) -> list[str]:
    """组织部 handed in ITEM in 14 months, 2014-11 … 2015-12, each closed."""
    months = [f"{2014 + (10 + n) // 12}-{(10 + n) % 12 + 1:02d}" for n in range(14)]
    with session_scope(harness.engine) as db:
        item = db.exec(select(WorkItem).where(WorkItem.title == ITEM)).one()
        org = db.exec(select(Department).where(Department.code == "org")).one()
        for number, month in enumerate(months, 1):
            period = open_period(db, month, local(f"{month}-28 17:00"))
            submission = submission_for(db, period, item.id or 0, org.id or 0)
            progress, plan = long_month(number)
            submit(db, submission, progress=progress, plan=plan, by=3001, read_version=0)
            close_period(db, period)
    return months


async def test_many_months_page_in_place_with_the_buttons(harness: Harness) -> None:
    months = fourteen_months(harness)
    liaison = await harness.liaison("org", 3001, "王芳")
    replies = await liaison.send(f"/history {ITEM}")
    first = replies.last
    seen: list[str] = []
    pages = [first.text]
    while True:
        shown = liaison.last
        assert len(shown.html.encode("utf-16-le")) // 2 <= 4096
        seen += [m for m in months_shown(shown.text) if not seen or m != seen[-1]]
        if OLDER not in shown.buttons:
            break
        replies = await liaison.tap(OLDER)
        assert [m.message_id for m in replies] == [first.message_id]  # edited, not sent
        pages.append(replies.last.text)
    assert seen == months[::-1]  # newest first, every month once
    assert len(pages) > 2 and "第 1/" in pages[0]
    # Each month's cells whole, in order, across the pages (a long month is split, not cut).
    everything = "\n".join(pages)
    for number in (1, 14):
        progress, plan = long_month(number)
        for paragraph in cell_paragraphs(progress) + cell_paragraphs(plan):
            assert paragraph[:30] in everything
    replies = await liaison.tap(NEWER)
    assert replies.last.message_id == first.message_id and replies.last.text == pages[-2]


async def test_an_old_page_shows_the_newest_and_forged_data_is_refused(harness: Harness) -> None:
    months = fourteen_months(harness)
    liaison = await harness.liaison("org", 3001, "王芳")
    await liaison.send(f"/history {ITEM}")
    older = next(b for row in liaison.last.button_rows for b in row if b.text == OLDER)
    assert older.callback_data is not None
    # A month more since the page was shown: its button is old.
    with session_scope(harness.engine) as db:
        item = db.exec(select(WorkItem).where(WorkItem.title == ITEM)).one()
        org = db.exec(select(Department).where(Department.code == "org")).one()
        period = open_period(db, "2016-01", local("2016-02-05 17:00"))
        submission = submission_for(db, period, item.id or 0, org.id or 0)
        submit(db, submission, progress=["一月"], plan=["二月"], by=3001, read_version=0)
    replies = await tap_data(liaison, harness, older.callback_data)
    assert replies.answer is not None and replies.answer.text == alert("hist_changed")
    assert months_shown(replies.last.text)[0] == "2016-01"
    assert len(months) == 14
    before = data_of(harness)
    for forged in ("hi:1:2:0:zzzz", "hi:x:1", "hi:1:2:3", "hi:1:2:1000:" + "0" * 16):
        replies = await tap_data(liaison, harness, forged)
        assert replies.answer is not None and replies.answer.text == alert("stale_button")
        assert not replies
    assert data_of(harness) == before


async def test_a_coordinator_reads_any_department(harness: Harness) -> None:
    await three_months(harness)
    coordinator = harness.coordinator()
    replies = await coordinator.send("/history")
    assert "用法：/history" in replies.texts[0] and "org" in replies.texts[0]
    replies = await coordinator.send("/history 档案室")
    assert replies.texts[0].startswith("没有“档案室”这个部门")
    replies = await coordinator.send("/history ORG 团干部")
    assert months_shown(replies.last.text) == ["2015-12", "2015-11", "2015-10", "2015-09"]
    replies = await coordinator.send("/history 组织部")
    assert len(replies.last.buttons) == 3
    replies = await coordinator.tap(next(b for b in replies.last.buttons if ITEM in b))
    assert "组织部" in replies.last.text and "12月考核" in replies.last.text
    group = harness.double.group(-100777, "团省委工作群")
    replies = await group.send(coordinator, "/history org 3")
    assert "12月考核" in replies.last.text


async def test_a_coordinator_who_reports_too_reads_their_own_without_naming_it(
    harness: Harness,
) -> None:
    """The coordinator is 组织部's liaison as well: /history and /history 3 are their own
    department's, as for any liaison; naming a department reads that one."""
    await three_months(harness)
    coordinator = await harness.liaison("org", 123456789, "李明")
    replies = await coordinator.send("/history")
    assert "组织部" in replies.last.text and len(replies.last.buttons) == 3
    replies = await coordinator.send("/history 3")
    assert months_shown(replies.last.text) == ["2015-12", "2015-11", "2015-10", "2015-09"]
    replies = await coordinator.send("/history office")
    assert "办公室" in replies.last.text and "组织部" not in replies.last.text


async def test_strangers_and_other_departments_are_refused(harness: Harness) -> None:
    liaison = await three_months(harness)
    await liaison.send("/history 3")
    page = liaison.last
    other = await harness.liaison("office", 3003, "李雷")
    stranger = harness.double.user(3009, "路人")
    replies = await stranger.send("/history")
    assert replies.texts == [zh("stranger")]
    before = data_of(harness)
    with session_scope(harness.engine) as db:
        item = db.exec(select(WorkItem).where(WorkItem.title == ITEM)).one()
        org = db.exec(select(Department).where(Department.code == "org")).one()
        office = db.exec(select(Department).where(Department.code == "office")).one()
        data = f"hi:{org.id}:{item.id}"
        theirs = f"hi:{office.id}:{item.id}"  # 办公室 never reported on it
    for user, tapped, refusal in ((other, data, "hist_not_yours"), (stranger, data, "stranger"),
                                  (other, theirs, "hist_not_yours")):  # fmt: skip
        replies = await tap_data(user, harness, tapped)
        assert replies.answer is not None and replies.answer.text == alert(refusal), tapped
        assert not replies
    # A liaison's own department, another department's item (not its, never handed in).
    with session_scope(harness.engine) as db:
        youth_item = db.exec(select(WorkItem).where(WorkItem.code == "youth_jobs")).one()
    replies = await tap_data(liaison, harness, f"hi:{org.id}:{youth_item.id}")
    assert replies.answer is not None and replies.answer.text == alert("hist_not_yours")
    assert data_of(harness) == before
    assert liaison.messages[-1].text == page.text  # the liaison's page as it was


async def test_a_renamed_item_keeps_its_history(harness: Harness, tmp_path: Path) -> None:
    old, new = "促进青年创新创业就业工作", "青年就业创业促进工作"
    youth = await harness.liaison("youth", 3007, "郑凯")
    open_month(harness, "2015-10", "2015-11-05 17:00")
    harness.now = local("2015-11-02 10:00")
    await report(youth, old, "十月创业大赛", "十一月培训")
    close_month(harness, "2015-10")
    roster = tmp_path / "roster.toml"
    text = Path(harness.roster).read_text(encoding="utf-8").replace(old, new)
    roster.write_text(text, encoding="utf-8")
    with session_scope(harness.engine) as db:
        apply_roster(db, load_roster(roster), "Asia/Shanghai")
    open_month(harness, "2015-11", "2015-12-05 17:00")
    harness.now = local("2015-12-02 10:00")
    await report(youth, new, "十一月就业培训", "十二月计划")
    replies = await youth.send("/history 就业")
    page = replies.last.text
    assert months_shown(page) == ["2015-11", "2015-10"]
    assert new in page.splitlines()[0]
    assert f"当月名称：【{old}】" in page and "十月创业大赛" in page
    with session_scope(harness.engine) as db:
        assert len(db.exec(select(Period)).all()) == 2
        assert len(db.exec(select(Submission)).all()) == 2


async def test_a_retired_item_keeps_its_history_within_reach(
    harness: Harness, tmp_path: Path
) -> None:
    """An item the roster retired after October is listed after the current ones, and its
    months open by name and from the list."""
    title = "促进青年创新创业就业工作"
    youth = await harness.liaison("youth", 3007, "郑凯")
    open_month(harness, "2015-10", "2015-11-05 17:00")
    harness.now = local("2015-11-02 10:00")
    await report(youth, title, "十月创业大赛", "十一月培训")
    close_month(harness, "2015-10")
    roster = tmp_path / "roster.toml"
    text = Path(harness.roster).read_text(encoding="utf-8")
    block = re.search(r"\[\[work_items\]\]\ncode = \"youth_jobs\"\n[^\[]*", text)
    assert block is not None
    roster.write_text(text.replace(block.group(0), ""), encoding="utf-8")
    with session_scope(harness.engine) as db:
        apply_roster(db, load_roster(roster), "Asia/Shanghai")
        assert not db.exec(select(WorkItem).where(WorkItem.title == title)).one().active
    open_month(harness, "2015-11", "2015-12-05 17:00")
    harness.now = local("2015-12-02 10:00")

    listing = await youth.send("/history")
    assert title in listing.last.buttons[-1]  # after the items reported on now
    replies = await youth.tap(listing.last.buttons[-1])
    assert months_shown(replies.last.text) == ["2015-10"] and "十月创业大赛" in replies.last.text
    replies = await youth.send("/history 创业就业")
    assert months_shown(replies.last.text) == ["2015-10"]


async def test_a_month_too_long_for_a_message_goes_on_over_pages(harness: Harness) -> None:
    """A month imported from a long Word table: one paragraph longer than a message."""
    sentence = "围绕从严治团要求，持续推进团干部队伍建设。"
    giant = sentence * 300  # about 6 300 characters, one paragraph
    with session_scope(harness.engine) as db:
        item = db.exec(select(WorkItem).where(WorkItem.title == ITEM)).one()
        org = db.exec(select(Department).where(Department.code == "org")).one()
        period = open_period(db, "2015-10", local("2015-11-05 17:00"))
        submission = submission_for(db, period, item.id or 0, org.id or 0)
        submit(db, submission, progress=[giant], plan=["继续"], by=3001, read_version=0)
        close_period(db, period)
    liaison = await harness.liaison("org", 3001, "王芳")
    await liaison.send("/history 3")
    pages = [liaison.last.text]
    while OLDER in liaison.last.buttons:
        replies = await liaison.tap(OLDER)
        pages.append(replies.last.text)
    assert len(pages) >= 2
    assert all("2015年10月（续）" in page for page in pages[1:])
    lines = [line for page in pages for line in page.splitlines()[1:]]
    pieces = [line for line in lines if line.startswith(sentence[:4])]
    assert "".join(pieces) == giant  # every character, in order, once
    assert all(piece.endswith("。") for piece in pieces)  # split at a sentence's end
