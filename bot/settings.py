"""Settings, read once: the configuration file plus the environment (secrets), validated into one object.

Nothing else in the project reads the environment; each part gets what it needs from `Settings`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlsplit

from bot.config import Config, ConfigError, load_config

GRAPH_API = "https://graph.facebook.com"
WHATSAPP_REQUIRED = ("WHATSAPP_TOKEN", "WHATSAPP_PHONE_ID", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN")
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,200}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class SettingsError(ConfigError):
    """A missing or malformed setting; one line naming the variable, never its value."""


@dataclass(frozen=True)
class WhatsAppSettings:
    """The WhatsApp Cloud API settings. repr() never shows a secret."""

    token: str = field(repr=False)
    phone_id: str
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)
    api_base_url: str = GRAPH_API


@dataclass(frozen=True)
class TelegramSettings:
    """The Telegram settings: the token, and for webhook mode the secret (and the public URL to register)."""

    token: str = field(repr=False)
    base_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_url: str | None = None


@dataclass(frozen=True)
class Settings:
    """Everything configurable: the file (`config`) and the environment, read once."""

    config: Config
    whatsapp: WhatsAppSettings | None = None
    telegram: TelegramSettings | None = None
    whatsapp_missing: tuple[str, ...] = WHATSAPP_REQUIRED  # the WHATSAPP_* variables not set
    telegram_problem: str | None = None  # why Telegram is not usable (a one-line message), if it is not
    log_salt: str | None = field(default=None, repr=False)


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def check_token(token: str | None) -> str:
    """TELEGRAM_BOT_TOKEN checked for presence and shape (the value is never echoed)."""
    if token is None:
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and put its token in the "
            "environment (see .env.example)"
        )
    if not _TOKEN.fullmatch(token):
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN is malformed: expected the bot id, a colon and the secret part, "
            "like 123456789:AAH… (copy it again from @BotFather)"
        )
    return token


def api_urls(base: str | None) -> tuple[str, str] | None:
    """(base_url, base_file_url) for another Bot API server, e.g. http://127.0.0.1:8081/bot; None for Telegram's."""
    if not base or not base.strip():
        return None
    url = base.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(
            "TELEGRAM_BASE_URL must be an http(s) URL of a Bot API server, like http://127.0.0.1:8081/bot"
        )
    root = url[: -len("/bot")] if url.endswith("/bot") else url
    return f"{root}/bot", f"{root}/file/bot"


def _telegram(env: Mapping[str, str]) -> TelegramSettings:
    token = check_token(_get(env, "TELEGRAM_BOT_TOKEN"))
    base_url = _get(env, "TELEGRAM_BASE_URL")
    api_urls(base_url)
    secret = _get(env, "TELEGRAM_WEBHOOK_SECRET")
    if secret is not None and not _SECRET.fullmatch(secret):
        raise SettingsError("TELEGRAM_WEBHOOK_SECRET must be 1–256 characters: letters, digits, _ and -")
    url = _get(env, "TELEGRAM_WEBHOOK_URL")
    if url is not None and (urlsplit(url).scheme != "https" or not urlsplit(url).hostname):
        raise SettingsError("TELEGRAM_WEBHOOK_URL must be the public https:// address of /webhook/telegram")
    return TelegramSettings(token, base_url, secret, url)


def _whatsapp(env: Mapping[str, str]) -> tuple[WhatsAppSettings | None, tuple[str, ...]]:
    missing = tuple(name for name in WHATSAPP_REQUIRED if _get(env, name) is None)
    if missing:
        return None, missing
    base = _get(env, "WHATSAPP_API_BASE_URL") or GRAPH_API
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError("WHATSAPP_API_BASE_URL must be an http(s) URL")
    values = [_get(env, name) or "" for name in WHATSAPP_REQUIRED]
    return WhatsAppSettings(*values, api_base_url=base), ()


def settings_from(config: Config, env: Mapping[str, str] | None = None) -> Settings:
    """Settings for a loaded configuration and an environment (default: the process environment)."""
    env = os.environ if env is None else env
    whatsapp, missing = _whatsapp(env)
    telegram, problem = None, None
    try:
        telegram = _telegram(env)
    except SettingsError as exc:
        problem = str(exc)
    return Settings(config, whatsapp, telegram, missing, problem, _get(env, "PANDU_LOG_SALT"))


def load_settings(config_path: str | None = None, db: str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read config.toml (or `config_path`) and the environment once; `db` overrides the database path."""
    return settings_from(load_config(config_path).with_db(db), env)
