"""Settings from the environment and `.env`, validated once at start-up.

Every setting is documented in `.env.example`; the README lists them too.
"""

from __future__ import annotations

import re
from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core import schedule
from bot.core.periods import DEFAULT_ZONE
from bot.core.texts import TerminalError, terminal

DEFAULT_DATABASE_URL = "sqlite:///data/huibao.db"
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class SettingValueError(TerminalError, ValueError):
    """One setting's value is wrong (raised inside a validator, reported by load_settings)."""


class SettingsError(TerminalError):
    """A setting is missing or invalid; the message names it and says what to do."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # `BOT_USERNAME=` (as .env.example ships it) means "not set", for every setting.
        env_ignore_empty=True,
    )

    bot_token: SecretStr | None = None
    bot_api_base_url: str = "https://api.telegram.org/bot"
    bot_api_file_url: str = "https://api.telegram.org/file/bot"
    database_url: str = DEFAULT_DATABASE_URL
    timezone: str = DEFAULT_ZONE  # the roster's, when it names one
    default_language: str = "zh-CN"
    invite_ttl_days: int = Field(default=7, ge=1, le=365)
    bot_username: str | None = None

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)

    reminder_offsets: str = "-3d,-1d,0d"
    reminder_hour: str = "09:00"
    quiet_hours: str = "22:00-08:00"
    reminder_grace_hours: int = Field(default=12, ge=0)
    reminders_enabled: bool = True  # false: no scheduled reminders (e.g. a staging copy)
    # Scheduled backups (handlers/backups.py): daily at BACKUP_AT, the BACKUP_KEEP newest
    # kept in BACKUP_DIR (default: beside a SQLite database, ./backups for PostgreSQL).
    backup_schedule: Literal["daily", "off"] = "daily"
    backup_at: str = "03:00"
    backup_keep: int = Field(default=7, ge=1, le=1000)
    backup_dir: Path | None = None
    # The inbox (storage/inbox.py): handled updates are kept this many days, so a delivery
    # Telegram repeats is still recognised (Telegram keeps an undelivered update a day).
    inbox_keep_days: int = Field(default=7, ge=1, le=365)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one JSON object a line, for log collectors
    log_message_text: bool = False  # true: event lines carry the message text (staging only)
    chart_font: str | None = None  # a CJK font file for /stats; None: the host's or mplfonts'

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingValueError("setting_unknown_zone", value=value) from exc
        return value

    @field_validator("reminder_offsets", "reminder_hour", "quiet_hours")
    @classmethod
    def _valid_schedule(cls, value: str, info: ValidationInfo) -> str:
        """Fail at start-up, naming the bad piece, rather than at the first reminder."""
        parse = {
            "reminder_offsets": schedule.parse_offsets,
            "reminder_hour": lambda text: schedule.parse_clock(text, "reminder_hour"),
            "quiet_hours": schedule.parse_quiet,
        }[str(info.field_name)]
        parse(value)
        return value.strip()

    @field_validator("backup_at")
    @classmethod
    def _valid_backup_at(cls, value: str) -> str:
        schedule.parse_clock(value, "backup_at")
        return value.strip()

    @field_validator("backup_schedule", mode="before")
    @classmethod
    def _known_backup_schedule(cls, value: object) -> object:
        text = str(value).strip().lower()
        if text not in ("daily", "off"):
            raise SettingValueError("setting_bad_backup_schedule", value=str(value))
        return text

    @field_validator("webhook_secret")
    @classmethod
    def _valid_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET_TOKEN.match(value.get_secret_value()):
            raise SettingValueError("setting_bad_secret")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.strip().upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingValueError("setting_bad_log_level")
        return value.strip().upper()

    @field_validator("log_format", mode="before")
    @classmethod
    def _known_format(cls, value: object) -> str:
        text = str(value).strip().lower()
        if text not in ("text", "json"):
            raise SettingValueError("setting_bad_log_format")
        return text

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in ("zh-CN", "en"):
            raise SettingValueError("setting_bad_language")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def reminder_schedule(self) -> schedule.ReminderSchedule:
        """REMINDER_OFFSETS, REMINDER_HOUR and QUIET_HOURS parsed once (validated above),
        in TIMEZONE; a pass puts the schedule in the organisation's zone (core.reminders)."""
        return schedule.ReminderSchedule.parse(
            self.tz, self.reminder_offsets, self.reminder_hour, self.quiet_hours
        )

    @property
    def backup_time(self) -> time:
        """BACKUP_AT on the organisation's clock (validated above)."""
        return schedule.parse_clock(self.backup_at, "backup_at")

    @property
    def token(self) -> str:
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise SettingsError("token_missing")
        return self.bot_token.get_secret_value().strip()

    def webhook_secret_or_fail(self) -> str:
        """The webhook's secret; a webhook without one would act on anyone's forged update."""
        if self.webhook_secret is None:
            raise SettingsError("webhook_needs_secret")
        return self.webhook_secret.get_secret_value()


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn pydantic's report into one line per bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [
            (".".join(str(part) for part in error["loc"]).upper(), _problem(error))
            for error in exc.errors()
        ]
        raise SettingsError("settings_invalid", problems=problems) from None


def _problem(error: Any) -> str:
    """What is wrong with one setting, in the terminal's language where we can say it."""
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, TerminalError):
        return str(cause)
    kind, limits = error["type"], error.get("ctx", {})
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return terminal("setting_not_integer")
    if kind in ("bool_parsing", "bool_type"):
        return terminal("setting_not_boolean")
    if kind == "greater_than_equal":
        return terminal("setting_at_least", limit=limits.get("ge"))
    if kind == "less_than_equal":
        return terminal("setting_at_most", limit=limits.get("le"))
    return str(error["msg"])
