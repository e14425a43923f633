"""Settings: a missing token explains itself, bad values name the setting, no token leaks."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.logs import RedactToken
from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def _huibao(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_without_token_explains_and_exits_2(tmp_path: Path) -> None:
    result = _huibao("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_invalid_setting_is_named(tmp_path: Path) -> None:
    result = _huibao("run", cwd=tmp_path, BOT_TOKEN="1:x", TIMEZONE="Mars/Base")
    assert result.returncode == 2
    assert "TIMEZONE" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_values_raise_settings_error_naming_them() -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET"):
        load_settings(_env_file=None, webhook_secret="has spaces!")
    with pytest.raises(SettingsError, match="WEBHOOK_PORT"):
        load_settings(_env_file=None, webhook_port=0)
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        load_settings(_env_file=None, log_level="verbose")
    assert load_settings(_env_file=None, log_level="debug").log_level == "DEBUG"


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("BOT_TOKEN=1:abc\nTIMEZONE=Europe/Berlin\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.delenv("TIMEZONE", raising=False)
    settings = load_settings()
    assert settings.token == "1:abc"
    assert settings.timezone == "Europe/Berlin"
    assert "1:abc" not in repr(settings)


def test_token_is_redacted_from_logs(caplog: pytest.LogCaptureFixture) -> None:
    secret = "987654:SECRET-token-value"
    logger = logging.getLogger("test.redact")
    caplog.handler.addFilter(RedactToken(secret))
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{secret}/getMe failed")
    except RuntimeError:
        logger.exception("request to %s failed", f"/bot{secret}/getMe")
    assert secret not in caplog.text
    assert "<BOT_TOKEN>" in caplog.text


def test_env_example_copied_verbatim_works(tmp_path: Path) -> None:
    """`cp .env.example .env`: every empty value means "not set", so the only complaint
    is the missing token, and commands that need no token work."""
    (tmp_path / ".env").write_text(
        (ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8"
    )
    upgraded = _huibao("db", "upgrade", cwd=tmp_path, LANG="zh_CN.UTF-8")
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "data" / "huibao.db").is_file()
    result = _huibao("run", cwd=tmp_path, LANG="zh_CN.UTF-8")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("未设置 BOT_TOKEN"), result.stderr
    assert "有误" not in result.stderr


def test_env_example_with_the_token_filled_in(tmp_path: Path) -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert "\nBOT_TOKEN=\n" in example
    filled = example.replace("\nBOT_TOKEN=\n", "\nBOT_TOKEN=123456:abc\n")
    (tmp_path / ".env").write_text(filled, encoding="utf-8")
    result = _huibao("db", "upgrade", cwd=tmp_path, LANG="zh_CN.UTF-8")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "数据库结构已是最新。"
    assert result.stderr == ""
    shown = _huibao("roster", "show", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr


def test_an_empty_environment_variable_means_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WEBHOOK_URL", "WEBHOOK_SECRET", "BOT_USERNAME", "WEBHOOK_PORT", "TIMEZONE"):
        monkeypatch.setenv(name, "")
    settings = load_settings(_env_file=None)
    assert settings.webhook_url is None and settings.webhook_secret is None
    assert settings.bot_username is None
    assert settings.webhook_port == 8443 and settings.timezone == "Asia/Shanghai"


def test_the_token_is_masked_in_every_part_of_a_record(caplog: pytest.LogCaptureFixture) -> None:
    secret = "987654:SECRET/token+value"
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RedactToken(secret))
    logger = logging.getLogger("test.redact")
    try:
        raise RuntimeError(f"https://api.telegram.org/bot{quote(secret, safe='')}/getMe")
    except RuntimeError:
        logger.warning("failed", exc_info=True, stack_info=True)
    logger.info("token %s in the arguments", secret)
    assert secret not in caplog.text and quote(secret, safe="") not in caplog.text
    assert caplog.text.count("<BOT_TOKEN>") == 2
