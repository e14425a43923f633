"""An export, and a copy from SQLite to PostgreSQL, taken while fifty liaisons submit
through the chat (issue 16, "Done when"): what either holds is whole, and one taken once
they are done brings back every submission with every month compiling identically."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.archive import copy, export
from bot.cli import main
from storage.db import make_engine, upgrade
from tests.busy_office import (
    CLOSED_MONTH,
    LIAISONS,
    OPEN_MONTH,
    Snapshot,
    busy_month,
    office,
    snapshot,
)
from tests.test_backup import own_postgres_database
from tests.test_backup_under_load import AFTER, HELD, Backend, backend

__all__ = ["backend"]  # the fixture, used by name


def huibao(url: str, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    return result.output


def export_midway(url: str, folder: Path) -> Path:
    """What `huibao export DIR` does (bot/cli.py), on an engine of its own: the command in
    a process of its own takes seconds to start, and by then the liaisons would be done."""
    engine = make_engine(url)
    try:
        export(engine, folder)
        return folder
    finally:
        engine.dispose()


def copy_midway(source: str, target: str) -> None:
    """What `huibao db copy --to URL` does, on engines of its own."""
    engines = make_engine(source), make_engine(target)
    try:
        copy(*engines)
    finally:
        for engine in engines:
            engine.dispose()


def whole_as_of_one_moment(then: Snapshot, live: Snapshot) -> None:
    """The closed month exactly as it is; in the open month each submission whole and as
    it stands now, between those in before the copy began and those held back until it
    was done."""
    assert then.of(CLOSED_MONTH) == live.of(CLOSED_MONTH)
    assert then.documents[CLOSED_MONTH] == live.documents[CLOSED_MONTH]
    assert all(report.whole for report in then.submissions)
    handed_in = then.submitted(OPEN_MONTH)
    assert AFTER <= len(handed_in) <= LIAISONS - HELD
    assert set(handed_in) <= set(live.submitted(OPEN_MONTH))


async def test_an_export_while_fifty_liaisons_submit_imports_whole_and_after_them_all(
    backend: Backend, tmp_path: Path
) -> None:
    engine = make_engine(backend.url)
    upgrade(engine)
    async with office(engine, tmp_path) as busy:
        midway = await busy_month(
            busy, lambda: export_midway(backend.url, tmp_path / "midway"), after=AFTER, held=HELD
        )
        huibao(backend.url, "export", str(tmp_path / "done"))
        live = snapshot(engine)
    engine.dispose()
    assert len(live.submitted(OPEN_MONTH)) == LIAISONS

    restored = backend.empty("midway")
    huibao(restored, "import-archive", str(midway))
    whole_as_of_one_moment(snapshot(restored), live)

    restored = backend.empty("done")
    huibao(restored, "import-archive", str(tmp_path / "done"))
    assert snapshot(restored) == live
    documents = sorted(p.name for p in (tmp_path / "done" / "documents").iterdir())
    assert documents == [
        "2015年10月重点工作推进情况汇总表.docx",
        "2015年11月重点工作推进情况汇总表.docx",
    ]


async def test_a_copy_to_postgresql_while_fifty_liaisons_submit_is_whole_and_after_them_all(
    tmp_path: Path,
) -> None:
    source = f"sqlite:///{tmp_path / 'live' / 'huibao.db'}"
    engine = make_engine(source)
    upgrade(engine)
    with own_postgres_database("_midway") as midway, own_postgres_database("_done") as done:
        async with office(engine, tmp_path) as busy:
            await busy_month(busy, lambda: copy_midway(source, midway), after=AFTER, held=HELD)
            output = huibao(source, "db", "copy", "--to", done)
            live = snapshot(engine)
        engine.dispose()
        assert "all 2 months compile identically on both" in output
        whole_as_of_one_moment(snapshot(midway), live)
        assert snapshot(done) == live
