"""The roster file: parsing errors name the key; loading is idempotent and keeps history;
work item codes make renames; each period keeps the roster it had."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.core.roster import ChangeKind, RosterError, load_roster, parse_roster
from storage.db import MIGRATIONS, make_engine, session_scope
from storage.models import Department, Liaison, WorkItem
from storage.periods import close_period, get_period, open_period
from storage.roster import active_departments, apply_roster, work_items
from storage.snapshots import period_work_items

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "roster.toml"

MINIMAL = """
[organisation]
name = "测试单位"
[[departments]]
code = "a"
name = "甲部"
[[departments]]
code = "b"
name = "乙部"
[[work_items]]
title = "工作一"
departments = ["a", "b"]
[[coordinators]]
telegram_id = 42
name = "协调员"
"""


def test_example_roster_has_the_sample_items_in_order() -> None:
    roster = load_roster(EXAMPLE)
    from bot.demo.sample_month import SAMPLE_TITLES

    assert [w.title for w in roster.work_items] == SAMPLE_TITLES
    assert any(len(w.departments) > 1 for w in roster.work_items)
    owners = [code for w in roster.work_items for code in w.departments]
    assert any(owners.count(code) > 1 for code in owners)
    assert len(roster.coordinators) == 1


@pytest.mark.parametrize(
    ("broken", "key"),
    [
        (MINIMAL.replace('code = "a"', 'code = "A B"'), "departments[0].code"),
        (
            MINIMAL.replace('departments = ["a", "b"]', 'departments = ["a", "z"]'),
            "work_items[0].departments",
        ),
        (
            MINIMAL.replace('departments = ["a", "b"]', "departments = []"),
            "work_items[0].departments",
        ),
        (MINIMAL.replace('title = "工作一"', 'title = ""'), "work_items[0].title"),
        (MINIMAL.replace("telegram_id = 42", 'telegram_id = "x"'), "coordinators[0].telegram_id"),
        (
            MINIMAL.replace('name = "测试单位"', 'name = "测试单位"\ntimezone = "Mars/Base"'),
            "organisation.timezone",
        ),
        (MINIMAL.replace('code = "b"', 'code = "a"'), "departments[1].code"),
        ("[[departments]\n", "TOML"),
    ],
)
def test_errors_name_the_key(broken: str, key: str) -> None:
    with pytest.raises(RosterError) as error:
        parse_roster(broken)
    assert key in str(error.value)


def test_loading_twice_changes_nothing(engine: Engine) -> None:
    roster = parse_roster(MINIMAL)
    with session_scope(engine) as db:
        first = apply_roster(db, roster, "Asia/Shanghai")
    with session_scope(engine) as db:
        second = apply_roster(db, roster, "Asia/Shanghai")
    assert first.added == 4
    assert (second.added, second.updated, second.deactivated) == (0, 0, 0)


def test_a_removed_department_is_deactivated_not_deleted(engine: Engine) -> None:
    with session_scope(engine) as db:
        apply_roster(db, parse_roster(MINIMAL), "Asia/Shanghai")
        department = db.exec(select(Department).where(Department.code == "b")).one()
        db.add(Liaison(telegram_id=7, name="联络员", department_id=department.id or 0))
    changed = MINIMAL.replace('[[departments]]\ncode = "b"\nname = "乙部"\n', "").replace(
        '["a", "b"]', '["a"]'
    )
    with session_scope(engine) as db:
        change = apply_roster(db, parse_roster(changed), "Asia/Shanghai")
        assert change.deactivated == 1
        assert [d.code for d in active_departments(db)] == ["a"]
        kept = db.exec(select(Department).where(Department.code == "b")).one()
        assert not kept.active
        assert db.exec(select(Liaison)).one().department_id == kept.id
        assert [d.code for d in work_items(db)[0].departments] == ["a"]


def test_renamed_department_is_updated_by_code(engine: Engine) -> None:
    with session_scope(engine) as db:
        apply_roster(db, parse_roster(MINIMAL), "Asia/Shanghai")
    with session_scope(engine) as db:
        change = apply_roster(db, parse_roster(MINIMAL.replace("甲部", "甲处")), "Asia/Shanghai")
        assert change.updated == 1
        assert active_departments(db)[0].name == "甲处"


# --- codes, renames and what each period keeps ----------------------------------------

CODED = (
    MINIMAL.replace('title = "工作一"', 'code = "one"\ntitle = "工作一"')
    + """
