"""History never changes behind the office's back: a roster load changes the open and
future months only, and a closed month compiles the same forever."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from docx import Document

from bot.cli import main
from storage.db import session_scope
from storage.periods import get_period
from storage.summary import build_summary
from tests.harness import Harness
from tests.test_console import local, open_month, report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "examples" / "roster.toml").read_text(encoding="utf-8")
TALENT = "青年马克思主义者培养工程"
TALENT_RENAMED = "青马工程（青年马克思主义者培养工程）"
RIGHTS = "青少年维权工作"
ADDED = "网上共青团建设"
CARRY = "📋 以上月计划为起点"
Huibao = Callable[..., Result]

CHANGES = [  # rename an item under its code, add one, retire one, rename and retire departments
    ('[[departments]]\ncode = "rights"\nname = "权益部"\n\n', ""),
    (f'title = "{TALENT}"', f'title = "{TALENT_RENAMED}"'),
    (f'[[work_items]]\ntitle = "{RIGHTS}"\ndepartments = ["rights"]\n\n', ""),
    (
        "[[coordinators]]",
        f'[[work_items]]\ncode = "online_league"\ntitle = "{ADDED}"\n'
        'departments = ["publicity"]\n\n[[coordinators]]',
    ),
    ('name = "办公室"', 'name = "办公厅"'),
]


def roster_file(tmp_path: Path, name: str, changes: list[tuple[str, str]]) -> Path:
    text = EXAMPLE
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def huibao(harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Huibao:
    """The `huibao` command on the bot's own database, as an operator runs it."""
    monkeypatch.chdir(tmp_path)
    url = harness.engine.url.render_as_string(hide_password=False)

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env={"DATABASE_URL": url})

    return run


def compiled(huibao: Huibao, tmp_path: Path, month: str) -> tuple[str, list[list[str]]]:
    """What `huibao compile` says and the document's table, cell by cell."""
    out = tmp_path / f"{month}.docx"
    result = huibao("compile", month, "--out", str(out))
    assert result.exit_code == 0, result.output
    table = Document(str(out)).tables[0]
    return result.output, [[cell.text for cell in row.cells] for row in table.rows]


async def status_lines(harness: Harness, month: str) -> list[str]:
    replies = await harness.coordinator().send(f"/status {month}")
    return "\n".join(replies.texts).splitlines()


async def a_closed_september_and_an_open_october(harness: Harness) -> None:
    """September reported and closed; October open, with one submission already in."""
    open_month(harness, "2015-09", "2015-10-08 17:00")
    harness.now = local("2015-10-02 10:00")
    publicity = await harness.liaison("publicity", 4001, "周宣")
    school = await harness.liaison("school", 4002, "孙丽")
    office = await harness.liaison("office", 4003, "张三")
    rights = await harness.liaison("rights", 4004, "钱维")
    await report(publicity, TALENT, "九月宣传推进", "1.十月计划甲\n2.十月计划乙")
    await report(school, TALENT, "九月学校推进", "学校十月计划")
    await report(office, "团的制度建设", "九月办公室推进", "办公室十月计划")
    await report(rights, RIGHTS, "九月维权推进", "维权十月计划")
    coordinator = harness.coordinator()
    replies = await coordinator.send("/period close 2015-09")
    assert "2015-09" in replies.last.text
    await coordinator.send("/period open 2015-10 2015-11-05 17:00")
    harness.now = local("2015-11-02 10:00")
    await report(school, TALENT, "十月学校推进", "学校十一月计划")


async def test_a_roster_change_leaves_the_closed_month_as_it_was(
    harness: Harness, huibao: Huibao, tmp_path: Path
) -> None:
    await a_closed_september_and_an_open_october(harness)
    before = compiled(huibao, tmp_path, "2015-09")
    with session_scope(harness.engine) as db:
        september = get_period(db, "2015-09")
        assert september is not None
        summary_before, tally_before = build_summary(db, september)
    assert any(row[1] == RIGHTS for row in before[1])

    changed = roster_file(tmp_path, "changed.toml", CHANGES)
    result = huibao("roster", "load", str(changed))
    assert result.exit_code == 0, result.output

    # The closed month: the same rows, titles, department names and tally.
    assert compiled(huibao, tmp_path, "2015-09") == before
    with session_scope(harness.engine) as db:
        september = get_period(db, "2015-09")
        assert september is not None
        summary_after, tally_after = build_summary(db, september)
    assert (summary_after.rows, tally_after) == (summary_before.rows, tally_before)
    departments = {c.department for row in summary_after.rows for c in row.contributions}
    assert {"办公室", "权益部"} <= departments and "办公厅" not in departments
    lines = await status_lines(harness, "2015-09")
    assert f"{TALENT}" in "\n".join(lines) and TALENT_RENAMED not in "\n".join(lines)

    # The open month: the renamed item keeps what was submitted; the retired one is gone.
    lines = await status_lines(harness, "2015-10")
    text = "\n".join(lines)
    assert TALENT_RENAMED in text and ADDED in text and RIGHTS not in text
    assert any(line.startswith("· 学校部：✅ 已提交") for line in lines), text
    assert "· 办公厅：⬜ 未开始" in lines
    assert "已报送 0/13 项" in lines[1]

    # The load said so, by name.
    assert f"renamed key work item: '{TALENT}' → '{TALENT_RENAMED}'" in result.output
    assert f"added key work item: '{ADDED}'" in result.output
    assert f"retired key work item: '{RIGHTS}'" in result.output
    assert "renamed department: '办公室' → '办公厅'" in result.output
    assert "retired department: '权益部'" in result.output


