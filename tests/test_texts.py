"""Every text users read comes from templates/, in both languages, and every name the code
uses for one exists (tests/text_names.py finds them)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import handlers.common
from bot.core.audit import Action
from bot.core.draft import Part, Rejection, Step
from bot.core.period_change import PeriodOutcome as Outcome
from bot.core.roster import EDIT_PROBLEMS
from bot.core.section import Problem
from bot.core.stats import Outcome as StatsOutcome
from bot.core.status import State
from bot.core.texts import (
    language_for,
    names,
    plain,
    reader_language,
    terminal_language,
    text,
)
from handlers.common import Needs
from handlers.menus import COORDINATOR, LIAISON, STRANGER
from tests.text_names import CLI, MESSAGES, Scan, load, parse

ROOT = Path(__file__).resolve().parent.parent

# A text named by an f-string: its pattern ("{}" for the value) and every value it takes.
# The scan fails on an f-string name whose pattern is not listed here.
COMPUTED: dict[str, tuple[str, ...]] = {
    "state_{}": tuple(state.value for state in State),
    "part_{}": tuple(Part),
    "{}_prompt": (Step.REPLACE, Step.INSERT),  # the steps that ask for one message
    "rejected_{}": tuple(Rejection),
    "cmd_{}": STRANGER + LIAISON + COORDINATOR,
    "roster_edit_{}": EDIT_PROBLEMS,  # a chat edit of the roster that cannot be made
    # `huibao period ...` says what happened to the period: one text per outcome.
    "period_{}": tuple(outcome.value for outcome in Outcome if outcome is not Outcome.UNKNOWN),
    "audit_{}": tuple(action.value for action in Action),  # `huibao audit`: one per change
    "section_{}": tuple(Problem),  # a section file that cannot be read: one per problem
    "section_rejected_{}": tuple(Rejection),
    "stats_{}": tuple(StatsOutcome),  # the chart's legend: one per outcome
}


def test_both_languages_define_the_same_texts() -> None:
    assert names("zh-CN") == names("en")
    assert names("zh-CN", "cli") == names("en", "cli")


@pytest.mark.parametrize("kind", ["messages", "cli"])
def test_each_text_lives_in_one_file(kind: str) -> None:
    """A topic's own file (templates/<kind>/<topic>/) may not repeat a name of another
    file: the first one found would silently win."""
    seen: dict[str, Path] = {}
    root = ROOT / "templates" / kind
    for path in [root / "zh-CN.j2", *sorted(root.glob("*/zh-CN.j2"))]:
        for name in re.findall(r"{%-?\s*macro\s+(\w+)", path.read_text(encoding="utf-8")):
            assert name not in seen, f"{name} is in {seen[name]} and {path}"
            seen[name] = path


def test_the_terminal_speaks_the_locales_language() -> None:
    assert terminal_language({"LANG": "en_US.UTF-8"}) == "en"
    assert terminal_language({"LANG": "zh_CN.UTF-8"}) == "zh-CN"
    assert terminal_language({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}) == "zh-CN"
    assert terminal_language({"LANG": "C.UTF-8"}) == terminal_language({}) == "zh-CN"


# A text named by what a method returns: every name it can return. `Who.refused` answers
# with the refusal of one of handlers/common.py's `Needs` rules, or "private_only".
RULES = [rule for rule in vars(handlers.common).values() if isinstance(rule, Needs)]
RETURNED: dict[str, tuple[str, ...]] = {
    "refused": ("private_only", *{n for r in RULES for n in (r.refusal, r.stranger) if n}),
}


@pytest.fixture(scope="module")
def scan() -> Scan:
    return Scan(load(ROOT, ("bot", "handlers", "storage")), COMPUTED, RETURNED)


def test_every_text_named_in_the_code_exists(scan: Scan) -> None:
    defined = {MESSAGES: names("zh-CN"), CLI: names("zh-CN", CLI)}
    problems = [f"{where}: {why}" for where, why in sorted(scan.errors.items())]
    problems += sorted(
        f"{use.where}: no text {use.name!r} in templates/{use.kind}/"
        for use in scan.uses
        if use.name not in defined[use.kind]
    )
    assert not problems, "\n".join(problems)
    used = {kind: {u.name for u in scan.uses if u.kind == kind} for kind in defined}
    assert len(used[MESSAGES]) > 100 and len(used[CLI]) > 50, used
    assert set(COMPUTED) - scan.patterns_seen == set(), "COMPUTED lists patterns no code uses"
    assert len(RULES) >= 5, "handlers.common's role rules were not found"


def test_the_scan_follows_every_way_of_naming_a_text() -> None:
    source = """
from bot.core import texts
from bot.core.texts import TerminalError, terminal
from sqlalchemy import text

TABLE = {1: "from_table"}
SCREENS = {"a": ("nested_table", len), "b": ("other_row", len)}
NAMES = ("module_loop",)

class Who:
    def text(self, name, /, **values):
        return texts.text("en", name, **values)

class OddError(TerminalError):
    pass

def _help(topic):
    return terminal(f"help_{topic}")

def refusal(x):
    return "refused" if x else None

def screen(sender, flag, key):
    texts.plain(sender.language, "two_arguments")
    sender.text("by_method", name="not a text name")
    sender.text("yes" if flag else "no")
    sender.text(TABLE[key])
    sender.text(SCREENS[key][0])
    sender.text(refusal(flag))
    for label, _ in (("looped", 1),):
        sender.text(label)
    [sender.text(each) for each in NAMES]
    sender.text(f"state_{flag.value}")
    _help(topic="topic")
    text("select 1")  # SQLAlchemy's text(), not ours
    raise OddError("odd")

def broken(sender, thing):
    sender.text(f"unlisted_{thing.value}")
    sender.text(thing.name)
"""
    found = Scan([parse("fake", "fake.py", source)], {"state_{}": ("a",)})
    uses = {(u.kind, u.name) for u in found.uses}
    assert uses == {
        (MESSAGES, name)
        for name in (
            "two_arguments",
            "by_method",
            "yes",
            "no",
            "from_table",
            "nested_table",
            "other_row",
            "refused",
            "looped",
            "module_loop",
            "state_a",
        )
    } | {(CLI, "help_topic"), (CLI, "odd")}
    assert sorted(found.errors) == ["fake.py:39", "fake.py:40"]
    assert "unlisted_{}" in found.errors["fake.py:39"]


def test_values_are_escaped_for_html() -> None:
    rendered = text("zh-CN", "welcome_liaison", name="<b>&", department="办公室")
    assert "&lt;b&gt;&amp;" in rendered
    assert plain("en", "btn_submit") == "📤 Submit"


def test_language_follows_telegram_english_or_chinese() -> None:
    assert language_for("en") == language_for("en-GB") == "en"
    assert language_for("zh-hans") == language_for(None) == language_for("ru") == "zh-CN"


def test_the_language_a_user_reads() -> None:
    """Chosen with /lang, else the client's, else the default (the settings' for reminders)."""
    assert reader_language("zh-CN", "en") == "zh-CN"
    assert reader_language(None, "en-US") == "en"
    assert reader_language(None, "ru") == reader_language(None) == "zh-CN"
    assert reader_language(None, None, default="en") == "en"
