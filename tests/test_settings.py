"""Settings: a missing token explains itself, bad values name the setting, no token leaks."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

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