async def test_a_renamed_item_offers_last_months_plan(
    harness: Harness, huibao: Huibao, tmp_path: Path
) -> None:
    await a_closed_september_and_an_open_october(harness)
    result = huibao("roster", "load", str(roster_file(tmp_path, "changed.toml", CHANGES)))
    assert result.exit_code == 0, result.output

    publicity = harness.double.user(4001, "周宣", language_code="zh-hans")
    replies = await publicity.send("/report")
    assert not any(RIGHTS in b for b in replies.last.buttons)
    replies = await publicity.tap(next(b for b in replies.last.buttons if "青马工程" in b))
    assert "上月" in replies.last.text and "十月计划甲" in replies.last.text
    replies = await publicity.tap(CARRY)
    assert "十月计划乙" in replies.last.text


async def test_dry_run_lists_the_changes_and_changes_nothing(
    harness: Harness, huibao: Huibao, tmp_path: Path
) -> None:
    await a_closed_september_and_an_open_october(harness)
    shown = huibao("roster", "show").output
    assert f"{TALENT}  [youth_talent]  —  宣传部、学校部" in shown
    status = await status_lines(harness, "2015-10")

    result = huibao("roster", "load", "--dry-run", str(roster_file(tmp_path, "c.toml", CHANGES)))
    assert result.exit_code == 0, result.output
    assert f"renamed key work item: '{TALENT}' → '{TALENT_RENAMED}'" in result.output
    assert f"added key work item: '{ADDED}'" in result.output
    assert f"retired key work item: '{RIGHTS}'" in result.output
    assert "in the open month 2015-10:" in result.output
    assert f"+ new key work item '{ADDED}'" in result.output
    assert f"- '{RIGHTS}': 权益部 no longer reports on it (nothing submitted)" in result.output
    assert "dry run" in result.output

    assert huibao("roster", "show").output == shown
    assert await status_lines(harness, "2015-10") == status


async def test_dropping_submitted_work_from_the_open_month_needs_yes(
    harness: Harness, huibao: Huibao, tmp_path: Path
) -> None:
    await a_closed_september_and_an_open_october(harness)
    status = await status_lines(harness, "2015-10")
    without_school = roster_file(
        tmp_path,
        "no-school.toml",
        [('departments = ["publicity", "school"]', 'departments = ["publicity"]')],
    )

    refused = huibao("roster", "load", str(without_school))
    assert refused.exit_code == 1
    assert f"! '{TALENT}': what 学校部 submitted leaves this month" in refused.output
    assert "--yes" in refused.output
    assert await status_lines(harness, "2015-10") == status

    loaded = huibao("roster", "load", "--yes", str(without_school))
    assert loaded.exit_code == 0, loaded.output
    october = "\n".join(await status_lines(harness, "2015-10"))
    assert "学校部：✅" not in october
    september = "\n".join(await status_lines(harness, "2015-09"))
    assert "学校部：" in september  # the closed month keeps who reported


async def test_reminders_follow_the_open_months_roster(
    harness: Harness, huibao: Huibao, tmp_path: Path
) -> None:
    await a_closed_september_and_an_open_october(harness)
    result = huibao("roster", "load", str(roster_file(tmp_path, "changed.toml", CHANGES)))
    assert result.exit_code == 0, result.output

    publicity = harness.double.user(4001, "周宣", language_code="zh-hans")
    rights = harness.double.user(4004, "钱维", language_code="zh-hans")
    seen = {user: len(user.messages) for user in (publicity, rights)}
    await harness.coordinator().send("/remind")
    reminded = [m.text for m in publicity.messages[seen[publicity] :]]
    assert len(reminded) == 1 and ADDED in reminded[0] and TALENT_RENAMED in reminded[0]
    assert rights.messages[seen[rights] :] == []  # its only key work item was retired
