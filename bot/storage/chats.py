"""Chats: who was seen when, whether they still accept messages, their focus, the WhatsApp 24-hour window."""

from __future__ import annotations

import logging
import time

from bot.storage.db import Database
from bot.storage.identity import Salts

log = logging.getLogger(__name__)

# Pipeline tables hold deliveries and replies, not a chat's data: a finished inbox row keeps no chat at all,
# a sent outbox row is deleted. /hapus leaves them to the pipeline (replies already promised still go out).
PIPELINE_TABLES = {"inbox", "outbox"}


class Chats:
    """The chats, chat_focus and wa_window tables, and deleting everything of one chat."""

    def __init__(self, database: Database, salts: Salts):
        self.database = database
        self.db = database.db
        self.salts = salts

    def touch_chat(self, chat_key: str, channel: str) -> None:
        """Record that a chat was seen now (and that it is active again)."""
        now = time.time()
        self.db.execute(
            "INSERT INTO chats (chat_key, channel, created_at, last_seen, active) VALUES (?, ?, ?, ?, 1) "
            "ON CONFLICT(chat_key) DO UPDATE SET last_seen = excluded.last_seen, active = 1",
            [chat_key, channel, now, now],
        )

    def set_chat_active(self, chat_key: str, active: bool) -> None:
        """Mark a chat inactive (e.g. the user blocked the bot) or active again."""
        self.db.execute("UPDATE chats SET active = ? WHERE chat_key = ?", [int(active), chat_key])

    def chat_active(self, chat_key: str) -> bool:
        """Whether the chat accepts messages (unknown chats do)."""
        row = self.db.execute("SELECT active FROM chats WHERE chat_key = ?", [chat_key]).fetchone()
        return bool(row[0]) if row else True

    def delete_chat(self, chat_key: str) -> dict[str, int]:
        """Delete everything stored about one chat, in every table; return rows deleted per table."""
        counts: dict[str, int] = {}
        with self.database.transaction():
            for table in self.db.table_names():
                if table in PIPELINE_TABLES:
                    continue
                cols = {c.name for c in self.db[table].columns}
                if "chat_key" in cols:
                    cur = self.db.execute(f"DELETE FROM [{table}] WHERE chat_key = ?", [chat_key])
                    counts[table] = cur.rowcount
            cur = self.db.execute("DELETE FROM question_log WHERE chat_hash = ?", [self.salts.chat_hash(chat_key)])
            counts["question_log"] = cur.rowcount
        if self.database.path != ":memory:":
            self.database.after_commit(self._empty_wal)
        return counts

    def _empty_wal(self) -> None:
        busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy:
            log.warning("after deleting a chat the WAL could not be emptied yet (another reader)")

    # -- chat focus (what the chat waits for: handlers/focus.py) ----------------------------------
    def get_focus(self, chat_key: str) -> str | None:
        """The chat's stored focus record (JSON), or None."""
        row = self.db.execute("SELECT focus FROM chat_focus WHERE chat_key = ?", [chat_key]).fetchone()
        return row[0] if row else None

    def set_focus(self, chat_key: str, focus: str) -> None:
        """Store the chat's focus record (JSON)."""
        self.db.execute(
            "INSERT INTO chat_focus (chat_key, focus, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(chat_key) DO UPDATE SET focus = excluded.focus, updated_at = excluded.updated_at",
            [chat_key, focus, time.time()],
        )

    # -- WhatsApp: the 24-hour customer-service window ------------------------------------------
    def record_inbound(self, chat_key: str, at: float) -> None:
        """Remember the latest inbound message time of a chat (never moves backwards)."""
        self.db.execute(
            "INSERT INTO wa_window (chat_key, last_inbound) VALUES (?, ?) ON CONFLICT(chat_key) "
            "DO UPDATE SET last_inbound = max(last_inbound, excluded.last_inbound)",
            [chat_key, at],
        )

    def last_inbound(self, chat_key: str) -> float | None:
        """The latest inbound message time of a chat, or None if it never wrote."""
        row = self.db.execute("SELECT last_inbound FROM wa_window WHERE chat_key = ?", [chat_key]).fetchone()
        return row[0] if row else None
