"""The question log (for curators) and the usage counts admins see."""

from __future__ import annotations

import time
from typing import Any, Iterator

from bot.storage.db import Database
from bot.storage.identity import Salts


class Questions:
    """The question_log table, and usage counts over chats, questions and proposals."""

    def __init__(self, database: Database, salts: Salts):
        self.db = database.db
        self.salts = salts

    def log_question(
        self, chat_key: str, channel: str, question: str, outcome: str, entry_id: str | None, score: float
    ) -> None:
        """Log one question with its outcome; the chat is kept only as a salted hash."""
        self.db.execute(
            "INSERT INTO question_log (ts, chat_hash, channel, question, outcome, entry_id, score) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [time.time(), self.salts.chat_hash(chat_key), channel, question[:500], outcome, entry_id, round(score, 1)],
        )

    def adopt_stable_key(self) -> int:
        """Once per database: rows keyed with the log salt of this moment get the stable key; return how many.

        Rows logged under an earlier PANDU_LOG_SALT, or for chats deleted since, match no known chat and stay as
        they are (they could not be attributed to a chat before either).
        """
        if self.db.execute("SELECT 1 FROM meta WHERE key = 'question_log_key'").fetchone():
            return 0
        moved = 0
        if self.db.execute("SELECT 1 FROM question_log LIMIT 1").fetchone():
            keys = [r[0] for r in self.db.execute(
                "SELECT chat_key FROM chats UNION SELECT chat_key FROM wa_window UNION SELECT chat_key FROM proposals "
                "UNION SELECT chat_key FROM chat_focus UNION SELECT chat_key FROM menus"
            )]  # fmt: skip
            for key in keys:
                moved += self.db.execute("UPDATE question_log SET chat_hash = ? WHERE chat_hash = ?",
                                         [self.salts.chat_hash(key), self.salts.legacy_log_hash(key)]).rowcount  # fmt: skip
        self.db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('question_log_key', 'chat_salt')")
        return moved

    def question_log(self) -> Iterator[dict[str, Any]]:
        """Every logged question, oldest first."""
        yield from self.db["question_log"].rows_where(order_by="id")

    def unanswered(self, limit: int = 20) -> list[tuple[str, str, int]]:
        """The most frequent logged questions that got "none" or "suggest": (question, outcome, count)."""
        rows = self.db.execute(
            "SELECT lower(trim(question)) AS q, outcome, count(*) AS n FROM question_log "
            "WHERE outcome IN ('none', 'suggest') GROUP BY q, outcome ORDER BY n DESC, q LIMIT ?",
            [limit],
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    # -- usage (admin /statistik) ---------------------------------------------------------------
    def usage_stats(self) -> dict[str, Any]:
        """Counts for admins: chats (all, active, per channel), logged questions per outcome, proposals."""
        chats = self.db.execute("SELECT count(*), coalesce(sum(active), 0) FROM chats").fetchone()
        channels = dict(self.db.execute("SELECT channel, count(*) FROM chats GROUP BY channel ORDER BY channel"))
        outcomes = dict(self.db.execute("SELECT outcome, count(*) FROM question_log GROUP BY outcome"))
        proposals = self.db.execute("SELECT count(*) FROM proposals").fetchone()[0]
        return {"chats": chats[0], "active": chats[1], "channels": channels, "outcomes": outcomes,
                "proposals": proposals}  # fmt: skip
