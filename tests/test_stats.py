"""Who is on time (bot/core/stats.py), read from the database (storage/stats.py) and drawn
(bot/chart.py): the rules with real dates, the reading on both databases, the picture and
where its font comes from."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import chart
from bot.core.audit import Actor
from bot.core.periods import Month, MonthRange, Span, parse_due, parse_range
from bot.core.roster import load_roster
from bot.core.stats import (
    ItemRecord,
    Outcome,
    Stats,
    default_range,
    outcome_of,
    percent,
    summary_values,
    tally,
)
from storage.db import session_scope
from storage.models import Department, Submission, WorkItem
from storage.periods import close_period, get_period, open_period
from storage.roster import apply_roster
from storage.stats import read_stats, stats_range
from storage.submissions import approve, return_for_revision, submission_for, submit

ROOT = Path(__file__).resolve().parent.parent
ZONE_NAME = "Asia/Shanghai"
DUE = datetime(2015, 11, 5, 9, 0, tzinfo=UTC)  # 2015-11-05 17:00 in Shanghai
BEFORE, AFTER = DUE - timedelta(hours=1), DUE + timedelta(hours=1)


def record(
    status: str | None = "submitted",
    first: datetime | None = BEFORE,
    *,
    month: str = "2015-10",
    is_open: bool = False,
    department: tuple[int, str] = (1, "办公室"),
    returned: bool = False,
    due: datetime = DUE,
) -> ItemRecord:
    return ItemRecord(month, due, is_open, department[0], department[1], status, first, returned)


# --- the rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "first", "is_open", "now", "outcome"),
    [
        ("submitted", BEFORE, False, AFTER, Outcome.ON_TIME),
        ("submitted", DUE, False, AFTER, Outcome.ON_TIME),  # on the minute is on time
        ("submitted", AFTER, False, AFTER, Outcome.LATE),
        ("submitted", BEFORE, True, BEFORE, Outcome.ON_TIME),  # early in an open month
        (None, None, False, AFTER, Outcome.MISSING),
        (None, None, False, BEFORE, Outcome.MISSING),  # closed early: nothing more comes
        (None, None, True, BEFORE, Outcome.NOT_DUE),
        (None, None, True, AFTER, Outcome.MISSING),
        ("draft", None, True, AFTER, Outcome.MISSING),
        ("pending", BEFORE, False, AFTER, Outcome.MISSING),  # awaits its approver: not counted
        ("returned", BEFORE, False, AFTER, Outcome.MISSING),  # sent back, not handed in again
        ("returned", BEFORE, True, BEFORE, Outcome.NOT_DUE),
    ],
)
def test_the_outcome_of_a_part(
    status: str | None, first: datetime | None, is_open: bool, now: datetime, outcome: Outcome
) -> None:
    assert outcome_of(record(status, first, is_open=is_open), now) is outcome


def test_the_default_range_is_the_newest_twelve_months_with_periods() -> None:
    months = [str(Month(2014, m)) for m in range(1, 13)] + ["2015-01", "2015-02", "2015-03"]
    assert default_range(months) == MonthRange(Month(2014, 4), Month(2015, 3), Span.MONTHS)
    assert default_range(["2015-10"]) == MonthRange(Month(2015, 10), Month(2015, 10), Span.MONTH)
    assert default_range([]) is None


def test_a_tally_per_department_and_per_month() -> None:
    office, youth = (1, "办公室"), (2, "团委")
    sept_due = datetime(2015, 10, 5, 9, 0, tzinfo=UTC)
    records = [
        record(department=youth, month="2015-09", due=sept_due, first=sept_due),
        record(None, None, department=youth, month="2015-09", due=sept_due, returned=True),
        record(department=office, first=AFTER, returned=True),  # late, and returned
        record(department=office),
        record(department=(2, "青年发展部")),  # youth's newer name
        record(None, None, department=office, month="2015-11", is_open=True,
               due=DUE + timedelta(days=30)),
        record(department=office, month="2015-06"),  # outside the range: not counted
    ]  # fmt: skip
    wanted = parse_range("2015-09..2015-11")
    stats = tally(wanted, records, AFTER, {1: 5, 2: 1})
    assert [d.name for d in stats.departments] == ["青年发展部", "办公室"]  # roster order
    youth_stats, office_stats = stats.departments
    assert (youth_stats.tally.on_time, youth_stats.tally.missing) == (2, 1)
    assert youth_stats.tally.returned == 1 and youth_stats.rate == pytest.approx(2 / 3)
    assert (office_stats.tally.on_time, office_stats.tally.late) == (1, 1)
    assert office_stats.tally.not_due == 1 and office_stats.tally.returned == 1
    assert office_stats.rate == pytest.approx(1 / 2)  # November is not due yet: left out
    sept, octo, nov = stats.months
    assert (sept.month, sept.tally.due, sept.rate) == (Month(2015, 9), 2, 0.5)
    assert octo.rate == pytest.approx(2 / 3) and nov.rate is None and not nov.settled
    assert stats.office.total == 6 and stats.rated.due == 5
    assert stats.rate == pytest.approx(3 / 5)
    assert summary_values(stats) == {
        "range": "2015-09..2015-11", "rate": "60%", "on_time": 3, "due": 5, "late": 1,
        "missing": 1, "returned": 2,
    }  # fmt: skip


def test_a_range_without_records_has_no_rate() -> None:
    stats = tally(parse_range("2015-Q4"), [], AFTER)
    assert stats.departments == [] and stats.rate is None and len(stats.months) == 3
    assert percent(None) == "" and percent(0.776) == "78%"


# --- reading the database ---------------------------------------------------------------


def _ids(db: Session, title: str, code: str) -> tuple[int, int]:
    item = db.exec(select(WorkItem).where(WorkItem.title == title)).one()
    dept = db.exec(select(Department).where(Department.code == code)).one()
    return item.id or 0, dept.id or 0


COORDINATOR = Actor(1001, "李明")
SYSTEM, GRASSROOTS, CADRES = "团的制度建设", "基层服务型团组织建设", "团干部队伍建设"


def hand_in(
    db: Session, month: str, title: str, code: str, at: datetime, *, approval: bool = False
) -> Submission:
    period = get_period(db, month)
    assert period is not None
    item_id, dept_id = _ids(db, title, code)
    found = submission_for(db, period, item_id, dept_id)
    return submit(
        db, found, progress=["推进"], plan=["计划"], by=3001, read_version=found.version,
        now=at, needs_approval=approval,
    )  # fmt: skip


def send_back(db: Session, found: Submission, at: datetime) -> None:
    return_for_revision(
        db, found, version=found.version, reason="请补充", actor=COORDINATOR, subject="x", now=at
    )


def history(engine: Engine) -> datetime:
    """2015-09 closed, 2015-10 open and not yet due; the moment to read them at."""
    zone = load_roster(ROOT / "examples" / "roster.toml")
    sept_due = datetime(2015, 10, 5, 9, 0, tzinfo=UTC)
    with session_scope(engine) as db:
        apply_roster(db, zone, ZONE_NAME)
        open_period(db, "2015-09", sept_due)
        open_period(db, "2015-10", DUE)
        hand_in(db, "2015-09", SYSTEM, "org", sept_due - timedelta(hours=1))  # on time
        hand_in(db, "2015-09", SYSTEM, "office", sept_due + timedelta(days=1))  # late
        fixed = hand_in(db, "2015-09", GRASSROOTS, "org", sept_due - timedelta(hours=2))
        send_back(db, fixed, sept_due + timedelta(hours=1))
        hand_in(db, "2015-09", GRASSROOTS, "org", sept_due + timedelta(days=2))  # still on time
        dropped = hand_in(db, "2015-09", CADRES, "org", sept_due - timedelta(days=1))
        send_back(db, dropped, sept_due + timedelta(hours=1))  # never handed in again
        waited = hand_in(db, "2015-09", GRASSROOTS, "rural", sept_due - timedelta(hours=1),
                         approval=True)  # fmt: skip
        approve(db, waited, version=waited.version, actor=COORDINATOR, subject="x",
                now=sept_due + timedelta(days=1))  # fmt: skip
        september = get_period(db, "2015-09")
        assert september is not None
        close_period(db, september)
        hand_in(db, "2015-10", SYSTEM, "org", DUE - timedelta(days=3))
    return DUE - timedelta(days=2)


def test_the_database_read_as_the_rules_count_it(engine: Engine) -> None:
    now = history(engine)
    with session_scope(engine) as db:
        assert stats_range(db) == parse_range("2015-09..2015-10")
        stats = read_stats(db, None, now)
        assert read_stats(db, parse_range("2014"), now) is None
    assert stats is not None
    names = [d.name for d in stats.departments]
    assert names[:3] == ["办公室", "组织部", "宣传部"] and len(names) == 11  # roster order
    by_name = {d.name: d for d in stats.departments}
    org, office, rural = by_name["组织部"], by_name["办公室"], by_name["农村青年工作部"]
    assert (org.tally.on_time, org.tally.late, org.tally.missing) == (3, 0, 1)
    assert (org.tally.not_due, org.tally.returned) == (2, 2)
    assert org.rate == pytest.approx(2 / 3)  # September only: October is not due
    assert (office.tally.late, office.tally.not_due, office.rate) == (1, 1, 0.0)
    assert rural.tally.on_time == 1  # approved after the due time, handed in before it
    sept, octo = stats.months
    assert (sept.tally.on_time, sept.tally.late, sept.tally.missing) == (3, 1, 12)  # 16 parts
    assert octo.rate is None and (octo.tally.on_time, octo.tally.not_due) == (1, 15)
    assert stats.rate == pytest.approx(3 / 16)


def test_a_month_with_no_key_work_items_is_no_period(engine: Engine) -> None:
    with session_scope(engine) as db:
        assert stats_range(db) is None
        assert read_stats(db, None, DUE) is None
        open_period(db, "2015-10", DUE)  # no roster: nothing is owed
        assert read_stats(db, None, DUE) is None


# --- the picture ------------------------------------------------------------------------


def year_of_stats(departments: int = 20) -> Stats:
    """Twelve closed months of `departments` departments, some with long names."""
    records = []
    for number in range(1, 13):
        due = parse_due(f"2015-{number:02d}-05 17:00", ZoneInfo(ZONE_NAME))
        for dept in range(departments):
            name = "网络新闻信息中心（新媒体中心）" if dept % 7 == 3 else f"第{dept + 1}部门"
            for item in range(5):
                late = (item + dept + number) % 6 == 0
                missing = (item * dept + number) % 11 == 0
                records.append(
                    record(
                        None if missing else "submitted",
                        None if missing else (due + timedelta(days=1) if late else due),
                        month=f"2015-{number:02d}", due=due, department=(dept + 1, name),
                        returned=item == 4 and dept % 3 == 0,
                    )
                )  # fmt: skip
    return tally(parse_range("2015"), records, datetime(2016, 2, 1, tzinfo=UTC))


@pytest.fixture(autouse=True)
def fresh_font() -> None:
    chart.forget_font()


def test_the_picture_is_a_phone_wide_png() -> None:
    png = chart.draw(year_of_stats(), "zh-CN")
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG" and picture.width == chart.WIDTH_PX
    assert chart.WIDTH_PX * 2 < picture.height < chart.WIDTH_PX * 4  # 20 rows, not squashed
    english = Image.open(io.BytesIO(chart.draw(year_of_stats(3), "en")))
    assert english.width == chart.WIDTH_PX and english.height < picture.height


def test_the_words_of_the_picture() -> None:
    said = chart.words(year_of_stats(2), "zh-CN")
    assert said.months[:2] == ["1月", "2月"] and said.outcomes[Outcome.LATE] == "逾期"
    assert "2015" in said.subtitle and "%" in said.subtitle
    across = tally(parse_range("2015-11..2016-02"), [], DUE)
    assert chart.words(across, "zh-CN").months == ["11月", "12月", "16年1月", "2月"]
    assert chart.words(across, "en").months == ["Nov", "Dec", "'16 Jan", "Feb"]


@pytest.mark.parametrize(
    ("name", "lines"),
    [("办公室", "办公室"), ("基层组织建设处", "基层组织建设处"),
     ("志愿者工作指导中心", "志愿者工作\n指导中心"),
     ("网络新闻信息中心（新媒体中心）", "网络新闻信息中心\n（新媒体中心）"), ("", "?")],
)  # fmt: skip
def test_long_department_names_wrap_evenly(name: str, lines: str) -> None:
    assert chart._wrap(name) == lines


def test_the_hosts_cjk_font_is_one_with_the_glyphs() -> None:
    found = chart.host_font()
    if found is None:
        pytest.skip(reason="this host has no CJK font")
    assert chart.chart_font() == found


def test_without_a_host_font_the_packaged_one_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart, "host_font", lambda: None)
    assert chart.packaged_font() is not None
    assert chart.chart_font() == "Noto Sans CJK SC"
    assert Image.open(io.BytesIO(chart.draw(year_of_stats(2), "zh-CN"))).format == "PNG"


def test_without_any_font_one_line_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chart, "host_font", lambda: None)
    monkeypatch.setattr(chart, "packaged_font", lambda: None)
    with pytest.raises(chart.ChartUnavailable) as caught:
        chart.draw(year_of_stats(2), "zh-CN")
    assert "huibao[charts]" in str(caught.value) and "\n" not in str(caught.value)


def test_chart_font_names_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(chart, "host_font", lambda: None)
    packaged = chart.packaged_font()
    assert packaged is not None
    assert chart.chart_font(str(packaged)) == "Noto Sans CJK SC"
    not_a_font = tmp_path / "font.otf"
    not_a_font.write_bytes(b"not a font")
    for path in (tmp_path / "missing.otf", not_a_font):
        with pytest.raises(chart.ChartUnavailable) as caught:
            chart.chart_font(str(path))
        assert str(path) in str(caught.value) and "CHART_FONT" in str(caught.value)


def test_the_bot_starts_without_matplotlib() -> None:
    """The chart's libraries load with the first chart, not with the bot."""
    code = "import sys, bot.app, bot.cli, handlers; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "False", done.stderr


