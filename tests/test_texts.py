"""Every text users read comes from templates/, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from bot.texts import language_for, names, plain, text

ROOT = Path(__file__).resolve().parent.parent
USED = re.compile(r"""\.(?:text|plain)\(\s*["']([a-z_]+)["']""")


def test_both_languages_define_the_same_texts() -> None:
    assert names("zh-CN") == names("en")


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
