"""Chats: who was seen when, whether they still accept messages, their focus, the WhatsApp 24-hour window."""

from __future__ import annotations

import logging
import math
import time

from bot.storage.db import Database
from bot.storage.identity import Salts

log = logging.getLogger(__name__)

# Pipeline tables hold deliveries and replies, not a chat's data: a finished inbox row keeps no chat at all,
# a sent outbox row is deleted. /hapus leaves them to the pipeline (replies already promised still go out).
PIPELINE_TABLES = {"inbox", "outbox"}
# When a chat moves to another key, rows of these tables are merged rather than simply re-keyed.
_MERGED = {"chats", "wa_window", "chat_links", "proposals"}


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

    # -- a chat under another key (a Telegram supergroup, a new WhatsApp number, a business-scoped id) ----------
    def resolve(self, chat_key: str) -> str:
        """The key a chat's data lives under: `chat_key` itself, or the key it was moved to."""
        row = self.db.execute("SELECT chat_key FROM chat_links WHERE alias = ?", [chat_key]).fetchone()
        return row[0] if row else chat_key

    def link(self, old_key: str, new_key: str) -> bool:
        """Make `old_key` an alias of `new_key`, moving whatever is stored under it; True if anything changed.

        What the new key already has stays (its focus, its active proposal); what it lacks comes from the old key.
        Call inside a transaction (the caller's, or one of its own).
        """
        source, target = self.resolve(old_key), self.resolve(new_key)
        if source == target:
            return False
        now = time.time()
        with self.database.transaction():
            self._move_rows(source, target)
            self.db.execute("UPDATE chat_links SET chat_key = ? WHERE chat_key = ?", [target, source])
            for alias in {old_key, source}:
                self.db.execute(
                    "INSERT INTO chat_links (alias, chat_key, linked_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(alias) DO UPDATE SET chat_key = excluded.chat_key, linked_at = excluded.linked_at",
                    [alias, target, now],
                )
            self.db.execute("DELETE FROM chat_links WHERE alias = ?", [target])  # never an alias of itself
            self.db.execute("UPDATE question_log SET chat_hash = ? WHERE chat_hash = ?",
                            [self.salts.chat_hash(target), self.salts.chat_hash(source)])  # fmt: skip
        log.debug("a chat's data moved to its new key")
        return True

    def _move_rows(self, source: str, target: str) -> None:
        # chats: one row; the earliest creation and latest sighting of the two.
        self.db.execute(
            "UPDATE chats SET created_at = min(created_at, (SELECT created_at FROM chats WHERE chat_key = :s)), "
            "last_seen = max(last_seen, (SELECT last_seen FROM chats WHERE chat_key = :s)) "
            "WHERE chat_key = :t AND EXISTS (SELECT 1 FROM chats WHERE chat_key = :s)", {"s": source, "t": target})
        self.db.execute("UPDATE OR IGNORE chats SET chat_key = ? WHERE chat_key = ?", [target, source])
        # the 24-hour window: the latest inbound message of the two
        self.db.execute(
            "INSERT INTO wa_window (chat_key, last_inbound) SELECT ?, last_inbound FROM wa_window WHERE chat_key = ? "
            "ON CONFLICT(chat_key) DO UPDATE SET last_inbound = max(coalesce(last_inbound, 0), excluded.last_inbound)",
            [target, source])  # fmt: skip
        # proposals: all of them move; only one stays active (the target's, if it has one)
        if self.db.execute("SELECT 1 FROM proposals WHERE chat_key = ? AND active = 1", [target]).fetchone():
            self.db.execute("UPDATE proposals SET active = 0 WHERE chat_key = ?", [source])
        self.db.execute("UPDATE proposals SET chat_key = ? WHERE chat_key = ?", [target, source])
        for table in self.db.table_names():  # everything else keyed by chat (focus, menus, answers, …)
            if table in PIPELINE_TABLES or table in _MERGED:
                continue
            if "chat_key" in {c.name for c in self.db[table].columns}:
                self.db.execute(f"UPDATE OR IGNORE [{table}] SET chat_key = ? WHERE chat_key = ?", [target, source])
        for table in self.db.table_names():  # what the target already had wins; the old rows go
            if table not in PIPELINE_TABLES and table != "chat_links" and "chat_key" in {c.name for c in self.db[table].columns}:
                self.db.execute(f"DELETE FROM [{table}] WHERE chat_key = ?", [source])

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
        """Remember the latest inbound message time of a chat (never moves backwards; only a real time counts)."""
        if not isinstance(at, (int, float)) or not math.isfinite(at) or at <= 0:
            log.warning("an inbound time that is not a real time was not recorded")
            return
        self.db.execute(
            "INSERT INTO wa_window (chat_key, last_inbound) VALUES (?, ?) ON CONFLICT(chat_key) "
            "DO UPDATE SET last_inbound = max(coalesce(last_inbound, 0), excluded.last_inbound)",
            [chat_key, at],
        )

    def last_inbound(self, chat_key: str) -> float | None:
        """The latest inbound message time of a chat, or None if it never wrote."""
        row = self.db.execute("SELECT last_inbound FROM wa_window WHERE chat_key = ?", [chat_key]).fetchone()
        return row[0] if row else None
