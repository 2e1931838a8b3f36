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