[[work_items]]
code = "two"
title = "工作二"
departments = ["b"]
"""
)


def _item_ids(db: Session) -> dict[str, int]:
    return {w.title: w.id or 0 for w in db.exec(select(WorkItem)) if w.active}


def test_work_item_codes_are_checked_like_department_codes() -> None:
    assert parse_roster(CODED).work_items[0].code == "one"
    assert parse_roster(MINIMAL).work_items[0].code is None
    for broken, message in (
        (CODED.replace('code = "two"', 'code = "Two Items"'), "work_items[1].code"),
        (CODED.replace('code = "two"', 'code = "one"'), "work_items[1].code"),
    ):
        with pytest.raises(RosterError) as error:
            parse_roster(broken)
        assert message in str(error.value)


def test_a_new_title_under_the_same_code_is_a_rename(engine: Engine) -> None:
    with session_scope(engine) as db:
        apply_roster(db, parse_roster(CODED), "Asia/Shanghai")
        ids = _item_ids(db)
    with session_scope(engine) as db:
        change = apply_roster(db, parse_roster(CODED.replace("工作一", "工作甲")), "Asia/Shanghai")
        assert _item_ids(db) == {"工作甲": ids["工作一"], "工作二": ids["工作二"]}
    assert [(n.kind, n.name, n.old_name) for n in change.names] == [
        (ChangeKind.RENAMED, "工作甲", "工作一")
    ]
    # Two coded items may even swap titles.
    swapped = (
        CODED.replace("工作一", "工作X").replace("工作二", "工作一").replace("工作X", "工作二")
    )
    with session_scope(engine) as db:
        apply_roster(db, parse_roster(swapped), "Asia/Shanghai")
        assert _item_ids(db) == {"工作二": ids["工作一"], "工作一": ids["工作二"]}


def test_without_a_code_the_title_is_the_identity_and_codes_can_be_added_later(
    engine: Engine,
) -> None:
    with session_scope(engine) as db:
        apply_roster(db, parse_roster(MINIMAL), "Asia/Shanghai")
        first = _item_ids(db)["工作一"]
    with session_scope(engine) as db:  # the office adds codes to the roster it had
        change = apply_roster(db, parse_roster(CODED), "Asia/Shanghai")
        assert _item_ids(db)["工作一"] == first
        assert [(n.kind, n.name) for n in change.names] == [(ChangeKind.ADDED, "工作二")]
    with session_scope(engine) as db:  # a new title without a code: another item
        change = apply_roster(
            db, parse_roster(MINIMAL.replace("工作一", "工作甲")), "Asia/Shanghai"
        )
        assert _item_ids(db)["工作甲"] != first
        kinds = {(n.kind, n.name) for n in change.names}
        assert {(ChangeKind.ADDED, "工作甲"), (ChangeKind.RETIRED, "工作一")} <= kinds


def test_a_title_held_by_a_retired_item_of_another_code_is_refused(engine: Engine) -> None:
    with session_scope(engine) as db:
        apply_roster(db, parse_roster(CODED), "Asia/Shanghai")
    taken = CODED.replace('code = "two"\ntitle = "工作二"', 'code = "three"\ntitle = "工作二"')
    with session_scope(engine) as db, pytest.raises(RosterError) as error:
        apply_roster(db, parse_roster(taken), "Asia/Shanghai")
    assert "work_items[1].title" in str(error.value) and "two" in str(error.value)


def _titles(db: Session, month: str) -> list[tuple[str, list[str]]]:
    period = get_period(db, month)
    assert period is not None
    return [
        (i.title, [d.name for d in i.departments]) for i in period_work_items(db, period.id or 0)
    ]


def test_closed_periods_keep_their_roster_open_and_new_ones_take_the_new_one(
    engine: Engine,
) -> None:
    due = datetime(2015, 11, 5, 9, 0, tzinfo=UTC)
    with session_scope(engine) as db:
        apply_roster(db, parse_roster(CODED), "Asia/Shanghai")
        september = open_period(db, "2015-09", due)
        close_period(db, september)
        open_period(db, "2015-10", due)
    changed = CODED.replace("工作一", "工作甲").replace('name = "乙部"', 'name = "乙处"')
    with session_scope(engine) as db:
        change = apply_roster(db, parse_roster(changed), "Asia/Shanghai")
        assert [effect.month for effect in change.periods] == ["2015-10"]
        open_period(db, "2015-11", due)
    with session_scope(engine) as db:
        assert _titles(db, "2015-09") == [("工作一", ["甲部", "乙部"]), ("工作二", ["乙部"])]
        assert _titles(db, "2015-10") == [("工作甲", ["甲部", "乙处"]), ("工作二", ["乙处"])]
        assert _titles(db, "2015-11") == _titles(db, "2015-10")
        # Reopened, September keeps what it had until a roster load while it is open.
        reopened = open_period(db, "2015-09", due)
        assert reopened.is_open
        assert _titles(db, "2015-09") == [("工作一", ["甲部", "乙部"]), ("工作二", ["乙部"])]
    with session_scope(engine) as db:
        apply_roster(db, parse_roster(changed), "Asia/Shanghai")
        assert _titles(db, "2015-09") == _titles(db, "2015-10")


def test_the_migration_gives_existing_periods_the_roster_they_have(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    command.upgrade(config, "0001")
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO department (id, code, name, position, active) VALUES"
            " (1, 'a', '甲部', 0, 1), (2, 'b', '乙部', 1, 0)",
            "INSERT INTO work_item (id, title, position, active) VALUES"
            " (1, '工作一', 0, 1), (2, '旧工作', 1, 0)",
            "INSERT INTO work_item_department (work_item_id, department_id, position) VALUES"
            " (1, 1, 0), (1, 2, 1)",
            "INSERT INTO period (id, month, due_at, is_open) VALUES"
            " (1, '2015-09', '2015-10-08 09:00:00', 0)",
        ):
            connection.exec_driver_sql(statement)
    command.upgrade(config, "head")
    with session_scope(engine) as db:
        assert _titles(db, "2015-09") == [("工作一", ["甲部"])]
    engine.dispose()
