"""Configuration: config.toml for paths, thresholds and switches; secrets only from the environment."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from knowledge.settings import RetrievalConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config.toml"


class ConfigError(Exception):
    """A bad configuration file or value; the message is one line naming the key."""


@dataclass(frozen=True)
class StorageConfig:
    path: str = "data/pandu.db"
    busy_timeout_ms: int = 2000


@dataclass(frozen=True)
class KnowledgeConfig:
    path: str = "knowledge"


@dataclass(frozen=True)
class QuestionLogConfig:
    enabled: bool = True


@dataclass(frozen=True)
class AdminConfig:
    chats: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeliveryConfig:
    """The inbox and outbox: how replies are sent and retried."""

    senders: int = 16  # chats whose replies are sent at the same time (each chat's in order)
    retry_first_s: float = 1.0  # the first retry's delay; it doubles up to retry_max_s
    retry_max_s: float = 300.0
    give_up_after_s: float = 86400.0  # a reply still unsent after this long is given up (WhatsApp's window)
    confirm_wait_s: float = 30.0  # after a crash, how long a WhatsApp send of unknown outcome waits for its status
    seen_kept_days: int = 7  # handled deliveries' ids kept to skip redeliveries (Meta retries up to 7 days)


@dataclass(frozen=True)
class ServerConfig:
    """The app's own HTTP server (webhooks): what one client may take (see bot/guard.py)."""

    max_connections: int = 256  # open connections at once; at the cap the slowest unfinished one is closed
    header_timeout_s: float = 10.0  # a request's headers must arrive within this (from its first byte)
    body_timeout_s: float = 20.0  # and its body within this (from the end of the headers)


@dataclass(frozen=True)
class Config:
    """The whole configuration; `base_dir` resolves relative paths."""

    storage: StorageConfig = field(default_factory=StorageConfig)
    knowledge: KnowledgeConfig = field(default_factory=KnowledgeConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    question_log: QuestionLogConfig = field(default_factory=QuestionLogConfig)
    admin: AdminConfig = field(default_factory=AdminConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    base_dir: Path = REPO_ROOT

    def resolve(self, path: str | os.PathLike[str]) -> Path:
        """Resolve a configured path against the config file's directory."""
        p = Path(path)
        return p if p.is_absolute() or str(path) == ":memory:" else self.base_dir / p

    @property
    def db_path(self) -> str:
        """The database path as a string (":memory:" stays as is)."""
        if self.storage.path == ":memory:":
            return ":memory:"
        return str(self.resolve(self.storage.path))

    @property
    def knowledge_dir(self) -> Path:
        return self.resolve(self.knowledge.path)

    def with_db(self, path: str | None) -> "Config":
        """A copy with another database path (from --db); relative to the working directory."""
        if not path:
            return self
        if path != ":memory:":
            path = str(Path(path).resolve())
        return replace(self, storage=replace(self.storage, path=path))


SECTIONS: dict[str, type] = {
    "storage": StorageConfig,
    "knowledge": KnowledgeConfig,
    "retrieval": RetrievalConfig,
    "question_log": QuestionLogConfig,
    "admin": AdminConfig,
    "delivery": DeliveryConfig,
    "server": ServerConfig,
}


def _coerce(key: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"config: {key} must be true or false, not {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config: {key} must be a whole number, not {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"config: {key} must be a number, not {value!r}")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"config: {key} must be a non-empty string, not {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"config: {key} must be a list of strings, not {value!r}")
        return tuple(value)
    raise ConfigError(f"config: {key} has an unsupported type")  # pragma: no cover


def _check(cfg: Config) -> None:
    problems = cfg.retrieval.problems()  # the retrieval settings live in knowledge/ and check themselves
    if problems:
        raise ConfigError(f"config: {problems[0]}")
    if cfg.storage.busy_timeout_ms < 0:
        raise ConfigError("config: storage.busy_timeout_ms must not be negative")
    d = cfg.delivery
    if not 1 <= d.senders <= 256:
        raise ConfigError(f"config: delivery.senders must be between 1 and 256, not {d.senders}")
    for name in ("retry_first_s", "retry_max_s", "give_up_after_s"):
        if getattr(d, name) <= 0:
            raise ConfigError(f"config: delivery.{name} must be positive")
    if d.retry_first_s > d.retry_max_s:
        raise ConfigError("config: delivery.retry_first_s must not be above delivery.retry_max_s")
    if d.confirm_wait_s < 0 or d.seen_kept_days < 1:
        raise ConfigError("config: delivery.confirm_wait_s must not be negative, seen_kept_days at least 1")
    sv = cfg.server
    if not 8 <= sv.max_connections <= 100_000:
        raise ConfigError(f"config: server.max_connections must be between 8 and 100000, not {sv.max_connections}")
    for name in ("header_timeout_s", "body_timeout_s"):
        if not 0.5 <= getattr(sv, name) <= 600:
            raise ConfigError(f"config: server.{name} must be between 0.5 and 600 seconds")


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate config.toml; raise ConfigError with a one-line message on any problem."""
    p = Path(path) if path else DEFAULT_CONFIG
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config: file not found: {p}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {p} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config: cannot read {p}: {exc}") from None
    sections: dict[str, Any] = {}
    for name, table in raw.items():
        if name not in SECTIONS:
            raise ConfigError(f"config: unknown section [{name}] in {p}")
        if not isinstance(table, dict):
            raise ConfigError(f"config: {name} must be a table")
        cls = SECTIONS[name]
        defaults = cls()
        known = {f.name for f in fields(cls)}
        values = {}
        for key, value in table.items():
            if key not in known:
                raise ConfigError(f"config: unknown key {name}.{key} in {p}")
            values[key] = _coerce(f"{name}.{key}", value, getattr(defaults, key))
        sections[name] = cls(**values)
    cfg = Config(**sections, base_dir=p.resolve().parent)
    _check(cfg)
    return cfg
