"""Salts and salted hashes: chat ids and the question log, both keyed by the database's own salt (never changes).

PANDU_LOG_SALT keyed the question log before schema 6; it is read only to carry those rows over once (and by a
database whose WhatsApp chats predate `chat_salt`, which adopts it), so changing it can no longer cut a chat off
from its logged questions (/hapus finds them all).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Callable

from bot.storage.db import Database


class Salts:
    """The two salts of a database, read once: `chat_salt` (kept in the database) and the log salt."""

    def __init__(self, database: Database, log_salt: str | None = None):
        self.db = database.db
        self._env_log_salt = (log_salt or "").strip()
        self._salt: bytes | None = None
        self._chat_salt: bytes | None = None

    def _meta_once(self, key: str, make: Callable[[], str]) -> str:
        """A meta value set once: make() gives it the first time (another process may set it first)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        if row is None:
            self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", [key, make()])
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0]

    def _chat_id_salt(self) -> bytes:
        if self._chat_salt is None:
            self._chat_salt = self._meta_once("chat_salt", self._first_chat_salt).encode()
        return self._chat_salt

    def _first_chat_salt(self) -> str:
        # WhatsApp chats keyed before 'chat_salt' existed were hashed with the question-log salt: such a
        # database adopts it once, so those chats keep their data; any other starts with a random salt.
        legacy = self.db.execute(
            "SELECT 1 FROM chats WHERE chat_key LIKE 'whatsapp:wa-%' UNION ALL "
            "SELECT 1 FROM wa_window WHERE chat_key LIKE 'whatsapp:wa-%' LIMIT 1"
        ).fetchone()
        return self._log_salt().decode() if legacy else secrets.token_hex(16)

    def chat_id_hash(self, value: str) -> str:
        """A salted hash that identifies a chat (e.g. a WhatsApp phone number); its salt never changes."""
        return hmac.new(self._chat_id_salt(), value.encode(), hashlib.sha256).hexdigest()[:32]

    def _log_salt(self) -> bytes:
        if self._salt is None:
            self._salt = (self._env_log_salt or self._meta_once("log_salt", lambda: secrets.token_hex(16))).encode()
        return self._salt

    def chat_hash(self, chat_key: str) -> str:
        """The question log's key for a chat: a salted hash (never the chat id), stable for the database's life."""
        return hmac.new(self._chat_id_salt(), f"question_log:{chat_key}".encode(), hashlib.sha256).hexdigest()[:32]

    def legacy_log_hash(self, chat_key: str) -> str:
        """How the question log was keyed before schema 6: with the log salt (PANDU_LOG_SALT or a kept random one)."""
        return hmac.new(self._log_salt(), chat_key.encode(), hashlib.sha256).hexdigest()[:32]