def laid_out(stats: Stats, language: str) -> tuple[list[tuple[str, float]], Any, Any]:
    """The drawn picture's texts with their size in pixels, the box of everything drawn
    (the ticks shown, not every tick made) and the picture's box."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    with rc_context({"font.family": [chart.chart_font()]}):
        fig = chart.figure(stats, chart.words(stats, language))
        canvas = FigureCanvasAgg(fig)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "constrained_layout not applied": a squeeze
            canvas.draw()
        drawn = fig.get_tightbbox(canvas.get_renderer())
        texts = [
            (t.get_text(), t.get_fontsize() * chart.DPI / 72)
            for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip()
        ]
        return texts, drawn, fig.bbox


@pytest.mark.parametrize(
    ("stats", "language"),
    [(year_of_stats(), "zh-CN"), (year_of_stats(3), "en"),
     (tally(parse_range("2014-01..2015-12"), [], AFTER), "zh-CN")],
)  # fmt: skip
def test_every_word_is_large_and_inside_the_picture(stats: Stats, language: str) -> None:
    """Readable on a phone: no text under 28 px, nothing cut off at the edges."""
    texts, drawn, picture = laid_out(stats, language)
    assert texts and all(pixels >= 28 for _, pixels in texts), texts
    assert drawn.x0 >= 0 and drawn.y0 >= 0, drawn
    assert drawn.x1 * chart.DPI <= picture.x1 + 1 and drawn.y1 * chart.DPI <= picture.y1 + 1
