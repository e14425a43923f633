"""The roster file: parsing errors name the key; loading is idempotent and keeps history."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.roster import RosterError, load_roster, parse_roster
from storage.db import session_scope
from storage.models import Department, Liaison
from storage.roster import active_departments, apply_roster, work_items

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
    from tests.sample_month import SAMPLE_TITLES

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
