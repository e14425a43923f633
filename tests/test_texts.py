"""Every text users read comes from templates/, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from bot.core.texts import (
    language_for,
    names,
    plain,
    reader_language,
    terminal_language,
    text,
)
from storage.console import Outcome

ROOT = Path(__file__).resolve().parent.parent
USED = re.compile(r"""\.(?:text|plain)\(\s*["']([a-z_]+)["']""")


def test_both_languages_define_the_same_texts() -> None:
    assert names("zh-CN") == names("en")
    assert names("zh-CN", "cli") == names("en", "cli")


def test_every_terminal_text_named_in_the_code_exists() -> None:
    named = re.compile(
        r"""(?:terminal|(?:Roster|Period|Schema|Settings|SettingValue|Template|Demo|Schedule)Error)"""
        r"""\(\s*["']([a-z_]+)["']"""
    )
    used = {
        name
        for folder in ("bot", "storage")
        for path in (ROOT / folder).rglob("*.py")
        for name in named.findall(path.read_text(encoding="utf-8"))
    }
    cli = (ROOT / "bot" / "cli.py").read_text(encoding="utf-8")
    used |= {f"help_{name}" for name in re.findall(r"""_help\(["']([a-z_]+)["']\)""", cli)}
    # `huibao period ...` says what happened to the period: one text per outcome.
    used |= {f"period_{outcome.value}" for outcome in Outcome if outcome is not Outcome.UNKNOWN}
    assert len(used) > 50, used
    assert used - names("en", "cli") == set()


def test_the_terminal_speaks_the_locales_language() -> None:
    assert terminal_language({"LANG": "en_US.UTF-8"}) == "en"
    assert terminal_language({"LANG": "zh_CN.UTF-8"}) == "zh-CN"
    assert terminal_language({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}) == "zh-CN"
    assert terminal_language({"LANG": "C.UTF-8"}) == terminal_language({}) == "zh-CN"


def test_every_text_named_in_the_code_exists() -> None:
    defined = names("zh-CN")
    used = {
        name
        for folder in ("bot", "handlers")
        for path in (ROOT / folder).rglob("*.py")
        for name in USED.findall(path.read_text(encoding="utf-8"))
    }
    assert used, "no texts found in the code"
    assert used - defined == set()


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
